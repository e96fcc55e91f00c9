#include "core/segments/matcher_factory.h"

#include "core/flow/flow_models.h"
#include "core/segments/ant_matcher.h"
#include "core/util/error.h"

namespace animerun::segments {

void MatcherOptions::Check(const std::string& name) const {
  if (name == "flow") {
    flow.Check();
    if (flow_model) flow_model->Check();
  } else if (name == "geometric") {
    geometric.Check();
  } else if (name == "ant") {
    Require(!weights.empty(), "matcher 'ant' needs its checkpoint (--weights FILE; built-in: " +
                                  flow::DescribeBuiltinWeights("ant") + ")");
    Ant().Check();  // device and precision, checked where AntMatcher checks them
  }
}

AntMatcherOptions MatcherOptions::Ant() const {
  AntMatcherOptions ant;
  ant.weights = weights;
  ant.device = device;
  ant.precision = precision;
  return ant;
}

MatcherOptions WithBuiltinWeights(const std::string& name, MatcherOptions options) {
  if (name == "ant") options.weights = flow::WeightsOrBuiltin("ant", options.weights);
  if (name == "flow" && options.flow_model)
    options.flow_model->weights = flow::WeightsOrBuiltin(options.flow_model->model, options.flow_model->weights);
  return options;
}

std::vector<std::string> MatcherNames() { return {"ant", "flow", "geometric"}; }

std::unique_ptr<SegmentMatcher> CreateMatcher(const std::string& name, const MatcherOptions& options) {
  if (name == "flow") {
    options.Check(name);
    std::unique_ptr<flow::FlowRunner> runner;
    if (options.flow_model) runner = std::make_unique<flow::FlowRunner>(*options.flow_model);
    return std::make_unique<FlowMatcher>(options.flow, std::move(runner));
  }
  if (name == "geometric") {
    options.Check(name);
    return std::make_unique<GeometricMatcher>(options.geometric);
  }
  if (name == "ant") {
    options.Check(name);
    return std::make_unique<AntMatcher>(options.Ant());
  }
  throw Error("unknown matcher '" + name + "' (choose ant, flow or geometric)");
}

}  // namespace animerun::segments
