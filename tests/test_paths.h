// Paths the tests use: the golden fixtures beside the checkout and scratch folders.
#pragma once

#include <filesystem>
#include <string>

namespace animerun::test {

// ../shared/golden; tests that need it GTEST_SKIP() with a message when absent.
inline std::filesystem::path GoldenDir() { return std::filesystem::path(ANIMERUN_GOLDEN_DIR); }
inline bool HaveGolden() { return std::filesystem::exists(GoldenDir() / "manifest.json"); }

// A fresh scratch folder under the build tree, removed and recreated on each call.
inline std::filesystem::path ScratchDir(const std::string& name) {
  auto p = std::filesystem::path(ANIMERUN_BINARY_DIR) / "test_scratch" / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace animerun::test

#define ANIMERUN_REQUIRE_GOLDEN()                                                   \
  do {                                                                               \
    if (!::animerun::test::HaveGolden())                                             \
      GTEST_SKIP() << "golden fixtures not found at " << ANIMERUN_GOLDEN_DIR        \
                   << " (they live in ../shared/golden beside the checkout)";       \
  } while (0)
