// Progress and cancellation for long jobs. A controller (generator, evaluator, trainer)
// takes a JobContext; the CLI prints progress to stderr, the GUI forwards it to a
// progress bar from a worker thread and sets the cancel flag from the UI thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "core/util/error.h"

namespace animerun {

// Thrown by JobContext::CheckCancel(); callers catch it to stop quietly.
class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled") {}
};

class JobContext {
 public:
  // fraction in [0, 1]; message says what is being done ("scene 3/10: frame 12").
  using ProgressFn = std::function<void(double fraction, const std::string& message)>;

  JobContext() = default;
  explicit JobContext(ProgressFn progress) : progress_(std::move(progress)) {}
  JobContext(const JobContext&) = delete;
  JobContext& operator=(const JobContext&) = delete;

  void Report(double fraction, const std::string& message) const {
    if (progress_) progress_(fraction, message);
  }
  void RequestCancel() { cancel_.store(true); }
  // Also true once a parent job (SubJob) is cancelled.
  bool IsCancelled() const { return cancel_.load() || (parent_ && parent_->IsCancelled()); }
  void CheckCancel() const {
    if (IsCancelled()) throw Cancelled();
  }

 protected:
  JobContext(const JobContext* parent, ProgressFn progress) : progress_(std::move(progress)), parent_(parent) {}

 private:
  ProgressFn progress_;
  const JobContext* parent_ = nullptr;
  std::atomic<bool> cancel_{false};
};

// A part of a longer job: its progress f in [0, 1] is reported to the parent as
// begin + (end - begin) * f, its messages prefixed; cancelling the parent cancels it, so
// CheckCancel inside the part throws Cancelled out of it and on out of the parent's work.
// A null parent makes a job that reports nothing and is never cancelled from outside
// (callers without progress). One sub-job per step of a loop: extraction over groups, a
// network per slot, counting and writing per scene.
class SubJob : public JobContext {
 public:
  SubJob(const JobContext* parent, double begin, double end, std::string prefix = std::string());
};

// A progress printer for the CLI: one overwritten line on a terminal, a line per ~5%
// otherwise (logs stay readable).
JobContext::ProgressFn StderrProgress(const std::string& prefix);

}  // namespace animerun
