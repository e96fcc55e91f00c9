// FlowPanel's work: the pair it is fed, a run of one or two networks on a worker thread
// (networks cached between runs), and the results (views, EPE heatmaps, metrics table).
#include <QCheckBox>
#include <QDateTime>
#include <QFileInfo>
#include <QLabel>
#include <QTableWidget>

#include <cmath>
#include <cstring>

#include "core/flow/flow_compare.h"
#include "core/flow/flow_predictor.h"
#include "core/flow/flow_viz.h"
#include "widgets/background_task.h"
#include "widgets/flow_panel.h"
#include "widgets/qt_image.h"

namespace animerun::gui {

namespace {

const char* SlotName(int slot) { return slot == 0 ? "A" : "B"; }

// Everything a run reads and writes; the worker owns it until the run ends.
struct RunJob {
  std::array<bool, FlowPanel::kSlots> use{};
  std::array<flow::FlowRunOptions, FlowPanel::kSlots> options;
  std::array<std::shared_ptr<flow::FlowRunner>, FlowPanel::kSlots> runners;  // cached or loaded here
  std::array<bool, FlowPanel::kSlots> loaded{};                               // loaded by this run
  data::PairData pair;
  double max_flow = 0.0;  // colour normalisation shared by ground truth and predictions
  std::array<cv::Mat, FlowPanel::kSlots> flow, epe, flow_rgb, epe_rgb;
  std::array<std::optional<flow::FlowMetrics>, FlowPanel::kSlots> metrics;
  std::optional<flow::EpeScale> scale;
};

cv::Mat FlowColors(const cv::Mat& flow, double max_flow) {
  flow::FlowVizOptions v;
  v.max_flow = max_flow;  // 0: the flow's own maximum
  return flow::FlowToColor(flow, v);
}

// Same pixels (the main window re-sends a pair when it is shown again).
bool SameMat(const cv::Mat& a, const cv::Mat& b) {
  if (a.empty() || b.empty()) return a.empty() && b.empty();
  if (a.size() != b.size() || a.type() != b.type()) return false;
  const size_t row = a.cols * a.elemSize();
  for (int y = 0; y < a.rows; ++y)
    if (std::memcmp(a.ptr(y), b.ptr(y), row) != 0) return false;
  return true;
}

// The better of two values is the lower EPE or the higher px fraction.
bool LowerIsBetter(const std::string& name) { return name.rfind("epe", 0) == 0; }

}  // namespace

QString FlowPanel::RunnerKey(int slot) const {
  const QFileInfo f(Weights(slot));
  // A rewritten weights file (same name, new training step) is loaded again.
  return Model(slot) + '|' + f.absoluteFilePath() + '|' + QString::number(f.lastModified().toMSecsSinceEpoch()) + '|' +
         QString::number(f.size()) + '|' + QString::number(Iterations(slot));
}

void FlowPanel::setPair(const data::PairData& pair, const QString& title) {
  if (has_pair_ && title == title_ && SameMat(pair.image1, pair_.image1) && SameMat(pair.image2, pair_.image2) &&
      SameMat(pair.flow_forward, pair_.flow_forward) && SameMat(pair.unmatched_forward, pair_.unmatched_forward) &&
      SameMat(pair.line_area, pair_.line_area))
    return;  // the same pair again: keep its results (and a run going on it)
  if (Busy()) cancel();  // its result would belong to the previous pair
  ++pair_serial_;
  has_pair_ = !pair.image1.empty() && !pair.image2.empty();
  pair_ = pair;
  title_ = title;
  pair_label_->setText(title);
  gt_max_flow_ = flow::MaxFlowMagnitude(pair.flow_forward);
  gt_image_ = pair.flow_forward.empty() ? QImage() : ToQImage(FlowColors(pair.flow_forward, gt_max_flow_));
  gt_view_->SetImage(gt_image_);
  gt_view_->SetCaption(pair.flow_forward.empty()
                           ? tr("Ground truth: none for this pair")
                           : tr("Ground truth (max |flow| %1 px)").arg(gt_max_flow_, 0, 'f', 1));
  gt_view_->SetPlaceholderSize(QSize(pair.image1.cols, pair.image1.rows));
  for (int s = 0; s < kSlots; ++s) {
    pred_view_[s]->SetPlaceholderSize(QSize(pair.image1.cols, pair.image1.rows));
    epe_view_[s]->SetPlaceholderSize(QSize(pair.image1.cols, pair.image1.rows));
  }
  ClearResults();
  SetStatus(has_pair_ ? QString() : tr("No pair"));
  UpdateState();
  if (has_pair_ && auto_run_->isChecked() && CanRun()) {
    if (Busy()) run_after_ = true;  // starts when the cancelled run ends
    else run();
  }
}

void FlowPanel::clearPair(const QString& why) {
  if (Busy()) cancel();
  ++pair_serial_;
  has_pair_ = false;
  pair_ = data::PairData();
  title_.clear();
  pair_label_->setText(why);
  gt_image_ = QImage();
  gt_view_->SetImage(QImage());
  gt_view_->SetCaption(tr("Ground truth"));
  ClearResults();
  UpdateState();
}

void FlowPanel::ClearResults() {
  for (auto& r : results_) r = SlotResult();
  scale_.reset();
  ShowResults();
}

bool FlowPanel::run() {
  if (Busy()) {
    SetStatus(tr("A run is going; wait for it or cancel it first."), true);
    return false;
  }
  if (!has_pair_) {
    SetStatus(tr("No pair to run on: open a dataset first."), true);
    return false;
  }
  if (!CanRun()) {
    UpdateState();
    SetStatus(tr("Choose a weights file first (see the help above)."), true);
    return false;
  }
  last_error_.clear();
  run_after_ = false;
  auto job = std::make_shared<RunJob>();
  job->pair = pair_;  // shallow: the worker only reads, the panel only replaces
  job->max_flow = gt_max_flow_;
  std::array<QString, kSlots> keys;
  for (int s = 0; s < kSlots; ++s) {
    job->use[s] = SlotInUse(s);
    if (!job->use[s]) continue;
    flow::FlowRunOptions& o = job->options[s];
    o.model = Model(s).toStdString();
    o.weights = ToPath(Weights(s)).string();
    o.iters = Iterations(s);
    o.threads = options_.threads;
    keys[s] = RunnerKey(s);
    if (cache_[s].runner && cache_[s].key == keys[s]) job->runners[s] = cache_[s].runner;
  }
  const int serial = pair_serial_;
  done_ = [this, job, keys, serial](bool ok, bool cancelled, const QString& error) {
    // Keep what was loaded, even when the run then failed or was cancelled.
    for (int s = 0; s < kSlots; ++s) {
      if (!job->loaded[s] || !job->runners[s]) continue;
      cache_[s] = {job->runners[s], keys[s]};
      ++networks_loaded_;
    }
    if (cancelled || serial != pair_serial_) {
      SetStatus(tr("Cancelled."));
      emit runFinished(false, QStringLiteral("cancelled"));
    } else if (!ok) {
      SetStatus(error, true);
      emit runFinished(false, error);
    } else {
      for (int s = 0; s < kSlots; ++s) {
        results_[s] = SlotResult();
        if (!job->use[s]) continue;
        results_[s].flow = job->flow[s];
        results_[s].epe = job->epe[s];
        results_[s].metrics = job->metrics[s];
        results_[s].model = QString::fromStdString(job->options[s].model);
        results_[s].flow_image = ToQImage(job->flow_rgb[s]);
        results_[s].epe_image = ToQImage(job->epe_rgb[s]);
      }
      scale_ = job->scale;
      ShowResults();
      const QString done = job->pair.flow_forward.empty()
                               ? tr("Done (this pair has no ground truth to score against).")
                               : tr("Done.");
      SetStatus(done);
      emit runFinished(true, done);
    }
    if (run_after_ && has_pair_ && CanRun()) {
      run_after_ = false;
      run();
    }
  };
  ClearResults();
  SetStatus(tr("Starting…"));
  task_->Start([job](const JobContext& ctx) {
    // The bar counts network steps (iterations, stages) over both slots: B continues A's
    // count. Loading a network is not counted (its time is unknown; it is one short step).
    int steps = 0, done = 0;
    for (int s = 0; s < kSlots; ++s) steps += job->use[s] ? flow::PredictSteps(job->options[s]) : 0;
    for (int s = 0; s < kSlots; ++s) {
      if (!job->use[s]) continue;
      const flow::FlowRunOptions& o = job->options[s];
      const std::string tag = std::string(SlotName(s)) + " (" + o.model + ")";
      if (!job->runners[s]) {
        ctx.CheckCancel();
        ctx.Report(static_cast<double>(done) / steps, tag + ": loading " + o.weights);
        job->runners[s] = std::make_shared<flow::FlowRunner>(o);
        job->loaded[s] = true;
      }
      ctx.CheckCancel();
      const int slot_steps = flow::PredictSteps(o);
      const bool iterative = o.model == "raft" || o.model == "raft-small" || o.model == "gma";
      ctx.Report(static_cast<double>(done) / steps, tag + ": computing the flow…");
      // Each network step lands here: cancelling throws Cancelled out of the network at
      // the next step, so Cancel and closing wait at most one iteration.
      const JobContext step_job([&](double fraction, const std::string&) {
        ctx.CheckCancel();
        const int k = static_cast<int>(std::lround(fraction * slot_steps));
        ctx.Report(static_cast<double>(done + k) / steps,
                   tag + ": " + (iterative ? "iteration " : "step ") + std::to_string(k) + "/" +
                       std::to_string(slot_steps));
      });
      job->flow[s] = job->runners[s]->Predict(job->pair.image1, job->pair.image2, &step_job);
      done += slot_steps;
      ctx.CheckCancel();
      const double norm = job->max_flow > 0 ? job->max_flow : flow::MaxFlowMagnitude(job->flow[s]);
      job->flow_rgb[s] = FlowColors(job->flow[s], norm);
      if (!job->pair.flow_forward.empty()) {
        job->metrics[s] = flow::ScorePairFlow(job->pair, job->flow[s], "prediction of " + tag);
        job->epe[s] = flow::EndPointError(job->flow[s], job->pair.flow_forward);
      }
    }
    std::vector<cv::Mat> epes;
    for (int s = 0; s < kSlots; ++s)
      if (!job->epe[s].empty()) epes.push_back(job->epe[s]);
    if (!epes.empty()) {
      job->scale = flow::ChooseEpeScale(epes);  // one scale, so A and B compare by colour
      for (int s = 0; s < kSlots; ++s)
        if (!job->epe[s].empty()) job->epe_rgb[s] = flow::EpeToColor(job->epe[s], *job->scale);
    }
    ctx.Report(1.0, "done");
  });
  UpdateState();
  return true;
}

void FlowPanel::cancel() {
  if (!Busy()) return;
  run_after_ = false;
  task_->Cancel();
  SetStatus(tr("Cancelling after the current step…"));
}

void FlowPanel::ShowResults() {
  for (int s = 0; s < kSlots; ++s) {
    const SlotResult& r = results_[s];
    const QString name = r.model.isEmpty() ? Model(s) : r.model;
    pred_view_[s]->SetImage(r.flow_image);
    pred_view_[s]->SetCaption(QStringLiteral("%1: %2").arg(SlotName(s), name));
    epe_view_[s]->SetImage(r.epe_image);
    const auto epe = r.metrics ? r.metrics->Get(flow::FlowBucket::kAll) : std::nullopt;
    epe_view_[s]->SetCaption(epe ? tr("EPE %1: %2 px").arg(SlotName(s)).arg(*epe, 0, 'f', 2) : tr("EPE %1").arg(SlotName(s)));
    table_->setHorizontalHeaderItem(s, new QTableWidgetItem(QStringLiteral("%1: %2").arg(SlotName(s), name)));
  }
  scale_bar_->SetScale(scale_);
  const std::vector<flow::MetricRow> none = flow::MetricRows({});
  std::array<std::vector<flow::MetricRow>, kSlots> rows;
  for (int s = 0; s < kSlots; ++s) rows[s] = results_[s].metrics ? flow::MetricRows(*results_[s].metrics) : none;
  const bool both = Compare() && results_[0].metrics && results_[1].metrics;
  for (int i = 0; i < static_cast<int>(none.size()); ++i) {
    for (int s = 0; s < kSlots; ++s) {
      const auto& v = rows[s][i].value;
      auto* item = new QTableWidgetItem(results_[s].metrics ? QString::fromStdString(flow::FormatMetric(v)) : QString());
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      const auto& other = rows[1 - s][i].value;
      if (both && v && other && *v != *other) {
        const bool better = LowerIsBetter(none[i].name) ? *v < *other : *v > *other;
        QFont f = item->font();
        f.setBold(better);
        item->setFont(f);
      }
      table_->setItem(i, s, item);
    }
  }
}

QImage FlowPanel::GroundTruthImage() const { return gt_image_; }
QImage FlowPanel::PredictionImage(int slot) const { return results_[slot].flow_image; }
QImage FlowPanel::EpeImage(int slot) const { return results_[slot].epe_image; }

QString FlowPanel::MetricCell(const QString& name, int slot) const {
  for (int i = 0; i < table_->rowCount(); ++i) {
    const QTableWidgetItem* h = table_->verticalHeaderItem(i);
    if (h && h->text() == name) return table_->item(i, slot) ? table_->item(i, slot)->text() : QString();
  }
  return QString();
}

}  // namespace animerun::gui
