// The colorization view: colours the line art of a cut from its coloured key frame by
// segment matching (core/colorize/colorize.h) and lets an artist check and fix the result.
//  - the key and the propagated frames side by side; a flipbook (play/pause, frame slider,
//    arrow buttons) with an onion skin (the previous frame drawn translucent on top);
//  - paint bucket: pick a colour, click a segment of the frame or of the key. The click
//    is recorded as an override (core Overrides, keyed by file name and segment id), shows
//    at once, and the sequence re-propagates in the background: in "forward" mode the
//    segments of later frames matched to the painted one inherit the colour, a key
//    override reaches every frame; overrides survive every re-propagation until cleared;
//  - propagation and export run on a worker thread with progress and cancel; export
//    writes the PNG + JSON per frame through the core (same files as `animerun colorize`).
//
// Self-contained: the main window docks it and feeds it the shown cut through SetScene()
// and the shown pair through showFrame(); SetSequence() sets keys and frames directly.
#pragma once

#include <QImage>
#include <QWidget>

#include <filesystem>
#include <memory>
#include <vector>

#include <opencv2/core.hpp>

#include "core/colorize/colorize.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSlider;
class QTimer;
class QToolButton;

namespace animerun::data {
struct Scene;
}
namespace animerun::gui {
class BackgroundTask;
}

namespace animerun::widgets {

class ColorizeCanvas;

struct ColorizeViewOptions {
  bool modal_errors = true;     // also show errors in message boxes (tests turn this off)
  bool auto_propagate = true;   // propagate as soon as a sequence is set
  int fps = 8;                  // flipbook speed, frames per second (1..60)
  double onion_opacity = 0.35;  // opacity of the previous frame in the onion skin, (0, 1]
  void Check() const;           // throws Error on bad values
};

class ColorizeView : public QWidget {
  Q_OBJECT

 public:
  explicit ColorizeView(QWidget* parent = nullptr, const ColorizeViewOptions& options = {});
  ~ColorizeView() override;

  // The sequence: coloured keys (optionally with their segment maps) and the folder of
  // line-art frames. Clears results and overrides; propagates when auto_propagate.
  void SetSequence(const std::vector<std::filesystem::path>& refs,
                   const std::vector<std::filesystem::path>& ref_segs, const std::filesystem::path& frames);
  // A dataset cut: key = its first frame (with its Segment map), frames = its contour/.
  // The cut shown already is kept as it is (results, overrides). False (and the reason in
  // LastError) when the cut has no line art.
  bool SetScene(const data::Scene& scene);
  // Forgets sequence, results and overrides (a new dataset); a running job is cancelled.
  void Clear();
  // Matcher ("geometric", "ant", "flow"), its options, mode, lines: take effect at the next
  // propagation (the buttons' combos call these too).
  void SetMatcher(const std::string& name, const segments::MatcherOptions& options = {});
  void SetMode(const std::string& mode);
  void SetKeepLines(bool keep);
  const colorize::ColorizeOptions& Options() const { return options_; }

  // Background work: one job at a time. A propagation asked for while one runs cancels it
  // and starts again once it stopped (the UI never waits on the worker).
  void Propagate();
  bool ExportTo(const QString& dir);  // false when nothing to export or a job runs
  void Cancel();
  bool Busy() const;
  bool WaitIdle(int timeout_ms);  // processes events until idle; true when idle

  // Results.
  int FrameCount() const { return static_cast<int>(frames_.size()); }
  int CurrentFrame() const { return current_; }
  const colorize::FrameOutcome* Frame(int index) const;
  const std::vector<colorize::ColourState>& Keys() const { return keys_; }
  QImage FrameImage(int index) const;  // the coloured frame as exported
  QImage ShownImage() const;           // the frame pane's picture (with the onion skin)
  QImage KeyImage() const;             // the key pane's picture
  int64_t TotalUnfilled() const;

  // Flipbook.
  void StepFrame(int delta);  // wraps around
  void SetPlaying(bool on);
  bool Playing() const;
  void SetOnionSkin(bool on);
  bool OnionSkin() const;

  // Paint bucket (image coordinates of the current frame, or of the first key). Returns the
  // segment id painted, -1 outside the picture or before a propagation.
  void SetPaintColour(const cv::Vec3b& rgb);
  cv::Vec3b PaintColour() const { return paint_; }
  int PaintAt(cv::Point p);
  int PaintKeyAt(cv::Point p);
  void ClearOverrides();
  const colorize::Overrides& Overrides() const { return overrides_; }

  QString Status() const;
  QString LastError() const { return last_error_; }
  ColorizeCanvas* frameCanvas() const { return frame_canvas_; }
  ColorizeCanvas* keyCanvas() const { return key_canvas_; }

 public slots:
  void showFrame(int index);

 signals:
  void propagated(bool ok);
  void exported(bool ok, const QString& dir);

 private:
  void BuildUi();
  void StartPropagation();
  void OnFinished(bool ok, bool cancelled, const QString& error);
  void RenderAll();       // cached pictures of every frame and the key
  void RefreshFrame();    // the frame pane, slider and labels
  void UpdateActions();
  void SetStatus(const QString& text);
  void ReportError(const QString& text);
  void ChooseColour();
  void ChooseExportDir();
  void ApplyControls();   // combos -> options_

  ColorizeViewOptions options_view_;
  colorize::ColorizeOptions options_;
  bool have_sequence_ = false;
  colorize::Overrides overrides_;
  std::vector<colorize::ColourState> keys_;
  std::vector<colorize::FrameOutcome> frames_;
  std::vector<QImage> rendered_;
  QImage key_image_;
  int current_ = 0;
  cv::Vec3b paint_{230, 80, 60};
  QString last_error_;

  // Worker state.
  enum class Job { kNone, kPropagate, kExport };
  Job job_kind_ = Job::kNone;
  bool restart_ = false;  // propagate again once the running job stopped
  struct Pending;
  std::shared_ptr<Pending> pending_;
  struct MatcherCache;
  std::shared_ptr<MatcherCache> matcher_cache_;
  gui::BackgroundTask* task_ = nullptr;
  QString export_dir_;

  // Widgets.
  ColorizeCanvas* key_canvas_ = nullptr;
  ColorizeCanvas* frame_canvas_ = nullptr;
  QComboBox* matcher_box_ = nullptr;
  QComboBox* mode_box_ = nullptr;
  QLineEdit* weights_edit_ = nullptr;
  QCheckBox* keep_lines_ = nullptr;
  QCheckBox* onion_ = nullptr;
  QPushButton* propagate_button_ = nullptr;
  QPushButton* cancel_button_ = nullptr;
  QPushButton* export_button_ = nullptr;
  QPushButton* colour_button_ = nullptr;
  QPushButton* clear_button_ = nullptr;
  QToolButton* play_button_ = nullptr;
  QToolButton* prev_button_ = nullptr;
  QToolButton* next_button_ = nullptr;
  QSlider* slider_ = nullptr;
  QLabel* frame_label_ = nullptr;
  QLabel* key_label_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QTimer* timer_ = nullptr;
};

}  // namespace animerun::widgets
