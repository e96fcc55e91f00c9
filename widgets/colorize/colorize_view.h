// The Colorize panel: a thin view over colorize::ColorizeController (core/colorize/
// colorize_controller.h), which colours a cut's line art from its coloured key frame by
// segment matching. The view shows the key and the propagated frames side by side, a
// flipbook (play/pause, slider, arrows) with an onion skin (the previous frame drawn
// translucent on top), and turns clicks into paint-bucket overrides of the controller.
//
// Docked, it follows the session's cut and pair (SetSession) while it is shown: the
// propagation segments and matches a whole cut, so a hidden tab does no work and catches
// up when it comes to the front. SetSequence() and SetScene() feed it directly.
#pragma once

#include <QImage>
#include <QWidget>

#include <filesystem>
#include <memory>
#include <vector>

#include <opencv2/core.hpp>

#include "core/colorize/colorize_controller.h"

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

namespace animerun::widgets {

class ColorizeCanvas;
class SessionModel;

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

  // Follows the session's cut and pair while shown.
  void SetSession(SessionModel* session);
  colorize::ColorizeController& controller() { return *controller_; }

  // The sequence (see ColorizeController): keys and line-art frames, or a dataset cut.
  void SetSequence(const std::vector<std::filesystem::path>& refs,
                   const std::vector<std::filesystem::path>& ref_segs, const std::filesystem::path& frames);
  bool SetScene(const data::Scene& scene);
  void Clear() { controller_->Clear(); }
  void SetMatcher(const std::string& name, const segments::MatcherOptions& options = {});
  void SetMode(const std::string& mode) { controller_->SetMode(mode); }
  void SetKeepLines(bool keep) { controller_->SetKeepLines(keep); }
  const colorize::ColorizeOptions& Options() const { return controller_->Options(); }

  void Propagate() { controller_->Propagate(); }
  bool ExportTo(const QString& dir);
  void Cancel() { controller_->Cancel(); }
  bool Busy() const { return controller_->Busy(); }
  bool WaitIdle(int timeout_ms);

  int FrameCount() const { return controller_->FrameCount(); }
  int CurrentFrame() const { return controller_->current(); }
  const colorize::FrameOutcome* Frame(int index) const { return controller_->Frame(index); }
  const std::vector<colorize::ColourState>& Keys() const { return controller_->Keys(); }
  QImage FrameImage(int index) const;  // the coloured frame as exported
  QImage ShownImage() const;           // the frame pane's picture (with the onion skin)
  QImage KeyImage() const;             // the key pane's picture
  int64_t TotalUnfilled() const { return controller_->TotalUnfilled(); }

  void StepFrame(int delta) { controller_->Step(delta); }
  void SetPlaying(bool on);
  bool Playing() const;
  void SetOnionSkin(bool on);
  bool OnionSkin() const;

  // Paint bucket (image coordinates of the current frame, or of the first key).
  void SetPaintColour(const cv::Vec3b& rgb);
  cv::Vec3b PaintColour() const { return paint_; }
  int PaintAt(cv::Point p) { return controller_->PaintAt(p, paint_); }
  int PaintKeyAt(cv::Point p) { return controller_->PaintKeyAt(p, paint_); }
  void ClearOverrides() { controller_->ClearOverrides(); }
  const colorize::Overrides& Overrides() const { return controller_->overrides(); }

  QString Status() const;
  QString LastError() const;
  ColorizeCanvas* frameCanvas() const { return frame_canvas_; }
  ColorizeCanvas* keyCanvas() const { return key_canvas_; }

 public slots:
  void showFrame(int index) { controller_->SetCurrent(index); }

 signals:
  void propagated(bool ok);
  void exported(bool ok, const QString& dir);

 protected:
  void showEvent(QShowEvent* event) override;  // a docked view catches up with the session

 private:
  void BuildUi();
  void OnEvent(colorize::ColorizeController::Event event);
  void SyncToSession();
  void RenderAll();     // cached pictures of every frame and the key
  void RefreshFrame();  // the frame pane, slider and labels
  void ShowSettings();  // the controls from the controller's settings
  void UpdateActions();
  void ChooseColour();
  void ChooseExportDir();

  ColorizeViewOptions options_;
  std::unique_ptr<colorize::ColorizeController> controller_;
  SessionModel* session_ = nullptr;
  std::vector<QImage> rendered_;
  QImage key_image_;
  cv::Vec3b paint_{230, 80, 60};

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
