// The observed session without a display: opening in the background (CallQueue), the
// order of its notifications, navigation across scenes without sentinels, pair keys, a
// pass change that keeps the pair, unreadable pairs and folders, and the demo with its
// palette file.
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "core/data/synth.h"
#include "core/palette/palette.h"
#include "core/session/demo.h"
#include "core/session/session.h"
#include "test_paths.h"

namespace animerun::session {
namespace {

namespace fs = std::filesystem;

fs::path MakeDataset(const std::string& name, int scenes, int frames) {
  const fs::path root = test::ScratchDir(name);
  data::SynthOptions o;
  o.scenes = scenes;
  o.frames = frames;
  o.width = 96;
  o.height = 64;
  o.color_passes = 1;
  data::GenerateSynthDataset(root, o);
  return root;
}

struct Fixture {
  CallQueue queue;
  Session session{queue.Poster()};
  std::vector<Change> changes;
  Fixture() {
    session.Observe([this](Change c) { changes.push_back(c); });
  }
  bool Open(const fs::path& folder, const std::string& split = std::string()) {
    changes.clear();
    session.Open(folder, split);
    return queue.RunUntil([&] { return !session.Busy() && !changes.empty() && changes.back() == Change::kOpened; },
                          60000);
  }
};

TEST(Session, OpensInTheBackgroundAndNotifiesInOrder) {
  const fs::path root = MakeDataset("data", 2, 3);
  Fixture f;
  std::vector<std::string> log;
  f.session.ObserveLog([&](const std::string& level, const std::string& m) { log.push_back(level + ": " + m); });
  f.session.Open(root);
  EXPECT_TRUE(f.session.Busy());
  EXPECT_EQ(f.session.dataset(), nullptr) << "installed before the owner ran its queue";
  ASSERT_TRUE(f.queue.RunUntil([&] { return !f.changes.empty() && f.changes.back() == Change::kOpened; }, 60000));
  EXPECT_EQ(f.changes, (std::vector<Change>{Change::kOpening, Change::kDataset, Change::kScene, Change::kPair,
                                            Change::kOpened}));
  ASSERT_TRUE(f.session.opened()) << f.session.last_error();
  ASSERT_NE(f.session.dataset(), nullptr);
  EXPECT_EQ(f.session.split(), "test");
  EXPECT_EQ(f.session.scene_index(), 0);
  EXPECT_EQ(f.session.pair_index(), 0);
  ASSERT_NE(f.session.pair(), nullptr);
  EXPECT_EQ(f.session.pair()->image1.size(), cv::Size(96, 64));
  const data::PairKey& key = f.session.key();
  EXPECT_EQ(key.split_root, f.session.dataset()->root().string());
  EXPECT_EQ(key.pass, "original");
  EXPECT_EQ(key.identity.scene, f.session.dataset()->scenes()[0].name);
  EXPECT_EQ(key.identity.index, 0);
  EXPECT_TRUE(key.identity.image1.empty()) << "a key holds no paths";
  ASSERT_GE(log.size(), 2u);
  EXPECT_NE(log.back().find("2 scenes, 4 pairs"), std::string::npos) << log.back();
}

TEST(Session, NavigatesAcrossScenesWithoutSentinels) {
  const fs::path root = MakeDataset("data", 2, 3);  // 2 pairs per scene
  Fixture f;
  ASSERT_TRUE(f.Open(root));
  f.session.NextPair();
  EXPECT_EQ(f.session.pair_index(), 1);
  f.session.NextPair();  // past the last pair: the next scene
  EXPECT_EQ(f.session.scene_index(), 1);
  EXPECT_EQ(f.session.pair_index(), 0);
  f.changes.clear();
  f.session.PrevPair();  // back to the last pair of the previous scene, loaded once
  EXPECT_EQ(f.session.scene_index(), 0);
  EXPECT_EQ(f.session.pair_index(), 1);
  EXPECT_EQ(f.changes, (std::vector<Change>{Change::kScene, Change::kPair}));
  f.session.PrevPair();
  f.session.PrevPair();  // the first pair of the first scene stays
  EXPECT_EQ(f.session.pair_index(), 0);
  f.session.LastPair();
  EXPECT_EQ(f.session.pair_index(), 1);
  f.session.SetPair(99);  // clamped
  EXPECT_EQ(f.session.pair_index(), 1);
  f.session.NextScene();
  f.session.NextScene();
  EXPECT_EQ(f.session.scene_index(), 1);
  f.session.PrevScene();
  EXPECT_EQ(f.session.scene_index(), 0);
  f.session.SetScene(7);  // out of range: nothing
  EXPECT_EQ(f.session.scene_index(), 0);
}

TEST(Session, KeysIdentifyPairsAndAPassChangeKeepsThePair) {
  const fs::path root = MakeDataset("data", 2, 3);
  Fixture f;
  ASSERT_TRUE(f.Open(root));
  f.session.SetScene(1);
  f.session.SetPair(1);
  const data::PairKey before = f.session.key();
  const auto pixels = f.session.pair();
  f.session.SetPair(1);  // the same pair again: the same key, whatever is reloaded
  EXPECT_EQ(f.session.key(), before);
  f.session.SetPair(0);
  EXPECT_NE(f.session.key(), before);
  f.session.SetPair(1);

  f.changes.clear();
  f.session.SetPass("color_1");
  ASSERT_TRUE(f.queue.RunUntil([&] { return !f.changes.empty() && f.changes.back() == Change::kOpened; }, 60000));
  EXPECT_EQ(f.session.pass(), "color_1");
  EXPECT_EQ(f.session.scene_index(), 1);
  EXPECT_EQ(f.session.pair_index(), 1);
  EXPECT_NE(f.session.key(), before) << "another pass is another pair";
  EXPECT_EQ(f.session.key().identity.name1, before.identity.name1);
  EXPECT_NE(cv::norm(f.session.pair()->image1, pixels->image1, cv::NORM_INF), 0.0);
  EXPECT_NE(f.session.frame_pair()->image1.string().find("/color_1/"), std::string::npos);
}

TEST(Session, AnUnreadablePairIsReportedAndTheNextLoads) {
  const fs::path root = MakeDataset("data", 1, 3);
  Fixture f;
  ASSERT_TRUE(f.Open(root));
  const data::FramePair bad = f.session.dataset()->scenes()[0].pairs[1];
  fs::resize_file(bad.flow_forward, 20);
  f.session.SetPair(1);
  EXPECT_EQ(f.session.pair(), nullptr);
  EXPECT_FALSE(f.session.key().Empty()) << "the pair is shown, its data could not be loaded";
  EXPECT_NE(f.session.pair_error().find(bad.flow_forward.filename().string()), std::string::npos)
      << f.session.pair_error();
  f.session.SetPair(0);
  EXPECT_NE(f.session.pair(), nullptr);
  EXPECT_TRUE(f.session.pair_error().empty());
}

TEST(Session, AFolderThatIsNotADatasetFailsAndKeepsTheOpenOne) {
  const fs::path root = MakeDataset("data", 1, 3);
  Fixture f;
  ASSERT_TRUE(f.Open(root));
  const auto dataset = f.session.dataset();
  const fs::path empty = test::ScratchDir("empty");
  f.changes.clear();
  f.session.Open(empty);
  EXPECT_EQ(f.changes, std::vector<Change>{Change::kOpened});
  EXPECT_FALSE(f.session.opened());
  EXPECT_NE(f.session.last_error().find(empty.string()), std::string::npos) << f.session.last_error();
  EXPECT_EQ(f.session.dataset(), dataset);
  EXPECT_NE(f.session.pair(), nullptr);
}

TEST(Session, TheDemoComesWithPalettesOfItsOwnFrames) {
  const fs::path demo = test::ScratchDir("home") / "demo";
  EXPECT_FALSE(DemoReady(demo));
  Fixture f;
  f.session.OpenDemo(demo);
  ASSERT_TRUE(f.queue.RunUntil([&] { return !f.changes.empty() && f.changes.back() == Change::kOpened; }, 300000));
  ASSERT_TRUE(f.session.opened()) << f.session.last_error();
  EXPECT_TRUE(DemoReady(demo));
  EXPECT_FALSE(fs::exists(demo.string() + ".partial"));
  EXPECT_EQ(f.session.split(), kDemoSplit);
  const palette::PaletteFile palettes = palette::LoadPalettes(PalettesBeside(demo));
  ASSERT_EQ(palettes.groups.size(), 2u);  // one group per pass
  EXPECT_NE(palettes.Find("demo_original"), nullptr);
  EXPECT_NE(palettes.Find("demo_color_1"), nullptr);
  for (const auto& g : palettes.groups) {
    EXPECT_TRUE(g.extracted()) << g.name;
    EXPECT_EQ(g.frames.size(), 12u) << g.name;  // 2 scenes x 6 frames
    EXPECT_EQ(g.pixels, 12 * 960 * 540) << g.name;
  }
  // A lost palette file is made again; the dataset is kept.
  const auto stamp = fs::last_write_time(demo / kDemoSplit / "Frame_Anime");
  fs::remove(PalettesBeside(demo));
  PrepareDemo(demo);
  EXPECT_TRUE(DemoReady(demo));
  EXPECT_EQ(fs::last_write_time(demo / kDemoSplit / "Frame_Anime"), stamp);
}

}  // namespace
}  // namespace animerun::session
