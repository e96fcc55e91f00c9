// Test-only: how every parity test reports one output compared with the official one:
// a line "[parity] <case> <output> max_abs_diff=<d> tol=<t>" (docs/benchmarks.md quotes
// the measured maxima from these lines) and the assertion d <= tol. A tolerance of 0 means
// bit-exact.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

namespace animerun::test {

inline void ExpectParity(const std::string& case_id, const std::string& output, double diff, double tol) {
  std::printf("[parity] %s %s max_abs_diff=%.3g tol=%.3g\n", case_id.c_str(), output.c_str(), diff, tol);
  std::fflush(stdout);
  ::testing::Test::RecordProperty(case_id + "." + output + ".max_abs_diff", std::to_string(diff));
  EXPECT_TRUE(std::isfinite(diff)) << case_id << " " << output;
  EXPECT_LE(diff, tol) << case_id << " " << output;
}

}  // namespace animerun::test
