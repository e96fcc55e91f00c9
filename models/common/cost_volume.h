// The 81-channel local cost volume (displacements up to 4 pixels each way) that PWC-Net
// (pytorch-pwc's correlation.py: kernel 1, stride 1, max displacement 4) and GMFlow's local
// matching (radius 4) compute, on the CPU as one fused autograd function.
//
// Written with tensor ops (81 shifted products, each summed over channels), a training
// update stores and reads 81 full-size products and, in the backward pass, fills and adds 81
// full-size gradients of the padded map, for a few hundred million multiply-adds. The fused
// forward and backward read the two maps and the gradient once per row.
#pragma once

#include <ATen/core/Tensor.h>

namespace animerun::models {

// Channel (dy+4)*9 + (dx+4) at (y, x): sum over c of one[c,y,x] * two[c,y+dy,x+dx] divided
// by `divisor` (PWC-Net: C, the mean; GMFlow: sqrt(C)), with two zero outside the image.
// one, two: [B, C, H, W] of one shape; result [B, 81, H, W]. Float CPU tensors take the fused
// kernels (with their own backward); anything else (CUDA, bf16) takes LocalCostVolumeReference.
at::Tensor LocalCostVolume(const at::Tensor& one, const at::Tensor& two, double divisor);

// The same with tensor ops, as the official harness computes PWC-Net's on a CPU: the
// reference the fused kernels are tested against, and the path for other devices and types.
at::Tensor LocalCostVolumeReference(const at::Tensor& one, const at::Tensor& two, double divisor);

}  // namespace animerun::models
