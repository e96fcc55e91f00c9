// The InputPadder of the official RAFT/GMA evaluation code: replicate-pads an image so
// that both sides are multiples of a divisor, and crops the result back.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace animerun::models {

class InputPadder {
 public:
  // mode "sintel": padding centred (left/right and top/bottom halves, the extra pixel on
  // the right/bottom); "kitti": centred horizontally, all at the bottom vertically.
  // divisor: 8 for RAFT/GMA (GMFlow uses 16/32). min_size: pad further (same split rule)
  // until both padded sides are at least this, 0 = official behaviour. Throws
  // std::invalid_argument on a bad mode, divisor or size.
  InputPadder(int64_t height, int64_t width, const std::string& mode = "sintel",
              int64_t divisor = 8, int64_t min_size = 0);

  // x: [..., H, W] (at least 3-D for replicate padding; 3-D/4-D/5-D as F.pad allows).
  torch::Tensor Pad(const torch::Tensor& x) const;
  // x: [..., Hp, Wp] -> [..., H, W] (a view; slicing as the official unpad does).
  torch::Tensor Unpad(const torch::Tensor& x) const;

  // [left, right, top, bottom], F.pad order.
  const std::array<int64_t, 4>& pad_lrtb() const { return pad_; }
  bool is_identity() const { return pad_[0] == 0 && pad_[1] == 0 && pad_[2] == 0 && pad_[3] == 0; }
  int64_t height() const { return ht_; }
  int64_t width() const { return wd_; }
  int64_t padded_height() const { return ht_ + pad_[2] + pad_[3]; }
  int64_t padded_width() const { return wd_ + pad_[0] + pad_[1]; }

 private:
  int64_t ht_, wd_;
  std::array<int64_t, 4> pad_{};
};

}  // namespace animerun::models
