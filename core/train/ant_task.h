// AnT as a training task: samples from an AnimeRun-layout split (Frame_Anime/<pass>,
// Segment, SegMatching forward), random crops renumbered as the official augmentor does,
// the official scores -> cross-entropy loss with optional area weights, validation with
// AnimeRun's segment-matching metrics (match_metrics.h) on whole frames.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/data/animerun_dataset.h"
#include "core/train/ant_data.h"
#include "core/train/train_task.h"
#include "models/ant/ant.h"

namespace animerun::train {

// Tensors of one frame as AntNet::Forward takes them.
models::AntFrame AntFrameFromSample(const cv::Mat& image, const cv::Mat& labels,
                                    const std::vector<std::array<int, 4>>& boxes, const torch::Device& device);

class AntTrainTask : public TrainTask {
 public:
  AntTrainTask(const TrainOptions& options, const JobContext* job = nullptr, const TrainShard& shard = {});
  std::string name() const override { return "ant"; }
  torch::nn::Module& module() override { return *net_; }
  SampleLoss TrainSample(TrainRng& rng, int64_t index) override;
  // With dustbin_lr_scale != 1: everything else, then bin_score at lr * dustbin_lr_scale.
  std::vector<ParamGroup> ParamGroups() override;
  // Ranks take whole samples: a sample is a random pair and a random crop of it.
  Split split() const override { return Split::kWholeSamples; }
  void SkipSample(TrainRng& rng, int64_t index) override;
  std::vector<std::string> MetricNames() const override { return {"acc"}; }
  nlohmann::json Evaluate(const JobContext* job) override;
  void SaveWeights(const std::string& path) override;
  std::string weights_file_name() const override { return "ant_weights_last.pth"; }

  // Predicted matches for a whole pair (inference mode); -1 everywhere when a frame has
  // fewer than 2 segments (the official forward does the same).
  std::vector<int> Predict(const AntSample& sample);
  models::AntNet& net() { return net_; }

 private:
  struct Loaded {
    cv::Mat image0, image1, labels0, labels1;
    std::vector<int> matches;
  };
  Loaded LoadTrainPair(size_t index);
  cv::Size PairSize(size_t index);  // of the first frame, as the crop is drawn for it

  TrainOptions options_;
  torch::Device device_;
  models::AntNet net_{nullptr};
  std::vector<data::FramePair> train_pairs_;
  std::vector<std::optional<Loaded>> cache_;
  // freeze_encoder + cache_data, whole-frame samples: each pair's encoder descriptors
  // (frame 0, frame 1), computed once. The sample of such a pair never changes, and the
  // encoder does not either, so this gives the same numbers as recomputing them.
  std::vector<std::optional<std::pair<torch::Tensor, torch::Tensor>>> descriptor_cache_;
  std::vector<cv::Size> sizes_;  // per training pair, once known (empty size: not yet)
  std::optional<data::AnimeRunDataset> val_;
};

}  // namespace animerun::train
