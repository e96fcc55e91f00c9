// Weights files as files: info counts what is stored, convert re-saves in another precision
// with keys, order and wrapping as asked, and values survive within that precision.
#include "core/io/weights_file.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include "core/util/error.h"
#include "models/common/checkpoint.h"
#include "test_paths.h"

namespace animerun::io {
namespace {

models::StateDict Sample() {
  torch::manual_seed(3);
  models::StateDict s;
  s.entries.emplace_back("module.conv.weight", torch::randn({8, 4, 3, 3}));
  s.entries.emplace_back("module.conv.bias", torch::randn({8}));
  s.entries.emplace_back("module.bn.num_batches_tracked", torch::tensor(int64_t{7}));
  return s;
}

TEST(WeightsFile, ConvertToHalfKeepsKeysAndValuesWithinHalfPrecision) {
  const auto dir = test::ScratchDir("weights_convert");
  const std::string in = (dir / "in.pth").string(), out = (dir / "out.pth").string();
  const models::StateDict src = Sample();
  models::SaveStateDict(in, src, "", "model");

  const WeightsInfo before = InspectWeights(in);
  EXPECT_EQ(before.tensors, 3);
  EXPECT_EQ(before.elements, 8 * 4 * 9 + 8 + 1);
  EXPECT_EQ(before.bytes, (8 * 4 * 9 + 8) * 4 + 8);
  EXPECT_EQ(before.keys.front(), "module.conv.weight");

  WeightsConvertOptions o;
  o.in = in;
  o.out = out;
  o.dtype = "fp16";
  o.wrapper = "model";
  WeightsInfo read;
  const WeightsInfo after = ConvertWeights(o, &read);
  EXPECT_EQ(read.bytes, before.bytes);
  EXPECT_EQ(read.keys, before.keys);
  EXPECT_EQ(after.bytes, (8 * 4 * 9 + 8) * 2 + 8);
  EXPECT_EQ(after.keys, before.keys);
  EXPECT_EQ(after.dtypes, (std::vector<std::string>{"Half", "Long"}));

  // Read back as the networks read it: 'model' unwrapped, 'module.' stripped.
  const models::StateDict back = models::LoadStateDict(out);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back.entries[0].first, "conv.weight");
  EXPECT_EQ(back.entries[0].second.scalar_type(), torch::kHalf);
  const torch::Tensor diff = (back.entries[0].second.to(torch::kFloat) - src.entries[0].second).abs();
  EXPECT_LE(diff.max().item<float>(), 4e-3f);  // fp16 keeps ~3 decimal digits for |x| < 4
  EXPECT_EQ(back.entries[2].second.item<int64_t>(), 7);
}

TEST(WeightsFile, RefusesValuesBeyondTheTargetRangeAndBadOptions) {
  const auto dir = test::ScratchDir("weights_convert_bad");
  const std::string in = (dir / "in.pth").string();
  models::StateDict s;
  s.entries.emplace_back("w", torch::full({2}, 1e6f));
  models::SaveStateDict(in, s);
  WeightsConvertOptions o;
  o.in = in;
  o.out = (dir / "out.pth").string();
  o.dtype = "fp16";
  try {
    ConvertWeights(o);
    FAIL() << "1e6 converted to fp16";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'w'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(o.out));
  o.dtype = "int8";
  EXPECT_THROW(o.Check(), Error);
  EXPECT_THROW(InspectWeights((dir / "missing.pth").string()), Error);
}

}  // namespace
}  // namespace animerun::io
