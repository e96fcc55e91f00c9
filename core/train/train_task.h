// What the training loop (trainer.h) needs from a model: the module to optimise, one
// sample's differentiable loss, validation metrics and a weights file. AnT implements it
// now (ant_task.cpp); the flow networks add a task each and a branch in CreateTrainTask,
// the loop, checkpoints, events and the CLI/GUI stay as they are.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/jobs/job.h"
#include "core/train/train_options.h"
#include "core/train/train_rng.h"

namespace animerun::train {

struct SampleLoss {
  torch::Tensor loss;     // scalar, differentiable; undefined when the sample was skipped
  double accuracy = 0.0;  // task metric on this sample (AnT: fraction of segments matched right)
};

class TrainTask {
 public:
  virtual ~TrainTask() = default;
  virtual std::string name() const = 0;
  virtual torch::nn::Module& module() = 0;
  // Draws one training sample with rng (the only randomness, so runs are reproducible)
  // and returns its loss. A sample the model cannot take (AnT: < 2 segments in a crop)
  // is skipped with an undefined loss.
  virtual SampleLoss TrainSample(TrainRng& rng) = 0;
  // Validation metrics (a JSON object of numbers or nulls; "acc" is the headline value).
  // Returns null when the task has no validation data. Honours job's cancellation.
  virtual nlohmann::json Evaluate(const JobContext* job) = 0;
  // The weights in the model's own file format (AnT: loadable by LoadAntWeights).
  virtual void SaveWeights(const std::string& path) = 0;
  virtual std::string weights_file_name() const = 0;  // e.g. "ant_weights_last.pth"
};

// The task options.task names; throws Error for unknown tasks and unreadable data.
std::unique_ptr<TrainTask> CreateTrainTask(const TrainOptions& options, const JobContext* job = nullptr);

}  // namespace animerun::train
