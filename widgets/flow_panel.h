// The flow panel: runs an optical-flow network (RAFT, RAFT-small, GMA, GMFlow, PWC-Net,
// through core's FlowRunner) on the current pair in a worker thread and shows the
// prediction beside the ground truth, an end-point-error heatmap with its scale and the
// pair's metrics (the numbers `animerun eval-flow` gives for the pair). A second model (B)
// can be run on the same pair for a side-by-side comparison with a shared EPE scale.
//
// Loaded networks are cached per slot (model, weights file and its time stamp, iterations)
// so stepping through pairs does not reload weights. The bar counts network iterations
// (RAFT/GMA; stages for GMFlow and PWC-Net) through FlowRunner's JobContext, model B
// continuing A's count; Cancel, a new pair and closing stop the network within one
// iteration (loading a checkpoint is not interruptible).
// Without a weights file the panel explains where the official checkpoints come from and
// how to train one instead of offering a Run that would fail.
//
// Self-contained: the main window docks it and feeds it through setPair()/clearPair().
#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

#include <array>
#include <functional>
#include <memory>
#include <optional>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"
#include "core/flow/flow_compare.h"
#include "core/flow/flow_metrics.h"

class QCheckBox;
class QComboBox;
class QGridLayout;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QSplitter;
class QTableWidget;
class QToolButton;

namespace animerun::flow {
class FlowRunner;
}

namespace animerun::gui {

class BackgroundTask;

struct FlowPanelOptions {
  bool use_settings = true;  // remember the weights file per model (QSettings "flow_panel/weights/<model>")
  int threads = 0;           // LibTorch CPU threads for the networks; 0 = all cores
  void Check() const;
};

// An image scaled to fit (aspect kept) under a one-line caption.
class FlowImageView : public QWidget {
 public:
  explicit FlowImageView(const QString& caption, QWidget* parent = nullptr);
  void SetImage(const QImage& image);
  void SetCaption(const QString& caption);
  // Without an image, a grey box of this size's aspect stands in (empty: the whole area).
  void SetPlaceholderSize(const QSize& size);
  QImage Image() const { return image_; }
  QString Caption() const { return caption_; }
  QSize sizeHint() const override { return {180, 120}; }
  QSize minimumSizeHint() const override { return {80, 60}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QString caption_;
  QImage image_;
  QSize placeholder_;
};

// The EPE colour bar with its tick values (px), 0 at the bottom.
class EpeScaleBar : public QWidget {
 public:
  explicit EpeScaleBar(QWidget* parent = nullptr);
  void SetScale(const std::optional<flow::EpeScale>& scale);
  QSize sizeHint() const override { return {64, 120}; }
  QSize minimumSizeHint() const override { return {56, 60}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  std::optional<flow::EpeScale> scale_;
  QImage bar_;
};

class FlowPanel : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kSlots = 2;  // 0 = model A, 1 = model B (comparison)

  explicit FlowPanel(QWidget* parent = nullptr, const FlowPanelOptions& options = {});
  ~FlowPanel() override;

  // The controls, for the main window and tests (slot 0 = A, 1 = B). Setting a model
  // recalls its last weights file from the settings.
  void SetModel(int slot, const QString& model);
  void SetWeights(int slot, const QString& path);
  void SetIterations(int slot, int iters);
  void SetCompare(bool on);  // also run model B
  void SetAutoRun(bool on);  // run on every new pair when possible
  QString Model(int slot) const;
  QString Weights(int slot) const;
  int Iterations(int slot) const;
  bool Compare() const;

  // State.
  bool HasPair() const { return has_pair_; }
  bool CanRun() const;            // a pair is set and every model in use has a weights file
  bool Busy() const;
  bool WaitIdle(int timeout_ms);  // processes events until no run is going (or timeout)
  QString Status() const;
  QString LastError() const { return last_error_; }
  bool HelpShown() const;         // the missing-weights help is visible
  QString HelpText() const;       // its text (plain), "" when no help is needed
  int NetworksLoaded() const { return networks_loaded_; }  // weights loads so far (cache misses)
  bool HasPrediction(int slot) const { return !results_[slot].flow.empty(); }
  cv::Mat Prediction(int slot) const { return results_[slot].flow; }
  std::optional<flow::FlowMetrics> Metrics(int slot) const { return results_[slot].metrics; }
  std::optional<flow::EpeScale> Scale() const { return scale_; }
  QImage GroundTruthImage() const;
  QImage PredictionImage(int slot) const;
  QImage EpeImage(int slot) const;
  QTableWidget* metricsTable() const { return table_; }
  QString MetricCell(const QString& name, int slot) const;  // the table's text for a metric
  QProgressBar* progressBar() const { return progress_; }

 public slots:
  // The pair to work on (its images, ground-truth flow and masks); title names it.
  void setPair(const data::PairData& pair, const QString& title);
  void clearPair(const QString& why = QString());
  bool run();  // false when it could not start (reason in Status()/LastError())
  void cancel();

 signals:
  // After each run: ok, or the error / "cancelled".
  void runFinished(bool ok, const QString& message);
  // During a run: the fraction of network steps done (both slots together) and the status
  // text ("A (raft): iteration 5/32").
  void runProgress(double fraction, const QString& message);

 protected:
  void resizeEvent(QResizeEvent* event) override;  // views beside the table when wide

 private:
  static constexpr int kProgressSteps = 1000;  // bar resolution (fractions of the run)

  struct SlotResult {
    cv::Mat flow, epe;
    std::optional<flow::FlowMetrics> metrics;
    QString model;
    QImage flow_image, epe_image;
  };
  struct CachedRunner {
    std::shared_ptr<flow::FlowRunner> runner;
    QString key;
  };

  void BuildUi();
  void BuildSlotRow(int slot, QGridLayout* grid, int row);
  void UpdateState();      // enablement, help text, column visibility
  void ShowResults();      // views and table from results_
  void ClearResults();
  void SetStatus(const QString& text, bool error = false);
  QString RunnerKey(int slot) const;
  bool SlotInUse(int slot) const { return slot == 0 || Compare(); }
  void RememberWeights(int slot);
  QString RecallWeights(const QString& model) const;

  FlowPanelOptions options_;
  BackgroundTask* task_ = nullptr;
  std::function<void(bool, bool, const QString&)> done_;
  std::array<CachedRunner, kSlots> cache_;
  int networks_loaded_ = 0;

  bool has_pair_ = false;
  int pair_serial_ = 0;     // bumped per pair: a run's result for an older pair is dropped
  bool run_after_ = false;  // auto-run once the cancelled run has ended
  data::PairData pair_;
  double gt_max_flow_ = 0.0;
  QString title_;
  QImage gt_image_;
  std::array<SlotResult, kSlots> results_;
  std::optional<flow::EpeScale> scale_;
  QString last_error_;
  QString status_;

  std::array<QComboBox*, kSlots> model_{};
  std::array<QLineEdit*, kSlots> weights_{};
  std::array<QToolButton*, kSlots> browse_{};
  std::array<QSpinBox*, kSlots> iters_{};
  std::array<QLabel*, kSlots> slot_label_{};
  QCheckBox* compare_ = nullptr;
  QCheckBox* auto_run_ = nullptr;
  QPushButton* run_button_ = nullptr;
  QPushButton* cancel_button_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_label_ = nullptr;
  QLabel* help_ = nullptr;
  QLabel* pair_label_ = nullptr;
  FlowImageView* gt_view_ = nullptr;
  std::array<FlowImageView*, kSlots> pred_view_{};
  std::array<FlowImageView*, kSlots> epe_view_{};
  EpeScaleBar* scale_bar_ = nullptr;
  QTableWidget* table_ = nullptr;
  QSplitter* split_ = nullptr;  // views | metrics table
};

}  // namespace animerun::gui
