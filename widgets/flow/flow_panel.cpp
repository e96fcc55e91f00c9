#include "widgets/flow/flow_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QResizeEvent>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>

#include "core/flow/flow_models.h"
#include "core/flow/flow_viz.h"
#include "core/util/error.h"
#include "widgets/common/device_combo.h"
#include "widgets/common/qt_image.h"
#include "widgets/common/qt_jobs.h"
#include "widgets/common/session_model.h"
#include "widgets/flow/epe_scale_bar.h"
#include "widgets/flow/flow_blink_view.h"
#include "widgets/flow/flow_image_view.h"

namespace animerun::widgets {

namespace {

constexpr int kProgressSteps = 1000;  // bar resolution (fractions of the run)

QString SettingsKey(const QString& model) { return QStringLiteral("flow_panel/weights/") + model; }
const char* SlotName(int slot) { return slot == 0 ? "A" : "B"; }

// The better of two values is the lower EPE or the higher px fraction.
bool LowerIsBetter(const std::string& name) { return name.rfind("epe", 0) == 0; }

// Help lines as rich text, `commands` in code style.
QString HelpHtml(const QString& help) {
  QString html;
  for (const QString& line : help.split('\n')) {
    QString l = line.toHtmlEscaped();
    for (int open = l.indexOf('`'); open >= 0; open = l.indexOf('`')) {
      const int close = l.indexOf('`', open + 1);
      if (close < 0) break;
      l = l.left(open) + "<code>" + l.mid(open + 1, close - open - 1) + "</code>" + l.mid(close + 1);
    }
    html += "<p style=\"margin:0 0 3px 0\">" + l + "</p>";
  }
  return html;
}

}  // namespace

void FlowPanelOptions::Check() const { Require(threads >= 0, "flow panel: threads must be >= 0"); }

FlowPanel::FlowPanel(QWidget* parent, const FlowPanelOptions& options) : QWidget(parent), options_(options) {
  options_.Check();
  flow::FlowControllerOptions co;
  co.threads = options_.threads;
  controller_ = std::make_unique<flow::FlowController>(QtPost(), co);
  BuildUi();
  controller_->Observe([this](flow::FlowController::Event e) {
    switch (e) {
      case flow::FlowController::Event::kChanged:
        if (controller_->key() != shown_key_ || !controller_->HasPair()) ShowPair();
        ShowResults();
        Refresh();
        break;
      case flow::FlowController::Event::kProgress:
        progress_->setValue(static_cast<int>(std::lround(controller_->Progress() * kProgressSteps)));
        status_label_->setText(Status());
        status_label_->setVisible(true);
        emit runProgress(controller_->Progress(), Status());
        break;
      case flow::FlowController::Event::kPreview:
        for (int s = 0; s < kSlots; ++s) ShowPreview(s);
        break;
      case flow::FlowController::Event::kFinished:
        emit runFinished(controller_->LastRunOk(), QString::fromStdString(controller_->LastRunMessage()));
        break;
    }
  });
  for (int s = 0; s < kSlots; ++s) SetModel(s, QString::fromStdString(controller_->Model(s)));
  clearPair();
}

FlowPanel::~FlowPanel() = default;  // the controller stops a run within one network step

void FlowPanel::SetSession(SessionModel* session) {
  connect(session, &SessionModel::pairChanged, this, [this, session] {
    const auto& s = session->session();
    if (s.pair())
      setPair(s.key(), s.pair());
    else
      clearPair(s.dataset() ? tr("No pair loaded") : tr("No dataset open"));
  });
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
  device_ = new DeviceCombo;
  row->addWidget(compare_);
  row->addWidget(auto_run_);
  row->addStretch(1);
  row->addWidget(new QLabel(tr("Device")));
  row->addWidget(device_);
  row->addWidget(run_button_);
  row->addWidget(cancel_button_);
  root->addLayout(row);
  connect(compare_, &QCheckBox::toggled, this, [this](bool on) { controller_->SetCompare(on); });
  connect(auto_run_, &QCheckBox::toggled, this, [this](bool on) { controller_->SetAutoRun(on); });
  connect(device_, &DeviceCombo::deviceChanged, this,
          [this](const QString& id) { controller_->SetDevice(id.toStdString()); });
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

  split_ = new QSplitter(Qt::Vertical);
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
  split_->addWidget(views);

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
  blink_ = new FlowBlinkView(controller_.get());
  tabs_ = new QTabWidget;
  tabs_->setDocumentMode(true);
  tabs_->addTab(table_, tr("Metrics"));
  tabs_->addTab(blink_, tr("Blink / warp"));
  tabs_->setTabToolTip(1, tr("Frame t against frame t+1 warped back by a flow, and their photometric error"));
  split_->addWidget(tabs_);
  split_->setStretchFactor(0, 3);
  split_->setStretchFactor(1, 2);
  root->addWidget(split_, 1);
}

void FlowPanel::BuildSlotRow(int slot, QGridLayout* grid, int row) {
  slot_label_[slot] = new QLabel(slot == 0 ? QStringLiteral("<b>A</b>") : QStringLiteral("<b>B</b>"));
  model_[slot] = new QComboBox;
  for (const flow::FlowModelInfo& m : flow::FlowModels()) {
    model_[slot]->addItem(QString::fromStdString(m.name));
    model_[slot]->setItemData(model_[slot]->count() - 1, QString::fromStdString(m.title), Qt::ToolTipRole);
  }
  model_[slot]->setToolTip(tr("Flow network"));
  weights_[slot] = new QLineEdit;
  weights_[slot]->setPlaceholderText(tr("weights file (.pth / .pytorch)"));
  weights_[slot]->setClearButtonEnabled(true);
  browse_[slot] = new QToolButton;
  browse_[slot]->setText(QStringLiteral("…"));
  browse_[slot]->setToolTip(tr("Choose the weights file"));
  iters_[slot] = new QSpinBox;
  // 0 shows as "auto": up to 32 iterations, ending once the flow stops moving.
  iters_[slot]->setRange(0, 1000);
  iters_[slot]->setSpecialValueText(tr("auto"));
  iters_[slot]->setValue(controller_->Iterations(slot));
  iters_[slot]->setToolTip(tr("RAFT/GMA refinement iterations (AnimeRun evaluates with 32); auto (below 1): up to 32, "
                              "ending once the mean update is below %1 px, faster but not the paper's protocol")
                               .arg(flow::kAutoEarlyStopPx));
  grid->addWidget(slot_label_[slot], row, 0);
  grid->addWidget(model_[slot], row, 1);
  grid->addWidget(weights_[slot], row, 2);
  grid->addWidget(browse_[slot], row, 3);
  grid->addWidget(iters_[slot], row, 4);
  connect(model_[slot], &QComboBox::currentTextChanged, this, [this, slot](const QString& model) {
    controller_->SetModel(slot, model.toStdString());
    ShowDefaultWeights(slot);
    weights_[slot]->setText(RecallWeights(model));
  });
  connect(weights_[slot], &QLineEdit::textChanged, this, [this, slot] {
    RememberWeights(slot);
    controller_->SetWeights(slot, Weights(slot).toStdString());
  });
  connect(iters_[slot], qOverload<int>(&QSpinBox::valueChanged), this,
          [this, slot](int v) {
            controller_->SetAutoIterations(slot, v == 0);
            controller_->SetIterations(slot, v == 0 ? 32 : v);
          });
  connect(browse_[slot], &QToolButton::clicked, this, [this, slot] {
    const QString start = Weights(slot).isEmpty() ? QString() : QFileInfo(Weights(slot)).absolutePath();
    const QString f = QFileDialog::getOpenFileName(this, tr("Weights for %1").arg(Model(slot)), start,
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

// --- Controls --------------------------------------------------------------------------

void FlowPanel::SetModel(int slot, const QString& model) {
  const int i = model_[slot]->findText(model);
  if (i < 0) {
    controller_->SetModel(slot, model.toStdString());  // refused: the status says why
    return;
  }
  if (i == model_[slot]->currentIndex()) {  // the combo's signal would not fire
    ShowDefaultWeights(slot);
    weights_[slot]->setText(RecallWeights(model));
  } else {
    model_[slot]->setCurrentIndex(i);
  }
}

void FlowPanel::ShowDefaultWeights(int slot) {
  // An empty field runs the model's built-in weights where the binary has them; say so, and
  // who trained them, so that nobody takes them for the official release.
  const std::string builtin = flow::BuiltinWeightsRef(controller_->Model(slot));
  if (builtin.empty()) {
    weights_[slot]->setPlaceholderText(tr("weights file (.pth / .pytorch)"));
    weights_[slot]->setToolTip(tr("The network's weights: an official checkpoint or one trained with animerun train"));
  } else {
    weights_[slot]->setPlaceholderText(tr("built-in weights (AnimeRun Studio, synthetic data; not the official ones)"));
    weights_[slot]->setToolTip(QString::fromStdString(flow::BuiltinWeightsLabel(builtin)) +
                               tr(".\nLeave empty to use them, or choose a weights file."));
  }
}

void FlowPanel::SetWeights(int slot, const QString& path) { weights_[slot]->setText(path); }
void FlowPanel::SetIterations(int slot, int iters) { iters_[slot]->setValue(iters); }
void FlowPanel::SetCompare(bool on) { compare_->setChecked(on); }
void FlowPanel::SetAutoRun(bool on) { auto_run_->setChecked(on); }
QString FlowPanel::Model(int slot) const { return QString::fromStdString(controller_->Model(slot)); }
QString FlowPanel::Weights(int slot) const { return weights_[slot]->text().trimmed(); }
QString FlowPanel::PredictionCaption(int slot) const { return pred_view_[slot]->Caption(); }

int FlowPanel::Iterations(int slot) const { return controller_->Iterations(slot); }
bool FlowPanel::Compare() const { return controller_->Compare(); }

void FlowPanel::RememberWeights(int slot) {
  if (options_.use_settings) QSettings().setValue(SettingsKey(Model(slot)), Weights(slot));
}

QString FlowPanel::RecallWeights(const QString& model) const {
  return options_.use_settings ? QSettings().value(SettingsKey(model)).toString() : QString();
}

// --- Pair, runs, state -----------------------------------------------------------------

void FlowPanel::setPair(const data::PairKey& key, std::shared_ptr<const data::PairData> pair) {
  controller_->SetPair(key, std::move(pair));
}

void FlowPanel::clearPair(const QString& why) { controller_->ClearPair(why.toStdString()); }
bool FlowPanel::run() { return controller_->Run(); }
void FlowPanel::cancel() { controller_->Cancel(); }

bool FlowPanel::WaitIdle(int timeout_ms) {
  return ProcessEventsWhile([this] { return Busy(); }, timeout_ms);
}

QString FlowPanel::Status() const { return QString::fromStdString(controller_->Status()); }
QString FlowPanel::LastError() const { return QString::fromStdString(controller_->LastError()); }
QString FlowPanel::HelpText() const { return QString::fromStdString(controller_->HelpText()); }
bool FlowPanel::HelpShown() const { return !help_->isHidden(); }

void FlowPanel::Refresh() {
  const bool busy = Busy();
  for (int s = 0; s < kSlots; ++s) {
    const bool in_use = controller_->SlotInUse(s);
    for (QWidget* w : std::initializer_list<QWidget*>{slot_label_[s], model_[s], weights_[s], browse_[s], iters_[s]})
      w->setVisible(in_use);
    model_[s]->setEnabled(!busy);
    weights_[s]->setEnabled(!busy);
    browse_[s]->setEnabled(!busy);
    iters_[s]->setEnabled(!busy && controller_->UsesIterations(s));
    pred_view_[s]->setVisible(in_use);
    epe_view_[s]->setVisible(in_use);
    table_->setColumnHidden(s, !in_use);
  }
  {
    const QSignalBlocker b1(compare_), b2(auto_run_);
    compare_->setChecked(controller_->Compare());
    auto_run_->setChecked(controller_->AutoRun());
  }
  compare_->setEnabled(!busy);
  device_->SetBusy(busy);
  const QString help = HelpText();
  help_->setVisible(!help.isEmpty());
  if (!help.isEmpty()) help_->setText(HelpHtml(help));
  // No Run button that would fail: it appears once every model in use has weights.
  run_button_->setVisible(help.isEmpty());
  run_button_->setEnabled(!busy && CanRun());
  cancel_button_->setVisible(busy);
  progress_->setVisible(busy);
  if (!busy) progress_->setValue(0);
  status_label_->setText(Status());
  status_label_->setVisible(!controller_->Status().empty());
  status_label_->setStyleSheet(controller_->StatusIsError() ? QStringLiteral("color: #b00020;") : QString());
  blink_->Refresh();
}

void FlowPanel::ShowPair() {
  shown_key_ = controller_->key();
  const auto pair = controller_->pair();
  if (!pair) {
    pair_label_->setText(QString::fromStdString(controller_->Why()));
    gt_image_ = QImage();
    gt_view_->SetImage(QImage());
    gt_view_->SetCaption(tr("Ground truth"));
    return;
  }
  pair_label_->setText(QString::fromStdString(controller_->key().Describe()));
  gt_image_ = ToQImage(controller_->GroundTruthColors());
  gt_view_->SetImage(gt_image_);
  gt_view_->SetCaption(pair->flow_forward.empty()
                           ? tr("Ground truth: none for this pair")
                           : tr("Ground truth (max |flow| %1 px)").arg(controller_->GroundTruthMax(), 0, 'f', 1));
  const QSize size(pair->image1.cols, pair->image1.rows);
  gt_view_->SetPlaceholderSize(size);
  for (int s = 0; s < kSlots; ++s) {
    pred_view_[s]->SetPlaceholderSize(size);
    epe_view_[s]->SetPlaceholderSize(size);
  }
}

void FlowPanel::ShowPreview(int slot) {
  // Only while the slot has no result: the final flow always wins.
  const flow::FlowSlotPreview& p = controller_->Preview(slot);
  if (p.Empty() || !controller_->Result(slot).Empty()) return;
  flow_images_[slot] = ToQImage(p.flow_rgb);
  pred_view_[slot]->SetImage(flow_images_[slot]);
  // Short: the view's caption line is as wide as the image.
  pred_view_[slot]->SetCaption((Busy() ? tr("%1: %2, iteration %3/%4…") : tr("%1: %2, stopped at %3/%4"))
                                   .arg(SlotName(slot), QString::fromStdString(p.model))
                                   .arg(p.iteration)
                                   .arg(p.iterations));
}

void FlowPanel::ShowResults() {
  for (int s = 0; s < kSlots; ++s) {
    const flow::FlowSlotResult& r = controller_->Result(s);
    const QString name = QString::fromStdString(r.Empty() ? controller_->Model(s) : r.model);
    if (drawn_version_ != controller_->ResultsVersion()) {  // converted once per result
      flow_images_[s] = ToQImage(r.flow_rgb);
      epe_images_[s] = ToQImage(r.epe_rgb);
    }
    pred_view_[s]->SetImage(flow_images_[s]);
    pred_view_[s]->SetCaption(QStringLiteral("%1: %2").arg(SlotName(s), name));
    ShowPreview(s);
    epe_view_[s]->SetImage(epe_images_[s]);
    const auto epe = r.metrics ? r.metrics->Get(flow::FlowBucket::kAll) : std::nullopt;
    epe_view_[s]->SetCaption(epe ? tr("EPE %1: %2 px").arg(SlotName(s)).arg(*epe, 0, 'f', 2) : tr("EPE %1").arg(SlotName(s)));
    table_->setHorizontalHeaderItem(s, new QTableWidgetItem(QStringLiteral("%1: %2").arg(SlotName(s), name)));
  }
  drawn_version_ = controller_->ResultsVersion();
  scale_bar_->SetScale(controller_->Scale());
  const std::vector<flow::MetricRow> none = flow::MetricRows({});
  std::array<std::vector<flow::MetricRow>, kSlots> rows;
  for (int s = 0; s < kSlots; ++s) {
    const auto& m = controller_->Result(s).metrics;
    rows[s] = m ? flow::MetricRows(*m) : none;
  }
  const bool both = Compare() && controller_->Result(0).metrics && controller_->Result(1).metrics;
  for (int i = 0; i < static_cast<int>(none.size()); ++i) {
    for (int s = 0; s < kSlots; ++s) {
      const auto& v = rows[s][i].value;
      auto* item = new QTableWidgetItem(controller_->Result(s).metrics ? QString::fromStdString(flow::FormatMetric(v))
                                                                       : QString());
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      const auto& other = rows[1 - s][i].value;
      if (both && v && other && *v != *other) {
        QFont f = item->font();
        f.setBold(LowerIsBetter(none[i].name) ? *v < *other : *v > *other);
        item->setFont(f);
      }
      table_->setItem(i, s, item);
    }
  }
}

QString FlowPanel::MetricCell(const QString& name, int slot) const {
  for (int i = 0; i < table_->rowCount(); ++i) {
    const QTableWidgetItem* h = table_->verticalHeaderItem(i);
    if (h && h->text() == name) return table_->item(i, slot) ? table_->item(i, slot)->text() : QString();
  }
  return QString();
}

}  // namespace animerun::widgets
