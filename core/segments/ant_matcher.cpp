#include "core/segments/ant_matcher.h"

#include <torch/torch.h>

#include <cstring>
#include <limits>
#include <vector>

#include "core/util/error.h"
#include "models/ant/ant.h"
#include "models/common/runtime.h"

namespace animerun::segments {

void AntMatcherOptions::Check() const {
  Require(allow_random_weights || !weights.empty(), "matcher 'ant' needs its checkpoint (--weights FILE)");
  Require(threads >= 0, "threads must be >= 0");
  Require(precision == "fp32" || precision == "bf16", "AnT precision must be fp32 or bf16, got '" + precision + "'");
  try {
    models::CheckDeviceName(device.c_str());
  } catch (const std::exception& e) {
    throw Error(e.what());
  }
}

struct AntMatcher::Impl {
  models::AntNet net{nullptr};
  torch::Device device{torch::kCPU};
};

std::vector<std::pair<std::string, double>> AntMatcher::OfficialFlops(int height, int width, int n0, int n1) const {
  return impl_->net->CountOfficialFlops(height, width, n0, n1).parts();
}

AntMatcher::AntMatcher(const AntMatcherOptions& options) : options_(options), impl_(std::make_unique<Impl>()) {
  options_.Check();
  if (options_.threads > 0) models::ConfigureThreads(options_.threads);
  impl_->net = models::AntNet(models::AntConfig{});
  if (!options_.weights.empty()) {
    try {
      models::LoadAntWeights(*impl_->net, options_.weights, /*strict=*/true);
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw Error(what.find(options_.weights) == std::string::npos ? options_.weights + ": " + what : what);
    }
  }
  impl_->net->eval();
  impl_->device = torch::Device(options_.device);
  impl_->net->to(impl_->device);
  impl_->net->UseEncoderPrecision(options_.precision);
}

AntMatcher::~AntMatcher() = default;

namespace {

// One frame's label map, checked, with its ids renumbered to the present ones.
struct Frame {
  int n_total = 0;         // max id + 1
  std::vector<int> dense;  // old id -> new id, or -1 when absent
  std::vector<int> ids;    // new id -> old id
  torch::Tensor labels;    // int64 [1, H, W] with the new ids
};

Frame PrepareLabels(const cv::Mat& labels, const cv::Mat& image, const char* which) {
  const std::string name = std::string("ant matcher: frame ") + which;
  Require(image.type() == CV_8UC3 && !image.empty(), name + ": the image must be 8-bit RGB");
  Require(labels.type() == CV_32SC1, name + ": the label map must be CV_32SC1");
  Require(labels.size() == image.size(), name + ": label map " + std::to_string(labels.cols) + "x" +
                                             std::to_string(labels.rows) + " and image " +
                                             std::to_string(image.cols) + "x" + std::to_string(image.rows) +
                                             " differ in size");
  const cv::Mat l = labels.isContinuous() ? labels : labels.clone();
  const int32_t* p = l.ptr<int32_t>();
  const size_t count = l.total();
  int max_id = -1;
  for (size_t i = 0; i < count; ++i) {
    Require(p[i] >= 0, name + ": negative segment id " + std::to_string(p[i]));
    max_id = std::max(max_id, p[i]);
  }
  Frame f;
  f.n_total = max_id + 1;
  std::vector<char> present(f.n_total, 0);
  for (size_t i = 0; i < count; ++i) present[p[i]] = 1;
  f.dense.assign(f.n_total, -1);
  for (int id = 0; id < f.n_total; ++id)
    if (present[id]) {
      f.dense[id] = static_cast<int>(f.ids.size());
      f.ids.push_back(id);
    }
  torch::Tensor t = torch::empty({1, l.rows, l.cols}, torch::kLong);
  int64_t* out = t.data_ptr<int64_t>();
  for (size_t i = 0; i < count; ++i) out[i] = f.dense[p[i]];
  f.labels = t;
  return f;
}

torch::Tensor ImageTensor(const cv::Mat& rgb) {
  const cv::Mat c = rgb.isContinuous() ? rgb : rgb.clone();
  return models::NormalizeAntImage(torch::from_blob(c.data, {c.rows, c.cols, 3}, torch::kUInt8));
}

}  // namespace

MatchResult AntMatcher::Match(const MatchInput& input) {
  const Frame f0 = PrepareLabels(input.labels0, input.image0, "t");
  const Frame f1 = PrepareLabels(input.labels1, input.image1, "t+1");
  MatchResult r;
  r.matches.assign(f0.n_total, -1);
  r.confidence.assign(f0.n_total, 0.0f);
  const int64_t m = static_cast<int64_t>(f0.ids.size()), n = static_cast<int64_t>(f1.ids.size());
  if (m < 2 || n < 2) return r;  // the official forward's "no keypoints" branch

  torch::Tensor scores;
  models::AntPrediction pred;
  try {
    torch::InferenceMode guard;
    models::AntFrame a, b;
    a.image = ImageTensor(input.image0).to(impl_->device);
    b.image = ImageTensor(input.image1).to(impl_->device);
    a.keypoints = models::AntSegmentBoxes(f0.labels, m).unsqueeze(0);
    b.keypoints = models::AntSegmentBoxes(f1.labels, n).unsqueeze(0);
    a.segments = f0.labels.to(impl_->device);
    b.segments = f1.labels.to(impl_->device);
    scores = impl_->net->Forward(a, b).scores;
    pred = models::PredictAntMatches(scores);
    scores = scores[0].to(torch::kCPU, torch::kFloat32).contiguous();
    pred.matches0 = pred.matches0[0].to(torch::kCPU).contiguous();
    pred.matching_scores0 = pred.matching_scores0[0].to(torch::kCPU, torch::kFloat32).contiguous();
  } catch (const c10::Error& e) {
    throw Error(std::string("ant matcher: ") + e.what_without_backtrace());
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("ant matcher: ") + e.what());
  }

  const int64_t* mi = pred.matches0.data_ptr<int64_t>();
  const float* ms = pred.matching_scores0.data_ptr<float>();
  for (int64_t i = 0; i < m; ++i) {
    r.matches[f0.ids[i]] = mi[i] < 0 ? -1 : f1.ids[mi[i]];
    r.confidence[f0.ids[i]] = ms[i];
  }
  const float* s = scores.data_ptr<float>();
  if (m == f0.n_total && n == f1.n_total) {
    r.scores = cv::Mat(static_cast<int>(m + 1), static_cast<int>(n + 1), CV_32FC1);
    std::memcpy(r.scores.data, s, sizeof(float) * (m + 1) * (n + 1));
    return r;
  }
  // Back to the caller's ids: absent ids get -inf rows/columns (never a softmax argmax).
  r.scores = cv::Mat(f0.n_total + 1, f1.n_total + 1, CV_32FC1, cv::Scalar(-std::numeric_limits<float>::infinity()));
  auto row_of = [&](int64_t i) { return i < m ? f0.ids[i] : f0.n_total; };
  auto col_of = [&](int64_t j) { return j < n ? f1.ids[j] : f1.n_total; };
  for (int64_t i = 0; i <= m; ++i)
    for (int64_t j = 0; j <= n; ++j) r.scores.at<float>(row_of(i), col_of(j)) = s[i * (n + 1) + j];
  for (int id = 0; id < f0.n_total; ++id)
    if (f0.dense[id] < 0) r.scores.at<float>(id, f1.n_total) = s[m * (n + 1) + n];  // bin_score
  return r;
}

}  // namespace animerun::segments
