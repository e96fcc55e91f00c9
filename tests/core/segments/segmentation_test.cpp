#include "core/segments/segmentation.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/data/synth.h"
#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::segments {
namespace {

namespace fs = std::filesystem;

// An RGB picture from text rows: '#' black line, '.' white, 'r'/'g'/'b' flat colours.
cv::Mat Picture(const std::vector<std::string>& rows) {
  cv::Mat img(static_cast<int>(rows.size()), static_cast<int>(rows[0].size()), CV_8UC3);
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const char c = rows[static_cast<size_t>(y)][static_cast<size_t>(x)];
      img.at<cv::Vec3b>(y, x) = c == '#'   ? cv::Vec3b(0, 0, 0)
                                : c == 'r' ? cv::Vec3b(220, 40, 40)
                                : c == 'g' ? cv::Vec3b(40, 200, 40)
                                : c == 'b' ? cv::Vec3b(0, 0, 90)  // dark but saturated: a fill
                                           : cv::Vec3b(255, 255, 255);
    }
  return img;
}

int NumSegments(const cv::Mat& labels) {
  double hi = 0;
  cv::minMaxLoc(labels, nullptr, &hi);
  return static_cast<int>(hi) + 1;
}

int Area(const cv::Mat& labels, int id) { return cv::countNonZero(labels == id); }

TEST(Segmentation, IdsOrderedByAreaAndLinePixelsJoinNearestRegion) {
  // Left region 2 columns, right region 5 columns, a 1-px line between them.
  const cv::Mat img = Picture({"..#.....", "..#.....", "..#....."});
  const cv::Mat lab = SegmentImage(img);
  ASSERT_EQ(lab.type(), CV_32SC1);
  ASSERT_EQ(NumSegments(lab), 2);
  EXPECT_EQ(lab.at<int>(0, 7), 0);  // the larger region first
  EXPECT_EQ(lab.at<int>(0, 0), 1);
  // The line pixels are at distance 1 from both; the tie goes to the region whose pixel is
  // queued first (raster order): the left one, whose pixel x=1 precedes x=3 in each row.
  for (int y = 0; y < 3; ++y) EXPECT_EQ(lab.at<int>(y, 2), 1) << y;
  EXPECT_EQ(Area(lab, 0), 15);
  EXPECT_EQ(Area(lab, 1), 9);
}

TEST(Segmentation, WideLineSplitsByDistance) {
  // A 4-px line: the two columns nearer each side go to that side.
  const cv::Mat img = Picture({"...####...", "...####...", "...####..."});
  const cv::Mat lab = SegmentImage(img);
  ASSERT_EQ(NumSegments(lab), 2);
  const int left = lab.at<int>(0, 0), right = lab.at<int>(0, 9);
  EXPECT_NE(left, right);
  for (int y = 0; y < 3; ++y) {
    EXPECT_EQ(lab.at<int>(y, 3), left);
    EXPECT_EQ(lab.at<int>(y, 4), left);
    EXPECT_EQ(lab.at<int>(y, 5), right);
    EXPECT_EQ(lab.at<int>(y, 6), right);
  }
}

TEST(Segmentation, EqualAreasTieBreakByFirstPixel) {
  // Two 3x3 squares (with their half of the line) of equal area; the top-left one is first.
  const cv::Mat img = Picture({"...#...", "...#...", "...#..."});
  const cv::Mat lab = SegmentImage(img);
  ASSERT_EQ(NumSegments(lab), 2);
  // Line column 3 goes left (tie rule): left 12 px, right 9 px -> left is id 0 by area.
  EXPECT_EQ(lab.at<int>(0, 0), 0);
  // Now a symmetric case where areas are equal: a horizontal split with a line of 2 rows.
  const cv::Mat img2 = Picture({"....", "....", "####", "####", "....", "...."});
  const cv::Mat lab2 = SegmentImage(img2);
  ASSERT_EQ(NumSegments(lab2), 2);
  EXPECT_EQ(Area(lab2, 0), 12);
  EXPECT_EQ(Area(lab2, 1), 12);
  EXPECT_EQ(lab2.at<int>(0, 0), 0);  // first pixel in raster order
  EXPECT_EQ(lab2.at<int>(5, 3), 1);
  // Transposed: the left region comes first.
  const cv::Mat lab3 = SegmentImage(cv::Mat(img2.t()));
  ASSERT_EQ(NumSegments(lab3), 2);
  EXPECT_EQ(lab3.at<int>(0, 0), 0);
  EXPECT_EQ(lab3.at<int>(3, 5), 1);
}

TEST(Segmentation, DiagonalOnePixelLineSeparates) {
  // An 8-connected diagonal: 4-connectivity keeps the two triangles apart.
  const cv::Mat img = Picture({"#.....", ".#....", "..#...", "...#..", "....#.", ".....#"});
  const cv::Mat lab = SegmentImage(img);
  ASSERT_EQ(NumSegments(lab), 2);
  EXPECT_NE(lab.at<int>(0, 5), lab.at<int>(5, 0));
  EXPECT_EQ(Area(lab, 0) + Area(lab, 1), 36);
}

// A square ring of line with a gap of gap_px in its right wall, on a 40x40 canvas.
cv::Mat RingWithGap(int gap_px) {
  cv::Mat img(40, 40, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::rectangle(img, cv::Rect(8, 8, 24, 24), cv::Scalar(0, 0, 0), 2);
  const int y0 = 20 - gap_px / 2;
  img(cv::Rect(30, y0, 3, gap_px)).setTo(cv::Scalar(255, 255, 255));
  return img;
}

TEST(Segmentation, GapClosingClosesSmallGapOnly) {
  SegmentationOptions exact;
  SegmentationOptions closing;
  closing.close_gaps = 3;
  const cv::Mat small = RingWithGap(3);
  EXPECT_EQ(NumSegments(SegmentImage(small, exact)), 1);  // inside leaks out through the gap
  const cv::Mat closed = SegmentImage(small, closing);
  ASSERT_EQ(NumSegments(closed), 2);
  EXPECT_NE(closed.at<int>(20, 20), closed.at<int>(2, 2));  // inside vs outside
  EXPECT_EQ(closed.at<int>(2, 2), 0);                       // the outside is larger
  // Every pixel is labelled and the inside is roughly the ring's interior (20x20 + its line).
  const int inside = Area(closed, closed.at<int>(20, 20));
  EXPECT_GT(inside, 20 * 20);
  EXPECT_LT(inside, 26 * 26);

  const cv::Mat big = RingWithGap(14);  // far wider than the ball (2r+1 = 7)
  EXPECT_EQ(NumSegments(SegmentImage(big, closing)), 1);
}

TEST(Segmentation, GapClosingKeepsThinPocketsAsSegments) {
  // A 2-px wide corridor closed at both ends: the ball (r = 2) cannot enter it, yet it
  // must stay a segment of its own rather than vanish into a neighbour.
  cv::Mat img(30, 30, CV_8UC3, cv::Scalar(255, 255, 255));
  img(cv::Rect(5, 10, 20, 1)).setTo(cv::Scalar(0, 0, 0));
  img(cv::Rect(5, 13, 20, 1)).setTo(cv::Scalar(0, 0, 0));
  img(cv::Rect(5, 10, 1, 4)).setTo(cv::Scalar(0, 0, 0));
  img(cv::Rect(24, 10, 1, 4)).setTo(cv::Scalar(0, 0, 0));
  SegmentationOptions o;
  o.close_gaps = 2;
  const cv::Mat lab = SegmentImage(img, o);
  ASSERT_EQ(NumSegments(lab), 2);
  EXPECT_NE(lab.at<int>(11, 15), lab.at<int>(0, 0));
  EXPECT_EQ(NumSegments(SegmentImage(img)), 2);  // same as exact components here
}

TEST(Segmentation, FlatModeSplitsColoursWithoutLine) {
  const cv::Mat img = Picture({"rrrgggg", "rrrgggg", "rrr#bbb", "rrr#bbb"});
  SegmentationOptions flat;
  flat.mode = "flat";
  EXPECT_EQ(NumSegments(SegmentImage(img)), 1);  // no line separates anything
  const cv::Mat lab = SegmentImage(img, flat);
  ASSERT_EQ(NumSegments(lab), 3);
  // Line pixels: (2,3) is reached first from green (row 1 is queued before row 2),
  // (3,3) from red (3,2), queued before blue (3,4).
  EXPECT_EQ(lab.at<int>(0, 0), 0);  // red: 12 px + 1 line pixel
  EXPECT_EQ(Area(lab, 0), 13);
  EXPECT_EQ(lab.at<int>(0, 6), 1);  // green: 8 px + 1 line pixel
  EXPECT_EQ(Area(lab, 1), 9);
  EXPECT_EQ(lab.at<int>(2, 3), 1);
  EXPECT_EQ(lab.at<int>(3, 3), 0);
  EXPECT_EQ(lab.at<int>(3, 6), 2);  // navy blue (0, 0, 90) is a fill, not a line
  EXPECT_EQ(Area(lab, 0) + Area(lab, 1) + Area(lab, 2), 28);
}

TEST(Segmentation, AllLineIsOneSegmentAndGreyInputWorks) {
  const cv::Mat lab = SegmentImage(cv::Mat(5, 6, CV_8UC3, cv::Scalar(0, 0, 0)));
  EXPECT_EQ(cv::countNonZero(lab), 0);
  cv::Mat grey(4, 5, CV_8UC1, cv::Scalar(255));
  grey.col(2).setTo(0);
  EXPECT_EQ(NumSegments(SegmentImage(grey)), 2);
  SegmentationOptions flat;
  flat.mode = "flat";
  EXPECT_EQ(NumSegments(SegmentImage(grey, flat)), 2);
}

TEST(Segmentation, LineThresholdDecidesWhatIsALine) {
  cv::Mat img(4, 5, CV_8UC3, cv::Scalar(255, 255, 255));
  img.col(2).setTo(cv::Scalar(100, 100, 100));  // grey stroke
  SegmentationOptions o;
  EXPECT_EQ(NumSegments(SegmentImage(img, o)), 1);
  o.line_threshold = 101;
  EXPECT_EQ(NumSegments(SegmentImage(img, o)), 2);
  const cv::Mat line = DetectLines(img, 101);
  EXPECT_EQ(cv::countNonZero(line), 4);
  const cv::Mat art = LineArtImage(img, 101);
  EXPECT_EQ(art.at<cv::Vec3b>(0, 2), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(art.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));
}

TEST(Segmentation, BadInputsAndOptionsThrow) {
  SegmentationOptions o;
  o.mode = "edges";
  EXPECT_THROW(o.Check(), Error);
  o = {};
  o.line_threshold = 300;
  EXPECT_THROW(o.Check(), Error);
  o = {};
  o.close_gaps = -1;
  EXPECT_THROW(o.Check(), Error);
  EXPECT_THROW(SegmentImage(cv::Mat()), Error);
  EXPECT_THROW(SegmentImage(cv::Mat(3, 3, CV_32FC1, cv::Scalar(1))), Error);
  EXPECT_THROW(LabelSegments(cv::Mat(3, 3, CV_32SC1, cv::Scalar(0))), Error);
  EXPECT_THROW(LabelSegments(cv::Mat(3, 3, CV_8UC1, cv::Scalar(0)), 0, cv::Mat(4, 3, CV_8UC3)), Error);
  EXPECT_THROW(VisualizeSegments(cv::Mat(3, 3, CV_8UC1)), Error);
}

TEST(Segmentation, VisualizationMarksBoundaries) {
  const cv::Mat lab = SegmentImage(Picture({"..#...", "..#...", "..#..."}));
  const cv::Mat viz = VisualizeSegments(lab);
  ASSERT_EQ(viz.type(), CV_8UC3);
  ASSERT_EQ(viz.size(), lab.size());
  EXPECT_NE(viz.at<cv::Vec3b>(0, 0), viz.at<cv::Vec3b>(0, 5));           // ids differ in colour
  EXPECT_LT(viz.at<cv::Vec3b>(0, 2)[0] + 0, viz.at<cv::Vec3b>(0, 0)[0] + 0);  // boundary darker
}

// Segmenting the generator's frames (the colour `original` pass and the `contour` line
// art) gives back its Segment ground truth exactly.
void ExpectGeneratorSegmentsReproduced(const data::SynthOptions& so, const std::string& tag) {
  const fs::path root = test::ScratchDir(tag);
  data::GenerateSynthDataset(root, so);
  int checked = 0;
  for (int s = 0; s < so.scenes; ++s) {
    char scene[32];
    std::snprintf(scene, sizeof(scene), "synth_%03d", s);
    for (int t = 0; t < so.frames; ++t) {
      char stem[32];
      std::snprintf(stem, sizeof(stem), "Image%04d", t);
      const fs::path split = root / so.split;
      const cv::Mat gt = io::ReadNpyLabels(split / "Segment" / scene / (std::string(stem) + ".npy"));
      const cv::Mat colour = io::ReadImageRgb(split / "Frame_Anime" / scene / "original" / (std::string(stem) + ".png"));
      const cv::Mat contour = io::ReadImageGray(split / "contour" / scene / (std::string(stem) + ".png"));
      for (const cv::Mat* img : {&colour, &contour}) {
        const cv::Mat lab = SegmentImage(*img);
        ASSERT_EQ(lab.size(), gt.size());
        EXPECT_EQ(cv::countNonZero(lab != gt), 0) << scene << "/" << stem << (img == &colour ? " original" : " contour");
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, so.scenes * so.frames);
}

TEST(Segmentation, ReproducesGeneratorSegmentsSmall) {
  data::SynthOptions so;
  so.scenes = 2;
  so.frames = 3;
  so.width = 160;
  so.height = 96;
  ExpectGeneratorSegmentsReproduced(so, "gen_small");
}

TEST(Segmentation, ReproducesGeneratorSegmentsMediumAndOtherLineWidths) {
  data::SynthOptions so;
  so.scenes = 1;
  so.frames = 2;
  so.width = 320;
  so.height = 180;
  ExpectGeneratorSegmentsReproduced(so, "gen_medium");
  so.line_width = 1;
  so.seed = 5;
  ExpectGeneratorSegmentsReproduced(so, "gen_lw1");
  so.line_width = 4;
  so.seed = 9;
  ExpectGeneratorSegmentsReproduced(so, "gen_lw4");
}

}  // namespace
}  // namespace animerun::segments
