#include "core/jobs/job_runner.h"

#include <chrono>
#include <exception>

namespace animerun {

// The serial of the current job: a posted call of an older job (or of a runner that is
// gone) finds another serial, or no Shared at all, and does nothing.
struct JobRunner::Shared {
  int serial = 0;
};

JobRunner::JobRunner(PostFn post) : post_(std::move(post)), shared_(std::make_shared<Shared>()) {}

JobRunner::~JobRunner() { Stop(); }

void JobRunner::Stop() {
  if (job_) job_->RequestCancel();
  if (thread_.joinable()) thread_.join();
  ++shared_->serial;  // drops anything still queued
  running_ = false;
}

void JobRunner::Cancel() {
  if (job_) job_->RequestCancel();
}

void JobRunner::Start(Work work, Done done, Progress progress) {
  Stop();
  const int serial = ++shared_->serial;
  const std::weak_ptr<Shared> weak = shared_;
  PostFn post = post_;
  auto job = std::make_shared<JobContext>([post, weak, serial, progress](double f, const std::string& m) {
    if (!progress) return;
    post([weak, serial, progress, f, m] {
      const auto s = weak.lock();
      if (s && s->serial == serial) progress(f, m);
    });
  });
  job_ = job;
  running_ = true;
  thread_ = std::thread([this, post, weak, serial, job, work = std::move(work), done = std::move(done)] {
    JobOutcome outcome;
    try {
      work(*job);
      outcome.cancelled = job->IsCancelled();
      outcome.ok = !outcome.cancelled;
    } catch (const Cancelled&) {
      outcome.cancelled = true;
    } catch (const std::exception& e) {
      outcome.error = e.what();
    } catch (...) {
      outcome.error = "unknown error";
    }
    // The last thing the worker does; `this` is only used once the serial proved the
    // runner alive (Stop and the destructor bump the serial after joining).
    post([this, weak, serial, outcome, done] {
      const auto s = weak.lock();
      if (!s || s->serial != serial) return;
      if (thread_.joinable()) thread_.join();
      running_ = false;
      if (done) done(outcome);
    });
  });
}

PostFn CallQueue::Poster() {
  const std::weak_ptr<State> weak = state_;
  return [weak](std::function<void()> fn) {
    const auto s = weak.lock();
    if (!s) return;
    {
      std::lock_guard<std::mutex> lock(s->mutex);
      s->calls.push_back(std::move(fn));
    }
    s->cv.notify_all();
  };
}

int CallQueue::RunPending() {
  int ran = 0;
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      if (state_->calls.empty()) return ran;
      fn = std::move(state_->calls.front());
      state_->calls.pop_front();
    }
    fn();
    ++ran;
  }
}

bool CallQueue::RunUntil(const std::function<bool()>& done, int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    RunPending();
    if (done()) return true;
    std::unique_lock<std::mutex> lock(state_->mutex);
    if (!state_->cv.wait_until(lock, end, [&] { return !state_->calls.empty(); })) break;
  }
  RunPending();
  return done();
}

}  // namespace animerun
