// Collectives between the processes of a distributed training run, over c10d: Gloo for
// CPU tensors in both builds, NCCL for CUDA tensors in CUDA builds. The processes meet
// through a store (a file all of them can open, or a TCP server that rank 0 hosts).
// process_group.cpp is the only file that includes c10d headers; the LibTorch 1.13 / 2.x
// differences go through models/common/torch_compat.h.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

namespace animerun::train {

struct ProcessGroupOptions {
  int rank = 0;                   // this process, 0 .. world_size - 1
  int world_size = 1;             // processes in the group
  std::string backend = "gloo";   // "gloo" (CPU tensors) or "nccl" (CUDA tensors; CUDA builds)
  std::string store_file;         // rendezvous file every rank can reach; "" = TCP store below
  std::string master_addr = "127.0.0.1";  // host of rank 0, which serves the TCP store
  int master_port = 29500;        // TCP store port on master_addr
  std::string gloo_host;          // address Gloo binds on this machine; "" = loopback when
                                  // master_addr is local, else the address of the host name
  int timeout_s = 300;            // rendezvous and each collective fail after this long
  void Check() const;             // throws Error naming the field on bad values
};

class ProcessGroup {
 public:
  // Joins the group: blocks until all world_size processes have joined, or throws Error
  // (saying which rank, store and backend) after timeout_s.
  explicit ProcessGroup(const ProcessGroupOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int world_size() const;
  const std::string& backend() const;

  // Collectives block until done and rethrow a failure (a lost peer, a timeout) as Error.
  // Every rank passes tensors of the same shapes and dtypes, in the same order; contiguous,
  // on the CPU for gloo, on this rank's GPU for nccl.
  void AllReduceSum(std::vector<at::Tensor>& tensors);        // in place: the sum over ranks
  void Broadcast(std::vector<at::Tensor>& tensors, int root);  // in place: root's values
  void Barrier();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace animerun::train
