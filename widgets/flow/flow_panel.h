// The Flow panel: a thin view over flow::FlowController (core/flow/flow_controller.h),
// which runs RAFT, RAFT-small, GMA, GMFlow or PWC-Net on the shown pair, one network or
// two side by side, and scores them as `animerun eval-flow` scores the pair. The panel
// shows the prediction beside the ground truth, the EPE heatmaps with their shared scale,
// the metrics table and the blink check (FlowBlinkView); it remembers a weights file per
// model (QSettings) and, without one, explains where the official checkpoints come from
// instead of offering a Run that would fail.
//
// Docked, it follows the session's pair (SetSession); setPair() feeds it directly.
#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

#include <array>
#include <memory>
#include <optional>

#include <opencv2/core.hpp>

#include "core/data/pair_key.h"
#include "core/flow/flow_controller.h"

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
class QTabWidget;
class QToolButton;

namespace animerun::widgets {

class DeviceCombo;
class EpeScaleBar;
class FlowBlinkView;
class FlowImageView;
class SessionModel;

struct FlowPanelOptions {
  bool use_settings = true;  // remember the weights file per model (QSettings "flow_panel/weights/<model>")
  int threads = 0;           // LibTorch CPU threads for the networks; 0 = all cores
  void Check() const;
};

class FlowPanel : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kSlots = flow::FlowController::kSlots;  // 0 = A, 1 = B

  explicit FlowPanel(QWidget* parent = nullptr, const FlowPanelOptions& options = {});
  ~FlowPanel() override;

  // Follows the session's shown pair.
  void SetSession(SessionModel* session);
  flow::FlowController& controller() { return *controller_; }

  // The controls (slot 0 = A, 1 = B). Setting a model recalls its last weights file.
  void SetModel(int slot, const QString& model);
  void SetWeights(int slot, const QString& path);
  void SetIterations(int slot, int iters);  // 0: auto (up to 32 with early stop)
  void SetCompare(bool on);
  void SetAutoRun(bool on);
  QString Model(int slot) const;
  QString Weights(int slot) const;
  int Iterations(int slot) const;
  bool Compare() const;
  DeviceCombo* deviceCombo() const { return device_; }  // the device picker (tests)

  // State, for the main window and tests.
  bool HasPair() const { return controller_->HasPair(); }
  bool CanRun() const { return controller_->CanRun(); }
  bool Busy() const { return controller_->Busy(); }
  bool WaitIdle(int timeout_ms);
  QString Status() const;
  QString LastError() const;
  bool HelpShown() const;
  QString HelpText() const;
  int NetworksLoaded() const { return controller_->NetworksLoaded(); }
  bool HasPrediction(int slot) const { return !controller_->Result(slot).Empty(); }
  cv::Mat Prediction(int slot) const { return controller_->Result(slot).flow; }
  std::optional<flow::FlowMetrics> Metrics(int slot) const { return controller_->Result(slot).metrics; }
  std::optional<flow::EpeScale> Scale() const { return controller_->Scale(); }
  QImage GroundTruthImage() const { return gt_image_; }
  QImage PredictionImage(int slot) const { return flow_images_[slot]; }
  QString PredictionCaption(int slot) const;  // "A: raft, iteration 3/32…" while previewing
  QImage EpeImage(int slot) const { return epe_images_[slot]; }
  QTableWidget* metricsTable() const { return table_; }
  QString MetricCell(const QString& name, int slot) const;
  QProgressBar* progressBar() const { return progress_; }
  FlowBlinkView* blinkView() const { return blink_; }

 public slots:
  void setPair(const animerun::data::PairKey& key, std::shared_ptr<const animerun::data::PairData> pair);
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
  void BuildUi();
  void BuildSlotRow(int slot, QGridLayout* grid, int row);
  void Refresh();      // controls, help, status from the controller
  void ShowPair();     // ground truth and placeholders
  void ShowResults();  // views and table from the controller's results
  void ShowPreview(int slot);  // a running RAFT/GMA slot's intermediate flow, until its result
  void ShowDefaultWeights(int slot);  // the empty field's placeholder: built-in weights or "choose a file"
  void RememberWeights(int slot);
  QString RecallWeights(const QString& model) const;

  FlowPanelOptions options_;
  std::unique_ptr<flow::FlowController> controller_;
  data::PairKey shown_key_;  // the key ShowPair drew
  QImage gt_image_;
  std::array<QImage, kSlots> flow_images_, epe_images_;
  int drawn_version_ = -1;  // the controller's ResultsVersion() that flow_images_ show

  std::array<QComboBox*, kSlots> model_{};
  std::array<QLineEdit*, kSlots> weights_{};
  std::array<QToolButton*, kSlots> browse_{};
  std::array<QSpinBox*, kSlots> iters_{};
  std::array<QLabel*, kSlots> slot_label_{};
  QCheckBox* compare_ = nullptr;
  QCheckBox* auto_run_ = nullptr;
  DeviceCombo* device_ = nullptr;
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
  QTabWidget* tabs_ = nullptr;  // metrics | blink
  FlowBlinkView* blink_ = nullptr;
  QSplitter* split_ = nullptr;  // views | tabs
};

}  // namespace animerun::widgets
