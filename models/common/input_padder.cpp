#include "models/common/input_padder.h"

#include <stdexcept>

namespace animerun::models {

InputPadder::InputPadder(int64_t height, int64_t width, const std::string& mode, int64_t divisor,
                         int64_t min_size)
    : ht_(height), wd_(width) {
  if (height <= 0 || width <= 0)
    throw std::invalid_argument("InputPadder: image size " + std::to_string(height) + "x" +
                                std::to_string(width) + " is empty");
  if (divisor <= 0) throw std::invalid_argument("InputPadder: divisor must be positive");
  if (mode != "sintel" && mode != "kitti")
    throw std::invalid_argument("InputPadder: unknown padding mode '" + mode + "' (use sintel or kitti)");
  if (min_size < 0) throw std::invalid_argument("InputPadder: min_size must be >= 0");
  // Official: (((ht // 8) + 1) * 8 - ht) % 8.
  auto padding = [&](int64_t n) {
    int64_t p = (((n / divisor) + 1) * divisor - n) % divisor;
    // Growing to min_size keeps the padded side a multiple of the divisor.
    while (n + p < min_size) p += divisor;
    return p;
  };
  const int64_t pad_ht = padding(height), pad_wd = padding(width);
  pad_[0] = pad_wd / 2;
  pad_[1] = pad_wd - pad_wd / 2;
  if (mode == "sintel") {
    pad_[2] = pad_ht / 2;
    pad_[3] = pad_ht - pad_ht / 2;
  } else {
    pad_[2] = 0;
    pad_[3] = pad_ht;
  }
}

torch::Tensor InputPadder::Pad(const torch::Tensor& x) const {
  if (x.dim() < 2 || x.size(-2) != ht_ || x.size(-1) != wd_)
    throw std::invalid_argument("InputPadder::Pad: expected [..., " + std::to_string(ht_) + ", " +
                                std::to_string(wd_) + "], got " + c10::str(x.sizes()));
  if (is_identity()) return x;
  namespace F = torch::nn::functional;
  return F::pad(x, F::PadFuncOptions({pad_[0], pad_[1], pad_[2], pad_[3]}).mode(torch::kReplicate));
}

torch::Tensor InputPadder::Unpad(const torch::Tensor& x) const {
  if (x.dim() < 2)
    throw std::invalid_argument("InputPadder::Unpad: expected [..., H, W], got " + c10::str(x.sizes()));
  const int64_t ht = x.size(-2), wd = x.size(-1);
  if (ht - pad_[2] - pad_[3] <= 0 || wd - pad_[0] - pad_[1] <= 0)
    throw std::invalid_argument("InputPadder::Unpad: " + c10::str(x.sizes()) + " is smaller than the padding");
  return x.slice(-2, pad_[2], ht - pad_[3]).slice(-1, pad_[0], wd - pad_[1]);
}

}  // namespace animerun::models
