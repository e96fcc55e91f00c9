// The fused small-head attention kernel against the same attention in LibTorch operations.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "models/common/small_attention.h"

namespace animerun::models {
namespace {

// softmax(q_h^T k_h / sqrt(32)) v_h per head, SuperGlue's channel split (c % heads).
torch::Tensor AttentionReference(const torch::Tensor& qkv, int64_t heads, const AttentionSpan& sp) {
  const int64_t d = qkv.size(0) / 3, dim = d / heads;
  const auto q = qkv.narrow(0, 0, d).narrow(1, sp.q0, sp.nq).reshape({dim, heads, sp.nq}).permute({1, 2, 0});
  const auto k = qkv.narrow(0, d, d).narrow(1, sp.s0, sp.ns).reshape({dim, heads, sp.ns}).permute({1, 0, 2});
  const auto v = qkv.narrow(0, 2 * d, d).narrow(1, sp.s0, sp.ns).reshape({dim, heads, sp.ns}).permute({1, 2, 0});
  const auto p = torch::softmax(torch::bmm(q.to(torch::kDouble), k.to(torch::kDouble)) / std::sqrt(double(dim)), -1);
  return torch::bmm(p, v.to(torch::kDouble)).permute({2, 0, 1}).reshape({d, sp.nq});
}

TEST(SmallAttention, MatchesSoftmaxAttentionPerHead) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  const int64_t heads = 4, n0 = 37, n1 = 53;  // neither a multiple of 8 queries nor of 16 keys
  // Scores up to ~+-60 after scaling: the softmax has to subtract its maximum.
  const torch::Tensor qkv = torch::randn({3 * heads * 32, n0 + n1}) * 2.5;
  for (bool cross : {false, true}) {
    SCOPED_TRACE(cross ? "cross" : "self");
    const std::vector<AttentionSpan> spans = cross ? std::vector<AttentionSpan>{{0, n0, n0, n1}, {n0, n1, 0, n0}}
                                                   : std::vector<AttentionSpan>{{0, n0, 0, n0}, {n0, n1, n0, n1}};
    const torch::Tensor got = SmallAttention(qkv, heads, spans).to(torch::kDouble);
    const torch::Tensor want =
        torch::cat({AttentionReference(qkv, heads, spans[0]), AttentionReference(qkv, heads, spans[1])}, 1);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_LT((got - want).abs().max().item<double>(), 2e-5 * want.abs().max().item<double>());
  }
  // One source; a span that covers part of the columns leaves the rest zero.
  const torch::Tensor one = SmallAttention(qkv, heads, {{5, 3, 7, 1}});
  const torch::Tensor v7 = qkv.narrow(0, 2 * heads * 32, heads * 32).select(1, 7);
  for (int64_t c = 0; c < 3; ++c) EXPECT_TRUE(torch::allclose(one.select(1, 5 + c), v7, 1e-6, 1e-6));
  EXPECT_EQ(one.narrow(1, 0, 5).abs().max().item<float>(), 0.0f);
  // The thread count does not change a value.
  const int threads = at::get_num_threads();
  const torch::Tensor two = SmallAttention(qkv, heads, {{0, n0, n0, n1}});
  at::set_num_threads(1);
  const torch::Tensor single = SmallAttention(qkv, heads, {{0, n0, n0, n1}});
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(two, single));
}

TEST(SmallAttention, RejectsOtherShapes) {
  EXPECT_FALSE(SmallAttentionApplies(torch::randn({3 * 64, 10}), 4));  // heads of 16 channels
  EXPECT_FALSE(SmallAttentionApplies(torch::randn({3 * 128, 10}, torch::kDouble), 4));
  EXPECT_THROW(SmallAttention(torch::randn({3 * 64, 10}), 4, {{0, 10, 0, 10}}), std::invalid_argument);
  EXPECT_THROW(SmallAttention(torch::randn({3 * 128, 10}), 4, {{0, 10, 5, 6}}), std::invalid_argument);
  EXPECT_THROW(SmallAttention(torch::randn({3 * 128, 10}), 4, {{0, 10, 0, 0}}), std::invalid_argument);
}

}  // namespace
}  // namespace animerun::models
