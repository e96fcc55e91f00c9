// The training dialog (Tools > Train...): runs `animerun train` as a child process, so a
// crash or an out-of-memory kill there never takes the GUI down, and follows its JSON-lines
// events: live loss and accuracy curves (QCustomPlot), progress, validation results and a
// log of stderr. Stop is graceful (it creates RUN_DIR/STOP: the trainer checkpoints and
// exits); Resume continues a stopped or crashed run from its checkpoint and redraws the
// earlier curve from RUN_DIR/events.jsonl. The options form is generated from
// train::TrainOptionFields(), the same struct the CLI reads.
#pragma once

#include <QDialog>
#include <QProcess>
#include <QString>
#include <QWidget>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/train/train_options.h"

class QCheckBox;
class QComboBox;
class QCPGraph;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace animerun::widgets {

// A form with one editor per TrainOptions field (line edit, spin box or check box).
class TrainOptionsForm : public QWidget {
  Q_OBJECT

 public:
  explicit TrainOptionsForm(QWidget* parent = nullptr);
  void setOptions(const train::TrainOptions& options);
  // Throws Error naming the field when an editor holds an unparsable value.
  train::TrainOptions options() const;
  QWidget* editor(const std::string& key) const;  // for tests

 private:
  std::map<std::string, QWidget*> editors_;
};

struct TrainDialogOptions {
  bool modal_errors = true;  // also show errors in message boxes (tests turn this off)
  void Check() const {}
};

class TrainDialog : public QDialog {
  Q_OBJECT

 public:
  explicit TrainDialog(QWidget* parent = nullptr, const TrainDialogOptions& options = {});
  ~TrainDialog() override;

  // The animerun executable; defaults to this application when it is animerun, else
  // $ANIMERUN_BIN, else "animerun" on PATH.
  void setProgram(const QString& path) { program_ = path; }
  QString program() const { return program_; }
  void setRunDir(const QString& dir);
  QString runDir() const;
  void setOptions(const train::TrainOptions& options);
  train::TrainOptions options() const;

  bool isRunning() const;
  int lastIteration() const { return last_iter_; }
  int lossPointCount() const;
  int accuracyPointCount() const;      // training accuracy points
  int validationPointCount() const;    // eval points
  QCustomPlot* lossPlot() const { return loss_plot_; }
  QCustomPlot* accuracyPlot() const { return acc_plot_; }
  QString logText() const;

 public slots:
  bool startTraining();   // false (and a message) when the options are invalid or running
  bool resumeTraining();  // continues runDir() with the form's iteration count
  void stopTraining();    // graceful: RUN_DIR/STOP

 signals:
  void trainingEvent(const QString& type, int iteration);
  // exit_code of the process; stopped when its last event was done/stopped; crashed when
  // it died without a done event (crash, kill, OOM).
  void trainingFinished(int exit_code, bool stopped, bool crashed);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  bool Launch(const QStringList& args, bool resume);
  void OnStdout();
  void OnStderr();
  void OnFinished(int exit_code, QProcess::ExitStatus status);
  void HandleEvent(const nlohmann::json& e, bool replay);
  void ReplayEvents();
  void ClearCurves();
  void Fail(const QString& message);
  void UpdateButtons();

  TrainDialogOptions options_;
  QString program_;
  QProcess* process_ = nullptr;
  QByteArray stdout_buffer_;
  int last_iter_ = 0;
  int total_iters_ = 0;
  QString last_done_reason_;

  QComboBox* preset_ = nullptr;
  QLineEdit* run_dir_ = nullptr;
  TrainOptionsForm* form_ = nullptr;
  QPushButton* start_ = nullptr;
  QPushButton* stop_ = nullptr;
  QPushButton* resume_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QCustomPlot* loss_plot_ = nullptr;
  QCustomPlot* acc_plot_ = nullptr;
  QPlainTextEdit* log_ = nullptr;
};

}  // namespace animerun::widgets
