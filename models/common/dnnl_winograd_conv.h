// 3x3 convolutions for CPU fp32 training by oneDNN's Winograd F(4x4, 3x3): forward, data
// gradient and weight gradient.
//
// A training update of the flow networks is mostly 3x3 stride-1 convolutions, and LibTorch
// 1.13 runs them as oneDNN's direct convolution, already near the fp32 peak, after reordering
// every input, output and gradient between NCHW and oneDNN's blocked layout (PWC-Net at batch
// 2, 368x768: 1.5 s of forward and 3.3 s of backward convolutions per update). The Winograd
// kernels of the same oneDNN (Debian's libdnnl 2.6, the one LibTorch links) do 4x fewer
// multiplies: the 565 -> 128 layer at 96x192, batch 2, takes 91 + 73 + 95 ms (forward, data,
// weights) against 216 + 210 + 229 ms for oneDNN's direct kernels alone and 262 ms forward and
// 581 ms backward through LibTorch. Against a double reference it rounds to
// 1-3e-6 of the largest value (direct: 2-4e-7; its weight gradient 6-9e-7, direct's 4-6e-6):
// inference keeps the direct convolution all the same, and with it the parity with the
// official outputs.
//
// Present only where the build found oneDNN's headers (the Debian LibTorch build); oneDNN
// 3.x, inside the pip LibTorch 2.x, has no fp32 Winograd. Everything else takes LibTorch's
// convolution.
#pragma once

#include <ATen/core/Tensor.h>

namespace torch::nn {
class Conv2dImpl;
}

namespace animerun::models {

// Whether this build has the Winograd kernels and this CPU runs them (AVX-512).
bool DnnlWinogradAvailable();

// Process-wide switch for Conv3x3Train (default on): `animerun train --set
// winograd=false` turns it off for direct convolutions like PyTorch's.
void SetWinogradTraining(bool enabled);
bool WinogradTrainingEnabled();

// conv2d(x, weight, bias, stride 1, padding 1) with autograd, by oneDNN's Winograd.
// x [N, C, H, W] float CPU, weight [K, C, 3, 3], bias [K] or undefined. Throws
// std::runtime_error where DnnlWinogradAvailable() is false.
at::Tensor DnnlWinogradConv3x3(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// conv2d(x, weight, bias, stride 1, padding 1), by DnnlWinogradConv3x3 where the call trains:
// float CPU tensors, gradients wanted, no CPU autocast, the switch on and the kernels
// available; else LibTorch's convolution.
at::Tensor Conv3x3Train(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// conv->forward(x), by the above where conv is such a convolution: 3x3, stride 1, padding
// 1, undilated, ungrouped, zero padding.
at::Tensor Conv3x3Train(torch::nn::Conv2dImpl& conv, const at::Tensor& x);

}  // namespace animerun::models
