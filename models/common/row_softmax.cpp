#include "models/common/row_softmax.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace animerun::models {
namespace {

constexpr int64_t kMaxCols = 65536;

#define ANIMERUN_ROW_SOFTMAX_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

// e^x for x <= 0 (16 lanes, not NaN): x = n ln 2 + r with |r| <= ln(2) / 2, e^r by its
// degree-6 Taylor polynomial (relative error below 3e-7), 2^n by scalef. Below -104 (and -inf)
// as at -104: 0 after scalef's underflow.
ANIMERUN_ROW_SOFTMAX_TARGET inline __m512 Exp16(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145752f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860677e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

ANIMERUN_ROW_SOFTMAX_TARGET inline __m512 LoadBf16(const uint16_t* p, __mmask16 m) {
  const __m256i h = _mm256_maskz_loadu_epi16(m, p);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

ANIMERUN_ROW_SOFTMAX_TARGET inline void StoreBf16(uint16_t* p, __m512 v, __mmask16 m) {
  __m512i bits = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  bits = _mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  _mm256_mask_storeu_epi16(p, m, _mm512_cvtepi32_epi16(_mm512_srli_epi32(bits, 16)));
}

// One row: tmp holds x / scale in fp32 (the row is read once); then exp, sum, and the scaled
// write-back. A row with NaN, or with nothing above -inf, is all NaN (as LibTorch's softmax).
template <bool kBf16>
ANIMERUN_ROW_SOFTMAX_TARGET void SoftmaxRow(void* row, int64_t n, float inv_scale, float* tmp) {
  const __m512 s = _mm512_set1_ps(inv_scale);
  __m512 mx = _mm512_set1_ps(-INFINITY);
  __mmask16 any_nan = 0;
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = n - j >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512 v = kBf16 ? LoadBf16(static_cast<const uint16_t*>(row) + j, m)
                           : _mm512_maskz_loadu_ps(m, static_cast<const float*>(row) + j);
    const __m512 x = _mm512_mul_ps(v, s);
    any_nan |= _mm512_mask_cmp_ps_mask(m, x, x, _CMP_UNORD_Q);
    _mm512_mask_storeu_ps(tmp + j, m, x);
    mx = _mm512_mask_max_ps(mx, m, mx, x);
  }
  const float row_max = _mm512_reduce_max_ps(mx);
  if (any_nan || row_max == -INFINITY) {
    for (int64_t j = 0; j < n; j += 16) {
      const __mmask16 m = n - j >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - j)) - 1);
      if (kBf16) {
        StoreBf16(static_cast<uint16_t*>(row) + j, _mm512_set1_ps(NAN), m);
      } else {
        _mm512_mask_storeu_ps(static_cast<float*>(row) + j, m, _mm512_set1_ps(NAN));
      }
    }
    return;
  }
  const __m512 vm = _mm512_set1_ps(row_max);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = n - j >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512 e = Exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, tmp + j), vm));
    _mm512_mask_storeu_ps(tmp + j, m, e);
    sum = _mm512_mask_add_ps(sum, m, sum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = n - j >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512 y = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, tmp + j), inv);
    if (kBf16) {
      StoreBf16(static_cast<uint16_t*>(row) + j, y, m);
    } else {
      _mm512_mask_storeu_ps(static_cast<float*>(row) + j, m, y);
    }
  }
}

bool CpuHasAvx512() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq");
  }();
  return has;
}

}  // namespace

bool RowSoftmaxApplies(const at::Tensor& scores) {
  return scores.defined() && scores.is_cpu() && scores.dim() >= 1 && scores.is_contiguous() &&
         (scores.scalar_type() == at::kFloat || scores.scalar_type() == at::kBFloat16) && scores.size(-1) <= kMaxCols &&
         CpuHasAvx512();
}

void RowSoftmaxInPlace(at::Tensor& scores, double scale) {
  if (!RowSoftmaxApplies(scores))
    throw std::invalid_argument("RowSoftmaxInPlace: needs contiguous CPU float or bf16 scores with rows of at most " +
                                std::to_string(kMaxCols) + " on a CPU with AVX-512");
  if (!(scale > 0)) throw std::invalid_argument("RowSoftmaxInPlace: scale must be > 0");
  const int64_t n = scores.size(-1), rows = n ? scores.numel() / n : 0;
  if (rows == 0) return;
  const bool bf16 = scores.scalar_type() == at::kBFloat16;
  const size_t bytes = static_cast<size_t>(scores.element_size());
  auto* base = static_cast<uint8_t*>(scores.data_ptr());
  const float inv_scale = static_cast<float>(1.0 / scale);
  at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / n), [&](int64_t r0, int64_t r1) {
    std::vector<float> tmp(static_cast<size_t>(n));
    for (int64_t r = r0; r < r1; ++r) {
      void* row = base + static_cast<size_t>(r * n) * bytes;
      if (bf16) {
        SoftmaxRow<true>(row, n, inv_scale, tmp.data());
      } else {
        SoftmaxRow<false>(row, n, inv_scale, tmp.data());
      }
    }
  });
}

}  // namespace animerun::models
