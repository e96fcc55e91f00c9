#include "core/train/trainer.h"

#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/data/synth.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "models/ant/ant.h"
#include "test_paths.h"

namespace animerun::train {
namespace {

namespace fs = std::filesystem;

// A tiny synthetic AnimeRun (train: 2 scenes x 3 frames, test: 1 x 3) at 96x64.
fs::path MakeData(const std::string& name) {
  const fs::path root = test::ScratchDir(name);
  data::SynthOptions s;
  s.width = 96;
  s.height = 64;
  s.frames = 3;
  s.color_passes = 0;
  s.split = "train";
  s.scenes = 2;
  data::GenerateSynthDataset(root, s);
  s.split = "test";
  s.scenes = 1;
  s.seed = 9;
  data::GenerateSynthDataset(root, s);
  return root;
}

TrainOptions Tiny(const fs::path& data) {
  TrainOptions o = TrainPreset("ant-tiny");
  o.data = data.string();
  o.iterations = 4;
  o.accumulation = 1;
  o.crop_height = 48;
  o.crop_width = 64;
  o.checkpoint_every = 2;
  o.eval_every = 2;
  o.eval_pairs = 1;
  return o;
}

std::vector<nlohmann::json> RunTiny(const TrainOptions& o, const fs::path& dir, bool resume,
                                std::function<bool()> stop = nullptr, TrainResult* result = nullptr) {
  std::vector<nlohmann::json> events;
  TrainRunSpec spec;
  spec.run_dir = dir.string();
  spec.resume = resume;
  spec.should_stop = std::move(stop);
  const TrainResult r = RunTraining(o, spec, [&](const nlohmann::json& e) { events.push_back(e); });
  if (result) *result = r;
  return events;
}

std::vector<double> StepLosses(const std::vector<nlohmann::json>& events) {
  std::vector<double> v;
  for (const auto& e : events)
    if (e["event"] == "step") v.push_back(e["loss"].get<double>());
  return v;
}

struct OneThread {  // bit-identical comparisons need one intra-op thread
  int before = torch::get_num_threads();
  OneThread() { torch::set_num_threads(1); }
  ~OneThread() { torch::set_num_threads(before); }
};

TEST(Trainer, RunsEmitsEventsAndWritesLoadableWeights) {
  const fs::path data = MakeData("data");
  const fs::path dir = test::ScratchDir("run");
  const TrainOptions o = Tiny(data);
  TrainResult r;
  const auto events = RunTiny(o, dir, false, nullptr, &r);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0]["event"], "data");  // what the run trains on, then the start
  EXPECT_EQ(events[1]["event"], "start");
  EXPECT_EQ(events.back()["event"], "done");
  EXPECT_EQ(events.back()["reason"], "finished");
  EXPECT_EQ(r.iteration, 4);
  EXPECT_FALSE(r.stopped);
  int steps = 0, checkpoints = 0, evals = 0;
  for (const auto& e : events) {
    if (e["event"] == "step") {
      ++steps;
      EXPECT_EQ(e["iter"], steps);
      EXPECT_TRUE(std::isfinite(e["loss"].get<double>()));
      EXPECT_GT(e["loss"].get<double>(), 0.0);
      EXPECT_GE(e["acc"].get<double>(), 0.0);
      EXPECT_LE(e["acc"].get<double>(), 1.0);
      EXPECT_DOUBLE_EQ(e["lr"].get<double>(), o.lr);
    }
    if (e["event"] == "checkpoint") ++checkpoints;
    if (e["event"] == "eval") {
      ++evals;
      EXPECT_EQ(e["metrics"]["pairs"], 1);
      EXPECT_GE(e["metrics"]["acc"].get<double>(), 0.0);
      EXPECT_LE(e["metrics"]["acc"].get<double>(), 1.0);
    }
  }
  EXPECT_EQ(steps, 4);
  EXPECT_EQ(checkpoints, 2);  // at 2 and at the end
  EXPECT_EQ(evals, 2);
  ASSERT_TRUE(r.last_eval.is_object());

  // The run folder: config, events log (same events), weights loadable by LoadAntWeights.
  EXPECT_EQ(LoadTrainConfig((dir / kConfigFile).string()).ToJson(), o.ToJson());
  std::ifstream log(dir / kEventsFile);
  std::string line;
  size_t lines = 0;
  while (std::getline(log, line)) EXPECT_EQ(nlohmann::json::parse(line), events[lines++]);
  EXPECT_EQ(lines, events.size());
  torch::manual_seed(static_cast<uint64_t>(o.seed));
  models::AntNet initial;
  models::AntNet trained;
  const models::LoadReport rep = models::LoadAntWeights(*trained, (dir / "ant_weights_last.pth").string());
  EXPECT_TRUE(rep.ok());
  EXPECT_FALSE(torch::equal(initial->named_parameters()["final_proj.weight"],
                            trained->named_parameters()["final_proj.weight"]));

  // A second run into the same folder without resume is refused.
  EXPECT_THROW(RunTiny(o, dir, false), Error);
}

TEST(Trainer, FrozenEncoderKeepsItsStartWeightsAndTrainsTheRest) {
  const fs::path data = MakeData("data_frozen");
  const fs::path dir = test::ScratchDir("run_frozen");
  TrainOptions o = Tiny(data);
  o.freeze_encoder = true;
  o.val_split.clear();
  const auto events = RunTiny(o, dir, false);
  EXPECT_EQ(events.back()["reason"], "finished");
  torch::manual_seed(static_cast<uint64_t>(o.seed));
  models::AntNet initial;
  models::AntNet trained;
  ASSERT_TRUE(models::LoadAntWeights(*trained, (dir / "ant_weights_last.pth").string()).ok());
  const auto before = initial->named_parameters();
  int frozen = 0, moved = 0;
  for (const auto& p : trained->named_parameters()) {
    if (p.key().rfind("segment_desc.", 0) == 0) {
      EXPECT_TRUE(torch::equal(p.value(), before[p.key()])) << p.key() << " changed although frozen";
      ++frozen;
    } else if (!torch::equal(p.value(), before[p.key()])) {
      ++moved;
    }
  }
  EXPECT_EQ(frozen, 6);  // three convolutions, weight and bias
  EXPECT_GT(moved, 100);  // the box encoder, the attention layers, final_proj, bin_score
}

TEST(Trainer, FrozenEncoderDescriptorCacheGivesTheSameLosses) {
  // Whole-frame samples (crop >= frame) with freeze_encoder: cache_data keeps each pair's
  // encoder descriptors; the losses must be those of recomputing them every time.
  const fs::path data = MakeData("data_desc_cache");
  OneThread one;
  TrainOptions o = Tiny(data);
  o.freeze_encoder = true;
  o.val_split.clear();
  o.crop_height = 64;
  o.crop_width = 96;
  o.iterations = 6;  // 6 draws from 4 pairs: some pairs come back and use the cache
  o.cache_data = false;
  const auto plain = StepLosses(RunTiny(o, test::ScratchDir("run_no_cache"), false));
  o.cache_data = true;
  const auto cached = StepLosses(RunTiny(o, test::ScratchDir("run_cache"), false));
  ASSERT_EQ(plain.size(), 6u);
  EXPECT_EQ(plain, cached);
}

TEST(Trainer, UnmatchedWeightScalesOnlyTheDustbinRowsOfThePlainMean) {
  // The first update's loss is computed with the initial weights on the same draw, so as a
  // function of u it is A + u * B: A the matched rows' share of the plain mean, B the
  // unmatched rows' share (both > 0 on this data, which has segments without a partner).
  const fs::path data = MakeData("data_unmatched");
  OneThread one;
  TrainOptions o = Tiny(data);
  o.area_weighted = false;
  o.val_split.clear();
  o.iterations = 1;
  o.accumulation = 1;
  o.eval_every = 0;
  const auto first_loss = [&](double u, const std::string& name) {
    o.unmatched_weight = u;
    const auto losses = StepLosses(RunTiny(o, test::ScratchDir(name), false));
    EXPECT_EQ(losses.size(), 1u);
    return losses.empty() ? 0.0 : losses[0];
  };
  const double half = first_loss(0.5, "run_u05"), one_ = first_loss(1.0, "run_u1"), three = first_loss(3.0, "run_u3");
  EXPECT_GT(three, one_);
  EXPECT_LT(three, 3 * one_);  // not every row is a dustbin row
  EXPECT_NEAR((three - one_) / (one_ - half), 4.0, 1e-3);  // linear in u
  TrainOptions bad = o;
  bad.unmatched_weight = 0.0;
  EXPECT_THROW(bad.Check(), Error);
}

TEST(Trainer, DustbinLrScaleMovesOnlyTheDustbinScoreFaster) {
  // Adam's first step moves every parameter by lr * g / (|g| + eps), about lr: with the scale
  // the dustbin score moves 100 times as far, and every other weight exactly as without it.
  const fs::path data = MakeData("data_dustbin_lr");
  OneThread one;
  TrainOptions o = Tiny(data);
  o.val_split.clear();
  o.iterations = 1;
  o.eval_every = 0;
  o.schedule = "constant";
  o.lr = 1e-4;
  const auto trained = [&](double scale, const std::string& name) {
    o.dustbin_lr_scale = scale;
    const fs::path dir = test::ScratchDir(name);
    RunTiny(o, dir, false);
    models::AntNet net;
    EXPECT_TRUE(models::LoadAntWeights(*net, (dir / "ant_weights_last.pth").string()).ok());
    return net;
  };
  torch::manual_seed(static_cast<uint64_t>(o.seed));
  models::AntNet initial;
  const float start = initial->named_parameters()["bin_score"].item<float>();
  const auto plain = trained(1.0, "run_bin_x1"), fast = trained(100.0, "run_bin_x100");
  const double moved_plain = std::abs(plain->named_parameters()["bin_score"].item<float>() - start);
  const double moved_fast = std::abs(fast->named_parameters()["bin_score"].item<float>() - start);
  EXPECT_NEAR(moved_plain, 1e-4, 2e-6);
  EXPECT_NEAR(moved_fast, 1e-2, 2e-4);
  for (const auto& p : plain->named_parameters())
    if (p.key() != "bin_score") EXPECT_TRUE(torch::equal(p.value(), fast->named_parameters()[p.key()])) << p.key();
  TrainOptions bad = o;
  bad.dustbin_lr_scale = -1.0;
  EXPECT_THROW(bad.Check(), Error);
}

TEST(Trainer, StoppedAndResumedRunGivesBitIdenticalLosses) {
  OneThread one;
  const fs::path data = MakeData("data");
  TrainOptions o = Tiny(data);
  o.iterations = 5;
  o.accumulation = 2;
  o.eval_every = 0;
  o.checkpoint_every = 0;
  o.val_split = "";
  o.dustbin_lr_scale = 10.0;  // two optimizer groups (Flow tests resume the single-group case)
  const std::vector<double> straight = StepLosses(RunTiny(o, test::ScratchDir("straight"), false));
  ASSERT_EQ(straight.size(), 5u);

  // Stop in the middle of update 3 (the 5th poll happens before its 2nd sample): updates
  // 1-2 are kept, the partial one is dropped, the generator rewound.
  const fs::path dir = test::ScratchDir("interrupted");
  int polls = 0;
  TrainResult r;
  const auto first = RunTiny(o, dir, false, [&] { return ++polls > 5; }, &r);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.iteration, 2);
  EXPECT_EQ(first.back()["reason"], "stopped");
  const auto second = RunTiny(o, dir, true);
  ASSERT_GE(second.size(), 2u);
  EXPECT_EQ(second[1]["event"], "start");
  EXPECT_EQ(second[1]["iter"], 2);
  EXPECT_TRUE(second[1]["resumed"].get<bool>());
  std::vector<double> joined = StepLosses(first);
  for (double l : StepLosses(second)) joined.push_back(l);
  ASSERT_EQ(joined.size(), straight.size());
  for (size_t i = 0; i < straight.size(); ++i) EXPECT_EQ(joined[i], straight[i]) << "update " << i + 1;
}

TEST(Trainer, StopFileEndsTheRunWithACheckpoint) {
  const fs::path data = MakeData("data");
  const fs::path dir = test::ScratchDir("run");
  TrainOptions o = Tiny(data);
  o.iterations = 50;
  o.val_split = "";
  WriteFileAtomic(dir / kStopFile, std::string("stale"));  // removed at start, must not stop the run
  std::vector<nlohmann::json> events;
  TrainRunSpec spec;
  spec.run_dir = dir.string();
  const TrainResult r = RunTraining(o, spec, [&](const nlohmann::json& e) {
    events.push_back(e);
    if (e["event"] == "step" && e["iter"] == 2) WriteFileAtomic(dir / kStopFile, std::string("stop"));
  });
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.iteration, 2);
  EXPECT_EQ(events.back()["reason"], "stopped");
  EXPECT_EQ(events[events.size() - 2]["event"], "checkpoint");
  EXPECT_TRUE(fs::exists(dir / kCheckpointFile));
}

TEST(Trainer, CorruptTruncatedOrMissingCheckpointsAreErrorsNamingTheFile) {
  const fs::path data = MakeData("data");
  const fs::path dir = test::ScratchDir("run");
  TrainOptions o = Tiny(data);
  o.iterations = 1;
  o.val_split = "";
  EXPECT_THROW(RunTiny(o, dir, true), Error);  // nothing to resume
  RunTiny(o, dir, false);
  const fs::path ckpt = dir / kCheckpointFile;
  const std::vector<uint8_t> bytes = ReadFileBytes(ckpt);
  auto expect_error = [&](const std::vector<uint8_t>& content, const std::string& what) {
    WriteFileAtomic(ckpt, content);
    try {
      o.iterations = 2;
      RunTiny(o, dir, true);
      ADD_FAILURE() << what << " checkpoint was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(ckpt.string()), std::string::npos) << e.what();
    }
  };
  expect_error(std::vector<uint8_t>(bytes.begin(), bytes.begin() + bytes.size() / 2), "truncated");
  expect_error(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 100), "very short");
  std::vector<uint8_t> flipped = bytes;
  for (size_t i = 0; i < flipped.size(); i += 997) flipped[i] ^= 0x5a;
  expect_error(flipped, "corrupt");
  expect_error(ReadFileBytes(dir / "ant_weights_last.pth"), "foreign (a weights file)");
}

TEST(Trainer, BadDataIsAnError) {
  const fs::path empty = test::ScratchDir("empty");
  TrainOptions o = Tiny(empty);
  EXPECT_THROW(RunTiny(o, test::ScratchDir("run"), false), Error);
}

}  // namespace
}  // namespace animerun::train
