// AnT building blocks on hand-made tensors (keypoint normalisation, dustbin, pooling, boxes,
// prediction, loss), the checkpoint round trip and its failure modes, and the N < 2 rule.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <tuple>

#include "models/ant/ant.h"
#include "models/common/checkpoint.h"
#include "models/common/dnnl_winograd_conv.h"
#include "test_paths.h"

namespace animerun::test {
namespace {

using models::AntConfig;
using models::AntNet;

// A small network: the tests here check plumbing, not the full-size numbers.
AntConfig SmallConfig() {
  AntConfig c;
  c.descriptor_dim = 16;
  c.keypoint_encoder = {8};
  c.gnn_layer_num = 1;
  return c;
}

models::AntFrame MakeFrame(int64_t h, int64_t w, int64_t n, int seed) {
  torch::manual_seed(seed);
  models::AntFrame f;
  f.image = models::NormalizeAntImage(torch::randint(0, 256, {h, w, 3}, torch::kUInt8));
  // Vertical stripes: ids 0..n-1 all present.
  const torch::Tensor seg = torch::div(torch::arange(w) * n, w, "floor").expand({h, w}).contiguous();
  f.segments = seg.unsqueeze(0);
  f.keypoints = models::AntSegmentBoxes(seg, n).unsqueeze(0);
  return f;
}

TEST(AntUnit, NormalizeImageMapsToMinusOneOne) {
  const torch::Tensor rgb = torch::tensor({0, 255, 51}, torch::kUInt8).reshape({1, 1, 3});
  const torch::Tensor x = models::NormalizeAntImage(rgb);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{1, 3, 1, 1}));
  EXPECT_FLOAT_EQ(x[0][0][0][0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(x[0][1][0][0].item<float>(), 1.0f);
  EXPECT_NEAR(x[0][2][0][0].item<float>(), 51 * 2 / 255.0 - 1, 1e-7);
}

TEST(AntUnit, NormalizeKeypointsByHand) {
  // W = 100, H = 50: centre (50, 50, 25, 25), scale 0.7 * 100.
  const torch::Tensor k = torch::tensor({0, 99, 0, 49, 50, 50, 25, 25}, torch::kLong).reshape({1, 2, 4});
  const torch::Tensor n = models::NormalizeAntKeypoints(k, 50, 100);
  const std::vector<double> expect = {-50 / 70.0, 49 / 70.0, -25 / 70.0, 24 / 70.0, 0, 0, 0, 0};
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(n.reshape({-1})[i].item<double>(), expect[i], 1e-6) << i;
  // A tall image scales by its height.
  const torch::Tensor t = models::NormalizeAntKeypoints(torch::tensor({{{0, 0, 0, 0}}}), 200, 10);
  EXPECT_NEAR(t[0][0][2].item<double>(), -100 / 140.0, 1e-6);
}

TEST(AntUnit, AppendDustbinPadsRowAndColumn) {
  const torch::Tensor s = torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}).reshape({1, 2, 3});
  const torch::Tensor d = models::AppendDustbin(s, torch::tensor(0.3f));
  ASSERT_EQ(d.sizes(), (std::vector<int64_t>{1, 3, 4}));
  EXPECT_TRUE(torch::equal(d.slice(1, 0, 2).slice(2, 0, 3), s));
  EXPECT_TRUE(torch::allclose(d.select(2, 3), torch::full({1, 3}, 0.3f)));
  EXPECT_TRUE(torch::allclose(d.select(1, 2), torch::full({1, 4}, 0.3f)));
}

TEST(AntUnit, SegmentMeanPoolByHand) {
  // 2 channels on a 2x3 image; segment 2 has no pixels.
  const torch::Tensor f = torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 10.f, 20.f, 30.f, 40.f, 50.f, 60.f})
                              .reshape({1, 2, 2, 3});
  const torch::Tensor seg = torch::tensor({0, 0, 1, 3, 1, 1}, torch::kLong).reshape({1, 2, 3});
  torch::Tensor counts;
  const torch::Tensor p = models::SegmentMeanPool(f, seg, 4, &counts);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{1, 2, 4}));
  const std::vector<float> c0 = {1.5f, (3 + 5 + 6) / 3.f, 0.f, 4.f};
  for (int s = 0; s < 4; ++s) {
    EXPECT_FLOAT_EQ(p[0][0][s].item<float>(), c0[s]) << s;
    EXPECT_FLOAT_EQ(p[0][1][s].item<float>(), 10 * c0[s]) << s;
  }
  EXPECT_TRUE(torch::equal(counts, torch::tensor({{2.f, 3.f, 0.f, 1.f}})));
  // Channels-last features (what the encoder makes) give the same numbers.
  const torch::Tensor cl = models::SegmentMeanPool(f.contiguous(at::MemoryFormat::ChannelsLast), seg, 4);
  EXPECT_TRUE(torch::equal(cl, p));
  EXPECT_THROW(models::SegmentMeanPool(f, seg.slice(2, 0, 2), 4), std::invalid_argument);
  // Without autograd (inference) a direct pass sums the rows; the same numbers, and an id
  // outside [0, n) is refused instead of written out of bounds.
  {
    torch::InferenceMode inference;
    EXPECT_TRUE(torch::equal(models::SegmentMeanPool(f.contiguous(at::MemoryFormat::ChannelsLast), seg, 4), p));
    EXPECT_THROW(models::SegmentMeanPool(f.contiguous(at::MemoryFormat::ChannelsLast), seg, 3), std::invalid_argument);
    EXPECT_THROW(models::SegmentMeanPool(f.contiguous(at::MemoryFormat::ChannelsLast), seg - 1, 4),
                 std::invalid_argument);
  }
}

TEST(AntUnit, ChannelsLastInstanceNormEqualsTheReference) {
  // The fused CPU path (channels-last float maps, no autograd) against InstanceNorm written
  // out in double: channel means off zero against their spread (as conv outputs have), odd
  // sizes (a last block of rows shorter than the others), with and without ReLU, one and two
  // images.
  torch::manual_seed(3);
  torch::NoGradGuard no_grad;
  for (const bool relu : {false, true}) {
    for (const int64_t batch : {1, 2}) {
      const torch::Tensor x = torch::randn({batch, 24, 67, 129}) * torch::linspace(0.5, 5.0, 24).view({1, 24, 1, 1}) +
                              torch::linspace(-3.0, 4.0, 24).view({1, 24, 1, 1});
      const torch::Tensor xd = x.to(torch::kDouble);
      const auto [var, mean] = torch::var_mean(xd, {2, 3}, /*unbiased=*/false, /*keepdim=*/true);
      torch::Tensor expected = (xd - mean) / torch::sqrt(var + 1e-5);
      if (relu) expected = expected.relu();
      torch::Tensor cl = x.contiguous(torch::MemoryFormat::ChannelsLast);
      const void* before = cl.data_ptr();
      const torch::Tensor y = models::AntInstanceNorm(cl, relu);
      EXPECT_EQ(y.data_ptr(), before);  // in place
      EXPECT_LT((y.to(torch::kDouble) - expected).abs().max().item<double>(), 1e-5) << "relu " << relu;
      // The generic path (NCHW) agrees as well.
      const torch::Tensor generic = models::AntInstanceNorm(x.clone(), relu);
      EXPECT_LT((generic - y).abs().max().item<float>(), 1e-5);
    }
  }
}

TEST(AntUnit, PointInstanceNormInPlaceOnEachFramesColumns) {
  // The graph network's norm over points: [1, C, n0] and [1, C, n1] column slices of one
  // [1, C, n0 + n1] map, each normalised in place over its own points (37 and 53: no multiple
  // of the 8 partial sums), against the definition in double; the other slice is untouched.
  torch::manual_seed(4);
  torch::NoGradGuard no_grad;
  for (const bool relu : {false, true}) {
    const torch::Tensor x = torch::randn({1, 12, 90}) * 3 + torch::linspace(-5.0, 5.0, 12).view({1, 12, 1});
    torch::Tensor y = x.clone();
    models::AntInstanceNorm(y.narrow(2, 0, 37), relu);
    EXPECT_TRUE(torch::equal(y.narrow(2, 37, 53), x.narrow(2, 37, 53)));
    models::AntInstanceNorm(y.narrow(2, 37, 53), relu);
    for (const auto& [begin, count] : {std::pair<int64_t, int64_t>{0, 37}, {37, 53}}) {
      const torch::Tensor xd = x.narrow(2, begin, count).to(torch::kDouble);
      const auto [var, mean] = torch::var_mean(xd, {2}, /*unbiased=*/false, /*keepdim=*/true);
      torch::Tensor expected = (xd - mean) / torch::sqrt(var + 1e-5);
      if (relu) expected = expected.relu();
      EXPECT_LT((y.narrow(2, begin, count).to(torch::kDouble) - expected).abs().max().item<double>(), 2e-6)
          << "relu " << relu << " columns from " << begin;
    }
  }
}

TEST(AntUnit, WinogradEncoderEqualsLibTorchsConvolutions) {
  // The encoder's inference paths (layer2 and layer3 by Winograd F(2x2, 3x3), or oneDNN's
  // F(4x4, 3x3) in channel blocks) against the same weights through LibTorch's convolutions,
  // on a frame whose size is no multiple of either tile.
  using Convolutions = models::AntEncoderImpl::Convolutions;
  torch::manual_seed(11);
  torch::NoGradGuard no_grad;
  models::AntEncoder encoder(128);
  const torch::Tensor img = torch::rand({1, 3, 203, 301}) * 2 - 1;
  encoder->UseConvolutions(Convolutions::kWinograd2x2);
  const torch::Tensor fast = encoder->forward(img);
  encoder->UseConvolutions(Convolutions::kLibTorch);
  const torch::Tensor reference = encoder->forward(img);
  EXPECT_LT((fast - reference).abs().max().item<float>(), 2e-5);
  // With autograd on (training an unfrozen encoder) the layers keep LibTorch's convolutions.
  encoder->UseConvolutions(Convolutions::kBest);
  torch::GradMode::set_enabled(true);
  const torch::Tensor trained = encoder->forward(img);
  torch::GradMode::set_enabled(false);
  EXPECT_TRUE(trained.requires_grad());
  EXPECT_LT((trained - reference).abs().max().item<float>(), 1e-5);

  // Segment means, normalised after pooling, against pooling the normalised map; one segment
  // id without pixels gives zeros. kBest is oneDNN's path where the build and CPU have it.
  const int64_t n = 12;
  const torch::Tensor seg = torch::randint(0, n - 1, {1, 203, 301}, torch::kInt32);
  const torch::Tensor pooled = models::SegmentMeanPool(reference, seg, n);
  // Blocks of 23 x 17 pixels as segments too: long runs of one id along a row, runs across
  // the bands of rows that oneDNN's layer3 works in.
  const torch::Tensor rows = torch::arange(203).div(17, "floor").view({203, 1});
  const torch::Tensor cols = torch::arange(301).div(23, "floor").view({1, 301});
  const torch::Tensor blocks = (rows * 14 + cols).to(torch::kInt32).unsqueeze(0);
  const int64_t nb = blocks.max().item<int64_t>() + 1;
  const torch::Tensor pooled_blocks = models::SegmentMeanPool(reference, blocks, nb);
  if (!models::DnnlWinogradAvailable())
    std::cout << "no oneDNN Winograd here: kBest takes F(2x2) in this run\n";
  for (const Convolutions c : {Convolutions::kWinograd2x2, Convolutions::kBest}) {
    SCOPED_TRACE(c == Convolutions::kBest ? "best" : "F(2x2)");
    encoder->UseConvolutions(c);
    const torch::Tensor fused = encoder->SegmentMeans(img, seg, n);
    ASSERT_EQ(fused.sizes(), pooled.sizes());
    EXPECT_LT((fused - pooled).abs().max().item<float>(), 1e-5);
    EXPECT_EQ(fused.select(2, n - 1).abs().max().item<float>(), 0.0f);
    EXPECT_THROW(encoder->SegmentMeans(img, seg, n - 2), std::invalid_argument);  // ids out of range
    const torch::Tensor fused_blocks = encoder->SegmentMeans(img, blocks, nb);
    EXPECT_LT((fused_blocks - pooled_blocks).abs().max().item<float>(), 1e-5);
  }
}

TEST(AntUnit, GnnOnBothFramesAtOnceEqualsFramePerFrame) {
  // Inference runs the GNN on both frames side by side (one product per projection and MLP
  // layer); with autograd on it runs each frame on its own, as the original. Different point
  // counts, self and cross layers, four heads: of 16 channels (LibTorch's products) and of 32
  // (AnT's, the fused SmallAttention kernel).
  for (const int64_t d : {64, 128}) {
    SCOPED_TRACE("descriptor dimension " + std::to_string(d));
    torch::manual_seed(13);
    models::AntAttentionalGnn gnn(d, std::vector<bool>{false, true, false, true}, 4);
    const torch::Tensor desc0 = torch::randn({1, d, 37});
    const torch::Tensor desc1 = torch::randn({1, d, 52});
    torch::Tensor ref0, ref1, pair0, pair1;
    {
      torch::AutoGradMode grad(true);
      std::tie(ref0, ref1) = gnn->forward(desc0, desc1);
    }
    {
      torch::NoGradGuard no_grad;
      std::tie(pair0, pair1) = gnn->forward(desc0, desc1);
    }
    ASSERT_EQ(pair0.sizes(), ref0.sizes());
    ASSERT_EQ(pair1.sizes(), ref1.sizes());
    EXPECT_LT((pair0 - ref0).abs().max().item<float>(), 1e-5);
    EXPECT_LT((pair1 - ref1).abs().max().item<float>(), 1e-5);
  }
}

TEST(AntUnit, SegmentBoxesByHand) {
  // 3x4 label map; id 1 is an L shape, id 3 absent.
  const torch::Tensor seg = torch::tensor({0, 1, 1, 2, 0, 1, 2, 2, 0, 0, 0, 2}, torch::kInt).reshape({3, 4});
  torch::Tensor counts;
  const torch::Tensor b = models::AntSegmentBoxes(seg, 4, &counts);
  const torch::Tensor expect =
      torch::tensor({0, 2, 0, 2, 1, 2, 0, 1, 2, 3, 0, 2, 0, 0, 0, 0}, torch::kLong).reshape({4, 4});
  EXPECT_TRUE(torch::equal(b, expect)) << b;
  EXPECT_TRUE(torch::equal(counts, torch::tensor({5, 3, 4, 0}, torch::kLong)));
  EXPECT_THROW(models::AntSegmentBoxes(seg, 2), std::invalid_argument);  // id 2 >= n
  EXPECT_THROW(models::AntSegmentBoxes(seg.to(torch::kFloat), 4), std::invalid_argument);
}

TEST(AntUnit, PredictTakesRowArgmaxAndDustbin) {
  // Row 0 prefers column 1, row 1 the dustbin (column 2).
  const torch::Tensor s = torch::tensor({0.f, 2.f, 0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 0.f}).reshape({1, 3, 3});
  const auto p = models::PredictAntMatches(s);
  EXPECT_TRUE(torch::equal(p.matches0, torch::tensor({{1, -1}}, torch::kLong)));
  const double e2 = std::exp(2.0);
  EXPECT_NEAR(p.matching_scores0[0][0].item<double>(), e2 / (e2 + 2), 1e-6);
  EXPECT_NEAR(p.matching_scores0[0][1].item<double>(), std::exp(1.0) / (std::exp(1.0) + 2), 1e-6);
  EXPECT_TRUE(torch::allclose(p.probabilities.sum(2), torch::ones({1, 3})));
}

TEST(AntUnit, LossByHandWithAndWithoutWeights) {
  // N0 = N1 = 2; targets: row 0 -> column 1, row 1 -> dustbin (-1 -> column 2).
  const std::vector<float> v = {0.5f, -1.f, 0.2f, 1.5f, 0.f, -0.3f, 0.3f, 0.3f, 0.3f};
  const torch::Tensor s = torch::tensor(v).reshape({1, 3, 3}).requires_grad_(true);
  auto ce = [&](int row, int col) {
    double z = 0;
    for (int j = 0; j < 3; ++j) z += std::exp(v[3 * row + j]);
    return -(v[3 * row + col] - std::log(z));
  };
  const torch::Tensor target = torch::tensor({{1, -1}}, torch::kLong);
  EXPECT_NEAR(models::AntMatchingLoss(s, target).item<double>(), (ce(0, 1) + ce(1, 2)) / 2, 1e-6);
  const torch::Tensor counts = torch::tensor({{30, 90}}, torch::kLong);  // of a 10x12 frame
  const torch::Tensor w = models::AntAreaWeights(counts, 10, 12);
  EXPECT_NEAR(w[0][0].item<double>(), 0.25, 1e-7);
  const torch::Tensor loss = models::AntMatchingLoss(s, target, w);
  EXPECT_NEAR(loss.item<double>(), 0.25 * ce(0, 1) + 0.75 * ce(1, 2), 1e-6);
  loss.backward();
  ASSERT_TRUE(s.grad().defined());
  EXPECT_TRUE(torch::equal(s.grad()[0][2], torch::zeros({3})));  // the dustbin row is no target
  EXPECT_GT(s.grad().abs().sum().item<double>(), 0);
  EXPECT_THROW(models::AntMatchingLoss(s, torch::tensor({{1, 2}})), std::invalid_argument);  // 2 > N1 - 1
  EXPECT_THROW(models::AntMatchingLoss(s, torch::tensor({{1}})), std::invalid_argument);
  EXPECT_THROW(models::AntMatchingLoss(s, target, torch::ones({3})), std::invalid_argument);
}

TEST(AntUnit, ForwardShapesGradientsAndSmallN) {
  AntNet net(SmallConfig());
  const auto f0 = MakeFrame(12, 16, 4, 1);
  const auto f1 = MakeFrame(12, 16, 3, 2);
  const auto out = net->Forward(f0, f1);
  ASSERT_EQ(out.scores.sizes(), (std::vector<int64_t>{1, 5, 4}));
  EXPECT_EQ(out.segment_desc0.sizes(), (std::vector<int64_t>{1, 16, 4}));
  EXPECT_TRUE(torch::allclose(out.scores.select(2, 3), net->bin_score().expand({1, 5})));
  models::AntMatchingLoss(out.scores, torch::tensor({{0, 1, -1, 2}})).backward();
  for (const auto& p : net->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0) << p.key();
  }
  // The official forward does not run the network below 2 segments in either frame.
  EXPECT_THROW(net->Forward(MakeFrame(12, 16, 1, 3), f1), std::invalid_argument);
  EXPECT_THROW(net->Forward(f0, MakeFrame(12, 16, 1, 3)), std::invalid_argument);
  // Ids beyond the keypoints and mis-sized maps are refused.
  auto bad = f0;
  bad.keypoints = f0.keypoints.slice(1, 0, 3);
  EXPECT_THROW(net->Forward(bad, f1), std::invalid_argument);
  bad = f0;
  bad.segments = f0.segments.slice(2, 0, 8);
  EXPECT_THROW(net->Forward(bad, f1), std::invalid_argument);
}

TEST(AntUnit, PrecomputedDescriptorsGiveTheSameScores) {
  AntNet net(SmallConfig());
  auto f0 = MakeFrame(12, 16, 4, 1);
  auto f1 = MakeFrame(12, 16, 3, 2);
  torch::NoGradGuard no_grad;
  const auto plain = net->Forward(f0, f1);
  f0.descriptors = net->SegmentDescriptors(f0);
  f1.descriptors = net->SegmentDescriptors(f1);
  EXPECT_TRUE(torch::equal(f0.descriptors, plain.segment_desc0));
  const auto reused = net->Forward(f0, f1);
  EXPECT_TRUE(torch::equal(reused.scores, plain.scores));
  // Descriptors of another frame's segment count are refused.
  auto bad = f0;
  bad.descriptors = f1.descriptors;
  EXPECT_THROW(net->Forward(bad, f1), std::invalid_argument);
}

TEST(AntUnit, OfficialKeyNames) {
  AntNet net;  // the full configuration: 24 GNN layers
  std::vector<std::string> keys;
  for (const auto& p : net->named_parameters()) keys.push_back(p.key());
  for (const std::string k : {"bin_score", "kenc.encoder.0.weight", "kenc.encoder.9.bias", "gnn.layers.23.attn.merge.weight",
                              "gnn.layers.0.attn.proj.2.bias", "gnn.layers.5.mlp.3.weight", "final_proj.weight",
                              "segment_desc.encoder.layer1.weight", "segment_desc.encoder.layer3.bias"})
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
  EXPECT_EQ(keys.size(), 1u + 8 + 24 * 12 + 2 + 6);
}

void ExpectSameWeights(AntNet& a, AntNet& b, bool same) {
  bool all_equal = true;
  const auto pb = b->named_parameters();
  for (const auto& p : a->named_parameters()) all_equal = all_equal && torch::equal(p.value(), pb[p.key()]);
  EXPECT_EQ(all_equal, same);
}

TEST(AntUnit, SaveLoadRoundTrip) {
  const auto dir = ScratchDir("ant");
  const std::string path = (dir / "ant.pt").string();
  torch::manual_seed(3);
  AntNet a(SmallConfig());
  models::SaveAntWeights(*a, path);
  // The file holds the official names with the DataParallel prefix.
  models::CheckpointLoadOptions raw;
  raw.strip_module_prefix = false;
  const auto state = models::LoadStateDict(path, raw);
  EXPECT_TRUE(state.Contains("module.bin_score"));
  EXPECT_TRUE(state.Contains("module.gnn.layers.1.attn.proj.0.weight"));
  torch::manual_seed(4);
  AntNet b(SmallConfig());
  ExpectSameWeights(a, b, false);
  const auto report = models::LoadAntWeights(*b, path);
  EXPECT_TRUE(report.ok()) << report.Summary();
  ExpectSameWeights(a, b, true);
  // And the two networks agree.
  const auto f0 = MakeFrame(8, 8, 3, 5), f1 = MakeFrame(8, 8, 2, 6);
  torch::NoGradGuard ng;
  EXPECT_TRUE(torch::equal(a->Forward(f0, f1).scores, b->Forward(f0, f1).scores));
}

std::string LoadError(AntNet& net, const std::string& path) {
  try {
    models::LoadAntWeights(*net, path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(AntUnit, MissingAndUnexpectedKeysAreNamed) {
  const auto dir = ScratchDir("ant");
  AntNet a(SmallConfig());
  models::StateDict state = models::ModuleStateDict(*a, [](const std::string& k) { return "module." + k; });
  // Drop final_proj.bias, add an unknown entry.
  for (auto it = state.entries.begin(); it != state.entries.end(); ++it)
    if (it->first == "module.final_proj.bias") {
      state.entries.erase(it);
      break;
    }
  state.entries.emplace_back("module.extra.weight", torch::zeros({2}));
  const std::string path = (dir / "bad.pt").string();
  models::SaveStateDict(path, state);
  torch::manual_seed(9);
  AntNet b(SmallConfig());
  const torch::Tensor before = b->bin_score().clone();
  const std::string msg = LoadError(b, path);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("final_proj.bias"), std::string::npos) << msg;
  EXPECT_NE(msg.find("extra.weight"), std::string::npos) << msg;
  EXPECT_TRUE(torch::equal(before, b->bin_score()));  // strict failure leaves the module alone
  // A checkpoint of another size (full config) names the mis-shaped keys.
  const std::string full = (dir / "full.pt").string();
  AntNet big;
  models::SaveAntWeights(*big, full);
  const std::string msg2 = LoadError(b, full);
  EXPECT_NE(msg2.find("final_proj.weight"), std::string::npos) << msg2;
  // Non-strict: the report lists them and the matching entries are copied.
  const auto report = models::LoadAntWeights(*b, path, /*strict=*/false);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.missing, std::vector<std::string>{"final_proj.bias"});
}

TEST(AntUnit, TruncatedOrCorruptCheckpointLeavesWeightsUnchanged) {
  const auto dir = ScratchDir("ant");
  const std::string good = (dir / "good.pt").string();
  AntNet a(SmallConfig());
  models::SaveAntWeights(*a, good);
  std::ifstream in(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  torch::manual_seed(11);
  AntNet b(SmallConfig());
  AntNet snapshot(SmallConfig());
  models::LoadIntoModule(*snapshot, models::ModuleStateDict(*b));
  for (const size_t len : {size_t{0}, size_t{10}, bytes.size() / 2, bytes.size() - 7}) {
    const std::string path = (dir / ("cut" + std::to_string(len) + ".pt")).string();
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(len));
    const std::string msg = LoadError(b, path);
    EXPECT_NE(msg.find(path), std::string::npos) << len << ": " << msg;
    ExpectSameWeights(b, snapshot, true);
  }
  std::string flipped = bytes;
  for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 64; ++i) flipped[i] = static_cast<char>(~flipped[i]);
  const std::string path = (dir / "flipped.pt").string();
  std::ofstream(path, std::ios::binary).write(flipped.data(), static_cast<std::streamsize>(flipped.size()));
  EXPECT_NE(LoadError(b, path), "");
  ExpectSameWeights(b, snapshot, true);
  EXPECT_NE(LoadError(b, (dir / "absent.pt").string()).find("absent.pt"), std::string::npos);
}

TEST(AntUnit, ConfigCheck) {
  AntConfig c;
  EXPECT_NO_THROW(c.Check());
  c.descriptor_dim = 30;
  EXPECT_THROW(c.Check(), std::invalid_argument);
  c = AntConfig();
  c.num_heads = 3;
  EXPECT_THROW(c.Check(), std::invalid_argument);
}

}  // namespace
}  // namespace animerun::test
