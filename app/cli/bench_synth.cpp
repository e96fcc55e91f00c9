// `animerun bench synth`: speed of the synthetic generator per stage (scene, frame render,
// colour image, flow + masks + matching) and end to end with files, for either style.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "app/cli/arg_parser.h"
#include "app/cli/bench_registry.h"
#include "app/cli/bench_util.h"
#include "core/data/synth.h"
#include "core/data/synth_paint.h"
#include "core/data/synth_render.h"
#include "core/data/synth_scene.h"
#include "core/data/synth_style.h"

namespace animerun::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point t0) { return 1e3 * std::chrono::duration<double>(Clock::now() - t0).count(); }

int RunBenchSynth(int argc, char** argv) {
  std::string size = "960x540";
  data::SynthOptions o;
  o.style = "varied";
  o.frames = 8;
  int repeats = 3;
  ArgParser p("animerun bench synth", "Synthetic generator speed per frame (median over frames and repeats).");
  p.Add("--size", &size, "frame size WxH");
  p.Add("--style", &o.style, "flat or varied");
  p.Add("--frames", &o.frames, "frames per scene");
  p.Add("--repeats", &repeats, "scenes timed (different seeds)");
  if (!p.Parse(argc, argv)) return 0;
  if (std::sscanf(size.c_str(), "%dx%d", &o.width, &o.height) != 2) throw UsageError("--size must look like 960x540");
  if (repeats < 1) throw UsageError("--repeats must be >= 1");
  o.Check();
  const bool varied = o.style == "varied";

  std::vector<double> scene_ms, render_ms, colour_ms, pair_ms;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = Clock::now();
    data::synth::SceneSpec spec = data::synth::RandomScene(1000 + r, r, o.width, o.height, o.frames, 1.0, 1);
    data::synth::SceneStyle style;
    if (varied) style = data::synth::RandomStyle(2000 + r, &spec);
    scene_ms.push_back(Ms(t0));
    data::synth::FrameMaps prev;
    for (int t = 0; t < o.frames; ++t) {
      t0 = Clock::now();
      data::synth::FrameMaps f = varied ? data::synth::RenderStyledFrame(spec, style, t)
                                        : data::synth::RenderFrame(spec, t, o.line_width);
      render_ms.push_back(Ms(t0));
      t0 = Clock::now();
      const cv::Mat img = varied ? data::synth::StyledColourImage(spec, style, f, 0) : data::synth::ColourImage(spec, f, 0);
      colour_ms.push_back(Ms(t0));
      if (t > 0) {
        t0 = Clock::now();
        for (int dir = 0; dir < 2; ++dir) {
          const auto& a = dir ? f : prev;
          const auto& b = dir ? prev : f;
          const cv::Mat flow = data::synth::ExactFlow(a, b), vis = data::synth::VisibleMask(a, b, flow);
          data::synth::MatchSegments(a, b, flow, vis);
        }
        pair_ms.push_back(Ms(t0));
      }
      prev = std::move(f);
    }
  }
  // End to end: every file of the AnimeRun layout (PNG, .flo, .npy, .json), original +
  // one recoloured pass.
  const fs::path dir = fs::temp_directory_path() / ("animerun_bench_synth_" + std::to_string(::getpid()));
  o.scenes = repeats;
  auto t0 = Clock::now();
  data::GenerateSynthDataset(dir, o);
  const double total_ms = Ms(t0);
  std::error_code ec;
  fs::remove_all(dir, ec);

  std::printf("synth bench: style %s, %dx%d, %d scene(s) x %d frames\n", o.style.c_str(), o.width, o.height, repeats,
              o.frames);
  auto row = [](const std::string& what, double ms, const char* unit) {
    std::printf("%-48s %8.2f ms %s\n", what.c_str(), ms, unit);
  };
  row(std::string("scene (geometry") + (varied ? " + style)" : ")"), Median(scene_ms), "per scene");
  row(std::string("render frame (regions, ") + (varied ? "paint, lines, segments)" : "lines, segments)"),
      Median(render_ms), "per frame");
  row("colour image, one pass", Median(colour_ms), "per frame");
  if (!pair_ms.empty()) row("flow + visibility + matching, both directions", Median(pair_ms), "per pair");
  row("end to end, every file, original + color_1", total_ms / (repeats * o.frames), "per frame");
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_BENCH(synth, "synth", "synthetic generator speed per stage and end to end", RunBenchSynth);

}  // namespace animerun::cli
