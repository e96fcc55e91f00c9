#include "models/common/bf16_winograd_conv.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/common/bf16_bits.h"

namespace animerun::models {

namespace {

// F(4x4, 3x3): 4x4 outputs from 6x6 inputs, 36 products per tile and channel pair. The
// points are 0, 1, -1, 1/2, -2 and infinity, not Lavin and Gray's 0, +-1, +-2: with bf16
// operands the outputs' error is 2.5x smaller at the largest and 20% smaller on average
// (a double emulation on AnT-like maps: largest error 2.2% of the largest output against
// 5.6%; bf16 operands of the direct convolution: 0.2%, F(2x2, 3x3): 0.3%):
//   B^T = [1 -3/2 -2 3/2 1 0; 0 -1 1/2 5/2 1 0; 0 1 -5/2 1/2 1 0; 0 -2 -1 2 1 0;
//          0 1/2 -1 -1/2 1 0; 0 1 -3/2 -2 3/2 1]
//   G   = [1 0 0; 1/3 1/3 1/3; -1/3 1/3 -1/3; -16/15 -8/15 -4/15; 1/15 -2/15 4/15; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 1/2 -2 0; 0 1 1 1/4 4 0; 0 1 -1 1/8 -8 1]
constexpr int kBf16WinoAlpha = 6;
constexpr int kBf16WinoPoints = kBf16WinoAlpha * kBf16WinoAlpha;
// Tiles per task: a task's transformed inputs (36 x 24 x C bf16) and products (36 x 24 x K
// floats, 442 KB at K = 128) stay in the L2 cache (12 to 96 tiles took within 10% of each
// other at 960x540).
constexpr int64_t kBf16WinoTiles = 24;
constexpr int kBf16WinoRows = 6;  // tiles per register block of the product kernel
static_assert(kBf16WinoTiles % kBf16WinoRows == 0);

#define ANIMERUN_BF16_WINO_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// The transformed weights U = G g G^T, in bf16, laid out for the dot-product instruction:
// [36][C / 2][K][2], the two channels of a pair next to each other for every output channel.
std::vector<uint16_t> Bf16WinoWeights(const torch::Tensor& weight) {
  const int64_t k = weight.size(0), c = weight.size(1);
  const torch::Tensor w = weight.detach().to(torch::kDouble).contiguous();
  const double* g = w.data_ptr<double>();
  static constexpr double kG[kBf16WinoAlpha][3] = {{1, 0, 0},
                                                   {1.0 / 3, 1.0 / 3, 1.0 / 3},
                                                   {-1.0 / 3, 1.0 / 3, -1.0 / 3},
                                                   {-16.0 / 15, -8.0 / 15, -4.0 / 15},
                                                   {1.0 / 15, -2.0 / 15, 4.0 / 15},
                                                   {0, 0, 1}};
  std::vector<uint16_t> u(static_cast<size_t>(kBf16WinoPoints * c * k));
  for (int64_t ko = 0; ko < k; ++ko) {
    for (int64_t ci = 0; ci < c; ++ci) {
      const double* f = g + (ko * c + ci) * 9;
      double gf[kBf16WinoAlpha][3];  // G g
      for (int a = 0; a < kBf16WinoAlpha; ++a)
        for (int j = 0; j < 3; ++j) gf[a][j] = kG[a][0] * f[j] + kG[a][1] * f[3 + j] + kG[a][2] * f[6 + j];
      for (int a = 0; a < kBf16WinoAlpha; ++a) {
        for (int b = 0; b < kBf16WinoAlpha; ++b) {
          const double v = gf[a][0] * kG[b][0] + gf[a][1] * kG[b][1] + gf[a][2] * kG[b][2];
          u[static_cast<size_t>(((a * kBf16WinoAlpha + b) * (c / 2) + ci / 2) * k * 2 + ko * 2 + ci % 2)] =
              FloatToBf16Bits(static_cast<float>(v));
        }
      }
    }
  }
  return u;
}

// Distance between the 36 points' slices of a task's buffers: one cache line more than the
// slice, so that the 36 lines a tile's transform touches do not share a few L1 sets (slices
// of 3 or 12 KB put them in 4 or 1 of 64 sets: the transforms took 3x as long).
int64_t Bf16WinoInStride(int64_t c) { return kBf16WinoTiles * c + 32; }   // bf16 elements
int64_t Bf16WinoOutStride(int64_t k) { return kBf16WinoTiles * k + 16; }  // floats

struct Bf16WinoProblem {
  const float* src;      // blocks [C / 16, H, W, 16]
  int64_t c, k, h, w;    // channels in and out, image size
  int64_t tiles_wide;    // tiles per row of the image
  const uint16_t* u;     // Bf16WinoWeights
  const float* bias;     // [K] or nullptr
};

// B^T x for the six vectors x (each 16 channels).
ANIMERUN_BF16_WINO_TARGET inline void Bf16WinoBt(const __m512 x[kBf16WinoAlpha], __m512 y[kBf16WinoAlpha]) {
  const __m512 half = _mm512_set1_ps(0.5f), one_half = _mm512_set1_ps(1.5f), two = _mm512_set1_ps(2.0f),
               five_halves = _mm512_set1_ps(2.5f);
  const __m512 d31 = _mm512_sub_ps(x[3], x[1]), d42 = _mm512_sub_ps(x[4], x[2]);
  y[0] = _mm512_fnmadd_ps(two, x[2], _mm512_fmadd_ps(one_half, d31, _mm512_add_ps(x[0], x[4])));
  y[1] = _mm512_fmadd_ps(five_halves, x[3], _mm512_fmadd_ps(half, x[2], _mm512_sub_ps(x[4], x[1])));
  y[2] = _mm512_fnmadd_ps(five_halves, x[2], _mm512_fmadd_ps(half, x[3], _mm512_add_ps(x[4], x[1])));
  y[3] = _mm512_fmadd_ps(two, d31, d42);
  y[4] = _mm512_fnmadd_ps(half, d31, d42);
  y[5] = _mm512_fmadd_ps(one_half, d42, _mm512_fnmadd_ps(two, x[3], _mm512_add_ps(x[5], x[1])));
}

// A^T x: four outputs from six vectors.
ANIMERUN_BF16_WINO_TARGET inline void Bf16WinoAt(const __m512 x[kBf16WinoAlpha], __m512 y[4]) {
  const __m512 d12 = _mm512_sub_ps(x[1], x[2]), s12 = _mm512_add_ps(x[1], x[2]);
  y[0] = _mm512_add_ps(_mm512_add_ps(x[0], s12), _mm512_add_ps(x[3], x[4]));
  y[1] = _mm512_fnmadd_ps(_mm512_set1_ps(2.0f), x[4], _mm512_fmadd_ps(_mm512_set1_ps(0.5f), x[3], d12));
  y[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), x[4], _mm512_fmadd_ps(_mm512_set1_ps(0.25f), x[3], s12));
  y[3] = _mm512_add_ps(_mm512_fnmadd_ps(_mm512_set1_ps(8.0f), x[4], _mm512_fmadd_ps(_mm512_set1_ps(0.125f), x[3], d12)),
                       x[5]);
}

// Transformed inputs of `count` tiles from tile index t0 (row-major over the band's tiles,
// band starting at image row row0) into v [36][kBf16WinoTiles][C] bf16; tiles past count are
// zeros.
ANIMERUN_BF16_WINO_TARGET void Bf16WinoInput(const Bf16WinoProblem& p, int64_t row0, int64_t t0, int64_t count,
                                             uint16_t* v) {
  const int64_t blocks = p.c / 16, plane = p.h * p.w * 16, xi_stride = Bf16WinoInStride(p.c);
  for (int64_t t = count; t < kBf16WinoTiles; ++t)
    for (int xi = 0; xi < kBf16WinoPoints; ++xi) std::memset(v + xi * xi_stride + t * p.c, 0, p.c * sizeof(uint16_t));
  // Channel block by channel block, so that the tiles walk along 6 rows of one plane at a time.
  for (int64_t b = 0; b < blocks; ++b) {
    const float* base = p.src + b * plane;
    for (int64_t t = 0; t < count; ++t) {
      const int64_t tile = t0 + t, y0 = row0 + tile / p.tiles_wide * 4 - 1, x0 = tile % p.tiles_wide * 4 - 1;
      const bool inside = y0 >= 0 && y0 + kBf16WinoAlpha <= p.h && x0 >= 0 && x0 + kBf16WinoAlpha <= p.w;
      __m512 rows[kBf16WinoAlpha][kBf16WinoAlpha];  // B^T applied along each input row
#pragma GCC unroll 6
      for (int r = 0; r < kBf16WinoAlpha; ++r) {
        __m512 d[kBf16WinoAlpha];
        const int64_t y = y0 + r;
        const float* line = base + (y * p.w + x0) * 16;
        if (inside) {
#pragma GCC unroll 6
          for (int q = 0; q < kBf16WinoAlpha; ++q) d[q] = _mm512_loadu_ps(line + q * 16);
        } else {
          const bool row_in = y >= 0 && y < p.h;
#pragma GCC unroll 6
          for (int q = 0; q < kBf16WinoAlpha; ++q)
            d[q] = row_in && x0 + q >= 0 && x0 + q < p.w ? _mm512_loadu_ps(line + q * 16) : _mm512_setzero_ps();
        }
        Bf16WinoBt(d, rows[r]);
      }
      uint16_t* dst = v + t * p.c + b * 16;
#pragma GCC unroll 6
      for (int q = 0; q < kBf16WinoAlpha; ++q) {
        __m512 col[kBf16WinoAlpha], out[kBf16WinoAlpha];
#pragma GCC unroll 6
        for (int r = 0; r < kBf16WinoAlpha; ++r) col[r] = rows[r][q];
        Bf16WinoBt(col, out);
#pragma GCC unroll 6
        for (int a = 0; a < kBf16WinoAlpha; ++a)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + (a * kBf16WinoAlpha + q) * xi_stride),
                              (__m256i)_mm512_cvtneps_pbh(out[a]));
      }
    }
  }
}

// m[r][0 .. 16 NJ) = sum over channel pairs of v[r] . u, for kBf16WinoRows rows of v (bf16,
// row stride v_stride) against u [pairs][K][2] from its column k0 (row stride u_stride, in
// bf16 elements), sums in fp32 registers.
template <int NJ>
ANIMERUN_BF16_WINO_TARGET void Bf16WinoKernel(const uint16_t* v, int64_t v_stride, const uint16_t* u, int64_t u_stride,
                                              int64_t pairs, float* m, int64_t m_stride) {
  // Unrolled so that the 6 x NJ sums stay in registers (GCC keeps loops over arrays of
  // vectors on the stack otherwise: 3x slower).
  __m512 acc[kBf16WinoRows][NJ];
#pragma GCC unroll 8
  for (int r = 0; r < kBf16WinoRows; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NJ; ++j) acc[r][j] = _mm512_setzero_ps();
  for (int64_t q = 0; q < pairs; ++q) {
    __m512bh b[NJ];
#pragma GCC unroll 4
    for (int j = 0; j < NJ; ++j) b[j] = (__m512bh)_mm512_loadu_si512(u + q * u_stride + j * 32);
#pragma GCC unroll 8
    for (int r = 0; r < kBf16WinoRows; ++r) {
      int32_t pair;
      std::memcpy(&pair, v + r * v_stride + 2 * q, sizeof(pair));
      const __m512bh a = (__m512bh)_mm512_set1_epi32(pair);
#pragma GCC unroll 4
      for (int j = 0; j < NJ; ++j) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], a, b[j]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < kBf16WinoRows; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NJ; ++j) _mm512_storeu_ps(m + r * m_stride + j * 16, acc[r][j]);
}

// The 36 products of a task: m [36][kBf16WinoTiles][K] floats.
ANIMERUN_BF16_WINO_TARGET void Bf16WinoProducts(const Bf16WinoProblem& p, const uint16_t* v, float* m) {
  const int64_t pairs = p.c / 2, u_stride = p.k * 2;
  for (int xi = 0; xi < kBf16WinoPoints; ++xi) {
    const uint16_t* vx = v + xi * Bf16WinoInStride(p.c);
    const uint16_t* ux = p.u + xi * pairs * u_stride;
    float* mx = m + xi * Bf16WinoOutStride(p.k);
    for (int64_t k0 = 0; k0 < p.k; k0 += 64) {
      const int64_t nj = std::min<int64_t>(4, (p.k - k0) / 16);
      for (int64_t t = 0; t < kBf16WinoTiles; t += kBf16WinoRows) {
        const uint16_t* vt = vx + t * p.c;
        const uint16_t* uk = ux + k0 * 2;
        float* mt = mx + t * p.k + k0;
        switch (nj) {
          case 4: Bf16WinoKernel<4>(vt, p.c, uk, u_stride, pairs, mt, p.k); break;
          case 3: Bf16WinoKernel<3>(vt, p.c, uk, u_stride, pairs, mt, p.k); break;
          case 2: Bf16WinoKernel<2>(vt, p.c, uk, u_stride, pairs, mt, p.k); break;
          default: Bf16WinoKernel<1>(vt, p.c, uk, u_stride, pairs, mt, p.k); break;
        }
      }
    }
  }
}

// A^T M A + bias for `count` tiles from t0 into the band's output [K / 16, R, W, 16].
ANIMERUN_BF16_WINO_TARGET void Bf16WinoOutput(const Bf16WinoProblem& p, const float* m, int64_t t0, int64_t count,
                                              int64_t band_rows, float* out) {
  const int64_t xi_stride = Bf16WinoOutStride(p.k), plane = band_rows * p.w * 16;
  // Output block by output block, so that the stores walk along 4 rows of one plane at a time.
  for (int64_t b = 0; b < p.k / 16; ++b) {
    const __m512 bias = p.bias != nullptr ? _mm512_loadu_ps(p.bias + b * 16) : _mm512_setzero_ps();
    for (int64_t t = 0; t < count; ++t) {
      const int64_t tile = t0 + t, y0 = tile / p.tiles_wide * 4, x0 = tile % p.tiles_wide * 4;
      const int64_t cols = std::min<int64_t>(4, p.w - x0);
      const float* mt = m + t * p.k + b * 16;
      __m512 half[kBf16WinoAlpha][4];  // A^T applied along each row of M
#pragma GCC unroll 6
      for (int a = 0; a < kBf16WinoAlpha; ++a) {
        __m512 row[kBf16WinoAlpha];
#pragma GCC unroll 6
        for (int q = 0; q < kBf16WinoAlpha; ++q) row[q] = _mm512_loadu_ps(mt + (a * kBf16WinoAlpha + q) * xi_stride);
        Bf16WinoAt(row, half[a]);
      }
      float* dst = out + b * plane + (y0 * p.w + x0) * 16;
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        if (j >= cols) break;
        __m512 col[kBf16WinoAlpha], y[4];
#pragma GCC unroll 6
        for (int a = 0; a < kBf16WinoAlpha; ++a) col[a] = half[a][j];
        Bf16WinoAt(col, y);
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) _mm512_storeu_ps(dst + (i * p.w + j) * 16, _mm512_add_ps(y[i], bias));
      }
    }
  }
}

// Tasks [task0, task1) of the band from image row row0: each transforms, multiplies and
// transforms back kBf16WinoTiles tiles.
void Bf16WinoTasks(const Bf16WinoProblem& p, int64_t row0, int64_t band_tiles, int64_t band_rows, int64_t task0,
                   int64_t task1, float* out) {
  std::vector<uint16_t> v(static_cast<size_t>(kBf16WinoPoints * Bf16WinoInStride(p.c)));
  std::vector<float> m(static_cast<size_t>(kBf16WinoPoints * Bf16WinoOutStride(p.k)));
  for (int64_t task = task0; task < task1; ++task) {
    const int64_t t0 = task * kBf16WinoTiles, count = std::min(kBf16WinoTiles, band_tiles - t0);
    Bf16WinoInput(p, row0, t0, count, v.data());
    Bf16WinoProducts(p, v.data(), m.data());
    Bf16WinoOutput(p, m.data(), t0, count, band_rows, out);
  }
}

}  // namespace

bool Bf16WinogradAvailable() {
  static const bool available = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bf16");
  }();
  return available;
}

void Bf16WinogradConv3x3Bands(const at::Tensor& blocks, const at::Tensor& weight, const at::Tensor& bias,
                              int64_t band_pixels, const BandSink& sink) {
  const char* what = "Bf16WinogradConv3x3Bands";
  const int64_t k = CheckChannelBlockConv(blocks, weight, bias, what);
  const int64_t rows = ChannelBlockBandRows(blocks.size(1), blocks.size(2), band_pixels, what);
  if (!Bf16WinogradAvailable()) throw std::runtime_error(std::string(what) + ": this CPU has no AVX-512 BF16");
  torch::NoGradGuard no_grad;
  const int64_t c = blocks.size(0) * 16, h = blocks.size(1), w = blocks.size(2);
  if (h == 0 || w == 0) return;
  const torch::Tensor bs = bias.defined() ? bias.detach().contiguous() : torch::Tensor();
  const std::vector<uint16_t> u = Bf16WinoWeights(weight);
  const int64_t tiles_wide = (w + 3) / 4;
  const Bf16WinoProblem p{blocks.data_ptr<float>(), c, k, h, w, tiles_wide, u.data(),
                          bs.defined() ? bs.data_ptr<float>() : nullptr};
  torch::Tensor out = torch::empty({k / 16, rows, w, 16}, blocks.options());
  const int64_t band_tiles = rows / 4 * tiles_wide, tasks = (band_tiles + kBf16WinoTiles - 1) / kBf16WinoTiles;
  for (int64_t row0 = 0; row0 < h; row0 += rows) {
    at::parallel_for(0, tasks, 1, [&](int64_t t0, int64_t t1) {
      Bf16WinoTasks(p, row0, band_tiles, rows, t0, t1, out.data_ptr<float>());
    });
    sink(out, row0, std::min(rows, h - row0));
  }
}

}  // namespace animerun::models
