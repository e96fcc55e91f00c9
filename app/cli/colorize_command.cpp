// `animerun colorize`: colours line-art frames from coloured key frames by segment
// matching (core/colorize/colorize.h documents the method and the JSON written per frame).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli/arg_parser.h"
#include "core/flow/flow_models.h"
#include "app/cli/command_registry.h"
#include "core/colorize/colorize.h"
#include "core/jobs/job.h"

namespace animerun::cli {
namespace {

namespace fs = std::filesystem;

int RunColorize(int argc, char** argv) {
  colorize::ColorizeOptions o;
  std::vector<std::string> refs, ref_segs;
  std::string frames, out, flow_model, flow_weights;
  int flow_iters = 12;
  bool keep_lines = false, remove_lines = false, quiet = false;
  ArgParser p("animerun colorize", "Colour line-art frames from coloured key frames by segment matching.");
  p.AddRepeated("--ref", &refs, "coloured key frame (repeat for several keys; placed by file name)");
  p.AddRepeated("--ref-seg", &ref_segs, "segment map (.npy) of each key, same order (default: segment the key)");
  p.Add("--frames", &frames, "folder of line-art frames (.png/.jpg, sorted by name)", "", true);
  p.Add("--matcher", &o.matcher, "ant, flow or geometric");
  p.Add("--weights", &o.matcher_options.weights, "AnT checkpoint (--matcher ant)" + flow::BuiltinWeightsHelp("ant"));
  p.Add("--flow-model", &flow_model, "flow network for --matcher flow: raft, raft-small, gma, gmflow, pwcnet, ...");
  p.Add("--flow-weights", &flow_weights, "checkpoint of the flow network" + flow::BuiltinWeightsHelp("flow"));
  p.Add("--flow-iters", &flow_iters, "RAFT/GMA iterations for --matcher flow");
  p.Add("--device", &o.matcher_options.device, "cpu, cuda or cuda:N (AnT)");
  p.Add("--mode", &o.mode, "forward (chained frame to frame from the nearest key) or nearest (each frame to its "
                           "nearest key)");
  p.Add("--out", &out, "output folder: <stem>.png and <stem>.json per frame", "-o", true);
  p.AddFlag("--keep-lines", &keep_lines, "draw the frames' lines over the fills (the default)");
  p.AddFlag("--remove-lines", &remove_lines, "line pixels take their segment's colour");
  p.Add("--close-gaps", &o.segmentation.close_gaps, "gap-closing radius in pixels for segmentation (0 = off)");
  p.Add("--line-threshold", &o.segmentation.line_threshold, "brightest channel below this = line pixel");
  p.AddFlag("--quiet", &quiet, "no progress on stderr");
  p.SetEpilog(
      "Unfilled segments (no match) are drawn magenta (255, 0, 255) and listed as null in the\n"
      "JSON; their count is printed per frame and in total.\n"
      "Example (synthetic scene):\n"
      "  animerun colorize --ref d/test/Frame_Anime/synth_000/original/Image0000.png \\\n"
      "    --ref-seg d/test/Segment/synth_000/Image0000.npy --frames d/test/contour/synth_000 \\\n"
      "    --matcher geometric --mode forward -o colorized/");
  if (!p.Parse(argc, argv)) return 0;
  if (keep_lines && remove_lines) throw UsageError("give at most one of --keep-lines and --remove-lines");
  o.keep_lines = !remove_lines;
  o.refs.assign(refs.begin(), refs.end());
  o.ref_segs.assign(ref_segs.begin(), ref_segs.end());
  o.frames = frames;
  o.out = out;
  if (!flow_model.empty() || !flow_weights.empty()) {
    flow::FlowRunOptions f;
    if (!flow_model.empty()) f.model = flow_model;
    f.weights = flow_weights;
    f.iters = flow_iters;
    f.device = o.matcher_options.device;
    o.matcher_options.flow_model = f;
  }
  try {
    o.Check();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }

  const auto t0 = std::chrono::steady_clock::now();
  JobContext job(quiet ? JobContext::ProgressFn() : StderrProgress("colorize"));
  const colorize::ColorizeResult r = colorize::Colorize(o, &job);
  for (const colorize::FrameResult& f : r.frames)
    std::printf("%s: %d segments, %d unfilled (from %s%s)\n", f.name.c_str(), f.num_segments, f.num_unfilled,
                f.source_is_key ? "key " : "", f.source.c_str());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("colorized %zu frame(s) into %s with %s (%s) in %.2f s; %lld unfilled segment(s) in total\n",
              r.frames.size(), o.out.c_str(), o.matcher.c_str(), o.mode.c_str(), secs,
              static_cast<long long>(r.total_unfilled));
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(colorize, "colorize", "Colour line-art frames from coloured keys by segment matching",
                          RunColorize);

}  // namespace animerun::cli
