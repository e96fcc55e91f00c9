#include "core/train/ant_data.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <unordered_map>

#include "core/util/error.h"

namespace animerun::train {

namespace {

// Renumbers one cropped label map in Counter.most_common order. Returns old id -> new id
// (for ids present) and fills the new map, areas and boxes.
std::unordered_map<int, int> Renumber(const cv::Mat& crop, cv::Mat* out, std::vector<int64_t>* area,
                                      std::vector<std::array<int, 4>>* boxes) {
  struct Seen {
    int id;
    int64_t count = 0;
    int64_t first = 0;
  };
  std::unordered_map<int, size_t> index;
  std::vector<Seen> seen;
  for (int y = 0; y < crop.rows; ++y) {
    const int* row = crop.ptr<int>(y);
    for (int x = 0; x < crop.cols; ++x) {
      auto [it, inserted] = index.try_emplace(row[x], seen.size());
      if (inserted) seen.push_back({row[x], 0, static_cast<int64_t>(y) * crop.cols + x});
      ++seen[it->second].count;
    }
  }
  std::stable_sort(seen.begin(), seen.end(), [](const Seen& a, const Seen& b) { return a.count > b.count; });
  std::unordered_map<int, int> map;
  for (size_t i = 0; i < seen.size(); ++i) map[seen[i].id] = static_cast<int>(i);
  *out = cv::Mat(crop.size(), CV_32SC1);
  area->assign(seen.size(), 0);
  boxes->assign(seen.size(), {INT32_MAX, -1, INT32_MAX, -1});
  for (int y = 0; y < crop.rows; ++y) {
    const int* src = crop.ptr<int>(y);
    int* dst = out->ptr<int>(y);
    for (int x = 0; x < crop.cols; ++x) {
      const int id = map[src[x]];  // hash lookups per pixel: crops are small (368^2)
      dst[x] = id;
      ++(*area)[id];
      auto& b = (*boxes)[id];
      b[0] = std::min(b[0], x);
      b[1] = std::max(b[1], x);
      b[2] = std::min(b[2], y);
      b[3] = std::max(b[3], y);
    }
  }
  return map;
}

}  // namespace

AntSample CropAntSample(const cv::Mat& image0, const cv::Mat& image1, const cv::Mat& labels0,
                        const cv::Mat& labels1, const std::vector<int>& matches, const cv::Rect& roi) {
  if (image0.type() != CV_8UC3 || image1.type() != CV_8UC3) throw Error("AnT sample: images must be RGB CV_8UC3");
  if (labels0.type() != CV_32SC1 || labels1.type() != CV_32SC1)
    throw Error("AnT sample: segment maps must be CV_32SC1");
  const cv::Size size = image0.size();
  if (image1.size() != size || labels0.size() != size || labels1.size() != size)
    throw Error("AnT sample: frames and segment maps differ in size");
  if (roi.width <= 0 || roi.height <= 0 || roi.x < 0 || roi.y < 0 || roi.x + roi.width > size.width ||
      roi.y + roi.height > size.height)
    throw Error("AnT sample: crop window outside the frame");
  AntSample s;
  s.image0 = image0(roi).clone();
  s.image1 = image1(roi).clone();
  const std::unordered_map<int, int> map0 = Renumber(labels0(roi), &s.labels0, &s.area0, &s.boxes0);
  const std::unordered_map<int, int> map1 = Renumber(labels1(roi), &s.labels1, &s.area1, &s.boxes1);
  s.matches.assign(map0.size(), -1);
  for (const auto& [old_id, new_id] : map0) {
    if (old_id < 0 || static_cast<size_t>(old_id) >= matches.size()) continue;
    const auto it = map1.find(matches[old_id]);
    if (matches[old_id] >= 0 && it != map1.end()) s.matches[new_id] = it->second;
  }
  return s;
}

namespace {

void Measure(const cv::Mat& labels, std::vector<int64_t>* area, std::vector<std::array<int, 4>>* boxes) {
  double lo = 0, hi = -1;
  cv::minMaxLoc(labels, &lo, &hi);
  if (lo < 0) throw Error("AnT sample: negative segment id");
  const size_t n = static_cast<size_t>(hi) + 1;
  area->assign(n, 0);
  boxes->assign(n, {INT32_MAX, -1, INT32_MAX, -1});
  for (int y = 0; y < labels.rows; ++y) {
    const int* row = labels.ptr<int>(y);
    for (int x = 0; x < labels.cols; ++x) {
      auto& b = (*boxes)[row[x]];
      ++(*area)[row[x]];
      b[0] = std::min(b[0], x);
      b[1] = std::max(b[1], x);
      b[2] = std::min(b[2], y);
      b[3] = std::max(b[3], y);
    }
  }
  for (auto& b : *boxes)
    if (b[1] < 0) b = {0, -1, 0, -1};
}

}  // namespace

AntSample WholeAntSample(const cv::Mat& image0, const cv::Mat& image1, const cv::Mat& labels0,
                         const cv::Mat& labels1, const std::vector<int>& matches) {
  if (image0.type() != CV_8UC3 || image1.type() != CV_8UC3) throw Error("AnT sample: images must be RGB CV_8UC3");
  if (labels0.type() != CV_32SC1 || labels1.type() != CV_32SC1 || labels0.empty())
    throw Error("AnT sample: segment maps must be non-empty CV_32SC1");
  if (image1.size() != image0.size() || labels0.size() != image0.size() || labels1.size() != image0.size())
    throw Error("AnT sample: frames and segment maps differ in size");
  AntSample s;
  s.image0 = image0.isContinuous() ? image0 : image0.clone();
  s.image1 = image1.isContinuous() ? image1 : image1.clone();
  s.labels0 = labels0.isContinuous() ? labels0 : labels0.clone();
  s.labels1 = labels1.isContinuous() ? labels1 : labels1.clone();
  s.matches = matches;
  Measure(s.labels0, &s.area0, &s.boxes0);
  Measure(s.labels1, &s.area1, &s.boxes1);
  return s;
}

cv::Rect RandomCropRect(const cv::Size& size, int crop_height, int crop_width, TrainRng& rng) {
  const int h = std::min(crop_height, size.height), w = std::min(crop_width, size.width);
  const int y0 = static_cast<int>(rng.Below(size.height - h + 1));
  const int x0 = static_cast<int>(rng.Below(size.width - w + 1));
  return {x0, y0, w, h};
}

}  // namespace animerun::train
