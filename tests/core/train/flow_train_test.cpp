// Flow training: the schedule and loss against the official formulas, the first steps of
// every preset for all six networks, exact resume, the exported weights' official layout.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include "core/data/synth.h"
#include "core/train/flow_loss.h"
#include "core/train/flow_task.h"
#include "core/train/lr_schedule.h"
#include "core/train/trainer.h"
#include "core/util/error.h"
#include "models/common/checkpoint.h"
#include "models/common/flow_factory.h"
#include "flow_test_data.h"
#include "test_paths.h"

namespace animerun::train {
namespace {

namespace fs = std::filesystem;

TEST(LrSchedule, OneCycleMatchesRaftsOneCycleLR) {
  // notes §4: T = 20000 + 100, max 1e-4 (values from PyTorch's formula).
  const LrSchedule s("onecycle", 1e-4, 20000);
  EXPECT_NEAR(s.At(0), 4e-6, 1e-18);
  EXPECT_NEAR(s.At(1004), 1e-4, 1e-16);
  EXPECT_NEAR(s.At(10000), 5.289e-5, 5e-9);
  EXPECT_NEAR(s.At(20000), 5.189e-7, 5e-11);
  EXPECT_NEAR(s.At(20099), 4e-10, 1e-16);
  EXPECT_LT(s.At(500), s.At(501));  // rising
  EXPECT_GT(s.At(5000), s.At(5001));  // falling
  const LrSchedule c("constant", 3e-4, 10);
  EXPECT_EQ(c.At(0), 3e-4);
  EXPECT_EQ(c.At(9), 3e-4);
  EXPECT_THROW(LrSchedule("cosine", 1e-4, 10), Error);
}

TEST(SequenceLoss, WeightsMeansAndMasksAsTheOriginal) {
  const auto gt = torch::zeros({1, 2, 2, 2});
  auto valid = torch::ones({1, 2, 2});
  valid[0][1][1] = 0;  // one unsupervised pixel
  auto p0 = torch::full({1, 2, 2, 2}, 2.0), p1 = torch::full({1, 2, 2, 2}, 1.0);
  p1[0][0][1][1] = 100;  // on the unsupervised pixel: no loss
  const FlowLossResult r = SequenceLoss({p0, p1}, gt, valid, 0.5);
  // gamma^1 * mean(valid*|2|) over 8 elements (6 supervised) + gamma^0 * (6 * 1) / 8.
  EXPECT_NEAR(r.loss.item<double>(), 0.5 * 12.0 / 8 + 6.0 / 8, 1e-6);
  EXPECT_NEAR(*r.epe, std::sqrt(2.0), 1e-6);  // of the last prediction, supervised pixels
  EXPECT_EQ(r.supervised, 3);
  EXPECT_EQ(*r.px1, 0.0);
  EXPECT_EQ(*r.px3, 1.0);
  // |gt| >= 400 is excluded too.
  auto big = torch::zeros({1, 2, 2, 2});
  big[0][0][0][0] = 500;
  EXPECT_EQ(SequenceLoss({big.clone()}, big, torch::ones({1, 2, 2}), 0.85).supervised, 3);
  const FlowLossResult none = SequenceLoss({p0}, gt, torch::zeros({1, 2, 2}), 0.8);
  EXPECT_FALSE(none.epe.has_value());
  EXPECT_EQ(none.loss.item<double>(), 0.0);
}

// The smallest crop each network trains on (multiples, minimum sizes).
void TinyCrop(const std::string& model, TrainOptions* o) {
  const bool raft_family = model == "raft" || model == "raft-small" || model == "gma";
  o->crop_height = raft_family ? 128 : 64;
  o->crop_width = raft_family ? 128 : 64;
}

std::vector<nlohmann::json> RunFlow(const TrainOptions& o, const fs::path& dir, bool resume = false,
                                std::function<bool()> stop = nullptr) {
  std::vector<nlohmann::json> events;
  TrainRunSpec spec;
  spec.run_dir = dir.string();
  spec.resume = resume;
  spec.should_stop = std::move(stop);
  RunTraining(o, spec, [&](const nlohmann::json& e) { events.push_back(e); });
  return events;
}

std::vector<double> Losses(const std::vector<nlohmann::json>& events) {
  std::vector<double> v;
  for (const auto& e : events)
    if (e["event"] == "step") v.push_back(e["loss"].get<double>());
  return v;
}

struct PresetCase {
  std::string preset, model;
};

class FlowPresets : public ::testing::TestWithParam<PresetCase> {};

// Every preset's recipe (optimizer, schedule, loss, augmentation) takes its first steps on
// every network it is meant for, at tiny crops.
TEST_P(FlowPresets, FirstStepsRun) {
  const PresetCase c = GetParam();
  static const fs::path data = test::MakeFlowDataIn(test::SharedScratchDir("presets"));
  TrainOptions o = TrainPreset(c.preset);
  o.model = c.model;
  o.data = data.string();
  o.datasets = "anime:1";  // FlyingThings3D is not here; the recipe's other parts are
  o.iterations = 2;
  o.batch_size = 2;
  o.refine_iters = 2;
  o.eval_iters = 2;
  o.eval_every = 0;
  o.eval_pairs = 1;
  o.workers = 1;
  TinyCrop(c.model, &o);
  const fs::path dir = test::ScratchDir("run_" + c.preset + "_" + c.model);
  const auto events = RunFlow(o, dir);
  const auto losses = Losses(events);
  ASSERT_EQ(losses.size(), 2u);
  for (double l : losses) EXPECT_TRUE(std::isfinite(l) && l > 0) << l;
  bool eval = false;
  for (const auto& e : events)
    if (e["event"] == "eval") eval = e["metrics"]["epe"].is_number();
  EXPECT_TRUE(eval);
  EXPECT_TRUE(fs::exists(dir / "flow_weights_last.pth"));
}

std::vector<PresetCase> AllPresetCases() {
  std::vector<PresetCase> v;
  for (const std::string m : {"raft", "raft-small", "gma", "gmflow", "gmflow-refine", "pwcnet"})
    v.push_back({"flow-tiny", m});
  v.push_back({"raft-animerun", "raft"});
  v.push_back({"gma-animerun", "gma"});
  v.push_back({"gmflow-animerun", "gmflow-refine"});
  v.push_back({"pwcnet-animerun", "pwcnet"});
  return v;
}

INSTANTIATE_TEST_SUITE_P(AllNetworks, FlowPresets, ::testing::ValuesIn(AllPresetCases()), [](const auto& info) {
  std::string n = info.param.preset + "_" + info.param.model;
  for (auto& ch : n)
    if (ch == '-') ch = '_';
  return n;
});

struct OneIntraOpThread {  // bit-identical comparisons need one intra-op thread
  int before = torch::get_num_threads();
  OneIntraOpThread() { torch::set_num_threads(1); }
  ~OneIntraOpThread() { torch::set_num_threads(before); }
};

TrainOptions TinyFlow(const fs::path& data, const std::string& model) {
  TrainOptions o = TrainPreset("flow-tiny");
  o.model = model;
  o.data = data.string();
  o.iterations = 4;
  o.batch_size = 2;
  o.refine_iters = 2;
  o.checkpoint_every = 1;
  o.eval_every = 0;
  o.val_split = "";
  o.threads = 1;
  TinyCrop(model, &o);
  return o;
}

TEST(FlowTraining, StoppedAndResumedRunGivesBitIdenticalLosses) {
  OneIntraOpThread one;
  const fs::path data = test::MakeFlowData("resume");
  for (const std::string model : {"raft-small", "pwcnet"}) {
    const TrainOptions o = TinyFlow(data, model);
    const auto whole = Losses(RunFlow(o, test::ScratchDir("whole_" + model)));
    ASSERT_EQ(whole.size(), 4u);
    const fs::path dir = test::ScratchDir("parts_" + model);
    int steps = 0;
    auto first = RunFlow(o, dir, false, [&] { return steps++ >= 2; });  // stop before the third update
    auto second = RunFlow(o, dir, true);
    auto losses = Losses(first);
    const auto rest = Losses(second);
    losses.insert(losses.end(), rest.begin(), rest.end());
    ASSERT_EQ(losses.size(), 4u) << model;
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(losses[i], whole[i]) << model << " step " << i + 1;
  }
}

TEST(FlowTraining, ExportsTheOfficialLayoutThatReadsBackIdentically) {
  const fs::path data = test::MakeFlowData("export");
  struct Want {
    std::string model, first_key;
    bool wrapped;
  };
  for (const Want& w : {Want{"raft-small", "module.fnet.conv1.weight", false},
                        Want{"pwcnet", "moduleExtractor.moduleOne.0.weight", false},
                        Want{"gmflow", "backbone.conv1.weight", true}}) {
    TrainOptions o = TinyFlow(data, w.model);
    o.iterations = 1;
    const fs::path dir = test::ScratchDir("export_" + w.model);
    RunFlow(o, dir);
    const std::string path = (dir / "flow_weights_last.pth").string();
    // The official nesting: bare OrderedDict, or {'model': ...} (GMFlow).
    models::CheckpointLoadOptions raw;
    raw.wrapper_keys.clear();
    raw.strip_module_prefix = false;
    if (w.wrapped) {
      EXPECT_THROW(models::LoadStateDict(path, raw), std::exception) << "not wrapped";
      raw.wrapper_keys = {"model"};
    }
    const models::StateDict sd = models::LoadStateDict(path, raw);
    EXPECT_TRUE(sd.Contains(w.first_key)) << w.model << ": first key " << sd.entries.front().first;
    // Read back into a fresh network: the same flow as the trained one.
    auto a = models::CreateFlowModel(w.model);
    auto b = models::CreateFlowModel(w.model);
    a->LoadWeights(path);
    b->LoadWeights(path);
    b->SaveWeights((dir / "again.pth").string());
    auto c = models::CreateFlowModel(w.model);
    c->LoadWeights((dir / "again.pth").string());
    const auto img1 = torch::rand({1, 3, 64, 96}) * 255, img2 = torch::rand({1, 3, 64, 96}) * 255;
    models::FlowInferenceOptions io;
    io.iters = 2;
    EXPECT_TRUE(torch::equal(a->Estimate(img1, img2, io), c->Estimate(img1, img2, io))) << w.model;
  }
}

TEST(FlowTraining, DatasetProblemsAreErrorsNamingThem) {
  const fs::path data = test::MakeFlowData("bad", 96, 64);
  TrainOptions o = TinyFlow(data, "pwcnet");
  o.datasets = "anime:1,things:1";
  try {
    RunFlow(o, test::ScratchDir("bad_things"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("things_root"), std::string::npos) << e.what();
  }
  o.datasets = "anime:1,sintel@" + (data / "nowhere").string() + ":2";
  try {
    RunFlow(o, test::ScratchDir("bad_sintel"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nowhere"), std::string::npos) << e.what();
  }
  // A truncated flow file is found before the first step, by name.
  const fs::path flo = data / "train/Flow/synth_000/forward";
  const fs::path victim = *fs::directory_iterator(flo);
  fs::resize_file(victim, 40);
  o.datasets = "anime:1";
  try {
    RunFlow(o, test::ScratchDir("bad_flo"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(victim.filename().string()), std::string::npos) << e.what();
  }
  // Crops the network cannot take.
  o = TinyFlow(test::MakeFlowData("bad_crop", 96, 64), "raft-small");
  o.crop_height = 100;
  EXPECT_THROW(RunFlow(o, test::ScratchDir("bad_crop_run")), Error);
}

// Every network under CPU bf16 autocast (GMFlow's layer norms once refused the bf16 output of
// its linear layers).
TEST(FlowTraining, TrainsWithBf16Autocast) {
  const fs::path data = test::MakeFlowData("bf16");
  for (const char* model : {"raft-small", "raft", "gma", "pwcnet", "gmflow", "gmflow-refine"}) {
    TrainOptions o = TinyFlow(data, model);
    o.iterations = 2;
    o.checkpoint_every = 0;
    o.precision = "bf16";
    const auto losses = Losses(RunFlow(o, test::ScratchDir(std::string("bf16_run_") + model)));
    ASSERT_EQ(losses.size(), 2u) << model;
    for (double l : losses) EXPECT_TRUE(std::isfinite(l)) << model;
  }
}

// Loss scaling by a power of two is exact: a scaled fp32 run takes the same steps as an
// unscaled one, bit for bit, reports its scale, and resumes with the scaler's state.
TEST(FlowTraining, LossScalingByAPowerOfTwoChangesNothingInFp32) {
  OneIntraOpThread one;
  const fs::path data = test::MakeFlowData("loss_scale");
  TrainOptions o = TinyFlow(data, "pwcnet");
  o.iterations = 3;
  const auto plain_events = RunFlow(o, test::ScratchDir("unscaled_run"));
  o.loss_scale = 1024;
  const auto scaled_events = RunFlow(o, test::ScratchDir("scaled_run"));
  const auto plain = Losses(plain_events), scaled = Losses(scaled_events);
  ASSERT_EQ(plain.size(), 3u);
  ASSERT_EQ(scaled.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(scaled[i], plain[i]) << "step " << i + 1;
  int steps = 0;
  for (const auto& e : scaled_events) {
    if (e["event"] != "step") continue;
    ++steps;
    EXPECT_EQ(e.value("loss_scale", 0.0), 1024.0);
  }
  EXPECT_EQ(steps, 3);
  for (const auto& e : plain_events) EXPECT_FALSE(e.contains("loss_scale"));

  // Stopped after one update and resumed: the same losses as the whole scaled run.
  const fs::path dir = test::ScratchDir("scaled_parts");
  int n = 0;
  auto losses = Losses(RunFlow(o, dir, false, [&] { return n++ >= 1; }));
  const auto rest = Losses(RunFlow(o, dir, true));
  losses.insert(losses.end(), rest.begin(), rest.end());
  ASSERT_EQ(losses.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(losses[i], scaled[i]) << "resumed, step " << i + 1;
}

TEST(FlowTraining, Fp16NeedsCuda) {
  TrainOptions o = TrainPreset("flow-tiny");
  o.data = "/tmp/x";
  o.precision = "fp16";
  try {
    o.Check();
    FAIL() << "fp16 on the CPU was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA"), std::string::npos) << e.what();
  }
  o.device = "cuda";
  EXPECT_NO_THROW(o.Check());
  EXPECT_EQ(o.EffectiveLossScale(), 65536.0);
  o.precision = "bf16";
  EXPECT_EQ(o.EffectiveLossScale(), 0.0);
  o.loss_scale = -1;
  EXPECT_THROW(o.Check(), Error);
}

}  // namespace
}  // namespace animerun::train
