// RAFT's all-pairs correlation volume with its 4-level pooled pyramid and the windowed
// bilinear lookup (core/corr.py CorrBlock), shared by RAFT, RAFT-small and GMA.
#pragma once

#include <vector>

#include <torch/torch.h>

namespace animerun::models {

// What RAFT's and GMA's update loop calls each iteration: coords [B, 2, h, w] -> the
// correlation features [B, levels * (2r+1)^2, h, w]. CorrBlock precomputes all pairs;
// OnDemandCorrBlock (corr_on_demand.h) computes the windows' correlations when asked.
class CorrLookup {
 public:
  virtual ~CorrLookup() = default;
  virtual torch::Tensor operator()(const torch::Tensor& coords) const = 0;
};

class CorrBlock : public CorrLookup {
 public:
  // fmap1, fmap2: [B, C, h, w] float. Builds corr = fmap1^T fmap2 / sqrt(C), reshaped to
  // [B*h*w, 1, h, w], and num_levels-1 successive 2x2 average poolings of it.
  CorrBlock(const torch::Tensor& fmap1, const torch::Tensor& fmap2, int num_levels = 4, int radius = 4);

  // coords: [B, 2, h, w] pixel positions (x, y) in image 2 at 1/8 resolution. Returns
  // [B, num_levels * (2r+1)^2, h, w]: for each level, the (2r+1)^2 samples around
  // coords / 2^level, channel k = i*(2r+1) + j at offset dx = i - r, dy = j - r (the
  // official meshgrid(dy, dx) stacking makes x the slow index). Bilinear, zero outside.
  // On CPU (float) a direct kernel that returns the result in channels-last layout; when a
  // gradient is wanted (training), the same kernel per level as an autograd function whose
  // backward gives the pyramid's and the coordinates' gradients. On CUDA (float, CUDA
  // build) that autograd function with the CUDA kernels (corr_lookup_cuda.h), with or
  // without a gradient; anything else LookupReference.
  torch::Tensor operator()(const torch::Tensor& coords) const override;
  // The original's grid_sample formulation (contiguous NCHW result).
  torch::Tensor LookupReference(const torch::Tensor& coords) const;

  int num_levels() const { return num_levels_; }
  int radius() const { return radius_; }
  int64_t out_channels() const { return int64_t(num_levels_) * (2 * radius_ + 1) * (2 * radius_ + 1); }
  const std::vector<torch::Tensor>& pyramid() const { return pyramid_; }

  // [B, h, w, 1, h, w] all-pairs dot products / sqrt(C).
  static torch::Tensor AllPairs(const torch::Tensor& fmap1, const torch::Tensor& fmap2);

 private:
  int num_levels_, radius_;
  std::vector<torch::Tensor> pyramid_;  // level i: [B*h*w, 1, h/2^i, w/2^i]
  torch::Tensor delta_;                 // [1, 2r+1, 2r+1, 2] integer offsets (x, y)
};

// The official bilinear_sampler: grid_sample with pixel coordinates (x, y) in the last
// dimension of coords, align_corners=True, zero padding. img [N, C, H, W], coords
// [N, Ho, Wo, 2] -> [N, C, Ho, Wo]. H or W == 1 divides by zero, as the original does.
torch::Tensor BilinearSampler(const torch::Tensor& img, const torch::Tensor& coords);

// coords_grid: [B, 2, h, w] with channel 0 = x (column), 1 = y (row), float.
torch::Tensor CoordsGrid(int64_t batch, int64_t ht, int64_t wd, const torch::Device& device);

}  // namespace animerun::models
