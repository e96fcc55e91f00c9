#include "core/train/ant_task.h"

#include <algorithm>

#include "core/io/match_json.h"
#include "core/segments/match_metrics.h"
#include "core/util/error.h"
#include "models/common/runtime.h"

namespace animerun::train {

namespace {

// The pair files AnT needs (LoadPair decodes whatever paths are set).
data::FramePair AntFiles(const data::FramePair& p) {
  data::FramePair t = data::PairIdentity(p);
  t.image1 = p.image1;
  t.image2 = p.image2;
  t.segment1 = p.segment1;
  t.segment2 = p.segment2;
  return t;
}

bool Usable(const data::FramePair& p) {
  return !p.image1.empty() && !p.image2.empty() && !p.segment1.empty() && !p.segment2.empty() &&
         !p.match_forward.empty();
}

data::AnimeRunDataset OpenSplit(const TrainOptions& o, const std::string& split, const JobContext* job) {
  data::DatasetOptions d;
  d.split = split;
  d.pass = o.pass;
  d.Check();
  return data::AnimeRunDataset::Open(o.data, d, job);
}

}  // namespace

models::AntFrame AntFrameFromSample(const cv::Mat& image, const cv::Mat& labels,
                                    const std::vector<std::array<int, 4>>& boxes, const torch::Device& device) {
  const cv::Mat img = image.isContinuous() ? image : image.clone();
  const cv::Mat lab = labels.isContinuous() ? labels : labels.clone();
  models::AntFrame f;
  const torch::Tensor rgb = torch::from_blob(img.data, {1, img.rows, img.cols, 3}, torch::kUInt8).permute({0, 3, 1, 2});
  f.image = models::NormalizeAntImage(rgb).contiguous().to(device);
  f.segments = torch::from_blob(lab.data, {1, lab.rows, lab.cols}, torch::kInt32).to(device, torch::kLong);
  torch::Tensor k = torch::empty({1, static_cast<int64_t>(boxes.size()), 4}, torch::kFloat);
  auto acc = k.accessor<float, 3>();
  for (size_t i = 0; i < boxes.size(); ++i)
    for (int c = 0; c < 4; ++c) acc[0][i][c] = static_cast<float>(boxes[i][c]);
  f.keypoints = k.to(device);
  return f;
}

AntTrainTask::AntTrainTask(const TrainOptions& options, const JobContext* job, const TrainShard& shard)
    : options_(options), device_(ResolveTrainDevice(options, shard)) {
  options_.Check();
  const data::AnimeRunDataset train = OpenSplit(options_, options_.train_split, job);
  for (const auto& p : train.AllPairs())
    if (Usable(p)) train_pairs_.push_back(p);
  if (train_pairs_.empty())
    throw Error(train.root().string() + ": no training pairs with frames, Segment maps and forward SegMatching");
  cache_.resize(options_.cache_data ? train_pairs_.size() : 0);
  descriptor_cache_.resize(options_.cache_data && options_.freeze_encoder ? train_pairs_.size() : 0);
  sizes_.resize(train_pairs_.size());
  if (!options_.val_split.empty()) val_ = OpenSplit(options_, options_.val_split, job);

  torch::manual_seed(static_cast<uint64_t>(options_.seed));  // the initial weights follow the seed
  net_ = models::AntNet(models::AntConfig{});
  if (!options_.init_weights.empty()) {
    try {
      models::LoadAntWeights(*net_, options_.init_weights, true);
    } catch (const std::exception& e) {
      throw Error(e.what());
    }
  }
  if (options_.freeze_encoder) {
    // No gradient reaches these weights, so autograd records nothing of the encoder (its
    // input needs none either) and it runs its inference path; Adam skips them.
    for (auto& p : net_->named_parameters())
      if (p.key().rfind("segment_desc.", 0) == 0) p.value().set_requires_grad(false);
  }
  net_->to(device_);
}

std::vector<TrainTask::ParamGroup> AntTrainTask::ParamGroups() {
  if (options_.dustbin_lr_scale == 1.0) return TrainTask::ParamGroups();
  // One scalar sets where every row's dustbin stands against scores the rest of the network
  // can scale freely (they reach ~5-10); Adam moves it about lr per update, too slowly.
  const torch::Tensor bin = net_->named_parameters()["bin_score"];
  ParamGroup rest, dustbin{{bin}, options_.dustbin_lr_scale};
  for (const auto& p : Parameters())
    if (!p.is_same(bin)) rest.params.push_back(p);
  return {rest, dustbin};
}

AntTrainTask::Loaded AntTrainTask::LoadTrainPair(size_t index) {
  if (index < cache_.size() && cache_[index]) return *cache_[index];
  const data::FramePair& p = train_pairs_[index];
  const data::PairData d = data::LoadPair(AntFiles(p));
  Loaded l{d.image1, d.image2, d.segment1, d.segment2, io::ReadMatchJson(p.match_forward)};
  if (index < cache_.size()) cache_[index] = l;
  sizes_[index] = l.image0.size();
  return l;
}

cv::Size AntTrainTask::PairSize(size_t index) {
  if (sizes_[index].empty()) LoadTrainPair(index);
  return sizes_[index];
}

void AntTrainTask::SkipSample(TrainRng& rng, int64_t /*index*/) {
  // The draws of TrainSample, without the model: the pair, then its crop.
  const size_t index = static_cast<size_t>(rng.Below(static_cast<int64_t>(train_pairs_.size())));
  RandomCropRect(PairSize(index), options_.crop_height, options_.crop_width, rng);
}

SampleLoss AntTrainTask::TrainSample(TrainRng& rng, int64_t /*index: AnT draws with rng*/) {
  const size_t index = static_cast<size_t>(rng.Below(static_cast<int64_t>(train_pairs_.size())));
  const Loaded l = LoadTrainPair(index);
  const cv::Rect roi = RandomCropRect(l.image0.size(), options_.crop_height, options_.crop_width, rng);
  const AntSample s = CropAntSample(l.image0, l.image1, l.labels0, l.labels1, l.matches, roi);
  SampleLoss out;
  if (s.num0() < 2 || s.num1() < 2) return out;  // the official model skips such pairs too

  net_->train();
  models::AntFrame f0 = AntFrameFromSample(s.image0, s.labels0, s.boxes0, device_);
  models::AntFrame f1 = AntFrameFromSample(s.image1, s.labels1, s.boxes1, device_);
  if (index < descriptor_cache_.size() && roi.size() == l.image0.size()) {
    // The encoder's inference at full resolution was ~2/3 of such an update (640x360).
    auto& d = descriptor_cache_[index];
    // Computed as Forward would (grad mode on: the frozen encoder records nothing, and the
    // convolutions keep the training layout, so the numbers are the uncached ones).
    if (!d) d.emplace(net_->SegmentDescriptors(f0), net_->SegmentDescriptors(f1));
    f0.descriptors = d->first;
    f1.descriptors = d->second;
  }
  const models::AntOutput o = net_->Forward(f0, f1);
  const torch::Tensor gt = torch::tensor(std::vector<int64_t>(s.matches.begin(), s.matches.end())).unsqueeze(0);
  torch::Tensor weights;
  if (options_.area_weighted) {
    const torch::Tensor counts = torch::tensor(s.area0).unsqueeze(0);
    weights = models::AntAreaWeights(counts, s.labels0.rows, s.labels0.cols);
  }
  if (options_.unmatched_weight != 1.0) {
    // Rows with the dustbin as target count unmatched_weight times; without area weights each
    // row starts at 1/N0, the plain mean's share (so 1.0 would give the mean).
    const torch::Tensor unmatched = gt.eq(-1);
    if (!weights.defined()) weights = torch::full(gt.sizes(), 1.0 / static_cast<double>(gt.size(1)), torch::kFloat);
    weights = torch::where(unmatched, weights * options_.unmatched_weight, weights);
  }
  out.loss = models::AntMatchingLoss(o.scores, gt, weights);
  const torch::Tensor pred = models::PredictAntMatches(o.scores.detach()).matches0.cpu();
  out.metrics["acc"] = pred.eq(gt).to(torch::kDouble).mean().item<double>();
  return out;
}

std::vector<int> AntTrainTask::Predict(const AntSample& s) {
  if (s.num0() < 2 || s.num1() < 2) return std::vector<int>(s.num0(), -1);
  c10::InferenceMode guard;
  net_->eval();
  const models::AntOutput o = net_->Forward(AntFrameFromSample(s.image0, s.labels0, s.boxes0, device_),
                                            AntFrameFromSample(s.image1, s.labels1, s.boxes1, device_));
  const torch::Tensor m = models::PredictAntMatches(o.scores).matches0.cpu().reshape({-1}).to(torch::kLong);
  std::vector<int> out(m.numel());
  for (int64_t i = 0; i < m.numel(); ++i) out[i] = static_cast<int>(m[i].item<int64_t>());
  return out;
}

nlohmann::json AntTrainTask::Evaluate(const JobContext* job) {
  if (!val_) return nullptr;
  std::vector<data::FramePair> pairs;
  for (const auto& p : val_->AllPairs())
    if (Usable(p)) pairs.push_back(p);
  if (options_.eval_pairs > 0 && pairs.size() > static_cast<size_t>(options_.eval_pairs))
    pairs.resize(options_.eval_pairs);
  if (pairs.empty()) throw Error(val_->root().string() + ": no validation pairs with Segment maps and SegMatching");
  segments::MatchMetricsAccumulator acc;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (job) {
      job->CheckCancel();
      job->Report(static_cast<double>(i) / pairs.size(), "validation pair " + std::to_string(i + 1));
    }
    const data::FramePair& p = pairs[i];
    const data::PairData d = data::LoadPair(AntFiles(p));
    const std::vector<int> gt = io::ReadMatchJson(p.match_forward);
    const AntSample s = WholeAntSample(d.image1, d.image2, d.segment1, d.segment2, gt);
    std::vector<int> pred = Predict(s);
    pred.resize(gt.size(), -1);  // len(gt) defines the pair's segments, as in the official eval
    segments::MatchPairMetrics m =
        segments::ComputeMatchPairMetrics(pred, gt, d.segment1, d.segment2, p.match_forward.string());
    m.scene = p.scene;
    m.name = p.name1;
    acc.Add(m);
  }
  nlohmann::json j = acc.Result().overall.ToJson();
  return j;
}

void AntTrainTask::SaveWeights(const std::string& path) {
  try {
    models::SaveAntWeights(*net_, path);
  } catch (const std::exception& e) {
    throw Error(e.what());
  }
}



}  // namespace animerun::train
