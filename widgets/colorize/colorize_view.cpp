#include "widgets/colorize/colorize_view.h"

#include <QCheckBox>
#include <QColorDialog>
#include <QComboBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

#include "core/data/animerun_dataset.h"
#include "core/flow/flow_models.h"
#include "core/util/error.h"
#include "widgets/colorize/colorize_canvas.h"
#include "widgets/common/qt_image.h"
#include "widgets/common/qt_jobs.h"
#include "widgets/common/session_model.h"

namespace animerun::widgets {

namespace fs = std::filesystem;
using colorize::ColorizeController;

void ColorizeViewOptions::Check() const {
  Require(fps >= 1 && fps <= 60, "colorize view: fps must be in 1..60");
  Require(onion_opacity > 0 && onion_opacity <= 1, "colorize view: onion_opacity must be in (0, 1]");
}

ColorizeView::ColorizeView(QWidget* parent, const ColorizeViewOptions& options) : QWidget(parent), options_(options) {
  options_.Check();
  controller_ = std::make_unique<ColorizeController>(QtPost());
  controller_->SetAutoPropagate(options_.auto_propagate);
  timer_ = new QTimer(this);
  timer_->setInterval(1000 / options_.fps);
  connect(timer_, &QTimer::timeout, this, [this] { StepFrame(1); });
  BuildUi();
  controller_->Observe([this](ColorizeController::Event e) { OnEvent(e); });
  ShowSettings();
  UpdateActions();
}

ColorizeView::~ColorizeView() = default;  // the controller stops its worker

void ColorizeView::SetSession(SessionModel* session) {
  session_ = session;
  connect(session, &SessionModel::pairChanged, this, [this] {
    if (isVisible()) SyncToSession();
  });
}

void ColorizeView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  SyncToSession();
}

void ColorizeView::SyncToSession() {
  if (!session_) return;
  const session::Session& s = session_->session();
  if (!s.scene()) return;
  controller_->SetScene(*s.scene());
  if (s.pair_index() >= 0) showFrame(s.pair_index());
}

void ColorizeView::OnEvent(ColorizeController::Event e) {
  switch (e) {
    case ColorizeController::Event::kSettings: ShowSettings(); break;
    case ColorizeController::Event::kResults:
      RenderAll();
      RefreshFrame();
      UpdateActions();
      break;
    case ColorizeController::Event::kPainted: {
      const int i = controller_->PaintedFrame();
      if (i < 0)
        key_image_ = ToQImage(controller_->RenderKey());
      else if (i < static_cast<int>(rendered_.size()))
        rendered_[static_cast<size_t>(i)] = ToQImage(controller_->RenderFrame(i));
      RefreshFrame();
      UpdateActions();
      break;
    }
    case ColorizeController::Event::kCurrent: RefreshFrame(); break;
    case ColorizeController::Event::kJob:
      progress_->setValue(static_cast<int>(controller_->JobProgress() * 1000));
      status_->setText(Status());
      UpdateActions();
      break;
    case ColorizeController::Event::kStatus: status_->setText(Status()); break;
    case ColorizeController::Event::kError:
      if (options_.modal_errors) QMessageBox::warning(this, tr("Colorize"), LastError());
      break;
    case ColorizeController::Event::kPropagated: emit propagated(controller_->LastOk()); break;
    case ColorizeController::Event::kExported:
      emit exported(controller_->LastOk(), ToQString(controller_->ExportDir()));
      break;
  }
}

void ColorizeView::BuildUi() {
  auto* top = new QHBoxLayout;
  matcher_box_ = new QComboBox(this);
  for (const std::string& c : ColorizeController::MatcherChoices()) matcher_box_->addItem(QString::fromStdString(c));
  matcher_box_->setToolTip(tr("Segment matcher (flow:<network> predicts the flow between line-art frames)"));
  weights_edit_ = new QLineEdit(this);
  weights_edit_->setPlaceholderText(tr("checkpoint (ant / flow)"));
  mode_box_ = new QComboBox(this);
  mode_box_->addItems({"forward", "nearest"});
  mode_box_->setToolTip(tr("forward: chained frame to frame from the key; nearest: every frame from the key"));
  keep_lines_ = new QCheckBox(tr("Lines"), this);
  keep_lines_->setToolTip(tr("Keep the line art over the fills"));
  propagate_button_ = new QPushButton(tr("Propagate"), this);
  cancel_button_ = new QPushButton(tr("Cancel"), this);
  export_button_ = new QPushButton(tr("Export…"), this);
  top->addWidget(new QLabel(tr("Matcher"), this));
  top->addWidget(matcher_box_);
  top->addWidget(weights_edit_, 1);
  top->addWidget(mode_box_);
  top->addWidget(keep_lines_);
  top->addWidget(propagate_button_);
  top->addWidget(cancel_button_);
  top->addWidget(export_button_);

  auto* tools = new QHBoxLayout;
  colour_button_ = new QPushButton(tr("Bucket colour"), this);
  colour_button_->setToolTip(tr("Click a segment of the frame or the key to paint it with this colour"));
  clear_button_ = new QPushButton(tr("Clear overrides"), this);
  prev_button_ = new QToolButton(this);
  prev_button_->setArrowType(Qt::LeftArrow);
  play_button_ = new QToolButton(this);
  play_button_->setText(tr("Play"));
  play_button_->setCheckable(true);
  next_button_ = new QToolButton(this);
  next_button_->setArrowType(Qt::RightArrow);
  slider_ = new QSlider(Qt::Horizontal, this);
  slider_->setRange(0, 0);
  frame_label_ = new QLabel(this);
  onion_ = new QCheckBox(tr("Onion skin"), this);
  tools->addWidget(colour_button_);
  tools->addWidget(clear_button_);
  tools->addSpacing(12);
  tools->addWidget(prev_button_);
  tools->addWidget(play_button_);
  tools->addWidget(next_button_);
  tools->addWidget(slider_, 1);
  tools->addWidget(frame_label_);
  tools->addWidget(onion_);

  auto* panes = new QGridLayout;
  key_label_ = new QLabel(tr("Key"), this);
  key_canvas_ = new ColorizeCanvas(this);
  frame_canvas_ = new ColorizeCanvas(this);
  panes->addWidget(key_label_, 0, 0);
  panes->addWidget(new QLabel(tr("Propagated (click = paint bucket)"), this), 0, 1);
  panes->addWidget(key_canvas_, 1, 0);
  panes->addWidget(frame_canvas_, 1, 1);
  panes->setRowStretch(1, 1);

  auto* bottom = new QHBoxLayout;
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1000);
  progress_->setMaximumWidth(200);
  progress_->setVisible(false);
  status_ = new QLabel(this);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  bottom->addWidget(progress_);
  bottom->addWidget(status_, 1);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(top);
  layout->addLayout(tools);
  layout->addLayout(panes, 1);
  layout->addLayout(bottom);

  connect(propagate_button_, &QPushButton::clicked, this, &ColorizeView::Propagate);
  connect(cancel_button_, &QPushButton::clicked, this, &ColorizeView::Cancel);
  connect(export_button_, &QPushButton::clicked, this, &ColorizeView::ChooseExportDir);
  connect(colour_button_, &QPushButton::clicked, this, &ColorizeView::ChooseColour);
  connect(clear_button_, &QPushButton::clicked, this, &ColorizeView::ClearOverrides);
  connect(prev_button_, &QToolButton::clicked, this, [this] { StepFrame(-1); });
  connect(next_button_, &QToolButton::clicked, this, [this] { StepFrame(1); });
  connect(play_button_, &QToolButton::toggled, this, &ColorizeView::SetPlaying);
  connect(slider_, &QSlider::valueChanged, this, &ColorizeView::showFrame);
  connect(onion_, &QCheckBox::toggled, this, [this](bool) { RefreshFrame(); });
  connect(keep_lines_, &QCheckBox::toggled, this, [this](bool on) { SetKeepLines(on); });
  connect(mode_box_, &QComboBox::currentTextChanged, this, [this](const QString& m) { SetMode(m.toStdString()); });
  auto apply_matcher = [this] {
    controller_->SetMatcherChoice(matcher_box_->currentText().toStdString(), weights_edit_->text().trimmed().toStdString());
  };
  connect(matcher_box_, &QComboBox::currentTextChanged, this, apply_matcher);
  connect(weights_edit_, &QLineEdit::editingFinished, this, apply_matcher);
  frame_canvas_->SetClickHandler([this](QPoint p) { PaintAt({p.x(), p.y()}); });
  key_canvas_->SetClickHandler([this](QPoint p) { PaintKeyAt({p.x(), p.y()}); });
  SetPaintColour(paint_);
}

void ColorizeView::ShowSettings() {
  const QSignalBlocker b1(matcher_box_), b2(weights_edit_), b3(mode_box_), b4(keep_lines_);
  matcher_box_->setCurrentText(QString::fromStdString(controller_->MatcherChoice()));
  weights_edit_->setText(QString::fromStdString(controller_->MatcherWeights()));
  // An empty field runs the network's built-in weights where the binary has them.
  const std::string choice = controller_->MatcherChoice();
  const std::string network = choice == "ant" ? "ant" : choice.rfind("flow:", 0) == 0 ? choice.substr(5) : "";
  const std::string builtin = network.empty() ? std::string() : flow::BuiltinWeightsRef(network);
  weights_edit_->setEnabled(!network.empty());
  weights_edit_->setPlaceholderText(network.empty()       ? tr("no weights (geometric matcher)")
                                    : builtin.empty()     ? tr("checkpoint (.pth)")
                                                          : tr("built-in weights (AnimeRun Studio, synthetic data)"));
  weights_edit_->setToolTip(builtin.empty() ? tr("The matcher's checkpoint")
                                            : QString::fromStdString(flow::BuiltinWeightsLabel(builtin)) +
                                                  tr(".\nLeave empty to use them, or choose a checkpoint."));
  mode_box_->setCurrentText(QString::fromStdString(Options().mode));
  keep_lines_->setChecked(Options().keep_lines);
}

void ColorizeView::SetSequence(const std::vector<fs::path>& refs, const std::vector<fs::path>& ref_segs,
                               const fs::path& frames) {
  controller_->SetSequence(refs, ref_segs, frames);
}

bool ColorizeView::SetScene(const data::Scene& scene) { return controller_->SetScene(scene); }

void ColorizeView::SetMatcher(const std::string& name, const segments::MatcherOptions& options) {
  controller_->SetMatcher(name, options);
}

bool ColorizeView::ExportTo(const QString& dir) { return controller_->ExportTo(ToPath(dir)); }

QImage ColorizeView::FrameImage(int index) const {
  return index >= 0 && index < static_cast<int>(rendered_.size()) ? rendered_[static_cast<size_t>(index)] : QImage();
}

QImage ColorizeView::ShownImage() const { return frame_canvas_->Image(); }
QImage ColorizeView::KeyImage() const { return key_canvas_->Image(); }

void ColorizeView::RenderAll() {
  rendered_.clear();
  for (int i = 0; i < FrameCount(); ++i) rendered_.push_back(ToQImage(controller_->RenderFrame(i)));
  key_image_ = ToQImage(controller_->RenderKey());
}

void ColorizeView::RefreshFrame() {
  const int n = FrameCount();
  const int current = CurrentFrame();
  {
    const QSignalBlocker block(slider_);
    slider_->setRange(0, std::max(0, n - 1));
    slider_->setValue(current);
  }
  QImage shown = FrameImage(current);
  if (!shown.isNull() && onion_->isChecked() && n > 1) {
    // Onion skin: the previous frame (the last one for the first) drawn translucent on top.
    shown = shown.convertToFormat(QImage::Format_RGB32);
    QPainter p(&shown);
    p.setOpacity(options_.onion_opacity);
    p.drawImage(0, 0, FrameImage((current + n - 1) % n));
  }
  frame_canvas_->SetImage(shown);
  key_canvas_->SetImage(key_image_);
  if (const auto* f = Frame(current)) {
    int unfilled = 0;
    for (char filled : f->state.filled) unfilled += !filled;
    frame_label_->setText(
        tr("%1/%2 %3 · %4 unfilled").arg(current + 1).arg(n).arg(QString::fromStdString(f->state.name)).arg(unfilled));
  } else {
    frame_label_->setText(tr("no frames"));
  }
  key_label_->setText(Keys().empty() ? tr("Key") : tr("Key: %1").arg(QString::fromStdString(Keys()[0].name)));
}

void ColorizeView::SetPlaying(bool on) {
  if (on && FrameCount() > 1)
    timer_->start();
  else
    timer_->stop();
  const QSignalBlocker block(play_button_);
  play_button_->setChecked(timer_->isActive());
  play_button_->setText(timer_->isActive() ? tr("Pause") : tr("Play"));
}

bool ColorizeView::Playing() const { return timer_->isActive(); }
void ColorizeView::SetOnionSkin(bool on) { onion_->setChecked(on); }
bool ColorizeView::OnionSkin() const { return onion_->isChecked(); }

void ColorizeView::SetPaintColour(const cv::Vec3b& rgb) {
  paint_ = rgb;
  const QColor c(rgb[0], rgb[1], rgb[2]);
  colour_button_->setStyleSheet(QString("QPushButton { border-left: 14px solid %1; padding-left: 4px; }").arg(c.name()));
}

void ColorizeView::ChooseColour() {
  const QColor c = QColorDialog::getColor(QColor(paint_[0], paint_[1], paint_[2]), this, tr("Bucket colour"));
  if (c.isValid())
    SetPaintColour(cv::Vec3b(static_cast<uchar>(c.red()), static_cast<uchar>(c.green()), static_cast<uchar>(c.blue())));
}

void ColorizeView::ChooseExportDir() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Export colorized frames to"));
  if (!dir.isEmpty()) ExportTo(dir);
}

void ColorizeView::UpdateActions() {
  const bool running = Busy();
  propagate_button_->setEnabled(controller_->HasSequence());
  cancel_button_->setEnabled(running);
  export_button_->setEnabled(FrameCount() > 0 && !running);
  clear_button_->setEnabled(!Overrides().empty());
  const bool many = FrameCount() > 1;
  play_button_->setEnabled(many);
  prev_button_->setEnabled(many);
  next_button_->setEnabled(many);
  slider_->setEnabled(many);
  progress_->setVisible(running);
}

QString ColorizeView::Status() const { return QString::fromStdString(controller_->Status()); }
QString ColorizeView::LastError() const { return QString::fromStdString(controller_->LastError()); }

bool ColorizeView::WaitIdle(int timeout_ms) {
  return ProcessEventsWhile([this] { return Busy(); }, timeout_ms);
}

}  // namespace animerun::widgets
