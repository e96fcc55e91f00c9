// `animerun bench <target>`: each benchmark registers itself from its own file, like the
// subcommands. RunX(argc, argv) gets argv[0] = "animerun bench <target>".
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace animerun::cli {

struct BenchTarget {
  std::string name;
  std::string summary;
  std::function<int(int argc, char** argv)> run;
};

std::vector<BenchTarget>& BenchTargets();

struct BenchRegistrar {
  BenchRegistrar(const std::string& name, const std::string& summary, std::function<int(int, char**)> fn);
};

}  // namespace animerun::cli

#define ANIMERUN_REGISTER_BENCH(id, name, summary, fn) \
  static ::animerun::cli::BenchRegistrar animerun_bench_registrar_##id(name, summary, fn)
