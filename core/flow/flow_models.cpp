#include "core/flow/flow_models.h"

#include "core/util/error.h"
#include "models/common/runtime.h"

namespace animerun::flow {

const std::vector<FlowModelInfo>& FlowModels() { return models::FlowModelRegistry(); }

std::vector<std::string> FlowModelNames() {
  std::vector<std::string> names;
  for (const FlowModelInfo& m : FlowModels()) names.push_back(m.name);
  return names;
}

const FlowModelInfo& DescribeFlowModel(const std::string& name) {
  if (const FlowModelInfo* m = models::FindFlowModel(name)) return *m;
  std::string known;
  for (const FlowModelInfo& m : FlowModels()) known += (known.empty() ? "" : ", ") + m.name;
  throw Error("unknown flow model '" + name + "' (" + known + ")");
}

int ConfigureThreads(int n) { return models::ConfigureThreads(n); }

std::string DescribeRuntime() { return models::DescribeRuntime(); }

}  // namespace animerun::flow
