// `animerun bench <target> [options]`: dispatches to the registered benchmark targets.
#include <cstdio>
#include <string>

#include "app/cli/arg_parser.h"
#include "app/cli/bench_registry.h"
#include "app/cli/command_registry.h"

namespace animerun::cli {

std::vector<BenchTarget>& BenchTargets() {
  static std::vector<BenchTarget> targets;
  return targets;
}

BenchRegistrar::BenchRegistrar(const std::string& name, const std::string& summary,
                               std::function<int(int, char**)> fn) {
  BenchTargets().push_back({name, summary, std::move(fn)});
}

namespace {

void PrintBenchHelp() {
  std::printf("usage: animerun bench <target> [options]\n\nMeasures speed (median of repeated runs) and memory."
              " Results belong in docs/benchmarks.md.\n\ntargets:\n");
  for (const auto& t : BenchTargets()) std::printf("  %-12s %s\n", t.name.c_str(), t.summary.c_str());
}

int RunBench(int argc, char** argv) {
  const std::string target = argc > 1 ? argv[1] : "";
  if (target.empty() || target == "--help" || target == "-h") {
    PrintBenchHelp();
    return target.empty() ? 2 : 0;
  }
  for (const auto& t : BenchTargets()) {
    if (t.name != target) continue;
    std::string argv0 = "animerun bench " + target;
    argv[1] = argv0.data();
    return t.run(argc - 1, argv + 1);
  }
  throw UsageError("unknown bench target '" + target + "' (see animerun bench --help)");
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(bench, "bench", "Benchmarks: speed and memory of the engine's hot paths", RunBench);

}  // namespace animerun::cli
