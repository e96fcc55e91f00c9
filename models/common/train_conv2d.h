// A Conv2d that runs its 3x3 stride-1 case with oneDNN's Winograd kernels in CPU fp32
// training, and in inference where its channels are whole 16-channel blocks
// (models/common/dnnl_winograd_conv.h, Conv3x3Train). Same options, parameters and names as
// torch::nn::Conv2d, so weight files and optimisers see no difference; other shapes, bf16
// and the CUDA build run Conv2d's own forward.
#pragma once

#include <torch/nn/modules/conv.h>

#include "models/common/dnnl_winograd_conv.h"

namespace animerun::models {

class TrainConv2dImpl : public torch::nn::Conv2dImpl {
 public:
  using torch::nn::Conv2dImpl::Conv2dImpl;
  torch::Tensor forward(const torch::Tensor& x) { return Conv3x3Train(*this, x); }
};
TORCH_MODULE(TrainConv2d);

}  // namespace animerun::models
