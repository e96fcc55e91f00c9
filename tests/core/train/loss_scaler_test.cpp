// Dynamic loss scaling (GradScaler's rules): back off on non-finite gradients, grow after an
// interval of finite ones, unscale gradients exactly, and round-trip through the checkpoint.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "core/train/loss_scaler.h"
#include "core/util/error.h"

namespace animerun::train {
namespace {

TEST(LossScaler, BacksOffOnNonFiniteAndGrowsAfterTheInterval) {
  LossScalerOptions o;
  o.init_scale = 1024;
  o.growth_interval = 3;
  DynamicLossScaler s(o);
  EXPECT_EQ(s.scale(), 1024.0);
  EXPECT_FALSE(s.Update(false));  // skip the step, halve
  EXPECT_EQ(s.scale(), 512.0);
  EXPECT_TRUE(s.Update(true));
  EXPECT_TRUE(s.Update(true));
  EXPECT_EQ(s.scale(), 512.0);
  EXPECT_EQ(s.growth_tracker(), 2);
  EXPECT_FALSE(s.Update(false));  // a non-finite update restarts the count
  EXPECT_EQ(s.scale(), 256.0);
  EXPECT_EQ(s.growth_tracker(), 0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(s.Update(true));
  EXPECT_EQ(s.scale(), 512.0);
  EXPECT_EQ(s.growth_tracker(), 0);
}

TEST(LossScaler, UnscalesGradientsInPlace) {
  auto a = torch::ones({3}, torch::requires_grad());
  auto b = torch::ones({2}, torch::requires_grad());
  auto unused = torch::ones({2}, torch::requires_grad());  // no gradient: left alone
  ((a * torch::tensor({1.f, 2.f, 3.f})).sum() * 4096 + b.sum() * 4096).backward();
  DynamicLossScaler s;  // 65536
  s.Unscale({a, b, unused});
  EXPECT_TRUE(torch::equal(a.grad(), torch::tensor({1.f, 2.f, 3.f}) / 16));
  EXPECT_TRUE(torch::equal(b.grad(), torch::full({2}, 1.f / 16)));
  EXPECT_FALSE(unused.grad().defined());
}

TEST(LossScaler, StateRoundTripsAndBadTextIsAnError) {
  LossScalerOptions o;
  o.growth_interval = 10;
  DynamicLossScaler s(o);
  s.Update(false);
  s.Update(true);
  s.Update(true);
  DynamicLossScaler r(o);
  r.Deserialize(s.Serialize(), "ckpt");
  EXPECT_EQ(r.scale(), s.scale());
  EXPECT_EQ(r.growth_tracker(), 2);
  for (const std::string bad : {"", "x 1", "0 0", "-4 1", "1024", "1024 10", "1024 1 junk", "inf 0"}) {
    try {
      r.Deserialize(bad, "ckpt.pth");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("ckpt.pth"), std::string::npos);
    }
  }
  o.init_scale = 0;
  EXPECT_THROW(DynamicLossScaler{o}, Error);
  o.init_scale = 1;
  o.backoff_factor = 1;
  EXPECT_THROW(DynamicLossScaler{o}, Error);
}

}  // namespace
}  // namespace animerun::train
