#include "core/train/data_parallel.h"

#include <map>
#include <tuple>

#include <torch/torch.h>

#include "core/train/process_group.h"

namespace animerun::train {

DataParallel::DataParallel(ProcessGroup& group, std::vector<at::Tensor> params, int64_t bucket_bytes)
    : group_(group), params_(std::move(params)) {
  // Reverse order: backward produces the last layers' gradients first (what DDP does so
  // that communication could start early; here it keeps bucket contents the same).
  // A bucket holds one dtype on one device: it is flattened into one tensor.
  std::map<std::tuple<int, int, int>, size_t> open;  // (dtype, device type, index) -> bucket
  std::vector<int64_t> filled;
  for (size_t i = params_.size(); i-- > 0;) {
    const at::Tensor& p = params_[i];
    const auto key = std::make_tuple(static_cast<int>(p.scalar_type()), static_cast<int>(p.device().type()),
                                     static_cast<int>(p.device().index()));
    const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
    auto it = open.find(key);
    if (it == open.end() || (filled[it->second] > 0 && filled[it->second] + bytes > bucket_bytes)) {
      buckets_.emplace_back();
      filled.push_back(0);
      it = open.insert_or_assign(key, buckets_.size() - 1).first;
    }
    buckets_[it->second].push_back(i);
    filled[it->second] += bytes;
  }
}

void DataParallel::BroadcastModule(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> tensors;
  for (const auto& p : module.parameters()) tensors.push_back(p);
  for (const auto& b : module.buffers()) tensors.push_back(b);
  for (at::Tensor& t : tensors) {
    // c10d writes into the tensor's memory: a dense one is received in place.
    const bool dense = t.is_contiguous();
    std::vector<at::Tensor> one{dense ? t.detach() : t.detach().contiguous()};
    group_.Broadcast(one, 0);
    if (!dense) t.copy_(one[0]);
  }
}

void DataParallel::AllReduceGradients() {
  if (params_.empty()) return;
  torch::NoGradGuard no_grad;
  // Which parameters have a gradient on some rank.
  at::Tensor defined = torch::zeros({static_cast<int64_t>(params_.size())},
                                    torch::TensorOptions().dtype(torch::kInt).device(params_[0].device()));
  {
    at::Tensor host = torch::zeros({static_cast<int64_t>(params_.size())}, torch::kInt);
    auto acc = host.accessor<int, 1>();
    for (size_t i = 0; i < params_.size(); ++i) acc[i] = params_[i].grad().defined() ? 1 : 0;
    defined.copy_(host);
  }
  std::vector<at::Tensor> mask{defined};
  group_.AllReduceSum(mask);
  const at::Tensor any = mask[0].cpu();
  const auto any_acc = any.accessor<int, 1>();
  for (size_t i = 0; i < params_.size(); ++i)
    if (any_acc[i] > 0 && !params_[i].grad().defined()) params_[i].mutable_grad() = torch::zeros_like(params_[i]);

  for (const auto& bucket : buckets_) {
    std::vector<at::Tensor> grads;
    for (size_t i : bucket)
      if (params_[i].grad().defined()) grads.push_back(params_[i].grad());
    if (grads.empty()) continue;
    std::vector<at::Tensor> flat_parts;
    flat_parts.reserve(grads.size());
    for (const auto& g : grads) flat_parts.push_back(g.reshape({-1}));
    std::vector<at::Tensor> flat{torch::cat(flat_parts)};
    group_.AllReduceSum(flat);
    int64_t offset = 0;
    for (auto& g : grads) {
      g.copy_(flat[0].narrow(0, offset, g.numel()).view_as(g));
      offset += g.numel();
    }
  }
}

}  // namespace animerun::train

namespace animerun::train {

namespace {

// values as a tensor where the group's collectives take them (the parameters' device:
// the CPU for Gloo, this rank's GPU for NCCL), and back.
at::Tensor ToTensor(const std::vector<double>& values, const std::vector<at::Tensor>& params) {
  at::Tensor t = torch::tensor(values, torch::kDouble);
  return params.empty() ? t : t.to(params[0].device());
}

std::vector<double> FromTensor(const at::Tensor& t) {
  const at::Tensor c = t.to(torch::kCPU).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

std::vector<double> DataParallel::Sum(const std::vector<double>& values) {
  if (values.empty()) return values;
  std::vector<at::Tensor> t{ToTensor(values, params_)};
  group_.AllReduceSum(t);
  return FromTensor(t[0]);
}

std::vector<double> DataParallel::FromRoot(const std::vector<double>& values) {
  if (values.empty()) return values;
  std::vector<at::Tensor> t{ToTensor(values, params_)};
  group_.Broadcast(t, 0);
  return FromTensor(t[0]);
}

int DataParallel::rank() const { return group_.rank(); }
int DataParallel::world_size() const { return group_.world_size(); }

}  // namespace animerun::train
