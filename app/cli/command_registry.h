// Subcommands register themselves here from their own .cpp file:
//   ANIMERUN_REGISTER_COMMAND(synth, "synth", "Generate a synthetic AnimeRun dataset", RunSynth);
// RunX(argc, argv) gets argv[0] = "animerun <name>" and returns the exit code. Usage errors
// throw cli::UsageError (exit 2), other failures animerun::Error (exit 1).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace animerun::cli {

struct Command {
  std::string name;
  std::string summary;
  std::function<int(int argc, char** argv)> run;
};

class CommandRegistry {
 public:
  static std::vector<Command>& All();
  static const Command* Find(const std::string& name);
  struct Registrar {
    Registrar(const std::string& name, const std::string& summary, std::function<int(int, char**)> fn);
  };
};

}  // namespace animerun::cli

#define ANIMERUN_REGISTER_COMMAND(id, name, summary, fn) \
  static ::animerun::cli::CommandRegistry::Registrar animerun_cmd_registrar_##id(name, summary, fn)
