#include "core/util/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/util/error.h"

extern char** environ;

namespace animerun {

// Shared by the owner and the reader thread: the serial of the current child (posted calls
// of an older one, or of a gone ChildProcess, are dropped) and its exit.
struct ChildProcess::Shared {
  int serial = 0;
  std::mutex mutex;
  std::condition_variable cv;
  bool exited = false;
};

namespace {

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

ChildProcess::ChildProcess(PostFn post) : post_(std::move(post)), shared_(std::make_shared<Shared>()) {}

ChildProcess::~ChildProcess() {
  if (running_) Kill();
  Reap();
}

void ChildProcess::Reap() {
  if (reader_.joinable()) reader_.join();
  ++shared_->serial;
  running_ = false;
  pid_ = -1;
}

void ChildProcess::Start(const std::string& program, const std::vector<std::string>& args, Callbacks callbacks) {
  if (running_) Kill();
  Reap();
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    CloseFd(out[0]), CloseFd(out[1]), CloseFd(err[0]), CloseFd(err[1]);
    throw Error("cannot run " + program + ": " + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  std::vector<std::string> argv_store = {program};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Its own process group, so that Terminate and Kill reach what it starts too (a shell's
  // children would otherwise keep the pipes open after it died).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, program.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  CloseFd(out[1]);
  CloseFd(err[1]);
  if (rc != 0) {
    CloseFd(out[0]);
    CloseFd(err[0]);
    throw Error("cannot run " + program + ": " + std::strerror(rc));
  }
  pid_ = pid;
  running_ = true;
  const int serial = ++shared_->serial;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->exited = false;
  }
  const std::weak_ptr<Shared> weak = shared_;
  const std::shared_ptr<Shared> shared = shared_;
  PostFn post = post_;
  auto deliver = [post, weak, serial](std::function<void()> fn) {
    post([weak, serial, fn = std::move(fn)] {
      const auto s = weak.lock();
      if (s && s->serial == serial) fn();
    });
  };
  reader_ = std::thread([this, pid, out_fd = out[0], err_fd = err[0], callbacks, deliver, shared] {
    std::string line_buffer;
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    int open_fds = 2;
    char buf[4096];
    while (open_fds > 0) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          ::close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
          continue;
        }
        if (i == 1) {
          if (callbacks.stderr_text) deliver([cb = callbacks.stderr_text, t = std::string(buf, n)] { cb(t); });
          continue;
        }
        line_buffer.append(buf, static_cast<size_t>(n));
        for (size_t nl; (nl = line_buffer.find('\n')) != std::string::npos;) {
          std::string line = line_buffer.substr(0, nl);
          line_buffer.erase(0, nl + 1);
          if (callbacks.stdout_line) deliver([cb = callbacks.stdout_line, line] { cb(line); });
        }
      }
    }
    if (!line_buffer.empty() && callbacks.stdout_line)
      deliver([cb = callbacks.stdout_line, line = line_buffer] { cb(line); });
    // Wait without reaping, mark the exit, then reap: Terminate and Kill check the mark
    // under the lock, so they never signal a pid that was reaped and reused.
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
    {
      std::lock_guard<std::mutex> lock(shared->mutex);
      shared->exited = true;
    }
    shared->cv.notify_all();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const bool signaled = WIFSIGNALED(status);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    const int sig = signaled ? WTERMSIG(status) : 0;
    // `this` is alive while the serial matches: the destructor and Start join this thread
    // and bump the serial first.
    deliver([this, callbacks, code, signaled, sig] {
      if (reader_.joinable()) reader_.join();
      running_ = false;
      pid_ = -1;
      if (callbacks.exited) callbacks.exited(code, signaled, sig);
    });
  });
}

void ChildProcess::Terminate() {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  if (running_ && pid_ > 0 && !shared_->exited) ::kill(-pid_, SIGTERM);  // the child's process group
}

void ChildProcess::Kill() {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  if (running_ && pid_ > 0 && !shared_->exited) ::kill(-pid_, SIGKILL);
}

bool ChildProcess::WaitExited(int timeout_ms) {
  if (!running_) return true;
  std::unique_lock<std::mutex> lock(shared_->mutex);
  return shared_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return shared_->exited; });
}

}  // namespace animerun
