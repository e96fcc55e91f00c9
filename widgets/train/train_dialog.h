// The training dialog (Tools > Train...): a thin view over train::TrainController
// (core/train/train_controller.h), which runs `animerun train` as a child process and
// follows its JSON-lines events. The options form is generated from the TrainOptions
// struct the CLI reads (the task picks which fields show); a flow task adds the dataset
// mixture table (MixtureTable). The curves show every number the run reports
// (TrainCurvesView); Stop is graceful (a checkpoint is written) and Resume continues a
// stopped or crashed run, redrawing the earlier curves; a crash is explained and Resume
// offered. "Open in Flow panel" hands a flow run's exported weights and its start weights
// to the Flow panel for a before/after comparison.
#pragma once

#include <QDialog>
#include <QString>

#include <memory>

#include "core/train/train_controller.h"
#include "core/train/train_options.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace animerun::widgets {

class MixtureTable;
class TrainCurvesView;
class TrainOptionsForm;

struct TrainDialogOptions {
  bool modal_errors = true;  // also show errors in message boxes (tests turn this off)
};

class TrainDialog : public QDialog {
  Q_OBJECT

 public:
  explicit TrainDialog(QWidget* parent = nullptr, const TrainDialogOptions& options = {});
  ~TrainDialog() override;  // a running child is stopped with a checkpoint

  train::TrainController& controller() { return *controller_; }
  // The animerun executable (TrainController::DefaultProgram() unless set).
  void setProgram(const QString& path);
  QString program() const;
  void setRunDir(const QString& dir);
  QString runDir() const;
  void setOptions(const train::TrainOptions& options);
  // Training processes on this machine (--nproc; 1 = one process).
  void setProcesses(int n);
  int processes() const;
  train::TrainOptions options() const;

  bool isRunning() const { return controller_->Running(); }
  int lastIteration() const { return controller_->LastIteration(); }
  int lossPointCount() const;
  int accuracyPointCount() const;    // training accuracy points
  int validationPointCount() const;  // validation accuracy points
  QCustomPlot* lossPlot() const;
  QCustomPlot* accuracyPlot() const;
  TrainCurvesView* curvesView() const { return curves_; }
  MixtureTable* mixtureTable() const { return mixture_; }
  TrainOptionsForm* form() const { return form_; }
  // The crash explanation shown after a crash ("" otherwise).
  QString crashText() const;
  QString logText() const;

 public slots:
  bool startTraining();   // false (and a message) when the options are invalid or running
  bool resumeTraining();  // continues runDir() with the form's iteration count
  void stopTraining();    // graceful: RUN_DIR/STOP
  // Emits openInFlowPanel for runDir(); false (and a message) when it holds no flow weights.
  bool openInFlowPanel();

 signals:
  void trainingEvent(const QString& type, int iteration);
  // exit_code of the process; stopped when its last event was done/stopped; crashed when
  // it died without a done event (crash, kill, OOM).
  void trainingFinished(int exit_code, bool stopped, bool crashed);
  // A flow run's network, exported weights and start weights ("" = random start).
  void compareInFlowPanel(const QString& model, const QString& trained_weights, const QString& start_weights);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void BuildUi();
  void OnEvent(train::TrainController::Event event);
  void Fail(const QString& message);  // a form error, before the controller is asked
  void UpdateButtons();
  void OnFormChanged(const QString& key);
  void OfferResume();

  TrainDialogOptions options_;
  std::unique_ptr<train::TrainController> controller_;
  QComboBox* preset_ = nullptr;
  QLineEdit* run_dir_ = nullptr;
  TrainOptionsForm* form_ = nullptr;
  QPushButton* start_ = nullptr;
  QPushButton* stop_ = nullptr;
  QPushButton* resume_ = nullptr;
  QPushButton* open_flow_ = nullptr;
  QSpinBox* processes_ = nullptr;
  QLabel* crash_ = nullptr;
  MixtureTable* mixture_ = nullptr;
  bool syncing_ = false;  // the form and the mixture table are writing each other
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  TrainCurvesView* curves_ = nullptr;
  QPlainTextEdit* log_ = nullptr;
};

}  // namespace animerun::widgets
