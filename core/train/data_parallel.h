// Data parallelism over a ProcessGroup, written out as PyTorch's DDP does it (the C++
// frontend has no DistributedDataParallel, and c10d's Reducer cannot be included from
// Debian's LibTorch): the model starts from rank 0's weights, and after each backward the
// gradients are summed over ranks in buckets: same-dtype gradients, in reverse parameter
// order, flattened into ~25 MB tensors, one all-reduce each, copied back. The trainer
// scales each rank's loss by its share of the global batch, so the sum is the gradient of
// the whole batch, as one process would compute it.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace torch::nn {
class Module;
}

namespace animerun::train {

class ProcessGroup;

class DataParallel {
 public:
  // params: what the optimizer updates, the same shapes in the same order on every rank.
  // bucket_bytes: the size a bucket is filled up to (a larger tensor gets its own).
  DataParallel(ProcessGroup& group, std::vector<at::Tensor> params, int64_t bucket_bytes = int64_t(25) << 20);

  // Every rank takes rank 0's parameters and buffers (BatchNorm statistics), so that all
  // start from the same weights whatever their seeds or checkpoints.
  void BroadcastModule(torch::nn::Module& module);

  // Sums every parameter's gradient over the ranks, in place. A gradient that is undefined
  // here (the parameter took no part in this rank's samples) counts as zero when another
  // rank has one, and stays undefined when no rank has one (so that the optimizer skips
  // it, as in a single process).
  void AllReduceGradients();

  // Small values (losses, counts, flags) summed over the ranks, and rank 0's values: every
  // rank gets the same numbers, so decisions taken from them agree.
  std::vector<double> Sum(const std::vector<double>& values);
  std::vector<double> FromRoot(const std::vector<double>& values);

  int rank() const;
  int world_size() const;

  // The buckets: indices into params, each all-reduced as one tensor (for tests and logs).
  const std::vector<std::vector<size_t>>& buckets() const { return buckets_; }

 private:
  ProcessGroup& group_;
  std::vector<at::Tensor> params_;
  std::vector<std::vector<size_t>> buckets_;
};

}  // namespace animerun::train
