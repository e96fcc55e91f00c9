// fuzz_runner: the fuzz targets without libFuzzer, in every build with tests.
//   fuzz_runner seeds OUT                                   the seed corpus (make_seeds.cpp)
//   fuzz_runner run [--expect-valid] TARGET FILE_OR_FOLDER...  replays inputs
//   fuzz_runner check SEEDS REGRESSIONS    every target: its seeds (each must be
//                                          accepted) and its saved regression inputs
// A crash or an improper error aborts (see fuzz_target.h). --expect-valid also fails when
// an input is refused: the seed corpus must reach each reader's success path.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.h"

namespace fs = std::filesystem;

namespace animerun::fuzz {
int MakeSeeds(const fs::path& out);
}

namespace {

std::vector<fs::path> Inputs(const fs::path& p, bool* ok) {
  std::vector<fs::path> inputs;
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    for (const auto& e : fs::directory_iterator(p))
      if (e.is_regular_file() && e.path().filename().string()[0] != '.') inputs.push_back(e.path());
  } else if (fs::is_regular_file(p, ec)) {
    inputs.push_back(p);
  } else {
    std::fprintf(stderr, "fuzz_runner: no such file or folder: %s\n", p.c_str());
    *ok = false;
  }
  return inputs;
}

// Replays inputs through one target; returns 0, or 1 when expect_valid and one was refused.
int Replay(const std::string& name, std::vector<fs::path> inputs, bool expect_valid) {
  const animerun::fuzz::TargetFn target = animerun::fuzz::FindTarget(name);
  if (!target) {
    std::fprintf(stderr, "fuzz_runner: unknown target '%s' (known: %s)\n", name.c_str(),
                 animerun::fuzz::TargetNames().c_str());
    return 2;
  }
  std::sort(inputs.begin(), inputs.end());
  int refused = 0;
  for (const fs::path& p : inputs) {
    std::ifstream in(p, std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    animerun::fuzz::BeginInput();
    target(bytes.data(), bytes.size());
    if (animerun::fuzz::LastInputRefused()) {
      ++refused;
      if (expect_valid) {
        std::fprintf(stderr, "fuzz_runner %s: seed %s was refused\n", name.c_str(), p.c_str());
        return 1;
      }
    }
  }
  std::printf("fuzz_runner %s: %zu inputs ran clean (%d refused with a proper error)\n", name.c_str(), inputs.size(),
              refused);
  if (expect_valid && inputs.empty()) {
    std::fprintf(stderr, "fuzz_runner %s: no seeds\n", name.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage =
      "usage: fuzz_runner seeds OUT | fuzz_runner run [--expect-valid] TARGET FILE_OR_FOLDER... | "
      "fuzz_runner check SEEDS REGRESSIONS\n";
  if (argc == 3 && std::string(argv[1]) == "seeds") return animerun::fuzz::MakeSeeds(argv[2]);
  if (argc == 4 && std::string(argv[1]) == "check") {
    int rc = 0;
    std::istringstream names(animerun::fuzz::TargetNames());
    for (std::string t; names >> t;) {
      bool ok = true;
      rc |= Replay(t, Inputs(fs::path(argv[2]) / t, &ok), true);
      const fs::path reg = fs::path(argv[3]) / t;
      if (fs::exists(reg)) rc |= Replay(t, Inputs(reg, &ok), false);
      if (!ok) rc |= 2;
    }
    return rc;
  }
  if (argc < 2 || std::string(argv[1]) != "run") {
    std::fprintf(stderr, "%s", usage.c_str());
    return 2;
  }
  int arg = 2;
  bool expect_valid = false;
  if (arg < argc && std::string(argv[arg]) == "--expect-valid") {
    expect_valid = true;
    ++arg;
  }
  if (argc - arg < 2) {
    std::fprintf(stderr, "%s", usage.c_str());
    return 2;
  }
  const std::string name = argv[arg++];
  std::vector<fs::path> inputs;
  bool ok = true;
  for (; arg < argc; ++arg) {
    const std::vector<fs::path> more = Inputs(argv[arg], &ok);
    inputs.insert(inputs.end(), more.begin(), more.end());
  }
  if (!ok) return 2;
  return Replay(name, inputs, expect_valid);
}
