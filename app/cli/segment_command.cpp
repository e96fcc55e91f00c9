// `animerun segment IMG -o SEG.npy`: the regions enclosed by lines of a line-art or
// flat-coloured frame as an AnimeRun Segment map (ids 0..N-1 ordered by area), with
// optional trapped-ball gap closing and a colour picture of the result.
#include <cstdio>
#include <string>

#include <opencv2/core.hpp>

#include "app/cli/arg_parser.h"
#include "app/cli/command_registry.h"
#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/segments/segmentation.h"

namespace animerun::cli {
namespace {

int RunSegment(int argc, char** argv) {
  std::string in, out, viz;
  bool int64 = false;
  segments::SegmentationOptions o;
  ArgParser p(argv[0], "Segment a frame into the regions enclosed by its lines (AnimeRun Segment map, .npy).");
  p.AddPositional("IMG", &in, "frame: line art (contour) or colour image");
  p.Add("--out", &out, "segment map to write (.npy, int32 ids 0..N-1, largest first)", "-o", true);
  p.Add("--mode", &o.mode, "lines: regions enclosed by dark lines; flat: also split where the exact colour changes");
  p.Add("--close-gaps", &o.close_gaps, "trapped-ball gap closing radius in px (gaps up to ~2R wide stay closed); 0 = off");
  p.Add("--line-threshold", &o.line_threshold, "a pixel whose brightest channel is below this is a line pixel (0..256)");
  p.Add("--viz", &viz, "also write a colour picture of the segments (.png)");
  p.AddFlag("--int64", &int64, "store ids as int64 instead of int32");
  p.SetEpilog("Line pixels join the nearest region (4-connected steps); see core/segments/segmentation.h.\n"
              "example: animerun segment contour/0001.png -o 0001.npy --close-gaps 2 --viz 0001_seg.png");
  if (!p.Parse(argc, argv)) return 0;
  try {
    o.Check();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }

  const cv::Mat image = io::ReadImageRgb(in);
  const cv::Mat labels = segments::SegmentImage(image, o);
  double hi = 0;
  cv::minMaxLoc(labels, nullptr, &hi);
  io::WriteNpyMat(out, labels, int64);
  if (!viz.empty()) io::WriteImage(viz, segments::VisualizeSegments(labels));
  std::printf("%s: %dx%d, %d segments -> %s\n", in.c_str(), labels.cols, labels.rows, static_cast<int>(hi) + 1,
              out.c_str());
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(segment, "segment", "Segment a line-art or flat-colour frame into regions (.npy)",
                          RunSegment);

}  // namespace animerun::cli
