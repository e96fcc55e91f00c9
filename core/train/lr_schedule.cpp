#include "core/train/lr_schedule.h"

#include "core/util/error.h"

namespace animerun::train {

LrSchedule::LrSchedule(const std::string& kind, double max_lr, int64_t iterations)
    : one_cycle_(kind == "onecycle"), max_lr_(max_lr) {
  Require(kind == "constant" || kind == "onecycle", "schedule: must be constant or onecycle, got '" + kind + "'");
  Require(iterations >= 1, "schedule: iterations must be >= 1");
  const double total = static_cast<double>(iterations + 100);  // RAFT: OneCycleLR(..., num_steps + 100)
  initial_ = max_lr / 25.0;
  min_ = initial_ / 1e4;
  end1_ = 0.05 * total - 1.0;  // float(pct_start * total_steps) - 1 (a Python float: double)
  end2_ = total - 1.0;
}

double LrSchedule::At(int64_t step) const {
  if (!one_cycle_) return max_lr_;
  const double s = static_cast<double>(step);
  if (s <= end1_) return initial_ + (max_lr_ - initial_) * (s / end1_);
  return max_lr_ + (min_ - max_lr_) * ((s - end1_) / (end2_ - end1_));
}

}  // namespace animerun::train
