// `animerun eval-flow --data ROOT --pred DIR --json OUT`: AnimeRun's optical-flow metrics
// (official validate_anime definitions) for a folder of predicted .flo files.
//
// The command is split so that other prediction sources (e.g. a flow network run on each
// pair, through flow::EvaluateFlow's predictor callback) only add a branch in RunEvalFlow:
// options, dataset opening and reporting are shared.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "app/cli/arg_parser.h"
#include "app/cli/command_registry.h"
#include "app/cli/eval_cli.h"
#include "app/cli/flow_cli_options.h"
#include "core/data/animerun_dataset.h"
#include "core/flow/flow_eval.h"
#include "core/flow/flow_predictor.h"
#include "core/io/flow_io.h"
#include "core/jobs/job.h"

namespace animerun::cli {
namespace {

struct EvalFlowCliOptions {
  std::string data;            // dataset root (holding train/ and test/, or the split folder with --split "")
  std::string split = "test";  // split sub-folder
  std::string pass = "original";  // Frame_Anime pass that defines the pairs (the official code uses "original")
  std::string pred;            // folder of predictions: <pred>/<scene>/forward/<gt name>.flo
  std::string save_pred;       // with --model: also save each prediction there, same layout as --pred
  std::string json;            // where to write the metrics (JSON, atomic); "" = don't write
  bool per_scene = true;       // print one table row per scene
  bool model_mode = false;     // set when --model is given: run a network on every pair
  void Check() const {
    Require(!data.empty(), "--data is required");
    Require(!pred.empty() || model_mode, "--pred DIR or --model M --weights FILE is required");
    Require(pred.empty() || !model_mode, "give either --pred or --model, not both");
    Require(save_pred.empty() || model_mode, "--save-pred needs --model");
  }
};

// Prints the table and writes the JSON (with where the numbers came from).
void Report(const flow::FlowEvalResult& result, const EvalFlowCliOptions& o, const std::string& source_kind,
            const std::string& source, const std::vector<std::string>& problems) {
  flow::FlowEvalResult shown = result;
  if (!o.per_scene) shown.scenes.clear();
  std::fputs(flow::FormatFlowTable(shown).c_str(), stdout);
  std::printf("pairs: %lld, pixels: %lld (EPE pooled over all pixels; Occ = UnmatchedForward==0, "
              "Line = LineArea==0, as the official evaluation)\n",
              static_cast<long long>(result.overall.pairs), static_cast<long long>(result.overall.pixels));
  if (o.json.empty()) return;
  nlohmann::json j = result.ToJson();
  cli::WriteEvalJson(std::move(j), o.json, o.data, o.split, o.pass, source_kind, source, problems);
}

int RunEvalFlow(int argc, char** argv) {
  EvalFlowCliOptions o;
  bool no_scenes = false;
  ArgParser p(argv[0], "AnimeRun optical-flow metrics (EPE, Occ/Non-Occ, Line/Flat, s<10/s10-50/s>50, 1/3/5px) "
                       "of predicted flows against the ground truth.");
  p.Add("--data", &o.data, "AnimeRun root (holding train/ and test/)", "", true);
  p.Add("--split", &o.split, "split folder; \"\" when --data is the split folder itself");
  p.Add("--pass", &o.pass, "Frame_Anime pass whose frames define the pairs");
  p.Add("--pred", &o.pred, "predictions: <DIR>/<scene>/forward/<ground-truth file name>.flo");
  flow::FlowRunOptions run;
  run.model.clear();
  AddFlowRunOptions(p, &run);
  p.Add("--save-pred", &o.save_pred, "with --model: save the predictions as <DIR>/<scene>/forward/<name>.flo");
  p.Add("--json", &o.json, "write the metrics (overall and per scene) to this JSON file");
  p.AddFlag("--no-scenes", &no_scenes, "print only the overall row");
  p.SetEpilog("Metrics follow AnimeRun's flow/evaluate.py (validate_anime): every value is pooled over all\n"
              "pixels of all pairs, and valid is all-true. Progress goes to stderr.\n"
              "examples: animerun eval-flow --data AnimeRun_v2 --pred out/flow --json metrics.json\n"
              "          animerun eval-flow --data AnimeRun_v2 --model raft --weights raft-things.pth --json m.json");
  if (!p.Parse(argc, argv)) return 0;
  o.per_scene = !no_scenes;
  o.model_mode = !run.model.empty();
  try {
    o.Check();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  if (o.model_mode) CheckAsUsage(run);

  const data::AnimeRunDataset ds = cli::OpenEvalDataset(o.data, o.split, o.pass);
  JobContext job(StderrProgress("eval-flow"));
  if (!o.model_mode) {
    const flow::FlowEvalResult result = flow::EvaluateFlowPredictions(ds, o.pred, &job);
    Report(result, o, "pred", o.pred, ds.AllProblems());
    return 0;
  }
  // Model mode: the network predicts every pair (the official validate_anime protocol:
  // sintel padding, forward flow, pooled metrics).
  flow::FlowRunner runner(run);
  const flow::FlowEvalResult result =
      flow::EvaluateFlow(ds, [&](const data::FramePair& pair, const data::PairData& d) {
        cv::Mat f = runner.Predict(d.image1, d.image2);
        if (!o.save_pred.empty()) io::WriteFlo(flow::FlowPredictionPath(o.save_pred, pair), f);
        return f;
      }, &job);
  Report(result, o, "weights", run.model + ":" + run.weights, ds.AllProblems());
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(eval_flow, "eval-flow", "AnimeRun optical-flow metrics of predicted .flo files or of a flow network",
                          RunEvalFlow);

}  // namespace animerun::cli
