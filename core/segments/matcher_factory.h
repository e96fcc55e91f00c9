// Segment matchers by name, for the CLI (`eval-match --matcher`, `colorize --matcher`) and
// the GUI: "flow" (flow-guided voting; ground-truth flow from the input, or a flow network
// when flow_model is set), "geometric" (no flow, no weights) and "ant" (the AnT network,
// core/segments/ant_matcher.h, with its checkpoint in weights).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/flow/flow_predictor.h"
#include "core/segments/ant_matcher.h"
#include "core/segments/flow_matcher.h"
#include "core/segments/geometric_matcher.h"
#include "core/segments/matcher.h"

namespace animerun::segments {

struct MatcherOptions {
  FlowMatcherOptions flow;                           // "flow": voting thresholds
  std::optional<flow::FlowRunOptions> flow_model;    // "flow": predict the flow with this network
                                                     // (unset = the flow must come with each input)
  GeometricMatcherOptions geometric;                 // "geometric": cost weights, assignment
  std::string weights;                               // "ant": checkpoint file (required)
  std::string device = "cpu";                        // "ant": cpu, cuda or cuda:N
  std::string precision = "fp32";                    // "ant": fp32 or bf16 (AntMatcherOptions::precision)
  void Check(const std::string& name) const;         // throws Error on bad values for that matcher
  AntMatcherOptions Ant() const;                     // the "ant" fields as AntMatcher's options
};

// The GUI's default: empty weights of "ant", or of the flow network of "flow", become that
// network's built-in weights where the binary has them (flow::BuiltinWeightsRef).
MatcherOptions WithBuiltinWeights(const std::string& name, MatcherOptions options);

// Names CreateMatcher knows, in the order the CLI lists them.
std::vector<std::string> MatcherNames();

// Creates a matcher; throws Error for an unknown name, bad options, or (ant / flow model)
// weights that cannot be loaded.
std::unique_ptr<SegmentMatcher> CreateMatcher(const std::string& name, const MatcherOptions& options = {});

}  // namespace animerun::segments
