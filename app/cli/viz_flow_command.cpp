// `animerun viz-flow IN -o OUT.png`: a flow file drawn with the Middlebury colour wheel
// (RAFT's flow_to_image), optionally with arrows and a colour-wheel legend.
#include <algorithm>
#include <cstdio>
#include <string>

#include <opencv2/core.hpp>

#include "app/cli/arg_parser.h"
#include "app/cli/command_registry.h"
#include "core/flow/flow_viz.h"
#include "core/io/flow_io.h"
#include "core/io/image_io.h"

namespace animerun::cli {
namespace {

int RunVizFlow(int argc, char** argv) {
  std::string in, out;
  flow::FlowVizOptions viz;
  flow::ArrowOptions arrows;
  bool draw_arrows = false, legend = false;
  ArgParser p(argv[0], "Draw an optical-flow file (.flo, KITTI .png, .pfm) as a colour image (RAFT's colour wheel).");
  p.AddPositional("IN", &in, "flow file: .flo, KITTI 16-bit .png or .pfm");
  p.Add("--out", &out, "output image (.png, .jpg, ...)", "-o", true);
  p.Add("--max-flow", &viz.max_flow, "normalise by this magnitude (px) instead of the flow's maximum; larger "
                                      "flows saturate. 0 = automatic");
  p.Add("--clip-flow", &viz.clip_flow, "clip u and v to [0, C] first (RAFT's clip_flow, which also drops negative "
                                       "components). 0 = off");
  p.AddFlag("--bgr", &viz.bgr, "swap red and blue in the output (RAFT's convert_to_bgr), for tools that read the "
                               "file as BGR");
  p.AddFlag("--arrows", &draw_arrows, "draw flow arrows over the colour image");
  p.Add("--arrow-step", &arrows.step, "arrows: one every N pixels");
  p.Add("--arrow-scale", &arrows.scale, "arrows: length = scale * flow");
  p.AddFlag("--legend", &legend, "paste a colour-wheel legend into the top-right corner");
  p.SetEpilog("example: animerun viz-flow pred/0000.flo -o 0000.png --max-flow 40 --arrows");
  if (!p.Parse(argc, argv)) return 0;
  try {
    viz.Check();
    arrows.Check();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }

  const cv::Mat flow = io::ReadFlowAuto(in);
  cv::Mat image = flow::FlowToColor(flow, viz);
  if (draw_arrows) image = flow::DrawFlowArrows(image, flow, arrows);
  if (legend) {
    const int size = std::min(128, std::min(image.rows, image.cols) / 4);
    if (size >= 8) {
      cv::Mat wheel = flow::ColorWheelLegend(size);
      if (viz.bgr) {
        cv::Mat swapped;
        const int from_to[] = {0, 2, 1, 1, 2, 0};
        swapped.create(wheel.size(), wheel.type());
        cv::mixChannels(&wheel, 1, &swapped, 1, from_to, 3);
        wheel = swapped;
      }
      wheel.copyTo(image(cv::Rect(image.cols - size - 4, 4, size, size)));
    }
  }
  io::WriteImage(out, image);
  std::printf("%s: %dx%d flow -> %s\n", in.c_str(), flow.cols, flow.rows, out.c_str());
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(viz_flow, "viz-flow", "Draw an optical-flow file as a colour image (Middlebury wheel)",
                          RunVizFlow);

}  // namespace animerun::cli
