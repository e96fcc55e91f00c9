// The measured peak that every benchmark divides its achieved rate by.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "models/common/peak_rate.h"
#include "models/common/runtime.h"

namespace animerun::models {
namespace {

TEST(PeakRate, MeasuresBothKernelsAndNamesTheDevice) {
  const PeakRate r = MeasurePeakRate("fp32", 0.05, 128);
  EXPECT_EQ(r.device, "cpu");
  EXPECT_EQ(r.gemm_size, 128);
  EXPECT_GT(r.gemm_gflops, 0.0);
  EXPECT_GT(r.conv_gflops, 0.0);
  EXPECT_EQ(r.best(), std::max(r.gemm_gflops, r.conv_gflops));
}

TEST(PeakRate, RejectsWhatItCannotMeasure) {
  // TF32 and fp16 products are GPU settings; LibTorch's CPU kernels have no fp16 GEMM.
  EXPECT_THROW(MeasurePeakRate("tf32", 0.05, 128), std::invalid_argument);
  EXPECT_THROW(MeasurePeakRate("fp16", 0.05, 128), std::invalid_argument);
  EXPECT_THROW(MeasurePeakRate("fp64", 0.05, 128), std::invalid_argument);
  EXPECT_THROW(MeasurePeakRate("fp32", 0.05, 16), std::invalid_argument);
  EXPECT_THROW(MeasurePeakRate("fp32", 0.05, 128, "meta"), std::invalid_argument);
}

TEST(PeakRate, Tf32SwitchesComeBackOnCuda) {
  if (!CudaAvailable()) GTEST_SKIP() << "no usable CUDA device here";
  const bool cublas = at::globalContext().allowTF32CuBLAS(), cudnn = at::globalContext().allowTF32CuDNN();
  const PeakRate tf32 = MeasurePeakRate("tf32", 0.2, 2048, "cuda");
  const PeakRate fp32 = MeasurePeakRate("fp32", 0.2, 2048, "cuda");
  EXPECT_GT(tf32.gemm_gflops, 0.0);
  EXPECT_GT(fp32.gemm_gflops, 0.0);
  EXPECT_EQ(at::globalContext().allowTF32CuBLAS(), cublas);
  EXPECT_EQ(at::globalContext().allowTF32CuDNN(), cudnn);
}

}  // namespace
}  // namespace animerun::models
