// The work of a network's forward pass counted the way PyTorch's FlopCounterMode counts the
// official model: 2 FLOP per multiply-add of every convolution (transposed too) and matrix
// product (mm, bmm, matmul, einsum, linear), bias and element-wise work not counted. Each
// network counts its official forward from its own layers' shapes (FlowModel::OfficialFlops),
// so work this implementation skips (RAFT's GRU context share computed once) still counts,
// and shows as speed in `animerun bench`.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace animerun::models {

class FlopCount {
 public:
  // A Conv2d over [batch, in_channels, h, w], applied `times` times; returns the output's
  // (h, w) from the layer's stride, padding and dilation.
  std::pair<int64_t, int64_t> Conv(const std::string& part, const torch::nn::Conv2dImpl& conv, int64_t batch, int64_t h,
                                   int64_t w, int64_t times = 1);
  // A ConvTranspose2d over [batch, in_channels, h, w] (FlopCounterMode counts its
  // multiply-adds over the input positions); returns the output's (h, w).
  std::pair<int64_t, int64_t> ConvTranspose(const std::string& part, const torch::nn::ConvTranspose2dImpl& conv,
                                            int64_t batch, int64_t h, int64_t w, int64_t times = 1);
  // A convolution given by its shapes (functional convolutions such as GMFlow's trident conv).
  void ConvShape(const std::string& part, int64_t batch, int64_t in_channels, int64_t out_channels, int64_t kernel_h,
                 int64_t kernel_w, int64_t out_h, int64_t out_w, int64_t times = 1);
  // Every Conv2d and Linear of a Sequential in order, Conv2ds chained from h x w (Linear
  // layers over batch * h * w rows); returns the final (h, w).
  std::pair<int64_t, int64_t> Sequential(const std::string& part, const torch::nn::SequentialImpl& seq, int64_t batch,
                                         int64_t h, int64_t w, int64_t times = 1);
  // A Conv1d over [batch, in_channels, length] (padding and stride as the layer's).
  void Conv1d(const std::string& part, const torch::nn::Conv1dImpl& conv, int64_t batch, int64_t length,
              int64_t times = 1);
  // A Linear layer over `rows` input rows.
  void Linear(const std::string& part, const torch::nn::LinearImpl& linear, int64_t rows, int64_t times = 1);
  // batch x ([m, k] @ [k, n]).
  void Matmul(const std::string& part, int64_t batch, int64_t m, int64_t n, int64_t k, int64_t times = 1);
  // Adds another count's parts (e.g. a sub-network counted on its own).
  void Add(const FlopCount& other, double scale = 1.0);

  double total() const;
  // FLOP per part, in the order the parts were first counted.
  const std::vector<std::pair<std::string, double>>& parts() const { return parts_; }
  // "12.3 G (encoders 4.1, correlation 0.2, ...)".
  std::string Describe() const;

 private:
  void AddTo(const std::string& part, double flop);
  std::vector<std::pair<std::string, double>> parts_;
};

}  // namespace animerun::models
