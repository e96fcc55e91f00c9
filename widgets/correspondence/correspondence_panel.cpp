#include "widgets/correspondence/correspondence_panel.h"

#include <QAction>
#include <QComboBox>
#include <QEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QStandardPaths>
#include <QTimer>
#include <QToolButton>
#include <QUndoCommand>
#include <QUndoStack>
#include <QVBoxLayout>

#include "core/flow/flow_models.h"
#include "core/util/error.h"
#include "widgets/common/device_combo.h"
#include "widgets/common/image_pane.h"
#include "widgets/common/qt_image.h"
#include "widgets/common/qt_jobs.h"
#include "widgets/common/session_model.h"

namespace animerun::widgets {

using segments::CorrespondenceController;

// One edit: the match of segment id set to target; undo sets back what it was.
class SetMatchCommand : public QUndoCommand {
 public:
  SetMatchCommand(CorrespondenceController* controller, int id, int before, int after, const QString& text)
      : QUndoCommand(text), controller_(controller), id_(id), before_(before), after_(after) {}
  void redo() override { controller_->Edit(id_, after_); }
  void undo() override { controller_->Edit(id_, before_); }

 private:
  CorrespondenceController* controller_;
  int id_, before_, after_;
};

namespace {

// The keys the panel handles itself, also when the main window has a shortcut on them
// (N is "next pair" there): while the panel has focus they edit the annotation.
bool IsPanelKey(const QKeyEvent* e) {
  const auto mods = e->modifiers() & (Qt::ShiftModifier | Qt::ControlModifier | Qt::AltModifier);
  switch (e->key()) {
    case Qt::Key_N: return mods == Qt::NoModifier || mods == Qt::ShiftModifier;
    case Qt::Key_U:
    case Qt::Key_R:
    case Qt::Key_Delete: return mods == Qt::NoModifier;
    case Qt::Key_Z: return mods == Qt::ControlModifier || mods == (Qt::ControlModifier | Qt::ShiftModifier);
    case Qt::Key_Y: return mods == Qt::ControlModifier;
    default: return false;
  }
}

}  // namespace

void CorrespondencePanelOptions::Check() const {
  Require(autosave_delay_ms >= 0, "correspondence panel: autosave_delay_ms must be >= 0");
}

CorrespondencePanel::CorrespondencePanel(QWidget* parent, const CorrespondencePanelOptions& options)
    : QWidget(parent), options_(options) {
  options_.Check();
  controller_ = std::make_unique<CorrespondenceController>(QtPost());
  const QString fallback = !options_.fallback_dir.isEmpty()
                               ? options_.fallback_dir
                               : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/annotations";
  controller_->SetFallbackDir(ToPath(fallback));
  undo_ = new QUndoStack(this);
  autosave_ = new QTimer(this);
  autosave_->setSingleShot(true);
  autosave_->setInterval(options_.autosave_delay_ms);
  connect(autosave_, &QTimer::timeout, this, [this] { SaveNow(); });
  setFocusPolicy(Qt::StrongFocus);
  BuildUi();
  controller_->Observe([this](CorrespondenceController::Event e) { OnEvent(e); });
  clearPair(tr("No pair loaded"));
}

CorrespondencePanel::~CorrespondencePanel() {
  options_.modal_errors = false;
  SaveNow();
  undo_->clear();  // its commands point at the controller
}

void CorrespondencePanel::SetSession(SessionModel* model) {
  const session::Session& s = model->session();
  connect(model, &SessionModel::pairChanged, this, [this, &s] {
    if (s.pair() && s.frame_pair())
      setPair(ToQString(s.dataset()->root()), *s.frame_pair(), s.pair());
    else
      clearPair(s.dataset() ? tr("No pair loaded") : tr("No dataset open"));
  });
}

void CorrespondencePanel::OnEvent(CorrespondenceController::Event e) {
  using Event = CorrespondenceController::Event;
  switch (e) {
    case Event::kSession:
      undo_->clear();
      autosave_->stop();
      for (int f = 0; f < 2; ++f)
        if (!HasSession()) titles_[f]->setText(f == 0 ? QString::fromStdString(controller_->Message()).toHtmlEscaped() : QString());
      Render();
      UpdateLabels();
      for (ImagePane* p : panes_) p->FitToView();
      break;
    case Event::kMatches:
      Render();
      UpdateLabels();
      if (controller_->Dirty()) autosave_->start();  // restarts: edits in quick succession are saved once
      emit matchesChanged();
      break;
    case Event::kSelection:
      Render();
      UpdateLabels();
      RevealSelection();
      emit selectionChanged(Selected(), session().MatchOf(Selected()));
      break;
    case Event::kStatus:
      status_->setStyleSheet(QString());
      status_->setText(Status());
      break;
    case Event::kError:
      status_->setStyleSheet(QStringLiteral("color: #b00020"));
      if (options_.modal_errors) QMessageBox::warning(this, tr("Correspondences"), LastError());
      break;
    case Event::kSaved: emit saved(ToQString(Files().matches)); break;
    case Event::kJob: UpdateLabels(); break;
    case Event::kMatcherFinished:
      emit matcherFinished(controller_->LastMatcherOk(), QString::fromStdString(controller_->LastMatcherMessage()));
      break;
  }
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
    panes_[i] = new ImagePane;
    panes_[i]->setMinimumSize(160, 90);
    panes_[i]->installEventFilter(this);
    bl->addWidget(titles_[i]);
    bl->addWidget(panes_[i], 1);
    split->addWidget(box);
    split->setStretchFactor(i, 3);
    connect(panes_[i], &ImagePane::pixelClicked, this, [this, i](const cv::Point& p) { ClickAt(i, p); });
  }
  auto* controls = new QWidget;
  controls->setMinimumWidth(250);
  BuildControls(controls);
  split->addWidget(controls);
  split->setStretchFactor(2, 2);
}

void CorrespondencePanel::BuildControls(QWidget* controls) {
  auto* root = new QVBoxLayout(controls);
  root->setContentsMargins(4, 0, 0, 0);
  root->setSpacing(4);
  // Source row: where the matches to correct come from.
  auto* src_row = new QHBoxLayout;
  source_ = new QComboBox;
  source_->addItem(tr("Ground truth"), QStringLiteral("gt"));
  for (const std::string& n : segments::MatcherNames()) {
    const QString name = QString::fromStdString(n);
    source_->addItem(n == "flow" ? tr("flow (pair's flow)") : n == "ant" ? tr("ant (weights)") : name, name);
  }
  // An empty AnT field runs the built-in weights where the binary has them (labelled: they are
  // the project's own, trained on synthetic frames, not the official release).
  const std::string builtin_ant = flow::BuiltinWeightsRef("ant");
  source_->setToolTip(tr("Where the matches to correct come from; Run replaces them (your edits stay)"));
  weights_ = new QLineEdit;
  if (builtin_ant.empty()) {
    weights_->setPlaceholderText(tr("AnT checkpoint (.pth)"));
  } else {
    weights_->setPlaceholderText(tr("built-in AnT weights (AnimeRun Studio, synthetic data; not the official ones)"));
    weights_->setToolTip(QString::fromStdString(flow::BuiltinWeightsLabel(builtin_ant)) +
                         tr(".\nLeave empty to use them, or choose an AnT checkpoint."));
  }
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
  // AnT runs on the chosen device; the other matchers are CPU code.
  device_ = new DeviceCombo;
  device_label_ = new QLabel(tr("Device"));
  device_->setVisible(false);
  device_label_->setVisible(false);
  weights_row->addWidget(weights_, 1);
  weights_row->addWidget(browse);
  root->addLayout(weights_row);
  auto* device_row = new QHBoxLayout;
  device_row->addWidget(device_label_);
  device_row->addWidget(device_, 1);
  root->addLayout(device_row);
  connect(browse, &QToolButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("AnT checkpoint"), weights_->text(),
                                                   tr("Checkpoints (*.pt *.pth *.tar);;All files (*)"));
    if (!f.isEmpty()) weights_->setText(f);
  });
  connect(source_, &QComboBox::currentIndexChanged, this, [this, browse] {
    const bool ant = source_->currentData().toString() == "ant";
    weights_->setVisible(ant);
    browse->setVisible(ant);
    device_->setVisible(ant);
    device_label_->setVisible(ant);
  });
  connect(run_, &QPushButton::clicked, this, [this] {
    segments::MatcherOptions o;
    o.weights = weights_->text().trimmed().toStdString();
    o.device = device_->Device();
    RunMatcher(source_->currentData().toString(), o);
  });
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
  // No shortcuts on them: keyPressEvent takes Ctrl+Z / Ctrl+Shift+Z while the panel has
  // focus, over the window's shortcuts, like N and U.
  auto* undo = new QAction(tr("Undo"), this);
  auto* redo = new QAction(tr("Redo"), this);
  connect(undo, &QAction::triggered, undo_, &QUndoStack::undo);
  connect(redo, &QAction::triggered, undo_, &QUndoStack::redo);
  connect(undo_, &QUndoStack::canUndoChanged, undo, &QAction::setEnabled);
  connect(undo_, &QUndoStack::canRedoChanged, redo, &QAction::setEnabled);
  connect(undo_, &QUndoStack::undoTextChanged, undo, [undo](const QString& t) { undo->setToolTip(tr("Undo %1 (Ctrl+Z)").arg(t)); });
  connect(undo_, &QUndoStack::redoTextChanged, redo,
          [redo](const QString& t) { redo->setToolTip(tr("Redo %1 (Ctrl+Shift+Z)").arg(t)); });
  undo->setEnabled(false);
  redo->setEnabled(false);
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
    case Qt::Key_N: shift ? PrevInQueue() : NextInQueue(); break;
    case Qt::Key_U:
    case Qt::Key_Delete: MarkSelectedUnmatched(); break;
    case Qt::Key_R: RestoreSelected(); break;
    case Qt::Key_Z: shift ? undo_->redo() : undo_->undo(); break;
    case Qt::Key_Y: undo_->redo(); break;
  }
  e->accept();
}

bool CorrespondencePanel::eventFilter(QObject* watched, QEvent* e) {
  if (e->type() == QEvent::Resize || e->type() == QEvent::Show)
    for (ImagePane* p : panes_)
      if (watched == p) QTimer::singleShot(0, p, [p] { p->FitToView(); });
  return QWidget::eventFilter(watched, e);
}

// --- Pair, edits ---------------------------------------------------------------------

void CorrespondencePanel::setPair(const QString& split_root, const data::FramePair& pair,
                                  std::shared_ptr<const data::PairData> data) {
  controller_->SetPair(ToPath(split_root), pair, std::move(data));
}

void CorrespondencePanel::clearPair(const QString& message) { controller_->ClearPair(message.toStdString()); }

void CorrespondencePanel::SelectSegment(int id) { controller_->Select(id); }

void CorrespondencePanel::ClickAt(int frame, cv::Point pixel) {
  if (const auto target = controller_->ClickAt(frame, pixel)) ReassignSelected(*target);
}

bool CorrespondencePanel::PushEdit(int id, int target, const QString& text) {
  int before = 0;
  if (!controller_->PrepareEdit(id, target, &before))  // true when it already has that match
    return HasSession() && id >= 0 && target >= -1 && target < session().NumSegments1();
  undo_->push(new SetMatchCommand(controller_.get(), id, before, target, text));
  return true;
}

bool CorrespondencePanel::ReassignSelected(int target) {
  if (target < 0) return MarkSelectedUnmatched();
  return PushEdit(Selected(), target, tr("Match segment %1 to %2").arg(Selected()).arg(target));
}

bool CorrespondencePanel::MarkSelectedUnmatched() {
  return PushEdit(Selected(), -1, tr("Mark segment %1 unmatched").arg(Selected()));
}

bool CorrespondencePanel::RestoreSelected() {
  if (!HasSession() || Selected() < 0) return PushEdit(-1, -1, QString());
  return PushEdit(Selected(), session().proposal().matches[static_cast<size_t>(Selected())],
                  tr("Restore segment %1").arg(Selected()));
}

bool CorrespondencePanel::SaveNow() {
  autosave_->stop();
  return controller_->Save();
}

void CorrespondencePanel::RunMatcher(const QString& name, const segments::MatcherOptions& options) {
  controller_->RunMatcher(name.toStdString(), options);
}

// --- Drawing ---------------------------------------------------------------------------

void CorrespondencePanel::Render() {
  for (int f = 0; f < 2; ++f) {
    try {
      rendered_[f] = ToQImage(controller_->Render(f));
    } catch (const std::exception& e) {
      rendered_[f] = QImage();
      status_->setStyleSheet(QStringLiteral("color: #b00020"));
      status_->setText(QString::fromStdString(e.what()));
    }
    if (rendered_[f].isNull())
      panes_[f]->ClearImage();
    else
      panes_[f]->SetImage(rendered_[f]);
  }
}

void CorrespondencePanel::RevealSelection() {
  if (!HasSession() || Selected() < 0) return;
  for (int f = 0; f < 2; ++f) {
    ImagePane* pane = panes_[f];
    const int id = f == 0 ? Selected() : session().MatchOf(Selected());
    if (id < 0 || !pane->HasImage()) continue;
    const cv::Rect r = controller_->SegmentBounds(f, id);
    const QRectF seen = pane->mapToScene(pane->viewport()->rect()).boundingRect();
    if (r.area() > 0 && !seen.contains(QRectF(r.x, r.y, r.width, r.height)))
      pane->centerOn(r.x + r.width / 2.0, r.y + r.height / 2.0);
  }
}

QString CorrespondencePanel::QueueText() const { return tr("%1 of %2").arg(QueuePosition() + 1).arg(QueueSize()); }

QString CorrespondencePanel::SelectionText() const {
  if (!HasSession()) return QString();
  const int s = Selected();
  if (s < 0) return tr("Click a segment of t to see its match, or press N to review the least confident first.");
  const int m = session().MatchOf(s);
  QString text = tr("Segment <b>%1</b> → %2 &nbsp;·&nbsp; confidence %3 (%4)")
                     .arg(s)
                     .arg(m >= 0 ? tr("<b>%1</b> in t+1").arg(m) : tr("<b>unmatched</b>"))
                     .arg(session().Confidence(s), 0, 'f', 2)
                     .arg(QString::fromStdString(session().proposal().source).toHtmlEscaped());
  if (session().IsEdited(s)) {
    const int p = session().proposal().matches[static_cast<size_t>(s)];
    text += tr(" &nbsp;·&nbsp; <span style=\"color:#1a8f3c\">edited</span> (proposed %1)")
                .arg(p >= 0 ? QString::number(p) : tr("unmatched"));
  }
  return text;
}

void CorrespondencePanel::UpdateLabels() {
  const bool busy = Busy();
  run_->setEnabled(HasSession() && !busy);
  source_->setEnabled(!busy);
  device_->SetBusy(busy);
  cancel_->setVisible(busy);
  for (QToolButton* b : edit_buttons_) b->setEnabled(HasSession());
  queue_label_->setText(HasSession() ? QueueText() : QString());
  info_->setText(SelectionText());
  if (!HasSession()) return;
  const data::FramePair& pair = controller_->pair();
  const int m = session().MatchOf(Selected());
  titles_[0]->setText(tr("<b>t</b> %1 &nbsp;<span style=\"color:gray\">click: select · %2 edited</span>")
                          .arg(QString::fromStdString(pair.name1).toHtmlEscaped())
                          .arg(session().NumEdited()));
  titles_[1]->setText(tr("<b>t+1</b> %1 &nbsp;<span style=\"color:gray\">click: reassign%2</span>")
                          .arg(QString::fromStdString(pair.name2).toHtmlEscaped())
                          .arg(Selected() >= 0 && m < 0 ? tr(" · selection unmatched") : QString()));
}

QString CorrespondencePanel::Status() const { return QString::fromStdString(controller_->Status()); }
QString CorrespondencePanel::LastError() const { return QString::fromStdString(controller_->LastError()); }
bool CorrespondencePanel::AutosavePending() const { return autosave_->isActive(); }

bool CorrespondencePanel::WaitIdle(int timeout_ms) {
  return ProcessEventsWhile([this] { return Busy(); }, timeout_ms);
}

}  // namespace animerun::widgets
