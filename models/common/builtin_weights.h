// Weights trained by AnimeRun Studio itself and compiled into the binary, so that the demo's
// Flow, Correspondences and Colorize panels work offline with nothing downloaded. They are
// named "builtin:NAME" wherever a weights file is accepted (LoadStateDict reads them from
// memory). Trained on synthetic frames (`animerun synth --style varied`, docs/training.md
// gives the commands and seeds): useful defaults, not the official releases of the networks.
//
// Which weights exist is decided when the project is built: every resources/weights/NAME.pth
// of the names below that is present is embedded (cmake in models/CMakeLists.txt).
// Torch-free header.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace animerun::models {

inline constexpr const char* kBuiltinWeightsPrefix = "builtin:";

struct BuiltinWeights {
  std::string name;     // NAME in builtin:NAME
  std::string network;  // the network they load into: a flow model name or "ant"
  std::string label;    // for people (GUI, --help): says who trained them and on what
  const unsigned char* data = nullptr;  // the torch.save file, in the binary's read-only data
  size_t size = 0;
  std::string Ref() const { return kBuiltinWeightsPrefix + name; }  // "builtin:raft-small"
};

// True for "builtin:..." (whether or not such weights are embedded).
bool IsBuiltinWeightsRef(const std::string& ref);
// The weights embedded in this binary, in a fixed order.
const std::vector<BuiltinWeights>& BuiltinWeightsList();
// The embedded weights a "builtin:NAME" reference names; nullptr when none (or not a
// builtin reference).
const BuiltinWeights* FindBuiltinWeights(const std::string& ref);
// The embedded weights for a network ("raft-small", "ant"); nullptr when it has none.
const BuiltinWeights* BuiltinWeightsFor(const std::string& network);
// "builtin:raft-small, builtin:ant" (or "none in this build"): for error messages and help.
// The references of the embedded weights ("builtin:raft-small", ...); with network_kind
// "flow" or "ant" only those for that kind of network (a flow option should not offer AnT's).
std::vector<std::string> BuiltinWeightsRefs(const std::string& network_kind = {});
// BuiltinWeightsRefs joined by ", ", or "none in this build".
std::string DescribeBuiltinWeights(const std::string& network_kind = {});

}  // namespace animerun::models
