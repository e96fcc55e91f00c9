#include "widgets/flow_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QResizeEvent>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>

#include "core/flow/flow_predictor.h"
#include "core/flow/flow_viz.h"
#include "core/util/error.h"
#include "widgets/background_task.h"

// LibTorch's headers use `slots` as a name, which Qt defines as a keyword macro.
#pragma push_macro("slots")
#undef slots
#include "models/common/flow_factory.h"
#pragma pop_macro("slots")
#include "widgets/qt_image.h"

namespace animerun::gui {

namespace {

// RAFT and GMA refine iteratively; the others ignore the iteration count.
bool UsesIterations(const QString& model) { return model == "raft" || model == "raft-small" || model == "gma"; }

QString SettingsKey(const QString& model) { return QStringLiteral("flow_panel/weights/") + model; }

}  // namespace

void FlowPanelOptions::Check() const { Require(threads >= 0, "flow panel: threads must be >= 0"); }

FlowPanel::FlowPanel(QWidget* parent, const FlowPanelOptions& options) : QWidget(parent), options_(options) {
  options_.Check();
  task_ = new BackgroundTask(this);
  BuildUi();
  connect(task_, &BackgroundTask::progress, this, [this](double fraction, const QString& message) {
    // Queued from the worker: a report may arrive after the run ended; ignore it then.
    if (!Busy()) return;
    progress_->setValue(static_cast<int>(std::lround(fraction * progress_->maximum())));
    SetStatus(message);
    emit runProgress(fraction, message);
  });
  connect(task_, &BackgroundTask::finished, this, [this](bool ok, bool cancelled, const QString& error) {
    auto done = std::move(done_);
    done_ = nullptr;
    if (done) done(ok, cancelled, error);
    UpdateState();
  });
  for (int s = 0; s < kSlots; ++s) SetModel(s, s == 0 ? QStringLiteral("raft") : QStringLiteral("gma"));
  clearPair();
}

FlowPanel::~FlowPanel() {
  // The worker captures `this` only through queued calls, but holds the runners: join it first.
  task_->Stop();
}

void FlowPanel::BuildUi() {
  auto* root = new QVBoxLayout(this);
  root->setContentsMargins(4, 4, 4, 4);
  root->setSpacing(4);

  auto* grid = new QGridLayout;
  grid->setHorizontalSpacing(4);
  grid->setVerticalSpacing(2);
  for (int s = 0; s < kSlots; ++s) BuildSlotRow(s, grid, s);
  grid->setColumnStretch(2, 1);
  root->addLayout(grid);

  auto* row = new QHBoxLayout;
  compare_ = new QCheckBox(tr("Compare with B"));
  compare_->setToolTip(tr("Also run model B on the pair and show both side by side (shared EPE scale)"));
  auto_run_ = new QCheckBox(tr("Every pair"));
  auto_run_->setToolTip(tr("Run on each pair as it is shown (the loaded networks are kept between pairs)"));
  run_button_ = new QPushButton(tr("Run"));
  run_button_->setToolTip(tr("Compute the flow of the current pair"));
  cancel_button_ = new QPushButton(tr("Cancel"));
  cancel_button_->setToolTip(tr("Stop after the current step (a network pass cannot be interrupted)"));
  row->addWidget(compare_);
  row->addWidget(auto_run_);
  row->addStretch(1);
  row->addWidget(run_button_);
  row->addWidget(cancel_button_);
  root->addLayout(row);
  connect(compare_, &QCheckBox::toggled, this, [this](bool) {
    UpdateState();
    ShowResults();
  });
  connect(run_button_, &QPushButton::clicked, this, [this] { run(); });
  connect(cancel_button_, &QPushButton::clicked, this, [this] { cancel(); });

  progress_ = new QProgressBar;
  progress_->setRange(0, kProgressSteps);  // determinate: network iterations/stages done
  progress_->setMaximumHeight(14);
  progress_->setTextVisible(false);
  progress_->setVisible(false);
  root->addWidget(progress_);
  status_label_ = new QLabel;
  status_label_->setWordWrap(true);
  status_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  root->addWidget(status_label_);
  help_ = new QLabel;
  help_->setWordWrap(true);
  help_->setTextFormat(Qt::RichText);
  help_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  help_->setFrameShape(QFrame::StyledPanel);
  help_->setStyleSheet(QStringLiteral("QLabel { background: #fff8dc; padding: 4px; }"));
  root->addWidget(help_);
  pair_label_ = new QLabel;
  pair_label_->setTextFormat(Qt::PlainText);
  root->addWidget(pair_label_);

  auto* split = split_ = new QSplitter(Qt::Vertical);
  auto* views = new QWidget;
  auto* vg = new QGridLayout(views);
  vg->setContentsMargins(0, 0, 0, 0);
  vg->setSpacing(4);
  gt_view_ = new FlowImageView(tr("Ground truth"));
  vg->addWidget(gt_view_, 0, 0);
  // Under the ground truth: the two legends, the colour wheel and the EPE scale.
  auto* legends = new QWidget;
  auto* lh = new QHBoxLayout(legends);
  lh->setContentsMargins(0, 0, 0, 0);
  auto* wheel = new FlowImageView(tr("Flow colours"));
  wheel->SetImage(ToQImage(flow::ColorWheelLegend(96)));
  wheel->setToolTip(tr("Direction is hue, speed is saturation; predictions use the ground truth's maximum"));
  scale_bar_ = new EpeScaleBar;
  lh->addWidget(wheel, 1);
  lh->addWidget(scale_bar_);
  vg->addWidget(legends, 1, 0);
  for (int s = 0; s < kSlots; ++s) {
    pred_view_[s] = new FlowImageView(s == 0 ? tr("A") : tr("B"));
    epe_view_[s] = new FlowImageView(s == 0 ? tr("EPE A") : tr("EPE B"));
    vg->addWidget(pred_view_[s], 0, 1 + s);
    vg->addWidget(epe_view_[s], 1, 1 + s);
  }
  for (int c = 0; c < 3; ++c) vg->setColumnStretch(c, 1);
  split->addWidget(views);

  table_ = new QTableWidget(static_cast<int>(flow::MetricRows({}).size()), kSlots);
  QStringList names;
  for (const auto& r : flow::MetricRows({})) names << QString::fromStdString(r.name);
  table_->setVerticalHeaderLabels(names);
  table_->setHorizontalHeaderLabels({tr("A"), tr("B")});
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionMode(QAbstractItemView::NoSelection);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 4);
  table_->setToolTip(tr("The pair's metrics, as `animerun eval-flow` computes them (official AnimeRun definitions): "
                        "mean EPE per bucket and the fraction of pixels with EPE < 1/3/5 px"));
  split->addWidget(table_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  root->addWidget(split, 1);
}

void FlowPanel::BuildSlotRow(int slot, QGridLayout* grid, int row) {
  slot_label_[slot] = new QLabel(slot == 0 ? QStringLiteral("<b>A</b>") : QStringLiteral("<b>B</b>"));
  model_[slot] = new QComboBox;
  for (const std::string& n : models::FlowModelNames()) model_[slot]->addItem(QString::fromStdString(n));
  model_[slot]->setToolTip(tr("Flow network"));
  weights_[slot] = new QLineEdit;
  weights_[slot]->setPlaceholderText(tr("weights file (.pth / .pytorch)"));
  weights_[slot]->setClearButtonEnabled(true);
  browse_[slot] = new QToolButton;
  browse_[slot]->setText(QStringLiteral("…"));
  browse_[slot]->setToolTip(tr("Choose the weights file"));
  iters_[slot] = new QSpinBox;
  iters_[slot]->setRange(1, 1000);
  iters_[slot]->setValue(32);
  iters_[slot]->setToolTip(tr("RAFT/GMA refinement iterations (AnimeRun evaluates with 32)"));
  grid->addWidget(slot_label_[slot], row, 0);
  grid->addWidget(model_[slot], row, 1);
  grid->addWidget(weights_[slot], row, 2);
  grid->addWidget(browse_[slot], row, 3);
  grid->addWidget(iters_[slot], row, 4);
  connect(model_[slot], &QComboBox::currentTextChanged, this, [this, slot](const QString& model) {
    weights_[slot]->setText(RecallWeights(model));
    UpdateState();
  });
  connect(weights_[slot], &QLineEdit::textChanged, this, [this, slot] {
    RememberWeights(slot);
    UpdateState();
  });
  connect(iters_[slot], qOverload<int>(&QSpinBox::valueChanged), this, [this] { UpdateState(); });
  connect(browse_[slot], &QToolButton::clicked, this, [this, slot] {
    const QString start = Weights(slot).isEmpty() ? QString() : QFileInfo(Weights(slot)).absolutePath();
    const QString f = QFileDialog::getOpenFileName(
        this, tr("Weights for %1").arg(Model(slot)), start,
        tr("Checkpoints (*.pth *.pt *.pytorch *.tar *.ckpt);;All files (*)"));
    if (!f.isEmpty()) SetWeights(slot, f);
  });
}

void FlowPanel::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  // A wide, low dock (the bottom area) has room for the table beside the views.
  const Qt::Orientation o = width() > 2 * height() && width() > 800 ? Qt::Horizontal : Qt::Vertical;
  if (split_->orientation() != o) split_->setOrientation(o);
}

// --- Controls ------------------------------------------------------------------------

void FlowPanel::SetModel(int slot, const QString& model) {
  const int i = model_[slot]->findText(model);
  if (i < 0) {
    SetStatus(tr("unknown flow model '%1'").arg(model), true);
    return;
  }
  if (i == model_[slot]->currentIndex()) {
    weights_[slot]->setText(RecallWeights(model));  // the signal would not fire
    UpdateState();
  } else {
    model_[slot]->setCurrentIndex(i);
  }
}

void FlowPanel::SetWeights(int slot, const QString& path) { weights_[slot]->setText(path); }
void FlowPanel::SetIterations(int slot, int iters) { iters_[slot]->setValue(iters); }
void FlowPanel::SetCompare(bool on) { compare_->setChecked(on); }
void FlowPanel::SetAutoRun(bool on) { auto_run_->setChecked(on); }
QString FlowPanel::Model(int slot) const { return model_[slot]->currentText(); }
QString FlowPanel::Weights(int slot) const { return weights_[slot]->text().trimmed(); }
int FlowPanel::Iterations(int slot) const { return iters_[slot]->value(); }
bool FlowPanel::Compare() const { return compare_->isChecked(); }

void FlowPanel::RememberWeights(int slot) {
  if (!options_.use_settings) return;
  QSettings().setValue(SettingsKey(Model(slot)), Weights(slot));
}

QString FlowPanel::RecallWeights(const QString& model) const {
  if (!options_.use_settings) return QString();
  return QSettings().value(SettingsKey(model)).toString();
}

// --- State -----------------------------------------------------------------------------

bool FlowPanel::Busy() const { return task_->IsRunning(); }

bool FlowPanel::WaitIdle(int timeout_ms) {
  return ProcessEventsWhile([this] { return Busy(); }, timeout_ms);
}

QString FlowPanel::Status() const { return status_; }

void FlowPanel::SetStatus(const QString& text, bool error) {
  status_ = text;
  status_label_->setText(text);
  status_label_->setVisible(!text.isEmpty());
  status_label_->setStyleSheet(error ? QStringLiteral("color: #b00020;") : QString());
  if (error) last_error_ = text;
}

QString FlowPanel::HelpText() const {
  QStringList parts;
  for (int s = 0; s < kSlots; ++s) {
    if (!SlotInUse(s)) continue;
    const QString w = Weights(s);
    if (!w.isEmpty() && QFileInfo(w).isFile()) continue;
    const QString hint = QString::fromStdString(models::OfficialCheckpointHint(Model(s).toStdString()));
    parts << (w.isEmpty() ? tr("Model %1 (%2) has no weights file.").arg(s == 0 ? "A" : "B", Model(s))
                          : tr("Model %1 (%2): weights file not found: %3").arg(s == 0 ? "A" : "B", Model(s), w));
    parts << tr("Official checkpoint: %1. Download it and choose it with the … button.").arg(hint);
  }
  if (parts.isEmpty()) return QString();
  parts << tr("Or train one on AnimeRun-layout data with `animerun train` (see `animerun train --help`).");
  return parts.join('\n');
}

bool FlowPanel::HelpShown() const { return !help_->isHidden(); }

bool FlowPanel::CanRun() const { return has_pair_ && !pair_.image1.empty() && HelpText().isEmpty(); }

void FlowPanel::UpdateState() {
  const bool busy = Busy();
  for (int s = 0; s < kSlots; ++s) {
    const bool in_use = SlotInUse(s);
    for (QWidget* w : std::initializer_list<QWidget*>{slot_label_[s], model_[s], weights_[s], browse_[s], iters_[s]})
      w->setVisible(in_use);
    model_[s]->setEnabled(!busy);
    weights_[s]->setEnabled(!busy);
    browse_[s]->setEnabled(!busy);
    iters_[s]->setEnabled(!busy && UsesIterations(Model(s)));
    pred_view_[s]->setVisible(in_use);
    epe_view_[s]->setVisible(in_use);
    table_->setColumnHidden(s, !in_use);
  }
  compare_->setEnabled(!busy);
  const QString help = HelpText();
  if (help.isEmpty()) {
    help_->hide();
  } else {
    QString html;
    for (const QString& line : help.split('\n')) {
      QString l = line.toHtmlEscaped();
      // `commands` in code style.
      for (int open = l.indexOf('`'); open >= 0; open = l.indexOf('`')) {
        const int close = l.indexOf('`', open + 1);
        if (close < 0) break;
        l = l.left(open) + "<code>" + l.mid(open + 1, close - open - 1) + "</code>" + l.mid(close + 1);
      }
      html += "<p style=\"margin:0 0 3px 0\">" + l + "</p>";
    }
    help_->setText(html);
    help_->show();
  }
  // No Run button that would fail: it appears once every model in use has weights.
  run_button_->setVisible(help.isEmpty());
  run_button_->setEnabled(!busy && CanRun());
  cancel_button_->setVisible(busy);
  progress_->setVisible(busy);
  if (!busy) progress_->setValue(0);
}

}  // namespace animerun::gui
