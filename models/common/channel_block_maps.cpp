#include "models/common/channel_block_maps.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/common/bf16_bits.h"
#include "models/common/cpu_clones.h"
#include "models/common/dnnl_winograd_conv.h"

namespace animerun::models {
namespace {

constexpr double kEps = 1e-5;

// The sums and sums of squares of one row of one channel block (w pixels of 16 lanes).
ANIMERUN_CPU_CLONES void RowSums(const float* x, int64_t w, double* sum, double* sum_sq) {
  double s[16] = {}, q[16] = {};
  for (int64_t p = 0; p < w; ++p)
    for (int j = 0; j < 16; ++j) {
      const double v = x[p * 16 + j];
      s[j] += v;
      q[j] += v * v;
    }
  for (int j = 0; j < 16; ++j) {
    sum[j] = s[j];
    sum_sq[j] = q[j];
  }
}

ANIMERUN_CPU_CLONES void NormaliseRow(float* x, int64_t w, const float* mean, const float* scale, bool relu) {
  for (int64_t p = 0; p < w; ++p)
    for (int j = 0; j < 16; ++j) {
      const float v = (x[p * 16 + j] - mean[j]) * scale[j];
      x[p * 16 + j] = relu ? std::max(v, 0.0f) : v;
    }
}

ANIMERUN_CPU_CLONES void NormaliseAddRow(float* y, const float* skip, int64_t w, const float* mean,
                                         const float* scale) {
  for (int64_t p = 0; p < w; ++p)
    for (int j = 0; j < 16; ++j) {
      const float v = std::max((y[p * 16 + j] - mean[j]) * scale[j], 0.0f);
      y[p * 16 + j] = std::max(skip[p * 16 + j] + v, 0.0f);
    }
}

// Per channel: mean and 1 / sqrt(var + eps), [C] each, from per-row sums in double.
void Statistics(const at::Tensor& x, std::vector<float>* mean, std::vector<float>* scale) {
  const int64_t cb = x.size(0), h = x.size(1), w = x.size(2);
  std::vector<double> partial(static_cast<size_t>(cb * h * 32));
  const float* data = x.data_ptr<float>();
  at::parallel_for(0, cb * h, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) RowSums(data + r * w * 16, w, &partial[r * 32], &partial[r * 32 + 16]);
  });
  mean->assign(static_cast<size_t>(cb * 16), 0.0f);
  scale->assign(static_cast<size_t>(cb * 16), 0.0f);
  const double n = static_cast<double>(h * w);
  for (int64_t b = 0; b < cb; ++b)
    for (int j = 0; j < 16; ++j) {
      double s = 0.0, q = 0.0;
      for (int64_t r = b * h; r < (b + 1) * h; ++r) {
        s += partial[r * 32 + j];
        q += partial[r * 32 + 16 + j];
      }
      const double m = n > 0 ? s / n : 0.0;
      const double var = n > 0 ? std::max(q / n - m * m, 0.0) : 0.0;
      (*mean)[b * 16 + j] = static_cast<float>(m);
      (*scale)[b * 16 + j] = static_cast<float>(1.0 / std::sqrt(var + kEps));
    }
}

// One pixel's C channels (channels-last) to 16 lanes of each of the cb blocks, and back.
ANIMERUN_CPU_CLONES void PixelsToBlocks(const uint16_t* in, int64_t pixels, int64_t cb, int64_t plane, float* out) {
  for (int64_t p = 0; p < pixels; ++p)
    for (int64_t b = 0; b < cb; ++b)
      for (int j = 0; j < 16; ++j) out[b * plane + p * 16 + j] = Bf16BitsToFloat(in[p * cb * 16 + b * 16 + j]);
}
ANIMERUN_CPU_CLONES void BlocksToPixels(const float* in, int64_t pixels, int64_t cb, int64_t plane, uint16_t* out) {
  for (int64_t p = 0; p < pixels; ++p)
    for (int64_t b = 0; b < cb; ++b)
      for (int j = 0; j < 16; ++j) out[p * cb * 16 + b * 16 + j] = FloatToBf16Bits(in[b * plane + p * 16 + j]);
}

}  // namespace

at::Tensor ChannelBlocksOf(const at::Tensor& map) {
  if (map.dim() != 4 || map.size(0) != 1 || map.size(1) % 16 != 0 || !map.is_cpu() ||
      (map.scalar_type() != at::kFloat && map.scalar_type() != at::kBFloat16))
    throw std::invalid_argument("ChannelBlocksOf: needs a float or bf16 CPU map [1, C, H, W] with C a multiple of 16, got " +
                                c10::str(map.sizes()) + " " + std::string(c10::toString(map.scalar_type())));
  if (map.scalar_type() == at::kFloat) return ToChannelBlocks(map);
  const at::Tensor cl = map.contiguous(at::MemoryFormat::ChannelsLast);
  const int64_t cb = map.size(1) / 16, h = map.size(2), w = map.size(3);
  at::Tensor blocks = at::empty({cb, h, w, 16}, map.options().dtype(at::kFloat));
  const auto* in = reinterpret_cast<const uint16_t*>(cl.data_ptr());
  float* out = blocks.data_ptr<float>();
  at::parallel_for(0, h, 8, [&](int64_t y0, int64_t y1) {
    for (int64_t y = y0; y < y1; ++y) PixelsToBlocks(in + y * w * cb * 16, w, cb, h * w * 16, out + y * w * 16);
  });
  return blocks;
}

at::Tensor ChannelsLastOf(const at::Tensor& blocks, at::ScalarType dtype) {
  CheckChannelBlocks(blocks, "ChannelsLastOf");
  if (dtype == at::kFloat) return FromChannelBlocks(blocks);
  if (dtype != at::kBFloat16)
    throw std::invalid_argument("ChannelsLastOf: float or bf16 only, not " + std::string(c10::toString(dtype)));
  const int64_t cb = blocks.size(0), h = blocks.size(1), w = blocks.size(2);
  at::Tensor map = at::empty({1, cb * 16, h, w}, blocks.options().dtype(dtype).memory_format(at::MemoryFormat::ChannelsLast));
  const float* in = blocks.data_ptr<float>();
  auto* out = reinterpret_cast<uint16_t*>(map.data_ptr());
  at::parallel_for(0, h, 8, [&](int64_t y0, int64_t y1) {
    for (int64_t y = y0; y < y1; ++y) BlocksToPixels(in + y * w * 16, w, cb, h * w * 16, out + y * w * cb * 16);
  });
  return map;
}

void InstanceNormBlocksInPlace(at::Tensor& blocks, bool relu) {
  CheckChannelBlocks(blocks, "InstanceNormBlocksInPlace");
  std::vector<float> mean, scale;
  Statistics(blocks, &mean, &scale);
  const int64_t h = blocks.size(1), w = blocks.size(2);
  float* data = blocks.data_ptr<float>();
  at::parallel_for(0, blocks.size(0) * h, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) NormaliseRow(data + r * w * 16, w, &mean[r / h * 16], &scale[r / h * 16], relu);
  });
}

void InstanceNormReluAddReluInPlace(at::Tensor& y, const at::Tensor& skip) {
  CheckChannelBlocks(y, "InstanceNormReluAddReluInPlace");
  CheckChannelBlocks(skip, "InstanceNormReluAddReluInPlace");
  if (!skip.sizes().equals(y.sizes()))
    throw std::invalid_argument("InstanceNormReluAddReluInPlace: skip " + c10::str(skip.sizes()) + " differs from " +
                                c10::str(y.sizes()));
  std::vector<float> mean, scale;
  Statistics(y, &mean, &scale);
  const int64_t h = y.size(1), w = y.size(2);
  float* data = y.data_ptr<float>();
  const float* s = skip.data_ptr<float>();
  at::parallel_for(0, y.size(0) * h, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      NormaliseAddRow(data + r * w * 16, s + r * w * 16, w, &mean[r / h * 16], &scale[r / h * 16]);
  });
}

}  // namespace animerun::models
