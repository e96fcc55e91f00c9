// Test-only helpers of the core/io tests: raw bytes in and out of files, and the check that a
// loader fails with an animerun::Error naming the file.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/util/error.h"

namespace animerun::io::test_util {

using Bytes = std::vector<uint8_t>;

inline void WriteRaw(const std::filesystem::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

inline Bytes ReadRaw(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// Runs f and expects an animerun::Error whose message names path (and contains what).
template <typename F>
void ExpectFileError(F&& f, const std::filesystem::path& path, const std::string& what = "") {
  try {
    f();
    ADD_FAILURE() << "no Error thrown for " << path;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
    if (!what.empty()) EXPECT_NE(msg.find(what), std::string::npos) << "expected '" << what << "' in: " << msg;
  }
}

}  // namespace animerun::io::test_util
