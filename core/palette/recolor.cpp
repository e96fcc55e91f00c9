#include "core/palette/recolor.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>

#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/palette/parallel.h"
#include "core/palette/py_random.h"
#include "core/palette/sampler.h"
#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::palette {

namespace fs = std::filesystem;

bool IsColorPassName(const std::string& name) {
  const std::string prefix = "color_";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
  const std::string digits = name.substr(prefix.size());
  if (digits[0] == '0' || digits.size() > 6) return false;
  return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void RecolorOptions::Check() const {
  Require(IsColorPassName(pass), "pass must be color_<N> with N >= 1 (got '" + pass + "')");
  Require(random_group || !group.empty(), "choose a palette group (--group NAME) or --random");
  Require(!(random_group && !group.empty()), "give either a group or random_group, not both");
  Require(dark_threshold >= 0 && dark_threshold <= 256, "dark_threshold must be in 0..256");
  Require(contour_threshold >= 0 && contour_threshold <= 256, "contour_threshold must be in 0..256");
  Require(min_material_pixels >= 0, "min_material_pixels must be >= 0");
  Require(threads >= 0, "threads must be >= 0");
}

const char* LineSourceName(LineSource source) {
  switch (source) {
    case LineSource::kLineArea: return "LineArea";
    case LineSource::kContour: return "contour";
    case LineSource::kDark: return "dark pixels";
  }
  return "?";
}

std::vector<FrameLineFiles> LineFilesOfScene(const data::Scene& scene) {
  const size_t nf = scene.frames.size();
  std::vector<FrameLineFiles> out(nf);
  // Pairs may be missing when the scene has problems; index them by their first frame.
  for (const data::FramePair& p : scene.pairs) {
    if (p.index < 0 || static_cast<size_t>(p.index) >= nf) continue;
    FrameLineFiles& f = out[p.index];
    if (f.line_area.empty()) f.line_area = p.line_area;
    if (f.contour.empty()) f.contour = p.contour1;
    if (static_cast<size_t>(p.index) + 1 < nf && out[p.index + 1].contour.empty()) out[p.index + 1].contour = p.contour2;
  }
  if (nf == 0) return out;
  // Frames no complete pair covers (the last frame, frames of dropped pairs): take the
  // folders' files by position when there is one per frame (a per-frame LineArea is
  // accepted as the dataset reader accepts it), or by name for the contour drawings.
  const fs::path split_root = scene.frames[0].parent_path().parent_path().parent_path().parent_path();
  const std::vector<fs::path> line_files = ListFiles(split_root / "LineArea" / scene.name, {".npy"});
  const std::vector<fs::path> contours = ListFiles(split_root / "contour" / scene.name, {".png"});
  for (size_t i = 0; i < nf; ++i) {
    if (out[i].line_area.empty() && line_files.size() == nf) out[i].line_area = line_files[i];
    if (out[i].contour.empty()) {
      for (const fs::path& c : contours)
        if (c.stem() == scene.frames[i].stem()) out[i].contour = c;
      if (out[i].contour.empty() && contours.size() == nf) out[i].contour = contours[i];
    }
  }
  return out;
}

cv::Mat LineMask(const cv::Mat& rgb, const FrameLineFiles& files, const RecolorOptions& options, LineSource* used) {
  if (rgb.type() != CV_8UC3) throw Error("LineMask: expected an RGB CV_8UC3 frame");
  auto check_size = [&](const cv::Mat& m, const fs::path& path) {
    if (m.size() != rgb.size())
      ThrowFileError(path.string(), "size " + std::to_string(m.cols) + "x" + std::to_string(m.rows) +
                                        " differs from the frame's " + std::to_string(rgb.cols) + "x" +
                                        std::to_string(rgb.rows));
  };
  cv::Mat mask(rgb.size(), CV_8UC1);
  std::error_code ec;
  if (!files.line_area.empty() && fs::exists(files.line_area, ec)) {
    const cv::Mat area = io::ReadNpyMask(files.line_area);
    check_size(area, files.line_area);
    mask = (area == 0);  // official polarity: 0 = line
    if (used) *used = LineSource::kLineArea;
    return mask;
  }
  if (!files.contour.empty() && fs::exists(files.contour, ec)) {
    const cv::Mat contour = io::ReadImageGray(files.contour);
    check_size(contour, files.contour);
    mask = (contour < options.contour_threshold);
    if (used) *used = LineSource::kContour;
    return mask;
  }
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    uint8_t* m = mask.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, p += 3)
      m[x] = std::max({p[0], p[1], p[2]}) < options.dark_threshold ? 255 : 0;
  }
  if (used) *used = LineSource::kDark;
  return mask;
}

void CountMaterials(const cv::Mat& rgb, const cv::Mat& line_mask, MaterialCounts* counts) {
  if (rgb.type() != CV_8UC3 || line_mask.type() != CV_8UC1 || rgb.size() != line_mask.size())
    throw Error("CountMaterials: expected an RGB frame and a line mask of the same size");
  // Flat colours come in long runs: count a run, then touch the map once.
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    const uint8_t* m = line_mask.ptr<uint8_t>(y);
    uint32_t run_color = 0;
    int64_t run = 0;
    for (int x = 0; x < rgb.cols; ++x, p += 3) {
      if (m[x]) continue;
      const uint32_t c = PackRgb(p[0], p[1], p[2]);
      if (run && c == run_color) {
        ++run;
        continue;
      }
      if (run) (*counts)[run_color] += run;
      run_color = c;
      run = 1;
    }
    if (run) (*counts)[run_color] += run;
  }
}

const Rgb* ColorMap::Find(uint32_t packed) const {
  auto it = std::lower_bound(from.begin(), from.end(), packed);
  if (it == from.end() || *it != packed) return nullptr;
  return &to[it - from.begin()];
}

ScenePlan PlanRecolor(const std::string& scene, const MaterialCounts& counts, const PaletteFile& palettes,
                      const RecolorOptions& options) {
  options.Check();
  ScenePlan plan;
  plan.scene = scene;
  plan.scene_seed = SceneSeed(options.seed, scene);
  PyRandom rng(plan.scene_seed);
  const PaletteGroup* group = nullptr;
  if (options.random_group) {
    group = &ChooseGroup(palettes, &rng);
  } else {
    group = palettes.Find(options.group);
    if (!group) {
      std::string names;
      for (const auto& n : palettes.Names()) names += (names.empty() ? "" : ", ") + n;
      throw Error("palette group '" + options.group + "' not found (groups: " + (names.empty() ? "none" : names) + ")");
    }
  }
  plan.group = group->name;
  const SamplingTable table = MakeSamplingTable(*group);

  std::vector<uint32_t> all;
  for (const auto& kv : counts) all.push_back(kv.first);
  std::sort(all.begin(), all.end());
  std::vector<uint32_t> fringe;
  for (uint32_t c : all) (counts.at(c) >= options.min_material_pixels ? plan.materials : fringe).push_back(c);
  if (plan.materials.empty()) plan.materials.swap(fringe);  // all small: treat all as materials
  plan.fringe = fringe.size();

  std::vector<Rgb> drawn = DrawColors(table, &rng, plan.materials.size());
  std::vector<std::pair<uint32_t, Rgb>> entries;
  for (size_t i = 0; i < plan.materials.size(); ++i) entries.emplace_back(plan.materials[i], drawn[i]);
  for (uint32_t c : fringe) {
    // Nearest material in RGB (ties: the smaller packed colour, i.e. the first found).
    const Rgb a = UnpackRgb(c);
    size_t best = 0;
    int best_d = INT32_MAX;
    for (size_t i = 0; i < plan.materials.size(); ++i) {
      const Rgb b = UnpackRgb(plan.materials[i]);
      const int d = (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]);
      if (d < best_d) best_d = d, best = i;
    }
    entries.emplace_back(c, drawn[best]);
  }
  std::sort(entries.begin(), entries.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (const auto& e : entries) {
    plan.map.from.push_back(e.first);
    plan.map.to.push_back(e.second);
  }
  return plan;
}

cv::Mat RecolorFrame(const cv::Mat& rgb, const cv::Mat& line_mask, const ColorMap& map) {
  if (rgb.type() != CV_8UC3 || line_mask.type() != CV_8UC1 || rgb.size() != line_mask.size())
    throw Error("RecolorFrame: expected an RGB frame and a line mask of the same size");
  cv::Mat out = rgb.clone();
  for (int y = 0; y < rgb.rows; ++y) {
    uint8_t* p = out.ptr<uint8_t>(y);
    const uint8_t* m = line_mask.ptr<uint8_t>(y);
    uint32_t last = 0;
    const Rgb* last_to = nullptr;
    bool have_last = false;
    for (int x = 0; x < rgb.cols; ++x, p += 3) {
      if (m[x]) continue;
      const uint32_t c = PackRgb(p[0], p[1], p[2]);
      if (!have_last || c != last) {
        last = c;
        last_to = map.Find(c);
        have_last = true;
      }
      if (last_to) p[0] = (*last_to)[0], p[1] = (*last_to)[1], p[2] = (*last_to)[2];
    }
  }
  return out;
}

MaterialCounts CountSceneMaterials(const data::Scene& scene, const RecolorOptions& options, const JobContext* job) {
  const std::vector<FrameLineFiles> lines = LineFilesOfScene(scene);
  const size_t n = scene.frames.size();
  std::vector<MaterialCounts> partial(WorkerCount(options.threads, n));
  std::atomic<size_t> done{0};
  std::mutex report_mutex;
  ParallelFor(n, options.threads, [&](size_t i, int w) {
    if (job) job->CheckCancel();
    const cv::Mat rgb = io::ReadImageRgb(scene.frames[i]);
    CountMaterials(rgb, LineMask(rgb, lines[i], options), &partial[w]);
    const size_t d = ++done;
    std::lock_guard<std::mutex> lock(report_mutex);
    if (job) job->Report(double(d) / n, scene.name + ": materials " + std::to_string(d) + "/" + std::to_string(n));
  });
  if (job) job->CheckCancel();
  for (size_t w = 1; w < partial.size(); ++w)
    for (const auto& kv : partial[w]) partial[0][kv.first] += kv.second;
  return std::move(partial[0]);
}

ApplyReport ApplyPalettes(const fs::path& root, const PaletteFile& palettes, const RecolorOptions& options,
                          const JobContext* job) {
  options.Check();
  data::DatasetOptions dopt;
  dopt.split = options.split;
  dopt.pass = "original";
  dopt.check_sizes = false;
  const data::AnimeRunDataset ds = data::AnimeRunDataset::Open(root, dopt);

  // Select the cuts and refuse existing passes before anything is written.
  std::vector<const data::Scene*> scenes;
  if (options.scenes.empty()) {
    for (const auto& s : ds.scenes())
      if (!s.frames.empty() && s.frames[0].parent_path().filename() == "original") scenes.push_back(&s);
  } else {
    for (const auto& name : options.scenes) {
      const data::Scene* s = ds.FindScene(name);
      if (!s) ThrowFileError((ds.root() / "Frame_Anime" / name).string(), "no such scene");
      scenes.push_back(s);
    }
  }
  if (scenes.empty()) ThrowFileError((ds.root() / "Frame_Anime").string(), "no scene with an `original` pass");
  for (const data::Scene* s : scenes) {
    if (s->frames.empty() || s->frames[0].parent_path().filename() != "original")
      ThrowFileError((ds.root() / "Frame_Anime" / s->name / "original").string(), "no frames in the original pass");
    const fs::path out_dir = s->frames[0].parent_path().parent_path() / options.pass;
    std::error_code ec;
    if (fs::exists(out_dir, ec) && !options.overwrite)
      ThrowFileError(out_dir.string(), "pass already exists (use --overwrite to replace it)");
  }

  ApplyReport report;
  const double per_scene = 1.0 / scenes.size();
  for (size_t si = 0; si < scenes.size(); ++si) {
    const data::Scene& scene = *scenes[si];
    const std::string step = "scene " + std::to_string(si + 1) + "/" + std::to_string(scenes.size()) + " ";
    // Each scene's share of the bar: 40% counting its materials, 60% writing its frames.
    const SubJob count_job(job, si * per_scene, (si + 0.4) * per_scene, step);
    const SubJob write_job(job, (si + 0.4) * per_scene, (si + 1) * per_scene, step + scene.name + ": ");
    const MaterialCounts counts = CountSceneMaterials(scene, options, &count_job);
    const ScenePlan plan = PlanRecolor(scene.name, counts, palettes, options);

    SceneReport sr;
    sr.scene = scene.name;
    sr.group = plan.group;
    sr.materials = plan.materials.size();
    sr.fringe = plan.fringe;
    sr.frames = scene.frames.size();
    const fs::path scene_dir = scene.frames[0].parent_path().parent_path();
    sr.out_dir = scene_dir / options.pass;
    const fs::path tmp_dir = scene_dir / ("." + options.pass + ".partial-" + std::to_string(::getpid()));
    std::error_code ec;
    fs::remove_all(tmp_dir, ec);
    fs::create_directories(tmp_dir, ec);
    if (ec) ThrowFileError(tmp_dir.string(), "cannot create folder: " + ec.message());

    const std::vector<FrameLineFiles> lines = LineFilesOfScene(scene);
    std::vector<LineSource> used(scene.frames.size(), LineSource::kDark);
    std::atomic<size_t> done{0};
    std::mutex report_mutex;
    try {
      ParallelFor(scene.frames.size(), options.threads, [&](size_t i, int) {
        if (job) job->CheckCancel();
        const cv::Mat rgb = io::ReadImageRgb(scene.frames[i]);
        const cv::Mat mask = LineMask(rgb, lines[i], options, &used[i]);
        io::WriteImage(tmp_dir / scene.frames[i].filename(), RecolorFrame(rgb, mask, plan.map));
        const size_t d = ++done;
        std::lock_guard<std::mutex> lock(report_mutex);
        write_job.Report(double(d) / scene.frames.size(),
                         "frame " + std::to_string(d) + "/" + std::to_string(scene.frames.size()));
      });
      if (job) job->CheckCancel();
      if (fs::exists(sr.out_dir, ec)) {
        if (!options.overwrite) ThrowFileError(sr.out_dir.string(), "pass appeared while writing; not replaced");
        fs::remove_all(sr.out_dir, ec);
        if (ec) ThrowFileError(sr.out_dir.string(), "cannot remove the old pass: " + ec.message());
      }
      fs::rename(tmp_dir, sr.out_dir, ec);
      if (ec) ThrowFileError(sr.out_dir.string(), "cannot move the new pass into place: " + ec.message());
    } catch (...) {
      fs::remove_all(tmp_dir, ec);
      throw;
    }
    for (LineSource u : used) ++sr.line_sources[static_cast<int>(u)];
    report.scenes.push_back(sr);
  }
  if (job) job->Report(1.0, "done");
  return report;
}

}  // namespace animerun::palette
