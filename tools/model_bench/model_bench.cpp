// animerun_model_bench: the flow networks' inference and one flow training update, timed with
// LibTorch alone (no OpenCV, no Qt), for packaging/gpu_check.sh on a GPU machine that has a
// pip PyTorch and nothing else; on a machine without a GPU it is the script's CPU fallback.
// Prints one JSON object per measurement (and, with --json FILE, writes them as an array).
// Random weights and inputs: speed does not depend on them.
//
//   animerun_model_bench [--device cuda] [--size 440x1024] [--models raft,gma,...]
//                        [--precisions fp32,fp16,bf16] [--repeats 3] [--warmup 1]
//                        [--train-model raft] [--train-batch 6] [--train-crop 368x768]
//                        [--train-iters 12] [--train-steps 3] [--peak-seconds 2] [--json FILE]
//
// First the device's measured multiply-add peak per precision (on CUDA fp32 with TF32 off,
// tf32, fp16, bf16); every result then gives its achieved rate as a fraction of the peak of
// its precision (the roofline of docs/benchmarks.md). On CUDA, fp32 results also give the
// fraction of the TF32 peak and whether TF32 was in use: LibTorch lets cuDNN's convolutions
// use TF32 by default and cuBLAS's products not.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "app/cli/bench_util.h"
#include "core/train/flow_loss.h"
#include "models/common/flow_factory.h"
#include "models/common/peak_rate.h"
#include "models/common/runtime.h"

namespace {

using namespace animerun;

struct Options {
  std::string device = "cpu";
  int height = 440, width = 1024;
  std::vector<std::string> models = {"raft", "raft-small", "gma", "gmflow", "gmflow-refine", "pwcnet"};
  std::vector<std::string> precisions = {"fp32", "fp16", "bf16"};
  int repeats = 3, warmup = 1, iters = 32;
  std::string train_model = "raft";  // "" = no training measurement
  int train_batch = 6, train_height = 368, train_width = 768, train_iters = 12, train_steps = 3;
  double peak_seconds = 2.0;  // per precision; 0 = no peak measurement and no fractions
  std::string json;
};

// Measured peak GFLOP/s per precision name ("fp32", "tf32", ...).
using Peaks = std::map<std::string, double>;

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

void ParseSize(const std::string& s, int* h, int* w, const char* flag) {
  if (std::sscanf(s.c_str(), "%dx%d", h, w) != 2 || *h < 16 || *w < 16)
    throw std::invalid_argument(std::string(flag) + " must be HxW (at least 16x16), got '" + s + "'");
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--print-device") {  // what gpu_check.sh benchmarks on: cuda when a GPU is usable
      std::printf("%s\n", models::CudaAvailable() ? "cuda" : "cpu");
      std::exit(0);
    }
    if (a == "--help" || a == "-h") {
      std::printf("usage: animerun_model_bench --print-device | [--device D] [--size HxW] [--models a,b] [--precisions fp32,fp16,bf16]\n"
                  "  [--repeats N] [--warmup N] [--iters N] [--train-model M|''] [--train-batch N] [--train-crop HxW]\n"
                  "  [--train-iters N] [--train-steps N] [--peak-seconds S] [--json FILE]\n");
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
    const std::string v = argv[++i];
    if (a == "--device") o.device = v;
    else if (a == "--size") ParseSize(v, &o.height, &o.width, "--size");
    else if (a == "--models") o.models = SplitList(v);
    else if (a == "--precisions") o.precisions = SplitList(v);
    else if (a == "--repeats") o.repeats = std::stoi(v);
    else if (a == "--warmup") o.warmup = std::stoi(v);
    else if (a == "--iters") o.iters = std::stoi(v);
    else if (a == "--train-model") o.train_model = v;
    else if (a == "--train-batch") o.train_batch = std::stoi(v);
    else if (a == "--train-crop") ParseSize(v, &o.train_height, &o.train_width, "--train-crop");
    else if (a == "--train-iters") o.train_iters = std::stoi(v);
    else if (a == "--train-steps") o.train_steps = std::stoi(v);
    else if (a == "--peak-seconds") o.peak_seconds = std::stod(v);
    else if (a == "--json") o.json = v;
    else throw std::invalid_argument("unknown option " + a);
  }
  if (o.repeats < 1 || o.warmup < 0 || o.train_steps < 1 || o.train_batch < 1 || o.iters < 1 ||
      !(o.peak_seconds >= 0 && o.peak_seconds <= 600))
    throw std::invalid_argument(
        "--repeats, --train-steps, --train-batch and --iters must be >= 1, --warmup >= 0, --peak-seconds "
        "in [0, 600]");
  models::CheckDeviceName(o.device.c_str());
  return o;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

// Free text (an error message, the runtime description) as a JSON string on one line:
// quotes become apostrophes, line breaks semicolons.
std::string JsonText(std::string s) {
  std::replace(s.begin(), s.end(), '"', '\'');
  std::replace(s.begin(), s.end(), '\n', ';');
  return Quote(s);
}

// What a measurement that threw reports: the first line of the message (LibTorch appends
// its backtrace).
std::string ErrorJson(const std::exception& e) {
  const std::string what = e.what();
  return ", \"error\": " + JsonText(what.substr(0, what.find('\n'))) + "}";
}

// The peak of each precision the results need, as JSON lines; peaks that could not be
// measured (bf16 where the device lacks it) are reported with their error and left out.
Peaks MeasurePeaks(const Options& o, const std::function<void(const std::string&)>& emit) {
  Peaks peaks;
  if (o.peak_seconds <= 0) return peaks;
  const bool cuda = torch::Device(o.device).is_cuda();
  std::vector<std::string> wanted = {"fp32"};
  if (cuda) wanted.push_back("tf32");
  for (const auto& p : o.precisions)
    if (std::find(wanted.begin(), wanted.end(), p) == wanted.end() && (cuda || p != "fp16")) wanted.push_back(p);
  for (const auto& p : wanted) {
    std::ostringstream j;
    j << "{\"bench\": \"peak\", \"device\": " << Quote(o.device) << ", \"precision\": " << Quote(p);
    try {
      const models::PeakRate r = models::MeasurePeakRate(p, o.peak_seconds, cuda ? 8192 : 2048, o.device);
      peaks[p] = r.best();
      j << ", \"gemm_size\": " << r.gemm_size << ", \"gemm_gflops\": " << r.gemm_gflops
        << ", \"conv_gflops\": " << r.conv_gflops << ", \"peak_gflops\": " << r.best() << "}";
    } catch (const std::exception& e) {
      j << ErrorJson(e);
    }
    emit(j.str());
  }
  return peaks;
}

// The roofline fields of a result in `precision`: `flop` of official work in `seconds`, as
// `animerun bench` prints them (cli::RooflineJson), against the measured peak of its
// precision; on CUDA, fp32 results also against the TF32 peak.
std::string RooflineFields(const Options& o, const Peaks& peaks, const std::string& precision, double flop,
                           double seconds) {
  const auto peak = [&](const std::string& p) {
    const auto it = peaks.find(p);
    return it == peaks.end() ? 0.0 : it->second;
  };
  std::ostringstream j;
  j << cli::RooflineJson(flop, seconds, peak(precision), precision, /*on_cpu=*/false);
  if (torch::Device(o.device).is_cuda() && precision == "fp32") {
    j << ", \"tf32_convolutions\": " << (at::globalContext().allowTF32CuDNN() ? "true" : "false")
      << ", \"tf32_products\": " << (at::globalContext().allowTF32CuBLAS() ? "true" : "false");
    if (peak("tf32") > 0) j << ", \"fraction_of_tf32_peak\": " << flop / 1e9 / seconds / peak("tf32");
  }
  return j.str();
}

// One inference measurement (or why it could not run) as a JSON object.
std::string BenchInference(const Options& o, const Peaks& peaks, const std::string& name,
                           const std::string& precision) {
  const torch::Device device(o.device);
  auto net = models::CreateFlowModel(name);
  net->To(device);
  models::FlowInferenceOptions opt;
  opt.iters = o.iters;
  opt.precision = precision;
  const auto options = torch::TensorOptions().device(device);
  const auto image1 = torch::rand({1, 3, o.height, o.width}, options) * 255;
  const auto image2 = torch::roll(image1, {3, 6}, {2, 3});
  std::ostringstream j;
  j << "{\"bench\": \"flow\", \"model\": " << Quote(name) << ", \"size\": \"" << o.height << "x" << o.width
    << "\", \"iters\": " << o.iters << ", \"device\": " << Quote(o.device) << ", \"precision\": " << Quote(precision);
  try {
    std::vector<double> secs;
    for (int i = 0; i < o.warmup + o.repeats; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto flow = net->Estimate(image1, image2, opt).to(torch::kCPU);  // the copy waits for the device
      if (i >= o.warmup) secs.push_back(Seconds(t0));
      if (!torch::isfinite(flow).all().item<bool>()) throw std::runtime_error("non-finite flow");
    }
    const double flop = net->OfficialFlops(o.height, o.width, o.iters).total();
    const double median = cli::Median(secs);
    j << ", \"median_s\": " << median << RooflineFields(o, peaks, precision, flop, median) << "}";
  } catch (const std::exception& e) {
    j << ErrorJson(e);
  }
  return j.str();
}

// Training updates of one network as the trainer runs them (training forward, sequence loss,
// backward, gradient clipping, AdamW) on random data: median seconds per update.
std::string BenchTraining(const Options& o, const Peaks& peaks) {
  const torch::Device device(o.device);
  auto net = models::CreateFlowModel(o.train_model);
  net->To(device);
  auto& module = net->module();
  models::SetTrainMode(module, net->FreezesBatchNorm());
  torch::optim::AdamW adamw(models::UniqueParameters(module), torch::optim::AdamWOptions(1e-4).weight_decay(1e-5));
  const auto options = torch::TensorOptions().device(device);
  const int64_t b = o.train_batch, h = o.train_height, w = o.train_width;
  std::ostringstream j;
  j << "{\"bench\": \"train\", \"model\": " << Quote(o.train_model) << ", \"batch\": " << b << ", \"crop\": \"" << h
    << "x" << w << "\", \"iters\": " << o.train_iters << ", \"device\": " << Quote(o.device)
    << ", \"precision\": \"fp32\"";
  try {
    std::vector<double> secs;
    for (int i = 0; i < 1 + o.train_steps; ++i) {
      const auto image1 = torch::rand({b, 3, h, w}, options) * 255;
      const auto image2 = torch::roll(image1, {2, 5}, {2, 3});
      const auto gt = torch::full({b, 2, h, w}, 0.0, options);
      gt.select(1, 0).fill_(5.0);
      gt.select(1, 1).fill_(2.0);
      const auto valid = torch::ones({b, h, w}, options);
      const auto t0 = std::chrono::steady_clock::now();
      adamw.zero_grad();
      const auto preds = net->TrainForward(image1, image2, o.train_iters);
      const auto loss = train::SequenceLoss(preds, gt, valid, 0.8).loss;
      loss.backward();
      torch::nn::utils::clip_grad_norm_(models::UniqueParameters(module), 1.0);
      adamw.step();
      const double value = loss.item<double>();  // waits for the device
      if (i > 0) secs.push_back(Seconds(t0));
      if (!std::isfinite(value)) throw std::runtime_error("non-finite loss");
    }
    const double forward = net->OfficialFlops(h, w, o.train_iters).total() * b;
    const double median = cli::Median(secs);
    j << ", \"median_s\": " << median << ", \"updates_per_s\": " << 1.0 / median
      << RooflineFields(o, peaks, "fp32", 3 * forward, median) << "}";
  } catch (const std::exception& e) {
    j << ErrorJson(e);
  }
  return j.str();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = Parse(argc, argv);
    const char* threads = std::getenv("ANIMERUN_THREADS");  // as the animerun binary: default all cores
    models::ConfigureThreads(threads ? std::atoi(threads) : 0);
    std::vector<std::string> results;
    auto emit = [&](const std::string& line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
      results.push_back(line);
    };
    emit("{\"bench\": \"runtime\", \"description\": " + JsonText(models::DescribeRuntime()) + "}");
    const Peaks peaks = MeasurePeaks(o, emit);
    for (const auto& m : o.models)
      for (const auto& p : o.precisions) emit(BenchInference(o, peaks, m, p));
    if (!o.train_model.empty()) emit(BenchTraining(o, peaks));
    if (!o.json.empty()) {
      std::ofstream out(o.json + ".tmp");
      out << "[\n";
      for (size_t i = 0; i < results.size(); ++i) out << "  " << results[i] << (i + 1 < results.size() ? ",\n" : "\n");
      out << "]\n";
      out.close();
      if (!out || std::rename((o.json + ".tmp").c_str(), o.json.c_str()) != 0)
        throw std::runtime_error(o.json + ": could not write the results");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "animerun_model_bench: %s\n", e.what());
    return 1;
  }
}
