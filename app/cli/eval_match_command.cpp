// `animerun eval-match --data ROOT --pred DIR --json OUT`: AnimeRun's segment-matching
// metrics (official segmat definitions) for a folder of predicted matching JSON files.
// Like eval-flow, other prediction sources (segments::EvaluateMatch's predictor callback)
// only add a branch in RunEvalMatch.
#include <cstdio>
#include <string>
#include <vector>

#include "app/cli/arg_parser.h"
#include "app/cli/command_registry.h"
#include "core/data/animerun_dataset.h"
#include "core/jobs/job.h"
#include "core/segments/match_eval.h"
#include "core/segments/matcher_factory.h"
#include "core/util/fs.h"

namespace animerun::cli {
namespace {

struct EvalMatchCliOptions {
  std::string data;               // dataset root (holding train/ and test/)
  std::string split = "test";     // split sub-folder; "" when data is the split folder
  std::string pass = "original";  // Frame_Anime pass that defines the pairs
  std::string pred;               // predictions: <pred>/<scene>/forward/<gt name>.json
  std::string model;              // "ant": predict with the AnT matcher instead of reading --pred
  std::string weights;            // --model ant: checkpoint
  std::string device = "cpu";     // --model ant: cpu, cuda, cuda:N
  std::string json;               // metrics output (JSON, atomic); "" = don't write
  bool per_pair = false;          // include every pair's values in the JSON
  bool per_scene = true;          // print one table row per scene
  void Check() const {
    Require(!data.empty(), "--data is required");
    Require(pred.empty() != model.empty(), "give either --pred DIR or --model ant --weights FILE");
    Require(model.empty() || model == "ant", "--model must be ant, got '" + model + "'");
    Require(model.empty() || !weights.empty(), "--model ant needs --weights FILE");
  }
};

data::AnimeRunDataset OpenDataset(const EvalMatchCliOptions& o) {
  data::DatasetOptions d;
  d.split = o.split;
  d.pass = o.pass;
  d.Check();
  data::AnimeRunDataset ds = data::AnimeRunDataset::Open(o.data, d);
  for (const auto& problem : ds.AllProblems()) std::fprintf(stderr, "warning: %s\n", problem.c_str());
  return ds;
}

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
  j["source"] = {{"data", o.data}, {"split", o.split}, {"pass", o.pass}, {source_kind, source}};
  j["dataset_problems"] = problems;  // pairs the indexer dropped are not in the numbers
  WriteFileAtomic(o.json, j.dump(1) + "\n");
  std::printf("metrics written to %s\n", o.json.c_str());
}

int RunEvalMatch(int argc, char** argv) {
  EvalMatchCliOptions o;
  bool no_scenes = false;
  ArgParser p(argv[0], "AnimeRun segment-matching metrics (accuracy, valid/invalid accuracy, >300 accuracy, area "
                       "accuracy) of predicted matchings against the ground truth.");
  p.Add("--data", &o.data, "AnimeRun root (holding train/ and test/)", "", true);
  p.Add("--split", &o.split, "split folder; \"\" when --data is the split folder itself");
  p.Add("--pass", &o.pass, "Frame_Anime pass whose frames define the pairs");
  p.Add("--pred", &o.pred, "predictions: <DIR>/<scene>/forward/<ground-truth file name>.json");
  p.Add("--model", &o.model, "predict instead of --pred: ant (the AnT network)");
  p.Add("--weights", &o.weights, "--model ant: AnT checkpoint");
  p.Add("--device", &o.device, "--model ant: cpu, cuda or cuda:N");
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

  const data::AnimeRunDataset ds = OpenDataset(o);
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
  const segments::MatchEvalResult result = segments::EvaluateMatchPredictions(ds, o.pred, &job);
  Report(result, o, "pred", o.pred, ds.AllProblems());
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(eval_match, "eval-match", "AnimeRun segment-matching metrics of predicted JSON files",
                          RunEvalMatch);

}  // namespace animerun::cli
