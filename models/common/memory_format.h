// The memory layout of the convolutions' activations on the CPU.
#pragma once

#include <torch/torch.h>

namespace animerun::models {

// Channels-last on the CPU while nothing is recorded for autograd (inference): oneDNN's
// forward convolutions are up to 2x faster in it. NCHW while autograd records (training):
// LibTorch 1.13's oneDNN backward convolutions run 1.2-1.6x slower in channels-last than in
// NCHW on RAFT's shapes (3x3 256->192 at 46x96: 361 against 262 ms; 3x3 64->64 at 184x384: 672
// against 427 ms), so training keeps the layout the official code uses. Other devices: NCHW.
inline at::MemoryFormat ConvFormat(const torch::Tensor& like) {
  return like.is_cpu() && !torch::GradMode::is_enabled() ? at::MemoryFormat::ChannelsLast
                                                         : at::MemoryFormat::Contiguous;
}

}  // namespace animerun::models
