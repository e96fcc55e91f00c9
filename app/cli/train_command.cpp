// `animerun train --config FILE|--preset NAME [--set key=value ...] --out RUN_DIR [--resume]
// [--nproc N]`: trains a model (AnT or a flow network) with the shared runner of core/train,
// printing one JSON event per line on stdout (trainer.h lists them) and progress on stderr.
// SIGINT/SIGTERM or a RUN_DIR/STOP file end the run gracefully: a checkpoint, a "done"
// event, exit 0. Data-parallel: one process per rank, placed by torchrun's variables
// (RANK, WORLD_SIZE, ...; dist_env.h), or --nproc N, which starts N such processes here
// (worker_launcher.h) and forwards rank 0's events.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli/arg_parser.h"
#include "app/cli/command_registry.h"
#include "core/flow/flow_models.h"
#include "core/jobs/job.h"
#include "core/train/dist_env.h"
#include "core/train/train_options.h"
#include "core/train/train_task.h"
#include "core/train/trainer.h"
#include "core/train/worker_launcher.h"

namespace animerun::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop.store(true); }

void PrintEvent(const nlohmann::json& e) {
  const std::string line = e.dump() + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);  // a reader (the GUI) sees every event at once
}

std::string FieldsHelp() {
  std::string s = "Options (config keys, --set key=value; defaults = preset ant-animerun, or for a\n"
                  "--config with \"task\": \"flow\" and no preset its model's AnimeRun recipe; [ant]/[flow]: that task only):\n";
  const nlohmann::json defaults = train::TrainOptions{}.ToJson();
  for (const auto& f : train::TrainOptionFields()) {
    std::string help = f.help;
    if (!f.choices.empty()) {
      help += " {";
      for (size_t i = 0; i < f.choices.size(); ++i) help += (i ? "|" : "") + f.choices[i];
      help += "}";
    }
    if (!f.task.empty()) help = "[" + f.task + "] " + help;
    char line[512];
    std::snprintf(line, sizeof line, "  %-17s %s (%s)\n", f.key.c_str(), help.c_str(), defaults[f.key].dump().c_str());
    s += line;
  }
  return s;
}

std::string PresetsHelp() {
  std::string s = "Presets:";
  for (const auto& n : train::TrainPresetNames()) s += " " + n;
  return s + "\n";
}

std::string DistributedHelp() {
  return "Several processes (data-parallel; docs/training.md): each takes a share of every batch (flow) or of\n"
         "the samples of each update (AnT), gradients are summed, and the run matches a 1-process run step\n"
         "for step (up to float rounding). --nproc N starts N processes on this machine (a free port on 127.0.0.1, ANIMERUN_THREADS =\n"
         "cores / N unless set). Across machines, start one `animerun train` per process (e.g. with torchrun\n"
         "or srun) with the same options and these variables, as torchrun sets them:\n"
         "  RANK         this process, 0 .. WORLD_SIZE-1 (rank 0 writes the run folder and prints the events)\n"
         "  WORLD_SIZE   processes in the run, on all machines\n"
         "  LOCAL_RANK   this process on its machine (with device=cuda it trains on cuda:LOCAL_RANK)\n"
         "  MASTER_ADDR  address of rank 0's machine, reachable from every machine\n"
         "  MASTER_PORT  a free TCP port there (rank 0 serves the rendezvous on it)\n"
         "Gloo carries CPU tensors, NCCL CUDA tensors (CUDA builds). A dead or hung process ends the others\n"
         "with an error after dist_timeout_s. --resume needs the run folder at the same path on every machine.\n";
}

// --nproc N: the same command without --nproc, once per rank.
int RunLocalWorkers(int nproc, const std::vector<std::string>& worker_args) {
  train::WorkerLaunchOptions lo;
  lo.program = train::SelfExecutable();
  lo.args = worker_args;
  lo.nproc = nproc;
  train::WorkerLaunchCallbacks cb;
  cb.rank0_stdout = [](const std::string& line) {
    const std::string l = line + "\n";
    std::fwrite(l.data(), 1, l.size(), stdout);
    std::fflush(stdout);
  };
  cb.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  cb.started = [nproc](const std::vector<int>& pids, int port) {
    PrintEvent({{"event", "workers"}, {"world_size", nproc}, {"pids", pids}, {"master_port", port}});
  };
  cb.stop_requested = [] { return g_stop.load(); };
  const train::WorkerLaunchResult r = train::LaunchWorkers(lo, cb);
  if (r.exit_code == 0) return 0;
  const std::string message = "training worker " + r.failure + "; the other workers were stopped";
  PrintEvent({{"event", "error"}, {"message", message}});
  std::fprintf(stderr, "animerun train: %s\n", message.c_str());
  return r.exit_code;
}

int RunTrain(int argc, char** argv) {
  std::string config, preset, out;
  std::vector<std::string> sets;
  bool resume = false, quiet = false;
  int nproc = 1;
  ArgParser p(argv[0],
              "Train a model (AnT segment matching, or an optical-flow network: raft, raft-small, gma, gmflow, "
              "gmflow-refine, pwcnet) with JSON-lines events on stdout.");
  p.Add("--config", &config, "training config (JSON object of options, optionally \"preset\": NAME)");
  p.Add("--preset", &preset,
        "start from a preset: ant-animerun, ant-tiny, raft-animerun, gma-animerun, gmflow-animerun, "
        "pwcnet-animerun (AnimeRun's finetuning scripts), flow-tiny (minutes on a CPU)");
  p.AddRepeated("--set", &sets, "override one option: key=value (repeatable)");
  p.Add("--out", &out, "run folder: config.json, checkpoint_last.pth, weights, events.jsonl", "-o", true);
  p.AddFlag("--resume", &resume, "continue the run in --out from its checkpoint (options from its config.json)");
  p.AddFlag("--quiet", &quiet, "no progress on stderr");
  p.Add("--nproc", &nproc,
        "train with N processes on this machine (data-parallel, same results as 1 process; see below)");
  p.SetEpilog(FieldsHelp() + PresetsHelp() + DistributedHelp() +
              "Stop gracefully with Ctrl+C, SIGTERM or by creating <out>/STOP: a checkpoint is written first.\n"
              "The run folder holds the weights in the network's official file format (flow_weights_last.pth,\n"
              "ant_weights_last.pth), loadable by `animerun flow/match --weights` and the official Python code.\n"
              "examples: animerun train --preset ant-tiny --set data=/tmp/synth --out runs/tiny\n"
              "          animerun train --preset flow-tiny --set model=raft-small --set data=/tmp/synth --out runs/f1\n"
              "          animerun train --preset raft-animerun --set data=/data/AnimeRun_v2 \\\n"
              "              --set things_root=/data/FlyingThings3D --set init_weights=raft-sintel.pth --out runs/raft\n"
              "          animerun train --out runs/tiny --resume --set iterations=40\n"
              "          animerun train --preset flow-tiny --set model=pwcnet --set batch_size=4 --nproc 2 \\\n"
              "              --set data=/tmp/synth --out runs/f2\n"
              "          RANK=1 WORLD_SIZE=2 LOCAL_RANK=0 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 \\\n"
              "              animerun train --preset raft-animerun ... --out /shared/runs/raft   (machine 2 of 2)");
  if (!p.Parse(argc, argv)) return 0;

  train::TrainOptions options;
  try {
    if (resume) {
      if (!config.empty() || !preset.empty())
        throw UsageError("--resume takes the options from <out>/config.json; use --set to change them");
      options = train::LoadTrainConfig((std::filesystem::path(out) / train::kConfigFile).string());
    } else {
      if (config.empty() == preset.empty()) throw UsageError("give exactly one of --config or --preset");
      options = config.empty() ? train::TrainPreset(preset) : train::LoadTrainConfig(config);
    }
    for (const auto& s : sets) options.ApplyOverride(s);
    options.Check();
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  train::DistributedEnv dist;
  try {
    dist = train::DistributedEnv::FromEnvironment();
    if (nproc != 1) {
      if (nproc < 1 || nproc > 1024) throw UsageError("--nproc: must be in 1..1024");
      if (dist.distributed())
        throw UsageError("--nproc starts the processes itself: unset WORLD_SIZE/RANK, or launch without --nproc");
    }
    train::CheckDataParallel(options, std::max(nproc, dist.world_size));
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(e.what());
  }

  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  if (nproc > 1) {
    std::vector<std::string> worker_args = {"train"};
    if (!config.empty()) worker_args.insert(worker_args.end(), {"--config", config});
    if (!preset.empty()) worker_args.insert(worker_args.end(), {"--preset", preset});
    for (const auto& s : sets) worker_args.insert(worker_args.end(), {"--set", s});
    worker_args.insert(worker_args.end(), {"--out", out});
    if (resume) worker_args.push_back("--resume");
    if (quiet) worker_args.push_back("--quiet");
    return RunLocalWorkers(nproc, worker_args);
  }
  if (const std::string note = flow::Bf16Note(options.precision, options.device); !note.empty() && !quiet)
    std::fprintf(stderr, "animerun train: note: %s\n", note.c_str());
  train::TrainRunSpec spec;
  spec.run_dir = out;
  spec.resume = resume;
  spec.should_stop = [] { return g_stop.load(); };
  spec.distributed = dist;
  // Progress from rank 0 only: the ranks advance together.
  JobContext job(quiet || dist.rank > 0 ? JobContext::ProgressFn() : StderrProgress("train"));
  try {
    train::RunTraining(options, spec, PrintEvent, &job);
  } catch (const std::exception& e) {
    PrintEvent({{"event", "error"}, {"message", e.what()}});
    throw;
  }
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(train, "train",
                          "Train AnT or a flow network with checkpoints, exact resume and JSON-lines events",
                          RunTrain);

}  // namespace animerun::cli
