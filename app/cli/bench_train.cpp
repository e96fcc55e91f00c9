// `animerun bench train`: training speed of a flow network, measured on real training
// updates: the trainer (core/train) runs the model's recipe on a small generated dataset
// (loading and augmentation by the worker threads, forward, sequence loss, backward,
// clipping, AdamW), and the bench reports the median time per update after warm-up. With
// --nproc N the same run is data-parallel over N local processes (`animerun train --nproc`'s
// launcher, c10d): the time per update of rank 0, and the largest worker's peak memory.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

#include "app/cli/arg_parser.h"
#include "app/cli/bench_registry.h"
#include "app/cli/bench_util.h"
#include "core/data/synth.h"
#include "core/flow/flow_predictor.h"
#include "core/train/train_options.h"
#include "core/train/train_task.h"
#include "core/train/trainer.h"
#include "core/train/worker_launcher.h"

namespace animerun::cli {
namespace {

namespace fs = std::filesystem;

int RunBenchTrain(int argc, char** argv) {
  std::string model = "raft", crop = "368x768", precision = "fp32", device = "cpu";
  int batch = 6, iters = 12, steps = 5, warmup = 1, threads = 0, nproc = 1;
  double peak_gflops = 0;
  bool direct_conv = false;
  ArgParser p(argv[0],
              "Times training updates of a flow network (the AnimeRun recipe of that network: sequence loss, "
              "AdamW, clipping, RAFT's augmentation) on a generated dataset: median seconds per update after "
              "--warmup updates, updates per second and the process's peak resident memory.");
  p.Add("--model", &model, "raft, raft-small, gma, gmflow, gmflow-refine, pwcnet");
  p.Add("--batch", &batch, "pairs per update");
  p.Add("--crop", &crop, "training crop HxW");
  p.Add("--iters", &iters, "RAFT/GMA refinement iterations in training");
  p.Add("--precision", &precision, "fp32, or bf16 (CPU autocast)");
  p.Add("--device", &device, "cpu, cuda or cuda:N");
  p.Add("--steps", &steps, "timed updates");
  p.Add("--warmup", &warmup, "untimed updates first");
  p.Add("--threads", &threads, "LibTorch CPU threads (0 = all cores; with --nproc, per process: 0 = cores / N)");
  p.Add("--nproc", &nproc,
        "processes, data-parallel on this machine as `animerun train --nproc` (each takes batch / N pairs)");
  p.AddFlag("--direct-conv", &direct_conv,
            "CPU fp32: direct 3x3 convolutions as PyTorch's, not oneDNN's Winograd (the train option winograd=false)");
  p.Add("--peak-gflops", &peak_gflops,
        "the machine's peak GFLOP/s for --precision (from `animerun bench peak`); 0 measures it after the run (2 s)");
  if (!p.Parse(argc, argv)) return 0;
  int h = 0, w = 0;
  if (std::sscanf(crop.c_str(), "%dx%d", &h, &w) != 2 || h < 16 || w < 16)
    throw UsageError("--crop must be HxW, e.g. 368x768");
  if (steps < 1 || warmup < 0) throw UsageError("--steps must be >= 1 and --warmup >= 0");
  if (nproc < 1 || nproc > 64) throw UsageError("--nproc must be in 1..64");

  const fs::path work = fs::temp_directory_path() / ("animerun_bench_train_" + std::to_string(::getpid()));
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{work};
  // Frames a quarter larger than the crop, so that the scale augmentation has room.
  data::SynthOptions s;
  s.split = "train";
  s.scenes = 2;
  s.frames = 3;
  s.color_passes = 0;
  s.width = (w * 5 / 4 + 7) / 8 * 8;
  s.height = (h * 5 / 4 + 7) / 8 * 8;
  data::GenerateSynthDataset(work / "data", s);

  train::TrainOptions o = train::TrainPreset(model == "pwcnet" ? "pwcnet-animerun"
                                             : model == "gma"  ? "gma-animerun"
                                             : model.rfind("gmflow", 0) == 0 ? "gmflow-animerun"
                                                                             : "raft-animerun");
  o.model = model;
  o.data = (work / "data").string();
  o.datasets = "anime:1";
  o.val_split = "";
  o.batch_size = batch;
  o.crop_height = h;
  o.crop_width = w;
  o.refine_iters = iters;
  o.precision = precision;
  o.winograd = !direct_conv;
  o.device = device;
  o.threads = threads;
  o.iterations = warmup + steps;
  o.checkpoint_every = 0;
  o.eval_every = 0;
  try {
    o.Check();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  std::vector<double> secs, cpu;
  auto take = [&](const nlohmann::json& e) {
    if (e.value("event", "") == "step" && e["iter"].get<int>() > warmup) {
      secs.push_back(e["seconds"].get<double>());
      cpu.push_back(e["cpu_seconds"].get<double>());
    }
  };
  long rss = 0;
  if (nproc == 1) {
    train::TrainRunSpec spec;
    spec.run_dir = (work / "run").string();
    train::RunTraining(o, spec, take);
    rss = PeakRssMb();
  } else {
    train::CheckDataParallel(o, nproc);
    if (threads > 0) o.threads = threads;  // else each worker takes cores / N (the launcher)
    const fs::path config = work / "config.json";
    {
      std::ofstream f(config);
      f << o.ToJson().dump(1) << "\n";
      if (!f) throw Error(config.string() + ": cannot write the bench's training config");
    }
    train::WorkerLaunchOptions lo;
    lo.program = train::SelfExecutable();
    lo.args = {"train", "--config", config.string(), "--out", (work / "run").string(), "--quiet"};
    lo.nproc = nproc;
    lo.threads_per_worker = threads;
    train::WorkerLaunchCallbacks cb;
    cb.rank0_stdout = [&](const std::string& line) {
      const auto e = nlohmann::json::parse(line, nullptr, false);
      if (e.is_object()) take(e);
    };
    cb.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    const train::WorkerLaunchResult r = train::LaunchWorkers(lo, cb);
    if (r.exit_code != 0) throw Error("bench train: training worker " + r.failure);
    rusage u{};
    getrusage(RUSAGE_CHILDREN, &u);  // the largest worker's peak
    rss = u.ru_maxrss / 1024;
  }
  if (secs.empty()) throw Error("bench train: the run reported no timed update");
  std::sort(secs.begin(), secs.end());
  std::sort(cpu.begin(), cpu.end());
  const double median = secs[secs.size() / 2];
  // The official work of an update: the training forward (the inference count at the crop,
  // times the batch) and its backward, counted as twice the forward (a gradient for the
  // input and one for the weights of every convolution and product, as FlopCounterMode
  // counts a backward pass).
  flow::FlowRunOptions fo;
  fo.model = model;
  fo.iters = iters;
  fo.allow_random_weights = true;
  double forward = 0;
  for (const auto& part : flow::FlowRunner(fo).OfficialFlops(h, w)) forward += part.second;
  const std::string roof = RooflineJson(3.0 * batch * forward, median, peak_gflops, precision, device == "cpu");
  std::printf("{\"bench\": \"train\", \"model\": \"%s\", \"batch\": %d, \"crop\": \"%dx%d\", \"iters\": %d, "
              "\"precision\": \"%s\", \"device\": \"%s\", \"threads\": %d, \"nproc\": %d, \"median_s\": %.4f, "
              "\"min_s\": %.4f, \"updates_per_s\": %.4f, \"median_cpu_s\": %.4f, \"peak_rss_mb\": %ld%s}\n",
              model.c_str(), batch, h, w, iters, precision.c_str(), device.c_str(), threads, nproc, median, secs.front(),
              1.0 / median, cpu[cpu.size() / 2], rss, roof.c_str());
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_BENCH(train, "train", "training updates per second and peak memory of a flow network",
                        RunBenchTrain);

}  // namespace animerun::cli
