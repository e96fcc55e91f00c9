// Test-only helpers shared by the synthetic generator's tests (synth_test.cpp: the flat
// style; synth_style_test.cpp: the varied style).
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/data/animerun_dataset.h"

namespace animerun::data::test_util {

// Every file under root, relative to it, sorted.
inline std::set<std::string> RelativeFiles(const std::filesystem::path& root) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.is_regular_file()) out.insert(e.path().lexically_relative(root).generic_string());
  return out;
}

inline std::vector<PairData> LoadAll(const AnimeRunDataset& ds) {
  std::vector<PairData> out;
  for (const auto& p : ds.AllPairs()) out.push_back(LoadPair(p));
  return out;
}

// Flat pixels at least 2 px from any line (line_area: 0 on lines).
inline cv::Mat AwayFromLines(const cv::Mat& line_area) {
  cv::Mat near;
  cv::dilate(line_area == 0, near, cv::getStructuringElement(cv::MORPH_RECT, {5, 5}));
  return near == 0;
}

}  // namespace animerun::data::test_util
