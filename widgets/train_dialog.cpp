#include "widgets/train_dialog.h"

#include <QCloseEvent>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include "core/train/trainer.h"
#include "core/util/error.h"

namespace animerun::widgets {

namespace {

QString DefaultProgram() {
  const QString self = QCoreApplication::applicationFilePath();
  if (QFileInfo(self).fileName() == "animerun") return self;
  const QByteArray env = qgetenv("ANIMERUN_BIN");
  return env.isEmpty() ? QString("animerun") : QString::fromLocal8Bit(env);
}

QCustomPlot* MakePlot(QWidget* parent, const QString& name, const QString& ylabel, int graphs) {
  auto* plot = new QCustomPlot(parent);
  plot->setObjectName(name);
  plot->setMinimumHeight(160);
  plot->xAxis->setLabel("iteration");
  plot->yAxis->setLabel(ylabel);
  const QColor colours[] = {QColor(40, 90, 200), QColor(210, 60, 40)};
  for (int i = 0; i < graphs; ++i) {
    QCPGraph* g = plot->addGraph();
    g->setPen(QPen(colours[i], 1.5));
    if (i == 1) {
      g->setLineStyle(QCPGraph::lsLine);
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 6));
    }
  }
  return plot;
}

void Redraw(QCustomPlot* plot) {
  plot->rescaleAxes();
  plot->yAxis->scaleRange(1.1, plot->yAxis->range().center());
  plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace

TrainDialog::TrainDialog(QWidget* parent, const TrainDialogOptions& options)
    : QDialog(parent), options_(options), program_(DefaultProgram()) {
  setObjectName("train_dialog");
  setWindowTitle(tr("Train"));
  resize(1100, 720);

  preset_ = new QComboBox(this);
  preset_->setObjectName("train_preset");
  for (const auto& n : train::TrainPresetNames()) preset_->addItem(QString::fromStdString(n));
  auto* load_config = new QPushButton(tr("Load config..."), this);
  run_dir_ = new QLineEdit(this);
  run_dir_->setObjectName("train_run_dir");
  run_dir_->setPlaceholderText(tr("run folder (checkpoints, weights, events)"));
  auto* browse = new QPushButton(tr("..."), this);
  form_ = new TrainOptionsForm(this);
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
  l->addLayout(preset_row);
  l->addLayout(dir_row);
  l->addWidget(scroll, 1);
  l->addLayout(buttons);

  auto* right = new QWidget(this);
  auto* r = new QVBoxLayout(right);
  status_ = new QLabel(tr("Idle"), this);
  status_->setObjectName("train_status");
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1);
  progress_->setValue(0);
  loss_plot_ = MakePlot(this, "train_loss_plot", tr("loss"), 1);
  loss_plot_->graph(0)->setName(tr("training loss"));
  acc_plot_ = MakePlot(this, "train_acc_plot", tr("accuracy"), 2);
  acc_plot_->graph(0)->setName(tr("training accuracy"));
  acc_plot_->graph(1)->setName(tr("validation accuracy"));
  acc_plot_->legend->setVisible(true);
  acc_plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
  log_ = new QPlainTextEdit(this);
  log_->setObjectName("train_log");
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(loss_plot_);
  split->addWidget(acc_plot_);
  split->addWidget(log_);
  r->addWidget(status_);
  r->addWidget(progress_);
  r->addWidget(split, 1);

  auto* h = new QHBoxLayout(this);
  auto* main_split = new QSplitter(Qt::Horizontal, this);
  main_split->addWidget(left);
  main_split->addWidget(right);
  main_split->setStretchFactor(1, 2);
  h->addWidget(main_split);

  connect(preset_, &QComboBox::currentTextChanged, this, [this](const QString& name) {
    train::TrainOptions o = train::TrainPreset(name.toStdString());
    try {
      o.data = form_->options().data;  // keep the dataset when switching recipes
    } catch (const Error&) {
    }
    form_->setOptions(o);
  });
  connect(load_config, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Training config"), {}, tr("JSON (*.json)"));
    if (path.isEmpty()) return;
    try {
      form_->setOptions(train::LoadTrainConfig(path.toStdString()));
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
  connect(run_dir_, &QLineEdit::textChanged, this, [this] { UpdateButtons(); });
  UpdateButtons();
}

TrainDialog::~TrainDialog() {
  if (!isRunning()) return;
  disconnect(process_, nullptr, this, nullptr);
  stopTraining();
  if (!process_->waitForFinished(10000)) {
    process_->kill();
    process_->waitForFinished(2000);
  }
}

void TrainDialog::setRunDir(const QString& dir) { run_dir_->setText(dir); }
QString TrainDialog::runDir() const { return run_dir_->text().trimmed(); }
void TrainDialog::setOptions(const train::TrainOptions& options) { form_->setOptions(options); }
train::TrainOptions TrainDialog::options() const { return form_->options(); }
bool TrainDialog::isRunning() const { return process_ && process_->state() != QProcess::NotRunning; }
int TrainDialog::lossPointCount() const { return loss_plot_->graph(0)->dataCount(); }
int TrainDialog::accuracyPointCount() const { return acc_plot_->graph(0)->dataCount(); }
int TrainDialog::validationPointCount() const { return acc_plot_->graph(1)->dataCount(); }
QString TrainDialog::logText() const { return log_->toPlainText(); }

void TrainDialog::Fail(const QString& message) {
  log_->appendPlainText(tr("error: ") + message);
  status_->setText(tr("Error: ") + message);
  if (options_.modal_errors) QMessageBox::warning(this, tr("Training"), message);
}

void TrainDialog::UpdateButtons() {
  const bool running = isRunning();
  const bool has_ckpt = QFileInfo::exists(QDir(runDir()).filePath(train::kCheckpointFile));
  start_->setEnabled(!running);
  resume_->setEnabled(!running && has_ckpt);
  stop_->setEnabled(running);
  form_->setEnabled(!running);
  preset_->setEnabled(!running);
  run_dir_->setEnabled(!running);
}

void TrainDialog::ClearCurves() {
  for (QCustomPlot* p : {loss_plot_, acc_plot_})
    for (int i = 0; i < p->graphCount(); ++i) p->graph(i)->data()->clear();
  last_iter_ = 0;
  Redraw(loss_plot_);
  Redraw(acc_plot_);
}

bool TrainDialog::startTraining() {
  if (isRunning()) return false;
  if (runDir().isEmpty()) {
    Fail(tr("Choose a run folder first."));
    return false;
  }
  train::TrainOptions o;
  try {
    o = form_->options();
    o.Check();
  } catch (const Error& e) {
    Fail(QString::fromStdString(e.what()));
    return false;
  }
  // Every field goes on the command line, so the child runs exactly what the form shows.
  QStringList args = {"train", "--preset", "ant-animerun", "--out", runDir()};
  const nlohmann::json j = o.ToJson();
  for (const auto& [key, value] : j.items())
    args << "--set"
         << QString::fromStdString(key + "=" + (value.is_string() ? value.get<std::string>() : value.dump()));
  ClearCurves();
  return Launch(args, false);
}

bool TrainDialog::resumeTraining() {
  if (isRunning()) return false;
  int iterations = 0;
  try {
    iterations = form_->options().iterations;
  } catch (const Error& e) {
    Fail(QString::fromStdString(e.what()));
    return false;
  }
  ClearCurves();
  ReplayEvents();
  return Launch({"train", "--out", runDir(), "--resume", "--set", QString("iterations=%1").arg(iterations)}, true);
}

void TrainDialog::stopTraining() {
  if (!isRunning()) return;
  QFile stop(QDir(runDir()).filePath(train::kStopFile));
  if (!stop.open(QIODevice::WriteOnly)) {
    process_->terminate();  // SIGTERM is graceful too
  }
  status_->setText(tr("Stopping: finishing the current sample and writing a checkpoint..."));
}

bool TrainDialog::Launch(const QStringList& args, bool resume) {
  if (!process_) {
    process_ = new QProcess(this);
    connect(process_, &QProcess::readyReadStandardOutput, this, &TrainDialog::OnStdout);
    connect(process_, &QProcess::readyReadStandardError, this, &TrainDialog::OnStderr);
    connect(process_, &QProcess::finished, this, &TrainDialog::OnFinished);
    connect(process_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError err) {
      if (err == QProcess::FailedToStart) {
        Fail(tr("Cannot run %1: %2").arg(program_, process_->errorString()));
        UpdateButtons();
      }
    });
  }
  stdout_buffer_.clear();
  last_done_reason_.clear();
  log_->appendPlainText(QString("$ %1 %2").arg(program_, args.join(' ')));
  status_->setText(resume ? tr("Resuming...") : tr("Starting..."));
  process_->start(program_, args);
  UpdateButtons();
  if (!process_->waitForStarted(10000)) {
    UpdateButtons();
    return false;
  }
  UpdateButtons();
  return true;
}

void TrainDialog::OnStdout() {
  stdout_buffer_ += process_->readAllStandardOutput();
  int nl;
  while ((nl = stdout_buffer_.indexOf('\n')) >= 0) {
    const QByteArray line = stdout_buffer_.left(nl).trimmed();
    stdout_buffer_.remove(0, nl + 1);
    if (line.isEmpty()) continue;
    const nlohmann::json e = nlohmann::json::parse(line.toStdString(), nullptr, false);
    if (e.is_discarded() || !e.is_object() || !e.contains("event")) {
      log_->appendPlainText(QString::fromUtf8(line));  // not an event: show it as it is
      continue;
    }
    HandleEvent(e, false);
  }
}

void TrainDialog::OnStderr() {
  const QString text = QString::fromUtf8(process_->readAllStandardError()).trimmed();
  if (!text.isEmpty()) log_->appendPlainText(text);
}

void TrainDialog::ReplayEvents() {
  QFile f(QDir(runDir()).filePath(train::kEventsFile));
  if (!f.open(QIODevice::ReadOnly)) return;
  while (!f.atEnd()) {
    const nlohmann::json e = nlohmann::json::parse(f.readLine().trimmed().toStdString(), nullptr, false);
    if (e.is_object() && e.contains("event")) HandleEvent(e, true);
  }
}

void TrainDialog::HandleEvent(const nlohmann::json& e, bool replay) {
  const std::string type = e.value("event", "");
  const int iter = e.contains("iter") && e["iter"].is_number_integer() ? e["iter"].get<int>() : 0;
  auto number = [&](const nlohmann::json& j, const char* key, double* out) {
    if (!j.contains(key) || !j[key].is_number()) return false;
    *out = j[key].get<double>();
    return true;
  };
  if (type == "start") {
    total_iters_ = e.value("iterations", 0);
    progress_->setRange(0, std::max(1, total_iters_));
    progress_->setValue(iter);
  } else if (type == "step") {
    if (iter <= last_iter_) return;  // a replayed or repeated update (resume after a stop)
    last_iter_ = iter;
    double loss = 0, acc = 0;
    if (number(e, "loss", &loss)) loss_plot_->graph(0)->addData(iter, loss);
    if (number(e, "acc", &acc)) acc_plot_->graph(0)->addData(iter, acc);
    if (!replay) {
      progress_->setValue(std::min(iter, progress_->maximum()));
      status_->setText(tr("Iteration %1 / %2   loss %3   accuracy %4   %5 s per update")
                           .arg(iter).arg(total_iters_).arg(loss, 0, 'f', 4).arg(acc, 0, 'f', 3)
                           .arg(e.value("seconds", 0.0), 0, 'f', 2));
    }
    Redraw(loss_plot_);
    Redraw(acc_plot_);
  } else if (type == "eval") {
    double acc = 0;
    if (e.contains("metrics") && number(e["metrics"], "acc", &acc)) {
      acc_plot_->graph(1)->addData(iter, acc);
      Redraw(acc_plot_);
    }
    if (!replay) log_->appendPlainText(QString("validation at %1: %2").arg(iter).arg(QString::fromStdString(e["metrics"].dump())));
  } else if (type == "checkpoint") {
    if (!replay) log_->appendPlainText(tr("checkpoint at iteration %1").arg(iter));
  } else if (type == "done") {
    if (!replay) last_done_reason_ = QString::fromStdString(e.value("reason", ""));
  } else if (type == "error") {
    if (!replay) Fail(QString::fromStdString(e.value("message", "training failed")));
  }
  if (!replay) emit trainingEvent(QString::fromStdString(type), iter);
}

void TrainDialog::OnFinished(int exit_code, QProcess::ExitStatus status) {
  OnStdout();  // events still buffered
  const bool crashed = status == QProcess::CrashExit || last_done_reason_.isEmpty();
  const bool stopped = last_done_reason_ == "stopped";
  if (crashed)
    log_->appendPlainText(tr("The training process ended without finishing (exit code %1%2). Resume continues "
                             "from the last checkpoint.")
                              .arg(exit_code)
                              .arg(status == QProcess::CrashExit ? tr(", crashed") : QString()));
  status_->setText(crashed ? tr("Ended unexpectedly at iteration %1").arg(last_iter_)
                   : stopped ? tr("Stopped at iteration %1 (checkpoint written; Resume continues)").arg(last_iter_)
                             : tr("Finished: %1 iterations").arg(last_iter_));
  UpdateButtons();
  emit trainingFinished(exit_code, stopped, crashed);
}

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
    stopTraining();
    if (!process_->waitForFinished(30000)) process_->kill();
  }
  QDialog::closeEvent(event);
}

}  // namespace animerun::widgets
