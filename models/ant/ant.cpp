#include "models/ant/ant.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace animerun::models {

void AntConfig::Check() const {
  if (descriptor_dim < 4 || descriptor_dim % 4 != 0)
    throw std::invalid_argument("AnT descriptor_dim must be a positive multiple of 4, got " +
                                std::to_string(descriptor_dim));
  for (int64_t w : keypoint_encoder)
    if (w <= 0) throw std::invalid_argument("AnT keypoint_encoder widths must be positive");
  if (gnn_layer_num < 0 || gnn_layer_num > 100)
    throw std::invalid_argument("AnT gnn_layer_num must be in [0, 100], got " + std::to_string(gnn_layer_num));
  if (num_heads <= 0 || descriptor_dim % num_heads != 0)
    throw std::invalid_argument("AnT num_heads must divide descriptor_dim, got " + std::to_string(num_heads));
}

torch::Tensor NormalizeAntImage(const torch::Tensor& rgb) {
  torch::Tensor x = rgb;
  if (x.dim() == 3 && x.size(2) == 3) x = x.permute({2, 0, 1}).unsqueeze(0);
  if (x.dim() != 4 || x.size(1) != 3)
    throw std::invalid_argument("NormalizeAntImage: expected [B, 3, H, W] or [H, W, 3], got " + c10::str(rgb.sizes()));
  // The dataset's order of operations: float() * 2 / 255.0 - 1.0.
  return x.to(torch::kFloat).mul(2).div(255.0).sub(1.0).contiguous();
}

torch::Tensor NormalizeAntKeypoints(const torch::Tensor& kpts, int64_t height, int64_t width) {
  const double w = static_cast<double>(width), h = static_cast<double>(height);
  const torch::Tensor size = torch::tensor({w, w, h, h}, kpts.options().dtype(torch::kFloat));
  const torch::Tensor center = size / 2;
  const torch::Tensor scaling = size.max() * 0.7;
  return (kpts.to(torch::kFloat) - center) / scaling;
}

torch::Tensor AppendDustbin(const torch::Tensor& scores, const torch::Tensor& bin_score) {
  const int64_t b = scores.size(0), m = scores.size(1), n = scores.size(2);
  const torch::Tensor alpha = bin_score.to(scores.scalar_type());
  const torch::Tensor bins0 = alpha.expand({b, m, 1});
  const torch::Tensor bins1 = alpha.expand({b, 1, n});
  const torch::Tensor corner = alpha.expand({b, 1, 1});
  return torch::cat({torch::cat({scores, bins0}, -1), torch::cat({bins1, corner}, -1)}, 1);
}

AntPrediction PredictAntMatches(const torch::Tensor& scores) {
  if (scores.dim() != 3 || scores.size(1) < 1 || scores.size(2) < 1)
    throw std::invalid_argument("PredictAntMatches: scores must be [B, N0+1, N1+1], got " + c10::str(scores.sizes()));
  const int64_t m = scores.size(1) - 1, n = scores.size(2) - 1;
  AntPrediction p;
  p.probabilities = torch::softmax(scores, 2);
  auto [max0, idx0] = p.probabilities.slice(1, 0, m).max(2);
  auto [max1, idx1] = p.probabilities.slice(2, 0, n).max(1);
  p.matches0 = torch::where(idx0 < n, idx0, torch::full_like(idx0, -1));
  p.matches1 = torch::where(idx1 < m, idx1, torch::full_like(idx1, -1));
  p.matching_scores0 = max0;
  return p;
}

torch::Tensor AntSegmentBoxes(const torch::Tensor& segments, int64_t n, torch::Tensor* counts_out) {
  torch::Tensor seg = segments.dim() == 3 && segments.size(0) == 1 ? segments[0] : segments;
  if (seg.dim() != 2 || seg.is_floating_point() || seg.scalar_type() == torch::kBool)
    throw std::invalid_argument("AntSegmentBoxes: segments must be integer [H, W] or [1, H, W], got " +
                                c10::str(segments.sizes()));
  if (n < 0) throw std::invalid_argument("AntSegmentBoxes: negative segment count");
  const int64_t h = seg.size(0), w = seg.size(1);
  const torch::Tensor index = seg.reshape({-1}).to(torch::kLong);
  if (index.numel() > 0 && n > 0) {
    const auto [lo, hi] = torch::aminmax(index);
    if (lo.item<int64_t>() < 0 || hi.item<int64_t>() >= n)
      throw std::invalid_argument("AntSegmentBoxes: ids must be in [0, " + std::to_string(n - 1) + "]");
  }
  // One pass over the pixels on the CPU (scatter_reduce's amin/amax would do it too, but
  // prints a "beta API" warning on every run).
  const torch::Tensor ids = index.to(torch::kCPU).contiguous();
  const int64_t* id = ids.data_ptr<int64_t>();
  torch::Tensor boxes = torch::zeros({n, 4}, torch::kLong);
  torch::Tensor counts = torch::zeros({n}, torch::kLong);
  int64_t* box = boxes.data_ptr<int64_t>();
  int64_t* count = counts.data_ptr<int64_t>();
  for (int64_t y = 0, p = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x, ++p) {
      int64_t* b = box + 4 * id[p];
      if (count[id[p]]++ == 0) {
        b[0] = b[1] = x;
        b[2] = b[3] = y;
        continue;
      }
      b[0] = std::min(b[0], x);
      b[1] = std::max(b[1], x);
      b[3] = y;  // raster order: y only grows
    }
  }
  if (counts_out) *counts_out = counts.to(segments.device());
  return boxes.to(segments.device());
}

torch::Tensor AntMatchingLoss(const torch::Tensor& scores, const torch::Tensor& all_matches,
                              const torch::Tensor& weights) {
  if (scores.dim() != 3 || scores.size(1) < 2 || scores.size(2) < 1)
    throw std::invalid_argument("AntMatchingLoss: scores must be [B, N0+1, N1+1], got " + c10::str(scores.sizes()));
  const int64_t b = scores.size(0), m = scores.size(1) - 1, n = scores.size(2) - 1;
  const torch::Tensor target = all_matches.to(scores.device(), torch::kLong).reshape({-1});
  if (target.numel() != b * m)
    throw std::invalid_argument("AntMatchingLoss: all_matches " + c10::str(all_matches.sizes()) +
                                " does not fit scores " + c10::str(scores.sizes()));
  if (target.numel() > 0) {
    const auto [lo, hi] = torch::aminmax(target);
    if (lo.item<int64_t>() < -1 || hi.item<int64_t>() >= n)
      throw std::invalid_argument("AntMatchingLoss: all_matches must be in [-1, " + std::to_string(n - 1) + "]");
  }
  const torch::Tensor t = torch::where(target == -1, torch::full_like(target, n), target);
  const torch::Tensor rows = scores.slice(1, 0, m).reshape({-1, n + 1});
  if (!weights.defined()) return torch::nn::functional::cross_entropy(rows, t);
  if (weights.numel() != b * m)
    throw std::invalid_argument("AntMatchingLoss: weights " + c10::str(weights.sizes()) + " do not fit scores " +
                                c10::str(scores.sizes()));
  namespace F = torch::nn::functional;
  const torch::Tensor ce = F::cross_entropy(rows, t, F::CrossEntropyFuncOptions().reduction(torch::kNone));
  const torch::Tensor w = weights.to(ce.device(), ce.scalar_type()).reshape({-1});
  return (ce * w).sum() / static_cast<double>(b);
}

torch::Tensor AntAreaWeights(const torch::Tensor& counts, int64_t height, int64_t width) {
  if (height <= 0 || width <= 0) throw std::invalid_argument("AntAreaWeights: empty image size");
  const torch::Tensor c = counts.dim() == 1 ? counts.unsqueeze(0) : counts;
  return c.to(torch::kFloat) / static_cast<double>(height * width);
}

AntNetImpl::AntNetImpl(const AntConfig& config) : config_(config) {
  config_.Check();
  const int64_t d = config_.descriptor_dim;
  // Registration order follows the original's __init__ (and so its state dict order after
  // bin_score, which PyTorch lists first as a direct parameter).
  kenc_ = register_module("kenc", AntKeypointEncoder(d, config_.keypoint_encoder));
  std::vector<bool> cross;
  for (int i = 0; i < config_.gnn_layer_num; ++i) {
    cross.push_back(false);
    cross.push_back(true);
  }
  gnn_ = register_module("gnn", AntAttentionalGnn(d, cross, config_.num_heads));
  final_proj_ = register_module("final_proj", torch::nn::Conv1d(torch::nn::Conv1dOptions(d, d, 1).bias(true)));
  bin_score_ = register_parameter("bin_score", torch::tensor(1.0f));
  segment_desc_ = register_module("segment_desc", AntSegmentDescriptor(d));
}

namespace {

// Checks one frame and returns its segments as [1, H, W] and N.
std::pair<torch::Tensor, int64_t> CheckFrame(const AntFrame& f, const char* which) {
  const std::string name = std::string("AnT ") + which;
  if (!f.image.defined() || f.image.dim() != 4 || f.image.size(0) != 1 || f.image.size(1) != 3)
    throw std::invalid_argument(name + ": image must be [1, 3, H, W]" +
                                (f.image.defined() ? ", got " + c10::str(f.image.sizes()) : std::string()));
  if (!f.segments.defined() || !f.keypoints.defined())
    throw std::invalid_argument(name + ": segments and keypoints are required");
  torch::Tensor seg = f.segments.dim() == 2 ? f.segments.unsqueeze(0) : f.segments;
  if (seg.dim() == 4 && seg.size(1) == 1) seg = seg.squeeze(1);
  if (seg.dim() != 3 || seg.size(0) != 1 || seg.size(1) != f.image.size(2) || seg.size(2) != f.image.size(3))
    throw std::invalid_argument(name + ": segments " + c10::str(f.segments.sizes()) + " do not fit the image " +
                                c10::str(f.image.sizes()));
  if (seg.is_floating_point() || seg.is_complex() || seg.scalar_type() == torch::kBool)
    throw std::invalid_argument(name + ": segments must hold integer ids");
  if (f.keypoints.dim() != 3 || f.keypoints.size(0) != 1 || f.keypoints.size(2) != 4)
    throw std::invalid_argument(name + ": keypoints must be [1, N, 4], got " + c10::str(f.keypoints.sizes()));
  const int64_t n = f.keypoints.size(1);
  if (n < 2)
    throw std::invalid_argument(name + ": needs at least 2 segments, got " + std::to_string(n) +
                                " (the official model predicts -1 for such pairs without running)");
  const auto [lo, hi] = torch::aminmax(seg);
  if (lo.item<int64_t>() < 0 || hi.item<int64_t>() >= n)
    throw std::invalid_argument(name + ": segment ids must be in [0, " + std::to_string(n - 1) + "], got [" +
                                std::to_string(lo.item<int64_t>()) + ", " + std::to_string(hi.item<int64_t>()) + "]");
  return {seg, n};
}

}  // namespace

void AntNetImpl::UseEncoderPrecision(const std::string& precision) {
  if (precision != "fp32" && precision != "bf16")
    throw std::invalid_argument("AnT precision must be 'fp32' or 'bf16', got '" + precision + "'");
  segment_desc_->UsePrecision(encoder_precision_, precision);
}

FlopCount AntNetImpl::CountOfficialFlops(int64_t h, int64_t w, int64_t n0, int64_t n1) const {
  FlopCount count;
  for (const int64_t n : {n0, n1}) {  // each frame: full-resolution encoder, box encoder
    segment_desc_->CountFlops(count, 1, h, w);
    kenc_->CountFlops(count, 1, n);
  }
  gnn_->CountFlops(count, 1, n0, n1);
  count.Conv1d("attention", *final_proj_, 1, n0);
  count.Conv1d("attention", *final_proj_, 1, n1);
  count.Matmul("scores", 1, n0, n1, config_.descriptor_dim);  // einsum('bdn,bdm->bnm')
  return count;
}

AntOutput AntNetImpl::Forward(const AntFrame& frame0, const AntFrame& frame1) {
  const auto [seg0, n0] = CheckFrame(frame0, "frame 0");
  const auto [seg1, n1] = CheckFrame(frame1, "frame 1");
  AntOutput out;
  const auto descriptors = [&](const AntFrame& f, const torch::Tensor& seg, int64_t n, const char* which) {
    if (!f.descriptors.defined()) return segment_desc_->forward(f.image, seg, n);
    if (f.descriptors.dim() != 3 || f.descriptors.size(0) != 1 || f.descriptors.size(1) != config_.descriptor_dim ||
        f.descriptors.size(2) != n)
      throw std::invalid_argument(std::string("AnT ") + which + ": descriptors must be [1, " +
                                  std::to_string(config_.descriptor_dim) + ", " + std::to_string(n) + "], got " +
                                  c10::str(f.descriptors.sizes()));
    return f.descriptors;
  };
  out.segment_desc0 = descriptors(frame0, seg0, n0, "frame 0");
  out.segment_desc1 = descriptors(frame1, seg1, n1, "frame 1");

  const auto& opts = out.segment_desc0.options();
  const torch::Tensor kpts0 =
      NormalizeAntKeypoints(frame0.keypoints.to(opts.device()), frame0.image.size(2), frame0.image.size(3));
  const torch::Tensor kpts1 =
      NormalizeAntKeypoints(frame1.keypoints.to(opts.device()), frame1.image.size(2), frame1.image.size(3));
  torch::Tensor desc0 = out.segment_desc0 + kenc_->forward(kpts0);
  torch::Tensor desc1 = out.segment_desc1 + kenc_->forward(kpts1);

  std::tie(desc0, desc1) = gnn_->forward(desc0, desc1);
  const torch::Tensor mdesc0 = PointwiseConv1d(*final_proj_, desc0);
  const torch::Tensor mdesc1 = PointwiseConv1d(*final_proj_, desc1);
  // einsum('bdn,bdm->bnm') / d ** .5
  const torch::Tensor scores =
      torch::matmul(mdesc0.transpose(1, 2), mdesc1) / std::sqrt(static_cast<double>(config_.descriptor_dim));
  out.scores = AppendDustbin(scores, bin_score_);
  return out;
}

torch::Tensor AntNetImpl::SegmentDescriptors(const AntFrame& frame) {
  const auto [seg, n] = CheckFrame(frame, "frame");
  return segment_desc_->forward(frame.image, seg, n);
}

LoadReport LoadAntWeights(AntNetImpl& net, const std::string& path, bool strict) {
  const StateDict state = LoadStateDict(path);  // takes 'model', strips 'module.'
  try {
    return LoadIntoModule(net, state, nullptr, strict);
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    if (what.find(path) != std::string::npos) throw;
    throw std::runtime_error(path + ": not an AnT checkpoint: " + what);
  }
}

void SaveAntWeights(const AntNetImpl& net, const std::string& path) {
  // The segmat code reads checkpoint['model'] (a DataParallel state dict).
  SaveStateDict(path, ModuleStateDict(net, [](const std::string& key) { return "module." + key; }), "", "model");
}

}  // namespace animerun::models
