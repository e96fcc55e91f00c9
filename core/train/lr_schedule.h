// Learning-rate schedules. OneCycle is PyTorch's OneCycleLR exactly as RAFT's train.py
// configures it (pct_start 0.05, anneal_strategy 'linear', cycle_momentum False,
// div_factor 25, final_div_factor 1e4, total_steps = num_steps + 100): a linear rise from
// max/25 to max over the first 5%, then a linear fall to max/25/1e4.
#pragma once

#include <cstdint>
#include <string>

namespace animerun::train {

class LrSchedule {
 public:
  // kind: "constant" or "onecycle"; iterations: the run's optimizer updates.
  LrSchedule(const std::string& kind, double max_lr, int64_t iterations);
  // The learning rate of update `step` (0-based): the value the official scheduler holds
  // while that optimizer step runs.
  double At(int64_t step) const;

 private:
  bool one_cycle_;
  double max_lr_, initial_, min_;
  double end1_, end2_;  // phase ends: float(0.05 * T) - 1 and T - 1
};

}  // namespace animerun::train
