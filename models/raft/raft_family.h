// The FlowModel shared by RAFT, RAFT-small and GMA: official checkpoint import/export and
// Estimate (normalisation inside the network, InputPadder padding, unpadding).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "models/common/flow_model.h"
#include "models/raft/raft.h"

namespace animerun::models {

using RaftForwardFn =
    std::function<RaftOutput(const torch::Tensor&, const torch::Tensor&, const RaftForwardOptions&)>;
// The network's CountOfficialFlops(batch 1, padded height, padded width, iters).
using RaftFlopsFn = std::function<FlopCount(int64_t, int64_t, int)>;

// module: the network (its parameter names are the official keys without 'module.');
// forward: its Forward; flops: its CountOfficialFlops. The checkpoint is saved with the 'module.' prefix that the
// official DataParallel checkpoints carry.
std::unique_ptr<FlowModel> MakeRaftFamilyModel(const std::string& name, std::shared_ptr<torch::nn::Module> module,
                                               RaftForwardFn forward, RaftFlopsFn flops);

}  // namespace animerun::models
