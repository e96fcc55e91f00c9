// A tiny flow-training dataset from the synthetic generator, shared by the flow training
// tests (tests/core/train) and the data-parallel tests (tests/app): 2 training scenes and
// 1 held-out test scene of 3 frames, no colour passes.
#pragma once

#include <filesystem>
#include <string>

#include "core/data/synth.h"
#include "test_paths.h"

namespace animerun::test {

inline std::filesystem::path MakeFlowData(const std::string& name, int width = 160, int height = 128) {
  const std::filesystem::path root = ScratchDir(name);
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

}  // namespace animerun::test
