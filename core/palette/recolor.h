// Recolouring AnimeRun cuts from reference palettes (AnimeRun supplementary 1.1). A
// material is a distinct flat colour of the `original` pass within a cut (scene); each
// material gets one colour drawn from the cut's palette group, used in every frame of the
// cut, and contour-line pixels stay untouched. The result is a new Frame_Anime pass
// (color_N) with the original file names, so flow and segment annotations stay valid.
// The method and its choices are documented in docs/palette.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"
#include "core/jobs/job.h"
#include "core/palette/palette.h"

namespace animerun::palette {

struct RecolorOptions {
  std::string split = "test";        // dataset split folder ("" when the root is the split)
  std::string pass;                  // output pass, "color_<N>" with N >= 1 (required)
  std::string group;                 // palette group for every cut; "" when random_group
  bool random_group = false;         // choose a drawable group per cut (Python rng.choice)
  uint64_t seed = 0;                 // same seed -> same colours (per cut, see SceneSeed)
  std::vector<std::string> scenes;   // cuts to recolour; empty = all
  bool overwrite = false;            // replace an existing pass of that name
  int dark_threshold = 64;           // last-resort line rule: max(r, g, b) < this is line
  int contour_threshold = 128;       // contour image: grey < this is line
  int64_t min_material_pixels = 0;   // colours on fewer pixels per cut follow their nearest material
  int threads = 0;                   // worker threads; 0 = all cores
  void Check() const;
};

// "color_<N>", N a positive integer without leading zeros.
bool IsColorPassName(const std::string& name);

// Where a frame's line pixels came from.
enum class LineSource { kLineArea = 0, kContour = 1, kDark = 2 };
const char* LineSourceName(LineSource source);

// The annotation files that can mark frame i's line pixels: LineArea of the pair that
// starts at i (its first frame), and the frame's contour drawing. Empty when absent.
struct FrameLineFiles {
  std::filesystem::path line_area;
  std::filesystem::path contour;
};
std::vector<FrameLineFiles> LineFilesOfScene(const data::Scene& scene);

// CV_8UC1, 255 = line pixel (left untouched), 0 = material pixel. Uses LineArea (0 = line)
// when present, else the contour drawing (grey < contour_threshold), else dark pixels of
// rgb. Throws Error naming the file when a mask is unreadable or of another size.
cv::Mat LineMask(const cv::Mat& rgb, const FrameLineFiles& files, const RecolorOptions& options,
                 LineSource* used = nullptr);

inline uint32_t PackRgb(uint8_t r, uint8_t g, uint8_t b) { return (uint32_t(r) << 16) | (uint32_t(g) << 8) | b; }
inline Rgb UnpackRgb(uint32_t c) { return {uint8_t(c >> 16), uint8_t(c >> 8), uint8_t(c)}; }

// Pixels per distinct colour (packed 0xRRGGBB) over the non-line pixels.
using MaterialCounts = std::unordered_map<uint32_t, int64_t>;
void CountMaterials(const cv::Mat& rgb, const cv::Mat& line_mask, MaterialCounts* counts);

// Old colour -> new colour, sorted by the old (packed) colour.
struct ColorMap {
  std::vector<uint32_t> from;
  std::vector<Rgb> to;
  const Rgb* Find(uint32_t packed) const;
  size_t size() const { return from.size(); }
};

// The draw for one cut.
struct ScenePlan {
  std::string scene;
  std::string group;                    // the palette group used
  uint64_t scene_seed = 0;              // SceneSeed(options.seed, scene)
  std::vector<uint32_t> materials;      // packed colours, ascending: the draw order
  size_t fringe = 0;                    // colours under min_material_pixels
  ColorMap map;
};

// rng = PyRandom(SceneSeed(seed, scene)); group = named or rng.choice(drawable groups);
// materials in ascending packed-colour order each get one draw (random.choices, k =
// number of materials). Throws Error for an unknown or undrawable group.
ScenePlan PlanRecolor(const std::string& scene, const MaterialCounts& counts, const PaletteFile& palettes,
                      const RecolorOptions& options);

// Non-line pixels whose colour is in map take the new colour; everything else is copied.
cv::Mat RecolorFrame(const cv::Mat& rgb, const cv::Mat& line_mask, const ColorMap& map);

// Reads every `original` frame of the cut (in parallel) and counts its materials.
MaterialCounts CountSceneMaterials(const data::Scene& scene, const RecolorOptions& options,
                                   const JobContext* job = nullptr);

struct SceneReport {
  std::string scene, group;
  size_t materials = 0, fringe = 0, frames = 0;
  size_t line_sources[3] = {0, 0, 0};   // frames per LineSource
  std::filesystem::path out_dir;
};
struct ApplyReport {
  std::vector<SceneReport> scenes;
};

// Recolours the selected cuts of <root>/<split> into Frame_Anime/<scene>/<pass>/. Each pass
// is written to a hidden temporary folder and renamed into place when complete, so a
// failure or cancel leaves no partial pass. Throws Error, before writing anything, when a
// target pass exists and overwrite is off, or a named scene is missing.
ApplyReport ApplyPalettes(const std::filesystem::path& root, const PaletteFile& palettes,
                          const RecolorOptions& options, const JobContext* job = nullptr);

}  // namespace animerun::palette
