// The flow comparison behind the GUI's Flow panel, Qt-free: one or two networks (slot A,
// and B for a side-by-side comparison) run on the shown pair on a worker thread; each
// prediction is scored against the ground truth as `animerun eval-flow` scores the pair
// (flow_compare.h), with one EPE scale for both so that colours compare; and a blink check
// warps frame t+1 back onto frame t by the ground truth or a prediction (flow_warp.h).
//
// Networks stay loaded between runs, per slot, keyed by model, weights file (path, time
// stamp, size) and iterations, so stepping through pairs does not reload weights. Progress
// counts network steps (iterations for RAFT/GMA, stages for GMFlow and PWC-Net) over both
// slots, B continuing A's count; Cancel, a new pair and destruction stop a network within
// one step (loading a checkpoint is not interruptible). A result that belongs to a pair no
// longer shown is dropped. With auto-run, every new pair is run when it can be.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"
#include "core/data/pair_key.h"
#include "core/flow/flow_compare.h"
#include "core/flow/flow_metrics.h"
#include "core/flow/flow_predictor.h"
#include "core/flow/flow_warp.h"
#include "core/jobs/job_runner.h"
#include "core/util/observers.h"

namespace animerun::flow {

struct FlowControllerOptions {
  int threads = 0;  // LibTorch CPU threads for the networks; 0 = all cores
  void Check() const;
};

// What one slot produced for the current pair.
struct FlowSlotResult {
  std::string model;                   // the network that ran
  cv::Mat flow;                        // CV_32FC2 prediction
  cv::Mat flow_rgb;                    // RGB colour wheel, normalised by the ground truth's max |flow|
  cv::Mat epe, epe_rgb;                // EPE map and its heatmap (empty without ground truth)
  std::optional<FlowMetrics> metrics;  // the pair's metrics (absent without ground truth)
  bool Empty() const { return flow.empty(); }
};

// An intermediate estimate of a running RAFT/GMA slot, for a progressive display: at
// 960x540 on 2 cores the first comes after one iteration (under a second), then at most
// one per FlowController::kPreviewIntervalMs. Kept until the slot's result replaces it or
// the results are cleared (a cancelled run leaves its last preview).
struct FlowSlotPreview {
  std::string model;
  cv::Mat flow_rgb;     // colours as FlowSlotResult::flow_rgb
  int iteration = 0;    // after this many iterations
  int iterations = 0;   // of at most this many
  bool Empty() const { return flow_rgb.empty(); }
};

// Which flow warps frame t+1 back for the blink check.
enum class WarpSource { kGroundTruth = 0, kA = 1, kB = 2 };

class FlowController {
 public:
  static constexpr int kSlots = 2;  // 0 = A, 1 = B
  static constexpr int kPreviewIntervalMs = 400;  // the least time between two previews of a run

  // kChanged: settings, pair, state or results changed. kProgress: Progress() / Status()
  // moved during a run. kPreview: Preview(slot) has a new intermediate flow. kFinished: a
  // run ended (LastRunOk(), LastRunMessage()).
  enum class Event { kChanged, kProgress, kPreview, kFinished };

  explicit FlowController(PostFn post, const FlowControllerOptions& options = {});
  ~FlowController();  // stops a run within one network step
  FlowController(const FlowController&) = delete;
  FlowController& operator=(const FlowController&) = delete;

  int Observe(std::function<void(Event)> fn) { return observers_.Add(std::move(fn)); }
  void Unobserve(int id) { observers_.Remove(id); }

  // Settings of slot 0 (A) and 1 (B). An unknown model is refused (error status).
  bool SetModel(int slot, const std::string& model);
  void SetWeights(int slot, const std::string& path);
  void SetIterations(int slot, int iterations);
  // RAFT/GMA: end the iterations (Iterations() is then the most) once the mean update is
  // below kAutoEarlyStopPx (flow_predictor.h); off by default, as the paper runs 32.
  void SetAutoIterations(int slot, bool on);
  bool AutoIterations(int slot) const { return slots_[slot].auto_iters; }
  void SetCompare(bool on);  // also run B
  void SetAutoRun(bool on);  // run every new pair when possible
  // Where both slots run: "cpu", "cuda" or "cuda:N" (models::ListComputeDevices); a device
  // that cannot be used fails the next run with a message naming it.
  void SetDevice(const std::string& device);
  const std::string& Device() const { return device_; }
  const std::string& Model(int slot) const { return slots_[slot].model; }
  const std::string& Weights(int slot) const { return slots_[slot].weights; }
  // What a run loads: Weights(slot), or the model's built-in weights when that is empty.
  std::string EffectiveWeights(int slot) const;
  int Iterations(int slot) const { return slots_[slot].iters; }
  bool Compare() const { return compare_; }
  bool AutoRun() const { return auto_run_; }
  bool SlotInUse(int slot) const { return slot == 0 || compare_; }
  bool UsesIterations(int slot) const;

  // The pair to work on. The same key again keeps its results (and a run going on it); a
  // new one drops them and cancels a run, and auto-runs when that is on.
  void SetPair(const data::PairKey& key, std::shared_ptr<const data::PairData> pair);
  void ClearPair(const std::string& why = std::string());
  bool HasPair() const { return pair_ != nullptr; }
  const data::PairKey& key() const { return key_; }
  const std::string& Why() const { return why_; }  // why there is no pair
  std::shared_ptr<const data::PairData> pair() const { return pair_; }
  const cv::Mat& GroundTruthColors() const { return gt_rgb_; }  // empty without ground truth
  double GroundTruthMax() const { return gt_max_flow_; }

  // Running.
  std::string HelpText() const;  // how to get the missing weights; "" when every slot in use has weights
  bool CanRun() const;           // a pair and every slot in use has weights (a file or built-in)
  bool Run();                    // false when it could not start (Status() says why)
  void Cancel();
  bool Busy() const { return runner_.Running(); }
  double Progress() const { return progress_; }
  const std::string& Status() const { return status_; }
  bool StatusIsError() const { return status_error_; }
  const std::string& LastError() const { return last_error_; }
  bool LastRunOk() const { return last_run_ok_; }
  const std::string& LastRunMessage() const { return last_run_message_; }
  int NetworksLoaded() const { return networks_loaded_; }  // weights loads so far (cache misses)

  const FlowSlotResult& Result(int slot) const { return results_[slot]; }
  const FlowSlotPreview& Preview(int slot) const { return previews_[slot]; }
  const std::optional<EpeScale>& Scale() const { return scale_; }
  // Bumped whenever the results change (a view converts pictures once per version).
  int ResultsVersion() const { return results_version_; }

  // Blink check: frame t+1 warped back by the source's flow (nullptr when it has none).
  // Computed on first use and kept until the pair or the results change.
  bool CanWarp(WarpSource source) const;
  const WarpResult* Warp(WarpSource source);

 private:
  struct Slot {
    std::string model, weights;
    int iters = 32;
    bool auto_iters = false;
  };
  struct CachedRunner {
    std::shared_ptr<FlowRunner> runner;
    std::string key;
  };
  struct Job;

  std::string RunnerKey(int slot) const;
  void OnRunEnded(const std::shared_ptr<Job>& job, const JobOutcome& outcome, int serial);
  void ClearResults();
  void SetStatus(const std::string& text, bool error = false);
  void Changed() const { observers_.Notify(Event::kChanged); }

  FlowControllerOptions options_;
  JobRunner runner_;
  Observers<Event> observers_;
  std::array<Slot, kSlots> slots_;
  bool compare_ = false, auto_run_ = false;
  std::string device_ = "cpu";
  std::array<CachedRunner, kSlots> cache_;
  int networks_loaded_ = 0;

  data::PairKey key_;
  std::shared_ptr<const data::PairData> pair_;
  std::string why_;
  int pair_serial_ = 0;     // bumped per pair: a run's result for an older pair is dropped
  bool run_after_ = false;  // auto-run once the cancelled run has ended
  cv::Mat gt_rgb_;
  double gt_max_flow_ = 0.0;

  void TakePreview(Job& job);

  std::array<FlowSlotResult, kSlots> results_;
  std::array<FlowSlotPreview, kSlots> previews_;
  int preview_serial_ = 0;  // the last preview taken from the running job
  std::optional<EpeScale> scale_;
  int results_version_ = 0;
  std::array<std::optional<WarpResult>, 3> warps_;
  double progress_ = 0.0;
  std::string status_, last_error_, last_run_message_;
  bool status_error_ = false, last_run_ok_ = false;
};

}  // namespace animerun::flow
