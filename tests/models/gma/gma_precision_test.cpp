// bf16 inference of GMA: close to fp32 on the golden inputs, fp32 restored bit for bit.
#include <gtest/gtest.h>

#include "models/gma/gma.h"
#include "models/precision_util.h"
#include "test_paths.h"

namespace animerun::test {
namespace {

// Pixels, after the golden cases' 4 iterations, with margin over what was measured
// (docs/benchmarks.md, "Flow models").
constexpr Bf16Limits kGmaLimits{0.03, 0.1};  // measured mean 0.011, max 0.032
constexpr Bf16Limits kGmaEmulated{0.08, 0.2};  // no bf16 hardware: measured mean 0.036, max 0.078

TEST(GmaPrecision, Bf16CloseToFp32OnGolden) {
  ANIMERUN_REQUIRE_GOLDEN();
  const char* const pairs[] = {"dev_a", "dev_b"};
  for (int k = 0, n = Bf16PairCount(2); k < n; ++k) {
    const char* pair = pairs[k];
    auto m = models::CreateGma();
    ExpectBf16CloseToFp32(*m, "gma/gma.pth", std::string("inputs/") + pair,
                          std::string("gma/gma_") + pair + "_it4/flow_final.npy", 2e-4, 4, kGmaLimits, kGmaEmulated);
  }
}

}  // namespace
}  // namespace animerun::test
