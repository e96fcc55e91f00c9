// `animerun flow`: optical flow between two images with one of the four networks.
#include <cstdio>
#include <string>

#include "app/cli/arg_parser.h"
#include "app/cli/command_registry.h"
#include "app/cli/flow_cli_options.h"
#include "core/flow/flow_predictor.h"
#include "core/flow/flow_viz.h"
#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/jobs/job.h"

namespace animerun::cli {
namespace {

int RunFlow(int argc, char** argv) {
  flow::FlowRunOptions o;
  std::string img1, img2, out, viz;
  double max_flow = 0;
  ArgParser p(argv[0], "Optical flow from IMG1 to IMG2 with RAFT, RAFT-small, GMA, GMFlow or PWC-Net and its "
                       "official weights. Any image size: the input is padded as the official code does and the "
                       "flow cropped back.");
  AddFlowRunOptions(p, &o);
  p.AddPositional("IMG1", &img1, "first frame (PNG/JPEG/...)");
  p.AddPositional("IMG2", &img2, "second frame, same size");
  p.Add("--out", &out, "output flow (.flo, .png = KITTI 16-bit, .pfm)", "-o", true);
  p.Add("--viz", &viz, "also write the colour-wheel visualisation (PNG)");
  p.Add("--max-flow", &max_flow, "normalise the visualisation by this magnitude (0 = the flow's maximum)");
  p.SetEpilog("example: animerun flow --model raft --weights raft-things.pth a.png b.png -o a.flo --viz a.png");
  if (!p.Parse(argc, argv)) return 0;
  CheckAsUsage(o);

  const cv::Mat a = io::ReadImageRgb(img1);
  const cv::Mat b = io::ReadImageRgb(img2);
  if (a.size() != b.size())
    throw Error(img2 + ": size " + std::to_string(b.cols) + "x" + std::to_string(b.rows) + " differs from " + img1 +
                " (" + std::to_string(a.cols) + "x" + std::to_string(a.rows) + ")");
  flow::FlowRunner runner(o);
  JobContext job(StderrProgress("flow"));  // "iteration k/N" on stderr
  const cv::Mat f = runner.Predict(a, b, &job);
  WriteFlowByExtension(out, f);
  std::printf("flow written to %s (%dx%d)\n", out.c_str(), f.cols, f.rows);
  if (!viz.empty()) {
    flow::FlowVizOptions v;
    v.max_flow = max_flow;
    io::WriteImage(viz, flow::FlowToColor(f, v));
    std::printf("visualisation written to %s\n", viz.c_str());
  }
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(flow, "flow", "Optical flow between two images with a network and official weights",
                          RunFlow);

}  // namespace animerun::cli
