#include "models/common/flow_factory.h"

#include <stdexcept>

#include "models/common/model_registry.h"

namespace animerun::models {

// The names, the networks and the hints all come from the one registry (model_registry.h).

const std::vector<std::string>& FlowModelNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const FlowModelInfo& m : FlowModelRegistry()) n.push_back(m.name);
    return n;
  }();
  return names;
}

std::unique_ptr<FlowModel> CreateFlowModel(const std::string& name) {
  if (const FlowModelInfo* m = FindFlowModel(name)) return m->create();
  std::string known;
  for (const auto& n : FlowModelNames()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown flow model '" + name + "' (known: " + known + ")");
}

std::string OfficialCheckpointHint(const std::string& name) {
  const FlowModelInfo* m = FindFlowModel(name);
  return m ? m->CheckpointHint() : std::string();
}

}  // namespace animerun::models
