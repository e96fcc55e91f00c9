// `animerun train --config FILE|--preset NAME [--set key=value ...] --out RUN_DIR [--resume]`:
// trains a model (AnT or a flow network) with the shared runner of core/train, printing one JSON event
// per line on stdout (trainer.h lists them) and progress on stderr. SIGINT/SIGTERM or a
// RUN_DIR/STOP file end the run gracefully: a checkpoint, a "done" event, exit 0.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli/arg_parser.h"
#include "app/cli/command_registry.h"
#include "core/jobs/job.h"
#include "core/train/train_options.h"
#include "core/train/trainer.h"

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
  std::string s = "Options (config keys, --set key=value; defaults = preset ant-animerun; [ant]/[flow]: that task only):\n";
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

int RunTrain(int argc, char** argv) {
  std::string config, preset, out;
  std::vector<std::string> sets;
  bool resume = false, quiet = false;
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
  p.SetEpilog(FieldsHelp() + PresetsHelp() +
              "Stop gracefully with Ctrl+C, SIGTERM or by creating <out>/STOP: a checkpoint is written first.\n"
              "The run folder holds the weights in the network's official file format (flow_weights_last.pth,\n"
              "ant_weights_last.pth), loadable by `animerun flow/match --weights` and the official Python code.\n"
              "examples: animerun train --preset ant-tiny --set data=/tmp/synth --out runs/tiny\n"
              "          animerun train --preset flow-tiny --set model=raft-small --set data=/tmp/synth --out runs/f1\n"
              "          animerun train --preset raft-animerun --set data=/data/AnimeRun_v2 \\\n"
              "              --set things_root=/data/FlyingThings3D --set init_weights=raft-sintel.pth --out runs/raft\n"
              "          animerun train --out runs/tiny --resume --set iterations=40");
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

  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  train::TrainRunSpec spec;
  spec.run_dir = out;
  spec.resume = resume;
  spec.should_stop = [] { return g_stop.load(); };
  JobContext job(quiet ? JobContext::ProgressFn() : StderrProgress("train"));
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
