// The flow comparison controller without a display: missing-weights help, a run whose
// prediction and metrics equal core's, progress over both slots, the network cache, pair
// keys (the same key keeps the result, a new one drops it and cancels a run), cancel,
// auto-run, and the blink check's warp.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "core/data/synth.h"
#include "core/flow/flow_controller.h"
#include "core/flow/flow_models.h"
#include "core/flow/flow_viz.h"
#include "models/common/flow_factory.h"
#include "test_paths.h"

namespace animerun::flow {
namespace {

namespace fs = std::filesystem;

struct Pairs {
  std::vector<std::shared_ptr<const data::PairData>> data;
  std::vector<data::PairKey> keys;
};

const Pairs& SmallPairs() {
  static const Pairs pairs = [] {
    const fs::path root = test::ProcessScratch("flow_controller_data");
    fs::remove_all(root);
    data::SynthOptions o;
    o.scenes = 1;
    o.frames = 3;
    o.width = 96;
    o.height = 64;
    o.color_passes = 0;
    data::GenerateSynthDataset(root, o);
    const auto ds = data::AnimeRunDataset::Open(root);
    Pairs p;
    for (const auto& fp : ds.AllPairs()) {
      p.data.push_back(std::make_shared<const data::PairData>(data::LoadPair(fp)));
      p.keys.push_back(data::MakePairKey(ds.root(), "original", fp));
    }
    fs::remove_all(root);
    return p;
  }();
  return pairs;
}

std::string RandomWeights(const std::string& model) {
  const fs::path p = test::ScratchRoot() / (model + "_random.pth");
  fs::create_directories(p.parent_path());
  if (!fs::exists(p)) models::CreateFlowModel(model)->SaveWeights(p.string());
  return p.string();
}

cv::Mat RunnerFlow(const std::string& model, const std::string& weights, int iters, const data::PairData& pair) {
  FlowRunOptions o;
  o.model = model;
  o.weights = weights;
  o.iters = iters;
  o.threads = 2;
  FlowRunner runner(o);
  return runner.Predict(pair.image1, pair.image2);
}

struct Fixture {
  CallQueue queue;
  FlowController controller{queue.Poster(), [] {
                              FlowControllerOptions o;
                              o.threads = 2;
                              return o;
                            }()};
  std::vector<std::pair<double, std::string>> progress;
  int finished = 0;
  Fixture() {
    controller.Observe([this](FlowController::Event e) {
      if (e == FlowController::Event::kProgress) progress.emplace_back(controller.Progress(), controller.Status());
      if (e == FlowController::Event::kFinished) ++finished;
    });
  }
  bool Wait() { return queue.RunUntil([&] { return !controller.Busy(); }, 120000); }
};

TEST(FlowModels, DescribeThemselves) {
  EXPECT_EQ(FlowModelNames(), (std::vector<std::string>{"raft", "raft-small", "gma", "gmflow", "gmflow-refine", "pwcnet"}));
  const FlowModelInfo& raft = DescribeFlowModel("raft");
  EXPECT_TRUE(raft.iterative);
  EXPECT_EQ(raft.default_iterations, 32);
  EXPECT_EQ(raft.Steps(12), 12);
  EXPECT_EQ(raft.step_unit, "iteration");
  EXPECT_EQ(raft.CheckpointHint(), "raft-things.pth or raft-sintel.pth from princeton-vl/RAFT (download_models.sh)");
  EXPECT_EQ(DescribeFlowModel("gmflow").Steps(32), 8);
  EXPECT_EQ(DescribeFlowModel("gmflow-refine").Steps(32), 15);
  EXPECT_EQ(DescribeFlowModel("pwc").name, "pwcnet");  // an alias
  EXPECT_EQ(DescribeFlowModel("pwcnet").Steps(32), 7);
  EXPECT_FALSE(DescribeFlowModel("pwcnet").iterative);
  for (const FlowModelInfo& m : FlowModels()) {
    EXPECT_TRUE(m.SupportsPrecision("fp32")) << m.name;
    EXPECT_FALSE(m.checkpoint_files.empty()) << m.name;
    EXPECT_NE(m.create, nullptr) << m.name;
  }
  EXPECT_THROW(DescribeFlowModel("flownet"), Error);
}

// bf16 on a CPU without bf16 hardware is emulated (slower, less exact): the CLI notes it.
TEST(FlowModels, NoteBf16OnlyWhereItIsEmulated) {
  EXPECT_EQ(Bf16Note("fp32", "cpu"), "");
  EXPECT_EQ(Bf16Note("bf16", "cuda"), "");
  const std::string note = Bf16Note("bf16", "cpu");
  EXPECT_EQ(note.empty(), CpuHasNativeBf16()) << note;
  if (!note.empty()) EXPECT_NE(note.find("slower than fp32"), std::string::npos) << note;
}

TEST(FlowModels, NonIterativeNetworksReportSteps) {
  FlowRunOptions o;
  o.model = "pwcnet";
  o.allow_random_weights = true;
  o.threads = 2;
  FlowRunner runner(o);
  std::vector<std::string> messages;
  JobContext job([&](double, const std::string& m) { messages.push_back(m); });
  runner.Predict(SmallPairs().data[0]->image1, SmallPairs().data[0]->image2, &job);
  ASSERT_EQ(messages.size(), 7u);
  EXPECT_EQ(messages.front(), "step 1/7");
  EXPECT_EQ(messages.back(), "step 7/7");
}

TEST(FlowController, ExplainsMissingWeightsInsteadOfRunning) {
  Fixture f;
  ASSERT_TRUE(f.controller.SetModel(0, "raft"));  // no built-in weights for RAFT
  f.controller.SetPair(SmallPairs().keys[0], SmallPairs().data[0]);
  EXPECT_TRUE(f.controller.HasPair());
  EXPECT_FALSE(f.controller.GroundTruthColors().empty());
  EXPECT_FALSE(f.controller.CanRun());
  const std::string help = f.controller.HelpText();
  EXPECT_NE(help.find("raft-things.pth"), std::string::npos) << help;
  EXPECT_NE(help.find("animerun train"), std::string::npos);
  EXPECT_FALSE(f.controller.Run());
  EXPECT_TRUE(f.controller.StatusIsError());
  f.controller.SetWeights(0, "/nonexistent/raft.pth");
  EXPECT_NE(f.controller.HelpText().find("not found: /nonexistent/raft.pth"), std::string::npos);
  EXPECT_TRUE(f.controller.SetModel(0, "pwcnet"));
  EXPECT_NE(f.controller.HelpText().find("sniklaus/pytorch-pwc"), std::string::npos);
  f.controller.SetCompare(true);
  EXPECT_NE(f.controller.HelpText().find("zacjiang/GMA"), std::string::npos);
  EXPECT_FALSE(f.controller.SetModel(1, "flownet"));
  EXPECT_EQ(f.controller.Model(1), "gma");
}

// An empty weights field runs the network's built-in weights where the binary has them
// (docs/training.md), and only there: A starts on a network that has them.
TEST(FlowController, EmptyWeightsMeanTheBuiltInOnesWhereTheyExist) {
  Fixture f;
  f.controller.SetPair(SmallPairs().keys[0], SmallPairs().data[0]);
  const std::string builtin = BuiltinWeightsRef("raft-small");
  EXPECT_EQ(f.controller.Model(0), builtin.empty() ? "raft" : "raft-small");
  for (const std::string& model : FlowModelNames()) {
    ASSERT_TRUE(f.controller.SetModel(0, model));
    f.controller.SetWeights(0, "");
    EXPECT_EQ(f.controller.EffectiveWeights(0), BuiltinWeightsRef(model)) << model;
    EXPECT_EQ(f.controller.CanRun(), !BuiltinWeightsRef(model).empty()) << model;
    f.controller.SetWeights(0, "/some/file.pth");
    EXPECT_EQ(f.controller.EffectiveWeights(0), "/some/file.pth") << "a chosen file wins";
  }
  EXPECT_TRUE(BuiltinWeightsRef("raft").empty()) << "only the project's own networks have built-in weights";
  EXPECT_FALSE(WeightsAvailable("builtin:no-such-weights"));
  EXPECT_FALSE(WeightsAvailable(""));
}

TEST(FlowController, RunsScoresCachesAndKeepsResultsPerKey) {
  Fixture f;
  const std::string w = RandomWeights("raft-small");
  f.controller.SetModel(0, "raft-small");
  f.controller.SetWeights(0, w);
  f.controller.SetIterations(0, 2);
  const Pairs& pairs = SmallPairs();
  f.controller.SetPair(pairs.keys[0], pairs.data[0]);
  ASSERT_TRUE(f.controller.CanRun()) << f.controller.HelpText();
  ASSERT_TRUE(f.controller.Run());
  EXPECT_TRUE(f.controller.Busy());
  ASSERT_TRUE(f.Wait());
  ASSERT_EQ(f.finished, 1);
  ASSERT_TRUE(f.controller.LastRunOk()) << f.controller.LastRunMessage();
  const FlowSlotResult& r = f.controller.Result(0);
  EXPECT_LT(cv::norm(r.flow, RunnerFlow("raft-small", w, 2, *pairs.data[0]), cv::NORM_INF), 1e-4);
  ASSERT_TRUE(r.metrics);
  EXPECT_EQ(r.metrics->epe, ScorePairFlow(*pairs.data[0], r.flow).epe);
  EXPECT_EQ(r.flow_rgb.size(), cv::Size(96, 64));
  ASSERT_TRUE(f.controller.Scale());
  EXPECT_EQ(cv::norm(r.epe_rgb, EpeToColor(EndPointError(r.flow, pairs.data[0]->flow_forward), *f.controller.Scale()),
                     cv::NORM_INF),
            0.0);
  EXPECT_TRUE(f.controller.Result(1).Empty());
  EXPECT_EQ(f.controller.NetworksLoaded(), 1);
  // Progress: the network's iterations, in order, ending at 1.
  std::map<std::string, double> at;
  for (const auto& p : f.progress) at[p.second] = p.first;
  EXPECT_DOUBLE_EQ(at.at("A (raft-small): iteration 1/2"), 0.5);
  EXPECT_DOUBLE_EQ(at.at("A (raft-small): iteration 2/2"), 1.0);

  // The same key again (the window re-sends the pair) keeps the result; a copy of the
  // pixels under another key would not.
  f.controller.SetPair(pairs.keys[0], std::make_shared<const data::PairData>(*pairs.data[0]));
  EXPECT_FALSE(f.controller.Result(0).Empty());
  f.controller.SetPair(pairs.keys[1], pairs.data[1]);
  EXPECT_TRUE(f.controller.Result(0).Empty());
  ASSERT_TRUE(f.controller.Run());
  ASSERT_TRUE(f.Wait());
  EXPECT_EQ(f.controller.NetworksLoaded(), 1) << "the cached network was loaded again";
  EXPECT_LT(cv::norm(f.controller.Result(0).flow, RunnerFlow("raft-small", w, 2, *pairs.data[1]), cv::NORM_INF), 1e-4);
  f.controller.SetIterations(0, 1);  // another network configuration: loaded again
  ASSERT_TRUE(f.controller.Run());
  ASSERT_TRUE(f.Wait());
  EXPECT_EQ(f.controller.NetworksLoaded(), 2);
}

// Issue 14 §3: the panel draws RAFT's estimate as it refines. The first iteration's
// estimate arrives while the run goes on, is the flow a 1-iteration run gives, and the
// final flow replaces it.
TEST(FlowController, DeliversTheFirstIterationsFlowBeforeTheRunEnds) {
  Fixture f;
  const std::string w = RandomWeights("raft-small");
  f.controller.SetModel(0, "raft-small");
  f.controller.SetWeights(0, w);
  f.controller.SetIterations(0, 6);
  struct Seen {
    int iteration, finished;
    bool busy;
    cv::Mat rgb;
  };
  std::vector<Seen> previews;
  f.controller.Observe([&](FlowController::Event e) {
    if (e != FlowController::Event::kPreview) return;
    const FlowSlotPreview& p = f.controller.Preview(0);
    previews.push_back({p.iteration, f.finished, f.controller.Busy(), p.flow_rgb.clone()});
    EXPECT_EQ(p.iterations, 6);
    EXPECT_EQ(p.model, "raft-small");
  });
  const Pairs& pairs = SmallPairs();
  f.controller.SetPair(pairs.keys[0], pairs.data[0]);
  ASSERT_TRUE(f.controller.Run());
  ASSERT_TRUE(f.Wait());
  ASSERT_TRUE(f.controller.LastRunOk()) << f.controller.LastRunMessage();
  ASSERT_FALSE(previews.empty());
  EXPECT_EQ(previews[0].iteration, 1);
  EXPECT_EQ(previews[0].finished, 0);
  EXPECT_TRUE(previews[0].busy);
  for (const auto& p : previews) EXPECT_LT(p.iteration, 6);  // the last iteration is the result
  FlowVizOptions viz;
  viz.max_flow = f.controller.GroundTruthMax();  // the controller colours previews as results
  const cv::Mat one = FlowToColor(RunnerFlow("raft-small", w, 1, *pairs.data[0]), viz);
  ASSERT_EQ(previews[0].rgb.size(), one.size());
  EXPECT_LE(cv::norm(previews[0].rgb, one, cv::NORM_INF), 1.0);
  EXPECT_TRUE(f.controller.Preview(0).Empty()) << "the final flow replaces the preview";
  EXPECT_FALSE(f.controller.Result(0).Empty());

  // Auto iterations: with this tiny pair and random weights the threshold may or may not be
  // met; the run ends within the 32 at most and the setting is part of the cached network.
  f.controller.SetAutoIterations(0, true);
  ASSERT_TRUE(f.controller.Run());
  ASSERT_TRUE(f.Wait());
  EXPECT_TRUE(f.controller.LastRunOk()) << f.controller.LastRunMessage();
  EXPECT_EQ(f.controller.NetworksLoaded(), 2);
}

TEST(FlowController, ComparesTwoNetworksOnOneScaleAndOneProgress) {
  Fixture f;
  f.controller.SetModel(0, "raft-small");
  f.controller.SetWeights(0, RandomWeights("raft-small"));
  f.controller.SetIterations(0, 2);
  f.controller.SetModel(1, "pwcnet");
  f.controller.SetWeights(1, RandomWeights("pwcnet"));
  f.controller.SetCompare(true);
  f.controller.SetPair(SmallPairs().keys[0], SmallPairs().data[0]);
  ASSERT_TRUE(f.controller.Run());
  ASSERT_TRUE(f.Wait());
  ASSERT_TRUE(f.controller.LastRunOk()) << f.controller.LastRunMessage();
  std::map<std::string, double> at;
  for (const auto& p : f.progress) at[p.second] = p.first;
  EXPECT_DOUBLE_EQ(at.at("A (raft-small): iteration 2/2"), 2.0 / 9);  // 2 iterations + 7 stages
  EXPECT_DOUBLE_EQ(at.at("B (pwcnet): step 1/7"), 3.0 / 9);
  EXPECT_DOUBLE_EQ(at.at("B (pwcnet): step 7/7"), 1.0);
  const cv::Mat& gt = SmallPairs().data[0]->flow_forward;
  const cv::Mat ea = EndPointError(f.controller.Result(0).flow, gt), eb = EndPointError(f.controller.Result(1).flow, gt);
  EXPECT_EQ(f.controller.Scale()->max, ChooseEpeScale({ea, eb}).max);
}

TEST(FlowController, CancelAndANewPairDropTheRunAndAutoRunFollows) {
  Fixture f;
  f.controller.SetModel(0, "raft-small");
  f.controller.SetWeights(0, RandomWeights("raft-small"));
  f.controller.SetIterations(0, 2);
  f.controller.SetPair(SmallPairs().keys[0], SmallPairs().data[0]);
  ASSERT_TRUE(f.controller.Run());
  f.controller.Cancel();
  ASSERT_TRUE(f.Wait());
  EXPECT_FALSE(f.controller.LastRunOk());
  EXPECT_EQ(f.controller.LastRunMessage(), "cancelled");
  EXPECT_TRUE(f.controller.Result(0).Empty());
  // A new pair during a run: that run is dropped, auto-run starts one on the new pair.
  f.controller.SetAutoRun(true);
  ASSERT_TRUE(f.controller.Run());
  f.controller.SetPair(SmallPairs().keys[1], SmallPairs().data[1]);
  ASSERT_TRUE(f.queue.RunUntil([&] { return f.finished == 3; }, 120000));
  ASSERT_TRUE(f.Wait());
  EXPECT_TRUE(f.controller.LastRunOk()) << f.controller.LastRunMessage();
  EXPECT_EQ(f.controller.key(), SmallPairs().keys[1]);
  EXPECT_FALSE(f.controller.Result(0).Empty());
  f.controller.ClearPair("No dataset open");
  EXPECT_FALSE(f.controller.HasPair());
  EXPECT_EQ(f.controller.Why(), "No dataset open");
  EXPECT_TRUE(f.controller.Result(0).Empty());
}

TEST(FlowWarp, AConstantShiftWarpsBackExactly) {
  cv::Mat t1(40, 60, CV_8UC3);
  cv::randu(t1, 0, 255);
  // frame t = frame t+1 shifted: t(x, y) = t1(x + 3, y + 2).
  cv::Mat t(40, 60, CV_8UC3, cv::Scalar::all(0));
  t1(cv::Rect(3, 2, 57, 38)).copyTo(t(cv::Rect(0, 0, 57, 38)));
  const cv::Mat flow(40, 60, CV_32FC2, cv::Scalar(3.f, 2.f));
  const WarpResult w = WarpBack(t, t1, flow);
  EXPECT_DOUBLE_EQ(w.mean_error, 0.0);
  EXPECT_NEAR(w.valid_fraction, (57.0 * 38) / (60 * 40), 1e-9);
  EXPECT_EQ(w.valid.at<uint8_t>(0, 0), 255);
  EXPECT_EQ(w.valid.at<uint8_t>(39, 59), 0);  // lands outside frame t+1
  EXPECT_TRUE(std::isnan(w.error.at<float>(39, 59)));
  const WarpResult zero = WarpBack(t, t1, cv::Mat(40, 60, CV_32FC2, cv::Scalar::all(0)));
  EXPECT_GT(zero.mean_error, 10.0);
  EXPECT_THROW(WarpBack(t, t1, cv::Mat(10, 10, CV_32FC2)), Error);
}

TEST(FlowController, WarpsByTheGroundTruthAndByPredictions) {
  Fixture f;
  const auto& pair = SmallPairs().data[0];
  f.controller.SetPair(SmallPairs().keys[0], pair);
  ASSERT_TRUE(f.controller.CanWarp(WarpSource::kGroundTruth));
  EXPECT_FALSE(f.controller.CanWarp(WarpSource::kA)) << "no prediction yet";
  const WarpResult* gt = f.controller.Warp(WarpSource::kGroundTruth);
  ASSERT_NE(gt, nullptr);
  EXPECT_EQ(gt, f.controller.Warp(WarpSource::kGroundTruth)) << "computed once";
  const WarpResult zero = WarpBack(pair->image1, pair->image2, cv::Mat(pair->image1.size(), CV_32FC2, cv::Scalar::all(0)),
                                   pair->unmatched_forward);
  EXPECT_LT(gt->mean_error, zero.mean_error) << "the true flow explains frame t better than no motion";
  EXPECT_TRUE(gt->has_visible);
  EXPECT_LT(gt->mean_error_visible, zero.mean_error_visible);
  f.controller.SetModel(0, "raft-small");
  f.controller.SetWeights(0, RandomWeights("raft-small"));
  f.controller.SetIterations(0, 1);
  ASSERT_TRUE(f.controller.Run());
  ASSERT_TRUE(f.Wait());
  ASSERT_TRUE(f.controller.CanWarp(WarpSource::kA));
  const WarpResult* a = f.controller.Warp(WarpSource::kA);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->warped.size(), pair->image1.size());
  EXPECT_FALSE(f.controller.CanWarp(WarpSource::kB)) << "B is not in use";
}

}  // namespace
}  // namespace animerun::flow
