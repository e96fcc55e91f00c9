#include "core/train/train_task.h"

#include "core/train/ant_task.h"
#include "core/train/flow_task.h"
#include "core/util/error.h"
#include "models/common/flow_model.h"

namespace animerun::train {

std::vector<torch::Tensor> TrainTask::Parameters() { return models::UniqueParameters(module()); }

std::unique_ptr<TrainTask> CreateTrainTask(const TrainOptions& options, const JobContext* job) {
  options.Check();
  if (options.task == "ant") return std::make_unique<AntTrainTask>(options, job);
  if (options.task == "flow") return std::make_unique<FlowTrainTask>(options, job);
  throw Error("task: unknown task '" + options.task + "'");
}

}  // namespace animerun::train
