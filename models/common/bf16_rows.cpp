#include "models/common/bf16_rows.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/common/bf16_bits.h"
#include "models/common/cpu_clones.h"

namespace animerun::models {
namespace {

// Sums of 16 lanes, so that the compiler vectorises the reductions without reassociating.
inline float Sum16(const float* acc) {
  float s = 0.0f;
  for (int j = 0; j < 16; ++j) s += acc[j];
  return s;
}

ANIMERUN_CPU_CLONES void NormRow(const uint16_t* x, const uint16_t* residual, const float* w, const float* b, int64_t c,
                                 float eps, float* tmp, uint16_t* out) {
  float acc[16] = {};
  int64_t k = 0;
  for (; k + 16 <= c; k += 16)
    for (int j = 0; j < 16; ++j) {
      tmp[k + j] = Bf16BitsToFloat(x[k + j]);
      acc[j] += tmp[k + j];
    }
  for (; k < c; ++k) {
    tmp[k] = Bf16BitsToFloat(x[k]);
    acc[0] += tmp[k];
  }
  const float mean = Sum16(acc) / static_cast<float>(c);
  float sq[16] = {};
  for (k = 0; k + 16 <= c; k += 16)
    for (int j = 0; j < 16; ++j) sq[j] += (tmp[k + j] - mean) * (tmp[k + j] - mean);
  for (; k < c; ++k) sq[0] += (tmp[k] - mean) * (tmp[k] - mean);
  const float inv = 1.0f / std::sqrt(Sum16(sq) / static_cast<float>(c) + eps);
  if (residual) {
    for (k = 0; k < c; ++k) out[k] = FloatToBf16Bits(Bf16BitsToFloat(residual[k]) + (tmp[k] - mean) * inv * w[k] + b[k]);
  } else {
    for (k = 0; k < c; ++k) out[k] = FloatToBf16Bits((tmp[k] - mean) * inv * w[k] + b[k]);
  }
}

// exp(x) for -16 <= x <= 0 without a library call, so that the GELU loop vectorises: 2^n by
// the exponent bits, e^r on |r| <= ln(2) / 2 by its degree-6 Taylor polynomial (relative
// error below 3e-7).
inline float ExpSmallNegative(float x) {
  // Round to nearest by the 1.5 * 2^23 trick (a floor call kept the loop scalar).
  const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693145752f) - n * 1.42860677e-6f;
  const float p =
      1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

// erf by Abramowitz and Stegun 7.1.26: |error| < 1.5e-7, far below bf16's 4e-3. |x| is
// clamped to 4 (erf(4) = 1 - 1.5e-8) on its bits, an integer select that vectorises where a
// float comparison does not (trapping math); NaN's bits are above 4's, so erf(NaN) = 1 and
// the GELU's other factor keeps the NaN.
inline float Erf(float x) {
  float a = std::fabs(x);
  uint32_t bits;
  std::memcpy(&bits, &a, sizeof(bits));
  bits = bits < 0x40800000u ? bits : 0x40800000u;
  std::memcpy(&a, &bits, sizeof(a));
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float y = 1.0f - (((((1.061405429f * t - 1.453152027f) * t) + 1.421413741f) * t - 0.284496736f) * t +
                          0.254829592f) * t * ExpSmallNegative(-a * a);
  return x < 0.0f ? -y : y;
}

ANIMERUN_CPU_CLONES void GeluRange(uint16_t* x, int64_t n, bool tanh_form) {
  if (tanh_form) {
    for (int64_t i = 0; i < n; ++i) {
      const float v = Bf16BitsToFloat(x[i]);
      x[i] = FloatToBf16Bits(0.5f * v * (1.0f + std::tanh(0.7978845608f * (v + 0.044715f * v * v * v))));
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float v = Bf16BitsToFloat(x[i]);
      x[i] = FloatToBf16Bits(0.5f * v * (1.0f + Erf(v * 0.70710678118f)));
    }
  }
}

}  // namespace

bool Bf16RowsApply(const at::Tensor& x) {
  return x.defined() && x.is_cpu() && x.scalar_type() == at::kBFloat16 && x.is_contiguous() && x.dim() >= 1;
}

at::Tensor Bf16LayerNorm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps,
                         const at::Tensor& residual) {
  if (!Bf16RowsApply(x)) throw std::invalid_argument("Bf16LayerNorm: needs a contiguous CPU bf16 tensor");
  at::Tensor out = at::empty_like(x);
  Bf16LayerNormOut(out, x, weight, bias, eps, residual);
  return out;
}

void Bf16LayerNormOut(at::Tensor& out, const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                      double eps, const at::Tensor& residual) {
  if (!Bf16RowsApply(x)) throw std::invalid_argument("Bf16LayerNorm: needs a contiguous CPU bf16 tensor");
  if (!Bf16RowsApply(out) || !out.sizes().equals(x.sizes()))
    throw std::invalid_argument("Bf16LayerNorm: out must be contiguous CPU bf16 of shape " + c10::str(x.sizes()));
  const int64_t c = x.size(-1), rows = c ? x.numel() / c : 0;
  if (weight.numel() != c || bias.numel() != c)
    throw std::invalid_argument("Bf16LayerNorm: weight and bias must have " + std::to_string(c) + " elements");
  if (residual.defined() && (!Bf16RowsApply(residual) || !residual.sizes().equals(x.sizes())))
    throw std::invalid_argument("Bf16LayerNorm: residual must be contiguous CPU bf16 of shape " + c10::str(x.sizes()));
  const at::Tensor w = weight.to(at::kFloat).contiguous(), b = bias.to(at::kFloat).contiguous();
  if (rows == 0) return;
  const auto* xp = reinterpret_cast<const uint16_t*>(x.data_ptr());
  const auto* rp = residual.defined() ? reinterpret_cast<const uint16_t*>(residual.data_ptr()) : nullptr;
  auto* op = reinterpret_cast<uint16_t*>(out.data_ptr());
  const float* wp = w.data_ptr<float>();
  const float* bp = b.data_ptr<float>();
  at::parallel_for(0, rows, 64, [&](int64_t r0, int64_t r1) {
    std::vector<float> tmp(static_cast<size_t>(c));
    for (int64_t r = r0; r < r1; ++r)
      NormRow(xp + r * c, rp ? rp + r * c : nullptr, wp, bp, c, static_cast<float>(eps), tmp.data(), op + r * c);
  });
}

void Bf16GeluInPlace(at::Tensor& x, bool tanh) {
  if (!Bf16RowsApply(x)) throw std::invalid_argument("Bf16GeluInPlace: needs a contiguous CPU bf16 tensor");
  auto* p = reinterpret_cast<uint16_t*>(x.data_ptr());
  at::parallel_for(0, x.numel(), 16384, [&](int64_t i0, int64_t i1) { GeluRange(p + i0, i1 - i0, tanh); });
}

}  // namespace animerun::models
