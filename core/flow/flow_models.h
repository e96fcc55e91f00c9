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

// Weights compiled into the binary (models/common/builtin_weights.h): trained by AnimeRun
// Studio on synthetic frames, not the official releases. "builtin:NAME" for a network
// ("raft-small", "ant"); "" when this build has none for it.
std::string BuiltinWeightsRef(const std::string& network);
// For people: the label of "builtin:NAME" (who trained it and on what); "" for anything else.
std::string BuiltinWeightsLabel(const std::string& ref);
// Whether weights can be loaded from ref: embedded builtin weights or an existing file.
bool WeightsAvailable(const std::string& ref);
// weights, or the network's built-in weights when weights is empty (the GUI's default).
std::string WeightsOrBuiltin(const std::string& network, const std::string& weights);
// "builtin:raft-small, builtin:ant", or "none in this build"; network_kind "flow" or "ant":
// only those for that kind of network.
std::string DescribeBuiltinWeights(const std::string& network_kind = {});
// For --help after a weights option: "; or builtin:raft-small, builtin:ant (built into this
// program: trained by AnimeRun Studio on synthetic frames, not the official weights)"; "" when none.
std::string BuiltinWeightsHelp(const std::string& network_kind = {});

// True when this CPU computes bf16 in hardware (AVX-512 BF16 / AMX). Elsewhere bf16 is
// emulated: slower than fp32 and less exact (docs/benchmarks.md).
bool CpuHasNativeBf16();
// A note for people who ask for bf16 on the CPU where it is emulated ("" otherwise).
std::string Bf16Note(const std::string& precision, const std::string& device);

// LibTorch's CPU threads for inference and training; n <= 0 = all cores. Returns the
// number in effect.
int ConfigureThreads(int n = 0);

// The LibTorch build, its CUDA runtime and each GPU, for `animerun --version` and bug reports.
std::string DescribeRuntime();

}  // namespace animerun::flow
