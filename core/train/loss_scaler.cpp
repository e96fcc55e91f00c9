#include "core/train/loss_scaler.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include <ATen/ATen.h>

#include "core/util/error.h"

namespace animerun::train {

void LossScalerOptions::Check() const {
  Require(std::isfinite(init_scale) && init_scale > 0.0, "loss_scale: must be > 0");
  Require(std::isfinite(growth_factor) && growth_factor > 1.0, "loss scaler growth_factor: must be > 1");
  Require(backoff_factor > 0.0 && backoff_factor < 1.0, "loss scaler backoff_factor: must be in (0, 1)");
  Require(growth_interval >= 1, "loss scaler growth_interval: must be >= 1");
}

DynamicLossScaler::DynamicLossScaler(const LossScalerOptions& options) : options_(options), scale_(options.init_scale) {
  options_.Check();
}

void DynamicLossScaler::Unscale(const std::vector<at::Tensor>& params) const {
  const double inv = 1.0 / scale_;
  for (const auto& p : params) {
    at::Tensor g = p.grad();
    if (g.defined()) g.mul_(inv);
  }
}

bool DynamicLossScaler::Update(bool finite) {
  if (!finite) {
    scale_ *= options_.backoff_factor;
    growth_tracker_ = 0;
    return false;
  }
  if (++growth_tracker_ >= options_.growth_interval) {
    const double grown = scale_ * options_.growth_factor;
    if (std::isfinite(grown)) scale_ = grown;  // GradScaler keeps the scale when growth overflows
    growth_tracker_ = 0;
  }
  return true;
}

std::string DynamicLossScaler::Serialize() const {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g %d", scale_, growth_tracker_);
  return buf;
}

void DynamicLossScaler::Deserialize(const std::string& text, const std::string& source) {
  std::istringstream is(text);
  double scale = 0.0;
  int tracker = -1;
  std::string rest;
  if (!(is >> scale >> tracker) || (is >> rest) || !std::isfinite(scale) || scale <= 0.0 || tracker < 0 ||
      tracker >= options_.growth_interval)
    throw Error(source + ": bad loss-scaler state '" + text + "'");
  scale_ = scale;
  growth_tracker_ = tracker;
}

}  // namespace animerun::train
