// `animerun palette <extract|suggest-groups|apply|show>`: colour augmentation from
// reference palettes (AnimeRun supplementary 1.1). Formats and method: docs/palette.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli/arg_parser.h"
#include "app/cli/command_registry.h"
#include "core/jobs/job.h"
#include "core/palette/extract.h"
#include "core/palette/groups.h"
#include "core/palette/palette.h"
#include "core/palette/recolor.h"
#include "core/palette/sampler.h"

namespace animerun::cli {
namespace {

namespace fs = std::filesystem;
using namespace animerun::palette;

uint64_t ParseU64(const std::string& flag, const std::string& text) {
  size_t used = 0;
  uint64_t v = 0;
  try {
    if (text.empty() || text[0] == '-') throw std::invalid_argument("negative");
    v = std::stoull(text, &used, 0);
  } catch (const std::exception&) {
    used = std::string::npos;
  }
  if (used != text.size()) throw UsageError(flag + " must be a non-negative integer (got '" + text + "')");
  return v;
}

// The existing file when there is one (groups of the same name get replaced), else empty.
PaletteFile LoadForMerge(const fs::path& out) {
  std::error_code ec;
  return fs::exists(out, ec) ? LoadPalettes(out) : PaletteFile{};
}

void PrintGroup(const PaletteGroup& g, int top) {
  std::printf("%-20s style=%-10s frames=%-5zu pixels=%-10lld colours=%zu", g.name.c_str(),
              g.style.empty() ? "-" : g.style.c_str(), g.frames.size(), static_cast<long long>(g.pixels),
              g.colors.size());
  if (g.extracted() && !IsDrawable(g)) std::printf("  (no colour above N=10: cannot be sampled)");
  std::printf("\n");
  for (int i = 0; i < top && i < static_cast<int>(g.colors.size()); ++i) {
    const PaletteColor& c = g.colors[i];
    std::printf("    %s  %3d %3d %3d  N=%lld  %.2f%%\n", RgbHex(c.rgb).c_str(), c.rgb[0], c.rgb[1], c.rgb[2],
                static_cast<long long>(c.count), 100.0 * c.count / std::max<int64_t>(1, g.pixels));
  }
}

int RunExtract(int argc, char** argv) {
  std::string group, style, out, from_groups, rule = "mean";
  bool per_folder = false, quiet = false;
  int min_ppm = 500;
  ExtractOptions opt;
  std::vector<std::string> inputs;
  ArgParser p("animerun palette extract", "Extract the palette of a group of reference frames into a palette file.");
  p.Add("--group", &group, "group name (one group from all FRAMES)");
  p.Add("--style", &style, "style tag: disney, japanese, ... (free text)");
  p.Add("--out", &out, "palette file; merged into when it exists (same-name groups are replaced)", "-o", true);
  p.AddFlag("--per-folder", &per_folder, "one group per FRAMES folder, named after the folder");
  p.Add("--from-groups", &from_groups, "extract every group of a groups file (from suggest-groups)");
  p.Add("--min-ppm", &min_ppm, "keep colours with count * 1e6 > min-ppm * pixels (500 = 0.05%)");
  p.Add("--rgb", &rule, "representative colour of a bin: mean (of its pixels) or centre (bin*16+8)");
  p.Add("--threads", &opt.threads, "worker threads (0 = all cores)");
  p.AddFlag("--quiet", &quiet, "no progress on stderr");
  p.AddPositionalList("FRAMES", &inputs, "image files or folders (searched recursively)", 0);
  p.SetEpilog(
      "Each RGB channel is quantised to 16 levels (bin = v >> 4); colours are counted over the\n"
      "whole group and kept when more frequent than 0.05% of its pixels. Exactly one of\n"
      "--group, --per-folder, --from-groups.\n"
      "Examples:\n"
      "  animerun palette extract --group atd_disney --style disney atd12k/disney/ -o palettes.json\n"
      "  animerun palette extract --per-folder --style japanese refs/film_a refs/film_b -o palettes.json\n"
      "  animerun palette extract --from-groups groups.json -o palettes.json");
  if (!p.Parse(argc, argv)) return 0;
  const int modes = !group.empty() + per_folder + !from_groups.empty();
  if (modes != 1) throw UsageError("give exactly one of --group NAME, --per-folder, --from-groups FILE");
  if (from_groups.empty() && inputs.empty()) throw UsageError("no FRAMES given");
  if (!from_groups.empty() && !inputs.empty()) throw UsageError("--from-groups takes no FRAMES");
  opt.min_ppm = min_ppm;
  opt.rgb_rule = ParseRgbRule(rule);
  opt.Check();

  std::vector<PaletteGroup> to_extract;
  if (!group.empty()) {
    PaletteGroup g;
    g.name = group;
    g.style = style;
    for (const auto& f : ExpandFrameInputs(inputs)) g.frames.push_back(f.string());
    to_extract.push_back(g);
  } else if (per_folder) {
    to_extract = GroupsFromFolders(inputs, style).groups;
  } else {
    to_extract = LoadPalettes(from_groups).groups;
    if (!style.empty())
      for (auto& g : to_extract) g.style = style;
  }
  PaletteFile file = LoadForMerge(out);
  const auto t0 = std::chrono::steady_clock::now();
  JobContext job(quiet ? JobContext::ProgressFn() : StderrProgress("extract"));
  int64_t pixels = 0;
  for (PaletteGroup& g : ExtractGroups(to_extract, opt, &job)) {  // the loop the GUI's Extract runs
    pixels += g.pixels;
    PrintGroup(g, 0);
    file.Upsert(std::move(g));
  }
  SavePalettes(out, file);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %zu group(s) to %s (%d in the file; %.1f Mpx in %.2f s)\n", to_extract.size(), out.c_str(),
              static_cast<int>(file.groups.size()), pixels / 1e6, secs);
  return 0;
}

int RunSuggest(int argc, char** argv) {
  SuggestOptions opt;
  std::string out, seed = "0";
  bool quiet = false;
  std::vector<std::string> inputs;
  ArgParser p("animerun palette suggest-groups",
              "Suggest palette groups by clustering frames on their colour histograms.");
  p.Add("--groups", &opt.groups, "number of groups K (0 = round(sqrt(frames/2)), at most 8)");
  p.Add("--seed", &seed, "k-means++ seed: the same seed gives the same groups");
  p.Add("--levels", &opt.levels, "histogram levels per channel: 2, 4, 8 or 16");
  p.Add("--style", &opt.style, "style tag for every suggested group");
  p.Add("--prefix", &opt.name_prefix, "group names are <prefix>1, <prefix>2, ...");
  p.Add("--threads", &opt.threads, "worker threads (0 = all cores)");
  p.Add("--out", &out, "groups file to write (a palette file whose groups have no colours yet)", "-o", true);
  p.AddFlag("--quiet", &quiet, "no progress on stderr");
  p.AddPositionalList("FRAMES", &inputs, "image files or folders (searched recursively)");
  p.SetEpilog(
      "Review and edit the groups file (rename groups, set styles, move frames), then run\n"
      "  animerun palette extract --from-groups groups.json -o palettes.json");
  if (!p.Parse(argc, argv)) return 0;
  opt.seed = ParseU64("--seed", seed);
  opt.Check();
  const auto frames = ExpandFrameInputs(inputs);
  JobContext job(quiet ? JobContext::ProgressFn() : StderrProgress("suggest-groups"));
  const PaletteFile groups = SuggestGroups(frames, opt, &job);
  SavePalettes(out, groups);
  for (const auto& g : groups.groups) std::printf("%-20s %zu frame(s)\n", g.name.c_str(), g.frames.size());
  std::printf("wrote %zu group(s) of %zu frame(s) to %s\n", groups.groups.size(), frames.size(), out.c_str());
  return 0;
}

int RunApply(int argc, char** argv) {
  RecolorOptions opt;
  std::string data, palettes, seed;
  int min_material_pixels = 0;
  bool quiet = false;
  ArgParser p("animerun palette apply",
              "Recolour AnimeRun cuts from a palette group into a new Frame_Anime/<scene>/color_N pass.");
  p.Add("--data", &data, "dataset root (holding train/ and test/, or a split folder)", "", true);
  p.Add("--split", &opt.split, "split folder");
  p.Add("--palettes", &palettes, "palette file (from palette extract)", "", true);
  p.Add("--group", &opt.group, "palette group used for every cut");
  p.AddFlag("--random", &opt.random_group, "choose a group per cut at random (instead of --group)");
  p.Add("--seed", &seed, "random seed: the same seed gives the same colours", "", true);
  p.Add("--pass", &opt.pass, "output pass name, color_N (N >= 1)", "", true);
  p.AddRepeated("--scene", &opt.scenes, "only this cut (default: every cut)");
  p.AddFlag("--overwrite", &opt.overwrite, "replace the pass if it exists");
  p.Add("--min-material-pixels", &min_material_pixels,
        "colours on fewer pixels per cut are not materials: they follow the nearest material");
  p.Add("--dark-threshold", &opt.dark_threshold, "without LineArea/contour: max(r,g,b) < this is line");
  p.Add("--contour-threshold", &opt.contour_threshold, "contour drawings: grey < this is line");
  p.Add("--threads", &opt.threads, "worker threads (0 = all cores)");
  p.AddFlag("--quiet", &quiet, "no progress on stderr");
  p.SetEpilog(
      "Each distinct flat colour of the `original` pass of a cut is a material; each material\n"
      "gets one colour drawn with weight ln(N/10) from the group (colours with N <= 10 are\n"
      "never drawn), the same in every frame of the cut. Line pixels (LineArea == 0, else dark\n"
      "contour pixels, else dark frame pixels) stay as they are. File names are kept, so flow\n"
      "and segment annotations stay valid.\n"
      "Example: animerun palette apply --data AnimeRun_v2 --palettes palettes.json --random --seed 1 --pass color_2");
  if (!p.Parse(argc, argv)) return 0;
  opt.seed = ParseU64("--seed", seed);
  opt.min_material_pixels = min_material_pixels;
  if (opt.random_group && !opt.group.empty()) throw UsageError("give --group NAME or --random, not both");
  if (!opt.random_group && opt.group.empty()) throw UsageError("give --group NAME or --random");
  opt.Check();
  const PaletteFile file = LoadPalettes(palettes);
  if (!opt.random_group && !file.Find(opt.group)) ThrowFileError(palettes, "no group named '" + opt.group + "'");

  JobContext job(quiet ? JobContext::ProgressFn() : StderrProgress("palette apply"));
  const auto t0 = std::chrono::steady_clock::now();
  const ApplyReport rep = ApplyPalettes(data, file, opt, &job);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t frames = 0;
  for (const SceneReport& s : rep.scenes) {
    frames += s.frames;
    std::printf("%-24s group=%-16s materials=%-5zu frames=%-4zu lines: LineArea %zu, contour %zu, dark %zu%s\n",
                s.scene.c_str(), s.group.c_str(), s.materials, s.frames, s.line_sources[0], s.line_sources[1],
                s.line_sources[2], s.fringe ? (" (" + std::to_string(s.fringe) + " small colours merged)").c_str() : "");
  }
  std::printf("wrote pass %s for %zu cut(s), %zu frame(s) in %.2f s\n", opt.pass.c_str(), rep.scenes.size(), frames,
              secs);
  return 0;
}

int RunShow(int argc, char** argv) {
  std::string path;
  int top = 8;
  ArgParser p("animerun palette show", "List the groups of a palette file and their most frequent colours.");
  p.Add("--top", &top, "colours shown per group");
  p.AddPositional("FILE", &path, "palette or groups file");
  if (!p.Parse(argc, argv)) return 0;
  const PaletteFile file = LoadPalettes(path);
  for (const auto& g : file.groups) PrintGroup(g, top);
  std::printf("%zu group(s)\n", file.groups.size());
  return 0;
}

int RunPalette(int argc, char** argv) {
  return RunSubCommands("palette", "Colour augmentation from reference palettes (docs/palette.md).",
                        {{"extract", "extract group palettes from reference frames", RunExtract},
                         {"suggest-groups", "cluster frames into suggested groups by colour histogram", RunSuggest},
                         {"apply", "recolour dataset cuts into a new color_N pass", RunApply},
                         {"show", "list a palette file's groups and colours", RunShow}},
                        argc, argv);
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(palette, "palette", "Colour augmentation: extract palettes, suggest groups, recolour cuts",
                          RunPalette);

}  // namespace animerun::cli
