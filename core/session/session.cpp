#include "core/session/session.h"

#include <algorithm>
#include <exception>
#include <optional>

#include "core/session/demo.h"
#include "core/view/pair_summary.h"

namespace animerun::session {

Session::Session(PostFn post) : runner_(std::move(post)) {}

Session::~Session() { runner_.Stop(); }

void Session::Open(const fs::path& folder, const std::string& split) {
  const std::vector<std::string> splits = view::DetectSplits(folder);
  if (splits.empty()) {
    Fail(folder.string() + ": not an AnimeRun folder (no Frame_Anime/, test/Frame_Anime/ or train/Frame_Anime/)");
    return;
  }
  std::string chosen = splits.front();
  for (const std::string& s : splits)
    if (s == split) chosen = s;
  StartOpen(folder, chosen, false);
}

void Session::OpenDemo(const fs::path& demo_folder) {
  if (DemoReady(demo_folder)) {
    StartOpen(demo_folder, kDemoSplit, false);
    return;
  }
  StartOpen(demo_folder, kDemoSplit, true);
}

void Session::SetPass(const std::string& pass) {
  if (pass == pass_ || folder_.empty() || pass.empty()) return;
  pass_ = pass;
  Log("info", "showing pass " + pass);
  StartOpen(folder_, split_, false);
}

void Session::Reload() {
  if (!folder_.empty()) StartOpen(folder_, split_, false);
}

void Session::StartOpen(const fs::path& folder, const std::string& split, bool demo) {
  if (runner_.Running()) Log("info", "previous job cancelled");  // the new request replaces it
  if (folder != folder_) pass_ = "original";  // passes are per dataset
  data::DatasetOptions options;
  options.split = split;
  options.pass = pass_;
  auto result = std::make_shared<std::optional<data::AnimeRunDataset>>();
  if (demo)
    Log("info", "generating the demo dataset in " + folder.string());
  else
    Log("info", "opening " + folder.string() + (split.empty() ? std::string() : " (" + split + ")"));
  runner_.Start(
      [folder, options, result, demo](const JobContext& job) {
        const SubJob prepare(&job, 0.0, demo ? 0.9 : 0.0);
        if (demo) PrepareDemo(folder, &prepare);
        const SubJob index(&job, demo ? 0.9 : 0.0, 1.0);
        result->emplace(data::AnimeRunDataset::Open(folder, options, &index));
      },
      [this, folder, split, result, demo](const JobOutcome& outcome) {
        if (outcome.cancelled) {
          Log("info", demo ? "demo generation cancelled" : "opening " + folder.string() + " cancelled");
          Fail(std::string());
        } else if (!outcome.ok || !result->has_value()) {
          const std::string error = outcome.error.empty() ? folder.string() + ": could not be opened" : outcome.error;
          Fail(demo ? "The demo dataset could not be generated: " + error : error);
        } else {
          Install(folder, split, std::move(**result));
        }
      },
      [this](double fraction, const std::string& message) { progress_.Notify(fraction, message); });
  changes_.Notify(Change::kOpening);
}

void Session::Fail(const std::string& error) {
  opened_ = false;
  last_error_ = error;
  changes_.Notify(Change::kOpened);
}

void Session::Install(const fs::path& folder, const std::string& split, data::AnimeRunDataset dataset) {
  const bool same_folder = folder == folder_ && split == split_;
  dataset_ = std::make_shared<const data::AnimeRunDataset>(std::move(dataset));
  folder_ = folder;
  split_ = split;
  opened_ = true;
  last_error_.clear();
  const std::vector<std::string> problems = dataset_->AllProblems();
  for (const std::string& p : problems) Log("warning", p);
  Log("info", folder.string() + ": " + std::to_string(dataset_->scenes().size()) + " scenes, " +
                  std::to_string(dataset_->AllPairs().size()) + " pairs" +
                  (problems.empty() ? std::string()
                                    : ", " + std::to_string(problems.size()) + " problem(s) (see the warnings above)"));
  scene_index_ = pair_index_ = -1;
  changes_.Notify(Change::kDataset);

  int scene = 0, pair = 0;
  if (same_folder && !reopen_scene_.empty()) {
    const auto& scenes = dataset_->scenes();
    for (size_t i = 0; i < scenes.size(); ++i)
      if (scenes[i].name == reopen_scene_) scene = static_cast<int>(i), pair = reopen_pair_;
  }
  if (dataset_->scenes().empty()) {
    key_ = data::PairKey();
    pair_.reset();
    pair_error_.clear();
    changes_.Notify(Change::kScene);
    changes_.Notify(Change::kPair);
  } else {
    Select(scene, pair);
  }
  changes_.Notify(Change::kOpened);
}

const data::Scene* Session::scene() const {
  if (!dataset_ || scene_index_ < 0 || scene_index_ >= static_cast<int>(dataset_->scenes().size())) return nullptr;
  return &dataset_->scenes()[static_cast<size_t>(scene_index_)];
}

const data::FramePair* Session::frame_pair() const {
  const data::Scene* s = scene();
  if (!s || pair_index_ < 0 || pair_index_ >= static_cast<int>(s->pairs.size())) return nullptr;
  return &s->pairs[static_cast<size_t>(pair_index_)];
}

void Session::Select(int scene, int pair) {
  if (!dataset_ || scene < 0 || scene >= static_cast<int>(dataset_->scenes().size())) return;
  const bool new_scene = scene != scene_index_;
  scene_index_ = scene;
  const int n = static_cast<int>(dataset_->scenes()[static_cast<size_t>(scene)].pairs.size());
  pair_index_ = n == 0 ? -1 : std::clamp(pair, 0, n - 1);
  if (new_scene) changes_.Notify(Change::kScene);
  LoadCurrentPair();
}

void Session::LoadCurrentPair() {
  const data::FramePair* p = frame_pair();
  pair_error_.clear();
  pair_.reset();
  if (!p) {
    key_ = data::PairKey();
    changes_.Notify(Change::kPair);
    return;
  }
  key_ = data::MakePairKey(dataset_->root(), pass_, *p);
  reopen_scene_ = p->scene;
  reopen_pair_ = pair_index_;
  try {
    pair_ = std::make_shared<const data::PairData>(data::LoadPair(*p));
  } catch (const std::exception& e) {
    pair_error_ = e.what();
  }
  changes_.Notify(Change::kPair);
}

void Session::SetScene(int index) {
  // A scene chosen again shows its first pair again (as a click on it does).
  if (dataset_ && index >= 0 && index < static_cast<int>(dataset_->scenes().size()) && index == scene_index_) {
    SetPair(0);
    return;
  }
  Select(index, 0);
}

void Session::SetPair(int index) {
  if (!scene() || scene()->pairs.empty()) return;
  pair_index_ = std::clamp(index, 0, static_cast<int>(scene()->pairs.size()) - 1);
  LoadCurrentPair();
}

void Session::FirstPair() { SetPair(0); }

void Session::LastPair() {
  if (scene()) SetPair(static_cast<int>(scene()->pairs.size()) - 1);
}

void Session::NextPair() {
  const data::Scene* s = scene();
  if (!s) return;
  if (pair_index_ + 1 < static_cast<int>(s->pairs.size()))
    SetPair(pair_index_ + 1);
  else if (scene_index_ + 1 < static_cast<int>(dataset_->scenes().size()))
    Select(scene_index_ + 1, 0);
}

void Session::PrevPair() {
  if (!scene()) return;
  if (pair_index_ > 0) {
    SetPair(pair_index_ - 1);
  } else if (scene_index_ > 0) {
    const int prev = scene_index_ - 1;
    Select(prev, static_cast<int>(dataset_->scenes()[static_cast<size_t>(prev)].pairs.size()) - 1);
  }
}

void Session::NextScene() {
  if (dataset_ && scene_index_ + 1 < static_cast<int>(dataset_->scenes().size())) Select(scene_index_ + 1, 0);
}

void Session::PrevScene() {
  if (dataset_ && scene_index_ > 0) Select(scene_index_ - 1, 0);
}

}  // namespace animerun::session
