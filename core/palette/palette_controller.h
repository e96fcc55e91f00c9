// The palette work behind the GUI's Palette panel, Qt-free: the open palette file and its
// group edits, extraction over groups (ExtractGroups, the loop `animerun palette extract`
// runs, with the same options), group suggestion, the recolouring preview of the shown
// frame and applying it to a cut or the dataset (ApplyPalettes, as `palette apply`). Jobs
// run one at a time on a worker; the preview's work (a cut's materials, the frame) on a
// second, so the preview follows the shown pair while an apply runs.
//
// The dataset is the session's (SetDataset): the controller never opens one. The preview
// recolours the cut's `original` pass, as applying does; when the session shows that pass
// its loaded frame t is used, otherwise the frame is read from the original pass.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"
#include "core/jobs/job_runner.h"
#include "core/palette/palette.h"
#include "core/palette/recolor.h"
#include "core/util/observers.h"

namespace animerun::palette {

class PaletteController {
 public:
  enum class Event {
    kPalettes,     // the file, its groups or their colours changed
    kSuggestion,   // a suggestion arrived or went
    kPreview,      // the preview images or texts changed
    kPassName,     // SuggestedPassName() changed (another cut or dataset)
    kJob,          // a job started or moved: JobRunning(), JobProgress(), Status()
    kJobFinished,  // a job ended: LastJobOk(), LastJobMessage()
    kPassWritten,  // an apply wrote WrittenPass() for WrittenScenes()
    kStatus,       // Status() changed
    kError,        // an action failed: LastError()
  };

  explicit PaletteController(PostFn post);
  ~PaletteController();
  PaletteController(const PaletteController&) = delete;
  PaletteController& operator=(const PaletteController&) = delete;

  int Observe(std::function<void(Event)> fn) { return observers_.Add(std::move(fn)); }
  void Unobserve(int id) { observers_.Remove(id); }

  // The palette file.
  const PaletteFile& palettes() const { return file_; }
  const std::string& path() const { return path_; }
  bool modified() const { return modified_; }
  bool Load(const std::string& path);
  bool Save(const std::string& path);
  // Opens <folder>/palettes.json when it exists and nothing has been opened or made yet.
  bool LoadBeside(const std::filesystem::path& folder);

  // Group edits. Changing a group's frames clears its colours: they must be extracted again.
  std::string NewGroupName() const;  // "group_N", unused
  bool AddGroup(const std::string& name, const std::string& style = std::string());
  bool RemoveGroup(const std::string& name);
  bool RenameGroup(const std::string& from, const std::string& to);
  void SetGroupStyle(const std::string& name, const std::string& style);
  // Files or folders (folders add their images, recursively). Returns how many were added.
  size_t AddFrames(const std::string& group, const std::vector<std::string>& paths);
  size_t RemoveFrames(const std::string& group, const std::vector<std::string>& paths);

  // Jobs, one at a time; kJobFinished follows.
  bool Extract(const std::vector<std::string>& names);  // empty = every group lacking colours
  // Splits frames into k groups (0 = automatic); source_group names the group they come
  // from (it is replaced when the suggestion is accepted), "" for none.
  bool Suggest(const std::vector<std::string>& frames, int k, uint64_t seed,
               const std::string& source_group = std::string());
  void AcceptSuggestion();
  void DiscardSuggestion();
  const PaletteFile& suggestion() const { return suggestion_; }
  // Recolours the current cut, or every cut, into pass (color_N) with the preview's group
  // and seed settings.
  bool Apply(bool whole_dataset, const std::string& pass, bool overwrite);
  void CancelJob() { job_.Cancel(); }
  bool JobRunning() const { return job_.Running(); }
  double JobProgress() const { return job_progress_; }
  bool LastJobOk() const { return last_job_ok_; }
  const std::string& LastJobMessage() const { return last_job_message_; }
  const std::string& WrittenPass() const { return written_pass_; }
  const std::vector<std::string>& WrittenScenes() const { return written_scenes_; }
  bool Busy() const { return job_.Running() || preview_job_.Running(); }

  // The session's dataset: root is the folder it was opened from, split its split ("" when
  // root is the split folder).
  void SetDataset(std::shared_ptr<const data::AnimeRunDataset> dataset, const std::filesystem::path& root,
                  const std::string& split);
  bool HasDataset() const { return dataset_ != nullptr; }
  // The frame to preview: a cut and a frame index in it. shown is the session's loaded pair
  // when it shows that frame as frame t (null otherwise) and shown_pass its pass.
  void SetCut(const std::string& scene, int frame, std::shared_ptr<const data::PairData> shown = nullptr,
              const std::string& shown_pass = std::string());
  const std::string& scene() const { return scene_; }
  std::string SuggestedPassName() const;  // the first color_N the current cut lacks

  // Preview settings: the group (ignored with random_group) and the seed.
  void SetPreviewGroup(const std::string& name);
  void SetSeed(uint64_t seed);
  void SetRandomGroup(bool on);
  const std::string& preview_group() const { return preview_group_; }
  uint64_t seed() const { return seed_; }
  bool random_group() const { return random_group_; }
  const cv::Mat& PreviewOriginal() const { return preview_original_; }   // RGB, empty while none
  const cv::Mat& PreviewRecoloured() const { return preview_recoloured_; }
  const std::string& PreviewMessage() const { return preview_message_; }  // instead of an image
  const std::string& PreviewInfo() const { return preview_info_; }

  const std::string& Status() const { return status_; }
  const std::string& LastError() const { return last_error_; }

 private:
  using JobFinish = std::function<void(const JobOutcome&)>;
  void StartJob(const std::string& title, JobRunner::Work work, JobFinish finish);
  void EndJob(bool ok, const std::string& message);
  void MarkModified();
  void SetStatus(const std::string& text);
  void Fail(const std::string& error);
  RecolorOptions PreviewOptions() const;
  void LoadPreview();
  void RenderPreview();
  void Notify(Event e) const { observers_.Notify(e); }

  JobRunner job_;          // extract / suggest / apply
  JobRunner preview_job_;  // a cut's materials and the previewed frame
  Observers<Event> observers_;

  PaletteFile file_, suggestion_;
  std::string suggestion_source_;
  std::string path_;
  bool modified_ = false;
  double job_progress_ = 0.0;
  bool last_job_ok_ = false;
  std::string last_job_message_, written_pass_;
  std::vector<std::string> written_scenes_;

  std::shared_ptr<const data::AnimeRunDataset> dataset_;
  std::filesystem::path root_;
  std::string split_;
  std::string scene_;
  int frame_ = 0;
  std::shared_ptr<const data::PairData> shown_;
  std::string shown_pass_;
  std::map<std::string, MaterialCounts> materials_;  // per cut
  cv::Mat frame_rgb_, frame_mask_;  // the previewed frame and its line mask
  std::string frame_key_;           // "<scene>/<frame>" of frame_rgb_

  std::string preview_group_;
  uint64_t seed_ = 0;
  bool random_group_ = false;
  cv::Mat preview_original_, preview_recoloured_;
  std::string preview_message_ = "Open a dataset to preview", preview_info_;

  std::string status_, last_error_;
};

}  // namespace animerun::palette
