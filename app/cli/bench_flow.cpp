// `animerun bench flow`: median time per pair and peak memory of a flow network.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "app/cli/arg_parser.h"
#include "app/cli/bench_registry.h"
#include "app/cli/bench_util.h"
#include "app/cli/flow_cli_options.h"
#include "core/flow/flow_predictor.h"
#include "core/io/image_io.h"
#include "models/common/dnnl_winograd_conv.h"

namespace animerun::cli {
namespace {

// User + system CPU seconds of the process so far: on a shared, loaded machine the wall time
// depends on the other processes, the CPU time much less.
// A cartoon-like pair: flat shapes with dark outlines, the second moved, so that the
// timing reflects real inputs (GMFlow's softmax and RAFT's lookups don't depend on content,
// but this keeps the numbers honest).
std::pair<cv::Mat, cv::Mat> MakePair(int h, int w) {
  cv::Mat a(h, w, CV_8UC3, cv::Scalar(200, 220, 240)), b;
  cv::RNG rng(7);
  for (int i = 0; i < 40; ++i) {
    const cv::Point c(rng.uniform(0, w), rng.uniform(0, h));
    const cv::Size ax(rng.uniform(8, std::max(9, w / 8)), rng.uniform(8, std::max(9, h / 8)));
    const cv::Scalar col(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255));
    cv::ellipse(a, c, ax, rng.uniform(0, 180), 0, 360, col, cv::FILLED, cv::LINE_8);
    cv::ellipse(a, c, ax, 0, 0, 360, cv::Scalar(20, 20, 20), 2, cv::LINE_8);
  }
  const cv::Mat shift = (cv::Mat_<double>(2, 3) << 1, 0, 6, 0, 1, 3);
  cv::warpAffine(a, b, shift, a.size(), cv::INTER_NEAREST, cv::BORDER_REPLICATE);
  return {a, b};
}

// Mean and max endpoint distance between two CV_32FC2 flows of the same size.
std::pair<double, double> Epe(const cv::Mat& a, const cv::Mat& b) {
  double sum = 0, max = 0;
  for (int y = 0; y < a.rows; ++y) {
    const auto* pa = a.ptr<cv::Vec2f>(y);
    const auto* pb = b.ptr<cv::Vec2f>(y);
    for (int x = 0; x < a.cols; ++x) {
      const double du = pa[x][0] - pb[x][0], dv = pa[x][1] - pb[x][1];
      const double e = std::sqrt(du * du + dv * dv);
      sum += e;
      max = std::max(max, e);
    }
  }
  return {sum / std::max<double>(1, double(a.total())), max};
}

int RunBenchFlow(int argc, char** argv) {
  flow::FlowRunOptions o;
  o.allow_random_weights = true;
  std::string size = "440x1024";
  int repeats = 5, warmup = 1;
  std::string image1, image2;
  bool epe_vs_fp32 = false, direct_conv = false;
  double peak_gflops = 0;
  ArgParser p(argv[0], "Times a flow network on one cartoon-like pair: median seconds per pair over --repeats runs "
                       "after --warmup runs, and the process's peak resident memory. Random weights unless "
                       "--weights is given (speed does not depend on the weights).");
  AddFlowRunOptions(p, &o);
  p.Add("--size", &size, "input size HxW");
  p.Add("--repeats", &repeats, "timed runs");
  p.Add("--warmup", &warmup, "untimed runs first");
  p.Add("--image1", &image1, "time this pair (with --image2) instead of a generated one; --size is then ignored");
  p.Add("--image2", &image2, "second frame of the pair");
  p.AddFlag("--epe-vs-fp32", &epe_vs_fp32,
            "also run the pair in fp32 (without early stop) and report the mean/max endpoint error of the timed "
            "run against it (the accuracy cost of --precision bf16 or --iters auto)");
  p.AddFlag("--direct-conv", &direct_conv,
            "CPU: direct 3x3 convolutions as PyTorch's, not oneDNN's Winograd (PWC-Net and GMFlow in fp32; GMFlow's backbone also in bf16)");
  p.Add("--peak-gflops", &peak_gflops,
        "the machine's peak GFLOP/s for --precision (from `animerun bench peak`); 0 measures it first (2 s)");
  if (!p.Parse(argc, argv)) return 0;
  models::SetWinogradInference(!direct_conv);
  int h = 0, w = 0;
  if (std::sscanf(size.c_str(), "%dx%d", &h, &w) != 2 || h < 16 || w < 16) throw UsageError("--size must be HxW, e.g. 440x1024");
  if (repeats < 1 || warmup < 0) throw UsageError("--repeats must be >= 1 and --warmup >= 0");
  if (image1.empty() != image2.empty()) throw UsageError("--image1 and --image2 go together");
  CheckAsUsage(o);

  cv::Mat a, b;
  if (image1.empty()) {
    std::tie(a, b) = MakePair(h, w);
  } else {
    a = io::ReadImageRgb(image1);
    b = io::ReadImageRgb(image2);
    h = a.rows;
    w = a.cols;
  }
  flow::FlowRunner runner(o);
  cv::Mat flow;
  for (int i = 0; i < warmup; ++i) flow = runner.Predict(a, b);
  std::vector<double> secs, cpu;
  // RAFT/GMA iterations run (fewer than --iters with early stop): one preview per iteration
  // but the last, counted without computing it.
  int previews = 0;
  const flow::FlowPreviewFn count_iterations = [&](int, int, const std::function<cv::Mat()>&) { ++previews; };
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = ProcessCpuSeconds();
    flow = runner.Predict(a, b, nullptr, count_iterations);
    cpu.push_back(ProcessCpuSeconds() - c0);
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::string epe_json;
  if (epe_vs_fp32) {
    // After the timing, so that the fp32 network's memory does not count in the peak.
    flow::FlowRunOptions ref_options = o;
    ref_options.precision = "fp32";
    ref_options.early_stop_px = 0;  // --iters auto against all the iterations
    flow::FlowRunner ref(ref_options);
    const auto [mean, max] = Epe(flow, ref.Predict(a, b));
    char buf[128];
    std::snprintf(buf, sizeof buf, ", \"epe_vs_fp32_mean\": %.5f, \"epe_vs_fp32_max\": %.5f", mean, max);
    epe_json = buf;
  }
  std::sort(secs.begin(), secs.end());
  std::sort(cpu.begin(), cpu.end());
  const double median = secs[secs.size() / 2];
  const long rss = PeakRssMb();  // before the peak measurement allocates its own tensors
  // The roofline: the official network's work at this size, the rate achieved on it, and
  // that rate against the machine's peak for the precision (CPU only: the GPU's peak is
  // recorded by packaging/gpu_check.sh).
  double flop = 0;
  for (const auto& part : runner.OfficialFlops(h, w)) flop += part.second;
  // With early stop the iterations vary; the work of --iters would overstate the rate.
  if (o.early_stop_px > 0) peak_gflops = -1;
  const std::string roof = RooflineJson(flop, median, peak_gflops, o.precision, o.device == "cpu");
  if (o.early_stop_px > 0 && previews > 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, ", \"early_stop_px\": %g, \"mean_iterations\": %.2f", o.early_stop_px,
                  1.0 + double(previews) / repeats);
    epe_json += buf;
  }
  std::printf("{\"bench\": \"flow\", \"model\": \"%s\", \"size\": \"%dx%d\", \"iters\": %d, \"device\": \"%s\", "
              "\"precision\": \"%s\", \"threads\": %d, \"median_s\": %.4f, \"min_s\": %.4f, \"median_cpu_s\": %.4f, "
              "\"peak_rss_mb\": %ld%s%s}\n",
              o.model.c_str(), h, w, o.iters, o.device.c_str(), o.precision.c_str(), o.threads, median, secs.front(),
              cpu[cpu.size() / 2], rss, roof.c_str(), epe_json.c_str());
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_BENCH(flow, "flow", "median time per pair and peak memory of a flow network", RunBenchFlow);

}  // namespace animerun::cli
