#pragma once
// Measurements the `bench` subcommands share: this process's CPU time and peak memory, and
// the median of repeated timings.
#include <vector>

namespace animerun::cli {

// User + system CPU seconds of this process so far.
double ProcessCpuSeconds();
// Peak resident set size of this process, MiB.
long PeakRssMb();
// Median of the values (the upper one of an even count); v must not be empty.
double Median(std::vector<double> v);

}  // namespace animerun::cli
