#include "models/common/builtin_weights.h"

#include "models/common/builtin_weights_data.h"

namespace animerun::models {
namespace {

// Every name the build may embed, with what it is for. A name whose file is absent from
// resources/weights/ is simply not listed by BuiltinWeightsList().
struct Known {
  const char* name;
  const char* network;
  const char* label;
};
constexpr Known kKnown[] = {
    {"raft-small", "raft-small",
     "built-in RAFT-small: trained by AnimeRun Studio on synthetic frames (animerun synth), not the official weights"},
    {"ant", "ant",
     "built-in AnT: trained by AnimeRun Studio on synthetic frames (animerun synth), not the official weights"},
};

std::vector<BuiltinWeights> MakeList() {
  std::vector<BuiltinWeights> out;
  for (const Known& k : kKnown) {
    for (const EmbeddedBlob& blob : EmbeddedWeightBlobs()) {
      if (blob.name != k.name) continue;
      BuiltinWeights w;
      w.name = k.name;
      w.network = k.network;
      w.label = k.label;
      w.data = blob.data;
      w.size = blob.size;
      out.push_back(std::move(w));
    }
  }
  return out;
}

}  // namespace

bool IsBuiltinWeightsRef(const std::string& ref) { return ref.rfind(kBuiltinWeightsPrefix, 0) == 0; }

const std::vector<BuiltinWeights>& BuiltinWeightsList() {
  static const std::vector<BuiltinWeights> list = MakeList();
  return list;
}

const BuiltinWeights* FindBuiltinWeights(const std::string& ref) {
  if (!IsBuiltinWeightsRef(ref)) return nullptr;
  const std::string name = ref.substr(std::char_traits<char>::length(kBuiltinWeightsPrefix));
  for (const BuiltinWeights& w : BuiltinWeightsList())
    if (w.name == name) return &w;
  return nullptr;
}

const BuiltinWeights* BuiltinWeightsFor(const std::string& network) {
  for (const BuiltinWeights& w : BuiltinWeightsList())
    if (w.network == network) return &w;
  return nullptr;
}

std::vector<std::string> BuiltinWeightsRefs(const std::string& network_kind) {
  std::vector<std::string> refs;
  for (const BuiltinWeights& w : BuiltinWeightsList()) {
    const std::string kind = w.network == "ant" ? "ant" : "flow";
    if (network_kind.empty() || network_kind == kind) refs.push_back(w.Ref());
  }
  return refs;
}

std::string DescribeBuiltinWeights(const std::string& network_kind) {
  std::string out;
  for (const std::string& ref : BuiltinWeightsRefs(network_kind)) out += (out.empty() ? "" : ", ") + ref;
  return out.empty() ? "none in this build" : out;
}

}  // namespace animerun::models
