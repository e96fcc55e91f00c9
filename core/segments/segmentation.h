// Segmentation of line art or flat-coloured frames into the regions enclosed by lines, as
// AnimeRun's Segment maps are: every pixel gets an id, ids are contiguous 0..N-1 and
// ordered by area.
//
// The rule (LabelSegments), shared with the synthetic generator so that segmenting its
// frames reproduces its Segment ground truth exactly:
//  1. regions: 4-connected components of the non-line pixels (4-connectivity, so that a
//     line only 8-connected, e.g. a 1-px diagonal, still separates two regions); in
//     "flat" mode a component must also have one exact colour;
//  2. gap closing (optional, radius r > 0, trapped-ball style): the non-line area is
//     eroded with a disc of radius r (gaps up to ~2r px wide no longer connect),
//     components of what remains are the seeds, they grow back over the non-line pixels
//     breadth-first (4-neighbours), and non-line pixels no seed reaches (parts thinner
//     than the ball) become segments of their own;
//  3. line pixels join a region by breadth-first growth over 4-neighbours from all
//     labelled pixels, queued in raster order: a line pixel takes the label of the region
//     nearest in 4-connected steps through line pixels, ties going to the region whose
//     pixel comes first in that queue (deterministic);
//  4. ids are ordered by final area, descending, ties by first pixel in raster order. A
//     frame with no non-line pixel is one segment.
#pragma once

#include <string>

#include <opencv2/core.hpp>

namespace animerun::segments {

struct SegmentationOptions {
  // "lines": regions are the areas enclosed by dark lines (line art, or flat colours with
  // dark contours); "flat": additionally split where the exact colour changes (flat
  // colour frames whose regions meet without a line, e.g. shadow boundaries).
  std::string mode = "lines";
  // A pixel is a line pixel when its brightest channel is below this (0..256). 64 keeps
  // AnimeRun-style black/near-black lines and anti-aliased cores while dark but saturated
  // fills (e.g. navy blue (0, 0, 90)) stay regions.
  int line_threshold = 64;
  // Trapped-ball gap closing radius in pixels; 0 = off (exact components).
  int close_gaps = 0;
  void Check() const;  // throws Error on bad values
};

// CV_8UC1, 1 on line pixels, 0 elsewhere. image: RGB CV_8UC3 or grey CV_8UC1.
cv::Mat DetectLines(const cv::Mat& image, int line_threshold);

// The shared labelling rule above. line_mask: CV_8UC1 (non-zero = line). colour: empty,
// or RGB CV_8UC3 of the same size for "flat" mode. Returns CV_32SC1 ids 0..N-1.
cv::Mat LabelSegments(const cv::Mat& line_mask, int close_gaps = 0, const cv::Mat& colour = cv::Mat());

// DetectLines + LabelSegments with the options. Throws Error on a bad image type.
cv::Mat SegmentImage(const cv::Mat& image, const SegmentationOptions& options = {});

// Line art from any frame: black where DetectLines finds a line, white elsewhere (RGB).
// Used to give matchers the same kind of picture on both sides (a coloured key vs line art).
cv::Mat LineArtImage(const cv::Mat& image, int line_threshold);

// A colour picture of a label map (each id a stable pseudo-random colour), RGB CV_8UC3;
// pixels whose 4-neighbour has another id are drawn dark so the boundaries show.
cv::Mat VisualizeSegments(const cv::Mat& labels);

}  // namespace animerun::segments
