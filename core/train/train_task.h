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
  torch::Tensor loss;                     // scalar, differentiable; undefined when the sample was skipped
  std::map<std::string, double> metrics;  // task metrics of this sample, averaged into the step event
                                          // (AnT: "acc", the fraction of segments matched right;
                                          // flow: "epe", "px1", "px3", "px5" of the final prediction)
};

class TrainTask {
 public:
  virtual ~TrainTask() = default;
  virtual std::string name() const = 0;
  virtual torch::nn::Module& module() = 0;
  // What the optimizer updates: the module's parameters, each once (models::UniqueParameters).
  virtual std::vector<torch::Tensor> Parameters();
  // The module in training mode (flow networks: BatchNorm frozen where the official
  // finetuning freezes it). Called before training and after every validation.
  virtual void TrainMode() { module().train(); }
  // The loss of training sample `index` (update * accumulation + position within it). AnT
  // draws its sample with rng; the flow task's batches are a function of (seed, index)
  // alone (flow_loader.h). Either way runs are reproducible. A sample the model cannot take
  // (AnT: < 2 segments in a crop) is skipped with an undefined loss.
  virtual SampleLoss TrainSample(TrainRng& rng, int64_t index) = 0;
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

// The task options.task names; throws Error for unknown tasks and unreadable data.
std::unique_ptr<TrainTask> CreateTrainTask(const TrainOptions& options, const JobContext* job = nullptr);

}  // namespace animerun::train
