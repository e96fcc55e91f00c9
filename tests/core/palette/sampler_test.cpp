// Colour sampling: the generator reproduces CPython's `random` (reference values below were
// printed by CPython 3.11), weights are ln(N/10) with N <= 10 left out, and the observed
// frequencies of many draws follow the weights (chi-square goodness of fit).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/palette/py_random.h"
#include "core/palette/sampler.h"
#include "core/util/error.h"

namespace animerun::palette {
namespace {

PaletteGroup Group(const std::string& name, const std::vector<int64_t>& counts) {
  PaletteGroup g;
  g.name = name;
  int64_t sum = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    g.colors.push_back({{uint8_t(10 * i), uint8_t(255 - 10 * i), 7}, counts[i]});
    sum += counts[i];
  }
  g.pixels = sum;
  return g;
}

TEST(PyRandom, MatchesCPythonRandom) {
  // random.seed(42); [random.random() for _ in range(3)]
  PyRandom r(42);
  EXPECT_EQ(r.Random(), 0.6394267984578837);
  EXPECT_EQ(r.Random(), 0.025010755222666936);
  EXPECT_EQ(r.Random(), 0.27502931836911926);
  // random.seed(0)
  PyRandom z(0);
  EXPECT_EQ(z.Random(), 0.8444218515250481);
  EXPECT_EQ(z.Random(), 0.7579544029403025);
  // A seed wider than 32 bits: random.seed(2**40 + 5); getrandbits(32) x 3
  PyRandom w((uint64_t(1) << 40) + 5);
  EXPECT_EQ(w.GetRandBits(32), 2166296868u);
  EXPECT_EQ(w.GetRandBits(32), 2220160828u);
  EXPECT_EQ(w.GetRandBits(32), 1153647273u);
}

TEST(PyRandom, ChoiceAndChoicesMatchCPython) {
  // random.seed(12345); [random.choice(range(7)) for _ in range(10)]
  PyRandom r(12345);
  const std::vector<uint32_t> expect_choice = {3, 5, 0, 6, 6, 6, 2, 6, 2, 1};
  for (uint32_t e : expect_choice) EXPECT_EQ(r.RandBelow(7), e);

  // counts [5000, 1200, 300, 45, 11, 10, 3] -> drawable [5000, 1200, 300, 45, 11];
  // random.seed(7); random.choices(range(5), weights=[log(c/10) ...], k=20)
  const SamplingTable t = MakeSamplingTable(Group("g", {5000, 1200, 300, 45, 11, 10, 3}));
  EXPECT_EQ(t.colors.size(), 5u);
  EXPECT_EQ(t.excluded, 2u);
  PyRandom s(7);
  const std::vector<size_t> expect = {0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 2, 0, 0, 1, 3, 1, 1};
  for (size_t e : expect) EXPECT_EQ(DrawIndex(t, &s), e);
}

TEST(PyRandom, SceneSeedIsFnv1a) {
  // FNV-1a 64 over seed's 8 little-endian bytes + b"cut_a", computed in Python.
  EXPECT_EQ(SceneSeed(3, "cut_a"), 3651104481932965430ull);
  EXPECT_NE(SceneSeed(3, "cut_b"), SceneSeed(3, "cut_a"));
  EXPECT_NE(SceneSeed(4, "cut_a"), SceneSeed(3, "cut_a"));
}

TEST(Sampler, WeightsAreLogOfCountOverTen) {
  EXPECT_DOUBLE_EQ(ColorWeight(100), std::log(10.0));
  EXPECT_LE(ColorWeight(10), 0.0);
  const SamplingTable t = MakeSamplingTable(Group("g", {1000, 100, 11}));
  ASSERT_EQ(t.cum_weights.size(), 3u);
  EXPECT_DOUBLE_EQ(t.cum_weights[0], std::log(100.0));
  EXPECT_DOUBLE_EQ(t.cum_weights[2], std::log(100.0) + std::log(10.0) + std::log(1.1));
  EXPECT_EQ(t.excluded, 0u);
}

TEST(Sampler, GroupsWithoutDrawableColoursAreRefused) {
  EXPECT_FALSE(IsDrawable(Group("small", {10, 9, 1})));
  EXPECT_THROW(MakeSamplingTable(Group("small", {10, 9, 1})), Error);
  PaletteGroup empty;
  empty.name = "unextracted";
  try {
    MakeSamplingTable(empty);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unextracted"), std::string::npos);
  }
  // A colour with N <= 10 is never drawn.
  const SamplingTable t = MakeSamplingTable(Group("g", {50, 10, 12}));
  PyRandom r(1);
  for (int i = 0; i < 2000; ++i) EXPECT_NE(t.colors[DrawIndex(t, &r)], (Rgb{10, 245, 7}));
}

// Upper tail of the chi-square distribution (regularised gamma Q(k/2, x/2)), by series /
// continued fraction as in Numerical Recipes' gammq.
double ChiSquareSurvival(double x, int dof) {
  const double a = dof / 2.0, z = x / 2.0;
  const double gln = std::lgamma(a);
  if (z < a + 1) {
    double sum = 1.0 / a, del = sum, ap = a;
    for (int n = 0; n < 1000; ++n) {
      ap += 1;
      del *= z / ap;
      sum += del;
      if (std::fabs(del) < std::fabs(sum) * 1e-15) break;
    }
    return 1.0 - sum * std::exp(-z + a * std::log(z) - gln);
  }
  double b = z + 1 - a, c = 1e300, d = 1 / b, h = d;
  for (int i = 1; i < 1000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (std::fabs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < 1e-15) break;
  }
  return std::exp(-z + a * std::log(z) - gln) * h;
}

TEST(Sampler, ChiSquareSurvivalSanity) {
  // Known quantiles: P(X > 3.841) = 0.05 for 1 dof, P(X > 18.307) = 0.05 for 10 dof.
  EXPECT_NEAR(ChiSquareSurvival(3.841458820694124, 1), 0.05, 1e-6);
  EXPECT_NEAR(ChiSquareSurvival(18.307038053275146, 10), 0.05, 1e-6);
  EXPECT_NEAR(ChiSquareSurvival(2.0, 2), std::exp(-1.0), 1e-9);
}

TEST(Sampler, FrequenciesFollowTheWeights) {
  const PaletteGroup g = Group("g", {100000, 20000, 5000, 800, 120, 40, 15, 11, 10, 2});
  const SamplingTable t = MakeSamplingTable(g);
  ASSERT_EQ(t.colors.size(), 8u);
  const int draws = 200000;
  std::vector<int64_t> observed(t.colors.size(), 0);
  PyRandom r(20240601);
  for (int i = 0; i < draws; ++i) ++observed[DrawIndex(t, &r)];
  double chi2 = 0.0;
  double prev = 0.0;
  for (size_t i = 0; i < t.colors.size(); ++i) {
    const double p = (t.cum_weights[i] - prev) / t.total();
    prev = t.cum_weights[i];
    EXPECT_NEAR(p * t.total(), ColorWeight(t.counts[i]), 1e-12);
    const double expected = p * draws;
    chi2 += (observed[i] - expected) * (observed[i] - expected) / expected;
  }
  const double p_value = ChiSquareSurvival(chi2, static_cast<int>(t.colors.size()) - 1);
  // With the fixed seed the test is deterministic; the bound says "not rejected at 0.1%".
  EXPECT_GT(p_value, 0.001) << "chi2 = " << chi2;

  // The same test detects sampling proportional to N instead of ln(N/10).
  double chi2_wrong = 0.0;
  int64_t total_n = 0;
  for (int64_t n : t.counts) total_n += n;
  for (size_t i = 0; i < t.colors.size(); ++i) {
    const double expected = double(t.counts[i]) / total_n * draws;
    chi2_wrong += (observed[i] - expected) * (observed[i] - expected) / expected;
  }
  EXPECT_LT(ChiSquareSurvival(chi2_wrong, static_cast<int>(t.colors.size()) - 1), 1e-9);
}

TEST(Sampler, ChooseGroupSkipsUndrawableGroups) {
  PaletteFile f;
  f.groups = {Group("a", {100}), Group("tiny", {5}), Group("b", {100})};
  std::map<std::string, int> seen;
  PyRandom r(3);
  for (int i = 0; i < 400; ++i) ++seen[ChooseGroup(f, &r).name];
  EXPECT_EQ(seen.count("tiny"), 0u);
  EXPECT_GT(seen["a"], 150);
  EXPECT_GT(seen["b"], 150);
  PaletteFile none;
  none.groups = {Group("tiny", {5})};
  EXPECT_THROW(ChooseGroup(none, &r), Error);
}

}  // namespace
}  // namespace animerun::palette
