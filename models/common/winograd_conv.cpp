#include "models/common/winograd_conv.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "models/common/cpu_clones.h"

// The transforms pass 16-float vectors between always-inlined helpers; GCC warns that such
// values change the ABI without AVX-512, which never applies to inlined code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace animerun::models {

namespace {

// Lavin and Gray's matrices (arXiv:1509.09308), for correlation as CNNs compute it:
// Y = A^T [(G g G^T) * (B^T d B)] A.
template <int M>
struct Winograd;

template <>
struct Winograd<2> {
  static constexpr int kA = 4;
  static constexpr float kBT[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
  static constexpr double kG[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  static constexpr float kAT[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
};

template <>
struct Winograd<4> {
  static constexpr int kA = 6;
  static constexpr float kBT[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                      {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
  static constexpr double kG[6][3] = {{1.0 / 4, 0, 0},
                                      {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                      {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                      {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                      {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                      {0, 0, 1}};
  static constexpr float kAT[4][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
};

constexpr int kLanes = 16;  // channels per step: one AVX-512 register of floats
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float))));

#define ANIMERUN_ALWAYS_INLINE inline __attribute__((always_inline))

ANIMERUN_ALWAYS_INLINE Lanes Load(const float* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
ANIMERUN_ALWAYS_INLINE void Store(float* p, const Lanes& v) { std::memcpy(p, &v, sizeof(v)); }

// Half a vector of lanes in double, for the pooled sums.
typedef double Doubles __attribute__((vector_size(kLanes / 2 * sizeof(double))));
ANIMERUN_ALWAYS_INLINE Doubles LoadDoubles(const double* p) {
  Doubles v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
ANIMERUN_ALWAYS_INLINE void StoreDoubles(double* p, const Doubles& v) { std::memcpy(p, &v, sizeof(v)); }

// U[(i * A + j), c, k] = (G g_kc G^T)[i][j], computed in double.
template <int M>
torch::Tensor TransformWeights(const torch::Tensor& weight) {
  using W = Winograd<M>;
  constexpr int A = W::kA;
  torch::Tensor g = torch::empty({A, 3}, torch::kDouble);
  for (int i = 0; i < A; ++i)
    for (int j = 0; j < 3; ++j) g[i][j] = W::kG[i][j];
  const torch::Tensor w = weight.to(torch::kDouble);                  // [K, C, 3, 3]
  const torch::Tensor u = torch::matmul(torch::matmul(g, w), g.t());  // [K, C, A, A]
  return u.permute({2, 3, 1, 0}).reshape({A * A, weight.size(1), weight.size(0)}).to(torch::kFloat).contiguous();
}

// out[i][j] = sum_k m[i][k] * in[k][j] for a constant A x A (or M x A) matrix m, over
// vectors of lanes; the loops unroll fully, so zero and unit coefficients fold away.
template <int R, int A, typename Matrix>
ANIMERUN_ALWAYS_INLINE void LeftMultiply(const Matrix& m, const Lanes (&in)[A][A], Lanes (&out)[R][A]) {
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < A; ++j) {
      Lanes acc = {};
#pragma GCC unroll 8
      for (int k = 0; k < A; ++k)
        if (m[i][k] != 0.0f) acc += m[i][k] * in[k][j];
      out[i][j] = acc;
    }
}

// out[i][q] = init + sum_j m[q][j] * in[i][j]: in times the transpose of a constant Q x A
// matrix m (B = (B^T)^T, A = (A^T)^T), zero coefficients folded away as in LeftMultiply.
template <int R, int Q, int A, typename Matrix>
ANIMERUN_ALWAYS_INLINE void RightMultiplyTransposed(const Matrix& m, const Lanes (&in)[R][A], const Lanes& init,
                                                    Lanes (&out)[R][Q]) {
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int q = 0; q < Q; ++q) {
      Lanes acc = init;
#pragma GCC unroll 8
      for (int j = 0; j < A; ++j)
        if (m[q][j] != 0.0f) acc += m[q][j] * in[i][j];
      out[i][q] = acc;
    }
}

// The input transform of one block of tiles, inlined into one copy per instruction set
// (target_clones below).
// c is a multiple of kLanes (callers pad).
template <int M>
ANIMERUN_ALWAYS_INLINE void TransformInputBody(const float* x, int64_t h, int64_t w, int64_t c, int64_t tiles_w, int64_t t0,
                               int64_t begin, int64_t end, float* v) {
  using W = Winograd<M>;
  constexpr int A = W::kA;
  Lanes d[A][A], tmp[A][A], v_tile[A][A];
  for (int64_t t = begin; t < end; ++t) {
    const int64_t ty = t / tiles_w, tx = t % tiles_w;
    const int64_t r0 = ty * M - 1, c0 = tx * M - 1;
    const float* rows[A][A];
    for (int i = 0; i < A; ++i)
      for (int j = 0; j < A; ++j) {
        const int64_t r = r0 + i, col = c0 + j;
        rows[i][j] = (r >= 0 && r < h && col >= 0 && col < w) ? x + (r * w + col) * c : nullptr;
      }
    float* out = v + (t - t0) * A * A * c;
    for (int64_t ch = 0; ch < c; ch += kLanes) {
#pragma GCC unroll 8
      for (int i = 0; i < A; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < A; ++j) d[i][j] = rows[i][j] ? Load(rows[i][j] + ch) : Lanes{};
      LeftMultiply<A, A>(W::kBT, d, tmp);                       // tmp = B^T d
      RightMultiplyTransposed<A, A, A>(W::kBT, tmp, Lanes{}, v_tile);  // V = tmp B
#pragma GCC unroll 8
      for (int i = 0; i < A; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < A; ++j) Store(out + (i * A + j) * c + ch, v_tile[i][j]);
    }
  }
}

// Writes a tile's output vectors into a channels-last [H, W, out_k] map.
struct StoreSink {
  float* out;
  int64_t w, out_k;
  template <int M>
  ANIMERUN_ALWAYS_INLINE void operator()(int64_t r0, int64_t c0, int rows, int cols, int64_t ch,
                                         const Lanes (&y)[M][M], int lanes) const {
    for (int p = 0; p < rows; ++p)
      for (int q = 0; q < cols; ++q) {
        float* dst = out + ((r0 + p) * w + c0 + q) * out_k + ch;
        if (lanes == kLanes) {
          Store(dst, y[p][q]);
        } else {
          float buf[kLanes];
          Store(buf, y[p][q]);
          std::memcpy(dst, buf, static_cast<size_t>(lanes) * sizeof(float));
        }
      }
  }
};

// Adds a tile's output vectors, in double, to their segments' sums [N, out_k] and to the
// channels' sums of squares [out_k] (the channels' sums are those of the segment sums, added
// once at the end). A tile inside one segment (most of them) is summed in float first (4 or
// 16 values) and added once.
struct PoolSink {
  const int64_t* segments;  // [H * W] ids in [0, N), checked by the caller
  int64_t w, out_k;
  double* sums;
  double* channel_sum_sq;

  // dst[0..16) += v in double: two 8-double vector adds (a loop that may stop early, for
  // partial vectors, stays scalar).
  ANIMERUN_ALWAYS_INLINE static void AddDouble(double* dst, const Lanes& v) {
    const Doubles lo = __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7), Doubles);
    const Doubles hi = __builtin_convertvector(__builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15), Doubles);
    StoreDoubles(dst, LoadDoubles(dst) + lo);
    StoreDoubles(dst + 8, LoadDoubles(dst + 8) + hi);
  }

  ANIMERUN_ALWAYS_INLINE void Add(int64_t segment, int64_t ch, const Lanes& sum, const Lanes& sum_sq, int lanes) const {
    double* dst = sums + segment * out_k + ch;
    double* q = channel_sum_sq + ch;
    if (lanes == kLanes) {
      AddDouble(dst, sum);
      AddDouble(q, sum_sq);
      return;
    }
    for (int l = 0; l < lanes; ++l) {
      dst[l] += static_cast<double>(sum[l]);
      q[l] += static_cast<double>(sum_sq[l]);
    }
  }

  template <int M>
  ANIMERUN_ALWAYS_INLINE void operator()(int64_t r0, int64_t c0, int rows, int cols, int64_t ch,
                                         const Lanes (&y)[M][M], int lanes) const {
    const int64_t first = segments[r0 * w + c0];
    bool uniform = rows == M && cols == M;
    for (int p = 0; p < M && uniform; ++p)
      for (int q = 0; q < M; ++q) uniform &= segments[(r0 + p) * w + c0 + q] == first;
    if (uniform) {
      Lanes sum = {}, sum_sq = {};
#pragma GCC unroll 8
      for (int p = 0; p < M; ++p)
#pragma GCC unroll 8
        for (int q = 0; q < M; ++q) {
          sum += y[p][q];
          sum_sq += y[p][q] * y[p][q];
        }
      Add(first, ch, sum, sum_sq, lanes);
      return;
    }
    for (int p = 0; p < rows; ++p)
      for (int q = 0; q < cols; ++q) Add(segments[(r0 + p) * w + c0 + q], ch, y[p][q], y[p][q] * y[p][q], lanes);
  }
};

// The output transform of the tiles [begin, end) of the block starting at tile t0: the
// vectors (A^T m A)[p][q] + bias of output pixel (ty * M + p, tx * M + q) go to sink;
// pixels past the image's edge are dropped. k is a multiple of kLanes.
template <int M, typename Sink>
ANIMERUN_ALWAYS_INLINE void TransformOutputBody(const float* m, const float* bias, int64_t h, int64_t w, int64_t k,
                                                int64_t out_k, int64_t tiles_w, int64_t t0, int64_t begin,
                                                int64_t end, const Sink& sink) {
  using W = Winograd<M>;
  constexpr int A = W::kA;
  Lanes in[A][A], tmp[M][A];
  for (int64_t t = begin; t < end; ++t) {
    const int64_t ty = t / tiles_w, tx = t % tiles_w;
    const float* src = m + (t - t0) * A * A * k;
    for (int64_t ch = 0; ch < k; ch += kLanes) {
#pragma GCC unroll 8
      for (int i = 0; i < A; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < A; ++j) in[i][j] = Load(src + (i * A + j) * k + ch);
      LeftMultiply<M, A>(W::kAT, in, tmp);  // tmp = A^T m
      const Lanes b = Load(bias + ch);
      const int lanes = static_cast<int>(std::min<int64_t>(kLanes, out_k - ch));
      if (lanes <= 0) break;
      Lanes y[M][M];
      RightMultiplyTransposed<M, M, A>(W::kAT, tmp, b, y);  // y = tmp A + bias
      const int64_t r0 = ty * M, c0 = tx * M;
      sink.template operator()<M>(r0, c0, static_cast<int>(std::min<int64_t>(M, h - r0)),
                                  static_cast<int>(std::min<int64_t>(M, w - c0)), ch, y, lanes);
    }
  }
}

// One copy of each transform per instruction set, picked when the program loads (GCC's
// target_clones, cpu_clones.h): AVX-512 where the CPU has it, AVX2, or the x86-64 baseline.
ANIMERUN_CPU_CLONES void TransformInput2(const float* x, int64_t h, int64_t w, int64_t c, int64_t tiles_w,
                                              int64_t t0, int64_t begin, int64_t end, float* v) {
  TransformInputBody<2>(x, h, w, c, tiles_w, t0, begin, end, v);
}
ANIMERUN_CPU_CLONES void TransformInput4(const float* x, int64_t h, int64_t w, int64_t c, int64_t tiles_w,
                                              int64_t t0, int64_t begin, int64_t end, float* v) {
  TransformInputBody<4>(x, h, w, c, tiles_w, t0, begin, end, v);
}
ANIMERUN_CPU_CLONES void TransformOutput2(const float* m, const float* bias, int64_t h, int64_t w, int64_t k,
                                               int64_t out_k, int64_t tiles_w, int64_t t0, int64_t begin,
                                               int64_t end, const StoreSink& sink) {
  TransformOutputBody<2>(m, bias, h, w, k, out_k, tiles_w, t0, begin, end, sink);
}
ANIMERUN_CPU_CLONES void TransformOutput4(const float* m, const float* bias, int64_t h, int64_t w, int64_t k,
                                               int64_t out_k, int64_t tiles_w, int64_t t0, int64_t begin,
                                               int64_t end, const StoreSink& sink) {
  TransformOutputBody<4>(m, bias, h, w, k, out_k, tiles_w, t0, begin, end, sink);
}
ANIMERUN_CPU_CLONES void TransformPool2(const float* m, const float* bias, int64_t h, int64_t w, int64_t k,
                                             int64_t out_k, int64_t tiles_w, int64_t t0, int64_t begin, int64_t end,
                                             const PoolSink& sink) {
  TransformOutputBody<2>(m, bias, h, w, k, out_k, tiles_w, t0, begin, end, sink);
}
ANIMERUN_CPU_CLONES void TransformPool4(const float* m, const float* bias, int64_t h, int64_t w, int64_t k,
                                             int64_t out_k, int64_t tiles_w, int64_t t0, int64_t begin, int64_t end,
                                             const PoolSink& sink) {
  TransformOutputBody<4>(m, bias, h, w, k, out_k, tiles_w, t0, begin, end, sink);
}

// The steps shared by both entry points: pads channels to whole vectors, transforms the
// weights, and for each block of tiles transforms the input, multiplies, and calls
// emit(t0, t1, products, padded bias, k) for the output transform.
template <int M, typename Emit>
void RunBlocks(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, const Emit& emit) {
  constexpr int A = Winograd<M>::kA;
  const int64_t c_in = x.size(1), h = x.size(2), w = x.size(3), k_out = weight.size(0);
  // Channels padded to whole vectors (zero input channels, zero filters), a no-op for
  // AnT's 32 -> 64 and 64 -> 128 layers.
  const int64_t c = (c_in + kLanes - 1) / kLanes * kLanes, k = (k_out + kLanes - 1) / kLanes * kLanes;
  torch::Tensor input = x.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::Tensor wpad = weight.to(torch::kFloat);
  torch::Tensor bpad = bias.defined() ? bias.to(torch::kFloat) : torch::zeros({k_out});
  if (c != c_in) input = torch::constant_pad_nd(input, {0, 0, 0, 0, 0, c - c_in}).contiguous(torch::MemoryFormat::ChannelsLast);
  if (c != c_in || k != k_out) wpad = torch::constant_pad_nd(wpad, {0, 0, 0, 0, 0, c - c_in, 0, k - k_out});
  if (k != k_out) bpad = torch::constant_pad_nd(bpad, {0, k - k_out});
  bpad = bpad.contiguous();
  // The (M+2)^2 products [tiles x C] x [C x K] run as one grouped 1x1 convolution, a group
  // per position xi: LibTorch hands it to oneDNN, which runs it near the CPU's peak
  // (OpenBLAS's batched products reached a third of it). U[xi] [C, K] -> weight
  // [xi * K + k, c, 1, 1].
  const torch::Tensor u = TransformWeights<M>(wpad).permute({0, 2, 1}).reshape({A * A * k, c, 1, 1}).contiguous();
  const auto layout = x.options().memory_format(torch::MemoryFormat::ChannelsLast);
  const int64_t tiles_h = (h + M - 1) / M, tiles_w = (w + M - 1) / M, tiles = tiles_h * tiles_w;
  // Tiles per block: measured best near 1024 for AnT's layers (fewer calls against data that
  // stays in the last-level cache between the three steps).
  const int64_t block_tiles = std::min<int64_t>(tiles, 1024);
  torch::Tensor v = torch::empty({1, A * A * c, 1, block_tiles}, layout);  // [t][xi][c]
  const float* in_ptr = input.data_ptr<float>();
  for (int64_t t0 = 0; t0 < tiles; t0 += block_tiles) {
    const int64_t t1 = std::min(tiles, t0 + block_tiles), n = t1 - t0;
    float* v_ptr = v.data_ptr<float>();
    at::parallel_for(t0, t1, 16, [&](int64_t begin, int64_t end) {
      (M == 2 ? TransformInput2 : TransformInput4)(in_ptr, h, w, c, tiles_w, t0, begin, end, v_ptr);
    });
    const torch::Tensor prod = at::conv2d(v.narrow(3, 0, n), u, torch::Tensor(), at::IntArrayRef{1, 1},
                                          at::IntArrayRef{0, 0}, at::IntArrayRef{1, 1}, A * A)
                                   .contiguous(torch::MemoryFormat::ChannelsLast);  // [t][xi][k]
    emit(t0, t1, prod.data_ptr<float>(), bpad.data_ptr<float>(), k);
  }
}

void CheckArguments(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, int tile_size) {
  if (x.dim() != 4 || x.size(0) != 1 || !x.is_cpu() || x.scalar_type() != torch::kFloat)
    throw std::invalid_argument("WinogradConv3x3: input must be a float CPU [1, C, H, W] tensor, got " +
                                c10::str(x.sizes(), " ", x.scalar_type()));
  if (weight.dim() != 4 || weight.size(1) != x.size(1) || weight.size(2) != 3 || weight.size(3) != 3)
    throw std::invalid_argument("WinogradConv3x3: weight must be [K, " + std::to_string(x.size(1)) +
                                ", 3, 3], got " + c10::str(weight.sizes()));
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
    throw std::invalid_argument("WinogradConv3x3: bias must be [" + std::to_string(weight.size(0)) + "]");
  if (tile_size != 2 && tile_size != 4)
    throw std::invalid_argument("WinogradConv3x3: tile_size must be 2 or 4, got " + std::to_string(tile_size));
}

template <int M>
torch::Tensor Convolve(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const int64_t h = x.size(2), w = x.size(3), k_out = weight.size(0), tiles_w = (w + M - 1) / M;
  torch::Tensor out = torch::empty({1, k_out, h, w}, x.options().memory_format(torch::MemoryFormat::ChannelsLast));
  const StoreSink sink{out.data_ptr<float>(), w, k_out};
  RunBlocks<M>(x, weight, bias, [&](int64_t t0, int64_t t1, const float* m, const float* b, int64_t k) {
    at::parallel_for(t0, t1, 16, [&](int64_t begin, int64_t end) {
      (M == 2 ? TransformOutput2 : TransformOutput4)(m, b, h, w, k, k_out, tiles_w, t0, begin, end, sink);
    });
  });
  return out;
}

template <int M>
WinogradSegmentSums Pool(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                         const torch::Tensor& ids, int64_t num_segments) {
  const int64_t h = x.size(2), w = x.size(3), k_out = weight.size(0), tiles_w = (w + M - 1) / M;
  // Each block's tiles are cut into kParts fixed ranges, each adding into its own sums; the
  // parts are added in order at the end, so the sums do not depend on the thread count.
  constexpr int64_t kParts = 8;
  const auto dbl = torch::TensorOptions().dtype(torch::kDouble);
  torch::Tensor sums = torch::zeros({kParts, num_segments, k_out}, dbl);
  torch::Tensor squares = torch::zeros({kParts, k_out}, dbl);
  const int64_t* seg = ids.data_ptr<int64_t>();
  RunBlocks<M>(x, weight, bias, [&](int64_t t0, int64_t t1, const float* m, const float* b, int64_t k) {
    const int64_t per_part = (t1 - t0 + kParts - 1) / kParts;
    at::parallel_for(0, kParts, 1, [&](int64_t p0, int64_t p1) {
      for (int64_t part = p0; part < p1; ++part) {
        const int64_t begin = t0 + part * per_part, end = std::min(t1, begin + per_part);
        if (begin >= end) continue;
        const PoolSink sink{seg, w, k_out, sums[part].data_ptr<double>(), squares[part].data_ptr<double>()};
        (M == 2 ? TransformPool2 : TransformPool4)(m, b, h, w, k, k_out, tiles_w, t0, begin, end, sink);
      }
    });
  });
  WinogradSegmentSums result;
  result.sums = sums[0].clone();
  result.channel_sum_sq = squares[0].clone();
  for (int64_t part = 1; part < kParts; ++part) {
    result.sums.add_(sums[part]);
    result.channel_sum_sq.add_(squares[part]);
  }
  // Every pixel is in exactly one segment.
  result.channel_sum = result.sums.sum(0);
  return result;
}

}  // namespace

torch::Tensor WinogradConv3x3(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              int tile_size) {
  CheckArguments(x, weight, bias, tile_size);
  return tile_size == 2 ? Convolve<2>(x, weight, bias) : Convolve<4>(x, weight, bias);
}

WinogradSegmentSums WinogradConv3x3SegmentSums(const torch::Tensor& x, const torch::Tensor& weight,
                                               const torch::Tensor& bias, const torch::Tensor& segments,
                                               int64_t num_segments, int tile_size) {
  CheckArguments(x, weight, bias, tile_size);
  if (segments.numel() != x.size(2) * x.size(3) || !segments.is_cpu())
    throw std::invalid_argument("WinogradConv3x3SegmentSums: segments must be a CPU map of " +
                                std::to_string(x.size(2)) + "x" + std::to_string(x.size(3)) + " ids, got " +
                                c10::str(segments.sizes()));
  const torch::Tensor ids = segments.reshape({-1}).to(torch::kLong).contiguous();
  if (num_segments <= 0) throw std::invalid_argument("WinogradConv3x3SegmentSums: num_segments must be > 0");
  const auto [lo, hi] = torch::aminmax(ids);
  if (lo.item<int64_t>() < 0 || hi.item<int64_t>() >= num_segments)
    throw std::invalid_argument("WinogradConv3x3SegmentSums: segment id out of range [0, " +
                                std::to_string(num_segments) + ")");
  return tile_size == 2 ? Pool<2>(x, weight, bias, ids, num_segments) : Pool<4>(x, weight, bias, ids, num_segments);
}

}  // namespace animerun::models

#undef ANIMERUN_ALWAYS_INLINE
#pragma GCC diagnostic pop
