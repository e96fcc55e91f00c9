#include "models/common/model_registry.h"

#include <algorithm>

#include "models/gma/gma.h"
#include "models/gmflow/gmflow.h"
#include "models/pwcnet/pwcnet.h"
#include "models/raft/raft.h"

namespace animerun::models {

namespace {

// GMFlow counts the backbone, then per scale each transformer block and the matching
// (GmflowNetImpl::Steps), from its official configuration.
int GmflowSteps(bool refine) {
  const GmflowConfig c = GmflowConfig::Official(refine);
  return 1 + (c.num_transformer_layers + 1) * c.num_scales;
}

std::vector<FlowModelInfo> MakeRegistry() {
  // fp16 runs on CUDA only (ModulePrecision refuses it for CPU weights).
  const std::vector<std::string> both = {"fp32", "bf16", "fp16"};
  std::vector<FlowModelInfo> r;
  FlowModelInfo raft;
  raft.name = "raft";
  raft.family = "raft";
  raft.title = "RAFT (Teed & Deng, ECCV 2020)";
  raft.iterative = true;
  raft.default_iterations = 32;
  raft.step_unit = "iteration";
  raft.checkpoint_files = {"raft-things.pth", "raft-sintel.pth"};
  raft.checkpoint_source = "princeton-vl/RAFT (download_models.sh)";
  raft.precisions = both;
  raft.create = [] { return CreateRaft(false); };
  r.push_back(raft);

  FlowModelInfo small = raft;
  small.name = "raft-small";
  small.title = "RAFT-small (Teed & Deng, ECCV 2020)";
  small.checkpoint_files = {"raft-small.pth"};
  small.create = [] { return CreateRaft(true); };
  r.push_back(small);

  FlowModelInfo gma = raft;
  gma.name = "gma";
  gma.family = "gma";
  gma.title = "GMA (Jiang et al., ICCV 2021)";
  gma.checkpoint_files = {"gma-things.pth", "gma-sintel.pth"};
  gma.checkpoint_source = "zacjiang/GMA (checkpoints/)";
  gma.create = [] { return CreateGma(); };
  r.push_back(gma);

  FlowModelInfo gmflow;
  gmflow.name = "gmflow";
  gmflow.family = "gmflow";
  gmflow.title = "GMFlow (Xu et al., CVPR 2022)";
  gmflow.fixed_steps = GmflowSteps(false);
  gmflow.step_unit = "step";
  gmflow.checkpoint_files = {"gmflow_sintel-0c07dcb3.pth", "gmflow_things-e9887eda.pth"};
  gmflow.checkpoint_source = "haofeixu/gmflow";
  gmflow.precisions = both;
  gmflow.create = [] { return CreateGmflow(false); };
  r.push_back(gmflow);

  FlowModelInfo refine = gmflow;
  refine.name = "gmflow-refine";
  refine.title = "GMFlow with refinement (Xu et al., CVPR 2022)";
  refine.fixed_steps = GmflowSteps(true);
  refine.checkpoint_files = {"gmflow_with_refine_sintel-3ed1cf48.pth", "gmflow_with_refine_things-36579974.pth"};
  refine.create = [] { return CreateGmflow(true); };
  r.push_back(refine);

  FlowModelInfo pwc;
  pwc.name = "pwcnet";
  pwc.aliases = {"pwc"};
  pwc.family = "pwcnet";
  pwc.title = "PWC-Net (Sun et al., CVPR 2018; sniklaus/pytorch-pwc)";
  pwc.fixed_steps = 7;  // the pyramid levels it reports (pwcnet.cpp)
  pwc.step_unit = "step";
  pwc.checkpoint_files = {"network-default.pytorch"};
  pwc.checkpoint_source = "sniklaus/pytorch-pwc";
  pwc.precisions = both;
  pwc.create = [] { return CreatePwcNet(); };
  r.push_back(pwc);
  return r;
}

}  // namespace

bool FlowModelInfo::SupportsPrecision(const std::string& precision) const {
  return std::find(precisions.begin(), precisions.end(), precision) != precisions.end();
}

std::string FlowModelInfo::CheckpointHint() const {
  std::string files;
  for (size_t i = 0; i < checkpoint_files.size(); ++i)
    files += (i == 0 ? "" : " or ") + checkpoint_files[i];
  return files + " from " + checkpoint_source;
}

const std::vector<FlowModelInfo>& FlowModelRegistry() {
  static const std::vector<FlowModelInfo> registry = MakeRegistry();
  return registry;
}

const FlowModelInfo* FindFlowModel(const std::string& name) {
  for (const FlowModelInfo& m : FlowModelRegistry()) {
    if (m.name == name) return &m;
    if (std::find(m.aliases.begin(), m.aliases.end(), name) != m.aliases.end()) return &m;
  }
  return nullptr;
}

}  // namespace animerun::models
