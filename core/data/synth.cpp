// The generator's driver: options, the AnimeRun v2 layout and the per-frame/per-pair
// files. See synth_scene.h (what is drawn) and synth_render.h (how annotations are made).
#include "core/data/synth.h"

#include <cstdio>
#include <optional>
#include <string>

#include "core/data/synth_paint.h"
#include "core/data/synth_render.h"
#include "core/data/synth_rng.h"
#include "core/data/synth_scene.h"
#include "core/data/synth_style.h"
#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/io/match_json.h"
#include "core/io/npy.h"
#include "core/util/error.h"

namespace animerun::data {

namespace fs = std::filesystem;

void SynthOptions::Check() const {
  Require(!split.empty() && split.find('/') == std::string::npos && split != "." && split != "..",
          "synth: split must be a plain folder name (got '" + split + "')");
  Require(scenes >= 1 && scenes <= 10000, "synth: scenes must be in 1..10000 (got " + std::to_string(scenes) + ")");
  Require(frames >= 2 && frames <= 1000, "synth: frames must be in 2..1000 (got " + std::to_string(frames) + ")");
  Require(width >= 64 && width <= 8192 && height >= 64 && height <= 8192,
          "synth: size must be between 64x64 and 8192x8192 (got " + std::to_string(width) + "x" +
              std::to_string(height) + ")");
  Require(color_passes >= 0 && color_passes <= 16,
          "synth: color_passes must be in 0..16 (got " + std::to_string(color_passes) + ")");
  Require(motion_scale >= 0.0 && motion_scale <= 10.0, "synth: motion_scale must be in [0, 10]");
  Require(line_width >= 1 && line_width <= 8, "synth: line_width must be in 1..8 (got " + std::to_string(line_width) + ")");
  Require(style == "flat" || style == "varied", "synth: style must be flat or varied (got '" + style + "')");
}

namespace {

std::string FrameName(int t) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "Image%04d", t);
  return buf;
}

std::string SceneName(int s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "synth_%03d", s);
  return buf;
}

// Per-scene seed: the same (seed, scene index) always gives the same scene, whatever
// the number of scenes asked for.
uint64_t SceneSeed(uint64_t seed, int scene) {
  uint64_t s = seed ^ (0xA0761D6478BD642Full * (static_cast<uint64_t>(scene) + 1));
  return synth::SplitMix64(s);
}

struct Layout {
  fs::path root;  // <out>/<split>
  std::string scene;
  fs::path Frame(const std::string& pass, int t) const {
    return root / "Frame_Anime" / scene / pass / (FrameName(t) + ".png");
  }
  fs::path Of(const char* folder, const char* sub, int t, const char* ext) const {
    fs::path p = root / folder / scene;
    if (sub) p /= sub;
    return p / (FrameName(t) + ext);
  }
};

// A scene and how it is drawn: style is set in the varied style only.
struct DrawnScene {
  synth::SceneSpec spec;
  std::optional<synth::SceneStyle> style;

  synth::FrameMaps Render(int t, int line_width) const {
    return style ? synth::RenderStyledFrame(spec, *style, t) : synth::RenderFrame(spec, t, line_width);
  }
  cv::Mat Colour(const synth::FrameMaps& f, int pass) const {
    return style ? synth::StyledColourImage(spec, *style, f, pass) : synth::ColourImage(spec, f, pass);
  }
};

// The varied style draws its look from a stream of its own; the scene is built by the
// flat style's builder, with the style's motion multiplier.
DrawnScene MakeScene(const SynthOptions& o, int s) {
  const uint64_t seed = SceneSeed(o.seed, s);
  DrawnScene scene;
  if (o.style == "flat") {
    scene.spec = synth::RandomScene(seed, s, o.width, o.height, o.frames, o.motion_scale, o.color_passes);
    return scene;
  }
  uint64_t style_state = seed ^ 0x243F6A8885A308D3ull;
  const uint64_t style_seed = synth::SplitMix64(style_state);
  const double motion = o.motion_scale * synth::StyleMotionFactor(style_seed);
  scene.spec = synth::RandomScene(seed, s, o.width, o.height, o.frames, motion, o.color_passes);
  scene.style = synth::RandomStyle(style_seed, &scene.spec);
  if (!o.degrade) {
    scene.style->noise_sigma = scene.style->blur_sigma = 0;
    scene.style->jpeg_quality = 0;
  }
  return scene;
}

void WriteFrame(const Layout& out, const DrawnScene& scene, const synth::FrameMaps& f, int t) {
  io::WriteImage(out.Frame("original", t), scene.Colour(f, 0));
  for (size_t k = 1; k <= scene.spec.recolours.size(); ++k)
    io::WriteImage(out.Frame("color_" + std::to_string(k), t), scene.Colour(f, static_cast<int>(k)));
  io::WriteImage(out.Of("contour", nullptr, t, ".png"), synth::ContourImage(f));
  io::WriteNpyMat(out.Of("Segment", nullptr, t, ".npy"), f.segments);
}

// Pair (t, t+1). Forward files carry frame t's name, backward files frame t+1's (the
// frame they start from), as in the official data.
void WritePair(const Layout& out, const synth::FrameMaps& a, const synth::FrameMaps& b, int t) {
  const cv::Mat fwd = synth::ExactFlow(a, b), bwd = synth::ExactFlow(b, a);
  const cv::Mat vis_f = synth::VisibleMask(a, b, fwd), vis_b = synth::VisibleMask(b, a, bwd);
  io::WriteFlo(out.Of("Flow", "forward", t, ".flo"), fwd);
  io::WriteFlo(out.Of("Flow", "backward", t + 1, ".flo"), bwd);
  io::WriteMatchJson(out.Of("SegMatching", "forward", t, ".json"), synth::MatchSegments(a, b, fwd, vis_f));
  io::WriteMatchJson(out.Of("SegMatching", "backward", t + 1, ".json"), synth::MatchSegments(b, a, bwd, vis_b));
  io::WriteNpyMat(out.Of("UnmatchedForward", nullptr, t, ".npy"), vis_f);
  io::WriteNpyMat(out.Of("LineArea", nullptr, t, ".npy"), synth::LineAreaMask(a));
}

}  // namespace

void GenerateSynthDataset(const fs::path& out_root, const SynthOptions& options, const JobContext* job) {
  options.Check();
  const int total = options.scenes * options.frames;
  for (int s = 0; s < options.scenes; ++s) {
    const Layout out{out_root / options.split, SceneName(s)};
    const DrawnScene scene = MakeScene(options, s);
    synth::FrameMaps prev;
    for (int t = 0; t < options.frames; ++t) {
      if (job) job->CheckCancel();
      synth::FrameMaps cur = scene.Render(t, options.line_width);
      WriteFrame(out, scene, cur, t);
      if (t > 0) WritePair(out, prev, cur, t - 1);
      prev = std::move(cur);
      if (job) {
        const int done = s * options.frames + t + 1;
        job->Report(static_cast<double>(done) / total,
                    "scene " + std::to_string(s + 1) + "/" + std::to_string(options.scenes) + ": frame " +
                        std::to_string(t + 1) + "/" + std::to_string(options.frames));
      }
    }
  }
}

}  // namespace animerun::data
