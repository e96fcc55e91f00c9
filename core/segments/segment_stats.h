// Per-segment measurements of a label map (CV_32SC1, ids 0..N-1): area, bounding box,
// centroid, shape moments, adjacency and dominant colour. One pass over the pixels each,
// so they stay cheap for hundreds of segments at full resolution (the matchers and the
// colorizer call them on every frame).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace animerun::segments {

struct SegmentStats {
  int64_t area = 0;          // pixels
  cv::Rect bbox;             // tight box (empty when area == 0)
  cv::Point2d centroid;      // mean pixel position (x, y), pixel centres at integers
};

// Number of segments: max label + 1. Throws Error when labels is not a non-empty
// CV_32SC1 map or holds a negative id. name (a file path) names the error.
int CountSegments(const cv::Mat& labels, const std::string& name = "segment map");

// Stats of ids 0..CountSegments()-1 (an id without pixels gets area 0).
std::vector<SegmentStats> ComputeSegmentStats(const cv::Mat& labels);

// Shape descriptors that survive translation and scale: the 7 Hu invariants (from the
// normalised central moments of the segment's pixel set), each mapped by
// sign(h) * log10(1 + |h| * 1e4) so that the tiny higher-order ones still count. A segment
// of one pixel gets all zeros.
using HuMoments = std::array<double, 7>;
std::vector<HuMoments> ComputeHuMoments(const cv::Mat& labels, int num_segments);

// Segments that touch through a 4-neighbour pixel pair, sorted and unique per segment.
std::vector<std::vector<int>> SegmentAdjacency(const cv::Mat& labels, int num_segments);

// The most frequent colour of each segment's pixels (RGB CV_8UC3 image of the label map's
// size), counting only pixels where exclude (CV_8UC1, optional) is 0; a segment with no
// such pixel falls back to all its pixels. Ties go to the smaller packed 0xRRGGBB value.
// Segments without pixels get (0, 0, 0).
std::vector<cv::Vec3b> DominantColours(const cv::Mat& labels, int num_segments, const cv::Mat& image,
                                       const cv::Mat& exclude = cv::Mat());

// Mean colour per segment over pixels where exclude is 0 (fallback: all its pixels).
std::vector<cv::Vec3d> MeanColours(const cv::Mat& labels, int num_segments, const cv::Mat& image,
                                   const cv::Mat& exclude = cv::Mat());

}  // namespace animerun::segments
