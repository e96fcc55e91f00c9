#include "app/cli/bench_util.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>

#include "models/common/peak_rate.h"

namespace animerun::cli {

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

long PeakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;  // Linux reports KiB
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string RooflineJson(double flop, double seconds, double peak_gflops, const std::string& precision, bool on_cpu) {
  const double gflops = flop / 1e9 / seconds;
  if (peak_gflops == 0 && on_cpu) peak_gflops = models::MeasurePeakRate(precision, 2.0).best();
  char buf[192];
  int n = std::snprintf(buf, sizeof buf, ", \"official_gflop\": %.1f, \"achieved_gflops\": %.1f", flop / 1e9, gflops);
  if (peak_gflops > 0)
    std::snprintf(buf + n, sizeof buf - n, ", \"peak_gflops\": %.1f, \"fraction_of_peak\": %.3f", peak_gflops,
                  gflops / peak_gflops);
  return buf;
}

}  // namespace animerun::cli
