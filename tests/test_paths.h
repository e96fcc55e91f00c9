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

// Scratch folders live in <build>/test_scratch. A passing test's folder is removed when the
// test ends (tests/test_main.cpp), a failing one's is kept to look at; three builds' scratch
// (4-5 GB each, training runs and corrupt-checkpoint sweeps) filled the CI disk otherwise.
// ANIMERUN_KEEP_TEST_SCRATCH=1 keeps every folder (widget tests' screenshots, for example).
inline std::filesystem::path ScratchBase() {
  return std::filesystem::path(ANIMERUN_BINARY_DIR) / "test_scratch";
}
inline bool KeepScratch() {
  const char* keep = std::getenv("ANIMERUN_KEEP_TEST_SCRATCH");
  return keep != nullptr && *keep != '\0' && std::string(keep) != "0";
}

// The folder of one test: ctest runs test executables in their own processes, several at
// once (-j), so two tests must never share a folder.
inline std::filesystem::path ScratchRootOf(const ::testing::TestInfo& info) {
  std::string tag = std::string(info.test_suite_name()) + "." + info.name();
  std::replace(tag.begin(), tag.end(), '/', '_');  // parameterised names
  return ScratchBase() / tag;
}

// A folder of the whole process rather than of one test (data made once and shared by a
// file's tests); its name ends in ProcessScratchSuffix(), and it is removed when every test
// of the process has passed.
inline std::string ProcessScratchSuffix() { return "_pid" + std::to_string(::getpid()); }
inline std::filesystem::path ProcessScratch(const std::string& name) {
  return ScratchBase() / (name + ProcessScratchSuffix());
}

// p removed (with anything in it) and created again, empty.
inline std::filesystem::path FreshDir(const std::filesystem::path& p) {
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

// The scratch folder of the running test, or the process's outside a test (static set-up).
inline std::filesystem::path ScratchRoot() {
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) return ScratchRootOf(*info);
  return ProcessScratch("process");
}

// A fresh scratch folder under the running test's own folder, removed and recreated on
// each call.
inline std::filesystem::path ScratchDir(const std::string& name) { return FreshDir(ScratchRoot() / name); }

// The same for data a file's tests share (made once, kept in a function's static): a test's
// own folder goes when that test passes, so shared data must not live there.
inline std::filesystem::path SharedScratchDir(const std::string& name) { return FreshDir(ProcessScratch(name)); }

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
