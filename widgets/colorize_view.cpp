// The colorization view: layout, flipbook, paint bucket (colorize_view.h). Background
// propagation and export: colorize_view_jobs.cpp.
#include "widgets/colorize_view.h"

#include <QCheckBox>
#include <QColorDialog>
#include <QComboBox>
#include <QCoreApplication>
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

#include "core/data/animerun_dataset.h"
#include "core/util/error.h"
#include "widgets/background_task.h"
#include "widgets/colorize_canvas.h"
#include "widgets/qt_image.h"

namespace animerun::widgets {

namespace fs = std::filesystem;
using gui::ToPath;
using gui::ToQImage;

void ColorizeViewOptions::Check() const {
  Require(fps >= 1 && fps <= 60, "colorize view: fps must be in 1..60");
  Require(onion_opacity > 0 && onion_opacity <= 1, "colorize view: onion_opacity must be in (0, 1]");
}

ColorizeView::ColorizeView(QWidget* parent, const ColorizeViewOptions& options)
    : QWidget(parent), options_view_(options) {
  options_view_.Check();
  task_ = new gui::BackgroundTask(this);
  connect(task_, &gui::BackgroundTask::progress, this, [this](double f, const QString& m) {
    progress_->setValue(static_cast<int>(f * 1000));
    SetStatus(m);
  });
  connect(task_, &gui::BackgroundTask::finished, this, &ColorizeView::OnFinished);
  timer_ = new QTimer(this);
  timer_->setInterval(1000 / options_view_.fps);
  connect(timer_, &QTimer::timeout, this, [this] { StepFrame(1); });
  BuildUi();
  UpdateActions();
}

ColorizeView::~ColorizeView() { task_->Stop(); }

void ColorizeView::BuildUi() {
  auto* top = new QHBoxLayout;
  matcher_box_ = new QComboBox(this);
  matcher_box_->addItems({"geometric", "ant", "flow:raft", "flow:raft-small", "flow:gma", "flow:gmflow", "flow:pwcnet"});
  matcher_box_->setToolTip(tr("Segment matcher (flow:<network> predicts the flow between line-art frames)"));
  weights_edit_ = new QLineEdit(this);
  weights_edit_->setPlaceholderText(tr("checkpoint (ant / flow)"));
  mode_box_ = new QComboBox(this);
  mode_box_->addItems({"forward", "nearest"});
  mode_box_->setToolTip(tr("forward: chained frame to frame from the key; nearest: every frame from the key"));
  keep_lines_ = new QCheckBox(tr("Lines"), this);
  keep_lines_->setChecked(true);
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
  connect(mode_box_, &QComboBox::currentTextChanged, this, [this](const QString& m) {
    if (options_.mode != m.toStdString()) SetMode(m.toStdString());
  });
  connect(matcher_box_, &QComboBox::currentTextChanged, this, [this](const QString&) { ApplyControls(); });
  connect(weights_edit_, &QLineEdit::editingFinished, this, &ColorizeView::ApplyControls);
  frame_canvas_->SetClickHandler([this](QPoint p) { PaintAt({p.x(), p.y()}); });
  key_canvas_->SetClickHandler([this](QPoint p) { PaintKeyAt({p.x(), p.y()}); });
  SetPaintColour(paint_);
  options_.mode = mode_box_->currentText().toStdString();  // forward: the artists' default
}

void ColorizeView::SetSequence(const std::vector<fs::path>& refs, const std::vector<fs::path>& ref_segs,
                               const fs::path& frames) {
  options_.refs = refs;
  options_.ref_segs = ref_segs;
  options_.frames = frames;
  have_sequence_ = !refs.empty() && !frames.empty();
  overrides_.clear();
  keys_.clear();
  frames_.clear();
  rendered_.clear();
  key_image_ = QImage();
  current_ = 0;
  RefreshFrame();
  UpdateActions();
  if (have_sequence_ && options_view_.auto_propagate) Propagate();
}

void ColorizeView::Clear() {
  task_->Cancel();
  restart_ = false;
  have_sequence_ = false;
  SetSequence({}, {}, {});
}

bool ColorizeView::SetScene(const data::Scene& scene) {
  if (!scene.frames.empty() && !scene.pairs.empty() && have_sequence_ && options_.refs.size() == 1 &&
      options_.refs[0] == scene.frames[0] && options_.frames == scene.pairs[0].contour1.parent_path())
    return true;  // the cut shown already: keep results and overrides
  if (scene.frames.empty() || scene.pairs.empty() || scene.pairs[0].contour1.empty()) {
    ReportError(tr("%1: no line art (contour/) to colour").arg(QString::fromStdString(scene.name)));
    return false;
  }
  std::vector<fs::path> segs;
  if (!scene.pairs[0].segment1.empty()) segs.push_back(scene.pairs[0].segment1);
  SetSequence({scene.frames[0]}, segs, scene.pairs[0].contour1.parent_path());
  return true;
}

void ColorizeView::SetMatcher(const std::string& name, const segments::MatcherOptions& options) {
  options_.matcher = name;
  options_.matcher_options = options;
  matcher_cache_.reset();
  const QString item = name == "flow" && options.flow_model ? QString::fromStdString("flow:" + options.flow_model->model)
                                                            : QString::fromStdString(name);
  const QSignalBlocker block(matcher_box_), block2(weights_edit_);
  matcher_box_->setCurrentText(item);
  weights_edit_->setText(QString::fromStdString(name == "flow" && options.flow_model ? options.flow_model->weights
                                                                                     : options.weights));
}

void ColorizeView::SetMode(const std::string& mode) {
  options_.mode = mode;
  const QString m = QString::fromStdString(mode);
  if (mode_box_->currentText() != m) mode_box_->setCurrentText(m);
  if (!frames_.empty()) Propagate();
}

void ColorizeView::SetKeepLines(bool keep) {
  options_.keep_lines = keep;
  if (keep_lines_->isChecked() != keep) keep_lines_->setChecked(keep);
  RenderAll();
  RefreshFrame();
}

const colorize::FrameOutcome* ColorizeView::Frame(int index) const {
  return index >= 0 && index < FrameCount() ? &frames_[static_cast<size_t>(index)] : nullptr;
}

QImage ColorizeView::FrameImage(int index) const {
  return index >= 0 && index < static_cast<int>(rendered_.size()) ? rendered_[static_cast<size_t>(index)] : QImage();
}

QImage ColorizeView::ShownImage() const { return frame_canvas_->Image(); }
QImage ColorizeView::KeyImage() const { return key_canvas_->Image(); }

int64_t ColorizeView::TotalUnfilled() const {
  int64_t n = 0;
  for (const auto& f : frames_)
    for (char filled : f.state.filled) n += !filled;
  return n;
}

void ColorizeView::RenderAll() {
  rendered_.clear();
  for (const auto& f : frames_)
    rendered_.push_back(ToQImage(colorize::RenderColourised(f.state, options_.keep_lines, options_.unfilled)).copy());
  key_image_ = keys_.empty() ? QImage()
                             : ToQImage(colorize::RenderColourised(keys_[0], options_.keep_lines, options_.unfilled)).copy();
}

void ColorizeView::RefreshFrame() {
  const int n = FrameCount();
  if (n) current_ = std::clamp(current_, 0, n - 1);  // kept while empty: the frame wanted next
  {
    const QSignalBlocker block(slider_);
    slider_->setRange(0, std::max(0, n - 1));
    slider_->setValue(current_);
  }
  QImage shown = FrameImage(current_);
  if (!shown.isNull() && onion_->isChecked() && n > 1) {
    // Onion skin: the previous frame (the last one for the first) drawn translucent on top.
    shown = shown.convertToFormat(QImage::Format_RGB32);
    QPainter p(&shown);
    p.setOpacity(options_view_.onion_opacity);
    p.drawImage(0, 0, FrameImage((current_ + n - 1) % n));
  }
  frame_canvas_->SetImage(shown);
  key_canvas_->SetImage(key_image_);
  if (const auto* f = Frame(current_)) {
    int unfilled = 0;
    for (char filled : f->state.filled) unfilled += !filled;
    frame_label_->setText(tr("%1/%2 %3 · %4 unfilled").arg(current_ + 1).arg(n).arg(QString::fromStdString(f->state.name)).arg(unfilled));
  } else {
    frame_label_->setText(tr("no frames"));
  }
  key_label_->setText(keys_.empty() ? tr("Key") : tr("Key: %1").arg(QString::fromStdString(keys_[0].name)));
}

void ColorizeView::showFrame(int index) {
  if (index == current_ && slider_->value() == index) return;
  current_ = index;
  RefreshFrame();
}

void ColorizeView::StepFrame(int delta) {
  const int n = FrameCount();
  if (n == 0) return;
  current_ = ((current_ + delta) % n + n) % n;
  RefreshFrame();
}

void ColorizeView::SetPlaying(bool on) {
  if (on && FrameCount() > 1) timer_->start();
  else timer_->stop();
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
  if (c.isValid()) SetPaintColour(cv::Vec3b(static_cast<uchar>(c.red()), static_cast<uchar>(c.green()), static_cast<uchar>(c.blue())));
}

int ColorizeView::PaintAt(cv::Point p) {
  if (current_ >= FrameCount()) return -1;
  auto& state = frames_[static_cast<size_t>(current_)].state;
  const int id = colorize::SegmentAt(state, p);
  if (id < 0) return -1;
  overrides_[state.name][id] = paint_;
  // Shown at once; the re-propagation carries it to the matched segments of later frames.
  colorize::ApplyOverrides({{id, paint_}}, state);
  rendered_[static_cast<size_t>(current_)] =
      ToQImage(colorize::RenderColourised(state, options_.keep_lines, options_.unfilled)).copy();
  RefreshFrame();
  SetStatus(tr("Painted segment %1 of %2").arg(id).arg(QString::fromStdString(state.name)));
  Propagate();
  return id;
}

int ColorizeView::PaintKeyAt(cv::Point p) {
  if (keys_.empty()) return -1;
  auto& key = keys_[0];
  const int id = colorize::SegmentAt(key, p);
  if (id < 0) return -1;
  overrides_[colorize::KeyOverrideName(key.name)][id] = paint_;
  colorize::ApplyOverrides({{id, paint_}}, key);
  key_image_ = ToQImage(colorize::RenderColourised(key, options_.keep_lines, options_.unfilled)).copy();
  RefreshFrame();
  Propagate();
  return id;
}

void ColorizeView::ClearOverrides() {
  if (overrides_.empty()) return;
  overrides_.clear();
  Propagate();
}

void ColorizeView::UpdateActions() {
  const bool running = task_->IsRunning();
  propagate_button_->setEnabled(have_sequence_);
  cancel_button_->setEnabled(running);
  export_button_->setEnabled(!frames_.empty() && !running);
  clear_button_->setEnabled(!overrides_.empty());
  const bool many = FrameCount() > 1;
  play_button_->setEnabled(many);
  prev_button_->setEnabled(many);
  next_button_->setEnabled(many);
  slider_->setEnabled(many);
  progress_->setVisible(running);
}

QString ColorizeView::Status() const { return status_->text(); }

void ColorizeView::SetStatus(const QString& text) { status_->setText(text); }

void ColorizeView::ReportError(const QString& text) {
  last_error_ = text;
  SetStatus(text);
  if (options_view_.modal_errors) QMessageBox::warning(this, tr("Colorize"), text);
}

bool ColorizeView::WaitIdle(int timeout_ms) {
  return gui::ProcessEventsWhile([this] { return Busy(); }, timeout_ms);
}

}  // namespace animerun::widgets
