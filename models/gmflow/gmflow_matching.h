// GMFlow's matching and geometry helpers (haofeixu/gmflow matching.py, geometry.py):
// softmax over a global or local correlation gives a flow as an expected correspondence.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace animerun::models::gmflow {

// Pixel coordinates [B, 2, H, W] (channel 0 = x, 1 = y), float32.
torch::Tensor CoordsGrid(int64_t b, int64_t h, int64_t w, const torch::Device& device);

// Global matching: softmax over all positions of feature1 for every position of feature0.
// Returns the flow [B, 2, H, W].
torch::Tensor GlobalCorrelationSoftmax(const torch::Tensor& feature0, const torch::Tensor& feature1);

// Local matching in a (2r+1)^2 window (positions outside the image are excluded).
// Returns the (residual) flow [B, 2, H, W].
torch::Tensor LocalCorrelationSoftmax(const torch::Tensor& feature0, const torch::Tensor& feature1, int64_t radius);

// Samples feature at x + flow (bilinear, zero outside, align_corners=True).
torch::Tensor FlowWarp(const torch::Tensor& feature, const torch::Tensor& flow);

}  // namespace animerun::models::gmflow
