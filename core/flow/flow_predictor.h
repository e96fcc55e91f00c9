// Running a flow network on RGB frames: the one entry point the CLI (`animerun flow`,
// `eval-flow --model`, `bench flow`) and the GUI's flow panel share.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

namespace animerun {
class JobContext;
}

namespace animerun::flow {

// The threshold `--iters auto` and the GUI's "auto" iterations use (docs/benchmarks.md:
// the time it saves and the EPE it costs against 32 iterations).
inline constexpr double kAutoEarlyStopPx = 0.02;

// An intermediate estimate of a RAFT/GMA run, after iteration `done` of `total`: flow()
// computes it (CV_32FC2 at the frames' size) only when called, as models::FlowPreviewFn.
using FlowPreviewFn = std::function<void(int done, int total, const std::function<cv::Mat()>& flow)>;

struct FlowRunOptions {
  std::string model = "raft";       // raft, raft-small, gma, gmflow, gmflow-refine, pwcnet
  std::string weights;              // official checkpoint file (required to get meaningful flow)
  int iters = 32;                   // RAFT/GMA iterations (AnimeRun evaluates with 32); the most with early_stop_px
  double early_stop_px = 0;         // RAFT/GMA: stop once the mean update is below this many pixels; 0 = off
                                    // (`--iters auto` sets kAutoEarlyStopPx; docs/benchmarks.md)
  std::string padding = "sintel";   // RAFT/GMA InputPadder mode: sintel (centred) or kitti (bottom)
  std::string device = "cpu";       // cpu, cuda, cuda:N
  std::string precision = "fp32";   // fp32, bf16 (convolutions/matmuls in bf16, correlation and flow in fp32;
                                    // faster on CPUs with AVX-512 BF16; EPE change in docs/benchmarks.md),
                                    // or fp16 (the same in fp16; CUDA only)
  int threads = 0;                  // LibTorch CPU threads; 0 = all cores
  std::string corr = "auto";        // RAFT/GMA correlation: all-pairs, on-demand (RAFT's memory-efficient
                                    // variant), or auto (on demand above a 2 GiB volume; models::CorrMode)
  bool allow_random_weights = false;  // run without --weights (benchmarks only)
  void Check() const;
};

// How many progress steps one Predict reports for these options, as the network describes
// itself (core/flow/flow_models.h): iters for RAFT/GMA, 8 (gmflow), 15 (gmflow-refine),
// 7 (pwcnet). Lets a caller size a bar before loading.
int PredictSteps(const FlowRunOptions& options);

class FlowRunner {
 public:
  // Creates the network and loads the weights; throws Error naming the weights file and
  // the missing/unexpected keys when the file does not fit the network.
  explicit FlowRunner(const FlowRunOptions& options);
  ~FlowRunner();
  FlowRunner(const FlowRunner&) = delete;
  FlowRunner& operator=(const FlowRunner&) = delete;

  // image1, image2: RGB CV_8UC3 of the same size. Returns the CV_32FC2 flow image1 -> image2.
  // With a job: reports (k / Steps(), "iteration k/N" for RAFT/GMA, "step k/N" for the
  // GMFlow stages and PWC-Net levels) after every network step and throws Cancelled at the next step once
  // the job is cancelled (also when it already is on entry).
  // preview (optional): RAFT/GMA intermediate estimates (FlowPreviewFn).
  cv::Mat Predict(const cv::Mat& image1, const cv::Mat& image2, const JobContext* job = nullptr,
                  const FlowPreviewFn& preview = {});

  // PredictSteps(options()).
  int Steps() const { return PredictSteps(options_); }

  // The official network's work for one height x width pair at options().iters, as
  // (part, FLOP) in the order counted (models::FlowModel::OfficialFlops).
  std::vector<std::pair<std::string, double>> OfficialFlops(int height, int width) const;

  const FlowRunOptions& options() const { return options_; }

 private:
  struct Impl;
  FlowRunOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace animerun::flow
