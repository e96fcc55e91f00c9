#include "core/view/segment_view.h"

#include <opencv2/imgproc.hpp>

#include "core/util/error.h"

namespace animerun::view {

cv::Mat SegmentBoundaryMask(const cv::Mat& labels) {
  if (labels.empty()) return cv::Mat();
  if (labels.type() != CV_32SC1)
    throw Error("SegmentBoundaryMask: expected a CV_32SC1 label map, got type " + std::to_string(labels.type()));
  cv::Mat out(labels.size(), CV_8UC1, cv::Scalar(0));
  const int h = labels.rows, w = labels.cols;
  for (int y = 0; y < h; ++y) {
    const int* row = labels.ptr<int>(y);
    const int* below = y + 1 < h ? labels.ptr<int>(y + 1) : nullptr;
    uint8_t* o = out.ptr<uint8_t>(y);
    uint8_t* ob = y + 1 < h ? out.ptr<uint8_t>(y + 1) : nullptr;
    for (int x = 0; x < w; ++x) {
      // Mark both pixels of each differing horizontal and vertical neighbour pair.
      if (x + 1 < w && row[x] != row[x + 1]) o[x] = o[x + 1] = 255;
      if (below && row[x] != below[x]) o[x] = ob[x] = 255;
    }
  }
  return out;
}

cv::Mat SegmentMask(const cv::Mat& labels, int id) {
  if (labels.empty()) return cv::Mat();
  if (labels.type() != CV_32SC1)
    throw Error("SegmentMask: expected a CV_32SC1 label map, got type " + std::to_string(labels.type()));
  if (id < 0) return cv::Mat(labels.size(), CV_8UC1, cv::Scalar(0));
  cv::Mat mask;
  cv::compare(labels, cv::Scalar(id), mask, cv::CMP_EQ);
  return mask;
}

int LabelAt(const cv::Mat& labels, cv::Point p) {
  if (labels.empty() || labels.type() != CV_32SC1) return -1;
  if (p.x < 0 || p.y < 0 || p.x >= labels.cols || p.y >= labels.rows) return -1;
  return labels.at<int>(p.y, p.x);
}

int MatchOf(const std::vector<int>& matches, int id) {
  if (id < 0 || id >= static_cast<int>(matches.size())) return -1;
  return matches[id] < 0 ? -1 : matches[id];
}

std::string SegmentPick::Describe() const {
  const char* here = frame == 0 ? "t" : "t+1";
  const char* there = frame == 0 ? "t+1" : "t";
  std::string s = std::string(here) + ": ";
  if (pixel.x < 0) return s + "outside the frame";
  if (segment < 0) return s + "no segment map at (" + std::to_string(pixel.x) + ", " + std::to_string(pixel.y) + ")";
  s += "segment " + std::to_string(segment) + " (" + std::to_string(area) + " px)";
  if (!has_matching) return s + ", no matching file for this direction";
  if (match < 0) return s + " is unmatched in " + there;
  return s + " -> " + there + ": segment " + std::to_string(match) + " (" + std::to_string(match_area) + " px)";
}

SegmentPick PickSegment(const data::PairData& pair, int frame, cv::Point pixel) {
  if (frame != 0 && frame != 1) throw Error("PickSegment: frame must be 0 (t) or 1 (t+1)");
  SegmentPick pick;
  pick.frame = frame;
  const cv::Mat& here = frame == 0 ? pair.segment1 : pair.segment2;
  const cv::Mat& there = frame == 0 ? pair.segment2 : pair.segment1;
  const std::vector<int>& matches = frame == 0 ? pair.match_forward : pair.match_backward;
  const cv::Mat& image = frame == 0 ? pair.image1 : pair.image2;
  const cv::Size size = !here.empty() ? here.size() : image.size();
  if (pixel.x < 0 || pixel.y < 0 || pixel.x >= size.width || pixel.y >= size.height) return pick;
  pick.pixel = pixel;
  pick.segment = LabelAt(here, pixel);
  if (pick.segment < 0) return pick;
  pick.area = cv::countNonZero(SegmentMask(here, pick.segment));
  pick.has_matching = !matches.empty();
  pick.match = MatchOf(matches, pick.segment);
  if (pick.match >= 0 && !there.empty()) {
    const cv::Mat m = SegmentMask(there, pick.match);
    pick.match_area = cv::countNonZero(m);
    if (pick.match_area > 0) pick.match_box = cv::boundingRect(m);
  }
  return pick;
}

}  // namespace animerun::view
