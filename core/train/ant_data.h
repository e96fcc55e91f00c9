// AnT training samples, prepared as AnimeRun's segmat dataset prepares them
// (segmat/datasets/anime_seg_mat_dataset.py and utils/augmentor.py): RGB frames of the
// chosen Frame_Anime pass, segment ids contiguous 0..N-1, one box per segment
// (xmin, xmax, ymin, ymax, inclusive pixel coordinates) and the forward matching. A crop
// renumbers the segments that remain inside it in the official order (most pixels first,
// ties by first appearance in raster order, as Counter.most_common) and a partner that
// left the crop becomes -1. Torch-free; ant_task.cpp turns samples into tensors.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "core/train/train_rng.h"

namespace animerun::train {

struct AntSample {
  cv::Mat image0, image1;                  // RGB CV_8UC3
  cv::Mat labels0, labels1;                // CV_32SC1, ids 0..N-1, every id present
  std::vector<int> matches;                // N0 entries: id in frame 1 or -1
  std::vector<int64_t> area0, area1;       // pixels per segment
  std::vector<std::array<int, 4>> boxes0, boxes1;  // xmin, xmax, ymin, ymax per segment
  int num0() const { return static_cast<int>(area0.size()); }
  int num1() const { return static_cast<int>(area1.size()); }
};

// Crops roi out of both frames and renumbers as described above. matches maps the ids of
// labels0 to ids of labels1 (-1 = none); ids of labels0 beyond matches.size() count as
// unmatched. Throws Error when sizes disagree or roi leaves the frames.
AntSample CropAntSample(const cv::Mat& image0, const cv::Mat& image1, const cv::Mat& labels0,
                        const cv::Mat& labels1, const std::vector<int>& matches, const cv::Rect& roi);

// A random crop_w x crop_h window inside size (the whole frame along a side that is
// shorter than the crop). Draws y0 first, then x0, like the official augmentor.
cv::Rect RandomCropRect(const cv::Size& size, int crop_height, int crop_width, TrainRng& rng);

}  // namespace animerun::train

namespace animerun::train {

// A whole pair without renumbering (validation, inference): ids must already be 0..N-1
// (N = max id + 1; an id without pixels gets an empty box {0, -1, 0, -1} and area 0).
// matches is copied as given. Throws Error on size or type mismatches or negative ids.
AntSample WholeAntSample(const cv::Mat& image0, const cv::Mat& image1, const cv::Mat& labels0,
                         const cv::Mat& labels1, const std::vector<int>& matches);

}  // namespace animerun::train
