#include "core/train/flow_task.h"

#include "core/data/flow_mixture.h"
#include "core/flow/flow_eval.h"
#include "core/flow/model_predict.h"
#include "models/common/torch_compat.h"
#include "core/train/flow_loss.h"
#include "core/util/error.h"
#include "models/common/dnnl_winograd_conv.h"
#include "models/common/flow_factory.h"
#include "models/common/runtime.h"

namespace animerun::train {

namespace {

// Samples -> [B,3,H,W] float images in [0, 255], [B,2,H,W] flow, [B,H,W] valid.
struct Batch {
  torch::Tensor image1, image2, flow, valid;
};

Batch ToBatch(const std::vector<data::FlowSample>& samples, const torch::Device& device) {
  std::vector<torch::Tensor> a, b, f, v;
  for (const auto& s : samples) {
    auto wrap = [](const cv::Mat& m, int channels, torch::ScalarType type) {
      const cv::Mat c = m.isContinuous() ? m : m.clone();
      return torch::from_blob(c.data, {c.rows, c.cols, channels}, type).clone();
    };
    a.push_back(wrap(s.image1, 3, torch::kUInt8).permute({2, 0, 1}));
    b.push_back(wrap(s.image2, 3, torch::kUInt8).permute({2, 0, 1}));
    f.push_back(wrap(s.flow, 2, torch::kFloat).permute({2, 0, 1}));
    v.push_back(wrap(s.valid, 1, torch::kUInt8).squeeze(2));
  }
  Batch out;
  out.image1 = torch::stack(a).to(device, torch::kFloat).contiguous();
  out.image2 = torch::stack(b).to(device, torch::kFloat).contiguous();
  out.flow = torch::stack(f).to(device).contiguous();
  out.valid = torch::stack(v).to(device, torch::kFloat).contiguous();
  return out;
}

}  // namespace

std::vector<data::FlowSetOptions> ResolveFlowDatasets(const TrainOptions& o, std::vector<int>* repeats) {
  std::vector<data::FlowSetOptions> out;
  repeats->clear();
  for (const auto& e : data::ParseFlowMixture(o.datasets)) {
    data::FlowSetOptions s;
    s.kind = e.kind;
    std::string field;
    const std::string fallback = o.FlowRoot(e.kind, &field);
    s.root = e.path.empty() ? fallback : e.path;
    if (s.root.empty())
      throw Error("datasets: '" + e.kind + "' needs its " + (e.kind == "pairs" ? "list file" : "folder") + ": set " +
                  field + "=PATH or write " + e.kind + "@PATH in datasets");
    if (e.kind == "anime") {
      s.split = o.train_split;
      s.pass = o.pass;
    }
    out.push_back(s);
    repeats->push_back(e.repeat);
  }
  return out;
}

FlowTrainTask::FlowTrainTask(const TrainOptions& options, const JobContext* job, const TrainShard& shard)
    : options_(options), shard_(shard), device_(ResolveTrainDevice(options, shard)) {
  options_.Check();
  Require(options_.task == "flow", "FlowTrainTask: task must be flow");

  models::SetWinogradTraining(options_.winograd);  // process-wide: one task per training process
  torch::manual_seed(static_cast<uint64_t>(options_.seed));  // the initial weights follow the seed
  try {
    model_ = models::CreateFlowModel(options_.model);
  } catch (const std::exception& e) {
    throw Error(std::string("model: ") + e.what());
  }
  const int multiple = model_->TrainSizeMultiple(), min_size = model_->TrainMinSize();
  if (options_.crop_height % multiple != 0 || options_.crop_width % multiple != 0 ||
      options_.crop_height < min_size || options_.crop_width < min_size)
    throw Error("crop_height/crop_width: " + options_.model + " trains on crops that are multiples of " +
                std::to_string(multiple) + " and at least " + std::to_string(min_size) + " px, got " +
                std::to_string(options_.crop_height) + "x" + std::to_string(options_.crop_width));
  if (!options_.init_weights.empty()) {
    try {
      model_->LoadWeights(options_.init_weights, /*strict=*/true);
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw Error("init_weights: " + (what.find(options_.init_weights) == std::string::npos
                                          ? options_.init_weights + ": " + what
                                          : what) +
                  " (expected " + models::OfficialCheckpointHint(options_.model) + ")");
    }
  }
  model_->To(device_);

  // Every dataset indexed and checked before the first step.
  std::vector<int> repeats;
  std::vector<data::FlowSet> sets;
  for (const auto& s : ResolveFlowDatasets(options_, &repeats)) {
    if (job) job->Report(0.0, "indexing " + s.kind + " (" + s.root.string() + ")");
    sets.push_back(data::IndexFlowSet(s, job));
    // A frame without its flow or an unreadable file is an error before training starts.
    // Only Creative Flow+ scenes whose counts disagree are skipped, as the official reader does.
    const auto& problems = sets.back().problems;
    if (s.kind != "creative" && !problems.empty())
      throw Error(s.kind + " (" + s.root.string() + "): " + problems.front() +
                  (problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) + " more problems)" : ""));
    reports_.push_back(data::CheckFlowSet(sets.back(), job));
  }
  mixture_ = std::make_shared<data::FlowMixture>(std::move(sets), repeats);

  data::FlowLoaderOptions lo;
  lo.seed = static_cast<uint64_t>(options_.seed);
  lo.batch = options_.batch_size;
  // Rank r of W takes the pairs [r*B/W, (r+1)*B/W) of each global batch of B.
  lo.first = shard_.rank * options_.batch_size / shard_.world_size;
  lo.count = (shard_.rank + 1) * options_.batch_size / shard_.world_size - lo.first;
  share_ = static_cast<double>(lo.count) / options_.batch_size;
  lo.workers = options_.workers;
  lo.augment.crop_height = options_.crop_height;
  lo.augment.crop_width = options_.crop_width;
  lo.augment.min_scale = options_.min_scale;
  lo.augment.max_scale = options_.max_scale;
  lo.augment.do_flip = options_.do_flip;
  lo.augment.photometric = options_.photometric;
  loader_ = std::make_unique<data::FlowBatchLoader>(mixture_, lo);

  if (!options_.val_split.empty() && !options_.data.empty()) {
    data::DatasetOptions d;
    d.split = options_.val_split;
    d.pass = options_.pass;
    d.Check();
    val_ = data::AnimeRunDataset::Open(options_.data, d, job);
  }
  TrainMode();
}

FlowTrainTask::~FlowTrainTask() = default;

void FlowTrainTask::TrainMode() { models::SetTrainMode(model_->module(), model_->FreezesBatchNorm()); }

SampleLoss FlowTrainTask::TrainSample(TrainRng& /*rng: batches depend on (seed, index) alone*/, int64_t index) {
  const Batch b = ToBatch(loader_->Get(index), device_);
  FlowLossResult r;
  {
    // bf16 (CPU or CUDA) or fp16 (CUDA; the trainer scales the loss): the autocast lists
    // decide which ops run reduced; correlation, flow and loss stay fp32.
    const bool reduced = options_.precision != "fp32" && (device_.is_cpu() || device_.is_cuda());
    models::compat::Autocast autocast(device_.type(), options_.precision == "fp16" ? c10::kHalf : c10::kBFloat16,
                                      reduced);
    const std::vector<torch::Tensor> preds = model_->TrainForward(b.image1, b.image2, options_.refine_iters);
    r = SequenceLoss(preds, b.flow, b.valid, options_.gamma);
  }
  SampleLoss out;
  // The loss is a mean over this rank's pairs; scaled by their share of the batch, the
  // ranks' losses (and gradients) sum to the mean over the whole batch.
  out.loss = share_ == 1.0 ? r.loss : r.loss * share_;
  out.share = share_;
  out.metric_weight = static_cast<double>(r.supervised);
  if (r.epe) {
    out.metrics["epe"] = *r.epe;
    out.metrics["px1"] = *r.px1;
    out.metrics["px3"] = *r.px3;
    out.metrics["px5"] = *r.px5;
  }
  return out;
}

nlohmann::json FlowTrainTask::Evaluate(const JobContext* job) {
  if (!val_) return nullptr;
  model_->module().eval();
  models::FlowInferenceOptions o;
  o.iters = options_.eval_iters;
  flow::FlowEvalResult result;
  try {
    result = flow::EvaluateFlow(
        *val_,
        [&](const data::FramePair&, const data::PairData& d) {
          return flow::PredictWithModel(*model_, d.image1, d.image2, o, options_.model);
        },
        job, options_.eval_pairs);
  } catch (...) {
    TrainMode();
    throw;
  }
  TrainMode();
  nlohmann::json j = result.overall.ToJson();
  j.erase("bucket_pixels");  // counts, not metrics: the curves need only the values
  return j;
}

void FlowTrainTask::SaveWeights(const std::string& path) {
  try {
    model_->SaveWeights(path);
  } catch (const std::exception& e) {
    throw Error(e.what());
  }
}

nlohmann::json FlowTrainTask::Describe() const {
  nlohmann::json sets = nlohmann::json::array();
  for (size_t i = 0; i < reports_.size(); ++i) {
    const auto& r = reports_[i];
    nlohmann::json res = nlohmann::json::object();
    for (const auto& [size, n] : r.resolutions) res[size] = n;
    sets.push_back({{"kind", r.kind},
                    {"root", r.root.string()},
                    {"pairs", r.pairs},
                    {"repeat", mixture_->repeats()[i]},
                    {"resolutions", res},
                    {"problems", mixture_->sets()[i].problems},
                    {"summary", r.Summary()}});
  }
  int64_t params = 0;
  for (const auto& p : models::UniqueParameters(model_->module())) params += p.numel();
  return {{"model", options_.model},
          {"parameters", params},
          {"datasets", sets},
          {"epoch_size", mixture_->epoch_size()},
          {"batches_per_epoch", mixture_->BatchesPerEpoch(options_.batch_size)},
          {"validation", val_ ? nlohmann::json(val_->root().string()) : nlohmann::json(nullptr)}};
}

}  // namespace animerun::train
