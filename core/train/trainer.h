// The training loop, shared by every task (train_task.h): Adam with gradient accumulation,
// JSON-lines events, atomic checkpoints with exact resume, periodic validation and a
// graceful stop (flag callback or RUN_DIR/STOP) that checkpoints before returning.
//
// RUN_DIR holds config.json (the options), checkpoint_last.pth (weights, Adam state,
// iteration and RNG state; a LibTorch archive written atomically), <task weights file>
// (e.g. ant_weights_last.pth, loadable by LoadAntWeights / `animerun match`) and
// events.jsonl (every event, appended; survives resumes so curves can be redrawn).
//
// Events (one JSON object each):
//   {"event":"start","iter":k,"iterations":n,"task":"ant","run_dir":..,"resumed":bool,"world_size":w}
//   {"event":"step","iter":i,"loss":x,"acc":a,"lr":lr,"seconds":s,"elapsed":t,"skipped":m}
//   {"event":"checkpoint","iter":i,"path":..}
//   {"event":"eval","iter":i,"metrics":{"acc":..,"valid_acc":..,...}}
//   {"event":"done","iter":i,"reason":"finished"|"stopped"}
//   {"event":"error","message":..}            (written by the CLI when the run throws)
// Data-parallel runs (spec.distributed.world_size > 1; docs/training.md): every process
// calls RunTraining with its rank; they join through a c10d process group (Gloo on the
// CPU, NCCL for CUDA) with options.dist_timeout_s, start from rank 0's weights and sum
// their gradients each update (data_parallel.h). The flow task's ranks split each global
// batch, AnT's the samples of an update; either way an update sees the same samples, and
// gives the same gradient (up to rounding), whatever the number of processes. Step events
// carry values summed over the ranks; only rank 0 writes the run folder and emits events,
// validates, and watches the STOP file; a stop anywhere stops every rank at the same
// sample. A resume reads the checkpoint on every rank (a shared run folder), with any
// number of processes. A process that dies or hangs makes the others throw Error within
// dist_timeout_s.
//
// A resumed run gives bit-identical step losses to an uninterrupted one on CPU with one
// thread: all sampling comes from the checkpointed TrainRng, and a stop inside an
// accumulation window drops that partial update and rewinds the generator.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/jobs/job.h"
#include "core/train/dist_env.h"
#include "core/train/train_options.h"

namespace animerun::train {

using TrainEventSink = std::function<void(const nlohmann::json&)>;

struct TrainRunSpec {
  std::string run_dir;                 // output folder (created)
  bool resume = false;                 // continue from run_dir/checkpoint_last.pth
  std::function<bool()> should_stop;   // polled between samples (SIGINT flag); may be null
  DistributedEnv distributed;          // this process's rank in a data-parallel run (one process by default)
};

struct TrainResult {
  int iteration = 0;          // updates completed
  bool stopped = false;       // true when stopped before options.iterations
  nlohmann::json last_eval;   // the last validation metrics (null when none ran)
};

// Runs (or resumes) a training run. Throws Error on bad options, unreadable data, a
// run_dir that already holds a checkpoint without resume, a missing or corrupt checkpoint
// with resume, or a checkpoint of another task. job: progress and cancellation (a cancel
// acts like a stop: checkpoint and return).
TrainResult RunTraining(const TrainOptions& options, const TrainRunSpec& spec, const TrainEventSink& sink,
                        const JobContext* job = nullptr);

// File names inside a run folder.
inline constexpr const char* kConfigFile = "config.json";
inline constexpr const char* kCheckpointFile = "checkpoint_last.pth";
inline constexpr const char* kEventsFile = "events.jsonl";
inline constexpr const char* kStopFile = "STOP";

}  // namespace animerun::train
