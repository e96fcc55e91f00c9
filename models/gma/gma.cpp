#include "models/gma/gma.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "models/common/corr_on_demand.h"
#include "models/common/dnnl_matmul.h"
#include "models/raft/raft_family.h"

namespace animerun::models {

namespace nn = torch::nn;

namespace {

nn::Conv2d Conv1x1NoBias(int64_t in, int64_t out) { return nn::Conv2d(nn::Conv2dOptions(in, out, 1).bias(false)); }

constexpr int kCorrLevels = 4, kCorrRadius = 4;

}  // namespace

RelPosEmbImpl::RelPosEmbImpl(int64_t max_pos_size, int64_t dim_head) {
  rel_height_ = register_module("rel_height", nn::Embedding(2 * max_pos_size - 1, dim_head));
  rel_width_ = register_module("rel_width", nn::Embedding(2 * max_pos_size - 1, dim_head));
  auto pos = torch::arange(max_pos_size, torch::kLong);
  rel_ind_ = register_buffer("rel_ind", pos.view({1, -1}) - pos.view({-1, 1}) + (max_pos_size - 1));
}

AttentionImpl::AttentionImpl(int64_t dim, int64_t heads, int64_t dim_head, int64_t max_pos_size)
    : heads_(heads), dim_head_(dim_head), scale_(std::pow(static_cast<double>(dim_head), -0.5)) {
  to_qk_ = register_module("to_qk", Conv1x1NoBias(dim, heads * dim_head * 2));
  pos_emb_ = register_module("pos_emb", RelPosEmb(max_pos_size, dim_head));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& fmap) {
  const int64_t b = fmap.size(0), hw = fmap.size(2) * fmap.size(3);
  auto qk = to_qk_->forward(fmap).to(torch::kFloat).chunk(2, 1);
  // 'b (h d) x y -> b h x y d', flattened over (x y): q [b, heads, hw, d], k [b, heads, d, hw].
  auto q = qk[0].reshape({b, heads_, dim_head_, hw}).transpose(2, 3).mul(scale_);
  auto k = qk[1].reshape({b, heads_, dim_head_, hw});
  return CpuMatmul(q, k).softmax(-1);  // 'b h x y d, b h u v d -> b h (x y) (u v)'
}

void AttentionImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w) const {
  count.Conv("attention", *to_qk_, batch, h, w);
  // einsum('b h x y d, b h u v d -> b h x y u v'): a batched matrix product.
  count.Matmul("attention", batch * heads_, h * w, h * w, dim_head_);
}

AggregateImpl::AggregateImpl(int64_t dim, int64_t heads, int64_t dim_head) : heads_(heads), dim_head_(dim_head) {
  const int64_t inner = heads * dim_head;
  to_v_ = register_module("to_v", Conv1x1NoBias(dim, inner));
  gamma_ = register_parameter("gamma", torch::zeros({1}));
  if (dim != inner) project_ = register_module("project", Conv1x1NoBias(inner, dim));
}

torch::Tensor AggregateImpl::forward(const torch::Tensor& attn, const torch::Tensor& fmap) {
  const int64_t b = fmap.size(0), h = fmap.size(2), w = fmap.size(3);
  // 'b (h d) x y -> b h (x y) d'
  auto v = to_v_->forward(fmap).reshape({b, heads_, dim_head_, h * w}).transpose(2, 3);
  auto out = CpuMatmul(attn, v);  // 'b h i j, b h j d -> b h i d'
  // 'b h (x y) d -> b (h d) x y'
  out = out.permute({0, 1, 3, 2}).reshape({b, heads_ * dim_head_, h, w});
  if (project_) out = project_->forward(out);
  return fmap + gamma_ * out;
}

void AggregateImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const {
  count.Conv("aggregation", *to_v_, batch, h, w, times);
  count.Matmul("aggregation", batch * heads_, h * w, dim_head_, h * w, times);  // attn @ v
  if (project_) count.Conv("aggregation", *project_, batch, h, w, times);
}

GmaUpdateBlockImpl::GmaUpdateBlockImpl(int64_t cor_planes, int64_t hidden_dim, int64_t heads) {
  encoder_ = register_module("encoder", MotionEncoder(false, cor_planes));
  gru_ = register_module("gru", SepConvGRU(hidden_dim, 128 + hidden_dim + hidden_dim));
  flow_head_ = register_module("flow_head", FlowHead(hidden_dim, 256));
  mask_ = register_module("mask", MakeMaskHead(hidden_dim));
  aggregator_ = register_module("aggregator", Aggregate(128, heads, 128));
}

GruPlan GmaUpdateBlockImpl::Prepare(const torch::Tensor& inp) { return gru_->Plan(inp); }

std::pair<torch::Tensor, torch::Tensor> GmaUpdateBlockImpl::Step(const GruPlan& plan, const torch::Tensor& net,
                                                                 const torch::Tensor& corr, const torch::Tensor& flow,
                                                                 const torch::Tensor& attention) {
  auto motion = encoder_->forward(flow, corr);
  auto motion_global = aggregator_->forward(attention, motion);
  // The original's gru(net, cat([inp, motion, motion_global])), inp share precomputed.
  auto m = torch::cat({motion, motion_global}, 1);
  auto h = gru_->Step(plan, net, m);
  return {h, flow_head_->forward(h)};
}

void GmaUpdateBlockImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const {
  encoder_->CountFlops(count, batch, h, w, times);
  aggregator_->CountFlops(count, batch, h, w, times);
  gru_->CountFlops(count, batch, h, w, times);
  flow_head_->CountFlops(count, batch, h, w, times);
  count.Sequential("upsampling mask", *mask_, batch, h, w, times);
}

torch::Tensor GmaUpdateBlockImpl::Mask(const torch::Tensor& net) { return mask_->forward(net).mul_(0.25); }

GmaNetImpl::GmaNetImpl(int64_t num_heads) {
  if (num_heads < 1) throw std::invalid_argument("GMA: num_heads must be >= 1");
  const int64_t cor_planes = kCorrLevels * (2 * kCorrRadius + 1) * (2 * kCorrRadius + 1);
  fnet_ = register_module("fnet", Encoder(false, 256, NormFn::kInstance));
  cnet_ = register_module("cnet", Encoder(false, hidden_dim_ + context_dim_, NormFn::kBatch));
  update_block_ = register_module("update_block", GmaUpdateBlock(cor_planes, hidden_dim_, num_heads));
  att_ = register_module("att", Attention(context_dim_, num_heads, context_dim_, 160));
}

FlopCount GmaNetImpl::CountOfficialFlops(int64_t batch, int64_t h, int64_t w, int iters) const {
  FlopCount count;
  const auto [h8, w8] = fnet_->CountFlops(count, "encoders", 2 * batch, h, w);
  cnet_->CountFlops(count, "encoders", batch, h, w);
  count.Matmul("correlation", batch, h8 * w8, h8 * w8, fnet_->output_dim());
  att_->CountFlops(count, batch, h8, w8);
  update_block_->CountFlops(count, batch, h8, w8, iters);
  return count;
}

RaftOutput GmaNetImpl::Forward(const torch::Tensor& image1, const torch::Tensor& image2,
                               const RaftForwardOptions& options, RaftIntermediates* intermediates) {
  if (image1.dim() != 4 || image1.size(1) != 3 || image1.sizes() != image2.sizes())
    throw std::invalid_argument("GMA: images must be [B, 3, H, W] of equal shape, got " + c10::str(image1.sizes()) +
                                " and " + c10::str(image2.sizes()));
  const int64_t batch = image1.size(0), ht = image1.size(2), wd = image1.size(3);
  if (ht % 8 != 0 || wd % 8 != 0 || ht < 64 || wd < 64)
    throw std::invalid_argument("GMA: image size " + std::to_string(ht) + "x" + std::to_string(wd) +
                                " must be a multiple of 8 and at least 64 (pad first)");
  if (options.iters < 1) throw std::invalid_argument("GMA: iters must be >= 1");

  // bf16 (see ModulePrecision): the encoders and the update block compute in the modules'
  // dtype; the correlation volume, coordinates, upsampling weights and flows stay fp32.
  const auto dtype = ModuleDtype(*this);
  auto img1 = NormalizeRaftImage(image1).to(dtype);
  auto img2 = NormalizeRaftImage(image2).to(dtype);
  auto fmaps = fnet_->forward(torch::cat({img1, img2}, 0)).chunk(2, 0);
  auto fmap1 = fmaps[0].to(torch::kFloat).contiguous(), fmap2 = fmaps[1].to(torch::kFloat).contiguous();
  const auto corr_fn = MakeCorrLookup(fmap1, fmap2, kCorrLevels, kCorrRadius, options.corr);

  auto cnet = cnet_->forward(img1);
  auto parts = cnet.split_with_sizes({hidden_dim_, context_dim_}, 1);
  auto net = UpdateLayout(parts[0].tanh());
  auto inp = UpdateLayout(parts[1].relu());
  // The attention logits and softmax in fp32 (att_ casts), applied in the update dtype.
  auto attention = att_->forward(inp).to(dtype);
  const GruPlan plan = update_block_->Prepare(inp);
  if (intermediates) {
    intermediates->fmap1 = fmap1;
    intermediates->fmap2 = fmap2;
    intermediates->cnet = cnet;
    intermediates->attention = attention;
  }

  return RunRaftRefinement(
      "GMA", *corr_fn, net, batch, ht / 8, wd / 8, dtype, options, intermediates,
      [&](const torch::Tensor& n, const torch::Tensor& corr, const torch::Tensor& flow) {
        return update_block_->Step(plan, n, corr, flow, attention);
      },
      [&](const torch::Tensor& flow_low, const torch::Tensor& n) {
        return ConvexUpsample(flow_low, update_block_->Mask(n).to(torch::kFloat));
      });
}

std::unique_ptr<FlowModel> CreateGma(int64_t num_heads) {
  auto net = GmaNet(num_heads);
  auto ptr = net.ptr();
  return MakeRaftFamilyModel(
      "gma", ptr,
      [ptr](const torch::Tensor& a, const torch::Tensor& b, const RaftForwardOptions& o) {
        return ptr->Forward(a, b, o);
      },
      [ptr](int64_t h, int64_t w, int iters) { return ptr->CountOfficialFlops(1, h, w, iters); });
}

}  // namespace animerun::models
