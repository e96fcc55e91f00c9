#include "core/session/demo.h"

#include <string>
#include <system_error>
#include <vector>

#include "core/data/synth.h"
#include "core/palette/extract.h"
#include "core/palette/palette.h"
#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::session {

namespace fs = std::filesystem;

namespace {

bool HasDataset(const fs::path& folder) {
  std::error_code ec;
  return fs::is_directory(folder / kDemoSplit / "Frame_Anime", ec);
}

// One group per pass of the demo ("demo_original", "demo_color_1", ...), from every
// scene's frames of that pass: the recolouring preview then has the demo's own colours.
palette::PaletteFile DemoPalettes(const fs::path& folder, const JobContext* job) {
  const fs::path frames = folder / kDemoSplit / "Frame_Anime";
  std::vector<palette::PaletteGroup> groups;
  for (const std::string& scene : ListSubdirs(frames)) {
    for (const std::string& pass : ListSubdirs(frames / scene)) {
      palette::PaletteGroup* group = nullptr;
      for (auto& g : groups)
        if (g.name == "demo_" + pass) group = &g;
      if (!group) {
        groups.emplace_back();
        group = &groups.back();
        group->name = "demo_" + pass;
        group->style = "demo";
      }
      for (const fs::path& f : ListFiles(frames / scene / pass, {".png"})) group->frames.push_back(f.string());
    }
  }
  if (groups.empty()) ThrowFileError(frames.string(), "the demo has no frames");
  palette::PaletteFile file;
  palette::ExtractOptions options;
  for (palette::PaletteGroup& g : palette::ExtractGroups(groups, options, job)) file.Upsert(std::move(g));
  return file;
}

}  // namespace

fs::path PalettesBeside(const fs::path& folder) { return folder / "palettes.json"; }

bool DemoReady(const fs::path& folder) {
  std::error_code ec;
  return HasDataset(folder) && fs::is_regular_file(PalettesBeside(folder), ec);
}

void PrepareDemo(const fs::path& folder, const JobContext* job) {
  const bool need_dataset = !HasDataset(folder);
  const SubJob generate(job, 0.0, need_dataset ? 0.8 : 0.0, "demo: ");
  if (need_dataset) {
    fs::path partial = folder;
    partial += ".partial";
    fs::remove_all(partial);
    data::SynthOptions synth;  // the defaults: 2 scenes x 6 frames at 960x540
    synth.split = kDemoSplit;
    data::GenerateSynthDataset(partial, synth, &generate);
    fs::remove_all(folder);
    fs::rename(partial, folder);
  }
  std::error_code ec;
  if (!fs::is_regular_file(PalettesBeside(folder), ec)) {
    const SubJob extract(job, need_dataset ? 0.8 : 0.0, 1.0, "demo palettes: ");
    palette::SavePalettes(PalettesBeside(folder), DemoPalettes(folder, &extract));
  }
  if (job) job->CheckCancel();
}

}  // namespace animerun::session
