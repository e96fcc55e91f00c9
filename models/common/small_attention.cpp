#include "models/common/small_attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

// 64-byte vectors passed between inlined helpers only: the ABI note does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace animerun::models {

// A named namespace, not an anonymous one: unity builds (ANIMERUN_UNITY) put this file in one
// translation unit with others that have their own Load, Store and kLanes.
namespace small_attention_kernel {

constexpr int64_t kDim = 32;    // channels per head
constexpr int64_t kRows = 8;    // queries per task: 8 x 2 accumulators of 16 lanes stay in registers
constexpr int64_t kLanes = 16;  // floats per vector (one AVX-512 register, two AVX2 ones)

// GCC vector types: one copy of the code per instruction set (target_clones below), so the
// same source runs as AVX-512, AVX2 or SSE2.
typedef float V16 __attribute__((vector_size(64)));
typedef float V16u __attribute__((vector_size(64), aligned(4)));  // for unaligned loads and stores
typedef int I16 __attribute__((vector_size(64)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ANIMERUN_ATTN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define ANIMERUN_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ANIMERUN_ATTN_CLONES
#define ANIMERUN_ALWAYS_INLINE inline
#endif

ANIMERUN_ALWAYS_INLINE V16 Load(const float* p) { return *reinterpret_cast<const V16u*>(p); }
ANIMERUN_ALWAYS_INLINE void Store(float* p, V16 v) { *reinterpret_cast<V16u*>(p) = v; }
ANIMERUN_ALWAYS_INLINE V16 Splat(float x) { return V16{} + x; }
// mask ? a : b per lane (mask lanes all ones or zero), in bit operations that GCC and Clang
// both take.
ANIMERUN_ALWAYS_INLINE V16 Select(I16 mask, V16 a, V16 b) {
  return reinterpret_cast<V16>((reinterpret_cast<I16>(a) & mask) | (reinterpret_cast<I16>(b) & ~mask));
}

// exp for x <= 0 (scores minus their maximum): Cephes' expf, 2^n from the exponent bits and
// a degree-6 polynomial on [-ln2 / 2, ln2 / 2]; within 0.96 ulp of exp in double (measured on
// every float in [-1, 0] and every 64th in [-87, -1] when written). Below -87.3
// it returns exp(-87.3) ~ 1e-38 instead of denormals; next to the maximum's exp(0) = 1 both
// vanish in the sum.
ANIMERUN_ALWAYS_INLINE V16 ExpNonPositive(V16 x) {
  x = Select(x < Splat(-87.3f), Splat(-87.3f), x);
  const V16 t = x * 1.44269504088896341f + 0.5f;
  I16 n = __builtin_convertvector(t, I16);  // truncation toward zero; floor for t < 0:
  V16 fn = __builtin_convertvector(n, V16);
  const I16 above = fn > t;                 // -1 where truncation rounded up
  n += above;
  fn = __builtin_convertvector(n, V16);
  const V16 r = x - fn * 0.693359375f - fn * -2.12194440e-4f;
  V16 p = Splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const I16 bits = (n + 127) << 23;
  V16 scale;
  __builtin_memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// One task: queries q[kDim][kRows] (head channel major, already gathered) against the
// packed keys kt[kDim][ns_pad] and values v[ns][kDim]; writes softmax(q k / sqrt(dim)) v,
// [kRows][kDim], to out. s: scratch of kRows * ns_pad floats.
ANIMERUN_ATTN_CLONES void AttendBlock(const float* q, const float* kt, const float* v, int64_t ns, int64_t ns_pad,
                                      float scale, float* s, float* out) {
  // Scores: 8 accumulators of 16 keys, one key vector load per 8 multiply-adds.
  for (int64_t j0 = 0; j0 < ns_pad; j0 += kLanes) {
    V16 acc[kRows] = {};
    for (int64_t d = 0; d < kDim; ++d) {
      const V16 k = Load(kt + d * ns_pad + j0);
      const float* qd = q + d * kRows;
#pragma GCC unroll 8
      for (int64_t i = 0; i < kRows; ++i) acc[i] += qd[i] * k;
    }
    for (int64_t i = 0; i < kRows; ++i) Store(s + i * ns_pad + j0, acc[i] * scale);
  }
  // Softmax per row without its division (applied to the outputs below); the padded keys
  // past ns get -inf first, so they do not raise the maximum; their exp, ~1e-38 each, is
  // far below the rounding of a sum >= 1, and the values below never read them.
  float inv_sum[kRows];
  for (int64_t i = 0; i < kRows; ++i) {
    float* row = s + i * ns_pad;
    for (int64_t j = ns; j < ns_pad; ++j) row[j] = -std::numeric_limits<float>::infinity();
    V16 vmax = Load(row);
    for (int64_t j0 = kLanes; j0 < ns_pad; j0 += kLanes) {
      const V16 x = Load(row + j0);
      vmax = Select(x > vmax, x, vmax);
    }
    float m = vmax[0];
    for (int l = 1; l < kLanes; ++l) m = std::max(m, vmax[l]);
    V16 vsum = {};
    for (int64_t j0 = 0; j0 < ns_pad; j0 += kLanes) {
      const V16 e = ExpNonPositive(Load(row + j0) - m);
      Store(row + j0, e);
      vsum += e;
    }
    double sum = 0.0;
    for (int l = 0; l < kLanes; ++l) sum += vsum[l];
    inv_sum[i] = static_cast<float>(1.0 / sum);
  }
  // Weighted sum of the values: 8 rows x 32 channels in 16 accumulators.
  V16 lo[kRows] = {}, hi[kRows] = {};
  for (int64_t j = 0; j < ns; ++j) {
    const V16 v0 = Load(v + j * kDim), v1 = Load(v + j * kDim + kLanes);
#pragma GCC unroll 8
    for (int64_t i = 0; i < kRows; ++i) {
      const float p = s[i * ns_pad + j];
      lo[i] += p * v0;
      hi[i] += p * v1;
    }
  }
  for (int64_t i = 0; i < kRows; ++i) {
    Store(out + i * kDim, lo[i] * inv_sum[i]);
    Store(out + i * kDim + kLanes, hi[i] * inv_sum[i]);
  }
}

}  // namespace small_attention_kernel

namespace sak = small_attention_kernel;

bool SmallAttentionApplies(const torch::Tensor& qkv, int64_t heads) {
  return heads > 0 && qkv.dim() == 2 && qkv.size(0) % 3 == 0 && qkv.size(0) / 3 == heads * sak::kDim && qkv.is_cpu() &&
         qkv.scalar_type() == torch::kFloat;
}

torch::Tensor SmallAttention(const torch::Tensor& qkv_in, int64_t heads, const std::vector<AttentionSpan>& spans) {
  if (!SmallAttentionApplies(qkv_in, heads))
    throw std::invalid_argument("SmallAttention: needs float CPU qkv [3 * heads * 32, n], got " +
                                c10::str(qkv_in.sizes()) + " for " + std::to_string(heads) + " heads");
  const torch::Tensor qkv = qkv_in.contiguous();
  const int64_t d = heads * sak::kDim, n = qkv.size(1);
  for (const auto& sp : spans) {
    if (sp.nq < 0 || sp.ns < 1 || sp.q0 < 0 || sp.s0 < 0 || sp.q0 + sp.nq > n || sp.s0 + sp.ns > n)
      throw std::invalid_argument("SmallAttention: span of queries [" + std::to_string(sp.q0) + ", +" +
                                  std::to_string(sp.nq) + ") and sources [" + std::to_string(sp.s0) + ", +" +
                                  std::to_string(sp.ns) + ") outside " + std::to_string(n) + " points");
  }
  torch::Tensor out = torch::zeros({d, n}, qkv.options());
  if (spans.empty() || n == 0) return out;
  const float* x = qkv.data_ptr<float>();
  float* o = out.data_ptr<float>();
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(sak::kDim)));

  // Keys transposed per (span, head) [kDim][ns_pad] (zero past ns), values [ns][kDim].
  const int64_t num = static_cast<int64_t>(spans.size()) * heads;
  std::vector<int64_t> pad(spans.size()), offset(static_cast<size_t>(num) + 1, 0), blocks(spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    pad[i] = (spans[i].ns + sak::kLanes - 1) / sak::kLanes * sak::kLanes;
    blocks[i] = (spans[i].nq + sak::kRows - 1) / sak::kRows;
  }
  int64_t max_pad = 0;
  for (int64_t t = 0; t < num; ++t) {
    const size_t i = static_cast<size_t>(t / heads);
    offset[static_cast<size_t>(t) + 1] = offset[static_cast<size_t>(t)] + sak::kDim * pad[i] + spans[i].ns * sak::kDim;
    max_pad = std::max(max_pad, pad[i]);
  }
  std::vector<float> packed(static_cast<size_t>(offset.back()));
  at::parallel_for(0, num, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const AttentionSpan& sp = spans[static_cast<size_t>(t / heads)];
      const int64_t h = t % heads, ns_pad = pad[static_cast<size_t>(t / heads)];
      float* kt = packed.data() + offset[static_cast<size_t>(t)];
      float* v = kt + sak::kDim * ns_pad;
      for (int64_t c = 0; c < sak::kDim; ++c) {
        const float* krow = x + (d + c * heads + h) * n + sp.s0;
        std::copy(krow, krow + sp.ns, kt + c * ns_pad);
        std::fill(kt + c * ns_pad + sp.ns, kt + (c + 1) * ns_pad, 0.0f);
        const float* vrow = x + (2 * d + c * heads + h) * n + sp.s0;
        for (int64_t j = 0; j < sp.ns; ++j) v[j * sak::kDim + c] = vrow[j];
      }
    }
  });

  // Tasks: (span, head, block of 8 queries), in that order.
  std::vector<int64_t> first_task(spans.size() + 1, 0);
  for (size_t i = 0; i < spans.size(); ++i) first_task[i + 1] = first_task[i] + heads * blocks[i];
  at::parallel_for(0, first_task.back(), 4, [&](int64_t b, int64_t e) {
    std::vector<float> s(static_cast<size_t>(sak::kRows * max_pad));
    std::vector<float> q(sak::kDim * sak::kRows), res(sak::kRows * sak::kDim);
    for (int64_t task = b; task < e; ++task) {
      const size_t i = static_cast<size_t>(std::upper_bound(first_task.begin(), first_task.end(), task) -
                                           first_task.begin() - 1);
      const AttentionSpan& sp = spans[i];
      const int64_t local = task - first_task[i], h = local / blocks[i], r0 = (local % blocks[i]) * sak::kRows;
      const int64_t rows = std::min(sak::kRows, sp.nq - r0);
      // This block's queries, channel major; a short last block repeats its last query.
      for (int64_t c = 0; c < sak::kDim; ++c) {
        const float* qrow = x + (c * heads + h) * n + sp.q0 + r0;
        for (int64_t r = 0; r < sak::kRows; ++r)
          q[static_cast<size_t>(c * sak::kRows + r)] = qrow[std::min(r, rows - 1)];
      }
      const float* kt = packed.data() + offset[static_cast<size_t>(static_cast<int64_t>(i) * heads + h)];
      sak::AttendBlock(q.data(), kt, kt + sak::kDim * pad[i], sp.ns, pad[i], scale, s.data(), res.data());
      for (int64_t c = 0; c < sak::kDim; ++c) {
        float* orow = o + (c * heads + h) * n + sp.q0 + r0;
        for (int64_t r = 0; r < rows; ++r) orow[r] = res[static_cast<size_t>(r * sak::kDim + c)];
      }
    }
  });
  return out;
}

}  // namespace animerun::models

#undef ANIMERUN_ATTN_CLONES
#undef ANIMERUN_ALWAYS_INLINE
// No diagnostic pop: GCC reports the target clones' ABI note at the end of the file.
