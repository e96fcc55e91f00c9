// Where this process stands in a data-parallel training run, read from the variables
// torchrun (and `animerun train --nproc`, and a Slurm script that exports them) sets:
// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT. No WORLD_SIZE = one process.
#pragma once

#include <functional>
#include <string>

namespace animerun::train {

struct DistributedEnv {
  int rank = 0;                           // RANK: this process, 0 .. world_size - 1
  int world_size = 1;                     // WORLD_SIZE: processes in the run, on all machines
  int local_rank = 0;                     // LOCAL_RANK: this process on its machine (picks cuda:N)
  std::string master_addr = "127.0.0.1";  // MASTER_ADDR: the machine of rank 0 (hosts the TCP store)
  int master_port = 29500;                // MASTER_PORT: the TCP store's port there

  bool distributed() const { return world_size > 1; }
  void Check() const;  // throws Error naming the variable on bad values

  // Reads the variables through getenv (a parameter so tests need not touch the
  // environment). Throws Error naming the variable when one is set but malformed, or when
  // WORLD_SIZE > 1 lacks RANK.
  static DistributedEnv FromEnvironment(const std::function<const char*(const char*)>& getenv);
  static DistributedEnv FromEnvironment();  // the process environment
};

}  // namespace animerun::train
