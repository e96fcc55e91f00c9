// CUDA kernels of CorrBlock's windowed bilinear lookup (corr_block.h), one pyramid level at
// a time: the same formula as the CPU kernel (four reads per sample on the pixel coordinate,
// zero outside, no gradient for a window wholly outside or a non-finite coordinate). Built
// only in the CUDA build (ANIMERUN_WITH_CUDA); CorrBlock calls them for CUDA float tensors.
#pragma once

#include <cstdint>
#include <utility>

#include <ATen/core/Tensor.h>

namespace animerun::models::cuda {

// level: [B*h*w, 1, lh, lw] float, contiguous, on CUDA (query pixel n's correlation image);
// xy: [B, 2, h, w] float, contiguous, same device; level_index scales the coordinates by
// 1 / 2^level_index. Returns [B, h, w, (2r+1)^2], sample a*(2r+1)+c at offset (a-r, c-r).
at::Tensor CorrLevelLookupForward(const at::Tensor& level, const at::Tensor& xy, int64_t level_index, int64_t radius);

// The gradients of that lookup for the upstream gradient g [B, h, w, (2r+1)^2]:
// {d/d xy [B, 2, h, w], d/d level [B*h*w, 1, lh, lw]}. Deterministic: one thread owns the
// window of one query pixel, and only that pixel's image receives its gradient.
std::pair<at::Tensor, at::Tensor> CorrLevelLookupBackward(const at::Tensor& level, const at::Tensor& xy,
                                                          const at::Tensor& g, int64_t level_index, int64_t radius);

// OnDemandCorrBlock's lookup in one level (corr_on_demand.h): f1 [B, h*w, C], f2 the level's
// pooled fmap2 [B, lh, lw, C], xy [B, 2, h, w], all float, contiguous, on one CUDA device.
// The (2r+2)^2 patch correlations of each window (dot / norm) are computed, then combined
// bilinearly as above. Returns [B, h, w, (2r+1)^2]. Inference only.
at::Tensor OnDemandLevelLookup(const at::Tensor& f1, const at::Tensor& f2, const at::Tensor& xy, int64_t level_index,
                               int64_t radius, float norm);

}  // namespace animerun::models::cuda
