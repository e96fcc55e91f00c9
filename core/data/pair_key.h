// What identifies a pair that a window shows, without its pixels: the dataset's split
// folder, the Frame_Anime pass the images come from, and data::PairIdentity (scene, index,
// frame names). Panels compare keys to learn that the shown pair changed; the same scene
// and index in another pass or dataset is another pair.
#pragma once

#include <filesystem>
#include <string>

#include "core/data/animerun_dataset.h"

namespace animerun::data {

struct PairKey {
  std::string split_root;  // AnimeRunDataset::root(); empty for "no pair"
  std::string pass;        // "original", "color_1", ...
  FramePair identity;      // PairIdentity(pair): no paths

  bool Empty() const { return split_root.empty(); }
  // "<scene>  <name1> -> <name2>", for titles and messages.
  std::string Describe() const;
};

PairKey MakePairKey(const std::filesystem::path& split_root, const std::string& pass, const FramePair& pair);

bool operator==(const PairKey& a, const PairKey& b);
inline bool operator!=(const PairKey& a, const PairKey& b) { return !(a == b); }

}  // namespace animerun::data
