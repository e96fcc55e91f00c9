// The test-only PNG/NPY readers agree with each other on the golden flow images, which
// store the same uint8 array as .npy and as PNG.
#include <gtest/gtest.h>

#include "models/golden_util.h"
#include "test_paths.h"

namespace animerun::test {
namespace {

TEST(GoldenUtil, PngMatchesNpyOfSameImage) {
  ANIMERUN_REQUIRE_GOLDEN();
  for (const char* name : {"radial", "raft_dev_b_it4"}) {
    auto npy = ReadNpyTensor((GoldenDir() / "flowviz" / (std::string(name) + "_image.npy")).string());
    auto png = ReadPngTensor((GoldenDir() / "flowviz" / (std::string(name) + ".png")).string());
    ASSERT_EQ(npy.dtype(), torch::kUInt8);
    EXPECT_EQ(MaxAbsDiff(npy, png), 0.0) << name;
    EXPECT_GT(png.to(torch::kFloat).std().item<double>(), 1.0);  // not a blank image
  }
}

TEST(GoldenUtil, ReadsInputBatch) {
  ANIMERUN_REQUIRE_GOLDEN();
  auto img = ReadPngAsBatch((GoldenDir() / "inputs" / "dev_a" / "img1.png").string());
  EXPECT_EQ(img.sizes(), (std::vector<int64_t>{1, 3, 128, 160}));
  EXPECT_LE(img.max().item<float>(), 255.f);
}

TEST(GoldenUtil, RejectsNonNpy) {
  ANIMERUN_REQUIRE_GOLDEN();
  EXPECT_THROW(ReadNpyTensor((GoldenDir() / "inputs" / "dev_a" / "img1.png").string()), std::runtime_error);
}

}  // namespace
}  // namespace animerun::test
