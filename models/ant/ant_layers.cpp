#include "models/ant/ant_layers.h"
#include "models/common/bf16_winograd_conv.h"
#include "models/common/channel_block_maps.h"
#include "models/common/cpu_clones.h"
#include "models/common/dnnl_winograd_conv.h"
#include "models/common/memory_format.h"
#include "models/common/module_precision.h"
#include "models/common/small_attention.h"
#include "models/common/winograd_conv.h"

#include <algorithm>
#include <cmath>
#include <vector>
#include <stdexcept>
#include <string>

namespace animerun::models {

namespace {

constexpr double kInstanceNormEps = 1e-5;  // nn.InstanceNorm1d/2d default
// Pixels per band of AnT's layer3 in channel blocks: 32 rows at 960 wide, 60 MB of oneDNN
// scratch; bands of 32 to 540 rows took about the same time per row (docs/benchmarks.md).
constexpr int64_t kLayer3BandPixels = 32768;

torch::nn::Conv1d PointwiseConv(int64_t in, int64_t out) {
  return torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 1).bias(true));
}

// Whether x takes part in autograd (training): then no in-place updates of tensors that
// backward still needs.
bool NeedsGrad(const torch::Tensor& x) { return torch::GradMode::is_enabled() && x.requires_grad(); }

// Throws unless every id lies in [0, n).
void CheckSegmentIds(const torch::Tensor& ids, int64_t n, const char* what) {
  const auto [lo, hi] = torch::aminmax(ids);
  if (lo.item<int64_t>() < 0 || hi.item<int64_t>() >= n)
    throw std::invalid_argument(std::string(what) + ": segment id out of range [0, " + std::to_string(n) + ")");
}

// sums[index[p]] += rows[p] for float rows [HW, C] (contiguous) on the CPU, each thread
// owning a range of channels. scatter_add_ took 0.2 s per 960x540 frame at 128 channels
// (it walks an index per element); this is one pass over the rows.
void SumRowsBySegment(const torch::Tensor& rows, const torch::Tensor& index, torch::Tensor& sums) {
  const int64_t hw = rows.size(0), c = rows.size(1), n = sums.size(0);
  if (hw == 0) return;
  CheckSegmentIds(index, n, "SegmentMeanPool");
  const auto idx = index.contiguous();
  const int64_t* id = idx.data_ptr<int64_t>();
  const float* x = rows.data_ptr<float>();
  float* out = sums.data_ptr<float>();
  at::parallel_for(0, c, 16, [&](int64_t c0, int64_t c1) {
    for (int64_t p = 0; p < hw; ++p) {
      const float* src = x + p * c;
      float* dst = out + id[p] * c;
      for (int64_t k = c0; k < c1; ++k) dst[k] += src[k];
    }
  });
}

// AntInstanceNorm of a channels-last [B, C, H, W] map on the CPU into a float map `out` of
// the same shape and layout (the map itself for float input: in place): one read for every
// channel's sum and sum of squares, one read and write to normalise (and ReLU). The generic
// path makes five passes and a full-size temporary for the squares (253 MB per image for
// AnT's last layer at 960x540). The sums are taken in double per fixed block of rows and
// added in block order, so the result does not depend on the thread count, and
// E[x^2] - E[x]^2 in double loses nothing that matters in float. In = float, or
// c10::BFloat16 (layer1 in bf16: converted as it is read, no float copy first).
template <typename In>
void InstanceNormChannelsLast(const torch::Tensor& x, torch::Tensor& out, bool relu) {
  constexpr int64_t kRowsPerBlock = 4096;
  const int64_t batch = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  if (hw == 0) return;
  const int64_t blocks = (hw + kRowsPerBlock - 1) / kRowsPerBlock;
  std::vector<double> partial(static_cast<size_t>(blocks * 2 * c));
  std::vector<float> mean(static_cast<size_t>(c)), scale(static_cast<size_t>(c));
  for (int64_t i = 0; i < batch; ++i) {
    const In* map = x.data_ptr<In>() + i * hw * c;  // rows [hw, c]
    float* dst = out.data_ptr<float>() + i * hw * c;
    std::fill(partial.begin(), partial.end(), 0.0);
    at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t blk = b0; blk < b1; ++blk) {
        double* sum = partial.data() + blk * 2 * c;
        double* sum_sq = sum + c;
        const int64_t end = std::min(hw, (blk + 1) * kRowsPerBlock);
        for (int64_t p = blk * kRowsPerBlock; p < end; ++p) {
          const In* row = map + p * c;
          for (int64_t k = 0; k < c; ++k) {
            const double v = static_cast<float>(row[k]);
            sum[k] += v;
            sum_sq[k] += v * v;
          }
        }
      }
    });
    for (int64_t k = 0; k < c; ++k) {
      double s = 0.0, q = 0.0;
      for (int64_t blk = 0; blk < blocks; ++blk) {
        s += partial[static_cast<size_t>(blk * 2 * c + k)];
        q += partial[static_cast<size_t>(blk * 2 * c + c + k)];
      }
      const double m = s / static_cast<double>(hw);
      const double var = std::max(q / static_cast<double>(hw) - m * m, 0.0);
      mean[static_cast<size_t>(k)] = static_cast<float>(m);
      scale[static_cast<size_t>(k)] = static_cast<float>(1.0 / std::sqrt(var + kInstanceNormEps));
    }
    const float* mu = mean.data();
    const float* sc = scale.data();
    at::parallel_for(0, hw, kRowsPerBlock, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const In* row = map + p * c;
        float* to = dst + p * c;
        if (relu) {
          for (int64_t k = 0; k < c; ++k) to[k] = std::max((static_cast<float>(row[k]) - mu[k]) * sc[k], 0.0f);
        } else {
          for (int64_t k = 0; k < c; ++k) to[k] = (static_cast<float>(row[k]) - mu[k]) * sc[k];
        }
      }
    });
  }
}

void InstanceNormChannelsLastInPlace(torch::Tensor& x, bool relu) { InstanceNormChannelsLast<float>(x, x, relu); }

// One copy per instruction set of the loops below (GCC's target_clones, cpu_clones.h).

// AntInstanceNorm in place over the last dimension of a float CPU [B, C, N] tensor whose
// rows are contiguous (the graph network's [1, 2d, n0] halves of a [1, 2d, n0 + n1] map):
// the generic path's five tensor operations per call cost more than their arithmetic on
// 400 points. Mean, then the centred sum of squares, in double, per row.
ANIMERUN_CPU_CLONES void NormaliseRow(float* row, int64_t n, bool relu) {
  constexpr int kAcc = 8;  // independent partial sums, so the additions pipeline
  double acc[kAcc] = {};
  int64_t j = 0;
  for (; j + kAcc <= n; j += kAcc)
    for (int k = 0; k < kAcc; ++k) acc[k] += row[j + k];
  for (; j < n; ++j) acc[0] += row[j];
  double total = 0.0;
  for (int k = 0; k < kAcc; ++k) total += acc[k];
  const double mean = total / static_cast<double>(n);
  double sq[kAcc] = {};
  for (j = 0; j + kAcc <= n; j += kAcc)
    for (int k = 0; k < kAcc; ++k) {
      const double d = row[j + k] - mean;
      sq[k] += d * d;
    }
  for (; j < n; ++j) sq[0] += (row[j] - mean) * (row[j] - mean);
  double var = 0.0;
  for (int k = 0; k < kAcc; ++k) var += sq[k];
  const float m = static_cast<float>(mean);
  const float scale = static_cast<float>(1.0 / std::sqrt(var / static_cast<double>(n) + kInstanceNormEps));
  if (relu) {
    for (j = 0; j < n; ++j) row[j] = std::max((row[j] - m) * scale, 0.0f);
  } else {
    for (j = 0; j < n; ++j) row[j] = (row[j] - m) * scale;
  }
}

void InstanceNormRowsInPlace(torch::Tensor& x, bool relu) {
  const int64_t c = x.size(1), n = x.size(2), s0 = x.stride(0), s1 = x.stride(1);
  if (n == 0) return;
  float* base = x.data_ptr<float>();
  at::parallel_for(0, x.size(0) * c, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) NormaliseRow(base + (r / c) * s0 + (r % c) * s1, n, relu);
  });
}

// Adds each segment's sum of the pixels of one channel block [rows * W, 16] into sums, and
// the block's channel sums and sums of squares, in double. One thread per channel block,
// pixels in order: the sums do not depend on the thread count. Segments are runs of pixels
// along a row, so a run is summed in registers and added to its segment's row once.
ANIMERUN_CPU_CLONES void SumBlockBySegment(const float* x, const int64_t* id, int64_t pixels, int64_t stride,
                                           double* sums, double* sum, double* sum_sq) {
  double total[16] = {}, total_sq[16] = {};
  for (int64_t p = 0; p < pixels;) {
    const int64_t segment = id[p];
    double run[16] = {};
    for (; p < pixels && id[p] == segment; ++p) {
      const float* v = x + p * 16;
      for (int j = 0; j < 16; ++j) {
        const double d = v[j];
        run[j] += d;
        total_sq[j] += d * d;
      }
    }
    double* s = sums + segment * stride;
    for (int j = 0; j < 16; ++j) {
      s[j] += run[j];
      total[j] += run[j];
    }
  }
  for (int j = 0; j < 16; ++j) {
    sum[j] += total[j];
    sum_sq[j] += total_sq[j];
  }
}

// The first `rows` rows of a band of channel blocks [K / 16, R, W, 16] into r, ids the
// band's first row's segment ids.
void AddSegmentSumsOfBand(const torch::Tensor& band, int64_t rows, const int64_t* ids, WinogradSegmentSums& r) {
  const int64_t cb = band.size(0), band_floats = band.size(1) * band.size(2) * 16, c = cb * 16;
  const int64_t pixels = rows * band.size(2);
  const float* data = band.data_ptr<float>();
  double* sums = r.sums.data_ptr<double>();
  double* sum = r.channel_sum.data_ptr<double>();
  double* sum_sq = r.channel_sum_sq.data_ptr<double>();
  at::parallel_for(0, cb, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      SumBlockBySegment(data + b * band_floats, ids, pixels, c, sums + b * 16, sum + b * 16, sum_sq + b * 16);
  });
}

}  // namespace

torch::Tensor PointwiseConv1d(const torch::nn::Conv1dImpl& conv, const torch::Tensor& x) {
  const torch::Tensor w = conv.weight.squeeze(-1);  // [out, in]
  const torch::Tensor b = conv.bias.unsqueeze(-1);  // [out, 1]
  if (x.size(0) == 1) return torch::addmm(b, w, x.select(0, 0)).unsqueeze(0);
  return torch::baddbmm(b.unsqueeze(0), w.unsqueeze(0).expand({x.size(0), -1, -1}), x);
}

AntMlpImpl::AntMlpImpl(const std::vector<int64_t>& channels) {
  if (channels.size() < 2) throw std::invalid_argument("AntMlp: needs at least two channel counts");
  for (size_t i = 1; i < channels.size(); ++i) {
    convs_.push_back(register_module(std::to_string(3 * (i - 1)), PointwiseConv(channels[i - 1], channels[i])));
  }
}

torch::Tensor AntMlpImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = x;
  for (size_t i = 0; i < convs_.size(); ++i) {
    y = PointwiseConv1d(*convs_[i], y);
    if (i + 1 < convs_.size()) y = AntInstanceNorm(y, /*relu=*/true);
  }
  return y;
}

torch::Tensor AntMlpImpl::ForwardPair(const torch::Tensor& x, int64_t n0) {
  torch::Tensor y = x;
  const int64_t n = x.size(2);
  for (size_t i = 0; i < convs_.size(); ++i) {
    y = PointwiseConv1d(*convs_[i], y);
    if (i + 1 < convs_.size()) {
      AntInstanceNorm(y.narrow(2, 0, n0), /*relu=*/true);  // in place on each frame's columns
      AntInstanceNorm(y.narrow(2, n0, n - n0), /*relu=*/true);
    }
  }
  return y;
}

torch::Tensor AntInstanceNorm(torch::Tensor x, bool relu) {
  std::vector<int64_t> dims;
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  if (NeedsGrad(x)) {
    const auto [var, mean] = torch::var_mean(x, dims, /*unbiased=*/false, /*keepdim=*/true);
    torch::Tensor y = (x - mean) * torch::rsqrt(var + kInstanceNormEps);
    return relu ? torch::relu(y) : y;
  }
  if (x.dim() == 4 && x.is_cpu() && x.scalar_type() == torch::kFloat &&
      x.is_contiguous(torch::MemoryFormat::ChannelsLast) && !x.is_contiguous()) {
    InstanceNormChannelsLastInPlace(x, relu);
    return x;
  }
  // Rows that do not overlap (no expanded dimension): each is written by one thread.
  if (x.dim() == 3 && x.is_cpu() && x.scalar_type() == torch::kFloat && x.stride(2) == 1 &&
      x.stride(1) >= x.size(2) && (x.size(0) == 1 || x.stride(0) >= x.size(1) * x.stride(1))) {
    InstanceNormRowsInPlace(x, relu);
    return x;
  }
  // Two passes in place: var_mean's Welford reduction is ~3x slower than a plain mean on
  // full-resolution maps, and centring first keeps the variance as accurate.
  x.sub_(x.mean(dims, /*keepdim=*/true));
  x.mul_(torch::rsqrt(x.square().mean(dims, /*keepdim=*/true) + kInstanceNormEps));
  if (relu) x.relu_();
  return x;
}

void AntMlpImpl::CountFlops(FlopCount& count, const std::string& part, int64_t batch, int64_t points) const {
  for (const auto& conv : convs_) count.Conv1d(part, *conv, batch, points);
}

void AntEncoderImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w) const {
  auto size = count.Conv("encoder", *layer1_, batch, h, w);
  size = count.Conv("encoder", *layer2_, batch, size.first, size.second);
  count.Conv("encoder", *layer3_, batch, size.first, size.second);
}

AntEncoderImpl::AntEncoderImpl(int64_t enc_dim) {
  using torch::nn::Conv2d;
  using torch::nn::Conv2dOptions;
  layer1_ = register_module("layer1", Conv2d(Conv2dOptions(3, enc_dim / 4, 7).padding(3)));
  layer2_ = register_module("layer2", Conv2d(Conv2dOptions(enc_dim / 4, enc_dim / 2, 3).padding(1)));
  layer3_ = register_module("layer3", Conv2d(Conv2dOptions(enc_dim / 2, enc_dim, 3).padding(1)));
  // The original's initialisation (kaiming normal, fan_out, zero bias), for training from scratch.
  for (auto* conv : {&layer1_, &layer2_, &layer3_}) {
    torch::NoGradGuard no_grad;
    torch::nn::init::kaiming_normal_((*conv)->weight, 0.0, torch::kFanOut, torch::kReLU);
    torch::nn::init::constant_((*conv)->bias, 0.0);
  }
}

torch::Tensor AntEncoderImpl::Layer1AndNorm1(const torch::Tensor& img) {
  // Channels-last makes oneDNN's CPU convolutions markedly faster at full resolution, in
  // inference (ConvFormat).
  // In layer1's dtype (bf16 after UsePrecision), then in layer2's: fp32 where only layer1
  // runs in bf16, so that the norm and the Winograd layers run in fp32.
  const torch::Tensor x0 = img.to(layer1_->weight.scalar_type()).contiguous(ConvFormat(img));
  const torch::Tensor y = layer1_->forward(x0);
  if (y.scalar_type() == torch::kBFloat16 && layer2_->weight.scalar_type() == torch::kFloat && y.dim() == 4 &&
      y.is_cpu() && y.is_contiguous(torch::MemoryFormat::ChannelsLast) && !NeedsGrad(y)) {
    // Normalised straight into fp32: one pass less over the map than converting it first.
    torch::Tensor out = torch::empty(y.sizes(), y.options().dtype(torch::kFloat).memory_format(
                                                    torch::MemoryFormat::ChannelsLast));
    InstanceNormChannelsLast<c10::BFloat16>(y, out, /*relu=*/true);
    return out;
  }
  return AntInstanceNorm(y.to(layer2_->weight.scalar_type()), /*relu=*/true);
}

bool AntEncoderImpl::OneDnnLayersApply() const {
  return convolutions_ == Convolutions::kBest && DnnlWinogradBlocksApply(layer2_->weight) &&
         DnnlWinogradBlocksApply(layer3_->weight);
}

void AntEncoderImpl::UsePrecision(ModulePrecision& precision, const std::string& name) {
  if (name == "bf16" && OneDnnLayersApply()) {
    precision.Use(*layer1_, name);
  } else {
    precision.Use(*this, name);
  }
}

bool AntEncoderImpl::Layer3ProductsInBf16() const {
  return layer1_->weight.scalar_type() == torch::kBFloat16 && Bf16WinogradAvailable();
}

torch::Tensor AntEncoderImpl::ForwardBeforeLayer3(const torch::Tensor& img) {
  return AntInstanceNorm(Conv3x3(layer2_, Layer1AndNorm1(img)), /*relu=*/true);
}

torch::Tensor AntEncoderImpl::forward_before_norm3(const torch::Tensor& img) {
  return Conv3x3(layer3_, ForwardBeforeLayer3(img));
}

bool AntEncoderImpl::WinogradApplies(const torch::nn::Conv2d& layer, const torch::Tensor& x) const {
  const bool inference = !torch::GradMode::is_enabled() || (!x.requires_grad() && !layer->weight.requires_grad());
  return convolutions_ != Convolutions::kLibTorch && inference && x.is_cpu() && x.scalar_type() == torch::kFloat &&
         x.dim() == 4 && x.size(0) == 1 && layer->weight.scalar_type() == torch::kFloat;
}

torch::Tensor AntEncoderImpl::Conv3x3(torch::nn::Conv2d& layer, const torch::Tensor& x) {
  // oneDNN runs the direct convolution at the CPU's fp32 peak already; F(2x2, 3x3) does 2.25x
  // fewer multiplies with the rounding of the direct one (tests): AnT's 64 -> 128 layer at
  // 960x540 0.36 -> 0.29 s on 2 Zen 4 cores (docs/benchmarks.md). Autograd, bf16, batches and
  // GPUs keep LibTorch's convolution.
  if (WinogradApplies(layer, x)) {
    torch::NoGradGuard no_grad;
    return WinogradConv3x3(x, layer->weight, layer->bias, /*tile_size=*/2);
  }
  return layer->forward(x);
}

torch::Tensor AntEncoderImpl::SegmentMeans(const torch::Tensor& img, const torch::Tensor& segments,
                                           int64_t num_segments) {
  const auto check_size = [&](const torch::Tensor& x) {
    if (segments.size(1) != x.size(2) || segments.size(2) != x.size(3))
      throw std::invalid_argument("AntEncoder::SegmentMeans: segments " + c10::str(segments.sizes()) +
                                  " do not match the image " + c10::str(img.sizes()));
  };
  const bool one_map = segments.dim() == 3 && segments.size(0) == 1 && num_segments > 0;
  torch::Tensor x1 = Layer1AndNorm1(img);
  WinogradSegmentSums r;
  if (one_map && OneDnnLayersApply() && WinogradApplies(layer2_, x1) && WinogradApplies(layer3_, x1)) {
    // oneDNN's F(4x4, 3x3) from layer2 to layer3 in channel blocks: 4x fewer multiplies
    // than the direct kernels, and no reorder between the layers (35-40 + 165 ms per 960x540
    // frame for both layers' products, against 140 + 330 ms for F(2x2) with the pooled output
    // transform; docs/benchmarks.md).
    check_size(x1);
    torch::NoGradGuard no_grad;
    const torch::Tensor ids = segments[0].reshape({-1}).to(torch::kCPU).to(torch::kLong).contiguous();
    CheckSegmentIds(ids, num_segments, "AntEncoder::SegmentMeans");
    torch::Tensor x1_blocks = ToChannelBlocks(x1);
    x1 = torch::Tensor();  // each map is freed as soon as the next exists
    torch::Tensor x2 = DnnlWinogradConv3x3Blocks(x1_blocks, layer2_->weight, layer2_->bias);
    x1_blocks = torch::Tensor();
    InstanceNormBlocksInPlace(x2, /*relu=*/true);  // channel_block_maps.h
    // layer3 in bands of rows, each summed as it comes: its full output (253 MB) and
    // oneDNN's transformed tiles for the whole map (903 MB) are never held.
    const int64_t k = layer3_->weight.size(0), w = x2.size(2);
    r = WinogradSegmentSums{torch::zeros({num_segments, k}, torch::kDouble), torch::zeros({k}, torch::kDouble),
                            torch::zeros({k}, torch::kDouble)};
    const int64_t* id = ids.data_ptr<int64_t>();
    const BandSink add_sums = [&](const torch::Tensor& band, int64_t row0, int64_t rows) {
      AddSegmentSumsOfBand(band, rows, id + row0 * w, r);
    };
    if (Layer3ProductsInBf16()) {
      Bf16WinogradConv3x3Bands(x2, layer3_->weight, layer3_->bias, kLayer3BandPixels, add_sums);
    } else {
      DnnlWinogradConv3x3Bands(x2, layer3_->weight, layer3_->bias, kLayer3BandPixels, add_sums);
    }
  } else {
    const torch::Tensor x = AntInstanceNorm(Conv3x3(layer2_, x1), /*relu=*/true);
    if (!one_map || !WinogradApplies(layer3_, x))
      return SegmentMeanPool(Layer3AndNorm3(x), segments, num_segments);
    check_size(x);
    torch::NoGradGuard no_grad;
    r = WinogradConv3x3SegmentSums(x, layer3_->weight, layer3_->bias, segments[0], num_segments, /*tile_size=*/2);
  }
  // norm3 (no affine) applied to the pooled means: (mean_s - mu) / sqrt(var + eps), all in
  // double, so nothing cancels; an empty segment gets 0, as pooling the normalised map gives.
  const double hw = static_cast<double>(img.size(2) * img.size(3));
  const torch::Tensor mu = r.channel_sum / hw;
  const torch::Tensor inv_std = torch::rsqrt((r.channel_sum_sq / hw - mu * mu).clamp_min(0.0) + kInstanceNormEps);
  const torch::Tensor counts = torch::bincount(segments[0].reshape({-1}).to(torch::kLong), {}, num_segments)
                                   .to(torch::kDouble)
                                   .unsqueeze(1);
  const torch::Tensor means = (r.sums / counts.clamp_min(1.0) - mu) * inv_std;
  return means.masked_fill(counts == 0, 0.0).t().unsqueeze(0).to(torch::kFloat).contiguous();
}

torch::Tensor AntEncoderImpl::Layer3AndNorm3(const torch::Tensor& x) {
  // The last norm and everything after it in fp32 (a no-op cast in fp32): the segment means
  // and the scores keep their precision when the convolutions ran in bf16.
  return AntInstanceNorm(Conv3x3(layer3_, x).to(torch::kFloat), /*relu=*/false);
}

torch::Tensor AntEncoderImpl::forward(const torch::Tensor& img) { return Layer3AndNorm3(ForwardBeforeLayer3(img)); }

torch::Tensor SegmentMeanPool(const torch::Tensor& features, const torch::Tensor& segments, int64_t num_segments,
                              torch::Tensor* counts_out) {
  if (features.dim() != 4 || segments.dim() != 3 || segments.size(0) != features.size(0) ||
      segments.size(1) != features.size(2) || segments.size(2) != features.size(3))
    throw std::invalid_argument("SegmentMeanPool: features [B, C, H, W] and segments [B, H, W] disagree: " +
                                c10::str(features.sizes()) + " vs " + c10::str(segments.sizes()));
  const int64_t b = features.size(0), c = features.size(1), hw = features.size(2) * features.size(3);
  std::vector<torch::Tensor> out, all_counts;
  for (int64_t i = 0; i < b; ++i) {
    const torch::Tensor index = segments[i].reshape({hw}).to(torch::kLong);
    // [HW, C] rows: a free view of channels-last memory. scatter_add_ along dim 0 runs as
    // one kernel on CPU and CUDA (index_add_ on a 2-D CPU tensor loops per index).
    const torch::Tensor rows = features[i].permute({1, 2, 0}).reshape({hw, c});
    torch::Tensor sums = torch::zeros({num_segments, c}, rows.options());
    if (!NeedsGrad(rows) && rows.is_cpu() && rows.scalar_type() == torch::kFloat && rows.is_contiguous()) {
      SumRowsBySegment(rows, index, sums);
    } else {
      sums = sums.scatter_add(0, index.unsqueeze(1).expand({hw, c}), rows);
    }
    const torch::Tensor counts = torch::bincount(index, {}, num_segments).to(rows.scalar_type());
    out.push_back((sums / counts.clamp_min(1).unsqueeze(1)).t());
    all_counts.push_back(counts);
  }
  if (counts_out) *counts_out = torch::stack(all_counts);
  return torch::stack(out);
}

AntSegmentDescriptorImpl::AntSegmentDescriptorImpl(int64_t enc_dim) {
  encoder_ = register_module("encoder", AntEncoder(enc_dim));
}

torch::Tensor AntSegmentDescriptorImpl::forward(const torch::Tensor& img, const torch::Tensor& segments,
                                               int64_t num_segments) {
  const torch::Tensor seg = segments.dim() == 4 ? segments.squeeze(1) : segments;
  return encoder_->SegmentMeans(img, seg, num_segments);
}

AntKeypointEncoderImpl::AntKeypointEncoderImpl(int64_t feature_dim, const std::vector<int64_t>& layers) {
  std::vector<int64_t> channels = {4};
  channels.insert(channels.end(), layers.begin(), layers.end());
  channels.push_back(feature_dim);
  encoder_ = register_module("encoder", AntMlp(channels));
  torch::NoGradGuard no_grad;
  torch::nn::init::constant_(encoder_->last()->bias, 0.0);
}

torch::Tensor AntKeypointEncoderImpl::forward(const torch::Tensor& kpts) {
  return encoder_->forward(kpts.transpose(1, 2));
}

AntMultiHeadedAttentionImpl::AntMultiHeadedAttentionImpl(int64_t num_heads, int64_t d_model)
    : num_heads_(num_heads), dim_(d_model / num_heads) {
  if (num_heads <= 0 || d_model % num_heads != 0)
    throw std::invalid_argument("AntMultiHeadedAttention: d_model " + std::to_string(d_model) +
                                " is not a multiple of num_heads " + std::to_string(num_heads));
  merge_ = register_module("merge", PointwiseConv(d_model, d_model));
  proj_ = register_module("proj", torch::nn::ModuleList());
  // deepcopy(merge) in the original: the three projections start as copies of merge.
  for (int i = 0; i < 3; ++i) {
    auto conv = PointwiseConv(d_model, d_model);
    {
      torch::NoGradGuard no_grad;
      conv->weight.copy_(merge_->weight);
      conv->bias.copy_(merge_->bias);
    }
    proj_->push_back(conv);
    proj_convs_.push_back(conv);
  }
}

torch::Tensor AntMultiHeadedAttentionImpl::forward(const torch::Tensor& query, const torch::Tensor& key,
                                                    const torch::Tensor& value) {
  const int64_t b = query.size(0);
  auto split = [&](int i, const torch::Tensor& x) {
    return PointwiseConv1d(*proj_convs_[i], x).view({b, dim_, num_heads_, -1});  // [B, dim, heads, N]
  };
  const torch::Tensor q = split(0, query).permute({0, 2, 3, 1});  // [B, heads, N, dim]
  const torch::Tensor k = split(1, key).permute({0, 2, 1, 3});    // [B, heads, dim, M]
  const torch::Tensor v = split(2, value).permute({0, 2, 3, 1});  // [B, heads, M, dim]
  const torch::Tensor scores = torch::matmul(q, k) / std::sqrt(static_cast<double>(dim_));
  const torch::Tensor prob = torch::softmax(scores, -1);
  const torch::Tensor x = torch::matmul(prob, v);  // [B, heads, N, dim]
  return PointwiseConv1d(*merge_, x.permute({0, 3, 1, 2}).reshape({b, dim_ * num_heads_, -1}));
}

torch::Tensor AntMultiHeadedAttentionImpl::ForwardPair(const torch::Tensor& x, int64_t n0, bool cross) {
  const int64_t d = dim_ * num_heads_, n = x.size(2), n1 = n - n0;
  // q, k and v of every point of both frames in one product: [3d, n].
  const torch::Tensor w = torch::cat({proj_convs_[0]->weight, proj_convs_[1]->weight, proj_convs_[2]->weight}, 0)
                              .squeeze(-1);
  const torch::Tensor b = torch::cat({proj_convs_[0]->bias, proj_convs_[1]->bias, proj_convs_[2]->bias}, 0);
  const torch::Tensor qkv = torch::addmm(b.unsqueeze(1), w, x.select(0, 0));
  if (SmallAttentionApplies(qkv, num_heads_) && n0 > 0 && n1 > 0) {
    // Heads of 32 channels (AnT's): scores, softmax and values in one kernel, both frames'
    // heads and query blocks as tasks on all threads (small_attention.h).
    const std::vector<AttentionSpan> spans = cross ? std::vector<AttentionSpan>{{0, n0, n0, n1}, {n0, n1, 0, n0}}
                                                   : std::vector<AttentionSpan>{{0, n0, 0, n0}, {n0, n1, n0, n1}};
    return torch::addmm(merge_->bias.unsqueeze(1), merge_->weight.squeeze(-1), SmallAttention(qkv, num_heads_, spans))
        .unsqueeze(0);
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(dim_));
  // Frame f's queries (columns [q0, q0 + nq)) against the sources in columns [s0, s0 + ns).
  const auto attend = [&](int64_t q0, int64_t nq, int64_t s0, int64_t ns) {
    // view(d / heads, heads, N): channel c belongs to head c % heads.
    const torch::Tensor q = qkv.narrow(0, 0, d).narrow(1, q0, nq).reshape({dim_, num_heads_, nq}).permute({1, 2, 0});
    const torch::Tensor k = qkv.narrow(0, d, d).narrow(1, s0, ns).reshape({dim_, num_heads_, ns}).permute({1, 0, 2});
    const torch::Tensor v = qkv.narrow(0, 2 * d, d).narrow(1, s0, ns).reshape({dim_, num_heads_, ns}).permute({1, 2, 0});
    const torch::Tensor prob = torch::softmax(torch::bmm(q, k).mul_(scale), -1);  // [heads, nq, ns]
    return torch::bmm(prob, v).permute({2, 0, 1}).reshape({d, nq});               // [d, nq]
  };
  const torch::Tensor m0 = cross ? attend(0, n0, n0, n1) : attend(0, n0, 0, n0);
  const torch::Tensor m1 = cross ? attend(n0, n1, 0, n0) : attend(n0, n1, n0, n1);
  return torch::addmm(merge_->bias.unsqueeze(1), merge_->weight.squeeze(-1), torch::cat({m0, m1}, 1)).unsqueeze(0);
}

void AntMultiHeadedAttentionImpl::CountFlops(FlopCount& count, int64_t batch, int64_t queries, int64_t sources) const {
  count.Conv1d("attention", *proj_convs_[0], batch, queries);
  count.Conv1d("attention", *proj_convs_[1], batch, sources);
  count.Conv1d("attention", *proj_convs_[2], batch, sources);
  // einsum('bdhn,bdhm->bhnm') and einsum('bhnm,bdhm->bdhn'): batched products per head.
  count.Matmul("attention", batch * num_heads_, queries, sources, dim_);
  count.Matmul("attention", batch * num_heads_, queries, dim_, sources);
  count.Conv1d("attention", *merge_, batch, queries);
}

void AntAttentionalPropagationImpl::CountFlops(FlopCount& count, int64_t batch, int64_t points, int64_t sources) const {
  attn_->CountFlops(count, batch, points, sources);
  mlp_->CountFlops(count, "attention", batch, points);
}

void AntAttentionalGnnImpl::CountFlops(FlopCount& count, int64_t batch, int64_t n0, int64_t n1) const {
  for (size_t i = 0; i < layer_refs_.size(); ++i) {
    // Both descriptor sets are updated per layer: from themselves (self) or the other (cross).
    layer_refs_[i]->CountFlops(count, batch, n0, cross_[i] ? n1 : n0);
    layer_refs_[i]->CountFlops(count, batch, n1, cross_[i] ? n0 : n1);
  }
}

AntAttentionalPropagationImpl::AntAttentionalPropagationImpl(int64_t feature_dim, int64_t num_heads) {
  attn_ = register_module("attn", AntMultiHeadedAttention(num_heads, feature_dim));
  mlp_ = register_module("mlp", AntMlp(std::vector<int64_t>{feature_dim * 2, feature_dim * 2, feature_dim}));
  torch::NoGradGuard no_grad;
  torch::nn::init::constant_(mlp_->last()->bias, 0.0);
}

torch::Tensor AntAttentionalPropagationImpl::forward(const torch::Tensor& x, const torch::Tensor& source) {
  const torch::Tensor message = attn_->forward(x, source, source);
  return mlp_->forward(torch::cat({x, message}, 1));
}

torch::Tensor AntAttentionalPropagationImpl::ForwardPair(const torch::Tensor& x, int64_t n0, bool cross) {
  return mlp_->ForwardPair(torch::cat({x, attn_->ForwardPair(x, n0, cross)}, 1), n0);
}

AntAttentionalGnnImpl::AntAttentionalGnnImpl(int64_t feature_dim, const std::vector<bool>& cross_layers,
                                             int64_t num_heads)
    : cross_(cross_layers) {
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (size_t i = 0; i < cross_.size(); ++i) {
    AntAttentionalPropagation layer(feature_dim, num_heads);
    layers_->push_back(layer);
    layer_refs_.push_back(layer);
  }
}

std::pair<torch::Tensor, torch::Tensor> AntAttentionalGnnImpl::forward(torch::Tensor desc0, torch::Tensor desc1) {
  if (!torch::GradMode::is_enabled() && desc0.size(0) == 1 && desc1.size(0) == 1 && desc0.is_cpu()) {
    // Inference: both frames side by side, so every projection and MLP layer is one product
    // over n0 + n1 points instead of two (on 2 cores the small products and the per-op
    // overhead cost more than their arithmetic; measured in docs/benchmarks.md).
    const int64_t n0 = desc0.size(2);
    torch::Tensor x = torch::cat({desc0, desc1}, 2);
    for (size_t i = 0; i < layer_refs_.size(); ++i) x.add_(layer_refs_[i]->ForwardPair(x, n0, cross_[i]));
    return {x.narrow(2, 0, n0), x.narrow(2, n0, x.size(2) - n0)};
  }
  for (size_t i = 0; i < layer_refs_.size(); ++i) {
    const torch::Tensor& src0 = cross_[i] ? desc1 : desc0;
    const torch::Tensor& src1 = cross_[i] ? desc0 : desc1;
    torch::Tensor delta0 = layer_refs_[i]->forward(desc0, src0);
    torch::Tensor delta1 = layer_refs_[i]->forward(desc1, src1);
    desc0 = desc0 + delta0;
    desc1 = desc1 + delta1;
  }
  return {desc0, desc1};
}

}  // namespace animerun::models

