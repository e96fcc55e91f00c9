// The correspondence panel's widgets, drawing and keys. The session logic (pairs, edits,
// queue, files, matchers) is in correspondence_session.cpp.
#include "widgets/correspondence_panel.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QAction>
#include <QTimer>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>

#include <opencv2/imgproc.hpp>

#include "core/util/error.h"
#include "core/view/overlay.h"
#include "core/view/segment_view.h"
#include "widgets/background_task.h"
#include "widgets/image_pane.h"
#include "widgets/qt_image.h"

namespace animerun::widgets {

namespace {

const cv::Vec3b kEditedTint(40, 200, 90);     // frame t: segments the artist changed
const cv::Vec3b kProposalEdge(40, 110, 255);  // frame t+1: the proposal's match when edited

// The keys the panel handles itself, also when the main window has a shortcut on them
// (N is "next pair" there): while the panel has focus they edit the annotation.
bool IsPanelKey(const QKeyEvent* e) {
  const auto mods = e->modifiers() & (Qt::ShiftModifier | Qt::ControlModifier | Qt::AltModifier);
  switch (e->key()) {
    case Qt::Key_N:
      return mods == Qt::NoModifier || mods == Qt::ShiftModifier;
    case Qt::Key_U:
    case Qt::Key_R:
    case Qt::Key_Delete:
      return mods == Qt::NoModifier;
    case Qt::Key_Z:
      return mods == Qt::ControlModifier || mods == (Qt::ControlModifier | Qt::ShiftModifier);
    case Qt::Key_Y:
      return mods == Qt::ControlModifier;
    default:
      return false;
  }
}

// The outline (2 px) of the pixels where mask is set.
cv::Mat Outline(const cv::Mat& mask) {
  cv::Mat grad;
  cv::morphologyEx(mask, grad, cv::MORPH_GRADIENT, cv::getStructuringElement(cv::MORPH_RECT, {3, 3}));
  return grad;
}

}  // namespace

void CorrespondencePanelOptions::Check() const {
  Require(autosave_delay_ms >= 0, "correspondence panel: autosave_delay_ms must be >= 0");
}

CorrespondencePanel::CorrespondencePanel(QWidget* parent, const CorrespondencePanelOptions& options)
    : QWidget(parent), options_(options) {
  options_.Check();
  undo_ = new QUndoStack(this);
  autosave_ = new QTimer(this);
  autosave_->setSingleShot(true);
  autosave_->setInterval(options_.autosave_delay_ms);
  connect(autosave_, &QTimer::timeout, this, [this] { SaveNow(); });
  task_ = new gui::BackgroundTask(this);
  connect(task_, &gui::BackgroundTask::progress, this, [this](double, const QString& msg) {
    if (!msg.isEmpty()) SetStatus(msg);
  });
  connect(task_, &gui::BackgroundTask::finished, this, [this](bool ok, bool cancelled, const QString& error) {
    auto done = std::move(task_done_);
    task_done_ = nullptr;
    if (done) done(ok, cancelled, error);
    UpdateLabels();
  });
  setFocusPolicy(Qt::StrongFocus);
  BuildUi();
  clearPair(tr("No pair loaded"));
}

CorrespondencePanel::~CorrespondencePanel() {
  task_->Stop();  // the worker captures this
  options_.modal_errors = false;
  SaveNow();
}

void CorrespondencePanel::BuildUi() {
  // The main window docks panels wide and short: t | t+1 | controls, side by side.
  auto* outer = new QHBoxLayout(this);
  outer->setContentsMargins(4, 4, 4, 4);
  auto* split = new QSplitter(Qt::Horizontal);
  outer->addWidget(split);
  for (int i = 0; i < 2; ++i) {
    auto* box = new QWidget;
    auto* bl = new QVBoxLayout(box);
    bl->setContentsMargins(0, 0, 0, 0);
    bl->setSpacing(1);
    titles_[i] = new QLabel;
    titles_[i]->setTextFormat(Qt::RichText);
    panes_[i] = new gui::ImagePane;
    panes_[i]->setMinimumSize(160, 90);
    panes_[i]->installEventFilter(this);
    bl->addWidget(titles_[i]);
    bl->addWidget(panes_[i], 1);
    split->addWidget(box);
    split->setStretchFactor(i, 3);
    connect(panes_[i], &gui::ImagePane::pixelClicked, this, [this, i](const cv::Point& p) { ClickAt(i, p); });
  }
  auto* controls = new QWidget;
  controls->setMinimumWidth(250);
  auto* root = new QVBoxLayout(controls);
  root->setContentsMargins(4, 0, 0, 0);
  root->setSpacing(4);
  split->addWidget(controls);
  split->setStretchFactor(2, 2);

  // Source row: where the matches to correct come from.
  auto* src_row = new QHBoxLayout;
  source_ = new QComboBox;
  source_->addItem(tr("Ground truth"), QStringLiteral("gt"));
  for (const std::string& n : segments::MatcherNames()) {
    const QString name = QString::fromStdString(n);
    QString label = name;
    if (n == "flow") label = tr("flow (pair's flow)");
    if (n == "ant") label = tr("ant (weights)");
    source_->addItem(label, name);
  }
  source_->setToolTip(tr("Where the matches to correct come from; Run replaces them (your edits stay)"));
  weights_ = new QLineEdit;
  weights_->setPlaceholderText(tr("AnT checkpoint (.pth)"));
  weights_->setVisible(false);
  run_ = new QPushButton(tr("Run"));
  cancel_ = new QPushButton(tr("Cancel"));
  cancel_->setVisible(false);
  src_row->addWidget(new QLabel(tr("Matches:")));
  src_row->addWidget(source_, 1);
  src_row->addWidget(run_);
  src_row->addWidget(cancel_);
  root->addLayout(src_row);
  auto* weights_row = new QHBoxLayout;
  auto* browse = new QToolButton;
  browse->setText(tr("…"));
  browse->setToolTip(tr("Choose the AnT checkpoint"));
  browse->setVisible(false);
  weights_row->addWidget(weights_, 1);
  weights_row->addWidget(browse);
  root->addLayout(weights_row);
  connect(browse, &QToolButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("AnT checkpoint"), weights_->text(),
                                                   tr("Checkpoints (*.pt *.pth *.tar);;All files (*)"));
    if (!f.isEmpty()) weights_->setText(f);
  });
  connect(source_, &QComboBox::currentIndexChanged, this, [this, browse] {
    const bool ant = source_->currentData().toString() == "ant";
    weights_->setVisible(ant);
    browse->setVisible(ant);
  });
  connect(run_, &QPushButton::clicked, this,
          [this] { RunMatcher(source_->currentData().toString(), CurrentMatcherOptions()); });
  connect(cancel_, &QPushButton::clicked, this, &CorrespondencePanel::CancelMatcher);

  info_ = new QLabel;
  info_->setWordWrap(true);
  info_->setTextFormat(Qt::RichText);
  info_->setMinimumHeight(info_->fontMetrics().height() * 3);
  root->addWidget(info_);

  // Review queue, edits, undo/redo.
  auto* queue_row = new QHBoxLayout;
  auto* edit_row = new QHBoxLayout;
  auto button = [this](QHBoxLayout* row, const QString& text, const QString& tip, std::function<void()> fn) {
    auto* b = new QToolButton;
    b->setText(text);
    b->setToolTip(tip);
    connect(b, &QToolButton::clicked, this, fn);
    row->addWidget(b);
    edit_buttons_.push_back(b);
    return b;
  };
  queue_row->addWidget(new QLabel(tr("Review:")));
  button(queue_row, tr("◀"), tr("Previous in the review queue (Shift+N)"), [this] { PrevInQueue(); });
  queue_label_ = new QLabel;
  queue_label_->setMinimumWidth(70);
  queue_label_->setAlignment(Qt::AlignCenter);
  queue_label_->setToolTip(tr("Review queue: every segment of t, least confident match first"));
  queue_row->addWidget(queue_label_);
  button(queue_row, tr("▶"), tr("Next in the review queue (N)"), [this] { NextInQueue(); });
  queue_row->addStretch(1);
  root->addLayout(queue_row);
  button(edit_row, tr("Unmatched"), tr("Mark the selected segment unmatched in t+1 (U or Delete)"),
         [this] { MarkSelectedUnmatched(); });
  button(edit_row, tr("Restore"), tr("Restore the proposed match of the selected segment (R)"),
         [this] { RestoreSelected(); });
  // Plain "Undo" / "Redo" (the stack's own actions put the command text in the button).
  auto* undo = new QAction(tr("Undo"), this);
  auto* redo = new QAction(tr("Redo"), this);
  connect(undo, &QAction::triggered, undo_, &QUndoStack::undo);
  connect(redo, &QAction::triggered, undo_, &QUndoStack::redo);
  connect(undo_, &QUndoStack::canUndoChanged, undo, &QAction::setEnabled);
  connect(undo_, &QUndoStack::canRedoChanged, redo, &QAction::setEnabled);
  connect(undo_, &QUndoStack::undoTextChanged, undo,
          [undo](const QString& t) { undo->setToolTip(tr("Undo %1 (Ctrl+Z)").arg(t)); });
  connect(undo_, &QUndoStack::redoTextChanged, redo,
          [redo](const QString& t) { redo->setToolTip(tr("Redo %1 (Ctrl+Shift+Z)").arg(t)); });
  undo->setEnabled(false);
  redo->setEnabled(false);
  // No QAction shortcuts: keyPressEvent handles Ctrl+Z / Ctrl+Shift+Z while the panel has
  // focus (it claims them, like N and U, over the window's shortcuts).
  for (QAction* a : {undo, redo}) {
    auto* b = new QToolButton;
    b->setDefaultAction(a);
    b->setToolButtonStyle(Qt::ToolButtonTextOnly);
    edit_row->addWidget(b);
  }
  edit_row->addStretch(1);
  root->addLayout(edit_row);

  status_ = new QLabel;
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  root->addWidget(status_);
  root->addStretch(1);
}

bool CorrespondencePanel::event(QEvent* e) {
  if (e->type() == QEvent::ShortcutOverride && IsPanelKey(static_cast<QKeyEvent*>(e))) {
    e->accept();  // deliver as a key press here instead of firing the window's shortcut
    return true;
  }
  return QWidget::event(e);
}

void CorrespondencePanel::keyPressEvent(QKeyEvent* e) {
  if (!IsPanelKey(e)) {
    QWidget::keyPressEvent(e);
    return;
  }
  const bool shift = e->modifiers() & Qt::ShiftModifier;
  switch (e->key()) {
    case Qt::Key_N:
      shift ? PrevInQueue() : NextInQueue();
      break;
    case Qt::Key_U:
    case Qt::Key_Delete:
      MarkSelectedUnmatched();
      break;
    case Qt::Key_R:
      RestoreSelected();
      break;
    case Qt::Key_Z:
      shift ? undo_->redo() : undo_->undo();
      break;
    case Qt::Key_Y:
      undo_->redo();
      break;
  }
  e->accept();
}

bool CorrespondencePanel::eventFilter(QObject* watched, QEvent* e) {
  if (e->type() == QEvent::Resize || e->type() == QEvent::Show)
    for (gui::ImagePane* p : panes_)
      if (watched == p) QTimer::singleShot(0, p, [p] { p->FitToView(); });
  return QWidget::eventFilter(watched, e);
}

void CorrespondencePanel::Render() {
  if (!has_session_) return;
  view::OverlayOptions o;
  o.boundaries = true;
  const int match = session_.MatchOf(selected_);
  for (int f = 0; f < 2; ++f) {
    try {
      cv::Mat img = view::ComposeFrameView(data_, f, o, f == 0 ? selected_ : match);
      const cv::Mat& labels = f == 0 ? data_.segment1 : data_.segment2;
      if (f == 0 && session_.NumEdited() > 0) {
        // Edited segments tinted, so the artist sees what has been done.
        std::vector<uint8_t> edited(static_cast<size_t>(session_.NumSegments0()), 0);
        for (int i = 0; i < session_.NumSegments0(); ++i) edited[i] = session_.IsEdited(i) && i != selected_ ? 255 : 0;
        cv::Mat mask(labels.size(), CV_8UC1);
        for (int y = 0; y < labels.rows; ++y) {
          const int* l = labels.ptr<int>(y);
          uint8_t* m = mask.ptr<uint8_t>(y);
          for (int x = 0; x < labels.cols; ++x) m[x] = l[x] >= 0 && l[x] < static_cast<int>(edited.size()) ? edited[l[x]] : 0;
        }
        view::TintMask(img, mask, kEditedTint, 0.35);
      }
      const int proposed = selected_ >= 0 ? session_.proposal().matches[selected_] : -1;
      if (f == 1 && session_.IsEdited(selected_) && proposed >= 0)
        view::PaintMask(img, Outline(view::SegmentMask(labels, proposed)), kProposalEdge);
      rendered_[f] = gui::ToQImage(img);
      panes_[f]->SetImage(rendered_[f]);
    } catch (const std::exception& e) {
      rendered_[f] = QImage();
      panes_[f]->ClearImage();
      ReportError(QString::fromStdString(e.what()));
    }
  }
}

void CorrespondencePanel::RevealSelection() {
  if (!has_session_ || selected_ < 0) return;
  for (int f = 0; f < 2; ++f) {
    gui::ImagePane* pane = panes_[f];
    const int id = f == 0 ? selected_ : session_.MatchOf(selected_);
    if (id < 0 || !pane->HasImage()) continue;
    const cv::Rect r = cv::boundingRect(view::SegmentMask(f == 0 ? data_.segment1 : data_.segment2, id));
    const QRectF seen = pane->mapToScene(pane->viewport()->rect()).boundingRect();
    if (r.area() > 0 && !seen.contains(QRectF(r.x, r.y, r.width, r.height)))
      pane->centerOn(r.x + r.width / 2.0, r.y + r.height / 2.0);
  }
}

QString CorrespondencePanel::QueueText() const {
  return tr("%1 of %2").arg(queue_pos_ + 1).arg(queue_.size());
}

QString CorrespondencePanel::SelectionText() const {
  if (!has_session_) return QString();
  if (selected_ < 0)
    return tr("Click a segment of t to see its match, or press N to review the least confident first.");
  const int m = session_.MatchOf(selected_);
  QString text = tr("Segment <b>%1</b> → %2 &nbsp;·&nbsp; confidence %3 (%4)")
                     .arg(selected_)
                     .arg(m >= 0 ? tr("<b>%1</b> in t+1").arg(m) : tr("<b>unmatched</b>"))
                     .arg(session_.Confidence(selected_), 0, 'f', 2)
                     .arg(QString::fromStdString(session_.proposal().source).toHtmlEscaped());
  if (session_.IsEdited(selected_)) {
    const int p = session_.proposal().matches[selected_];
    text += tr(" &nbsp;·&nbsp; <span style=\"color:#1a8f3c\">edited</span> (proposed %1)")
                .arg(p >= 0 ? QString::number(p) : tr("unmatched"));
  }
  return text;
}

void CorrespondencePanel::UpdateLabels() {
  const bool busy = task_->IsRunning();
  run_->setEnabled(has_session_ && !busy);
  source_->setEnabled(!busy);
  cancel_->setVisible(busy);
  for (QToolButton* b : edit_buttons_) b->setEnabled(has_session_);
  queue_label_->setText(has_session_ ? QueueText() : QString());
  info_->setText(SelectionText());
  if (has_session_) {
    const int m = session_.MatchOf(selected_);
    titles_[0]->setText(tr("<b>t</b> %1 &nbsp;<span style=\"color:gray\">click: select · %2 edited</span>")
                            .arg(QString::fromStdString(pair_.name1).toHtmlEscaped())
                            .arg(session_.NumEdited()));
    titles_[1]->setText(tr("<b>t+1</b> %1 &nbsp;<span style=\"color:gray\">click: reassign%2</span>")
                            .arg(QString::fromStdString(pair_.name2).toHtmlEscaped())
                            .arg(selected_ >= 0 && m < 0 ? tr(" · selection unmatched") : QString()));
  }
}

QString CorrespondencePanel::Status() const { return status_->text(); }

void CorrespondencePanel::SetStatus(const QString& text) {
  status_->setStyleSheet(QString());
  status_->setText(text);
}

void CorrespondencePanel::ReportError(const QString& text) {
  last_error_ = text;
  status_->setStyleSheet(QStringLiteral("color: #b00020"));
  status_->setText(text);
  if (options_.modal_errors) QMessageBox::warning(this, tr("Correspondences"), text);
}

bool CorrespondencePanel::Busy() const { return task_->IsRunning(); }

bool CorrespondencePanel::AutosavePending() const { return autosave_->isActive(); }

bool CorrespondencePanel::WaitIdle(int timeout_ms) {
  return gui::ProcessEventsWhile([this] { return Busy(); }, timeout_ms);
}

}  // namespace animerun::widgets
