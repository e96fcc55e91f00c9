#include "app/cli/command_registry.h"

#include <algorithm>
#include <cstdio>

#include "app/cli/arg_parser.h"

namespace animerun::cli {

std::vector<Command>& CommandRegistry::All() {
  static std::vector<Command> commands;
  return commands;
}

const Command* CommandRegistry::Find(const std::string& name) {
  for (const auto& c : All())
    if (c.name == name) return &c;
  return nullptr;
}

int RunSubCommands(const std::string& command, const std::string& summary, const std::vector<SubCommand>& subs,
                   int argc, char** argv) {
  const std::string sub = argc > 1 ? argv[1] : "";
  if (sub.empty() || sub == "--help" || sub == "-h") {
    std::printf("usage: animerun %s <sub-command> [options]\n\n%s\n\nsub-commands:\n", command.c_str(),
                summary.c_str());
    for (const SubCommand& s : subs) std::printf("  %-16s %s\n", s.name, s.summary);
    return sub.empty() ? 2 : 0;
  }
  for (const SubCommand& s : subs) {
    if (sub != s.name) continue;
    std::string argv0 = "animerun " + command + " " + s.name;
    argv[1] = argv0.data();
    return s.run(argc - 1, argv + 1);
  }
  throw UsageError("unknown " + command + " sub-command '" + sub + "' (see animerun " + command + " --help)");
}

CommandRegistry::Registrar::Registrar(const std::string& name, const std::string& summary,
                                      std::function<int(int, char**)> fn) {
  auto& all = All();
  all.push_back({name, summary, std::move(fn)});
  std::sort(all.begin(), all.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
}

}  // namespace animerun::cli
