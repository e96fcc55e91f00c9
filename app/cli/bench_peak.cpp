// `animerun bench peak`: the machine's measured multiply-add rate in fp32 and bf16, the
// denominator of every "fraction_of_peak" that the other benchmarks print.

#include <algorithm>
#include <cstdio>
#include <string>

#include "app/cli/arg_parser.h"
#include "app/cli/bench_registry.h"
#include "models/common/peak_rate.h"
#include "models/common/runtime.h"

namespace animerun::cli {
namespace {

int RunBenchPeak(int argc, char** argv) {
  int threads = 0;
  double seconds = 2.0;
  int size = 2048;
  std::string precision = "fp32,bf16";
  ArgParser p(argv[0], "Measures the CPU's multiply-add rate through LibTorch: the best GFLOP/s of a square matrix "
                       "product and of a 3x3 128-channel convolution, per precision. The other benchmarks divide "
                       "their achieved rate by the best of the two (docs/benchmarks.md).");
  p.Add("--threads", &threads, "LibTorch CPU threads (0 = all cores)");
  p.Add("--seconds", &seconds, "time spent per precision (split between the two kernels)");
  p.Add("--size", &size, "matrix side of the product");
  p.Add("--precision", &precision, "comma-separated: fp32, bf16");
  if (!p.Parse(argc, argv)) return 0;
  if (seconds <= 0 || seconds > 600) throw UsageError("--seconds must be in (0, 600]");
  if (size < 64 || size > 16384) throw UsageError("--size must be in [64, 16384]");
  threads = models::ConfigureThreads(threads);
  size_t start = 0;
  while (start <= precision.size()) {
    const size_t end = std::min(precision.find(',', start), precision.size());
    const std::string one = precision.substr(start, end - start);
    if (one != "fp32" && one != "bf16") throw UsageError("--precision: unknown '" + one + "' (fp32, bf16)");
    const models::PeakRate r = models::MeasurePeakRate(one, seconds, size);
    std::printf("{\"bench\": \"peak\", \"precision\": \"%s\", \"threads\": %d, \"gemm_size\": %d, "
                "\"gemm_gflops\": %.1f, \"conv_gflops\": %.1f, \"peak_gflops\": %.1f, \"native_bf16\": %s}\n",
                one.c_str(), r.threads, r.gemm_size, r.gemm_gflops, r.conv_gflops, r.best(),
                models::CpuHasNativeBf16() ? "true" : "false");
    std::fflush(stdout);
    start = end + 1;
  }
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_BENCH(peak, "peak", "the CPU's measured fp32/bf16 multiply-add rate (the roofline's peak)",
                        RunBenchPeak);

}  // namespace animerun::cli
