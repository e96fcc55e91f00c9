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

  void Report(double fraction, const std::string& message) const {
    if (progress_) progress_(fraction, message);
  }
  void RequestCancel() { cancel_.store(true); }
  bool IsCancelled() const { return cancel_.load(); }
  void CheckCancel() const {
    if (cancel_.load()) throw Cancelled();
  }

 private:
  ProgressFn progress_;
  std::atomic<bool> cancel_{false};
};

// A progress printer for the CLI: one overwritten line on a terminal, a line per ~5%
// otherwise (logs stay readable).
JobContext::ProgressFn StderrProgress(const std::string& prefix);

}  // namespace animerun
