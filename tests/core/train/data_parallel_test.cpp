// Gradient summing over two forked processes (Gloo, file store): the summed gradients of
// the ranks' halves equal the whole batch's gradient, in small buckets as in one; the
// weights start from rank 0's; an unused parameter's gradient stays undefined. And the
// torchrun variables as DistributedEnv reads them.
#include "core/train/data_parallel.h"

#include <map>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/train/dist_env.h"
#include "core/train/fork_ranks.h"
#include "core/train/process_group.h"
#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::train {
namespace {

struct Net : torch::nn::Module {
  Net() {
    a = register_module("a", torch::nn::Linear(6, 5));
    b = register_module("b", torch::nn::Linear(5, 3));
    unused = register_module("unused", torch::nn::Linear(2, 2));
    register_buffer("stat", torch::zeros({4}));
  }
  torch::Tensor forward(const torch::Tensor& x) { return b->forward(torch::tanh(a->forward(x))); }
  torch::nn::Linear a{nullptr}, b{nullptr}, unused{nullptr};
};

void Expect(bool cond, const std::string& what) {
  if (!cond) throw std::runtime_error(what);
}

TEST(DataParallel, SummedGradientsOfTheRanksEqualTheWholeBatchGradient) {
  const std::string store = (test::ScratchDir("store") / "rendezvous").string();
  const auto errors = RunRanks(2, [&](int rank) {
    ProcessGroup pg(FileStoreRank(rank, 2, store));

    torch::manual_seed(1);
    const torch::Tensor x = torch::randn({8, 6}), y = torch::randn({8, 3});
    auto reference = std::make_shared<Net>();  // the whole batch in one process
    torch::mse_loss(reference->forward(x), y).backward();

    torch::manual_seed(100 + rank);  // ranks start from different weights
    auto net = std::make_shared<Net>();
    if (rank == 0) {
      torch::NoGradGuard g;
      for (size_t i = 0; i < net->parameters().size(); ++i) net->parameters()[i].copy_(reference->parameters()[i]);
      net->named_buffers()["stat"].fill_(7);
    }
    // 64-byte buckets: several buckets, and tensors larger than one.
    DataParallel dp(pg, net->parameters(), 64);
    Expect(dp.buckets().size() > 2, "expected several buckets");
    dp.BroadcastModule(*net);
    for (size_t i = 0; i < net->parameters().size(); ++i)
      Expect(torch::equal(net->parameters()[i], reference->parameters()[i]), "weights not rank 0's");
    Expect(net->named_buffers()["stat"].eq(7).all().item<bool>(), "buffer not rank 0's");

    // Each rank: the mean loss over its half, scaled by its share of the batch (1/2).
    const torch::Tensor xs = x.narrow(0, rank * 4, 4), ys = y.narrow(0, rank * 4, 4);
    (torch::mse_loss(net->forward(xs), ys) * 0.5).backward();
    dp.AllReduceGradients();
    const auto p = net->parameters(), r = reference->parameters();
    for (size_t i = 0; i < p.size(); ++i) {
      if (!r[i].grad().defined()) {
        Expect(!p[i].grad().defined(), "a parameter no rank used got a gradient");
        continue;
      }
      const double diff = (p[i].grad() - r[i].grad()).abs().max().item<double>();
      Expect(diff < 1e-6, "gradient " + std::to_string(i) + " differs by " + std::to_string(diff));
    }
    const auto sum = dp.Sum({1.0, rank + 0.5});
    Expect(sum[0] == 2.0 && sum[1] == 2.0, "Sum wrong");
    Expect(dp.FromRoot({rank + 3.0})[0] == 3.0, "FromRoot wrong");
  });
  for (int r = 0; r < 2; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

TEST(DataParallel, AGradientOnOneRankOnlyCountsAsZeroOnTheOthers) {
  const std::string store = (test::ScratchDir("store") / "rendezvous").string();
  const auto errors = RunRanks(2, [&](int rank) {
    ProcessGroup pg(FileStoreRank(rank, 2, store));
    torch::Tensor w = torch::ones({3}, torch::requires_grad());
    DataParallel dp(pg, {w});
    if (rank == 1) (w * torch::tensor({1.0f, 2.0f, 3.0f})).sum().backward();  // rank 0 had no sample
    dp.AllReduceGradients();
    Expect(w.grad().defined() && torch::equal(w.grad(), torch::tensor({1.0f, 2.0f, 3.0f})), "gradient wrong");
  });
  for (int r = 0; r < 2; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

TEST(DistributedEnv, ReadsTorchrunVariables) {
  std::map<std::string, std::string> env;
  auto get = [&](const char* k) -> const char* {
    auto it = env.find(k);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  DistributedEnv d = DistributedEnv::FromEnvironment(get);
  EXPECT_FALSE(d.distributed());
  EXPECT_EQ(d.rank, 0);
  env = {{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "10.0.0.2"}, {"MASTER_PORT", "29411"}};
  d = DistributedEnv::FromEnvironment(get);
  EXPECT_TRUE(d.distributed());
  EXPECT_EQ(d.rank, 3);
  EXPECT_EQ(d.world_size, 4);
  EXPECT_EQ(d.local_rank, 1);
  EXPECT_EQ(d.master_addr, "10.0.0.2");
  EXPECT_EQ(d.master_port, 29411);
  env["RANK"] = "4";
  EXPECT_THROW(DistributedEnv::FromEnvironment(get), Error);  // outside the world
  env["RANK"] = "x1";
  try {
    DistributedEnv::FromEnvironment(get);
    FAIL() << "a malformed RANK was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("RANK=x1"), std::string::npos) << e.what();
  }
  env.erase("RANK");
  EXPECT_THROW(DistributedEnv::FromEnvironment(get), Error);  // WORLD_SIZE > 1 without RANK
  env = {{"MASTER_PORT", "70000"}};
  EXPECT_THROW(DistributedEnv::FromEnvironment(get), Error);
}

}  // namespace
}  // namespace animerun::train
