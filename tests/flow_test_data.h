// Datasets from the synthetic generator shared by several test folders.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/data/synth.h"
#include "test_paths.h"

namespace animerun::test {

// A tiny flow-training dataset, for the flow training tests (tests/core/train) and the
// data-parallel tests (tests/app): 2 training scenes and 1 held-out test scene of 3 frames,
// no colour passes. root: an empty folder.
inline std::filesystem::path MakeFlowDataIn(const std::filesystem::path& root, int width = 160, int height = 128) {
  data::SynthOptions s;
  s.width = width;
  s.height = height;
  s.frames = 3;
  s.color_passes = 0;
  s.split = "train";
  s.scenes = 2;
  data::GenerateSynthDataset(root, s);
  s.split = "test";
  s.scenes = 1;
  s.seed = 7;
  data::GenerateSynthDataset(root, s);
  return root;
}

// The same in the running test's scratch folder `name`.
inline std::filesystem::path MakeFlowData(const std::string& name, int width = 160, int height = 128) {
  return MakeFlowDataIn(ScratchDir(name), width, height);
}

// Pairs in the style the built-in weights train on (`synth --style varied`), from a seed
// their training sets do not use (those use 1000, 2000, ...; docs/training.md): the
// quality tests of the built-in weights. scenes x (frames - 1) pairs, no colour passes.
inline std::filesystem::path MakeUnseenVariedData(const std::string& name, int scenes, int frames, int width,
                                                  int height, uint64_t seed) {
  const std::filesystem::path root = ScratchDir(name);
  data::SynthOptions s;
  s.style = "varied";
  s.scenes = scenes;
  s.frames = frames;
  s.width = width;
  s.height = height;
  s.color_passes = 0;
  s.seed = seed;
  data::GenerateSynthDataset(root, s);
  return root;
}

}  // namespace animerun::test
