// `animerun synth`: writes a synthetic AnimeRun dataset (procedural cartoon sequences with
// exact flow, occlusion, line, segment and matching annotations) in the v2 layout.
#include <chrono>
#include <cstdio>
#include <string>

#include "app/cli/arg_parser.h"
#include "app/cli/command_registry.h"
#include "core/data/synth.h"
#include "core/jobs/job.h"

namespace animerun::cli {
namespace {

void ParseSize(const std::string& text, int* w, int* h) {
  const size_t x = text.find_first_of("xX");
  size_t used_w = 0, used_h = 0;
  try {
    if (x == std::string::npos) throw std::invalid_argument("no x");
    *w = std::stoi(text.substr(0, x), &used_w);
    *h = std::stoi(text.substr(x + 1), &used_h);
  } catch (const std::exception&) {
    throw UsageError("--size must look like 960x540 (got '" + text + "')");
  }
  if (used_w != x || used_h != text.size() - x - 1) throw UsageError("--size must look like 960x540 (got '" + text + "')");
}

uint64_t ParseSeed(const std::string& text) {
  size_t used = 0;
  uint64_t v = 0;
  try {
    if (text.empty() || text[0] == '-') throw std::invalid_argument("neg");
    v = std::stoull(text, &used, 0);
  } catch (const std::exception&) {
    throw UsageError("--seed must be a non-negative integer (got '" + text + "')");
  }
  if (used != text.size()) throw UsageError("--seed must be a non-negative integer (got '" + text + "')");
  return v;
}

int RunSynth(int argc, char** argv) {
  data::SynthOptions opt;
  std::string out;
  std::string size = std::to_string(opt.width) + "x" + std::to_string(opt.height);
  std::string seed = std::to_string(opt.seed);
  bool quiet = false, no_degrade = false;
  ArgParser p("animerun synth", "Generate a synthetic AnimeRun dataset (v2 layout, every annotation).");
  p.Add("--out", &out, "output folder; the dataset goes to <out>/<split>/", "-o", true);
  p.Add("--split", &opt.split, "split folder name (train or test)");
  p.Add("--scenes", &opt.scenes, "number of scenes");
  p.Add("--frames", &opt.frames, "frames per scene (>= 2)");
  p.Add("--size", &size, "frame size WxH");
  p.Add("--seed", &seed, "random seed: the same seed gives byte-identical files");
  p.Add("--color-passes", &opt.color_passes, "recoloured passes (color_1..N) besides original");
  p.Add("--motion-scale", &opt.motion_scale, "multiplies all motion (1 = AnimeRun-like, ~20 px mean)");
  p.Add("--line-width", &opt.line_width, "contour line width in pixels (flat style)");
  p.Add("--style", &opt.style,
        "flat (flat colours, dark contours) or varied (cel shading, textured backgrounds, varied lines, "
        "palettes, motion and camera noise; for training flow networks)");
  p.AddFlag("--no-degrade", &no_degrade, "varied style: no per-frame noise, blur or JPEG artefacts");
  p.AddFlag("--quiet", &quiet, "no progress on stderr");
  p.SetEpilog(
      "Defaults make 2 scenes x 6 frames at 960x540 in a few seconds. Layout:\n"
      "  Frame_Anime/<scene>/{original,color_1}/ImageNNNN.png, contour/<scene>/ImageNNNN.png,\n"
      "  Flow/<scene>/{forward,backward}/*.flo, Segment/<scene>/*.npy,\n"
      "  SegMatching/<scene>/{forward,backward}/*.json, UnmatchedForward/<scene>/*.npy,\n"
      "  LineArea/<scene>/*.npy (forward files named by frame t, backward by frame t+1).\n"
      "Example: animerun synth --out /tmp/synth --scenes 4 --frames 10 --size 480x270 --seed 7\n"
      "         animerun synth --out /tmp/train --split train --scenes 200 --frames 8 --style varied");
  if (!p.Parse(argc, argv)) return 0;
  ParseSize(size, &opt.width, &opt.height);
  opt.seed = ParseSeed(seed);
  opt.degrade = !no_degrade;
  opt.Check();

  JobContext job(quiet ? JobContext::ProgressFn() : StderrProgress("synth"));
  const auto t0 = std::chrono::steady_clock::now();
  data::GenerateSynthDataset(out, opt, &job);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %d scene(s) x %d frames at %dx%d to %s/%s in %.2f s\n", opt.scenes, opt.frames, opt.width,
              opt.height, out.c_str(), opt.split.c_str(), secs);
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(synth, "synth", "Generate a synthetic AnimeRun dataset", RunSynth);

}  // namespace animerun::cli
