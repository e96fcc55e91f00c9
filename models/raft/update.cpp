#include "models/raft/update.h"
#include "models/common/memory_format.h"

namespace animerun::models {

namespace nn = torch::nn;

namespace {

nn::Conv2d UpdateConv(int64_t in, int64_t out, int64_t kh, int64_t kw, int64_t ph, int64_t pw) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, {kh, kw}).padding({ph, pw}));
}
nn::Conv2d UpdateConv(int64_t in, int64_t out, int64_t k) { return UpdateConv(in, out, k, k, k / 2, k / 2); }

// One GRU step with gates from convz/convr on [h, x] and the candidate from convq on [r*h, x].
torch::Tensor GruStep(nn::Conv2d& convz, nn::Conv2d& convr, nn::Conv2d& convq, const torch::Tensor& h,
                      const torch::Tensor& x) {
  auto hx = torch::cat({h, x}, 1);
  auto z = convz->forward(hx).sigmoid_();
  auto r = convr->forward(hx).sigmoid_();
  auto q = convq->forward(torch::cat({r * h, x}, 1)).tanh_();
  // (1 - z) * h + z * q; z and q stay unmodified: their backward reads them (training).
  auto keep = (1 - z).mul_(h);
  return keep.add_(z * q);
}

// Splits convz/convr/convq ([hd, hd + c + m, kh, kw] over [h, context, m]) and runs the
// context share once.
GruHalfPlan MakeHalfPlan(nn::Conv2d& convz, nn::Conv2d& convr, nn::Conv2d& convq, const torch::Tensor& context) {
  const int64_t hd = convz->weight.size(0), c = context.size(1);
  auto part = [&](const torch::Tensor& w, int64_t from, int64_t to) { return w.slice(1, from, to); };
  const auto& wz = convz->weight;
  const auto& wr = convr->weight;
  const auto& wq = convq->weight;
  const int64_t total = wz.size(1);
  GruHalfPlan plan;
  plan.padding = {wz.size(2) / 2, wz.size(3) / 2};
  const auto fmt = ConvFormat(context);
  plan.w_h_zr = torch::cat({part(wz, 0, hd), part(wr, 0, hd)}, 0).contiguous(fmt);
  plan.w_h_q = part(wq, 0, hd).contiguous(fmt);
  plan.w_m_zrq = torch::cat({part(wz, hd + c, total), part(wr, hd + c, total), part(wq, hd + c, total)}, 0).contiguous(fmt);
  auto w_c = torch::cat({part(wz, hd, hd + c), part(wr, hd, hd + c), part(wq, hd, hd + c)}, 0).contiguous(fmt);
  auto bias = torch::cat({convz->bias, convr->bias, convq->bias}, 0);
  plan.ctx_zrq = torch::conv2d(context, w_c, bias, 1, plan.padding);
  return plan;
}

}  // namespace

torch::Tensor GruStepPlanned(const GruHalfPlan& plan, const torch::Tensor& h, const torch::Tensor& m) {
  const int64_t hd = plan.w_h_q.size(0);
  auto mz = torch::conv2d(m, plan.w_m_zrq, {}, 1, plan.padding).add_(plan.ctx_zrq);
  auto zr = torch::conv2d(h, plan.w_h_zr, {}, 1, plan.padding).add_(mz.slice(1, 0, 2 * hd)).sigmoid_();
  auto z = zr.slice(1, 0, hd), r = zr.slice(1, hd, 2 * hd);
  auto q = torch::conv2d(r * h, plan.w_h_q, {}, 1, plan.padding).add_(mz.slice(1, 2 * hd, 3 * hd)).tanh_();
  // (1 - z) * h + z * q; in training q is kept for tanh's backward.
  auto keep = (1 - z).mul_(h);
  return keep.add_(q.requires_grad() ? q * z : q.mul_(z));
}

FlowHeadImpl::FlowHeadImpl(int64_t input_dim, int64_t hidden_dim) {
  conv1_ = register_module("conv1", UpdateConv(input_dim, hidden_dim, 3));
  conv2_ = register_module("conv2", UpdateConv(hidden_dim, 2, 3));
}

torch::Tensor FlowHeadImpl::forward(const torch::Tensor& x) {
  return conv2_->forward(conv1_->forward(x).relu_());
}

ConvGRUImpl::ConvGRUImpl(int64_t hidden_dim, int64_t input_dim) {
  convz_ = register_module("convz", UpdateConv(hidden_dim + input_dim, hidden_dim, 3));
  convr_ = register_module("convr", UpdateConv(hidden_dim + input_dim, hidden_dim, 3));
  convq_ = register_module("convq", UpdateConv(hidden_dim + input_dim, hidden_dim, 3));
}

torch::Tensor ConvGRUImpl::forward(const torch::Tensor& h, const torch::Tensor& x) {
  return GruStep(convz_, convr_, convq_, h, x);
}

GruPlan ConvGRUImpl::Plan(const torch::Tensor& context) { return {MakeHalfPlan(convz_, convr_, convq_, context)}; }

torch::Tensor ConvGRUImpl::Step(const GruPlan& plan, const torch::Tensor& h, const torch::Tensor& m) {
  return GruStepPlanned(plan.at(0), h, m);
}

SepConvGRUImpl::SepConvGRUImpl(int64_t hidden_dim, int64_t input_dim) {
  const int64_t in = hidden_dim + input_dim;
  convz1_ = register_module("convz1", UpdateConv(in, hidden_dim, 1, 5, 0, 2));
  convr1_ = register_module("convr1", UpdateConv(in, hidden_dim, 1, 5, 0, 2));
  convq1_ = register_module("convq1", UpdateConv(in, hidden_dim, 1, 5, 0, 2));
  convz2_ = register_module("convz2", UpdateConv(in, hidden_dim, 5, 1, 2, 0));
  convr2_ = register_module("convr2", UpdateConv(in, hidden_dim, 5, 1, 2, 0));
  convq2_ = register_module("convq2", UpdateConv(in, hidden_dim, 5, 1, 2, 0));
}

torch::Tensor SepConvGRUImpl::forward(const torch::Tensor& h, const torch::Tensor& x) {
  auto h1 = GruStep(convz1_, convr1_, convq1_, h, x);  // horizontal
  return GruStep(convz2_, convr2_, convq2_, h1, x);    // vertical
}

GruPlan SepConvGRUImpl::Plan(const torch::Tensor& context) {
  return {MakeHalfPlan(convz1_, convr1_, convq1_, context), MakeHalfPlan(convz2_, convr2_, convq2_, context)};
}

torch::Tensor SepConvGRUImpl::Step(const GruPlan& plan, const torch::Tensor& h, const torch::Tensor& m) {
  return GruStepPlanned(plan.at(1), GruStepPlanned(plan.at(0), h, m), m);
}

MotionEncoderImpl::MotionEncoderImpl(bool small, int64_t cor_planes) : small_(small) {
  if (small) {
    convc1_ = register_module("convc1", UpdateConv(cor_planes, 96, 1));
    convf1_ = register_module("convf1", UpdateConv(2, 64, 7));
    convf2_ = register_module("convf2", UpdateConv(64, 32, 3));
    conv_ = register_module("conv", UpdateConv(128, 80, 3));
  } else {
    convc1_ = register_module("convc1", UpdateConv(cor_planes, 256, 1));
    convc2_ = register_module("convc2", UpdateConv(256, 192, 3));
    convf1_ = register_module("convf1", UpdateConv(2, 128, 7));
    convf2_ = register_module("convf2", UpdateConv(128, 64, 3));
    conv_ = register_module("conv", UpdateConv(64 + 192, 128 - 2, 3));
  }
}

torch::Tensor MotionEncoderImpl::forward(const torch::Tensor& flow, const torch::Tensor& corr) {
  auto cor = convc1_->forward(corr).relu_();
  if (!small_) cor = convc2_->forward(cor).relu_();
  auto flo = convf1_->forward(flow).relu_();
  flo = convf2_->forward(flo).relu_();
  auto out = conv_->forward(torch::cat({cor, flo}, 1)).relu_();
  return torch::cat({out, flow}, 1);
}

nn::Sequential MakeMaskHead(int64_t hidden_dim) {
  return nn::Sequential(UpdateConv(hidden_dim, 256, 3), nn::ReLU(nn::ReLUOptions(true)), UpdateConv(256, 64 * 9, 1));
}

UpdateBlockImpl::UpdateBlockImpl(bool small, int64_t cor_planes, int64_t hidden_dim) : small_(small) {
  encoder_ = register_module("encoder", MotionEncoder(small, cor_planes));
  if (small) {
    gru_ = register_module("gru", ConvGRU(hidden_dim, 82 + 64));
    flow_head_ = register_module("flow_head", FlowHead(hidden_dim, 128));
  } else {
    sep_gru_ = register_module("gru", SepConvGRU(hidden_dim, 128 + hidden_dim));
    flow_head_ = register_module("flow_head", FlowHead(hidden_dim, 256));
    mask_ = register_module("mask", MakeMaskHead(hidden_dim));
  }
}

GruPlan UpdateBlockImpl::Prepare(const torch::Tensor& inp) { return small_ ? gru_->Plan(inp) : sep_gru_->Plan(inp); }

std::pair<torch::Tensor, torch::Tensor> UpdateBlockImpl::Step(const GruPlan& plan, const torch::Tensor& net,
                                                              const torch::Tensor& corr, const torch::Tensor& flow) {
  // The original's gru(net, cat([inp, motion])), with the inp share precomputed in plan.
  auto motion = encoder_->forward(flow, corr);
  auto h = small_ ? gru_->Step(plan, net, motion) : sep_gru_->Step(plan, net, motion);
  auto delta = flow_head_->forward(h);
  return {h, delta};
}

void FlowHeadImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const {
  count.Conv("update", *conv1_, batch, h, w, times);
  count.Conv("update", *conv2_, batch, h, w, times);
}

void ConvGRUImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const {
  for (const auto* c : {&convz_, &convr_, &convq_}) count.Conv("update", **c, batch, h, w, times);
}

void SepConvGRUImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const {
  for (const auto* c : {&convz1_, &convr1_, &convq1_, &convz2_, &convr2_, &convq2_})
    count.Conv("update", **c, batch, h, w, times);
}

void MotionEncoderImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const {
  for (const auto* c : {&convc1_, &convc2_, &convf1_, &convf2_, &conv_})
    if (*c) count.Conv("update", **c, batch, h, w, times);
}

void UpdateBlockImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const {
  encoder_->CountFlops(count, batch, h, w, times);
  if (small_)
    gru_->CountFlops(count, batch, h, w, times);
  else
    sep_gru_->CountFlops(count, batch, h, w, times);
  flow_head_->CountFlops(count, batch, h, w, times);
  if (mask_) count.Sequential("upsampling mask", *mask_, batch, h, w, times);
}

torch::Tensor UpdateBlockImpl::Mask(const torch::Tensor& net) {
  // "scale mask to balance gradients": .25 * mask(net)
  return mask_->forward(net).mul_(0.25);
}

}  // namespace animerun::models
