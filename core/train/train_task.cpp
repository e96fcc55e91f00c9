#include "core/train/train_task.h"

#include "core/train/ant_task.h"
#include "core/train/flow_task.h"
#include "core/util/error.h"
#include "models/common/flow_model.h"
#include "models/common/runtime.h"

namespace animerun::train {

std::vector<torch::Tensor> TrainTask::Parameters() { return models::UniqueParameters(module()); }

std::unique_ptr<TrainTask> CreateTrainTask(const TrainOptions& options, const JobContext* job,
                                           const TrainShard& shard) {
  options.Check();
  CheckDataParallel(options, shard.world_size);
  if (options.task == "ant") return std::make_unique<AntTrainTask>(options, job, shard);
  if (options.task == "flow") return std::make_unique<FlowTrainTask>(options, job, shard);
  throw Error("task: unknown task '" + options.task + "'");
}

torch::Device ResolveTrainDevice(const TrainOptions& options, const TrainShard& shard) {
  const std::string name =
      options.device == "cuda" && shard.world_size > 1 ? "cuda:" + std::to_string(shard.local_rank) : options.device;
  try {
    models::CheckDeviceName(name.c_str());
  } catch (const std::exception& e) {
    throw Error(std::string("device: ") + e.what());
  }
  return torch::Device(name);
}

void CheckDataParallel(const TrainOptions& options, int world_size) {
  Require(world_size >= 1, "world size must be >= 1");
  if (world_size == 1) return;
  const std::string n = std::to_string(world_size);
  if (options.task == "flow")
    Require(world_size <= options.batch_size, "batch_size: " + n + " processes split each batch, so batch_size must be >= " +
                                                  n + " (it is " + std::to_string(options.batch_size) + ")");
  else
    Require(world_size <= options.accumulation,
            "accumulation: " + n + " processes split the " + std::to_string(options.accumulation) +
                " samples of each AnT update, so accumulation must be >= " + n);
}

}  // namespace animerun::train
