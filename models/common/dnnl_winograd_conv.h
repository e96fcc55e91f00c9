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
// 1-3e-6 of the largest value (direct: 2-4e-7; its weight gradient 6-9e-7, direct's 4-6e-6).
// Inference takes it too where the channel counts are whole 16-channel blocks (GMFlow's
// backbone): the golden parity stays within its tolerances (GMFlow flow_final 1.8e-5 px
// against 5e-4).
//
// Present only where the build found oneDNN's headers (the Debian LibTorch build); oneDNN
// 3.x, inside the pip LibTorch 2.x, has no fp32 Winograd. Everything else takes LibTorch's
// convolution.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>

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

// The same for inference (default on): `animerun bench flow --direct-conv` turns it off to
// compare with LibTorch's direct convolutions.
void SetWinogradInference(bool enabled);
bool WinogradInferenceEnabled();

// conv2d(x, weight, bias, stride 1, padding 1) with autograd, by oneDNN's Winograd.
// x [N, C, H, W] float CPU, weight [K, C, 3, 3], bias [K] or undefined. Throws
// std::runtime_error where DnnlWinogradAvailable() is false.
at::Tensor DnnlWinogradConv3x3(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// conv2d(x, weight, bias, stride 1, padding 1) by oneDNN's Winograd where it applies: float
// CPU tensors, no CPU autocast, the kernels available, and either gradients wanted (training,
// DnnlWinogradConv3x3; SetWinogradTraining) or none (inference, forward_inference primitive,
// NCHW or channels-last kept, channels in and out multiples of 16; SetWinogradInference).
// Else LibTorch's convolution.
at::Tensor Conv3x3Train(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// conv->forward(x), by the above where conv is such a convolution: 3x3, stride 1, padding
// 1, undilated, ungrouped, zero padding.
at::Tensor Conv3x3Train(torch::nn::Conv2dImpl& conv, const at::Tensor& x);

// Inference on one image in oneDNN's channel-blocked layout (nChw16c), the one its Winograd
// kernels read and write: a map [1, C, H, W] is held as a contiguous float tensor
// [C / 16, H, W, 16]. Layers chained in that layout skip the reorders to and from LibTorch's
// layouts (AnT at 960x540: 133 and 265 MB maps). The forward pass is oneDNN's F(4x4, 3x3):
// AnT's 32 -> 64 and 64 -> 128 layers at 960x540 take 35-40 and 165 ms on 2 Zen 4 cores,
// against 90 and 340 ms for its direct kernels (docs/benchmarks.md). Rounding as above.

// Whether a layer with this weight can take that path: kernels available, weight
// [K, C, 3, 3] on the CPU with C and K multiples of 16 (fp32 is the caller's to check).
bool DnnlWinogradBlocksApply(const at::Tensor& weight);

// x [1, C, H, W] float CPU in any memory format -> [C / 16, H, W, 16]. C % 16 == 0.
at::Tensor ToChannelBlocks(const at::Tensor& x);
// [C / 16, H, W, 16] -> [1, C, H, W] channels-last (tests and callers that want a map back).
at::Tensor FromChannelBlocks(const at::Tensor& blocks);

// conv2d(stride 1, padding 1) on blocks [C / 16, H, W, 16] with weight [K, C, 3, 3] and bias
// [K] or undefined: [K / 16, H, W, 16]. No autograd. Throws std::runtime_error where
// DnnlWinogradAvailable() is false, std::invalid_argument on other shapes.
at::Tensor DnnlWinogradConv3x3Blocks(const at::Tensor& blocks, const at::Tensor& weight, const at::Tensor& bias);

// The same convolution, handed on band of rows by band of rows, so that neither the whole
// output nor oneDNN's transformed tiles for the whole map are ever held: for 64 -> 128
// channels the kernel transforms the whole input at once, 903 MB at 960x540. Bands of about
// band_pixels pixels (whole rows, a multiple of 4): sink(out, row0, rows) gets each band's
// output [K / 16, R, W, 16], valid in its first `rows` rows (image rows row0 ..
// row0 + rows - 1), in order. The buffer is reused for the next band.
using BandSink = std::function<void(const at::Tensor& out, int64_t row0, int64_t rows)>;

// A map in channel blocks: contiguous float CPU [C / 16, H, W, 16]; std::invalid_argument
// naming `what` otherwise. Needs no oneDNN.
void CheckChannelBlocks(const at::Tensor& blocks, const char* what);
// What the convolutions in channel blocks (these and Bf16WinogradConv3x3Bands) accept:
// blocks contiguous float CPU [C / 16, H, W, 16], weight float CPU [K, C, 3, 3] with K a
// multiple of 16, bias float CPU [K] or undefined. Returns K; std::invalid_argument naming
// `what` otherwise. Needs no oneDNN.
int64_t CheckChannelBlockConv(const at::Tensor& blocks, const at::Tensor& weight, const at::Tensor& bias,
                              const char* what);
// Rows per band of an h x w map for about band_pixels pixels a band (> 0, else
// std::invalid_argument naming `what`): equal bands of a multiple of 4 rows (the F(4x4)
// output tile), as few as the budget allows. The last band may reach past the image.
int64_t ChannelBlockBandRows(int64_t h, int64_t w, int64_t band_pixels, const char* what);
void DnnlWinogradConv3x3Bands(const at::Tensor& blocks, const at::Tensor& weight, const at::Tensor& bias,
                              int64_t band_pixels, const BandSink& sink);

}  // namespace animerun::models
