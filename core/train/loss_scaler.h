// Dynamic loss scaling for fp16 training, as torch.cuda.amp.GradScaler: the loss is
// multiplied by the scale before backward so that small fp16 gradients do not flush to
// zero; the gradients are divided by it before clipping and the optimizer step; an update
// whose gradients are not finite is skipped and halves the scale, and growth_interval
// finite updates in a row double it. Scaling by powers of two is exact in floating point,
// so in fp32 a scaled run equals an unscaled one bit for bit.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace animerun::train {

struct LossScalerOptions {
  double init_scale = 65536.0;  // GradScaler's default (2^16)
  double growth_factor = 2.0;   // after growth_interval finite updates in a row
  double backoff_factor = 0.5;  // after an update with non-finite gradients
  int growth_interval = 2000;   // finite updates in a row before the scale grows
  void Check() const;           // throws Error naming the field
};

class DynamicLossScaler {
 public:
  explicit DynamicLossScaler(const LossScalerOptions& options = {});

  double scale() const { return scale_; }
  int growth_tracker() const { return growth_tracker_; }

  // Divides every defined gradient of params by the current scale, in place.
  void Unscale(const std::vector<at::Tensor>& params) const;
  // The outcome of one update's gradients (finite or not): adjusts the scale. Returns
  // `finite`, i.e. whether the optimizer should step.
  bool Update(bool finite);

  // "scale growth_tracker" for the training checkpoint; Deserialize throws Error with
  // `source` in the message when the text is not that.
  std::string Serialize() const;
  void Deserialize(const std::string& text, const std::string& source);

 private:
  LossScalerOptions options_;
  double scale_;
  int growth_tracker_ = 0;
};

}  // namespace animerun::train
