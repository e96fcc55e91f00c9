// RAFT's memory-efficient correlation (the official AlternateCorrBlock / alt_cuda_corr):
// instead of the all-pairs volume and its pyramid ((h*w)^2 * 4/3 floats: 5.6 GB for a 1080p
// frame, 90 GB at 4K), it keeps fmap1 and an average-pooled pyramid of fmap2 and computes, at
// each lookup, only the dot products the windows read. Pooling fmap2 before the dot product
// equals pooling the correlations after it (both are linear), so the result is CorrBlock's up
// to float rounding. Inference only (no backward): training crops are small.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/common/corr_block.h"

namespace animerun::models {

enum class CorrMode {
  kAuto,      // on demand when no gradient is wanted and the all-pairs pyramid would exceed
              // kOnDemandAboveBytes; else all pairs
  kAllPairs,  // CorrBlock
  kOnDemand,  // OnDemandCorrBlock
};

// "auto", "all-pairs", "on-demand"; std::invalid_argument naming the choices otherwise.
CorrMode ParseCorrMode(const std::string& name);
const char* CorrModeName(CorrMode mode);

// Above this the automatic choice computes correlations on demand: 2 GiB, about a 1100x1100
// frame (the pyramid of a 960x540 frame takes 0.35 GB).
inline constexpr int64_t kOnDemandAboveBytes = int64_t{2} << 30;

// Bytes of CorrBlock's pyramid for batch x (h x w) feature maps (1/8 resolution), levels levels.
int64_t AllPairsPyramidBytes(int64_t batch, int64_t h, int64_t w, int levels);

class OnDemandCorrBlock : public CorrLookup {
 public:
  // fmap1, fmap2: [B, C, h, w] float of equal shape, on the CPU or (CUDA build) on CUDA.
  OnDemandCorrBlock(const torch::Tensor& fmap1, const torch::Tensor& fmap2, int num_levels = 4, int radius = 4);

  // As CorrBlock::operator(): [B, levels * (2r+1)^2, h, w] (channels-last memory on the
  // CPU). Throws std::logic_error when a gradient is wanted.
  torch::Tensor operator()(const torch::Tensor& coords) const override;

 private:
  int num_levels_, radius_;
  float norm_;                       // sqrt(C), as CorrBlock divides
  torch::Tensor f1_;                 // [B, h*w, C]
  std::vector<torch::Tensor> f2_;    // level i: [B, h/2^i, w/2^i, C], fmap2 average-pooled i times
  bool needs_grad_ = false;
};

// The lookup `mode` asks for (kAuto decides from the pyramid's size and whether a gradient
// is wanted). num_levels, radius as CorrBlock.
std::unique_ptr<CorrLookup> MakeCorrLookup(const torch::Tensor& fmap1, const torch::Tensor& fmap2, int num_levels,
                                           int radius, CorrMode mode);

}  // namespace animerun::models
