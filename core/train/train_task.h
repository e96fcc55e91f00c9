// What the training loop (trainer.h) needs from a model: the module to optimise, one
// sample's differentiable loss, validation metrics and a weights file. Two tasks implement
// it: AnT (ant_task.h) and the flow networks (flow_task.h); the loop, checkpoints, events
// and the CLI/GUI are shared.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/jobs/job.h"
#include "core/train/train_options.h"
#include "core/train/train_rng.h"

namespace animerun::train {

struct SampleLoss {
  torch::Tensor loss;                     // scalar, differentiable; undefined when the sample was skipped.
                                          // In a data-parallel run, this rank's part: the parts of all
                                          // ranks sum to the sample's loss
  double share = 1.0;                     // the fraction of the sample this rank computed (flow: its
                                          // pairs of the global batch; 1 in a single process)
  std::map<std::string, double> metrics;  // task metrics of this sample (of this rank's part), averaged
                                          // into the step event with metric_weight (AnT: "acc", the
                                          // fraction of segments matched right; flow: "epe", "px1",
                                          // "px3", "px5" of the final prediction)
  double metric_weight = 1.0;             // what the metrics are averages over (flow: supervised pixels)
};

// This process's place in a data-parallel run (dist_env.h); {0, 1} in a single process.
struct TrainShard {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;  // picks cuda:local_rank when the device is "cuda"
};

class TrainTask {
 public:
  virtual ~TrainTask() = default;
  virtual std::string name() const = 0;
  virtual torch::nn::Module& module() = 0;
  // What the optimizer updates: the module's parameters, each once (models::UniqueParameters).
  virtual std::vector<torch::Tensor> Parameters();
  // Parameters() split into optimizer groups, each with its multiple of the scheduled
  // learning rate. Default: one group at 1x (AnT adds one for its dustbin score).
  struct ParamGroup {
    std::vector<torch::Tensor> params;
    double lr_scale = 1.0;
  };
  virtual std::vector<ParamGroup> ParamGroups() { return {ParamGroup{Parameters(), 1.0}}; }
  // The module in training mode (flow networks: BatchNorm frozen where the official
  // finetuning freezes it). Called before training and after every validation.
  virtual void TrainMode() { module().train(); }
  // The loss of training sample `index` (update * accumulation + position within it). AnT
  // draws its sample with rng; the flow task's batches are a function of (seed, index)
  // alone (flow_loader.h). Either way runs are reproducible. A sample the model cannot take
  // (AnT: < 2 segments in a crop) is skipped with an undefined loss.
  virtual SampleLoss TrainSample(TrainRng& rng, int64_t index) = 0;
  // How a data-parallel run splits the samples of an update (train_task.cpp checks the
  // world size against it). kWithinSample: every rank calls TrainSample for every index and
  // takes its share of it (flow: pairs of each global batch). kWholeSamples: sample a of
  // an update goes to rank a % world_size; the other ranks call SkipSample for it, which
  // draws from rng what TrainSample would, so all generators stay in step.
  enum class Split { kWithinSample, kWholeSamples };
  virtual Split split() const = 0;
  virtual void SkipSample(TrainRng& rng, int64_t index) = 0;
  // The keys TrainSample may put in metrics, the same on every rank (summed over ranks).
  virtual std::vector<std::string> MetricNames() const = 0;
  // Validation metrics (a JSON object of numbers or nulls; AnT's headline "acc", flow's
  // "epe"). Returns null when the task has no validation data. Honours job's cancellation.
  virtual nlohmann::json Evaluate(const JobContext* job) = 0;
  // The weights in the model's own official file format (AnT: the segmat checkpoint
  // {'model': state dict}; flow: the network's release format).
  virtual void SaveWeights(const std::string& path) = 0;
  virtual std::string weights_file_name() const = 0;  // e.g. "ant_weights_last.pth"
  // What the run trains on, for the "data" event (datasets found, sizes, parameters).
  virtual nlohmann::json Describe() const { return nlohmann::json::object(); }
};

// The task options.task names, for this rank's shard; throws Error for unknown tasks and
// unreadable data.
std::unique_ptr<TrainTask> CreateTrainTask(const TrainOptions& options, const JobContext* job = nullptr,
                                           const TrainShard& shard = {});

// The device options.device names; "cuda" in a data-parallel run is cuda:local_rank (one
// GPU per process, as torchrun's LOCAL_RANK convention has it). Throws Error for a bad name.
torch::Device ResolveTrainDevice(const TrainOptions& options, const TrainShard& shard);

// Throws Error when options cannot be split over world_size processes: flow splits each
// batch (world_size <= batch_size), AnT the samples of an update (world_size <= accumulation).
void CheckDataParallel(const TrainOptions& options, int world_size);

}  // namespace animerun::train
