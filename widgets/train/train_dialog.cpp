#include "widgets/train/train_dialog.h"

#include <QCloseEvent>
#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>
#include <thread>

#include "core/util/error.h"
#include "widgets/common/qt_jobs.h"
#include "widgets/train/mixture_table.h"
#include "widgets/train/train_curves_view.h"
#include "widgets/train/train_options_form.h"

namespace animerun::widgets {

using train::TrainController;

TrainDialog::TrainDialog(QWidget* parent, const TrainDialogOptions& options)
    : QDialog(parent), options_(options), controller_(std::make_unique<TrainController>(QtPost())) {
  setObjectName("train_dialog");
  setWindowTitle(tr("Train"));
  resize(1100, 720);
  BuildUi();
  OnFormChanged("task");
  controller_->Observe([this](TrainController::Event e) { OnEvent(e); });
  UpdateButtons();
}

TrainDialog::~TrainDialog() = default;  // the controller stops a running child gracefully

void TrainDialog::BuildUi() {
  preset_ = new QComboBox(this);
  preset_->setObjectName("train_preset");
  for (const auto& n : train::TrainPresetNames()) preset_->addItem(QString::fromStdString(n));
  // Options that match no preset (a loaded config, edits, a run set up by the main window).
  preset_->addItem(tr("(custom)"));
  preset_->setToolTip(tr("A recipe: choosing one fills the form (the dataset folders are kept)"));
  auto* load_config = new QPushButton(tr("Load config..."), this);
  run_dir_ = new QLineEdit(this);
  run_dir_->setObjectName("train_run_dir");
  run_dir_->setPlaceholderText(tr("run folder (checkpoints, weights, events)"));
  auto* browse = new QPushButton(tr("..."), this);
  form_ = new TrainOptionsForm(this);
  mixture_ = new MixtureTable(this);
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(form_);
  scroll->setWidgetResizable(true);
  start_ = new QPushButton(tr("Start"), this);
  stop_ = new QPushButton(tr("Stop"), this);
  resume_ = new QPushButton(tr("Resume"), this);
  start_->setObjectName("train_start");
  stop_->setObjectName("train_stop");
  resume_->setObjectName("train_resume");
  stop_->setToolTip(tr("Checkpoint and stop (the run can be resumed)"));
  processes_ = new QSpinBox(this);
  processes_->setObjectName("train_processes");
  processes_->setRange(1, std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
  processes_->setPrefix(tr("× "));
  processes_->setToolTip(tr("Processes on this machine (animerun train --nproc N): data-parallel, the same run as\n"
                            "one process with the cores shared out. A flow batch (an AnT update's samples)\n"
                            "needs one sample per process; resume with the same number."));
  open_flow_ = new QPushButton(tr("Open in Flow panel"), this);
  open_flow_->setObjectName("train_open_flow");
  open_flow_->setToolTip(tr("Compare on the current pair: the trained weights as model A,\n"
                            "the weights the run started from as model B"));
  crash_ = new QLabel(this);
  crash_->setObjectName("train_crash");
  crash_->setWordWrap(true);
  crash_->setVisible(false);
  crash_->setStyleSheet("QLabel { background: #fde8e8; color: #8a1010; border: 1px solid #e0a0a0; padding: 6px; }");

  auto* left = new QWidget(this);
  auto* l = new QVBoxLayout(left);
  auto* preset_row = new QHBoxLayout;
  preset_row->addWidget(new QLabel(tr("Preset"), this));
  preset_row->addWidget(preset_, 1);
  preset_row->addWidget(load_config);
  auto* dir_row = new QHBoxLayout;
  dir_row->addWidget(new QLabel(tr("Run folder"), this));
  dir_row->addWidget(run_dir_, 1);
  dir_row->addWidget(browse);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(start_);
  buttons->addWidget(stop_);
  buttons->addWidget(resume_);
  buttons->addWidget(processes_);
  buttons->addWidget(open_flow_);
  l->addLayout(preset_row);
  l->addLayout(dir_row);
  l->addWidget(scroll, 3);
  l->addWidget(mixture_, 1);
  l->addLayout(buttons);

  auto* right = new QWidget(this);
  auto* r = new QVBoxLayout(right);
  status_ = new QLabel(tr("Idle"), this);
  status_->setObjectName("train_status");
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1);
  progress_->setValue(0);
  curves_ = new TrainCurvesView(this);
  log_ = new QPlainTextEdit(this);
  log_->setObjectName("train_log");
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(curves_);
  split->addWidget(log_);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 1);
  r->addWidget(status_);
  r->addWidget(crash_);
  r->addWidget(progress_);
  r->addWidget(split, 1);

  auto* h = new QHBoxLayout(this);
  auto* main_split = new QSplitter(Qt::Horizontal, this);
  main_split->addWidget(left);
  main_split->addWidget(right);
  main_split->setStretchFactor(0, 2);
  main_split->setStretchFactor(1, 3);
  h->addWidget(main_split);

  connect(preset_, &QComboBox::currentTextChanged, this, [this](const QString& name) {
    if (preset_->currentIndex() == preset_->count() - 1) return;  // (custom)
    train::TrainOptions o = train::TrainPreset(name.toStdString());
    try {
      o.data = form_->options().data;  // keep the dataset when switching recipes
    } catch (const Error&) {
    }
    setOptions(o);
  });
  connect(load_config, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Training config"), {}, tr("JSON (*.json)"));
    if (path.isEmpty()) return;
    try {
      setOptions(train::LoadTrainConfig(path.toStdString()));
    } catch (const Error& e) {
      Fail(QString::fromStdString(e.what()));
    }
  });
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Run folder"), run_dir_->text());
    if (!dir.isEmpty()) setRunDir(dir);
  });
  connect(start_, &QPushButton::clicked, this, &TrainDialog::startTraining);
  connect(stop_, &QPushButton::clicked, this, &TrainDialog::stopTraining);
  connect(resume_, &QPushButton::clicked, this, &TrainDialog::resumeTraining);
  connect(open_flow_, &QPushButton::clicked, this, &TrainDialog::openInFlowPanel);
  connect(form_, &TrainOptionsForm::valueChanged, this, &TrainDialog::OnFormChanged);
  connect(mixture_, &MixtureTable::specChanged, this, [this](const QString& spec) {
    if (syncing_) return;
    syncing_ = true;
    form_->setValue("datasets", spec);
    syncing_ = false;
  });
  connect(run_dir_, &QLineEdit::textChanged, this, [this] { UpdateButtons(); });
}

void TrainDialog::OnEvent(TrainController::Event e) {
  switch (e) {
    case TrainController::Event::kState:
      status_->setText(QString::fromStdString(controller_->Status()));
      progress_->setRange(0, std::max(1, controller_->TotalIterations()));
      progress_->setValue(std::min(controller_->LastIteration(), progress_->maximum()));
      UpdateButtons();
      break;
    case TrainController::Event::kLog: log_->appendPlainText(QString::fromStdString(controller_->LastLogLine())); break;
    case TrainController::Event::kCurves: curves_->Show(controller_->curves()); break;
    case TrainController::Event::kEvent:
      emit trainingEvent(QString::fromStdString(controller_->LastEventType()), controller_->LastEventIter());
      break;
    case TrainController::Event::kError:
      if (options_.modal_errors) QMessageBox::warning(this, tr("Training"), QString::fromStdString(controller_->LastError()));
      break;
    case TrainController::Event::kFinished:
      UpdateButtons();
      crash_->setText(QString::fromStdString(controller_->CrashReport()));
      crash_->setVisible(controller_->Crashed());
      emit trainingFinished(controller_->ExitCode(), controller_->Stopped(), controller_->Crashed());
      if (controller_->Crashed()) OfferResume();
      break;
  }
}

void TrainDialog::setProgram(const QString& path) { controller_->SetProgram(path.toStdString()); }
QString TrainDialog::program() const { return QString::fromStdString(controller_->program()); }
void TrainDialog::setRunDir(const QString& dir) { run_dir_->setText(dir); }
QString TrainDialog::runDir() const { return run_dir_->text().trimmed(); }
void TrainDialog::setOptions(const train::TrainOptions& options) {
  syncing_ = true;
  form_->setOptions(options);
  syncing_ = false;
  OnFormChanged("task");
  // Show the preset these options are (up to the folders and start weights), else (custom).
  int match = preset_->count() - 1;
  const auto names = train::TrainPresetNames();
  for (int i = 0; i < static_cast<int>(names.size()); ++i) {
    train::TrainOptions p = train::TrainPreset(names[static_cast<size_t>(i)]);
    p.data = options.data;
    p.things_root = options.things_root;
    p.sintel_root = options.sintel_root;
    p.creative_root = options.creative_root;
    p.pairs_file = options.pairs_file;
    p.init_weights = options.init_weights;
    if (p.ToJson() == options.ToJson()) {
      match = i;
      break;
    }
  }
  const QSignalBlocker block(preset_);
  preset_->setCurrentIndex(match);
}

QString TrainDialog::crashText() const { return crash_->isVisible() ? crash_->text() : QString(); }

void TrainDialog::OnFormChanged(const QString& key) {
  if (syncing_) return;
  // The fields the mixture table reads: its spec and the default folders of its kinds.
  static const QStringList kMixtureKeys = {"task",        "datasets",      "data",       "things_root", "sintel_root",
                                           "creative_root", "pairs_file", "train_split", "pass"};
  if (!kMixtureKeys.contains(key)) return;
  const std::string task = form_->value("task").toStdString();
  form_->showTask(task);
  mixture_->setVisible(task == "flow");
  if (task != "flow") return;
  train::TrainOptions o;
  try {
    o = form_->options();
  } catch (const Error&) {
    return;  // an unparsable number elsewhere: Start reports it
  }
  syncing_ = true;
  mixture_->controller().SetOptions(o);
  syncing_ = false;
}
train::TrainOptions TrainDialog::options() const { return form_->options(); }
QCustomPlot* TrainDialog::lossPlot() const { return curves_->lossPlot(); }
QCustomPlot* TrainDialog::accuracyPlot() const { return curves_->metricPlot(); }
QString TrainDialog::logText() const { return log_->toPlainText(); }

int TrainDialog::lossPointCount() const { return curves_->LossPoints(); }
int TrainDialog::accuracyPointCount() const {
  return static_cast<int>(controller_->curves().Series(train::TrainCurves::kStep, "acc").size());
}
int TrainDialog::validationPointCount() const {
  return static_cast<int>(controller_->curves().Series(train::TrainCurves::kEval, "acc").size());
}

void TrainDialog::Fail(const QString& message) {
  log_->appendPlainText(tr("error: ") + message);
  status_->setText(tr("Error: ") + message);
  if (options_.modal_errors) QMessageBox::warning(this, tr("Training"), message);
}

void TrainDialog::OfferResume() {
  if (!options_.modal_errors || !TrainController::CanResume(runDir().toStdString())) return;
  QMessageBox box(QMessageBox::Warning, tr("Training stopped unexpectedly"),
                  QString::fromStdString(controller_->CrashReport()), QMessageBox::NoButton, this);
  QPushButton* resume = box.addButton(tr("Resume"), QMessageBox::AcceptRole);
  box.addButton(QMessageBox::Close);
  box.exec();
  if (box.clickedButton() == resume) resumeTraining();
}

bool TrainDialog::openInFlowPanel() {
  const TrainController::FlowComparison c = TrainController::ComparisonOf(runDir().toStdString());
  if (!c.ok) {
    Fail(QString::fromStdString(c.error));
    return false;
  }
  emit compareInFlowPanel(QString::fromStdString(c.model), QString::fromStdString(c.trained_weights),
                          QString::fromStdString(c.start_weights));
  return true;
}

void TrainDialog::UpdateButtons() {
  const bool running = isRunning();
  open_flow_->setEnabled(!running && TrainController::ComparisonOf(runDir().toStdString()).ok);
  open_flow_->setVisible(form_->value("task") == "flow");
  start_->setEnabled(!running);
  resume_->setEnabled(!running && TrainController::CanResume(runDir().toStdString()));
  stop_->setEnabled(running);
  form_->setEnabled(!running);
  preset_->setEnabled(!running);
  run_dir_->setEnabled(!running);
  processes_->setEnabled(!running);
}

bool TrainDialog::startTraining() {
  if (isRunning()) return false;
  crash_->setVisible(false);
  train::TrainOptions o;
  try {
    o = form_->options();
  } catch (const Error& e) {
    Fail(QString::fromStdString(e.what()));
    return false;
  }
  return controller_->Start(o, runDir().toStdString(), processes());
}

bool TrainDialog::resumeTraining() {
  if (isRunning()) return false;
  crash_->setVisible(false);
  int iterations = 0;
  try {
    iterations = form_->options().iterations;
  } catch (const Error& e) {
    Fail(QString::fromStdString(e.what()));
    return false;
  }
  return controller_->Resume(runDir().toStdString(), iterations, processes());
}

void TrainDialog::stopTraining() { controller_->Stop(); }

void TrainDialog::setProcesses(int n) { processes_->setValue(n); }
int TrainDialog::processes() const { return processes_->value(); }

void TrainDialog::closeEvent(QCloseEvent* event) {
  if (isRunning()) {
    const auto answer = options_.modal_errors
                            ? QMessageBox::question(this, tr("Training"),
                                                    tr("Training is running. Stop it (with a checkpoint) and close?"))
                            : QMessageBox::Yes;
    if (answer != QMessageBox::Yes) {
      event->ignore();
      return;
    }
    controller_->Stop();
    if (!controller_->WaitExited(30000)) controller_->Kill();
  }
  QDialog::closeEvent(event);
}

}  // namespace animerun::widgets
