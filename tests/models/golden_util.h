// Test-only readers for the golden fixtures, without OpenCV (models/ tests must build on
// a machine with LibTorch alone): NPY arrays and 8-bit PNG images into tensors.
#pragma once

#include <string>

#include <torch/torch.h>

namespace animerun::test {

// A .npy file (bool, uint8, int32, int64, float32, float64; C order, little endian) as a
// CPU tensor of the same dtype and shape. Throws std::runtime_error naming the file.
torch::Tensor ReadNpyTensor(const std::string& path);

// An 8-bit PNG (grey, grey+alpha, RGB, RGBA; non-interlaced) as a uint8 tensor [H, W, C].
torch::Tensor ReadPngTensor(const std::string& path);

// A PNG as the networks take it: float [1, 3, H, W] RGB in [0, 255].
torch::Tensor ReadPngAsBatch(const std::string& path);

// Where the parity tests run the networks: ANIMERUN_TEST_DEVICE ("cpu" when unset; "cuda"
// on a GPU machine, packaging/gpu_check.sh). On CUDA, TF32 is switched off for convolutions
// and matrix products (cuDNN uses it by default), so that the golden tolerances hold.
// Throws std::runtime_error for a device that is not there.
torch::Device ParityDevice();

// Max abs difference of two tensors of the same shape (throws if shapes differ).
double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace animerun::test
