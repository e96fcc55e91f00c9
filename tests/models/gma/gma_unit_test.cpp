// GMA's attention and aggregation against a direct loop-free reference of the official
// einsum expressions, and the FlowModel on odd sizes.
#include <gtest/gtest.h>

#include <cmath>

#include "models/common/runtime.h"
#include "models/gma/gma.h"

namespace animerun::models {
namespace {

// attn[b, h, (x y), (u v)] = softmax_uv(scale * sum_d q[b, h*D + d, x, y] k[b, h*D + d, u, v])
TEST(GmaAttention, ContentOnlySoftmaxOverAllPositions) {
  torch::manual_seed(1);
  const int64_t heads = 2, dim_head = 8, dim = 6, hh = 3, ww = 5;
  Attention att(dim, heads, dim_head, 16);
  auto fmap = torch::randn({2, dim, hh, ww});
  auto attn = att->forward(fmap);
  ASSERT_EQ(attn.sizes(), (std::vector<int64_t>{2, heads, hh * ww, hh * ww}));
  auto w = att->named_parameters()["to_qk.weight"].view({2 * heads * dim_head, dim});
  auto qk = torch::einsum("oc,bcxy->boxy", {w, fmap});
  auto q = qk.slice(1, 0, heads * dim_head).reshape({2, heads, dim_head, hh, ww});
  auto k = qk.slice(1, heads * dim_head).reshape({2, heads, dim_head, hh, ww});
  auto sim = torch::einsum("bhdxy,bhduv->bhxyuv", {q, k}).reshape({2, heads, hh * ww, hh * ww}) /
             std::sqrt(static_cast<double>(dim_head));
  EXPECT_LT((attn - sim.softmax(-1)).abs().max().item<float>(), 1e-5);
  EXPECT_LT((attn.sum(-1) - 1).abs().max().item<float>(), 1e-5);
}

// out = fmap + gamma * project(sum_j attn[b, h, i, j] v[b, h*D + d, j])
TEST(GmaAggregate, WeightedSumOfValues) {
  torch::manual_seed(2);
  const int64_t heads = 2, dim_head = 4, dim = 6, hh = 2, ww = 3;
  Aggregate agg(dim, heads, dim_head);
  auto params = agg->named_parameters();
  ASSERT_TRUE(params.contains("project.weight"));  // heads * dim_head != dim
  {
    torch::NoGradGuard ng;
    params["gamma"].fill_(0.7);
  }
  auto fmap = torch::randn({1, dim, hh, ww});
  auto attn = torch::randn({1, heads, hh * ww, hh * ww}).softmax(-1);
  auto out = agg->forward(attn, fmap);
  auto v = torch::einsum("oc,bcxy->boxy", {params["to_v.weight"].view({heads * dim_head, dim}), fmap})
               .reshape({1, heads, dim_head, hh * ww});
  auto mixed = torch::einsum("bhij,bhdj->bhdi", {attn, v}).reshape({1, heads * dim_head, hh, ww});
  auto projected = torch::einsum("oc,bcxy->boxy", {params["project.weight"].view({dim, heads * dim_head}), mixed});
  EXPECT_LT((out - (fmap + 0.7 * projected)).abs().max().item<float>(), 1e-5);
  // One head of 128 with dim 128 has no projection (the released configuration).
  EXPECT_FALSE(Aggregate(128, 1, 128)->named_parameters().contains("project.weight"));
}

TEST(GmaFlowModel, EstimateAnySize) {
  ConfigureThreads(2);
  auto m = CreateGma();
  FlowInferenceOptions opt;
  opt.iters = 2;
  torch::manual_seed(3);
  auto flow = m->Estimate(torch::rand({1, 3, 70, 90}) * 255, torch::rand({1, 3, 70, 90}) * 255, opt);
  ASSERT_EQ(flow.sizes(), (std::vector<int64_t>{1, 2, 70, 90}));
  EXPECT_TRUE(torch::isfinite(flow).all().item<bool>());
}

}  // namespace
}  // namespace animerun::models
