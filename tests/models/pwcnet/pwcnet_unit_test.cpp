// PWC-Net pieces against direct definitions: the 81-channel correlation, backwarp with its
// validity mask, names of the official weights, and the estimate() shape handling.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <torch/torch.h>

#include "models/pwcnet/pwcnet.h"
#include "test_paths.h"

namespace animerun::models {
namespace {

TEST(PwcCorrelation, MatchesDirectSum) {
  torch::manual_seed(2);
  const int64_t b = 2, c = 5, h = 6, w = 11;
  auto one = torch::randn({b, c, h, w}), two = torch::randn({b, c, h, w});
  auto got = pwcnet::Correlation(one, two);
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{b, 81, h, w}));
  auto o = one.accessor<float, 4>(), t = two.accessor<float, 4>();
  auto g = got.accessor<float, 4>();
  double worst = 0;
  for (int64_t n = 0; n < b; ++n)
    for (int64_t dy = -4; dy <= 4; ++dy)
      for (int64_t dx = -4; dx <= 4; ++dx)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x) {
            double sum = 0;
            const int64_t y2 = y + dy, x2 = x + dx;
            if (y2 >= 0 && y2 < h && x2 >= 0 && x2 < w)
              for (int64_t k = 0; k < c; ++k) sum += double(o[n][k][y][x]) * t[n][k][y2][x2];
            worst = std::max(worst, std::abs(g[n][(dy + 4) * 9 + (dx + 4)][y][x] - sum / c));
          }
  EXPECT_LT(worst, 1e-5);
}

TEST(PwcBackwarp, ZeroFlowIsIdentity) {
  auto x = torch::randn({1, 4, 5, 9});
  EXPECT_TRUE(torch::allclose(pwcnet::Backwarp(x, torch::zeros({1, 2, 5, 9})), x, 1e-5, 1e-5));
}

TEST(PwcBackwarp, ShiftsAndZeroesPixelsLeavingTheImage) {
  auto x = torch::randn({1, 3, 5, 9});
  auto flow = torch::zeros({1, 2, 5, 9});
  flow.select(1, 0).fill_(2);
  auto out = pwcnet::Backwarp(x, flow);
  EXPECT_TRUE(torch::allclose(out.slice(3, 0, 7), x.slice(3, 2, 9), 1e-5, 1e-5));
  EXPECT_EQ(out.slice(3, 7, 9).abs().max().item<float>(), 0.f);
  // The validity channel must exceed 0.999: a sample 0.0005 px outside survives (weighted,
  // not renormalised), one 0.002 px outside is zeroed.
  flow.zero_();
  flow[0][0][2][8] = 0.0005f;
  flow[0][0][3][8] = 0.002f;
  out = pwcnet::Backwarp(x, flow);
  EXPECT_NEAR(out[0][1][2][8].item<float>(), x[0][1][2][8].item<float>() * 0.9995f, 1e-4);
  EXPECT_NE(out[0][1][2][8].item<float>(), 0.f);
  EXPECT_EQ(out[0][1][3][8].item<float>(), 0.f);
}

TEST(PwcNames, MapToOfficialKeys) {
  PwcNet net;
  std::set<std::string> names;
  for (const auto& p : net->named_parameters()) names.insert(PwcKeyToOfficial(p.key()));
  EXPECT_EQ(names.size(), 126u);
  for (const char* k : {"moduleExtractor.moduleOne.0.weight", "moduleExtractor.moduleSix.4.bias",
                        "moduleTwo.moduleUpflow.weight", "moduleFiv.moduleUpfeat.bias", "moduleSix.moduleSix.0.weight",
                        "moduleThr.moduleFou.0.bias", "moduleRefiner.moduleMain.12.bias"})
    EXPECT_TRUE(names.count(k)) << k;
  EXPECT_EQ(names.count("moduleSix.moduleUpflow.weight"), 0u);  // no upsampling into the coarsest level
  EXPECT_EQ(PwcKeyFromOfficial("moduleRefiner.moduleMain.12.bias"), "netRefiner.netMain.12.bias");
  EXPECT_EQ(PwcKeyFromOfficial("netTwo.netUpflow.weight"), "netTwo.netUpflow.weight");
  auto params = net->named_parameters();
  // Channel counts of run.py: dense level-2 features are 565 wide, level-6 upfeat input 529.
  EXPECT_EQ(params["netRefiner.netMain.0.weight"].size(1), 565);
  EXPECT_EQ(params["netFiv.netUpfeat.weight"].size(0), 81 + 448);
  EXPECT_EQ(params["netTwo.netSix.0.weight"].size(1), 565);
  EXPECT_EQ(params["netRefiner.netMain.8.weight"].sizes(), (std::vector<int64_t>{64, 96, 3, 3}));
}

TEST(PwcModel, EstimateResizesAnySizeBack) {
  torch::manual_seed(0);
  auto model = CreatePwcNet();
  EXPECT_EQ(model->name(), "pwc");
  auto a = torch::rand({1, 3, 70, 90}) * 255, b = torch::rand({1, 3, 70, 90}) * 255;
  auto flow = model->Estimate(a, b, FlowInferenceOptions{});
  ASSERT_EQ(flow.sizes(), (std::vector<int64_t>{1, 2, 70, 90}));
  EXPECT_TRUE(torch::isfinite(flow).all().item<bool>());
  flow.add_(1);  // a normal tensor outside inference mode
  FlowInferenceOptions o;
  EXPECT_THROW(model->Estimate(a, b.slice(3, 0, 64), o), std::invalid_argument);
  o.precision = "fp16";  // bf16 runs on the CPU (pwcnet_precision_test.cpp), fp16 on CUDA only
  EXPECT_THROW(model->Estimate(a, b, o), std::invalid_argument);
  o.precision = "bf16";
  const auto low = model->Estimate(a, b, o);
  ASSERT_EQ(low.sizes(), flow.sizes());
  EXPECT_EQ(low.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::isfinite(low).all().item<bool>());
  PwcNet net;
  torch::NoGradGuard ng;
  EXPECT_THROW(net->forward(torch::zeros({1, 3, 64, 96}), torch::zeros({1, 3, 64, 96})), std::invalid_argument);
}

TEST(PwcModel, SavesOfficialNamesAndLoadsThemBack) {
  torch::manual_seed(4);
  PwcNetModel a;
  const auto path = (test::ScratchDir("pwc_roundtrip") / "pwc.pth").string();
  a.SaveWeights(path);
  const auto state = LoadStateDict(path);
  ASSERT_EQ(state.size(), 126u);
  EXPECT_TRUE(state.Contains("moduleExtractor.moduleOne.0.weight"));
  EXPECT_FALSE(state.Contains("netExtractor.netOne.0.weight"));
  PwcNetModel b;
  EXPECT_TRUE(b.LoadWeights(path).ok());
  auto pa = a.net()->named_parameters(), pb = b.net()->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  EXPECT_THROW(b.LoadWeights(path + ".missing"), std::runtime_error);
  // A truncated file throws and leaves the weights as they were.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const auto truncated = path + ".truncated";
  std::ofstream(truncated, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() * 2 / 3));
  PwcNetModel c;
  const auto before = c.net()->named_parameters()["netRefiner.netMain.12.weight"].clone();
  EXPECT_THROW(c.LoadWeights(truncated), std::runtime_error);
  EXPECT_TRUE(torch::equal(c.net()->named_parameters()["netRefiner.netMain.12.weight"], before));
}

}  // namespace
}  // namespace animerun::models
