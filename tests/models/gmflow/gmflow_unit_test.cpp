// GMFlow building blocks against independent definitions (window split, swin mask, sine
// encoding, matching, warping, propagation) and the model's names, shapes and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <optional>
#include <stdexcept>
#include <tuple>

#include <torch/torch.h>

#include "models/common/dnnl_winograd_conv.h"
#include "models/gmflow/gmflow.h"
#include "models/gmflow/gmflow_matching.h"
#include "models/gmflow/gmflow_transformer.h"
#include "test_paths.h"

namespace animerun::models {
namespace {

using namespace gmflow;

// Reference definitions of the official window helpers (transformer.py / utils.py:
// split_feature, merge_splits, generate_shift_window_attn_mask). The network no longer uses
// them (it attends within WindowBands' rectangles); they define what it must equal.

// [B,C,H,W] -> [B*K*K,C,H/K,W/K] (channel_last: [B,H,W,C] -> [B*K*K,H/K,W/K,C]) and back.
torch::Tensor SplitFeature(const torch::Tensor& feature, int64_t k, bool channel_last) {
  if (channel_last) {
    const int64_t b = feature.size(0), h = feature.size(1), w = feature.size(2), c = feature.size(3);
    if (h % k != 0 || w % k != 0)
      throw std::runtime_error("gmflow: feature " + std::to_string(h) + "x" + std::to_string(w) +
                               " does not split into " + std::to_string(k) + "x" + std::to_string(k) + " windows");
    return feature.view({b, k, h / k, k, w / k, c}).permute({0, 1, 3, 2, 4, 5}).reshape({b * k * k, h / k, w / k, c});
  }
  const int64_t b = feature.size(0), c = feature.size(1), h = feature.size(2), w = feature.size(3);
  if (h % k != 0 || w % k != 0)
    throw std::runtime_error("gmflow: feature " + std::to_string(h) + "x" + std::to_string(w) +
                             " does not split into " + std::to_string(k) + "x" + std::to_string(k) + " windows");
  return feature.view({b, c, k, h / k, k, w / k}).permute({0, 2, 4, 1, 3, 5}).reshape({b * k * k, c, h / k, w / k});
}

torch::Tensor MergeSplits(const torch::Tensor& splits, int64_t k, bool channel_last) {
  if (channel_last) {
    const int64_t b = splits.size(0), h = splits.size(1), w = splits.size(2), c = splits.size(3);
    const int64_t nb = b / k / k;
    return splits.view({nb, k, k, h, w, c}).permute({0, 1, 3, 2, 4, 5}).contiguous().view({nb, k * h, k * w, c});
  }
  const int64_t b = splits.size(0), c = splits.size(1), h = splits.size(2), w = splits.size(3);
  const int64_t nb = b / k / k;
  return splits.view({nb, k, k, c, h, w}).permute({0, 3, 1, 4, 2, 5}).contiguous().view({nb, c, k * h, k * w});
}

// Python slice bounds: negative counts from the end (-0 is 0), clamped to [0, n].
int64_t PyIndex(int64_t i, int64_t n) {
  if (i < 0) i += n;
  return std::min(std::max<int64_t>(i, 0), n);
}

// Region label of every token of every shifted window: [K*K, ws_h*ws_w] (K = w / ws_w).
torch::Tensor ShiftWindowLabels(int64_t h, int64_t w, int64_t window_h, int64_t window_w, int64_t shift_h,
                                  int64_t shift_w, const torch::Device& device) {
  auto img_mask = torch::zeros({1, h, w, 1});
  const std::pair<int64_t, std::optional<int64_t>> hs[3] = {{0, -window_h}, {-window_h, -shift_h}, {-shift_h, std::nullopt}};
  const std::pair<int64_t, std::optional<int64_t>> ws[3] = {{0, -window_w}, {-window_w, -shift_w}, {-shift_w, std::nullopt}};
  using torch::indexing::Slice;
  int cnt = 0;
  for (const auto& sh : hs) {
    for (const auto& sw : ws) {
      const int64_t y0 = PyIndex(sh.first, h), y1 = sh.second ? PyIndex(*sh.second, h) : h;
      const int64_t x0 = PyIndex(sw.first, w), x1 = sw.second ? PyIndex(*sw.second, w) : w;
      if (y1 > y0 && x1 > x0) img_mask.index_put_({Slice(), Slice(y0, y1), Slice(x0, x1), Slice()}, cnt);
      ++cnt;
    }
  }
  return SplitFeature(img_mask, w / window_w, true).view({-1, window_h * window_w}).to(device);
}

// The official mask from those labels: [K*K, N, N], 0 within a region, -100 across.
torch::Tensor ShiftWindowAttnMask(int64_t h, int64_t w, int64_t window_h, int64_t window_w, int64_t shift_h,
                                  int64_t shift_w, const torch::Device& device) {
  const auto mask_windows = ShiftWindowLabels(h, w, window_h, window_w, shift_h, shift_w, device);
  auto attn_mask = mask_windows.unsqueeze(1) - mask_windows.unsqueeze(2);
  return attn_mask.masked_fill(attn_mask != 0, -100.0).masked_fill(attn_mask == 0, 0.0);
}

std::set<std::string> ParamNames(const torch::nn::Module& m) {
  std::set<std::string> names;
  for (const auto& p : m.named_parameters()) names.insert(p.key());
  for (const auto& b : m.named_buffers()) names.insert(b.key());
  return names;
}

TEST(GmflowNames, MatchOfficialStateDict) {
  for (bool refine : {false, true}) {
    GmflowNet net(GmflowConfig::Official(refine));
    const auto names = ParamNames(*net);
    // backbone 19 (+ trident), transformer 6 x 16, flow attention 4, upsampler 4.
    EXPECT_EQ(names.size(), refine ? 124u : 123u);
    for (const char* k :
         {"backbone.conv1.weight", "backbone.layer1.0.conv1.weight", "backbone.layer2.0.downsample.0.weight",
          "backbone.layer2.0.downsample.0.bias", "backbone.layer3.1.conv2.weight", "backbone.conv2.bias",
          "transformer.layers.0.self_attn.q_proj.weight", "transformer.layers.5.self_attn.norm1.bias",
          "transformer.layers.3.cross_attn_ffn.mlp.0.weight", "transformer.layers.3.cross_attn_ffn.mlp.2.weight",
          "transformer.layers.5.cross_attn_ffn.norm2.weight", "feature_flow_attn.q_proj.bias",
          "feature_flow_attn.k_proj.weight", "upsampler.0.weight", "upsampler.2.bias"})
      EXPECT_TRUE(names.count(k)) << k;
    EXPECT_EQ(names.count("backbone.trident_conv.weight"), refine ? 1u : 0u);
    EXPECT_EQ(names.count("transformer.layers.0.self_attn.mlp.0.weight"), 0u);  // no FFN after self-attn
    EXPECT_EQ(names.count("backbone.layer1.0.downsample.0.weight"), 0u);
    const auto params = net->named_parameters();
    EXPECT_EQ(params["upsampler.2.weight"].sizes(), (std::vector<int64_t>{refine ? 144 : 576, 256, 1, 1}));
    EXPECT_EQ(params["transformer.layers.0.cross_attn_ffn.mlp.0.weight"].sizes(), (std::vector<int64_t>{1024, 256}));
  }
}

TEST(GmflowConfig, ChecksValues) {
  EXPECT_NO_THROW(GmflowConfig::Official(false).Check());
  EXPECT_NO_THROW(GmflowConfig::Official(true).Check());
  auto c = GmflowConfig::Official(true);
  c.attn_splits_list = {2};
  EXPECT_THROW(c.Check(), std::invalid_argument);
  c = GmflowConfig::Official(false);
  c.corr_radius_list = {0};
  EXPECT_THROW(c.Check(), std::invalid_argument);
  c = GmflowConfig::Official(false);
  c.padding_factor = 0;
  EXPECT_THROW(c.Check(), std::invalid_argument);
}

TEST(GmflowTransformer, SplitAndMergeAreWindowsInRasterOrder) {
  auto x = torch::randn({2, 3, 8, 12});
  auto s = SplitFeature(x, 2, false);
  ASSERT_EQ(s.sizes(), (std::vector<int64_t>{8, 3, 4, 6}));
  // Window (i, j) of batch b is entry b*4 + i*2 + j.
  EXPECT_TRUE(torch::equal(s[1 * 4 + 1 * 2 + 0], x[1].slice(1, 4, 8).slice(2, 0, 6)));
  EXPECT_TRUE(torch::equal(MergeSplits(s, 2, false), x));
  auto xl = x.permute({0, 2, 3, 1}).contiguous();
  auto sl = SplitFeature(xl, 2, true);
  EXPECT_TRUE(torch::equal(sl, s.permute({0, 2, 3, 1})));
  EXPECT_TRUE(torch::equal(MergeSplits(sl, 2, true), xl));
  EXPECT_THROW(SplitFeature(torch::randn({1, 3, 7, 8}), 2, false), std::runtime_error);
}

TEST(GmflowTransformer, ShiftedWindowMaskSeparatesWrappedPixels) {
  // After rolling by -shift, two tokens of one window may attend to each other only if both
  // or neither came across the wrap, in each direction.
  const int64_t h = 8, w = 12, k = 2, wh = h / k, ww = w / k, sh = wh / 2, sw = ww / 2;
  auto mask = ShiftWindowAttnMask(h, w, wh, ww, sh, sw, torch::kCPU);
  ASSERT_EQ(mask.sizes(), (std::vector<int64_t>{k * k, wh * ww, wh * ww}));
  auto acc = mask.accessor<float, 3>();
  int blocked = 0;
  for (int64_t win = 0; win < k * k; ++win) {
    const int64_t y0 = (win / k) * wh, x0 = (win % k) * ww;
    for (int64_t i = 0; i < wh * ww; ++i) {
      for (int64_t j = 0; j < wh * ww; ++j) {
        const int64_t yi = y0 + i / ww, xi = x0 + i % ww, yj = y0 + j / ww, xj = x0 + j % ww;
        const bool same = ((yi + sh >= h) == (yj + sh >= h)) && ((xi + sw >= w) == (xj + sw >= w));
        EXPECT_EQ(acc[win][i][j], same ? 0.f : -100.f) << win << " " << i << " " << j;
        blocked += !same;
      }
    }
  }
  EXPECT_GT(blocked, 0);
}

TEST(GmflowTransformer, ChunkedAttentionEqualsOnePass) {
  torch::manual_seed(8);
  const int64_t b = 3, n = 24, s = 20, c = 16;
  auto q = torch::randn({b, n, c}), kt = torch::randn({b, c, s}), v = torch::randn({b, s, 3});
  const double scale = 4.0;
  auto plain = torch::matmul(torch::softmax(torch::matmul(q, kt) / scale, -1), v);
  EXPECT_TRUE(torch::allclose(SoftmaxAttention(q, kt, v, scale), plain, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(SoftmaxAttention(q, kt, v, scale, 7), plain, 1e-6, 1e-6));           // 1 row a chunk
  EXPECT_TRUE(torch::allclose(SoftmaxAttention(q, kt, v, scale, 5 * s), plain, 1e-6, 1e-6));      // 5 rows
  EXPECT_TRUE(torch::allclose(SoftmaxAttention(q, kt, v, scale, n * s), plain, 1e-6, 1e-6));      // 1 item
  EXPECT_TRUE(torch::allclose(SoftmaxAttention(q, kt, v, scale, 2 * n * s), plain, 1e-6, 1e-6));  // 2 + 1 items
  // Keys as a transposed view (how the transformer passes them), chunked both ways.
  auto k = torch::randn({b, s, c});
  auto plain_k = torch::matmul(torch::softmax(torch::matmul(q, k.transpose(1, 2)) / scale, -1), v);
  for (const int64_t m : {int64_t{7}, 2 * n * s, b * n * s})
    EXPECT_TRUE(torch::allclose(SoftmaxAttention(q, k.permute({0, 2, 1}), v, scale, m), plain_k, 1e-6, 1e-6)) << m;
  // With gradients the chunks stay differentiable.
  auto qg = q.clone().requires_grad_(true);
  SoftmaxAttention(qg, kt, v, scale, 2 * n * s).sum().backward();
  auto qr = q.clone().requires_grad_(true);
  torch::matmul(torch::softmax(torch::matmul(qr, kt) / scale, -1), v).sum().backward();
  EXPECT_TRUE(torch::allclose(qg.grad(), qr.grad(), 1e-5, 1e-6));
}

TEST(GmflowTransformer, WindowBandsAreTheWindowsOrTheUnrolledShiftedRegions) {
  using Bands = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(WindowBands(56, 2, false), (Bands{{0, 28}, {28, 28}}));
  EXPECT_EQ(WindowBands(56, 2, true), (Bands{{0, 14}, {14, 28}, {42, 14}}));
  EXPECT_EQ(WindowBands(112, 8, true),
            (Bands{{0, 7}, {7, 14}, {21, 14}, {35, 14}, {49, 14}, {63, 14}, {77, 14}, {91, 14}, {105, 7}}));
  EXPECT_EQ(WindowBands(6, 2, true), (Bands{{0, 1}, {1, 3}, {4, 2}}));  // odd window: shift 1
}

// The official swin attention (transformer.py, single_head_split_window_attention): roll by
// -shift, split into windows, add the -100 mask, softmax, merge, roll back.
torch::Tensor OfficialWindowAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, int64_t splits,
                                      bool shift, int64_t h, int64_t w) {
  const int64_t b = q.size(0), c = q.size(2), wh = h / splits, ww = w / splits, sh = wh / 2, sw = ww / 2;
  auto prep = [&](torch::Tensor t) {
    t = t.view({b, h, w, c});
    if (shift) t = torch::roll(t, {-sh, -sw}, {1, 2});
    return SplitFeature(t, splits, true).view({b * splits * splits, -1, c});
  };
  auto scores = torch::matmul(prep(q), prep(k).permute({0, 2, 1})) / std::sqrt(static_cast<double>(c));
  if (shift) scores = scores + ShiftWindowAttnMask(h, w, wh, ww, sh, sw, torch::kCPU).repeat({b, 1, 1});
  auto out = torch::matmul(torch::softmax(scores, -1), prep(v));
  out = MergeSplits(out.view({b * splits * splits, wh, ww, c}), splits, true);
  if (shift) out = torch::roll(out, {sh, sw}, {1, 2});
  return out.reshape({b, h * w, c});
}

TEST(GmflowTransformer, WindowAttentionWithinRectanglesEqualsOfficialMaskedAttention) {
  torch::manual_seed(9);
  for (const auto& [h, w, splits] : {std::tuple<int64_t, int64_t, int64_t>{8, 12, 2}, {12, 20, 2}, {16, 24, 4},
                                     {6, 10, 2}}) {
    const int64_t b = 2, c = 16;
    // Scores spread over several units, as in a trained network, so the mask matters.
    auto q = torch::randn({b, h * w, c}) * 3, k = torch::randn({b, h * w, c}) * 3, v = torch::randn({b, h * w, c});
    for (bool shift : {false, true}) {
      auto want = OfficialWindowAttention(q, k, v, splits, shift, h, w);
      auto got = SplitWindowAttention(q, k, v, splits, shift, h, w);
      EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5))
          << h << "x" << w << " splits " << splits << " shift " << shift << ": max diff "
          << (got - want).abs().max().item<float>();
    }
    if (h == 8) {  // the shift changes the result (the test would notice a dropped mask)
      EXPECT_FALSE(torch::allclose(OfficialWindowAttention(q, k, v, splits, true, h, w),
                                   OfficialWindowAttention(q, k, v, splits, false, h, w), 1e-3, 1e-3));
    }
  }
  EXPECT_THROW(SplitWindowAttention(torch::randn({1, 7 * 8, 4}), torch::randn({1, 7 * 8, 4}), torch::randn({1, 7 * 8, 4}),
                                    2, true, 7, 8),
               std::runtime_error);
}

TEST(GmflowTransformer, TrainingWindowAttentionMatchesOfficialValuesAndGradients) {
  torch::manual_seed(10);
  for (const auto& shape : {std::tuple<int64_t, int64_t, int64_t>{8, 12, 2}, {16, 24, 4}, {6, 10, 2}}) {
    // Plain variables, not structured bindings: clang 14 (the sanitizer build) cannot capture
    // those in a lambda.
    const int64_t h = std::get<0>(shape), w = std::get<1>(shape), splits = std::get<2>(shape);
    const int64_t b = 2, c = 8;
    auto q = torch::randn({b, h * w, c}) * 3, k = torch::randn({b, h * w, c}) * 3, v = torch::randn({b, h * w, c});
    auto weight = torch::randn({b, h * w, c});
    for (bool shift : {false, true}) {
      auto run = [&](bool train) {
        auto qv = q.clone().requires_grad_(true), kv = k.clone().requires_grad_(true), vv = v.clone().requires_grad_(true);
        auto out = train ? SplitWindowAttentionTrain(qv, kv, vv, splits, shift, h, w)
                         : OfficialWindowAttention(qv, kv, vv, splits, shift, h, w);
        (out * weight).sum().backward();
        return std::vector<torch::Tensor>{out.detach(), qv.grad(), kv.grad(), vv.grad()};
      };
      const auto got = run(true), want = run(false);
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_TRUE(torch::allclose(got[i], want[i], 1e-4, 1e-4))
            << h << "x" << w << " splits " << splits << " shift " << shift << " tensor " << i << ": max diff "
            << (got[i] - want[i]).abs().max().item<float>();
    }
  }
}

TEST(GmflowTransformer, ProjectedWindowBatchesEqualProjectingTheWholeMap) {
  torch::manual_seed(17);
  const int64_t b = 2, c = 8, h = 12, w = 16;
  auto wq = torch::randn({c, c}), wk = torch::randn({c, c}), wv = torch::randn({c, c});
  const WindowProjection project = [&](int i, const torch::Tensor& x) {
    return torch::matmul(x, (i == 0 ? wq : i == 1 ? wk : wv).t());
  };
  auto x = torch::randn({b, h * w, c}), y = torch::randn({b, h * w, c});
  for (int64_t splits : {2, 4})
    for (bool shift : {false, true})
      for (int64_t max_tokens : {int64_t{0}, int64_t{1}, int64_t{100}}) {  // all at once, one window, a few
        for (bool self : {true, false}) {
          const auto& src = self ? x : y;
          auto want = SplitWindowAttention(project(0, x), project(1, src), project(2, src), splits, shift, h, w);
          auto got = SplitWindowAttention(x, src, src, splits, shift, h, w, project, max_tokens);
          EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5))
              << "splits " << splits << " shift " << shift << " max_tokens " << max_tokens << " self " << self
              << ": max diff " << (got - want).abs().max().item<float>();
        }
      }
}

TEST(GmflowTransformer, InferenceLayerEqualsTheAutogradLayer) {
  torch::manual_seed(18);
  const int64_t b = 2, c = 16, h = 8, w = 12;
  for (bool no_ffn : {true, false})
    for (bool shift : {false, true})
      for (int64_t splits : {1, 2}) {
        TransformerLayer layer(c, no_ffn, 2, shift);
        auto src = torch::randn({b, h * w, c}), tgt = torch::randn({b, h * w, c});
        const auto want = layer->forward(src, tgt, h, w, splits);  // grad mode: the plain order
        ASSERT_TRUE(want.requires_grad());
        torch::Tensor got;
        {
          torch::NoGradGuard no_grad;
          got = layer->forward(src, tgt, h, w, splits);
        }
        EXPECT_FALSE(got.requires_grad());
        EXPECT_TRUE(torch::allclose(got, want.detach(), 1e-5, 1e-5))
            << "no_ffn " << no_ffn << " shift " << shift << " splits " << splits << ": max diff "
            << (got - want.detach()).abs().max().item<float>();
        // Self-attention passes the same tensor twice (one gathered batch serves q, k and v).
        torch::NoGradGuard no_grad;
        EXPECT_TRUE(torch::allclose(layer->forward(src, src, h, w, splits), [&] {
          torch::AutoGradMode on(true);
          return layer->forward(src, src, h, w, splits).detach();
        }(), 1e-5, 1e-5));
      }
}

// GMFlow runs large frames through the encoder one at a time in inference: that is only the
// official batched features if nothing in the encoder mixes the images of a batch.
TEST(GmflowBackbone, EachImageOfABatchIsEncodedOnItsOwn) {
  torch::manual_seed(19);
  CnnEncoder encoder(32, 2);
  torch::NoGradGuard no_grad;
  auto x0 = torch::randn({1, 3, 64, 96}), x1 = torch::randn({1, 3, 64, 96}) * 2 + 1;
  const auto both = encoder->forward(torch::cat({x0, x1}, 0));
  const auto f0 = encoder->forward(x0), f1 = encoder->forward(x1);
  ASSERT_EQ(both.size(), 2u);
  for (size_t i = 0; i < both.size(); ++i) {
    EXPECT_TRUE(torch::allclose(both[i], torch::cat({f0[i], f1[i]}, 0), 1e-5, 1e-5)) << "scale " << i;
  }
}

// Inference takes the channel-block path (oneDNN's Winograd, fused norms) where the build has
// it; SetWinogradInference(false) gives LibTorch's layers, the reference. Odd sizes (maps
// whose height is not a multiple of the Winograd tile), a batch, both scale counts.
TEST(GmflowBackbone, ChannelBlockInferenceMatchesLibTorchLayers) {
  if (!DnnlWinogradAvailable()) GTEST_SKIP() << "no oneDNN Winograd in this build or on this CPU";
  for (int scales : {1, 2}) {
    torch::manual_seed(23 + scales);
    CnnEncoder encoder(128, scales);
    torch::NoGradGuard no_grad;
    const auto x = torch::randn({2, 3, 66, 98});
    const auto blocks = encoder->forward(x);
    SetWinogradInference(false);
    const auto libtorch = encoder->forward(x);
    encoder->to(torch::kBFloat16);
    const auto bf16_libtorch = encoder->forward(x.to(torch::kBFloat16));
    SetWinogradInference(true);
    const auto bf16_blocks = encoder->forward(x.to(torch::kBFloat16));
    ASSERT_EQ(blocks.size(), static_cast<size_t>(scales));
    for (size_t i = 0; i < blocks.size(); ++i) {
      ASSERT_TRUE(blocks[i].sizes().equals(libtorch[i].sizes()));
      EXPECT_LT((blocks[i] - libtorch[i]).abs().max().item<double>(), 1e-4) << "scale " << i;
      // bf16 weights: the blocks path convolves in fp32 (bf16 widens exactly), so it stays
      // closer to fp32 than LibTorch's bf16 layers.
      EXPECT_EQ(bf16_blocks[i].scalar_type(), torch::kBFloat16);
      const double err_blocks = (bf16_blocks[i].to(torch::kFloat) - libtorch[i]).abs().mean().item<double>();
      const double err_libtorch = (bf16_libtorch[i].to(torch::kFloat) - libtorch[i]).abs().mean().item<double>();
      EXPECT_LT(err_blocks, err_libtorch) << "scale " << i;
      EXPECT_GT(err_blocks, 0.0) << "the bf16 weights and output rounding show";
    }
  }
}

TEST(GmflowTransformer, SinePositionEncodingMatchesFormula) {
  const int64_t h = 4, w = 6, f = 64;
  auto pos = PositionEmbeddingSine(h, w, f, torch::kCPU);
  ASSERT_EQ(pos.sizes(), (std::vector<int64_t>{1, 2 * f, h, w}));
  auto acc = pos.accessor<float, 4>();
  double worst = 0;
  for (int64_t c = 0; c < 2 * f; ++c) {
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        const int64_t i = c % f;
        const double embed = c < f ? (y + 1) / (h + 1e-6) * 2 * M_PI : (x + 1) / (w + 1e-6) * 2 * M_PI;
        const double arg = embed / std::pow(10000.0, 2.0 * (i / 2) / f);
        const double want = i % 2 == 0 ? std::sin(arg) : std::cos(arg);
        worst = std::max(worst, std::abs(acc[0][c][y][x] - want));
      }
    }
  }
  EXPECT_LT(worst, 2e-6);
}

TEST(GmflowTransformer, WindowedPositionRestartsInEachWindow) {
  auto f0 = torch::zeros({1, 128, 8, 8}), f1 = torch::zeros({1, 128, 8, 8});
  auto [p0, p1] = FeatureAddPosition(f0, f1, 2, 128);
  EXPECT_TRUE(torch::equal(p0, p1));
  EXPECT_TRUE(torch::equal(p0.slice(2, 0, 4).slice(3, 0, 4), p0.slice(2, 4, 8).slice(3, 4, 8)));
  EXPECT_TRUE(torch::allclose(p0.slice(2, 0, 4).slice(3, 0, 4), PositionEmbeddingSine(4, 4, 64, torch::kCPU)));
  auto [g0, g1] = FeatureAddPosition(f0, f1, 1, 128);
  EXPECT_FALSE(torch::equal(g0.slice(2, 0, 4).slice(3, 0, 4), g0.slice(2, 4, 8).slice(3, 4, 8)));
}

// feature1 = feature0 moved by (dx, dy): sharp features make the softmax an argmax.
void MakeShiftedPair(int64_t dx, int64_t dy, torch::Tensor* f0, torch::Tensor* f1) {
  torch::manual_seed(3);
  *f0 = torch::randn({1, 32, 12, 14}) * 4;
  *f1 = torch::roll(*f0, {dy, dx}, {2, 3});
}

TEST(GmflowMatching, GlobalSoftmaxFindsTheShift) {
  torch::Tensor f0, f1;
  MakeShiftedPair(3, -2, &f0, &f1);
  auto flow = GlobalCorrelationSoftmax(f0, f1);
  ASSERT_EQ(flow.sizes(), (std::vector<int64_t>{1, 2, 12, 14}));
  // Away from the wrap-around, flow is (3, -2).
  auto inner = flow.slice(2, 2, 12).slice(3, 0, 11);
  EXPECT_LT((inner[0][0] - 3).abs().max().item<float>(), 1e-3);
  EXPECT_LT((inner[0][1] + 2).abs().max().item<float>(), 1e-3);
}

TEST(GmflowMatching, LocalSoftmaxFindsTheShiftInsideTheWindow) {
  torch::Tensor f0, f1;
  MakeShiftedPair(-1, 2, &f0, &f1);
  auto flow = LocalCorrelationSoftmax(f0, f1, 4);
  auto inner = flow.slice(2, 0, 10).slice(3, 1, 14);
  EXPECT_LT((inner[0][0] + 1).abs().max().item<float>(), 1e-3);
  EXPECT_LT((inner[0][1] - 2).abs().max().item<float>(), 1e-3);
  // Positions outside the image get no weight: the target never leaves the frame.
  auto coords = CoordsGrid(1, 12, 14, torch::kCPU) + LocalCorrelationSoftmax(f0, torch::randn({1, 32, 12, 14}) * 4, 4);
  EXPECT_GE(coords.min().item<float>(), -1e-4);
  EXPECT_LE(coords[0][0].max().item<float>(), 13 + 1e-4);
  EXPECT_LE(coords[0][1].max().item<float>(), 11 + 1e-4);
}

TEST(GmflowMatching, FlowWarpSamplesAtTheDisplacedPosition) {
  auto f = torch::randn({1, 5, 6, 7});
  EXPECT_TRUE(torch::allclose(FlowWarp(f, torch::zeros({1, 2, 6, 7})), f, 1e-5, 1e-6));
  auto flow = torch::zeros({1, 2, 6, 7});
  flow.select(1, 0).fill_(2);  // sample two pixels to the right
  auto warped = FlowWarp(f, flow);
  EXPECT_TRUE(torch::allclose(warped.slice(3, 0, 5), f.slice(3, 2, 7), 1e-5, 1e-5));
  EXPECT_LT(warped.slice(3, 5, 7).abs().max().item<float>(), 1e-6);  // zeros outside
  flow.select(1, 0).fill_(0.5);
  EXPECT_TRUE(torch::allclose(FlowWarp(f, flow).slice(3, 0, 6), (f.slice(3, 0, 6) + f.slice(3, 1, 7)) / 2, 1e-5, 1e-5));
}

TEST(GmflowPropagation, ConstantFlowStaysConstant) {
  torch::manual_seed(5);
  FeatureFlowAttention attn(16);
  auto feature = torch::randn({1, 16, 6, 8});
  auto flow = torch::zeros({1, 2, 6, 8});
  flow.select(1, 0).fill_(3);
  flow.select(1, 1).fill_(-2);
  torch::NoGradGuard ng;
  EXPECT_TRUE(torch::allclose(attn->forward(feature, flow, 0), flow, 1e-5, 1e-5));
  // Locally, the zero padding of the window pulls borders towards 0; the interior is exact.
  auto local = attn->forward(feature, flow, 1);
  EXPECT_TRUE(torch::allclose(local.slice(2, 1, 5).slice(3, 1, 7), flow.slice(2, 1, 5).slice(3, 1, 7), 1e-5, 1e-5));
  EXPECT_GT(std::abs(local[0][0][0][0].item<float>() - 3), 1e-4);
}

// Local propagation in inference (one neighbour offset at a time from zero-padded maps)
// against the official unfold of whole windows, which grad mode keeps: borders included.
TEST(GmflowPropagation, InferenceLocalWindowsMatchUnfold) {
  torch::manual_seed(23);
  FeatureFlowAttention attn(16);
  const auto feature = torch::randn({2, 16, 7, 9});
  const auto flow = torch::randn({2, 2, 7, 9}) * 3;
  for (int64_t radius : {1, 2}) {
    const auto want = attn->forward(feature, flow, radius);  // grad mode: unfold
    ASSERT_TRUE(want.requires_grad());
    torch::NoGradGuard no_grad;
    const auto got = attn->forward(feature, flow, radius);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_TRUE(torch::allclose(got, want.detach(), 1e-5, 1e-5))
        << "radius " << radius << ": max diff " << (got - want.detach()).abs().max().item<float>();
  }
}

TEST(GmflowModel, EstimatePadsAnySizeAndUnpads) {
  torch::manual_seed(0);
  for (bool refine : {false, true}) {
    auto model = CreateGmflow(refine);
    EXPECT_EQ(model->name(), refine ? "gmflow-refine" : "gmflow");
    auto a = torch::rand({1, 3, 37, 53}) * 255, b = torch::rand({1, 3, 37, 53}) * 255;
    auto flow = model->Estimate(a, b, FlowInferenceOptions{});
    ASSERT_EQ(flow.sizes(), (std::vector<int64_t>{1, 2, 37, 53}));
    EXPECT_TRUE(torch::isfinite(flow).all().item<bool>());
    flow.mul_(2);  // a normal tensor, usable outside inference mode
    if (!refine) {
      FlowInferenceOptions kitti;
      kitti.padding = "kitti";
      EXPECT_EQ(model->Estimate(a, b, kitti).sizes(), flow.sizes());
    }
  }
}

TEST(GmflowModel, RejectsBadInput) {
  auto model = CreateGmflow(false);
  FlowInferenceOptions o;
  EXPECT_THROW(model->Estimate(torch::zeros({1, 3, 32, 32}), torch::zeros({1, 3, 32, 48}), o), std::invalid_argument);
  EXPECT_THROW(model->Estimate(torch::zeros({1, 1, 32, 32}), torch::zeros({1, 1, 32, 32}), o), std::invalid_argument);
  o.padding = "centre";
  EXPECT_THROW(model->Estimate(torch::zeros({1, 3, 32, 32}), torch::zeros({1, 3, 32, 32}), o), std::invalid_argument);
  o.padding = "sintel";
  o.precision = "fp16";  // bf16 runs on the CPU (gmflow_precision_test.cpp), fp16 on CUDA only
  EXPECT_THROW(model->Estimate(torch::zeros({1, 3, 32, 32}), torch::zeros({1, 3, 32, 32}), o), std::invalid_argument);
}

TEST(GmflowModel, SaveLoadRoundTrip) {
  torch::manual_seed(1);
  GmflowModel a(GmflowConfig::Official(true));
  const auto path = (test::ScratchDir("gmflow_roundtrip") / "gmflow-refine.pth").string();
  a.SaveWeights(path);
  GmflowModel b(GmflowConfig::Official(true));
  EXPECT_TRUE(b.LoadWeights(path).ok());
  auto pa = a.net()->named_parameters(), pb = b.net()->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  // The 1/8 model lacks the trident conv and has another upsampler: strict loading refuses.
  GmflowModel c(GmflowConfig::Official(false));
  EXPECT_THROW(c.LoadWeights(path), std::runtime_error);
  EXPECT_FALSE(c.LoadWeights(path, false).ok());
  EXPECT_THROW(c.LoadWeights(path + ".missing"), std::runtime_error);
}

TEST(GmflowModel, TruncatedOrCorruptCheckpointThrowsAndKeepsWeights) {
  torch::manual_seed(6);
  GmflowModel a(GmflowConfig::Official(false));
  const auto dir = test::ScratchDir("gmflow_corrupt");
  const auto path = (dir / "gmflow.pth").string();
  a.SaveWeights(path);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_GT(bytes.size(), 1000u);
  const auto truncated = (dir / "truncated.pth").string();
  std::ofstream(truncated, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  std::string garbled = bytes;
  for (size_t i = 0; i < 64; ++i) garbled[i] = static_cast<char>(0xA5 ^ i);
  const auto corrupt = (dir / "corrupt.pth").string();
  std::ofstream(corrupt, std::ios::binary).write(garbled.data(), static_cast<std::streamsize>(garbled.size()));

  GmflowModel b(GmflowConfig::Official(false));
  const auto before = b.net()->named_parameters()["upsampler.2.weight"].clone();
  EXPECT_THROW(b.LoadWeights(truncated), std::runtime_error);
  EXPECT_THROW(b.LoadWeights(corrupt), std::runtime_error);
  EXPECT_TRUE(torch::equal(b.net()->named_parameters()["upsampler.2.weight"], before));
}

}  // namespace
}  // namespace animerun::models
