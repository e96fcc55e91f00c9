// The one observed session of a window: the open dataset, the current scene and pair, and
// the loaded pair (images, flows, masks, segments). Qt-free; the GUI wraps it in a thin Qt
// adapter (widgets/common/session_model.h) that turns its notifications into signals, and
// every panel observes that: no panel opens a dataset or reads the pair on its own, and a
// panel learns that the pair changed by comparing keys (data::PairKey), never pixels.
//
// Opening indexes the folder on a worker (JobRunner); the dataset is installed on the
// owner's thread, then the first (or the remembered) scene and pair are chosen. Loading one
// pair is synchronous (a 960x540 pair is quick). Notifications, in order, for an open:
// kOpening, kDataset, kScene, kPair, kOpened.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/data/animerun_dataset.h"
#include "core/data/pair_key.h"
#include "core/jobs/job_runner.h"
#include "core/util/observers.h"

namespace animerun::session {

namespace fs = std::filesystem;

enum class Change {
  kOpening,  // an open started (indexing, or preparing the demo): progress follows
  kDataset,  // a dataset was installed; no scene is chosen yet
  kScene,    // the current scene changed
  kPair,     // the shown pair changed: pair() when it loaded, pair_error() when not
  kOpened,   // the open ended: opened() tells whether it succeeded, last_error() why not
};

class Session {
 public:
  explicit Session(PostFn post);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Observers; the returned id removes them.
  int Observe(std::function<void(Change)> fn) { return changes_.Add(std::move(fn)); }
  void Unobserve(int id) { changes_.Remove(id); }
  // Informational lines ("info", "warning") for a log: what is opened, dataset problems.
  int ObserveLog(std::function<void(const std::string& level, const std::string& message)> fn) {
    return log_.Add(std::move(fn));
  }
  int ObserveProgress(std::function<void(double fraction, const std::string& message)> fn) {
    return progress_.Add(std::move(fn));
  }

  // Opens folder (an AnimeRun root with test/ and/or train/, or a split folder) in the
  // background; split "" picks the first the folder has (test first). A request replaces
  // an open still running. Errors end in kOpened with opened() false.
  void Open(const fs::path& folder, const std::string& split = std::string());
  // Opens the demo (core/session/demo.h), preparing what it lacks first, in the background.
  void OpenDemo(const fs::path& demo_folder);
  // Re-indexes with another Frame_Anime pass, keeping the scene and pair.
  void SetPass(const std::string& pass);
  // Re-indexes the open dataset as it is (files were written), keeping the scene and pair.
  void Reload();
  void CancelOpen() { runner_.Cancel(); }
  bool Busy() const { return runner_.Running(); }
  bool opened() const { return opened_; }  // the last open succeeded
  const std::string& last_error() const { return last_error_; }

  // The dataset (null before the first successful open). Shared, read-only: jobs may keep
  // it while the session moves on to another.
  std::shared_ptr<const data::AnimeRunDataset> dataset() const { return dataset_; }
  const fs::path& folder() const { return folder_; }
  const std::string& split() const { return split_; }
  const std::string& pass() const { return pass_; }

  // Navigation; each is a no-op without a dataset. Indices are clamped to what exists.
  void SetScene(int index);  // shows its first pair
  void SetPair(int index);   // within the current scene
  void FirstPair();
  void LastPair();
  void NextPair();   // continues into the next scene
  void PrevPair();   // continues into the last pair of the previous scene
  void NextScene();
  void PrevScene();
  int scene_index() const { return scene_index_; }  // -1 = none
  int pair_index() const { return pair_index_; }    // -1 = none
  const data::Scene* scene() const;
  const data::FramePair* frame_pair() const;  // the current pair's files

  // The shown pair: key() is empty and pair() null when the scene has none; pair() is null
  // and pair_error() names the file when loading failed.
  const data::PairKey& key() const { return key_; }
  std::shared_ptr<const data::PairData> pair() const { return pair_; }
  const std::string& pair_error() const { return pair_error_; }

 private:
  void StartOpen(const fs::path& folder, const std::string& split, bool demo);
  void Install(const fs::path& folder, const std::string& split, data::AnimeRunDataset dataset);
  void Fail(const std::string& error);
  void Select(int scene, int pair);
  void LoadCurrentPair();
  void Log(const std::string& level, const std::string& message) const { log_.Notify(level, message); }

  JobRunner runner_;
  Observers<Change> changes_;
  Observers<std::string, std::string> log_;
  Observers<double, std::string> progress_;

  std::shared_ptr<const data::AnimeRunDataset> dataset_;
  fs::path folder_;
  std::string split_, pass_ = "original";
  bool opened_ = false;
  std::string last_error_;
  int scene_index_ = -1, pair_index_ = -1;
  std::string reopen_scene_;  // scene (by name) and pair to return to after re-indexing
  int reopen_pair_ = 0;
  data::PairKey key_;
  std::shared_ptr<const data::PairData> pair_;
  std::string pair_error_;
};

}  // namespace animerun::session
