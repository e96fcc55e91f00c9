#include "models/common/flow_factory.h"

#include <stdexcept>

#include "models/gma/gma.h"
#include "models/gmflow/gmflow.h"
#include "models/pwcnet/pwcnet.h"
#include "models/raft/raft.h"

namespace animerun::models {

const std::vector<std::string>& FlowModelNames() {
  static const std::vector<std::string> names = {"raft", "raft-small", "gma", "gmflow", "gmflow-refine", "pwcnet"};
  return names;
}

std::unique_ptr<FlowModel> CreateFlowModel(const std::string& name) {
  if (name == "raft") return CreateRaft(false);
  if (name == "raft-small") return CreateRaft(true);
  if (name == "gma") return CreateGma();
  if (name == "gmflow") return CreateGmflow(false);
  if (name == "gmflow-refine") return CreateGmflow(true);
  if (name == "pwcnet" || name == "pwc") return CreatePwcNet();
  std::string known;
  for (const auto& n : FlowModelNames()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown flow model '" + name + "' (known: " + known + ")");
}

std::string OfficialCheckpointHint(const std::string& name) {
  if (name == "raft") return "raft-things.pth or raft-sintel.pth from princeton-vl/RAFT (download_models.sh)";
  if (name == "raft-small") return "raft-small.pth from princeton-vl/RAFT (download_models.sh)";
  if (name == "gma") return "gma-things.pth or gma-sintel.pth from zacjiang/GMA (checkpoints/)";
  if (name == "gmflow") return "gmflow_sintel-0c07dcb3.pth or gmflow_things-e9887eda.pth from haofeixu/gmflow";
  if (name == "gmflow-refine")
    return "gmflow_with_refine_sintel-3ed1cf48.pth or gmflow_with_refine_things-36579974.pth from haofeixu/gmflow";
  if (name == "pwcnet" || name == "pwc") return "network-default.pytorch from sniklaus/pytorch-pwc";
  return "";
}

}  // namespace animerun::models
