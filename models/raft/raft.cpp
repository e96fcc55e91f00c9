#include "models/raft/raft.h"
#include "models/common/memory_format.h"

#include <stdexcept>
#include <string>

#include "models/common/corr_on_demand.h"
#include "models/raft/raft_family.h"

namespace animerun::models {

namespace F = torch::nn::functional;

torch::Tensor ConvexUpsample(const torch::Tensor& flow, const torch::Tensor& mask) {
  const int64_t n = flow.size(0), h = flow.size(2), w = flow.size(3);
  auto m = mask.contiguous().view({n, 1, 9, 8, 8, h, w}).softmax(2);
  auto up = F::unfold(flow.contiguous() * 8, F::UnfoldFuncOptions({3, 3}).padding(1)).view({n, 2, 9, 1, 1, h, w});
  up = (m * up).sum(2);  // [n, 2, 8, 8, h, w]
  return up.permute({0, 1, 4, 2, 5, 3}).reshape({n, 2, 8 * h, 8 * w});
}

torch::Tensor UpFlow8(const torch::Tensor& flow) {
  auto up = F::interpolate(flow, F::InterpolateFuncOptions()
                                     .size(std::vector<int64_t>{8 * flow.size(2), 8 * flow.size(3)})
                                     .mode(torch::kBilinear)
                                     .align_corners(true));
  return up.mul_(8);
}

torch::Tensor UpdateLayout(const torch::Tensor& t) {
  return t.contiguous(ConvFormat(t));
}

torch::Tensor NormalizeRaftImage(const torch::Tensor& image) {
  return image.div(255.0).mul_(2).sub_(1).contiguous();
}

RaftOutput RunRaftRefinement(const std::string& name, const CorrLookup& corr_fn, torch::Tensor net, int64_t batch,
                             int64_t h8, int64_t w8, torch::ScalarType dtype, const RaftForwardOptions& options,
                             RaftIntermediates* intermediates, const RaftStepFn& step,
                             const RaftUpsampleFn& upsample) {
  auto coords0 = CoordsGrid(batch, h8, w8, net.device());
  auto coords1 = coords0.clone();
  if (options.flow_init.defined()) {
    if (options.flow_init.dim() != 4 || options.flow_init.size(0) != batch || options.flow_init.size(1) != 2 ||
        options.flow_init.size(2) != h8 || options.flow_init.size(3) != w8)
      throw std::invalid_argument(name + ": flow_init must be [" + std::to_string(batch) + ", 2, " +
                                  std::to_string(h8) + ", " + std::to_string(w8) + "], got " +
                                  c10::str(options.flow_init.sizes()));
    coords1 = coords1 + options.flow_init.to(coords1.options());
  }

  RaftOutput out;
  for (int itr = 0; itr < options.iters; ++itr) {
    // As the original: no gradient flows through the coordinates from one step to the next.
    coords1 = coords1.detach();
    auto corr = corr_fn(coords1);
    if (itr == 0 && intermediates) intermediates->corr_iter0 = corr;
    corr = corr.to(dtype);
    auto flow = UpdateLayout((coords1 - coords0).to(dtype));
    auto next = step(net, corr, flow);
    net = next.first;
    const auto delta = next.second.to(torch::kFloat);
    coords1 = coords1 + delta;

    // Early stop: the mean length of this iteration's update, in input pixels.
    const bool converged =
        options.early_stop_px > 0 && delta.norm(2, 1).mean().item<double>() * 8 < options.early_stop_px;
    const bool last = itr + 1 == options.iters || converged;
    if (!options.all_predictions && !last) {  // skip the upsampling nobody reads
      if (options.on_preview)
        options.on_preview(itr + 1, options.iters, [&] { return upsample(coords1 - coords0, net).to(torch::kFloat); });
      ReportFlowStep(options.on_step, itr + 1, options.iters);
      continue;
    }
    auto flow_low = coords1 - coords0;
    auto flow_up = upsample(flow_low, net);
    if (options.all_predictions) out.flow_predictions.push_back(flow_up);
    if (last) {
      out.flow_low = flow_low;
      out.flow_up = flow_up;
    }
    ReportFlowStep(options.on_step, itr + 1, options.iters);
    if (last) break;
  }
  return out;
}

RaftNetImpl::RaftNetImpl(bool small) : small_(small) {
  hidden_dim_ = small ? 96 : 128;
  context_dim_ = small ? 64 : 128;
  const int64_t cor_planes = corr_levels() * (2 * corr_radius() + 1) * (2 * corr_radius() + 1);
  if (small) {
    fnet_ = register_module("fnet", Encoder(true, 128, NormFn::kInstance));
    cnet_ = register_module("cnet", Encoder(true, hidden_dim_ + context_dim_, NormFn::kNone));
  } else {
    fnet_ = register_module("fnet", Encoder(false, 256, NormFn::kInstance));
    cnet_ = register_module("cnet", Encoder(false, hidden_dim_ + context_dim_, NormFn::kBatch));
  }
  update_block_ = register_module("update_block", UpdateBlock(small, cor_planes, hidden_dim_));
}

FlopCount RaftNetImpl::CountOfficialFlops(int64_t batch, int64_t h, int64_t w, int iters) const {
  FlopCount count;
  // fmap1, fmap2 = fnet([image1, image2]): one pass over both images.
  const auto [h8, w8] = fnet_->CountFlops(count, "encoders", 2 * batch, h, w);
  cnet_->CountFlops(count, "encoders", batch, h, w);
  // CorrBlock: matmul(fmap1^T, fmap2) over all pairs of 1/8 positions.
  count.Matmul("correlation", batch, h8 * w8, h8 * w8, fnet_->output_dim());
  update_block_->CountFlops(count, batch, h8, w8, iters);
  return count;
}

RaftOutput RaftNetImpl::Forward(const torch::Tensor& image1, const torch::Tensor& image2,
                                const RaftForwardOptions& options, RaftIntermediates* intermediates) {
  if (image1.dim() != 4 || image1.size(1) != 3 || image1.sizes() != image2.sizes())
    throw std::invalid_argument("RAFT: images must be [B, 3, H, W] of equal shape, got " + c10::str(image1.sizes()) +
                                " and " + c10::str(image2.sizes()));
  const int64_t batch = image1.size(0), ht = image1.size(2), wd = image1.size(3);
  if (ht % 8 != 0 || wd % 8 != 0 || ht < 64 || wd < 64)
    throw std::invalid_argument("RAFT: image size " + std::to_string(ht) + "x" + std::to_string(wd) +
                                " must be a multiple of 8 and at least 64 (pad first)");
  if (options.iters < 1) throw std::invalid_argument("RAFT: iters must be >= 1");

  // bf16 (see ModulePrecision): the encoders and the update block compute in the modules'
  // dtype; the correlation volume, coordinates, upsampling weights and flows stay fp32.
  const auto dtype = ModuleDtype(*this);
  auto img1 = NormalizeRaftImage(image1).to(dtype);
  auto img2 = NormalizeRaftImage(image2).to(dtype);

  // Both images through fnet as one batch, as the original does (instance norm is per sample).
  auto fmaps = fnet_->forward(torch::cat({img1, img2}, 0)).chunk(2, 0);
  auto fmap1 = fmaps[0].to(torch::kFloat).contiguous(), fmap2 = fmaps[1].to(torch::kFloat).contiguous();
  const auto corr_fn = MakeCorrLookup(fmap1, fmap2, corr_levels(), corr_radius(), options.corr);

  auto cnet = cnet_->forward(img1);
  auto parts = cnet.split_with_sizes({hidden_dim_, context_dim_}, 1);
  auto net = UpdateLayout(parts[0].tanh());
  auto inp = UpdateLayout(parts[1].relu());
  const GruPlan plan = update_block_->Prepare(inp);
  if (intermediates) {
    intermediates->fmap1 = fmap1;
    intermediates->fmap2 = fmap2;
    intermediates->cnet = cnet;
  }

  return RunRaftRefinement(
      "RAFT", *corr_fn, net, batch, ht / 8, wd / 8, dtype, options, intermediates,
      [&](const torch::Tensor& n, const torch::Tensor& corr, const torch::Tensor& flow) {
        return update_block_->Step(plan, n, corr, flow);
      },
      [&](const torch::Tensor& flow_low, const torch::Tensor& n) {
        return update_block_->has_mask() ? ConvexUpsample(flow_low, update_block_->Mask(n).to(torch::kFloat))
                                         : UpFlow8(flow_low);
      });
}

std::unique_ptr<FlowModel> CreateRaft(bool small) {
  auto net = RaftNet(small);
  auto ptr = net.ptr();
  return MakeRaftFamilyModel(small ? "raft-small" : "raft", ptr,
                             [ptr](const torch::Tensor& a, const torch::Tensor& b, const RaftForwardOptions& o) {
                               return ptr->Forward(a, b, o);
                             },
                             [ptr](int64_t h, int64_t w, int iters) { return ptr->CountOfficialFlops(1, h, w, iters); });
}

}  // namespace animerun::models
