#pragma once
// Measurements the `bench` subcommands share: this process's CPU time and peak memory, and
// the median of repeated timings.
#include <string>
#include <vector>

namespace animerun::cli {

// User + system CPU seconds of this process so far.
double ProcessCpuSeconds();
// Peak resident set size of this process, MiB.
long PeakRssMb();
// Median of the values (the upper one of an even count); v must not be empty.
double Median(std::vector<double> v);

// The roofline fields of a result (docs/benchmarks.md): the official work of the call (flop)
// done in `seconds`, and that rate against the machine's peak for `precision`:
// peak_gflops > 0 as given, 0 measured now on the CPU (2 s; nothing on a GPU), < 0 none.
// Returns ', "official_gflop": G, "achieved_gflops": R[, "peak_gflops": P, "fraction_of_peak": F]'.
std::string RooflineJson(double flop, double seconds, double peak_gflops, const std::string& precision, bool on_cpu);

}  // namespace animerun::cli
