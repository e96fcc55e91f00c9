// Two real processes (fork) join a Gloo process group through a FileStore or a TCPStore
// and run collectives: the base distributed training builds on, in both builds.
#include "core/train/process_group.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/util/error.h"
#include "core/train/fork_ranks.h"
#include "test_paths.h"

namespace animerun::train {
namespace {

void ExpectOrFail(bool cond, const std::string& what) {
  if (!cond) throw std::runtime_error(what);
}

// What every rank checks: a float and an int64 tensor summed over ranks (rank r holds
// r + 1), a broadcast from the last rank, a barrier.
void Collectives(ProcessGroup& pg) {
  const int r = pg.rank(), world = pg.world_size();
  std::vector<at::Tensor> ts{torch::full({1000}, r + 1.0f), torch::arange(5, torch::kLong) * (r + 1)};
  pg.AllReduceSum(ts);
  const float sum = world * (world + 1) / 2.0f;
  ExpectOrFail(torch::equal(ts[0], torch::full({1000}, sum)), "float allreduce: got " + std::to_string(ts[0][0].item<float>()));
  ExpectOrFail(torch::equal(ts[1], torch::arange(5, torch::kLong) * static_cast<int64_t>(sum)), "int64 allreduce wrong");

  std::vector<at::Tensor> b{torch::full({3, 4}, static_cast<float>(r))};
  pg.Broadcast(b, world - 1);
  ExpectOrFail(torch::equal(b[0], torch::full({3, 4}, static_cast<float>(world - 1))), "broadcast wrong");
  pg.Barrier();
}

// A port that was free a moment ago (the TCP store's server binds it right after).
int FreePort() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(s);
    throw std::runtime_error("cannot find a free port");
  }
  close(s);
  return ntohs(a.sin_port);
}

TEST(ProcessGroup, GlooOverFileStoreSumsOverTwoProcesses) {
  const std::string store = (test::ScratchDir("store") / "rendezvous").string();
  const auto errors = RunRanks(2, [&](int rank) {
    ProcessGroup pg(FileStoreRank(rank, 2, store));
    ExpectOrFail(pg.backend() == "gloo", "backend");
    Collectives(pg);
  });
  for (int r = 0; r < 2; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

TEST(ProcessGroup, GlooOverTcpStoreSumsOverTwoProcesses) {
  const int port = FreePort();
  const auto errors = RunRanks(2, [&](int rank) {
    ProcessGroupOptions o;
    o.rank = rank;
    o.world_size = 2;
    o.master_addr = "127.0.0.1";
    o.master_port = port;
    o.timeout_s = 60;
    ProcessGroup pg(o);
    Collectives(pg);
  });
  for (int r = 0; r < 2; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

TEST(ProcessGroup, MissingPeerTimesOutWithAMessage) {
  ProcessGroupOptions o;
  o.rank = 0;
  o.world_size = 2;
  o.store_file = (test::ScratchDir("store") / "rendezvous").string();
  o.timeout_s = 1;
  try {
    ProcessGroup pg(o);
    FAIL() << "joined without its peer";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("rank 0/2 (gloo, store " + o.store_file + ")"), std::string::npos) << m;
    EXPECT_NE(m.find("cannot join"), std::string::npos) << m;
  }
}

TEST(ProcessGroup, OptionsAreChecked) {
  ProcessGroupOptions o;
  EXPECT_NO_THROW(o.Check());
  o.rank = 2;
  o.world_size = 2;
  EXPECT_THROW(o.Check(), Error);
  o.rank = 0;
  o.backend = "mpi";
  EXPECT_THROW(o.Check(), Error);
  o.backend = "gloo";
  o.master_port = 0;
  EXPECT_THROW(o.Check(), Error);
  o.store_file = "/tmp/x";  // the port does not matter with a file store
  EXPECT_NO_THROW(o.Check());
  o.timeout_s = 0;
  EXPECT_THROW(o.Check(), Error);
}

TEST(ProcessGroup, NcclNeedsACudaBuildAndDevice) {
  ProcessGroupOptions o;
  o.backend = "nccl";
  o.store_file = (test::ScratchDir("store") / "rendezvous").string();
#ifdef ANIMERUN_WITH_CUDA
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is visible; the no-device message cannot be checked";
  try {
    ProcessGroup pg(o);
    FAIL() << "nccl group without a GPU";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("none is visible"), std::string::npos) << e.what();
  }
#else
  try {
    o.Check();
    FAIL() << "nccl accepted by a CPU-only build";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("WITH_CUDA"), std::string::npos) << e.what();
  }
#endif
}

}  // namespace
}  // namespace animerun::train
