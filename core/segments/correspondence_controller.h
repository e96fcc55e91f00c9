// The correspondence annotation behind the GUI's Correspondences panel, Qt-free: opening a
// pair's annotation session (the saved edits, or the ground truth, or nothing matched),
// the selection and the review queue (least confident first), edits with autosave files
// (AnnotationSession, annotation.h), matchers run on a worker thread, and the two frames
// drawn with the selection, its match and the edited segments.
//
// Edits go through Edit(), which the panel's undo stack calls (PrepareEdit says whether an
// edit would change anything); saving is Save(), which the panel's debounce timer calls.
// Files: <split>/Annotations/SegMatching/<scene>/forward/<frame t>.json, or a per-dataset
// folder under the fallback directory when the dataset is read-only; never the ground truth.
// An unreadable annotation file is reported and kept aside as <file>.corrupt.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"
#include "core/jobs/job_runner.h"
#include "core/segments/annotation.h"
#include "core/segments/matcher_factory.h"
#include "core/util/observers.h"

namespace animerun::segments {

class CorrespondenceController {
 public:
  enum class Event {
    kSession,          // a pair was opened or closed: redraw everything
    kMatches,          // an edit or a new proposal: matches, queue, pictures
    kSelection,        // the selected segment changed
    kStatus,           // Status() changed
    kError,            // an action failed: LastError()
    kSaved,            // the edits were written to files().matches
    kJob,              // a matcher started or ended: Busy()
    kMatcherFinished,  // a matcher ended: LastMatcherOk(), LastMatcherMessage()
  };

  explicit CorrespondenceController(PostFn post);
  ~CorrespondenceController();  // saves pending edits
  CorrespondenceController(const CorrespondenceController&) = delete;
  CorrespondenceController& operator=(const CorrespondenceController&) = delete;

  int Observe(std::function<void(Event)> fn) { return observers_.Add(std::move(fn)); }
  void Unobserve(int id) { observers_.Remove(id); }

  // Where annotations of read-only datasets go (ChooseAnnotationRoot's fallback base).
  void SetFallbackDir(const std::filesystem::path& dir) { fallback_dir_ = dir; }

  // Opens the pair's session (saving the previous pair's edits first). split_root is the
  // dataset's split folder (AnimeRunDataset::root()).
  void SetPair(const std::filesystem::path& split_root, const data::FramePair& pair,
               std::shared_ptr<const data::PairData> data);
  void ClearPair(const std::string& message = std::string());
  bool HasSession() const { return has_session_; }
  const AnnotationSession& session() const { return session_; }
  const AnnotationFiles& files() const { return files_; }
  const data::FramePair& pair() const { return pair_; }
  const std::string& Message() const { return message_; }  // why there is no session

  // Selection and review queue.
  void Select(int id);  // -1 (or an id out of range) clears
  int selected() const { return selected_; }
  // A click at pixel of frame 0 selects the segment there. A click on frame 1 returns the
  // segment there to reassign the selection to (the caller edits, so that it can be
  // undone), or nothing when no segment of t is selected (the status says so).
  std::optional<int> ClickAt(int frame, cv::Point pixel);
  int SegmentAt(int frame, cv::Point pixel) const;  // -1 outside or without a session
  void NextInQueue();
  void PrevInQueue();
  int queue_position() const { return queue_pos_; }  // -1 = before the first
  int queue_size() const { return static_cast<int>(queue_.size()); }

  // Edits. PrepareEdit: false (and the reason as status or error) when setting id's match
  // to target would change nothing or is not possible; else *before is its current match.
  bool PrepareEdit(int id, int target, int* before);
  // Sets id's match (an undo sets the previous value back), selects id.
  void Edit(int id, int target);
  bool Dirty() const { return has_session_ && session_.Dirty(); }
  bool Save();  // writes pending edits; false on error (reported)

  // The proposal: "gt" (at once) or a matcher (worker thread). Edited segments keep their
  // edits. kMatcherFinished follows either way.
  void RunMatcher(const std::string& name, const MatcherOptions& options = {});
  void CancelMatcher() { runner_.Cancel(); }
  bool Busy() const { return runner_.Running(); }
  bool LastMatcherOk() const { return last_matcher_ok_; }
  const std::string& LastMatcherMessage() const { return last_matcher_message_; }

  // Frame 0 (t) or 1 (t+1) as the panel shows it (RGB): segment boundaries, the selection
  // in t and its match in t+1, edited segments tinted, the proposal's match outlined when
  // the selection was edited. Empty without a session.
  cv::Mat Render(int frame) const;
  // The bounding box of segment id in frame (empty when absent).
  cv::Rect SegmentBounds(int frame, int id) const;

  const std::string& Status() const { return status_; }
  const std::string& LastError() const { return last_error_; }

 private:
  void ProposalChanged();
  void SetStatus(const std::string& text);
  void Fail(const std::string& error);
  void MatcherEnded(bool ok, const std::string& message);
  void Notify(Event e) const { observers_.Notify(e); }

  JobRunner runner_;
  Observers<Event> observers_;
  std::filesystem::path fallback_dir_;
  data::FramePair pair_;
  std::shared_ptr<const data::PairData> data_;
  AnnotationSession session_;
  AnnotationFiles files_;
  bool has_session_ = false;
  std::string message_;
  int selected_ = -1;
  std::vector<int> queue_;
  int queue_pos_ = -1;
  bool last_matcher_ok_ = false;
  std::string last_matcher_message_;
  std::string status_, last_error_;
};

}  // namespace animerun::segments
