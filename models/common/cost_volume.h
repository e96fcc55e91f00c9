// The local cost volume of PWC-Net (pytorch-pwc's correlation.py: kernel 1, stride 1, max
// displacement 4, 81 channels) and of GMFlow's local matching (radius 4 in its configurations),
// on the CPU as one fused autograd function.
//
// Written with tensor ops ((2r+1)^2 shifted products, each summed over channels), a training
// update stores and reads 81 full-size products and, in the backward pass, fills and adds 81
// full-size gradients of the padded map, for a few hundred million multiply-adds. The fused
// forward and backward read the two maps and the gradient once per row.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace animerun::models {

// Channel (dy+r)*(2r+1) + (dx+r) at (y, x), for displacements |dx|, |dy| <= radius: sum over c
// of one[c,y,x] * two[c,y+dy,x+dx] divided by `divisor` (PWC-Net: C, the mean; GMFlow:
// sqrt(C)), with two zero outside the image. one, two: [B, C, H, W] of one shape; result
// [B, (2r+1)^2, H, W]. Float CPU tensors take the fused kernels (with their own backward);
// anything else (CUDA, bf16) takes LocalCostVolumeReference.
at::Tensor LocalCostVolume(const at::Tensor& one, const at::Tensor& two, int64_t radius, double divisor);

// The same with tensor ops, as the official harness computes PWC-Net's on a CPU: the
// reference the fused kernels are tested against, and the path for other devices and types.
at::Tensor LocalCostVolumeReference(const at::Tensor& one, const at::Tensor& two, int64_t radius, double divisor);

}  // namespace animerun::models
