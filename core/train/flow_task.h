// An optical-flow network (RAFT, RAFT-small, GMA, GMFlow, GMFlow-refine, PWC-Net) as a
// training task, with the recipe of AnimeRun's finetuning scripts: a mixture of flow sets
// (flow_mixture.h) augmented as RAFT's FlowAugmentor does (flow_augment.h), batches made
// by worker threads ahead of the model (flow_loader.h), the official training-mode forward
// (FlowModel::TrainForward) and sequence loss (flow_loss.h), BatchNorm frozen where the
// official stages freeze it, validation with AnimeRun's flow metrics on the val split, and
// the weights exported in the network's official release format.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/data/animerun_dataset.h"
#include "core/data/flow_datasets.h"
#include "core/data/flow_loader.h"
#include "core/train/train_task.h"
#include "models/common/flow_model.h"

namespace animerun::train {

// The mixture entries of options.datasets with their folders resolved (an entry's @PATH, or
// the kind's default: data, things_root, sintel_root, creative_root, pairs_file). Throws
// Error naming the entry whose folder is not given.
std::vector<data::FlowSetOptions> ResolveFlowDatasets(const TrainOptions& options, std::vector<int>* repeats);

class FlowTrainTask : public TrainTask {
 public:
  // Creates the network (seeded), loads init_weights, indexes and checks every dataset
  // (a missing folder, a frame without its flow or a corrupt file is an Error naming it;
  // only Creative Flow+ scenes whose counts disagree are skipped, as the official reader
  // does) and starts the batch workers. Reports progress through job.
  FlowTrainTask(const TrainOptions& options, const JobContext* job = nullptr, const TrainShard& shard = {});
  ~FlowTrainTask() override;

  std::string name() const override { return "flow"; }
  torch::nn::Module& module() override { return model_->module(); }
  void TrainMode() override;
  // In a data-parallel run, this rank's pairs of the global batch (flow_loader.h), the
  // loss scaled by their share of it.
  SampleLoss TrainSample(TrainRng& rng, int64_t index) override;
  Split split() const override { return Split::kWithinSample; }
  void SkipSample(TrainRng& /*rng*/, int64_t /*index*/) override {}  // never called: every rank takes part
  std::vector<std::string> MetricNames() const override { return {"epe", "px1", "px3", "px5"}; }
  nlohmann::json Evaluate(const JobContext* job) override;
  void SaveWeights(const std::string& path) override;
  std::string weights_file_name() const override { return "flow_weights_last.pth"; }
  nlohmann::json Describe() const override;

  models::FlowModel& model() { return *model_; }
  const std::vector<data::FlowSetReport>& reports() const { return reports_; }

 private:
  TrainOptions options_;
  TrainShard shard_;
  torch::Device device_;
  std::unique_ptr<models::FlowModel> model_;
  std::shared_ptr<data::FlowMixture> mixture_;
  std::vector<data::FlowSetReport> reports_;
  std::unique_ptr<data::FlowBatchLoader> loader_;
  double share_ = 1.0;  // this rank's fraction of each batch
  std::optional<data::AnimeRunDataset> val_;
};

}  // namespace animerun::train
