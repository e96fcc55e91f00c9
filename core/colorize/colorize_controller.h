// The colorization work behind the GUI's Colorize panel, Qt-free: a sequence (coloured
// keys and a folder of line-art frames, or a dataset cut: its first frame and its contour/),
// propagation on a worker thread (colorize::Propagate, the loop `animerun colorize` runs),
// paint-bucket overrides, the flipbook position and export (WriteFrameOutputs, the files
// the CLI writes).
//
// A paint-bucket click is recorded as an override (kept until cleared), applied to the
// frame at once, and the sequence re-propagates in the background so that later frames
// matched to the painted segment inherit it (colorize.h). A propagation asked for while
// one runs cancels it and starts again once it stopped; an export is left to finish. The
// matcher stays loaded between propagations until its settings change.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/colorize/colorize.h"
#include "core/jobs/job_runner.h"
#include "core/util/observers.h"

namespace animerun::data {
struct Scene;
}

namespace animerun::colorize {

class ColorizeController {
 public:
  enum class Event {
    kSettings,    // matcher, mode or lines changed
    kResults,     // frames and keys were replaced (a propagation, a new sequence): redraw all
    kPainted,     // one picture changed by a paint-bucket click: PaintedFrame() (-1 = the key)
    kCurrent,     // the flipbook moved: current()
    kJob,         // a job started, moved or ended: Busy(), JobProgress(), Status()
    kStatus,      // Status() changed
    kError,       // an action or a job failed: LastError()
    kPropagated,  // a propagation ended: LastOk()
    kExported,    // an export ended: LastOk(), ExportDir()
  };

  explicit ColorizeController(PostFn post);
  ~ColorizeController();
  ColorizeController(const ColorizeController&) = delete;
  ColorizeController& operator=(const ColorizeController&) = delete;

  int Observe(std::function<void(Event)> fn) { return observers_.Add(std::move(fn)); }
  void Unobserve(int id) { observers_.Remove(id); }

  // Propagate as soon as a sequence is set (the panel's default).
  void SetAutoPropagate(bool on) { auto_propagate_ = on; }

  // The sequence: keys (optionally with their segment maps) and the folder of line-art
  // frames. Clears results and overrides; propagates with auto-propagate.
  void SetSequence(const std::vector<std::filesystem::path>& refs, const std::vector<std::filesystem::path>& ref_segs,
                   const std::filesystem::path& frames);
  // A dataset cut: key = its first frame (with its Segment map), frames = its contour/. The
  // cut set already keeps its results and overrides. False (LastError) without line art.
  bool SetScene(const data::Scene& scene);
  // Forgets sequence, results and overrides; a running job is cancelled.
  void Clear();
  bool HasSequence() const { return have_sequence_; }

  // Matcher ("geometric", "ant", "flow" with options.flow_model), mode, lines: they take
  // effect at the next propagation (lines at once: only the pictures change).
  void SetMatcher(const std::string& name, const segments::MatcherOptions& options = {});
  // The entries of a matcher menu: "geometric", "ant", "flow:<network>" for each network.
  static std::vector<std::string> MatcherChoices();
  // A menu entry and its checkpoint (ant, flow networks); flow networks run 12 iterations
  // (interactive; the evaluation uses 32).
  void SetMatcherChoice(const std::string& choice, const std::string& weights);
  std::string MatcherChoice() const;   // the entry of the current settings
  std::string MatcherWeights() const;  // its checkpoint
  void SetMode(const std::string& mode);  // re-propagates when there are results
  void SetKeepLines(bool keep);
  const ColorizeOptions& Options() const { return options_; }

  // Jobs.
  void Propagate();
  bool ExportTo(const std::filesystem::path& dir);  // false when nothing to export or busy
  void Cancel();
  bool Busy() const { return runner_.Running() || restart_; }
  double JobProgress() const { return job_progress_; }
  bool LastOk() const { return last_ok_; }
  const std::filesystem::path& ExportDir() const { return export_dir_; }

  // Results.
  int FrameCount() const { return static_cast<int>(frames_.size()); }
  const FrameOutcome* Frame(int index) const;
  const std::vector<ColourState>& Keys() const { return keys_; }
  int64_t TotalUnfilled() const;
  // The coloured pictures as exported (RGB): a frame, the first key.
  cv::Mat RenderFrame(int index) const;
  cv::Mat RenderKey() const;

  // Flipbook position (kept while there are no frames: the frame wanted next).
  int current() const { return current_; }
  void SetCurrent(int index);
  void Step(int delta);  // wraps around

  // Paint bucket at an image pixel of the current frame / of the first key: returns the
  // segment painted, -1 outside the picture or before a propagation.
  int PaintAt(cv::Point p, const cv::Vec3b& rgb);
  int PaintKeyAt(cv::Point p, const cv::Vec3b& rgb);
  int PaintedFrame() const { return painted_frame_; }
  void ClearOverrides();
  const colorize::Overrides& overrides() const { return overrides_; }

  const std::string& Status() const { return status_; }
  const std::string& LastError() const { return last_error_; }

 private:
  enum class Job { kNone, kPropagate, kExport };
  struct Pending;
  struct MatcherCache;
  void StartPropagation();
  void OnFinished(const JobOutcome& outcome);
  void SetStatus(const std::string& text);
  void Fail(const std::string& error);
  void Notify(Event e) const { observers_.Notify(e); }

  JobRunner runner_;
  Observers<Event> observers_;
  bool auto_propagate_ = true;
  ColorizeOptions options_;
  bool have_sequence_ = false;
  Overrides overrides_;
  std::vector<ColourState> keys_;
  std::vector<FrameOutcome> frames_;
  int current_ = 0;
  int painted_frame_ = -1;

  Job job_kind_ = Job::kNone;
  bool restart_ = false;  // propagate again once the running job stopped
  std::shared_ptr<Pending> pending_;
  std::shared_ptr<MatcherCache> matcher_cache_;
  double job_progress_ = 0.0;
  bool last_ok_ = false;
  std::filesystem::path export_dir_;
  std::string status_, last_error_;
};

}  // namespace animerun::colorize
