// RAFT building blocks without the golden fixtures: InputPadder, the correlation lookup
// order and interpolation, convex upsampling, parameter names, FlowModel::Estimate.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "models/common/corr_block.h"
#include "models/common/flow_model.h"
#include "models/common/input_padder.h"
#include "models/common/runtime.h"
#include "models/gma/gma.h"
#include "models/raft/raft.h"

namespace animerun::models {
namespace {

std::vector<int64_t> Pads(const InputPadder& p) { return {p.pad_lrtb().begin(), p.pad_lrtb().end()}; }

TEST(InputPadder, OfficialSplits) {
  // Sintel 436x1024: 4 rows, centred.
  EXPECT_EQ(Pads(InputPadder(436, 1024, "sintel")), (std::vector<int64_t>{0, 0, 2, 2}));
  // KITTI 375x1242: 1 row at the bottom, 6 columns split 3/3.
  EXPECT_EQ(Pads(InputPadder(375, 1242, "kitti")), (std::vector<int64_t>{3, 3, 0, 1}));
  // Odd amounts put the extra pixel right/bottom: 121 -> 7 = 3 + 4.
  EXPECT_EQ(Pads(InputPadder(121, 121, "sintel")), (std::vector<int64_t>{3, 4, 3, 4}));
  InputPadder none(128, 160);
  EXPECT_TRUE(none.is_identity());
  EXPECT_EQ(none.padded_height(), 128);
  // min_size grows the padding in steps of the divisor.
  InputPadder grown(60, 100, "sintel", 8, 128);
  EXPECT_EQ(grown.padded_height(), 128);
  EXPECT_EQ(grown.padded_width(), 128);
  EXPECT_EQ(Pads(grown), (std::vector<int64_t>{14, 14, 34, 34}));
  EXPECT_EQ(InputPadder(50, 50, "kitti", 16).padded_height(), 64);
}

TEST(InputPadder, ReplicatesAndUnpadsBack) {
  auto x = torch::arange(2 * 3 * 5 * 6, torch::kFloat).view({2, 3, 5, 6});
  InputPadder p(5, 6, "sintel");  // pads 3 rows (1 top, 2 bottom), 2 columns (1, 1)
  auto y = p.Pad(x);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 8, 8}));
  EXPECT_TRUE(torch::equal(y.index({0, 0, 0, 0}), x.index({0, 0, 0, 0})));    // top-left corner replicated
  EXPECT_TRUE(torch::equal(y.index({1, 2, 7, 7}), x.index({1, 2, 4, 5})));    // bottom-right
  EXPECT_TRUE(torch::equal(y.index({1, 2, 6, 3}), x.index({1, 2, 4, 2})));    // bottom rows copy the last row
  EXPECT_TRUE(torch::equal(p.Unpad(y), x));
  InputPadder k(5, 6, "kitti");
  auto yk = k.Pad(x);
  EXPECT_TRUE(torch::equal(yk.slice(2, 0, 5).slice(3, 1, 7), x));  // all rows added at the bottom
  EXPECT_TRUE(torch::equal(yk.index({1, 1, 7, 0}), x.index({1, 1, 4, 0})));
  EXPECT_TRUE(torch::equal(k.Unpad(yk), x));
}

TEST(InputPadder, RejectsBadArguments) {
  EXPECT_THROW(InputPadder(10, 10, "middlebury"), std::invalid_argument);
  EXPECT_THROW(InputPadder(0, 10), std::invalid_argument);
  EXPECT_THROW(InputPadder(10, 10, "sintel", 0), std::invalid_argument);
  InputPadder p(10, 10);
  EXPECT_THROW(p.Pad(torch::zeros({1, 3, 11, 10})), std::invalid_argument);
}

TEST(FlowInferenceOptions, Check) {
  FlowInferenceOptions o;
  EXPECT_NO_THROW(o.Check());
  o.iters = 0;
  EXPECT_THROW(o.Check(), std::invalid_argument);
  o = {};
  o.padding = "centre";
  EXPECT_THROW(o.Check(), std::invalid_argument);
  o = {};
  o.precision = "fp64";
  EXPECT_THROW(o.Check(), std::invalid_argument);
  o = {};
  o.flow_init = torch::zeros({1, 3, 4, 4});
  EXPECT_THROW(o.Check(), std::invalid_argument);
  o.flow_init = torch::zeros({1, 2, 4, 4}, torch::kLong);
  EXPECT_THROW(o.Check(), std::invalid_argument);
}

// At integer positions the lookup is a plain read of the correlation volume, so the
// channel order can be checked against the volume itself: channel i*(2r+1)+j holds the
// offset (dx, dy) = (i - r, j - r), zero outside the image.
TEST(CorrBlock, LookupOrderIsXMajor) {
  torch::manual_seed(1);
  const int64_t h = 12, w = 16, r = 2;
  auto f1 = torch::randn({1, 8, h, w}), f2 = torch::randn({1, 8, h, w});
  CorrBlock corr(f1, f2, 2, r);
  auto vol = CorrBlock::AllPairs(f1, f2).view({h, w, h, w});
  auto coords = CoordsGrid(1, h, w, torch::kCPU);
  auto out = corr(coords);
  const int64_t k = 2 * r + 1;
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 2 * k * k, h, w}));
  for (int64_t y : {0, 5, 11}) {
    for (int64_t x : {0, 7, 15}) {
      for (int64_t i = 0; i < k; ++i) {
        for (int64_t j = 0; j < k; ++j) {
          const int64_t xx = x + i - r, yy = y + j - r;
          const float want = (xx >= 0 && xx < w && yy >= 0 && yy < h) ? vol[y][x][yy][xx].item<float>() : 0.f;
          EXPECT_NEAR(out[0][i * k + j][y][x].item<float>(), want, 1e-5) << y << " " << x << " " << i << " " << j;
        }
      }
    }
  }
  // Level 1 is the 2x2-average-pooled volume sampled at coords / 2.
  auto vol1 = corr.pyramid()[1].view({h, w, h / 2, w / 2});
  EXPECT_NEAR(out[0][k * k + r * k + r][4][6].item<float>(), vol1[4][6][2][3].item<float>(), 1e-5);
}

TEST(CorrBlock, BilinearBetweenPixels) {
  torch::manual_seed(2);
  const int64_t h = 8, w = 8;
  auto f1 = torch::randn({1, 4, h, w}), f2 = torch::randn({1, 4, h, w});
  CorrBlock corr(f1, f2, 1, 1);
  auto vol = CorrBlock::AllPairs(f1, f2).view({h, w, h, w});
  auto coords = CoordsGrid(1, h, w, torch::kCPU);
  coords.index_put_({0, 0}, coords[0][0] + 0.25);  // x + 0.25
  coords.index_put_({0, 1}, coords[0][1] + 0.5);   // y + 0.5
  auto out = corr(coords);
  const int64_t y = 3, x = 4;  // centre sample (i = j = 1) of pixel (3, 4) at (4.25, 3.5)
  const float want = 0.75f * 0.5f * vol[y][x][3][4].item<float>() + 0.25f * 0.5f * vol[y][x][3][5].item<float>() +
                     0.75f * 0.5f * vol[y][x][4][4].item<float>() + 0.25f * 0.5f * vol[y][x][4][5].item<float>();
  EXPECT_NEAR(out[0][4][y][x].item<float>(), want, 1e-5);
  EXPECT_THROW(CorrBlock(torch::zeros({1, 4, 4, 4}), torch::zeros({1, 4, 4, 4}), 4, 4), std::invalid_argument);
}

// The CPU kernel agrees with the original grid_sample formulation everywhere, including
// windows partly or wholly outside the volume and batch > 1.
TEST(CorrBlock, CpuKernelMatchesGridSample) {
  torch::manual_seed(4);
  const int64_t h = 16, w = 20;
  auto f1 = torch::randn({2, 16, h, w}), f2 = torch::randn({2, 16, h, w});
  for (int r : {3, 4}) {
    CorrBlock corr(f1, f2, 4, r);
    auto coords = CoordsGrid(2, h, w, torch::kCPU) + torch::randn({2, 2, h, w}) * 6;
    coords.index_put_({1, 0, 3, 4}, 1e6f);      // far outside
    coords.index_put_({1, 1, 5, 6}, -30.5f);   // above the image
    auto fast = corr(coords);
    auto ref = corr.LookupReference(coords);
    ASSERT_EQ(fast.sizes(), ref.sizes());
    EXPECT_TRUE(fast.is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_LT((fast - ref).abs().max().item<float>(), 1e-4) << "radius " << r;
    EXPECT_EQ(fast[1].select(1, 3).select(1, 4).abs().max().item<float>(), 0.f);
  }
}

TEST(ConvexUpsample, PeakedMaskCopiesScaledCentre) {
  torch::manual_seed(3);
  auto flow = torch::randn({1, 2, 3, 4});
  auto mask = torch::full({1, 9, 64, 3, 4}, -50.f);
  mask.index_put_({0, 4}, 50.f);  // all weight on the centre of the 3x3 neighbourhood
  auto up = ConvexUpsample(flow, mask.view({1, 576, 3, 4}));
  ASSERT_EQ(up.sizes(), (std::vector<int64_t>{1, 2, 24, 32}));
  auto nearest = flow.mul(8).repeat_interleave(8, 2).repeat_interleave(8, 3);
  EXPECT_LT((up - nearest).abs().max().item<float>(), 1e-4);
  // A uniform mask averages the 3x3 neighbourhood (zero padded at the border).
  auto avg = ConvexUpsample(flow, torch::zeros({1, 576, 3, 4}));
  const float want = flow[0][0].slice(0, 0, 3).slice(1, 0, 3).sum().item<float>() * 8 / 9;
  EXPECT_NEAR(avg[0][0][8 + 3][8 + 5].item<float>(), want, 1e-4);
}

// The planned GRU (context share precomputed, gates fused, channels-last) computes the
// original convolution over [h, context, m].
TEST(GruPlan, MatchesOriginalGru) {
  torch::manual_seed(5);
  c10::InferenceMode guard;
  const int64_t hd = 16, c = 8, m = 12;
  auto h = torch::randn({2, hd, 9, 11}).tanh(), ctx = torch::randn({2, c, 9, 11}), mot = torch::randn({2, m, 9, 11});
  SepConvGRU sep(hd, c + m);
  auto want = sep->forward(h, torch::cat({ctx, mot}, 1));
  auto got = sep->Step(sep->Plan(UpdateLayout(ctx)), UpdateLayout(h), UpdateLayout(mot));
  EXPECT_LT((got - want).abs().max().item<float>(), 1e-5);
  ConvGRU gru(hd, c + m);
  auto want2 = gru->forward(h, torch::cat({ctx, mot}, 1));
  auto got2 = gru->Step(gru->Plan(ctx), h, mot);
  EXPECT_LT((got2 - want2).abs().max().item<float>(), 1e-5);
  EXPECT_GT((want2 - h).abs().max().item<float>(), 1e-2);  // the step does change h
}

std::set<std::string> Keys(const torch::nn::Module& m) {
  std::set<std::string> keys;
  for (const auto& p : m.named_parameters()) keys.insert(p.key());
  for (const auto& b : m.named_buffers()) keys.insert(b.key());
  return keys;
}

// Counts and names of the official state dicts (179 / 106 / 185 entries).
TEST(RaftModules, StateDictNamesMatchOfficial) {
  const auto full = Keys(*RaftNet(false));
  EXPECT_EQ(full.size(), 179u);
  for (const char* k : {"fnet.conv1.weight", "fnet.layer2.0.downsample.0.bias", "cnet.norm1.num_batches_tracked",
                        "cnet.layer3.0.norm3.running_var", "cnet.layer3.0.downsample.1.running_var",
                        "update_block.encoder.convc1.weight", "update_block.gru.convq2.bias",
                        "update_block.flow_head.conv2.weight", "update_block.mask.0.weight", "update_block.mask.2.bias"})
    EXPECT_TRUE(full.count(k)) << k;
  EXPECT_FALSE(full.count("fnet.norm1.weight"));  // instance norm without affine
  const auto small = Keys(*RaftNet(true));
  EXPECT_EQ(small.size(), 106u);
  for (const char* k : {"fnet.layer3.0.conv3.weight", "cnet.layer2.0.downsample.0.weight", "update_block.gru.convz.weight"})
    EXPECT_TRUE(small.count(k)) << k;
  const auto gma = Keys(*GmaNet(1));
  EXPECT_EQ(gma.size(), 185u);
  for (const char* k : {"att.to_qk.weight", "att.pos_emb.rel_ind", "att.pos_emb.rel_height.weight",
                        "update_block.aggregator.gamma", "update_block.aggregator.to_v.weight"})
    EXPECT_TRUE(gma.count(k)) << k;
  auto params = RaftNet(false)->named_parameters();
  EXPECT_EQ(params["update_block.gru.convz1.weight"].sizes(), (std::vector<int64_t>{128, 384, 1, 5}));
  EXPECT_EQ(GmaNet(1)->named_parameters()["update_block.gru.convz1.weight"].sizes(),
            (std::vector<int64_t>{128, 512, 1, 5}));
}

torch::Tensor RandomImage(int64_t b, int64_t h, int64_t w, int seed) {
  torch::manual_seed(seed);
  return torch::rand({b, 3, h, w}) * 255;
}

// Estimate pads any size (here below the 128 px the pyramid needs, and not a multiple of
// 8) and returns a finite flow at the input size.
TEST(RaftFlowModel, EstimateAnySize) {
  ConfigureThreads(2);
  for (bool small : {true, false}) {
    auto m = CreateRaft(small);
    FlowInferenceOptions opt;
    opt.iters = 2;
    for (const char* mode : {"sintel", "kitti"}) {
      opt.padding = mode;
      auto flow = m->Estimate(RandomImage(1, 37, 50, 4), RandomImage(1, 37, 50, 5), opt);
      ASSERT_EQ(flow.sizes(), (std::vector<int64_t>{1, 2, 37, 50}));
      EXPECT_TRUE(torch::isfinite(flow).all().item<bool>());
    }
  }
}

TEST(RaftFlowModel, RejectsBadInput) {
  auto m = CreateRaft(true);
  FlowInferenceOptions opt;
  opt.iters = 1;
  EXPECT_THROW(m->Estimate(torch::zeros({1, 3, 64, 64}), torch::zeros({1, 3, 64, 72}), opt), std::invalid_argument);
  EXPECT_THROW(m->Estimate(torch::zeros({1, 1, 64, 64}), torch::zeros({1, 1, 64, 64}), opt), std::invalid_argument);
  opt.flow_init = torch::zeros({1, 2, 8, 8});  // padded input is 128x128 -> 16x16
  EXPECT_THROW(m->Estimate(torch::zeros({1, 3, 64, 64}), torch::zeros({1, 3, 64, 64}), opt), std::invalid_argument);
  opt = {};
  opt.precision = "fp64";
  EXPECT_THROW(m->Estimate(torch::zeros({1, 3, 64, 64}), torch::zeros({1, 3, 64, 64}), opt), std::invalid_argument);
}

// A batch gives the same flows as its items one by one (batched correlation, instance
// norm per sample), and a warm start changes the result.
TEST(RaftFlowModel, BatchMatchesSingles) {
  ConfigureThreads(2);
  auto m = CreateRaft(false);
  FlowInferenceOptions opt;
  opt.iters = 2;
  auto a = RandomImage(2, 128, 136, 6), b = RandomImage(2, 128, 136, 7);
  auto both = m->Estimate(a, b, opt);
  for (int64_t i = 0; i < 2; ++i) {
    auto one = m->Estimate(a.slice(0, i, i + 1), b.slice(0, i, i + 1), opt);
    EXPECT_LT((both.slice(0, i, i + 1) - one).abs().max().item<float>(), 1e-4) << i;
  }
  opt.flow_init = torch::full({2, 2, 16, 17}, 1.5f);
  auto warm = m->Estimate(a, b, opt);
  EXPECT_GT((warm - both).abs().max().item<float>(), 1e-3);
}

}  // namespace
}  // namespace animerun::models
