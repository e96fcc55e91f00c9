// bf16 inference of PWC-Net: close to fp32 on the golden inputs, fp32 restored bit for bit.
#include <gtest/gtest.h>

#include "models/pwcnet/pwcnet.h"
#include "models/precision_util.h"
#include "test_paths.h"

namespace animerun::test {
namespace {

// Pixels, with margin over what was measured (docs/benchmarks.md, "Flow models").
constexpr Bf16Limits kPwcLimits{0.03, 0.1};  // measured mean 0.012, max 0.041
constexpr Bf16Limits kPwcEmulated{0.5, 1.7};  // no bf16 hardware: measured mean 0.26, max 0.86

TEST(PwcPrecision, Bf16CloseToFp32OnGolden) {
  ANIMERUN_REQUIRE_GOLDEN();
  const std::pair<const char*, const char*> cases[] = {
      {"dev_c", "pwc_dev_c_64x128"}, {"dev_a", "pwc_dev_a_128x160"}, {"dev_b", "pwc_dev_b_160x224"}};
  for (int k = 0, n = Bf16PairCount(3); k < n; ++k) {
    const auto& [pair, id] = cases[k];
    auto m = models::CreatePwcNet();
    ExpectBf16CloseToFp32(*m, "pwc/pwc.pytorch", std::string("inputs/") + pair,
                          std::string("pwc/") + id + "/flow_final.npy", 1e-4, 1, kPwcLimits, kPwcEmulated);
  }
}

}  // namespace
}  // namespace animerun::test
