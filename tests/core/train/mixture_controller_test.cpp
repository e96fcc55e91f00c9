// The flow mixture table's controller without a display: rows from the datasets spec and
// back, kinds detected from folders, a scan that finds the pairs and resolution of every
// set and names what stops one from being used, edits during a scan.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/data/synth.h"
#include "core/train/mixture_controller.h"
#include "test_paths.h"

namespace animerun::train {
namespace {

namespace fs = std::filesystem;

fs::path Data() {
  static const fs::path root = [] {
    const fs::path r = test::SharedScratchDir("mixture_data");
    data::SynthOptions s;
    s.width = 96;
    s.height = 64;
    s.frames = 4;  // 3 pairs per scene
    s.scenes = 2;
    s.color_passes = 0;
    s.split = "train";
    data::GenerateSynthDataset(r, s);
    return r;
  }();
  return root;
}

struct MixtureFixture {
  CallQueue queue;
  MixtureController controller{queue.Poster()};
  int rows_events = 0, errors = 0;
  MixtureFixture() {
    controller.Observe([this](MixtureController::Event e) {
      rows_events += e == MixtureController::Event::kRows;
      errors += e == MixtureController::Event::kError;
    });
  }
  bool Scan() {
    controller.Scan();
    return queue.RunUntil([&] { return !controller.Scanning(); }, 60000);
  }
};

TrainOptions Flow(const std::string& datasets) {
  TrainOptions o = TrainPreset("flow-tiny");
  o.datasets = datasets;
  o.data = Data().string();
  return o;
}

TEST(MixtureController, RowsFollowTheSpecAndWriteItBack) {
  MixtureFixture f;
  ASSERT_TRUE(f.controller.SetOptions(Flow("anime:200,things@/nowhere/FlyingThings3D:1")));
  ASSERT_EQ(f.controller.rows().size(), 2u);
  EXPECT_EQ(f.controller.rows()[0].kind, "anime");
  EXPECT_EQ(f.controller.rows()[0].repeat, 200);
  EXPECT_EQ(f.controller.RootOf(0), Data().string()) << "an entry without a folder reads data";
  EXPECT_EQ(f.controller.rows()[1].path, "/nowhere/FlyingThings3D");
  EXPECT_EQ(f.controller.Spec(), "anime:200,things@/nowhere/FlyingThings3D:1");
  ASSERT_TRUE(f.controller.SetRepeat(1, 3));
  EXPECT_FALSE(f.controller.SetRepeat(1, 0));
  EXPECT_NE(f.controller.LastError().find(">= 1"), std::string::npos);
  f.controller.Remove(0);
  TrainOptions o = Flow("");
  f.controller.ApplyTo(&o);
  EXPECT_EQ(o.datasets, "things@/nowhere/FlyingThings3D:3");
  // A spec that does not parse is refused and the rows stay.
  EXPECT_FALSE(f.controller.SetOptions(Flow("anime:two")));
  EXPECT_NE(f.controller.LastError().find("datasets"), std::string::npos);
  EXPECT_EQ(f.controller.rows().size(), 1u);
  EXPECT_GT(f.rows_events, 0);
}

TEST(MixtureController, ScanFindsPairsAndNamesProblems) {
  MixtureFixture f;
  ASSERT_TRUE(f.controller.SetOptions(Flow("anime:5")));
  // The same AnimeRun folder added by path is detected as anime; a text file that is not a
  // pairs list and a missing folder get rows whose problem the scan names.
  ASSERT_TRUE(f.controller.AddPath(Data().string()));
  EXPECT_EQ(f.controller.rows()[1].kind, "anime");
  const fs::path bogus = test::ScratchDir("mixture_bogus") / "list.txt";
  std::ofstream(bogus) << "a.png b.png\n";
  f.controller.AddPath(bogus.string());
  EXPECT_EQ(f.controller.rows()[2].kind, "pairs");
  f.controller.AddRow("sintel", "/nowhere/Sintel", 1);
  f.controller.AddRow("things", "", 1);  // no things_root either
  EXPECT_FALSE(f.controller.AddPath(test::ScratchDir("mixture_empty").string())) << "an empty folder is no dataset";
  f.controller.Remove(5);
  ASSERT_TRUE(f.Scan()) << f.controller.ScanStatus();
  const auto& r = f.controller.rows();
  ASSERT_EQ(r.size(), 5u);
  for (int i : {0, 1}) {
    EXPECT_TRUE(r[i].scanned);
    EXPECT_EQ(r[i].pairs, 6) << "2 scenes of 4 frames";
    EXPECT_EQ(r[i].sizes, "96x64");
    EXPECT_TRUE(r[i].problem.empty()) << r[i].problem;
  }
  EXPECT_NE(r[2].problem.find("list.txt"), std::string::npos) << r[2].problem;
  EXPECT_NE(r[3].problem.find("/nowhere/Sintel"), std::string::npos) << r[3].problem;
  EXPECT_NE(r[4].problem.find("things_root"), std::string::npos) << r[4].problem;
  EXPECT_EQ(f.controller.EpochSize(), 6 * 5 + 6 * 1);
  EXPECT_NE(f.controller.ScanStatus().find("3 dataset(s) cannot be used"), std::string::npos)
      << f.controller.ScanStatus();
  // An edit clears that row's results.
  f.controller.SetRepeat(0, 2);
  EXPECT_FALSE(f.controller.rows()[0].scanned);
  EXPECT_TRUE(f.controller.rows()[1].scanned);
}

TEST(MixtureController, AnEditDuringAScanDropsItsResult) {
  MixtureFixture f;
  ASSERT_TRUE(f.controller.SetOptions(Flow("anime:1")));
  f.controller.Scan();
  f.controller.AddRow("anime", Data().string(), 2);  // before the scan's result is delivered
  ASSERT_TRUE(f.queue.RunUntil([&] { return !f.controller.Scanning(); }, 60000));
  EXPECT_FALSE(f.controller.rows()[0].scanned);
  EXPECT_NE(f.controller.ScanStatus().find("changed"), std::string::npos) << f.controller.ScanStatus();
}

}  // namespace
}  // namespace animerun::train
