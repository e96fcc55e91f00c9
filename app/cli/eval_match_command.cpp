// `animerun eval-match --data ROOT --pred DIR --json OUT`: AnimeRun's segment-matching
// metrics (official segmat definitions) for a folder of predicted matching JSON files.
// Other prediction sources run a matcher over every pair (segments::EvaluateMatch):
// --model ant (network), --matcher flow|geometric (no weights; flow: ground-truth or
// predicted flow).
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/cli/arg_parser.h"
#include "core/flow/flow_models.h"
#include "app/cli/command_registry.h"
#include "app/cli/eval_cli.h"
#include "core/data/animerun_dataset.h"
#include "core/io/flow_io.h"
#include "core/jobs/job.h"
#include "core/segments/match_eval.h"
#include "core/segments/matcher_factory.h"

namespace animerun::cli {
namespace {

struct EvalMatchCliOptions {
  std::string data;               // dataset root (holding train/ and test/)
  std::string split = "test";     // split sub-folder; "" when data is the split folder
  std::string pass = "original";  // Frame_Anime pass that defines the pairs
  std::string pred;               // predictions: <pred>/<scene>/forward/<gt name>.json
  std::string model;              // "ant": predict with the AnT matcher instead of reading --pred
  std::string weights;            // --model ant: checkpoint; --matcher flow --flow-model: flow weights
  std::string matcher;            // "flow" or "geometric": predict with a weight-free matcher
  std::string flow_model;         // --matcher flow: predict the flow with this network (else ground truth)
  std::string device = "cpu";     // --model ant: cpu, cuda, cuda:N
  std::string json;               // metrics output (JSON, atomic); "" = don't write
  bool per_pair = false;          // include every pair's values in the JSON
  bool per_scene = true;          // print one table row per scene
  void Check() const {
    Require(!data.empty(), "--data is required");
    Require((!pred.empty()) + (!model.empty()) + (!matcher.empty()) == 1,
            "give one of --pred DIR, --model ant --weights FILE or --matcher flow|geometric");
    Require(matcher.empty() || matcher == "flow" || matcher == "geometric",
            "--matcher must be flow or geometric, got '" + matcher + "' (AnT: --model ant)");
    Require(flow_model.empty() || matcher == "flow", "--flow-model goes with --matcher flow");
    Require(model.empty() || model == "ant", "--model must be ant, got '" + model + "'");
    Require(model.empty() || !weights.empty(), "--model ant needs --weights FILE");
    Require(flow_model.empty() || !weights.empty(), "--flow-model needs --weights FILE");
  }
};

void Report(const segments::MatchEvalResult& result, const EvalMatchCliOptions& o, const std::string& source_kind,
            const std::string& source, const std::vector<std::string>& problems) {
  segments::MatchEvalResult shown = result;
  if (!o.per_scene) shown.scenes.clear();
  std::fputs(segments::FormatMatchTable(shown).c_str(), stdout);
  std::printf("pairs: %lld, segments: %lld (each value is the mean of per-pair values; Invalid skips pairs "
              "without unmatched segments; >300 = pairs whose frame t+1 has max segment id > 300)\n",
              static_cast<long long>(result.overall.pairs), static_cast<long long>(result.overall.segments));
  if (o.json.empty()) return;
  nlohmann::json j = result.ToJson(o.per_pair);
  cli::WriteEvalJson(std::move(j), o.json, o.data, o.split, o.pass, source_kind, source, problems);
}

// --matcher flow|geometric. The flow matcher without --flow-model reads each pair's
// ground-truth flows (forward, and backward for its occlusion test when present).
segments::MatchPredictor MatcherPredictor(const EvalMatchCliOptions& o) {
  segments::MatcherOptions mo;
  if (!o.flow_model.empty()) {
    flow::FlowRunOptions f;
    f.model = o.flow_model;
    f.weights = o.weights;
    f.device = o.device;
    mo.flow_model = f;
  }
  try {
    mo.Check(o.matcher);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  std::shared_ptr<segments::SegmentMatcher> matcher = segments::CreateMatcher(o.matcher, mo);
  const bool gt_flow = o.matcher == "flow" && o.flow_model.empty();
  return [matcher, gt_flow](const data::FramePair& p, const data::PairData& d) {
    segments::MatchInput in{d.image1, d.image2, d.segment1, d.segment2, cv::Mat()};
    if (!gt_flow) return matcher->Match(in).matches;
    if (p.flow_forward.empty())
      throw Error((p.image1.parent_path()).string() + ": no ground-truth flow for frame " + p.name1 +
                  " (Flow/<scene>/forward); give --flow-model M --weights FILE to predict it");
    in.flow = io::ReadFlo(p.flow_forward);
    const cv::Mat backward = p.flow_backward.empty() ? cv::Mat() : io::ReadFlo(p.flow_backward);
    return static_cast<segments::FlowMatcher&>(*matcher).Match(in, backward).matches;
  };
}

int RunEvalMatch(int argc, char** argv) {
  EvalMatchCliOptions o;
  bool no_scenes = false;
  ArgParser p(argv[0], "AnimeRun segment-matching metrics (accuracy, valid/invalid accuracy, >300 accuracy, area "
                       "accuracy) against the ground truth, of predicted matchings (--pred DIR) or of a matcher run "
                       "over the dataset (--model ant --weights FILE, or --matcher flow|geometric).");
  p.Add("--data", &o.data, "AnimeRun root (holding train/ and test/)", "", true);
  p.Add("--split", &o.split, "split folder; \"\" when --data is the split folder itself");
  p.Add("--pass", &o.pass, "Frame_Anime pass whose frames define the pairs");
  p.Add("--pred", &o.pred, "predictions: <DIR>/<scene>/forward/<ground-truth file name>.json");
  p.Add("--model", &o.model, "predict instead of --pred: ant (the AnT network)");
  p.Add("--matcher", &o.matcher, "predict instead of --pred: flow (flow-guided voting; ground-truth flow unless "
                                 "--flow-model) or geometric (position/area/shape/colour assignment)");
  p.Add("--flow-model", &o.flow_model, "--matcher flow: predict the flows with raft, raft-small, gma, gmflow, "
                                       "gmflow-refine or pwcnet (needs --weights)");
  p.Add("--weights", &o.weights, "--model ant: AnT checkpoint; --flow-model: its checkpoint" + flow::BuiltinWeightsHelp());
  p.Add("--device", &o.device, "--model ant / --flow-model: cpu, cuda or cuda:N");
  p.Add("--json", &o.json, "write the metrics (overall and per scene) to this JSON file");
  p.AddFlag("--per-pair", &o.per_pair, "also write every pair's values into the JSON");
  p.AddFlag("--no-scenes", &no_scenes, "print only the overall row");
  p.SetEpilog("Metrics follow AnimeRun's segmat evaluation. Progress goes to stderr.\n"
              "example: animerun eval-match --data AnimeRun_v2 --pred out/match --json metrics.json");
  if (!p.Parse(argc, argv)) return 0;
  o.per_scene = !no_scenes;
  try {
    o.Check();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }

  const data::AnimeRunDataset ds = cli::OpenEvalDataset(o.data, o.split, o.pass);
  JobContext job(StderrProgress("eval-match"));
  if (!o.model.empty()) {
    segments::MatcherOptions mo;
    mo.weights = o.weights;
    mo.device = o.device;
    auto matcher = segments::CreateMatcher(o.model, mo);
    const auto predict = [&](const data::FramePair&, const data::PairData& d) {
      return matcher->Match({d.image1, d.image2, d.segment1, d.segment2, d.flow_forward}).matches;
    };
    Report(segments::EvaluateMatch(ds, predict, &job), o, "model", o.model + " " + o.weights, ds.AllProblems());
    return 0;
  }
  if (!o.matcher.empty()) {
    Report(segments::EvaluateMatch(ds, MatcherPredictor(o), &job), o, "matcher",
           o.matcher + (o.flow_model.empty() ? "" : " " + o.flow_model + " " + o.weights), ds.AllProblems());
    return 0;
  }
  const segments::MatchEvalResult result = segments::EvaluateMatchPredictions(ds, o.pred, &job);
  Report(result, o, "pred", o.pred, ds.AllProblems());
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(eval_match, "eval-match", "AnimeRun segment-matching metrics of predicted JSON files or of a matcher (AnT, flow, geometric)",
                          RunEvalMatch);

}  // namespace animerun::cli
