// The flow networks as the engine offers them to the GUI and the CLI: their descriptions
// (one registry in models/, models/common/model_registry.h) and the process-wide inference
// settings. Code above core reads networks through here and never includes models/.
#pragma once

#include <string>
#include <vector>

#include "models/common/model_registry.h"

namespace animerun::flow {

// Family, iterations, progress steps, official checkpoints, precisions of one network.
using FlowModelInfo = models::FlowModelInfo;

// Every network, in menu order.
const std::vector<FlowModelInfo>& FlowModels();
// Their names ("raft", "raft-small", "gma", "gmflow", "gmflow-refine", "pwcnet").
std::vector<std::string> FlowModelNames();
// By name or alias; throws Error naming the known ones for an unknown name.
const FlowModelInfo& DescribeFlowModel(const std::string& name);

// LibTorch's CPU threads for inference and training; n <= 0 = all cores. Returns the
// number in effect.
int ConfigureThreads(int n = 0);

// The LibTorch build, its CUDA runtime and each GPU, for `animerun --version` and bug reports.
std::string DescribeRuntime();

}  // namespace animerun::flow
