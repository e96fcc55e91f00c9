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

// A command made of sub-commands (`animerun palette extract ...`): RunSubCommands prints
// the list for no argument (exit 2) or --help (exit 0), runs the named one with argv[0] =
// "animerun <command> <sub>", and throws UsageError for an unknown name.
struct SubCommand {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};
int RunSubCommands(const std::string& command, const std::string& summary, const std::vector<SubCommand>& subs,
                   int argc, char** argv);

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
