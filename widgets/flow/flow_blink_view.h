// The flow panel's blink check: frame t and frame t+1 warped back onto it by the ground
// truth or a prediction (FlowController::Warp), shown in turn by hand or blinking, and the
// photometric error between them. A right flow makes the two frames lie still on each
// other; a wrong one shows as motion in the blink and as bright error.
#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

#include "core/flow/flow_controller.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QTimer;
class QToolButton;

namespace animerun::widgets {

class FlowImageView;

class FlowBlinkView : public QWidget {
  Q_OBJECT

 public:
  enum class Show { kFrameT = 0, kWarped = 1, kError = 2 };

  explicit FlowBlinkView(flow::FlowController* controller, QWidget* parent = nullptr);

  void SetSource(flow::WarpSource source);
  flow::WarpSource Source() const { return source_; }
  void SetShow(Show show);
  Show Shown() const { return show_; }
  void SetBlinking(bool on);  // frame t and the warped frame in turn, twice a second
  bool Blinking() const;
  // Re-reads the controller (a new pair, new results).
  void Refresh();

  QImage Image() const;     // what is shown
  QString Info() const;     // the error line
  QSize sizeHint() const override { return {260, 200}; }

 private:
  void Draw();

  flow::FlowController* controller_;
  flow::WarpSource source_ = flow::WarpSource::kGroundTruth;
  Show show_ = Show::kFrameT;
  const flow::WarpResult* error_of_ = nullptr;  // the warp error_image_ was drawn for
  QImage error_image_;

  QComboBox* source_box_ = nullptr;
  QToolButton* buttons_[3] = {};
  QCheckBox* blink_ = nullptr;
  QTimer* timer_ = nullptr;
  FlowImageView* image_ = nullptr;
  QLabel* info_ = nullptr;
};

}  // namespace animerun::widgets
