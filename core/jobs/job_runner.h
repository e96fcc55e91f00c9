// Runs one long job at a time on a worker thread and hands its progress and its end back to
// the thread that owns the runner. Controllers own runners; what "hand back" means is the
// Post function they are given: the GUI posts to the Qt event loop (widgets/common/qt_jobs.h),
// tests and tools drain a CallQueue. So a controller's orchestration (start, cancel,
// restart, drop a stale result) is plain C++ and is tested without a display.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/jobs/job.h"

namespace animerun {

// Delivers fn on the owner's thread, later. Must be callable from any thread.
using PostFn = std::function<void(std::function<void()> fn)>;

struct JobOutcome {
  bool ok = false;         // the work returned normally and was not cancelled
  bool cancelled = false;  // Cancelled was thrown, or the job was cancelled
  std::string error;       // the exception's message otherwise
};

class JobRunner {
 public:
  using Work = std::function<void(const JobContext& job)>;
  using Done = std::function<void(const JobOutcome& outcome)>;
  using Progress = std::function<void(double fraction, const std::string& message)>;

  explicit JobRunner(PostFn post);
  ~JobRunner();  // cancels and joins; nothing is delivered afterwards
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Starts work on the worker thread. A job still running is cancelled and joined first;
  // its done and progress are not delivered. done and progress run on the owner's thread.
  void Start(Work work, Done done = {}, Progress progress = {});
  // Asks the running job to stop; its done (cancelled = true) follows.
  void Cancel();
  // Cancels and joins without delivering anything.
  void Stop();
  // True from Start until done has been delivered (or Stop).
  bool Running() const { return running_; }

 private:
  struct Shared;  // outlives the runner while posted calls are queued
  PostFn post_;
  std::shared_ptr<Shared> shared_;
  std::thread thread_;
  std::shared_ptr<JobContext> job_;
  bool running_ = false;
};

// A Post target for code without an event loop (tests, tools): calls queue up until the
// owner runs them.
class CallQueue {
 public:
  PostFn Poster();
  // Runs the calls queued so far (and those they queue); returns how many ran.
  int RunPending();
  // Runs queued calls as they arrive until done() is true or timeout_ms passes; true
  // when done() became true.
  bool RunUntil(const std::function<bool()>& done, int timeout_ms);

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<std::function<void()>> calls;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace animerun
