#include "core/flow/flow_controller.h"

#include <chrono>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <vector>

#include "core/flow/flow_models.h"
#include "core/flow/flow_viz.h"
#include "core/util/error.h"

namespace animerun::flow {

namespace fs = std::filesystem;

namespace {

const char* SlotName(int slot) { return slot == 0 ? "A" : "B"; }

// Colours normalised by the pair's shared maximum (the ground truth's max |flow|), or by the
// flow's own maximum where that is 0 (no ground truth).
cv::Mat FlowColors(const cv::Mat& flow, double shared_max_flow) {
  FlowVizOptions v;
  v.max_flow = shared_max_flow > 0 ? shared_max_flow : MaxFlowMagnitude(flow);  // still 0: automatic
  return FlowToColor(flow, v);
}

}  // namespace

void FlowControllerOptions::Check() const { Require(threads >= 0, "flow panel: threads must be >= 0"); }

// Everything a run reads and writes; the worker owns it until the run ends.
struct FlowController::Job {
  std::array<bool, kSlots> use{};
  std::array<FlowRunOptions, kSlots> options;
  std::array<std::string, kSlots> keys;
  std::array<std::shared_ptr<FlowRunner>, kSlots> runners;  // cached, or loaded by the run
  std::array<bool, kSlots> loaded{};
  std::shared_ptr<const data::PairData> pair;
  double max_flow = 0.0;  // colour normalisation shared by ground truth and predictions
  std::array<FlowSlotResult, kSlots> results;
  std::optional<EpeScale> scale;
  // The newest intermediate estimate, written by the worker, taken by the owner thread
  // when the progress report that follows it arrives.
  std::mutex preview_mutex;
  FlowSlotPreview preview;
  int preview_slot = -1;
  int preview_serial = 0;
};

FlowController::FlowController(PostFn post, const FlowControllerOptions& options)
    : options_(options), runner_(std::move(post)) {
  options_.Check();
  // A works out of the box where the binary has built-in weights (raft-small), else RAFT.
  slots_[0].model = BuiltinWeightsRef("raft-small").empty() ? "raft" : "raft-small";
  slots_[1].model = "gma";
  for (Slot& s : slots_) s.iters = DescribeFlowModel(s.model).default_iterations;
}

FlowController::~FlowController() { runner_.Stop(); }

bool FlowController::SetModel(int slot, const std::string& model) {
  if (!models::FindFlowModel(model)) {
    SetStatus("unknown flow model '" + model + "'", true);
    Changed();
    return false;
  }
  slots_[slot].model = model;
  Changed();
  return true;
}

void FlowController::SetWeights(int slot, const std::string& path) {
  slots_[slot].weights = path;
  Changed();
}

void FlowController::SetIterations(int slot, int iterations) {
  slots_[slot].iters = iterations;
  Changed();
}

void FlowController::SetAutoIterations(int slot, bool on) {
  slots_[slot].auto_iters = on;
  Changed();
}

void FlowController::SetCompare(bool on) {
  compare_ = on;
  Changed();
}

void FlowController::SetAutoRun(bool on) { auto_run_ = on; }

void FlowController::SetDevice(const std::string& device) {
  device_ = device;
  Changed();
}

bool FlowController::UsesIterations(int slot) const { return DescribeFlowModel(Model(slot)).iterative; }

std::string FlowController::EffectiveWeights(int slot) const {
  return WeightsOrBuiltin(Model(slot), Weights(slot));
}

std::string FlowController::RunnerKey(int slot) const {
  const Slot& s = slots_[slot];
  const std::string weights = EffectiveWeights(slot);
  // The runner holds the iterations and the early stop (FlowRunOptions).
  const std::string iters = std::to_string(s.iters) + (s.auto_iters ? "|auto" : "") + '|' + device_;
  if (!BuiltinWeightsLabel(weights).empty()) return s.model + '|' + weights + '|' + iters;
  std::error_code ec;
  const fs::path p = fs::absolute(fs::path(weights), ec);
  const auto stamp = fs::last_write_time(p, ec).time_since_epoch().count();
  const auto size = fs::file_size(p, ec);
  // A rewritten weights file (same name, a new training step) is loaded again.
  return s.model + '|' + p.string() + '|' + std::to_string(stamp) + '|' + std::to_string(ec ? 0 : size) + '|' + iters;
}

void FlowController::SetPair(const data::PairKey& key, std::shared_ptr<const data::PairData> pair) {
  if (pair && pair_ && key == key_) return;  // the same pair again: keep its results and a run on it
  if (Busy()) Cancel();  // its result would belong to the previous pair
  ++pair_serial_;
  key_ = key;
  why_.clear();
  pair_ = pair && !pair->image1.empty() && !pair->image2.empty() ? std::move(pair) : nullptr;
  gt_max_flow_ = pair_ ? MaxFlowMagnitude(pair_->flow_forward) : 0.0;
  gt_rgb_ = pair_ && !pair_->flow_forward.empty() ? FlowColors(pair_->flow_forward, gt_max_flow_) : cv::Mat();
  ClearResults();
  SetStatus(pair_ ? std::string() : "No pair");
  Changed();
  if (pair_ && auto_run_ && CanRun()) {
    if (Busy())
      run_after_ = true;  // starts when the cancelled run ends
    else
      Run();
  }
}

void FlowController::ClearPair(const std::string& why) {
  if (Busy()) Cancel();
  ++pair_serial_;
  key_ = data::PairKey();
  pair_.reset();
  why_ = why;
  gt_rgb_ = cv::Mat();
  gt_max_flow_ = 0.0;
  ClearResults();
  Changed();
}

void FlowController::ClearResults() {
  ++results_version_;
  for (auto& r : results_) r = FlowSlotResult();
  for (auto& p : previews_) p = FlowSlotPreview();
  scale_.reset();
  for (auto& w : warps_) w.reset();
}

void FlowController::SetStatus(const std::string& text, bool error) {
  status_ = text;
  status_error_ = error;
  if (error) last_error_ = text;
}

std::string FlowController::HelpText() const {
  std::string help;
  for (int s = 0; s < kSlots; ++s) {
    if (!SlotInUse(s) || WeightsAvailable(EffectiveWeights(s))) continue;
    const FlowModelInfo& info = DescribeFlowModel(Model(s));
    help += Weights(s).empty() ? std::string("Model ") + SlotName(s) + " (" + Model(s) + ") has no weights file.\n"
                               : std::string("Model ") + SlotName(s) + " (" + Model(s) +
                                     "): weights file not found: " + Weights(s) + "\n";
    help += "Official checkpoint: " + info.CheckpointHint() + ". Download it and choose it with the … button.\n";
  }
  if (help.empty()) return help;
  if (!BuiltinWeightsRef("raft-small").empty())
    help += "Or choose raft-small: it has built-in weights (trained by AnimeRun Studio on synthetic frames).\n";
  return help + "Or train one on AnimeRun-layout data with `animerun train` (see `animerun train --help`).";
}

bool FlowController::CanRun() const { return HasPair() && HelpText().empty(); }

bool FlowController::Run() {
  if (Busy()) {
    SetStatus("A run is going; wait for it or cancel it first.", true);
    Changed();
    return false;
  }
  if (!HasPair()) {
    SetStatus("No pair to run on: open a dataset first.", true);
    Changed();
    return false;
  }
  if (!CanRun()) {
    SetStatus("Choose a weights file first (see the help above).", true);
    Changed();
    return false;
  }
  last_error_.clear();
  run_after_ = false;
  auto job = std::make_shared<Job>();
  job->pair = pair_;  // shared, read-only: the worker only reads it
  job->max_flow = gt_max_flow_;
  for (int s = 0; s < kSlots; ++s) {
    job->use[s] = SlotInUse(s);
    if (!job->use[s]) continue;
    FlowRunOptions& o = job->options[s];
    o.model = Model(s);
    o.weights = EffectiveWeights(s);
    o.iters = Iterations(s);
    o.early_stop_px = AutoIterations(s) && UsesIterations(s) ? kAutoEarlyStopPx : 0.0;
    o.threads = options_.threads;
    o.device = device_;
    job->keys[s] = RunnerKey(s);
    if (cache_[s].runner && cache_[s].key == job->keys[s]) job->runners[s] = cache_[s].runner;
  }
  ClearResults();
  preview_serial_ = 0;
  progress_ = 0.0;
  SetStatus("Starting…");
  const int serial = pair_serial_;
  runner_.Start(
      [job](const JobContext& ctx) {
        // Progress counts network steps over both slots: B continues A's count. Loading a
        // network is not counted (its time is unknown; it is one short step).
        int steps = 0, done = 0;
        for (int s = 0; s < kSlots; ++s) steps += job->use[s] ? PredictSteps(job->options[s]) : 0;
        for (int s = 0; s < kSlots; ++s) {
          if (!job->use[s]) continue;
          const FlowRunOptions& o = job->options[s];
          const std::string tag = std::string(SlotName(s)) + " (" + o.model + ")";
          const double begin = static_cast<double>(done) / steps;
          if (!job->runners[s]) {
            ctx.CheckCancel();
            ctx.Report(begin, tag + ": loading " + o.weights);
            job->runners[s] = std::make_shared<FlowRunner>(o);
            job->loaded[s] = true;
          }
          ctx.CheckCancel();
          const int slot_steps = PredictSteps(o);
          ctx.Report(begin, tag + ": computing the flow…");
          // The network reports each step into this slot's share of the bar; a cancel of
          // the run stops it at its next step.
          const SubJob step_job(&ctx, begin, static_cast<double>(done + slot_steps) / steps, tag + ": ");
          FlowSlotResult& r = job->results[s];
          r.model = o.model;
          // Previews: the first iteration's, then one per kPreviewIntervalMs; the step
          // report that follows each delivers it to the owner thread (TakePreview).
          std::chrono::steady_clock::time_point last_preview;
          bool previewed = false;
          const FlowPreviewFn preview = [&](int it, int total, const std::function<cv::Mat()>& flow) {
            const auto now = std::chrono::steady_clock::now();
            if (previewed && now - last_preview < std::chrono::milliseconds(kPreviewIntervalMs)) return;
            const cv::Mat f = flow();
            FlowSlotPreview p{o.model, FlowColors(f, job->max_flow), it, total};
            std::lock_guard<std::mutex> lock(job->preview_mutex);
            job->preview = std::move(p);
            job->preview_slot = s;
            ++job->preview_serial;
            previewed = true;
            last_preview = std::chrono::steady_clock::now();
          };
          r.flow = job->runners[s]->Predict(job->pair->image1, job->pair->image2, &step_job, preview);
          done += slot_steps;
          ctx.CheckCancel();
          r.flow_rgb = FlowColors(r.flow, job->max_flow);
          if (!job->pair->flow_forward.empty()) {
            r.metrics = ScorePairFlow(*job->pair, r.flow, "prediction of " + tag);
            r.epe = EndPointError(r.flow, job->pair->flow_forward);
          }
        }
        std::vector<cv::Mat> epes;
        for (const auto& r : job->results)
          if (!r.epe.empty()) epes.push_back(r.epe);
        if (!epes.empty()) {
          job->scale = ChooseEpeScale(epes);  // one scale, so that A and B compare by colour
          for (auto& r : job->results)
            if (!r.epe.empty()) r.epe_rgb = EpeToColor(r.epe, *job->scale);
        }
        ctx.Report(1.0, "done");
      },
      [this, job, serial](const JobOutcome& outcome) { OnRunEnded(job, outcome, serial); },
      [this, job](double fraction, const std::string& message) {
        progress_ = fraction;
        SetStatus(message);
        observers_.Notify(Event::kProgress);
        TakePreview(*job);
      });
  Changed();
  return true;
}

void FlowController::OnRunEnded(const std::shared_ptr<Job>& job, const JobOutcome& outcome, int serial) {
  // Keep what was loaded, even when the run then failed or was cancelled.
  for (int s = 0; s < kSlots; ++s) {
    if (!job->loaded[s] || !job->runners[s]) continue;
    cache_[s] = {job->runners[s], job->keys[s]};
    ++networks_loaded_;
  }
  progress_ = 0.0;
  if (outcome.cancelled || serial != pair_serial_) {
    SetStatus("Cancelled.");
    last_run_ok_ = false;
    last_run_message_ = "cancelled";
  } else if (!outcome.ok) {
    SetStatus(outcome.error, true);
    last_run_ok_ = false;
    last_run_message_ = outcome.error;
  } else {
    results_ = job->results;
    for (auto& p : previews_) p = FlowSlotPreview();  // the final flows replace them
    scale_ = job->scale;
    ++results_version_;
    for (auto& w : warps_) w.reset();
    SetStatus(job->pair->flow_forward.empty() ? "Done (this pair has no ground truth to score against)." : "Done.");
    last_run_ok_ = true;
    last_run_message_ = status_;
  }
  Changed();
  observers_.Notify(Event::kFinished);
  if (run_after_ && HasPair() && CanRun()) {
    run_after_ = false;
    Run();
  }
}

void FlowController::TakePreview(Job& job) {
  {
    std::lock_guard<std::mutex> lock(job.preview_mutex);
    if (job.preview_serial == preview_serial_ || job.preview_slot < 0) return;
    preview_serial_ = job.preview_serial;
    previews_[job.preview_slot] = job.preview;
  }
  observers_.Notify(Event::kPreview);
}

void FlowController::Cancel() {
  if (!Busy()) return;
  run_after_ = false;
  runner_.Cancel();
  SetStatus("Cancelling after the current step…");
  Changed();
}

bool FlowController::CanWarp(WarpSource source) const {
  if (!pair_) return false;
  if (source == WarpSource::kGroundTruth) return !pair_->flow_forward.empty();
  const int slot = static_cast<int>(source) - 1;
  return SlotInUse(slot) && !results_[slot].Empty();
}

const WarpResult* FlowController::Warp(WarpSource source) {
  if (!CanWarp(source)) return nullptr;
  auto& cached = warps_[static_cast<size_t>(source)];
  if (!cached) {
    const cv::Mat& flow =
        source == WarpSource::kGroundTruth ? pair_->flow_forward : results_[static_cast<int>(source) - 1].flow;
    cached = WarpBack(pair_->image1, pair_->image2, flow, pair_->unmatched_forward);
  }
  return &*cached;
}

}  // namespace animerun::flow
