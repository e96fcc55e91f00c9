// What the info panel says about a pair and a dataset folder: sizes, segment and matching
// counts, mask coverage, flow statistics (through the official metrics code), and which
// splits a folder holds. The CLI can print the same lines.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"

namespace animerun::view {

struct PairSummary {
  cv::Size size;                            // of frame t
  std::optional<int> segments1, segments2;  // distinct labels in each frame
  std::optional<int> matched_forward;       // entries of the forward matching that are not -1
  std::optional<int> forward_entries;       // entries in the forward matching file
  std::optional<double> occluded_fraction;  // of frame t's pixels (UnmatchedForward == 0)
  std::optional<double> line_fraction;      // of frame t's pixels (LineArea == 0)
  std::optional<double> mean_flow, max_flow;  // forward flow magnitude over finite pixels
  // Mean |forward flow| per AnimeRun bucket, computed with the official metric definitions
  // as the EPE of a zero prediction ("all", "occ", "nonocc", "line", "flat", ...): how far
  // each kind of pixel moves. Absent without a forward flow.
  std::vector<std::pair<std::string, double>> mean_motion;
  // Pixels in each of those buckets (same names), e.g. how many move more than 50 px.
  std::vector<std::pair<std::string, int64_t>> bucket_pixels;
  // Readable lines ("segments  t: 231  t+1: 229", ...), one fact per line.
  std::vector<std::string> Lines() const;
};

PairSummary SummarizePair(const data::PairData& pair);

// A predicted flow for the pair scored against its ground truth with the official flow
// metrics (pooled EPE per bucket, px1/px3/px5). Throws Error when the pair has no forward
// flow or the sizes differ. name names the prediction in messages.
struct PredictionScore {
  std::vector<std::pair<std::string, double>> epe;  // bucket name -> EPE (present buckets only)
  std::optional<double> px1, px3, px5;
  std::vector<std::string> Lines() const;
};
PredictionScore ScorePrediction(const data::PairData& pair, const cv::Mat& predicted_flow,
                                const std::string& name = "prediction");

// The dataset splits a folder holds, as DatasetOptions::split values: {""} when the folder
// itself is a split (it has Frame_Anime/), else those of "test", "train" that have a
// Frame_Anime/ (test first). Empty when none.
std::vector<std::string> DetectSplits(const std::filesystem::path& folder);

// An image file shrunk to fit max_width x max_height (aspect kept, never enlarged), RGB
// CV_8UC3. Throws Error naming the file when it is unreadable.
cv::Mat ReadThumbnail(const std::filesystem::path& path, int max_width, int max_height);
cv::Mat MakeThumbnail(const cv::Mat& rgb, int max_width, int max_height);

}  // namespace animerun::view
