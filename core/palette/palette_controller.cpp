#include "core/palette/palette_controller.h"

#include <algorithm>
#include <exception>

#include "core/io/image_io.h"
#include "core/palette/extract.h"
#include "core/palette/groups.h"
#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::palette {

namespace fs = std::filesystem;

namespace {

std::string Trimmed(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return std::string();
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// The cut with its frames taken from the `original` pass (the session may show another):
// what recolouring reads. Empty frames when the cut has no original pass.
data::Scene OriginalPass(const data::Scene& scene) {
  data::Scene s = scene;
  s.frames.clear();
  if (scene.frames.empty() || std::find(scene.passes.begin(), scene.passes.end(), "original") == scene.passes.end())
    return s;
  s.frames = ListFiles(scene.frames[0].parent_path().parent_path() / "original", {".png"});
  return s;
}

}  // namespace

PaletteController::PaletteController(PostFn post) : job_(post), preview_job_(post) {}

PaletteController::~PaletteController() {
  job_.Stop();
  preview_job_.Stop();
}

void PaletteController::SetStatus(const std::string& text) {
  status_ = text;
  Notify(Event::kStatus);
}

void PaletteController::Fail(const std::string& error) {
  last_error_ = error;
  status_ = error;
  Notify(Event::kStatus);
  Notify(Event::kError);
}

void PaletteController::MarkModified() {
  modified_ = true;
  Notify(Event::kPalettes);
}

// --- The file and its groups -----------------------------------------------------------

bool PaletteController::Load(const std::string& path) {
  try {
    file_ = LoadPalettes(fs::path(path));
  } catch (const std::exception& e) {
    Fail(e.what());
    return false;
  }
  path_ = path;
  modified_ = false;
  Notify(Event::kPalettes);
  RenderPreview();
  SetStatus("Opened " + path + " (" + std::to_string(file_.groups.size()) + " groups)");
  return true;
}

bool PaletteController::Save(const std::string& path) {
  try {
    SavePalettes(fs::path(path), file_);
  } catch (const std::exception& e) {
    Fail(e.what());
    return false;
  }
  path_ = path;
  modified_ = false;
  Notify(Event::kPalettes);
  SetStatus("Saved " + path);
  return true;
}

bool PaletteController::LoadBeside(const fs::path& folder) {
  std::error_code ec;
  const fs::path file = folder / "palettes.json";
  if (!path_.empty() || modified_ || !file_.groups.empty() || !fs::is_regular_file(file, ec)) return false;
  return Load(file.string());
}

std::string PaletteController::NewGroupName() const {
  std::string name;
  for (int n = static_cast<int>(file_.groups.size()) + 1; name.empty() || file_.Find(name); ++n)
    name = "group_" + std::to_string(n);
  return name;
}

bool PaletteController::AddGroup(const std::string& name, const std::string& style) {
  const std::string n = Trimmed(name);
  if (n.empty() || file_.Find(n)) {
    Fail(n.empty() ? "A group needs a name." : "A group named '" + name + "' exists already.");
    return false;
  }
  PaletteGroup g;
  g.name = n;
  g.style = Trimmed(style);
  file_.groups.push_back(g);
  MarkModified();
  return true;
}

bool PaletteController::RemoveGroup(const std::string& name) {
  if (!file_.Remove(name)) return false;
  MarkModified();
  RenderPreview();
  return true;
}

bool PaletteController::RenameGroup(const std::string& from, const std::string& to) {
  PaletteGroup* g = file_.Find(from);
  const std::string n = Trimmed(to);
  if (!g || n.empty()) return false;
  if (n == g->name) return true;
  if (file_.Find(n)) {
    Fail("A group named '" + to + "' exists already.");
    return false;
  }
  g->name = n;
  if (preview_group_ == from) preview_group_ = n;
  MarkModified();
  return true;
}

void PaletteController::SetGroupStyle(const std::string& name, const std::string& style) {
  PaletteGroup* g = file_.Find(name);
  if (!g || g->style == Trimmed(style)) return;
  g->style = Trimmed(style);
  MarkModified();
}

size_t PaletteController::AddFrames(const std::string& group, const std::vector<std::string>& paths) {
  PaletteGroup* g = file_.Find(group);
  if (!g) {
    Fail("Select or create a group first.");
    return 0;
  }
  std::vector<std::string> inputs;
  for (const std::string& p : paths) inputs.push_back(fs::path(p).string());
  std::vector<fs::path> files;
  try {
    files = ExpandFrameInputs(inputs);
  } catch (const std::exception& e) {
    Fail(e.what());
    return 0;
  }
  size_t added = 0;
  for (const auto& f : files) {
    if (!IsImageFile(f)) continue;
    if (std::find(g->frames.begin(), g->frames.end(), f.string()) != g->frames.end()) continue;
    g->frames.push_back(f.string());
    ++added;
  }
  if (added > 0 && g->extracted()) {  // the colours no longer describe the frames
    g->colors.clear();
    g->pixels = 0;
  }
  SetStatus("Added " + std::to_string(added) + " frame(s) to " + group);
  if (added > 0) MarkModified();
  return added;
}

size_t PaletteController::RemoveFrames(const std::string& group, const std::vector<std::string>& paths) {
  PaletteGroup* g = file_.Find(group);
  if (!g || paths.empty()) return 0;
  const size_t before = g->frames.size();
  for (const std::string& p : paths) g->frames.erase(std::remove(g->frames.begin(), g->frames.end(), p), g->frames.end());
  const size_t removed = before - g->frames.size();
  if (removed == 0) return 0;
  g->colors.clear();
  g->pixels = 0;
  SetStatus("Removed " + std::to_string(removed) + " frame(s) from " + group);
  MarkModified();
  return removed;
}

// --- Jobs ------------------------------------------------------------------------------

void PaletteController::StartJob(const std::string& title, JobRunner::Work work, JobFinish finish) {
  last_error_.clear();
  job_progress_ = 0.0;
  SetStatus(title);
  job_.Start(
      std::move(work),
      [this, finish](const JobOutcome& outcome) {
        job_progress_ = 0.0;
        finish(outcome);
        Notify(Event::kJob);
      },
      [this](double fraction, const std::string& message) {
        job_progress_ = fraction;
        status_ = message;
        Notify(Event::kJob);
      });
  Notify(Event::kJob);
}

void PaletteController::EndJob(bool ok, const std::string& message) {
  last_job_ok_ = ok;
  last_job_message_ = message;
  Notify(Event::kJobFinished);
}

bool PaletteController::Extract(const std::vector<std::string>& names) {
  if (job_.Running()) {
    Fail("Another palette job is running; wait or cancel it first.");
    return false;
  }
  std::vector<PaletteGroup> todo;
  for (const auto& g : file_.groups) {
    const bool wanted = names.empty() ? !g.extracted() : std::find(names.begin(), names.end(), g.name) != names.end();
    if (wanted && !g.frames.empty()) todo.push_back(g);
  }
  if (todo.empty()) {
    Fail("No group with frames to extract.");
    return false;
  }
  auto result = std::make_shared<std::vector<PaletteGroup>>();
  StartJob(
      "Extracting " + std::to_string(todo.size()) + " group(s)…",
      [todo, result](const JobContext& job) { *result = ExtractGroups(todo, ExtractOptions(), &job); },
      [this, result](const JobOutcome& outcome) {
        if (!outcome.ok) {
          if (outcome.cancelled)
            SetStatus("Extraction cancelled");
          else
            Fail(outcome.error);
          EndJob(false, outcome.cancelled ? "cancelled" : outcome.error);
          return;
        }
        for (const PaletteGroup& r : *result) {
          PaletteGroup* g = file_.Find(r.name);
          if (!g || g->frames != r.frames) continue;  // edited meanwhile: keep the edit
          g->colors = r.colors;
          g->pixels = r.pixels;
        }
        MarkModified();
        RenderPreview();
        const std::string msg = "Extracted " + std::to_string(result->size()) + " group(s)";
        SetStatus(msg);
        EndJob(true, msg);
      });
  return true;
}

bool PaletteController::Suggest(const std::vector<std::string>& frames, int k, uint64_t seed,
                                const std::string& source_group) {
  if (job_.Running()) {
    Fail("Another palette job is running; wait or cancel it first.");
    return false;
  }
  if (frames.size() < 2) {
    Fail("Select a group with at least two frames to split into suggested groups.");
    return false;
  }
  std::vector<fs::path> files;
  for (const std::string& f : frames) files.push_back(fs::path(f));
  SuggestOptions opt;
  opt.groups = k;
  opt.seed = seed;
  opt.name_prefix = source_group.empty() ? "suggested_" : source_group + "_";
  if (const PaletteGroup* src = file_.Find(source_group)) opt.style = src->style;
  suggestion_source_ = source_group;
  auto result = std::make_shared<PaletteFile>();
  StartJob(
      "Suggesting groups for " + std::to_string(files.size()) + " frame(s)…",
      [files, opt, result](const JobContext& job) { *result = SuggestGroups(files, opt, &job); },
      [this, result](const JobOutcome& outcome) {
        if (!outcome.ok) {
          if (!outcome.cancelled) Fail(outcome.error);
          EndJob(false, outcome.cancelled ? "cancelled" : outcome.error);
          return;
        }
        suggestion_ = *result;
        Notify(Event::kSuggestion);
        const std::string msg = "Suggested " + std::to_string(suggestion_.groups.size()) + " group(s): accept or discard";
        SetStatus(msg);
        EndJob(true, msg);
      });
  return true;
}

void PaletteController::AcceptSuggestion() {
  if (suggestion_.groups.empty()) return;
  if (!suggestion_source_.empty()) file_.Remove(suggestion_source_);
  for (PaletteGroup g : suggestion_.groups) {
    const std::string base = g.name;
    for (int n = 2; file_.Find(g.name); ++n) g.name = base + "-" + std::to_string(n);
    file_.groups.push_back(g);
  }
  const size_t n = suggestion_.groups.size();
  DiscardSuggestion();
  MarkModified();
  SetStatus("Added " + std::to_string(n) + " suggested group(s); extract them to get their palettes");
}

void PaletteController::DiscardSuggestion() {
  suggestion_ = {};
  suggestion_source_.clear();
  Notify(Event::kSuggestion);
}

RecolorOptions PaletteController::PreviewOptions() const {
  RecolorOptions o;
  o.split = split_;
  o.random_group = random_group_;
  if (!o.random_group) o.group = preview_group_;
  o.seed = seed_;
  return o;
}

bool PaletteController::Apply(bool whole_dataset, const std::string& pass, bool overwrite) {
  if (job_.Running()) {
    Fail("Another palette job is running; wait or cancel it first.");
    return false;
  }
  if (!dataset_) {
    Fail("Open a dataset first.");
    return false;
  }
  RecolorOptions opt = PreviewOptions();
  opt.pass = Trimmed(pass);
  opt.overwrite = overwrite;
  if (!whole_dataset) {
    if (scene_.empty()) {
      Fail("No current cut to apply to.");
      return false;
    }
    opt.scenes = {scene_};
  }
  try {
    opt.Check();
  } catch (const std::exception& e) {
    Fail(e.what());
    return false;
  }
  const fs::path root = root_;
  const PaletteFile palettes = file_;
  auto report = std::make_shared<ApplyReport>();
  StartJob(
      "Writing " + opt.pass + "…",
      [root, palettes, opt, report](const JobContext& job) { *report = ApplyPalettes(root, palettes, opt, &job); },
      [this, report, opt](const JobOutcome& outcome) {
        if (!outcome.ok) {
          if (outcome.cancelled)
            SetStatus("Apply cancelled: no pass was left half-written");
          else
            Fail(outcome.error);
          EndJob(false, outcome.cancelled ? "cancelled" : outcome.error);
          return;
        }
        written_scenes_.clear();
        size_t frames = 0;
        for (const auto& s : report->scenes) {
          written_scenes_.push_back(s.scene);
          frames += s.frames;
        }
        written_pass_ = opt.pass;
        const std::string msg = "Wrote " + opt.pass + " for " + std::to_string(written_scenes_.size()) + " cut(s), " +
                                std::to_string(frames) + " frame(s)";
        SetStatus(msg);
        Notify(Event::kPassWritten);
        EndJob(true, msg);
      });
  return true;
}

// --- Dataset and preview ---------------------------------------------------------------

void PaletteController::SetDataset(std::shared_ptr<const data::AnimeRunDataset> dataset, const fs::path& root,
                                   const std::string& split) {
  if (root != root_ || split != split_) {
    materials_.clear();
    frame_key_.clear();
    frame_rgb_.release();
  }
  root_ = root;
  split_ = split;
  dataset_ = std::move(dataset);
  if (dataset_ && scene_.empty() && !dataset_->scenes().empty()) scene_ = dataset_->scenes()[0].name;
  if (!dataset_) {
    preview_job_.Stop();
    frame_rgb_.release();
    preview_original_ = preview_recoloured_ = cv::Mat();
    preview_message_ = "Open a dataset to preview";
    preview_info_.clear();
    Notify(Event::kPreview);
  }
  Notify(Event::kPassName);
  Notify(Event::kJob);  // Apply needs a dataset
  LoadPreview();
}

void PaletteController::SetCut(const std::string& scene, int frame, std::shared_ptr<const data::PairData> shown,
                               const std::string& shown_pass) {
  shown_ = std::move(shown);
  shown_pass_ = shown_pass;
  if (scene == scene_ && frame == frame_ && !frame_rgb_.empty()) return;
  const bool new_scene = scene != scene_;
  scene_ = scene;
  frame_ = frame;
  if (new_scene) Notify(Event::kPassName);
  if (!dataset_) return;  // the preview follows when the dataset is set
  if (preview_job_.Running()) return;  // the running load finishes first, then loads the newest frame
  LoadPreview();
}

std::string PaletteController::SuggestedPassName() const {
  const data::Scene* s = dataset_ ? dataset_->FindScene(scene_) : nullptr;
  if (!s) return std::string();
  for (int n = 1;; ++n) {
    const std::string name = "color_" + std::to_string(n);
    if (std::find(s->passes.begin(), s->passes.end(), name) == s->passes.end()) return name;
  }
}

void PaletteController::SetPreviewGroup(const std::string& name) {
  if (name == preview_group_) return;
  preview_group_ = name;
  RenderPreview();
}

void PaletteController::SetSeed(uint64_t seed) {
  if (seed == seed_) return;
  seed_ = seed;
  RenderPreview();
}

void PaletteController::SetRandomGroup(bool on) {
  if (on == random_group_) return;
  random_group_ = on;
  RenderPreview();
}

void PaletteController::LoadPreview() {
  if (!dataset_) return;
  const data::Scene* s = dataset_->FindScene(scene_);
  const data::Scene scene = s ? OriginalPass(*s) : data::Scene();  // the worker's own copy
  if (!s || frame_ < 0 || frame_ >= static_cast<int>(scene.frames.size())) {
    preview_job_.Stop();
    frame_rgb_.release();
    preview_original_ = preview_recoloured_ = cv::Mat();
    preview_message_ = s ? "No `original` frame " + std::to_string(frame_) + " in " + scene_ : "No cut selected";
    preview_info_.clear();
    Notify(Event::kPreview);
    return;
  }
  const int frame = frame_;
  const bool need_counts = materials_.find(scene.name) == materials_.end();
  // The session's frame t when it shows this frame of the original pass; else it is read.
  const cv::Mat shown = shown_ && shown_pass_ == "original" ? shown_->image1 : cv::Mat();
  const RecolorOptions opt = PreviewOptions();
  struct Result {
    MaterialCounts counts;
    cv::Mat rgb, mask;
  };
  auto result = std::make_shared<Result>();
  const std::string key = scene_ + "/" + std::to_string(frame);
  preview_message_ = need_counts ? "Finding the materials of " + scene_ + "…" : "Loading…";
  if (frame_rgb_.empty()) Notify(Event::kPreview);
  preview_job_.Start(
      [scene, frame, need_counts, shown, opt, result](const JobContext& job) {
        if (need_counts) result->counts = CountSceneMaterials(scene, opt, &job);
        result->rgb = shown.empty() ? io::ReadImageRgb(scene.frames[static_cast<size_t>(frame)]) : shown;
        result->mask = LineMask(result->rgb, LineFilesOfScene(scene)[static_cast<size_t>(frame)], opt);
      },
      [this, result, key, need_counts, name = scene.name](const JobOutcome& outcome) {
        if (!outcome.ok) {
          if (!outcome.cancelled) {
            preview_message_ = "Cannot preview: " + outcome.error;
            last_error_ = outcome.error;
            Notify(Event::kPreview);
          }
          return;
        }
        if (need_counts) materials_[name] = std::move(result->counts);
        frame_rgb_ = result->rgb;
        frame_mask_ = result->mask;
        frame_key_ = key;
        RenderPreview();
        // The user moved on while this ran: load the newest frame.
        if (key != scene_ + "/" + std::to_string(frame_)) LoadPreview();
      });
}

void PaletteController::RenderPreview() {
  if (frame_rgb_.empty()) return;
  preview_original_ = frame_rgb_;
  preview_recoloured_ = cv::Mat();
  const auto it = materials_.find(scene_);
  std::string info;
  if (it != materials_.end()) {
    RecolorOptions opt = PreviewOptions();
    opt.pass = "color_1";  // the preview writes nothing; any valid name passes Check()
    try {
      if (!opt.random_group && opt.group.empty()) throw Error("select a group to preview");
      const ScenePlan plan = PlanRecolor(it->first, it->second, file_, opt);
      preview_recoloured_ = RecolorFrame(frame_rgb_, frame_mask_, plan.map);
      info = scene_ + ", frame " + std::to_string(frame_) + ": " + std::to_string(plan.materials.size()) +
             " materials, group " + plan.group + ", seed " + std::to_string(seed_);
    } catch (const std::exception& e) {
      info = e.what();
    }
  }
  preview_info_ = info;
  preview_message_ = preview_recoloured_.empty() ? info : std::string();
  Notify(Event::kPreview);
}

}  // namespace animerun::palette
