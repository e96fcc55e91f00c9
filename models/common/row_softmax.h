// softmax(x / scale) along the rows of a CPU score matrix, in place, for attention in
// inference. LibTorch 1.13 divides in one pass and takes three more for the softmax, with an
// 8-lane exp (GMFlow at 448x1024 in bf16: 54 + 272 ms of a 2 s pass); here each row is read
// once into registers and cache and written once, with 16-lane AVX-512 arithmetic in fp32.
#pragma once

#include <ATen/core/Tensor.h>

namespace animerun::models {

// Whether RowSoftmaxInPlace takes scores: contiguous CPU float or bf16 with ≥ 1 dimension and
// rows of at most 65536, on a CPU with AVX-512 (F, BW, VL, DQ).
bool RowSoftmaxApplies(const at::Tensor& scores);

// scores = softmax(scores / scale, -1), the sums in fp32, bf16 results rounded once (to
// nearest even). Rows holding NaN come out NaN; a row of -inf comes out NaN as in LibTorch.
// std::invalid_argument where RowSoftmaxApplies is false or scale <= 0.
void RowSoftmaxInPlace(at::Tensor& scores, double scale);

}  // namespace animerun::models
