#include "app/cli/command_registry.h"

#include <algorithm>

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

CommandRegistry::Registrar::Registrar(const std::string& name, const std::string& summary,
                                      std::function<int(int, char**)> fn) {
  auto& all = All();
  all.push_back({name, summary, std::move(fn)});
  std::sort(all.begin(), all.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
}

}  // namespace animerun::cli
