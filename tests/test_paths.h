// Paths the tests use: the golden fixtures beside the checkout and scratch folders.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace animerun::test {

// ../shared/golden; tests that need it skip with a message when absent, except in CI.
inline std::filesystem::path GoldenDir() { return std::filesystem::path(ANIMERUN_GOLDEN_DIR); }
inline bool HaveGolden() { return std::filesystem::exists(GoldenDir() / "manifest.json"); }

// CI=true (what CI services set, and .ci/run): a missing fixture is a failure there, never a
// quiet skip that would let a parity test pass without comparing anything.
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// The scratch folder of the running test: ctest runs every test in its own process, many
// at once (-j), so two tests must never share a folder. Named after the test, or after the
// process outside a test (static set-up).
inline std::filesystem::path ScratchRoot() {
  std::string tag;
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info())
    tag = std::string(info->test_suite_name()) + "." + info->name();
  else
    tag = "pid" + std::to_string(::getpid());
  std::replace(tag.begin(), tag.end(), '/', '_');  // parameterised names
  return std::filesystem::path(ANIMERUN_BINARY_DIR) / "test_scratch" / tag;
}

// A fresh scratch folder under the running test's own folder, removed and recreated on
// each call.
inline std::filesystem::path ScratchDir(const std::string& name) {
  auto p = ScratchRoot() / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace animerun::test

#define ANIMERUN_REQUIRE_GOLDEN()                                                          \
  do {                                                                                      \
    if (!::animerun::test::HaveGolden()) {                                                  \
      if (::animerun::test::InCi())                                                         \
        FAIL() << "CI=true and the golden fixtures are missing at " << ANIMERUN_GOLDEN_DIR \
               << " (../shared/golden must sit beside the checkout)";                      \
      GTEST_SKIP() << "golden fixtures not found at " << ANIMERUN_GOLDEN_DIR               \
                   << " (they live in ../shared/golden beside the checkout)";              \
    }                                                                                       \
  } while (0)
