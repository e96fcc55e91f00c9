#include "core/train/train_options.h"

#include <fstream>

#include <gtest/gtest.h>

#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::train {
namespace {

namespace fs = std::filesystem;

void WriteText(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

TEST(TrainOptions, PresetsFollowThePaperRecipeAndCheck) {
  TrainOptions paper = TrainPreset("ant-animerun");
  EXPECT_EQ(paper.iterations, 3000);
  EXPECT_EQ(paper.accumulation, 16);
  EXPECT_DOUBLE_EQ(paper.lr, 1e-4);
  EXPECT_DOUBLE_EQ(paper.beta1, 0.9);
  EXPECT_DOUBLE_EQ(paper.beta2, 0.99);
  EXPECT_EQ(paper.crop_height, 368);
  EXPECT_EQ(paper.crop_width, 368);
  EXPECT_TRUE(paper.area_weighted);
  EXPECT_THROW(paper.Check(), Error);  // no data root yet
  paper.data = "/somewhere";
  EXPECT_NO_THROW(paper.Check());
  TrainOptions tiny = TrainPreset("ant-tiny");
  EXPECT_LT(tiny.iterations, paper.iterations);
  EXPECT_LT(tiny.crop_height * tiny.crop_width, paper.crop_height * paper.crop_width);
  EXPECT_THROW(TrainPreset("nope"), Error);
  for (const auto& name : TrainPresetNames()) {  // every preset checks once given its data
    TrainOptions o = TrainPreset(name);
    o.data = "/somewhere";
    EXPECT_NO_THROW(o.Check()) << name;
  }
}

TEST(TrainOptions, FlowPresetsReproduceTheAnimeRunScripts) {
  for (const std::string name : {"raft-animerun", "gma-animerun", "gmflow-animerun", "pwcnet-animerun"}) {
    const TrainOptions o = TrainPreset(name);
    EXPECT_EQ(o.task, "flow") << name;
    EXPECT_EQ(o.datasets, "anime:200,things:1") << name;
    EXPECT_EQ(o.optimizer, "adamw") << name;
    EXPECT_EQ(o.schedule, "onecycle") << name;
    EXPECT_DOUBLE_EQ(o.lr, 1e-4) << name;
    EXPECT_DOUBLE_EQ(o.weight_decay, 1e-5) << name;  // the scripts' --wdecay
    EXPECT_DOUBLE_EQ(o.epsilon, 1e-8) << name;
    EXPECT_DOUBLE_EQ(o.clip, 1.0) << name;
    EXPECT_DOUBLE_EQ(o.gamma, 0.85) << name;
    EXPECT_EQ(o.refine_iters, 12) << name;
    EXPECT_EQ(o.crop_width, 768) << name;
  }
  EXPECT_EQ(TrainPreset("raft-animerun").model, "raft");
  EXPECT_EQ(TrainPreset("raft-animerun").batch_size, 12);
  EXPECT_EQ(TrainPreset("raft-animerun").iterations, 20000);
  EXPECT_EQ(TrainPreset("raft-animerun").crop_height, 368);
  EXPECT_EQ(TrainPreset("gmflow-animerun").model, "gmflow-refine");
  EXPECT_EQ(TrainPreset("gmflow-animerun").batch_size, 6);
  EXPECT_EQ(TrainPreset("gmflow-animerun").crop_height, 384);
  EXPECT_EQ(TrainPreset("pwcnet-animerun").iterations, 100000);
  TrainOptions o = TrainPreset("flow-tiny");
  o.data = "/x";
  o.model = "lstm";
  EXPECT_THROW(o.Check(), Error);
  o.model = "gma";
  o.datasets = "anime:200,kitti:1";
  EXPECT_THROW(o.Check(), Error);
}

TEST(TrainOptions, CheckRejectsBadValuesNamingTheField) {
  auto expect_bad = [](const std::string& set, const std::string& field) {
    TrainOptions o;
    o.data = "/d";
    o.ApplyOverride(set);
    try {
      o.Check();
      ADD_FAILURE() << set << " passed Check";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  expect_bad("iterations=0", "iterations");
  expect_bad("accumulation=0", "accumulation");
  expect_bad("lr=0", "lr");
  expect_bad("beta2=1", "beta2");
  expect_bad("crop_width=8", "crop_width");
  expect_bad("task=raft", "task");
  expect_bad("device=tpu", "device");
  expect_bad("log_every=0", "log_every");
}

TEST(TrainOptions, OverridesParseEachKind) {
  TrainOptions o;
  o.ApplyOverride("data=/x=y");  // only the first '=' splits
  o.ApplyOverride("iterations=7");
  o.ApplyOverride("lr=2.5e-4");
  o.ApplyOverride("area_weighted=false");
  o.ApplyOverride("val_split=");
  EXPECT_EQ(o.data, "/x=y");
  EXPECT_EQ(o.iterations, 7);
  EXPECT_DOUBLE_EQ(o.lr, 2.5e-4);
  EXPECT_FALSE(o.area_weighted);
  EXPECT_EQ(o.val_split, "");
  EXPECT_THROW(o.ApplyOverride("iterations=7.5"), Error);
  EXPECT_THROW(o.ApplyOverride("iterations=99999999999"), Error);
  EXPECT_THROW(o.ApplyOverride("lr=fast"), Error);
  EXPECT_THROW(o.ApplyOverride("area_weighted=maybe"), Error);
  EXPECT_THROW(o.ApplyOverride("colour=red"), Error);
  EXPECT_THROW(o.ApplyOverride("iterations"), Error);
  EXPECT_EQ(o.iterations, 7);  // failed overrides change nothing
}

TEST(TrainOptions, JsonRoundTripAndStrictMerge) {
  TrainOptions o = TrainPreset("ant-tiny");
  o.data = "/data";
  o.seed = 5;
  o.lr = 3e-4;
  TrainOptions back;
  back.MergeJson(o.ToJson());
  EXPECT_EQ(back.ToJson(), o.ToJson());
  EXPECT_EQ(o.ToJson().size(), TrainOptionFields().size());

  TrainOptions m;
  EXPECT_THROW(m.MergeJson({{"iterations", 5}, {"bogus", 1}}, "cfg.json"), Error);
  EXPECT_EQ(m.iterations, 3000);  // all or nothing
  EXPECT_THROW(m.MergeJson({{"iterations", "5"}}), Error);
  EXPECT_THROW(m.MergeJson({{"area_weighted", 1}}), Error);
  EXPECT_THROW(m.MergeJson(nlohmann::json::array()), Error);
  m.MergeJson({{"lr", 1}});  // an integer is a valid double
  EXPECT_DOUBLE_EQ(m.lr, 1.0);
}

// A flow config without a preset starts from its network's AnimeRun recipe: AnT's defaults
// (16 accumulated batches per update, beta2 0.99) would make a flow run 16x slower.
TEST(TrainOptions, FlowConfigWithoutPresetStartsFromItsRecipe) {
  const fs::path dir = test::ScratchDir("cfg_flow");
  WriteText(dir / "r.json", R"({"task": "flow", "model": "raft-small", "batch_size": 4})");
  const TrainOptions r = LoadTrainConfig((dir / "r.json").string());
  EXPECT_EQ(r.model, "raft-small");
  EXPECT_EQ(r.batch_size, 4);
  EXPECT_EQ(r.accumulation, 1);
  EXPECT_EQ(r.optimizer, "adamw");
  EXPECT_EQ(r.schedule, "onecycle");
  EXPECT_DOUBLE_EQ(r.beta2, 0.999);
  EXPECT_DOUBLE_EQ(r.clip, 1.0);
  WriteText(dir / "g.json", R"({"task": "flow", "model": "gmflow"})");
  const TrainOptions g = LoadTrainConfig((dir / "g.json").string());
  EXPECT_EQ(g.model, "gmflow");
  EXPECT_EQ(g.batch_size, TrainPreset("gmflow-animerun").batch_size);
  WriteText(dir / "p.json", R"({"task": "flow", "model": "pwcnet"})");
  EXPECT_EQ(LoadTrainConfig((dir / "p.json").string()).iterations, TrainPreset("pwcnet-animerun").iterations);
  WriteText(dir / "a.json", R"({"task": "ant"})");
  EXPECT_EQ(LoadTrainConfig((dir / "a.json").string()).ToJson(), TrainOptions().ToJson());
}

TEST(TrainOptions, ConfigFilesWithPresetSaveAndLoad) {
  const fs::path dir = test::ScratchDir("cfg");
  WriteText(dir / "a.json", R"({"preset": "ant-tiny", "iterations": 3, "data": "/d"})");
  const TrainOptions a = LoadTrainConfig((dir / "a.json").string());
  EXPECT_EQ(a.iterations, 3);
  EXPECT_EQ(a.crop_height, TrainPreset("ant-tiny").crop_height);
  SaveTrainConfig((dir / "b.json").string(), a);
  EXPECT_EQ(LoadTrainConfig((dir / "b.json").string()).ToJson(), a.ToJson());

  auto expect_file_error = [&](const std::string& name, const std::string& text) {
    WriteText(dir / name, text);
    try {
      LoadTrainConfig((dir / name).string());
      ADD_FAILURE() << name << " loaded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  };
  expect_file_error("truncated.json", R"({"preset": "ant-tiny", "iterat)");
  expect_file_error("garbage.json", std::string("\x00\xff\x10 not json", 12));
  expect_file_error("array.json", "[1, 2]");
  expect_file_error("badpreset.json", R"({"preset": "ant-huge"})");
  expect_file_error("badtype.json", R"({"seed": "forty-two"})");
  EXPECT_THROW(LoadTrainConfig((dir / "missing.json").string()), Error);
}

}  // namespace
}  // namespace animerun::train
