// Creates the flow networks by the names the CLI and GUI use (the registry,
// model_registry.h, says what each one is).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/common/flow_model.h"

namespace animerun::models {

// "raft", "raft-small", "gma", "gmflow", "gmflow-refine", "pwcnet".
const std::vector<std::string>& FlowModelNames();

// A randomly initialised network on CPU in eval mode; throws std::invalid_argument for an
// unknown name, listing the known ones.
std::unique_ptr<FlowModel> CreateFlowModel(const std::string& name);

// The official release files each network's loader expects, for messages and the GUI.
std::string OfficialCheckpointHint(const std::string& name);

}  // namespace animerun::models
