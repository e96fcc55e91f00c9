// A child process with its stdout read line by line and its stderr as it comes, Qt-free
// (POSIX posix_spawnp and pipes). A reader thread follows the pipes and waits for the
// child; what it reads, and the exit, are handed to the owner's thread through a Post
// function (core/jobs/job_runner.h), like a JobRunner's progress. The training controller
// runs `animerun train` with it, so that a crash or an out-of-memory kill there never takes
// the GUI down.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/jobs/job_runner.h"

namespace animerun {

class ChildProcess {
 public:
  struct Callbacks {
    std::function<void(const std::string& line)> stdout_line;  // without the newline
    std::function<void(const std::string& text)> stderr_text;  // as read
    // exit_code: the status passed to exit(); signaled: killed by a signal (crash, kill).
    std::function<void(int exit_code, bool signaled, int signal)> exited;
  };

  explicit ChildProcess(PostFn post);
  ~ChildProcess();  // kills a child still running and waits for it; nothing is delivered afterwards
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts program (searched on PATH when it has no '/') with args, in this process's
  // environment. Throws Error naming the program when it cannot be started; a child still
  // running is killed first.
  void Start(const std::string& program, const std::vector<std::string>& args, Callbacks callbacks);
  // True from Start until exited has been delivered.
  bool Running() const { return running_; }
  // Signal the child's process group (the child and what it started): SIGTERM, SIGKILL.
  void Terminate();
  void Kill();
  // Blocks until the child has exited and its output has been read (a process it started
  // that keeps the pipes open keeps this waiting; Kill reaches it too), or timeout_ms
  // passes; true when done. Delivers nothing: exited follows when the owner's loop runs.
  bool WaitExited(int timeout_ms);
  // The child's process id while it runs (-1 otherwise): for diagnostics and fault injection.
  pid_t pid() const { return pid_; }

 private:
  struct Shared;
  void Reap();  // joins the reader thread
  PostFn post_;
  std::shared_ptr<Shared> shared_;
  std::thread reader_;
  pid_t pid_ = -1;
  bool running_ = false;
};

}  // namespace animerun
