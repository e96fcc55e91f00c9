#include "core/flow/flow_models.h"

#include <filesystem>

#include "core/util/error.h"
#include "models/common/builtin_weights.h"
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

std::string BuiltinWeightsRef(const std::string& network) {
  const models::BuiltinWeights* w = models::BuiltinWeightsFor(network);
  return w ? w->Ref() : std::string();
}

std::string BuiltinWeightsLabel(const std::string& ref) {
  const models::BuiltinWeights* w = models::FindBuiltinWeights(ref);
  return w ? w->label : std::string();
}

bool WeightsAvailable(const std::string& ref) {
  if (models::IsBuiltinWeightsRef(ref)) return models::FindBuiltinWeights(ref) != nullptr;
  std::error_code ec;
  return !ref.empty() && std::filesystem::is_regular_file(ref, ec);
}

std::string WeightsOrBuiltin(const std::string& network, const std::string& weights) {
  return weights.empty() ? BuiltinWeightsRef(network) : weights;
}

std::string DescribeBuiltinWeights(const std::string& network_kind) {
  return models::DescribeBuiltinWeights(network_kind);
}

std::string BuiltinWeightsHelp(const std::string& network_kind) {
  if (models::BuiltinWeightsRefs(network_kind).empty()) return std::string();
  return "; or " + DescribeBuiltinWeights(network_kind) +
         " (built into this program: trained by AnimeRun Studio on synthetic frames, not the official weights)";
}

int ConfigureThreads(int n) { return models::ConfigureThreads(n); }

std::string DescribeRuntime() { return models::DescribeRuntime(); }

bool CpuHasNativeBf16() { return models::CpuHasNativeBf16(); }

std::string Bf16Note(const std::string& precision, const std::string& device) {
  if (precision != "bf16" || device != "cpu" || CpuHasNativeBf16()) return std::string();
  return "this CPU has no bf16 hardware (AVX-512 BF16 or AMX): LibTorch emulates bf16 here, which is slower "
         "than fp32 and less exact; fp32 is the better choice on this machine";
}

}  // namespace animerun::flow
