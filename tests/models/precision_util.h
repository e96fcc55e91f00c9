// Test-only: bf16 against fp32 on the golden inputs for any FlowModel (the RAFT, GMA,
// GMFlow and PWC-Net precision tests share it).
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "models/common/flow_model.h"
#include "models/common/runtime.h"
#include "models/golden_util.h"
#include "parity.h"
#include "test_paths.h"

namespace animerun::test {

struct FlowDiff {
  double mean_epe = 0, max_epe = 0;  // endpoint error of one flow against the other
  double mean_magnitude = 0;         // mean |flow| of the reference, for scale
};

// a, b: [1, 2, H, W] flows.
inline FlowDiff CompareFlow(const torch::Tensor& a, const torch::Tensor& ref) {
  const auto epe = (a.to(torch::kDouble) - ref.to(torch::kDouble)).pow(2).sum(1).sqrt();
  return {epe.mean().item<double>(), epe.max().item<double>(),
          ref.to(torch::kDouble).pow(2).sum(1).sqrt().mean().item<double>()};
}

struct Bf16Limits {
  double mean_epe = 0;  // largest allowed mean EPE of bf16 against fp32, pixels
  double max_epe = 0;   // largest allowed per-pixel EPE
};

// On a CPU without bf16 hardware (no AVX-512 BF16 / AMX), LibTorch 1.13's fallback kernels
// round partial sums to bf16, so the error is 5-20x what the hardware path gives (measured
// on an AVX2 EPYC, docs/benchmarks.md); emulated limits bound that path. Zero = the same.
inline Bf16Limits LimitsForThisCpu(const Bf16Limits& native, const Bf16Limits& emulated) {
  const bool hw = models::CpuHasNativeBf16();
  std::cout << "[bf16] this CPU computes bf16 " << (hw ? "in hardware" : "by emulation") << "\n";
  return hw || emulated.mean_epe == 0 ? native : emulated;
}

// The golden pairs a bf16 test compares on: both with bf16 hardware; the first only where
// bf16 is emulated, whose kernels take 10-30x as long (GMFlow with refinement: 90 s for two
// pairs), so that the suite's time does not hang on the CPU it runs on. The emulated path
// is still checked against its limits on that pair.
inline int Bf16PairCount(int pairs) {
  if (models::CpuHasNativeBf16()) return pairs;
  std::cout << "[bf16] emulated bf16: comparing on the first golden pair only\n";
  return 1;
}

// Loads the official weights, runs the golden pair in fp32, bf16, then fp32 again, and
// checks: bf16 returns a finite float32 flow of the same shape within limits of the fp32
// one; going back to fp32 gives the first fp32 flow bit for bit (the fp32 weights were kept
// aside, not rounded); the fp32 flow still matches the official flow_final.npy within atol.
inline FlowDiff ExpectBf16CloseToFp32(models::FlowModel& model, const std::string& weights_rel,
                                      const std::string& pair_dir, const std::string& official_final_rel,
                                      double atol, int iters, const Bf16Limits& native_limits,
                                      const Bf16Limits& emulated_limits = {}) {
  const Bf16Limits limits = LimitsForThisCpu(native_limits, emulated_limits);
  models::ConfigureThreads(2);
  EXPECT_TRUE(model.LoadWeights((GoldenDir() / weights_rel).string()).ok());
  const auto img1 = ReadPngAsBatch((GoldenDir() / pair_dir / "img1.png").string());
  const auto img2 = ReadPngAsBatch((GoldenDir() / pair_dir / "img2.png").string());
  models::FlowInferenceOptions fp32;
  fp32.iters = iters;
  models::FlowInferenceOptions bf16 = fp32;
  bf16.precision = "bf16";

  const auto a = model.Estimate(img1, img2, fp32);
  const auto b = model.Estimate(img1, img2, bf16);
  const auto again = model.Estimate(img1, img2, fp32);
  EXPECT_EQ(b.scalar_type(), torch::kFloat);
  EXPECT_EQ(b.sizes(), a.sizes());
  EXPECT_TRUE(torch::isfinite(b).all().item<bool>());
  EXPECT_TRUE(torch::equal(a, again)) << "fp32 after bf16 differs: the fp32 weights were not restored exactly";

  const auto official = ReadNpyTensor((GoldenDir() / official_final_rel).string()).to(torch::kFloat).view_as(a);
  const std::string id = "bf16_" + model.name() + "_" + std::filesystem::path(pair_dir).filename().string();
  ExpectParity(id, "fp32_flow_final", MaxAbsDiff(a, official), atol);
  const FlowDiff d = CompareFlow(b, a);
  const FlowDiff off = CompareFlow(b, official);
  std::cout << "[bf16] " << model.name() << " " << pair_dir << " iters " << iters << ": EPE bf16 vs fp32 mean "
            << d.mean_epe << " max " << d.max_epe << " (mean |flow| " << d.mean_magnitude
            << "); bf16 vs official mean " << off.mean_epe << "\n";
  ExpectParity(id, "bf16_vs_fp32_mean_epe", d.mean_epe, limits.mean_epe);
  ExpectParity(id, "bf16_vs_fp32_max_epe", d.max_epe, limits.max_epe);
  // Not trivially equal: bf16 really ran in bf16.
  EXPECT_GT(d.max_epe, 0.0);
  return d;
}

}  // namespace animerun::test
