#include "core/train/process_group.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef ANIMERUN_WITH_CUDA
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#include <torch/cuda.h>
#endif

#include <chrono>
#include <exception>

#include "core/util/error.h"
#include "models/common/torch_compat.h"

namespace animerun::train {

void ProcessGroupOptions::Check() const {
  Require(world_size >= 1, "process group: world_size must be >= 1");
  Require(rank >= 0 && rank < world_size, "process group: rank must be in [0, world_size)");
#ifdef ANIMERUN_WITH_CUDA
  Require(backend == "gloo" || backend == "nccl", "process group: backend must be gloo or nccl");
#else
  Require(backend == "gloo", backend == "nccl" ? "process group: nccl needs a CUDA build (WITH_CUDA=ON)"
                                               : "process group: backend must be gloo");
#endif
  Require(!store_file.empty() || !master_addr.empty(), "process group: store_file or master_addr must be set");
  Require(store_file.empty() ? master_port > 0 && master_port < 65536 : true,
          "process group: master_port must be in [1, 65535]");
  Require(timeout_s > 0, "process group: timeout_s must be > 0");
}

struct ProcessGroup::Impl {
  ProcessGroupOptions options;
  c10::intrusive_ptr<models::compat::C10dBackend> group;

  // "rank 1/2 (gloo, store /tmp/x)", for messages.
  std::string Who() const {
    return "rank " + std::to_string(options.rank) + "/" + std::to_string(options.world_size) + " (" +
           options.backend + ", store " +
           (options.store_file.empty() ? options.master_addr + ":" + std::to_string(options.master_port)
                                       : options.store_file) +
           ")";
  }

  void Run(const char* what, const c10::intrusive_ptr<c10d::Work>& work) const {
    try {
      work->wait();
    } catch (const std::exception& e) {
      throw Error("process group " + Who() + ": " + what + " failed: " + e.what());
    }
  }
};

namespace {

bool IsLoopback(const std::string& addr) { return addr == "127.0.0.1" || addr == "localhost" || addr == "::1"; }

}  // namespace

ProcessGroup::ProcessGroup(const ProcessGroupOptions& options) : impl_(std::make_unique<Impl>()) {
  options.Check();
  impl_->options = options;
  const std::chrono::milliseconds timeout(static_cast<int64_t>(options.timeout_s) * 1000);
  try {
    c10::intrusive_ptr<c10d::Store> store;
    if (!options.store_file.empty()) {
      store = c10::make_intrusive<c10d::FileStore>(options.store_file, options.world_size);
      store->setTimeout(timeout);
    } else {
      c10d::TCPStoreOptions so;
      so.port = static_cast<uint16_t>(options.master_port);
      so.isServer = options.rank == 0;
      so.numWorkers = options.world_size;
      so.timeout = timeout;
      store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, so);
    }
    // A prefix per backend, so a later group of another kind can share the store.
    store = c10::make_intrusive<c10d::PrefixStore>(options.backend, store);

    if (options.backend == "gloo") {
      auto o = c10d::ProcessGroupGloo::Options::create(timeout);
      const std::string host = !options.gloo_host.empty()        ? options.gloo_host
                               : IsLoopback(options.master_addr) ? std::string("127.0.0.1")
                                                                 : std::string();
      o->devices.push_back(host.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                        : c10d::ProcessGroupGloo::createDeviceForHostname(host));
      impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, options.rank, options.world_size, o);
    } else {
#ifdef ANIMERUN_WITH_CUDA
      if (!torch::cuda::is_available()) throw Error("nccl needs a CUDA device, and none is visible");
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = timeout;
      impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, options.rank, options.world_size, o);
#endif
    }
  } catch (const std::exception& e) {
    throw Error("process group " + impl_->Who() + ": cannot join: " + e.what());
  }
}

ProcessGroup::~ProcessGroup() = default;

int ProcessGroup::rank() const { return impl_->options.rank; }
int ProcessGroup::world_size() const { return impl_->options.world_size; }
const std::string& ProcessGroup::backend() const { return impl_->options.backend; }

void ProcessGroup::AllReduceSum(std::vector<at::Tensor>& tensors) {
  if (tensors.empty()) return;
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::SUM;
  // One collective per tensor: c10d's allreduce takes one tensor per device of this rank.
  for (at::Tensor& t : tensors) {
    std::vector<at::Tensor> one{t};
    impl_->Run("allreduce", impl_->group->allreduce(one, o));
  }
}

void ProcessGroup::Broadcast(std::vector<at::Tensor>& tensors, int root) {
  Require(root >= 0 && root < world_size(), "process group: broadcast root out of range");
  c10d::BroadcastOptions o;
  o.rootRank = root;
  for (at::Tensor& t : tensors) {
    std::vector<at::Tensor> one{t};
    impl_->Run("broadcast", impl_->group->broadcast(one, o));
  }
}

void ProcessGroup::Barrier() { impl_->Run("barrier", impl_->group->barrier()); }

}  // namespace animerun::train
