// The training-mode forward of every flow network: the official list of predictions, a
// gradient for the parameters, frozen BatchNorm where the official finetuning freezes it,
// and a final prediction equal to what inference (Estimate) computes.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "models/common/flow_factory.h"
#include "models/common/flow_model.h"

namespace animerun::models {
namespace {

struct Case {
  std::string name;
  int64_t size;          // square input, a size the network trains on
  size_t predictions;    // what the official training forward returns, at iters = 3
};

class FlowTrainForward : public ::testing::TestWithParam<Case> {};

TEST_P(FlowTrainForward, PredictionsGradientsAndInferenceAgree) {
  const Case c = GetParam();
  torch::manual_seed(5);
  auto model = CreateFlowModel(c.name);
  ASSERT_EQ(c.size % model->TrainSizeMultiple(), 0);
  const auto img1 = torch::rand({2, 3, c.size, c.size}) * 255;
  const auto img2 = torch::roll(img1, {2, -3}, {2, 3});  // a shifted copy: a plausible pair

  // Training mode: every prediction at the input size, a loss with gradients.
  SetTrainMode(model->module(), model->FreezesBatchNorm());
  std::vector<torch::Tensor> bn_means;
  for (const auto& m : model->module().modules(false))
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) {
      EXPECT_FALSE(bn->is_training()) << c.name << ": BatchNorm must be frozen";
      bn_means.push_back(bn->running_mean.clone());
    }
  if (!model->FreezesBatchNorm()) EXPECT_TRUE(bn_means.empty()) << c.name << " has BatchNorm but does not freeze it";
  const auto preds = model->TrainForward(img1, img2, 3);
  ASSERT_EQ(preds.size(), c.predictions) << c.name;
  torch::Tensor loss = torch::zeros({});
  for (const auto& p : preds) {
    EXPECT_EQ(p.sizes(), (std::vector<int64_t>{2, 2, c.size, c.size})) << c.name;
    EXPECT_EQ(p.scalar_type(), torch::kFloat) << c.name;
    loss = loss + p.abs().mean();
  }
  loss.backward();
  int64_t with_grad = 0, total = 0;
  for (const auto& p : UniqueParameters(model->module())) {
    ++total;
    if (p.grad().defined() && p.grad().abs().sum().item<double>() > 0) ++with_grad;
    if (p.grad().defined()) EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>()) << c.name;
  }
  // Everything but parameters the configuration does not use (GMA's position embedding,
  // RAFT's mask head with iterations upsampled bilinearly) receives a gradient.
  EXPECT_GT(with_grad, total * 8 / 10) << c.name << ": " << with_grad << " of " << total;
  size_t i = 0;
  for (const auto& m : model->module().modules(false))
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get()))
      EXPECT_TRUE(torch::equal(bn->running_mean, bn_means[i++])) << c.name << ": running statistics changed";

  // The final training prediction is the inference flow (eval mode, same weights).
  model->module().eval();
  FlowInferenceOptions o;
  o.iters = 3;
  const auto estimate = model->Estimate(img1, img2, o);
  torch::Tensor last;
  {
    torch::NoGradGuard no_grad;
    last = model->TrainForward(img1, img2, 3).back();
  }
  const float scale = std::max(1.f, estimate.abs().max().item<float>());
  EXPECT_LT((last - estimate).abs().max().item<float>() / scale, 1e-4) << c.name;
}

INSTANTIATE_TEST_SUITE_P(AllNetworks, FlowTrainForward,
                         ::testing::Values(Case{"raft", 128, 3}, Case{"raft-small", 128, 3}, Case{"gma", 128, 3},
                                           Case{"gmflow", 64, 2}, Case{"gmflow-refine", 64, 4},
                                           Case{"pwcnet", 64, 1}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(UniqueParameters, AliasedModulesCountOnce) {
  // RAFT registers norm3 twice (also as downsample.1): parameters() lists it twice.
  auto raft = CreateFlowModel("raft");
  const auto all = raft->module().parameters();
  const auto unique = UniqueParameters(raft->module());
  EXPECT_LT(unique.size(), all.size());
  std::set<const void*> seen;
  for (const auto& p : unique) EXPECT_TRUE(seen.insert(p.unsafeGetTensorImpl()).second);
}

}  // namespace
}  // namespace animerun::models
