// The palette controller without a display: group edits, the extraction loop shared with
// the CLI (ExtractGroups), the preview from the session's dataset (its shown frame when it
// shows the original pass), apply, suggestions, and a palette file beside the dataset.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "core/data/synth.h"
#include "core/io/image_io.h"
#include "core/palette/extract.h"
#include "core/palette/palette_controller.h"
#include "core/util/fs.h"
#include "test_paths.h"

namespace animerun::palette {
namespace {

namespace fs = std::filesystem;

fs::path Dataset() {
  const fs::path root = test::ScratchDir("data");
  data::SynthOptions o;
  o.scenes = 2;
  o.frames = 3;
  o.width = 128;
  o.height = 72;
  o.color_passes = 1;
  data::GenerateSynthDataset(root, o);
  return root;
}

// Two warm and two cold reference frames in two folders.
fs::path References() {
  const fs::path r = test::ScratchDir("refs");
  for (int i = 0; i < 4; ++i) {
    const bool warm = i % 2 == 0;
    cv::Mat m(40, 50, CV_8UC3, warm ? cv::Scalar(250, 200, 170) : cv::Scalar(30, 40, 110));
    cv::circle(m, {10 + 8 * i, 20}, 9, warm ? cv::Scalar(230, 90, 60) : cv::Scalar(60, 160, 210), cv::FILLED);
    io::WriteImage(r / (warm ? "warm" : "cold") / ("f" + std::to_string(i) + ".png"), m);
  }
  return r;
}

struct Fixture {
  CallQueue queue;
  PaletteController controller{queue.Poster()};
  std::vector<PaletteController::Event> events;
  Fixture() {
    controller.Observe([this](PaletteController::Event e) { events.push_back(e); });
  }
  bool Wait() { return queue.RunUntil([&] { return !controller.Busy(); }, 60000); }
  bool Saw(PaletteController::Event e) const { return std::find(events.begin(), events.end(), e) != events.end(); }
};

TEST(ExtractGroups, OneLoopWithNestedProgressAndCancel) {
  const fs::path refs = References();
  std::vector<PaletteGroup> groups(2);
  groups[0].name = "warm";
  groups[1].name = "cold";
  for (const auto& f : ExpandFrameInputs({(refs / "warm").string()})) groups[0].frames.push_back(f.string());
  for (const auto& f : ExpandFrameInputs({(refs / "cold").string()})) groups[1].frames.push_back(f.string());
  std::vector<std::pair<double, std::string>> seen;
  JobContext job([&](double f, const std::string& m) { seen.emplace_back(f, m); });
  ExtractOptions options;
  options.threads = 1;
  const std::vector<PaletteGroup> out = ExtractGroups(groups, options, &job);
  ASSERT_EQ(out.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const std::vector<fs::path> files(groups[i].frames.begin(), groups[i].frames.end());
    const PaletteGroup alone = ExtractPaletteFromFiles(groups[i].name, "", files, options);
    EXPECT_EQ(SerializePalettes({{out[i]}}), SerializePalettes({{alone}})) << i;
  }
  ASSERT_EQ(seen.size(), 4u);  // two frames per group
  EXPECT_DOUBLE_EQ(seen[0].first, 0.25);
  EXPECT_EQ(seen[0].second, "group 1/2: warm: 1/2 frames");
  EXPECT_DOUBLE_EQ(seen[1].first, 0.5);
  EXPECT_EQ(seen[3].first, 1.0);
  EXPECT_EQ(seen[3].second, "group 2/2: cold: 2/2 frames");
  JobContext cancelled;
  cancelled.RequestCancel();
  EXPECT_THROW(ExtractGroups(groups, options, &cancelled), Cancelled);
  groups[1].frames.clear();
  EXPECT_THROW(ExtractGroups(groups, options), Error);
}

TEST(PaletteController, EditsGroupsAndExtractsInTheBackground) {
  const fs::path refs = References();
  Fixture f;
  EXPECT_TRUE(f.controller.AddGroup("warm", "disney"));
  EXPECT_FALSE(f.controller.AddGroup("warm"));
  EXPECT_TRUE(f.Saw(PaletteController::Event::kError));
  EXPECT_NE(f.controller.LastError().find("exists already"), std::string::npos);
  EXPECT_EQ(f.controller.AddFrames("warm", {(refs / "warm").string()}), 2u);
  EXPECT_EQ(f.controller.AddFrames("warm", {(refs / "warm").string()}), 0u) << "frames are added once";
  EXPECT_EQ(f.controller.AddFrames("nope", {(refs / "warm").string()}), 0u);
  EXPECT_TRUE(f.controller.modified());
  ASSERT_TRUE(f.controller.Extract({}));
  EXPECT_TRUE(f.controller.JobRunning());
  EXPECT_FALSE(f.controller.Extract({})) << "one job at a time";
  ASSERT_TRUE(f.Wait());
  ASSERT_TRUE(f.controller.LastJobOk()) << f.controller.LastJobMessage();
  const PaletteGroup* g = f.controller.palettes().Find("warm");
  ASSERT_TRUE(g->extracted());
  EXPECT_EQ(g->pixels, 2 * 40 * 50);
  // More frames make the colours stale; renaming keeps them.
  f.controller.AddFrames("warm", {(refs / "cold" / "f1.png").string()});
  EXPECT_FALSE(f.controller.palettes().Find("warm")->extracted());
  EXPECT_TRUE(f.controller.RenameGroup("warm", "sunny"));
  EXPECT_EQ(f.controller.NewGroupName(), "group_2");
  EXPECT_EQ(f.controller.RemoveFrames("sunny", {(refs / "cold" / "f1.png").string()}), 1u);
  EXPECT_TRUE(f.controller.RemoveGroup("sunny"));
  EXPECT_TRUE(f.controller.palettes().groups.empty());
}

TEST(PaletteController, SuggestsGroupsThatCanBeAccepted) {
  const fs::path refs = References();
  Fixture f;
  f.controller.AddGroup("all");
  f.controller.AddFrames("all", {refs.string()});
  const std::vector<std::string> frames = f.controller.palettes().Find("all")->frames;
  EXPECT_FALSE(f.controller.Suggest({frames[0]}, 2, 1)) << "one frame cannot be split";
  ASSERT_TRUE(f.controller.Suggest(frames, 2, 1, "all"));
  ASSERT_TRUE(f.Wait());
  ASSERT_EQ(f.controller.suggestion().groups.size(), 2u) << f.controller.LastError();
  for (const auto& g : f.controller.suggestion().groups)
    EXPECT_EQ(fs::path(g.frames[0]).parent_path(), fs::path(g.frames[1]).parent_path()) << "one style per group";
  f.controller.AcceptSuggestion();
  EXPECT_TRUE(f.controller.suggestion().groups.empty());
  EXPECT_EQ(f.controller.palettes().groups.size(), 2u) << "the source group is replaced by the suggestion";
  EXPECT_EQ(f.controller.palettes().Find("all"), nullptr);
}

TEST(PaletteController, PreviewsTheShownFrameAndAppliesWhatItPreviews) {
  const fs::path root = Dataset();
  Fixture f;
  f.controller.AddGroup("synth");
  f.controller.AddFrames("synth", {(root / "test/Frame_Anime/synth_001/original").string()});
  ASSERT_TRUE(f.controller.Extract({}));
  ASSERT_TRUE(f.Wait());
  f.controller.SetPreviewGroup("synth");
  f.controller.SetSeed(7);
  auto dataset = std::make_shared<const data::AnimeRunDataset>(data::AnimeRunDataset::Open(root));
  f.controller.SetDataset(dataset, root, "test");
  EXPECT_EQ(f.controller.SuggestedPassName(), "color_2");  // the first pass the cut lacks
  f.controller.SetCut("synth_000", 1);
  ASSERT_TRUE(f.Wait());
  ASSERT_FALSE(f.controller.PreviewRecoloured().empty()) << f.controller.PreviewInfo() << f.controller.LastError();
  const cv::Mat original = io::ReadImageRgb(dataset->FindScene("synth_000")->frames[1]);
  EXPECT_EQ(cv::norm(f.controller.PreviewOriginal(), original, cv::NORM_INF), 0.0);
  // What core computes for the cut with these settings.
  const data::Scene& scene = *dataset->FindScene("synth_000");
  RecolorOptions o;
  o.split = "test";
  o.pass = "color_1";
  o.group = "synth";
  o.seed = 7;
  const ScenePlan plan = PlanRecolor(scene.name, CountSceneMaterials(scene, o), f.controller.palettes(), o);
  const cv::Mat mask = LineMask(original, LineFilesOfScene(scene)[1], o);
  EXPECT_EQ(cv::norm(f.controller.PreviewRecoloured(), RecolorFrame(original, mask, plan.map), cv::NORM_INF), 0.0);
  const cv::Mat seed7 = f.controller.PreviewRecoloured().clone();
  f.controller.SetSeed(8);
  EXPECT_GT(cv::norm(f.controller.PreviewRecoloured(), seed7, cv::NORM_INF), 0.0) << "another seed, another draw";
  f.controller.SetSeed(7);

  // Apply writes the previewed frame.
  ASSERT_TRUE(f.controller.Apply(false, "color_2", false));
  ASSERT_TRUE(f.Wait());
  ASSERT_TRUE(f.controller.LastJobOk()) << f.controller.LastError();
  EXPECT_TRUE(f.Saw(PaletteController::Event::kPassWritten));
  EXPECT_EQ(f.controller.WrittenScenes(), std::vector<std::string>{"synth_000"});
  const cv::Mat written = io::ReadImageRgb(root / "test/Frame_Anime/synth_000/color_2" / scene.frames[1].filename());
  EXPECT_EQ(cv::norm(written, f.controller.PreviewRecoloured(), cv::NORM_INF), 0.0);
  EXPECT_FALSE(fs::exists(root / "test/Frame_Anime/synth_001/color_2"));
  ASSERT_TRUE(f.controller.Apply(false, "color_2", false));  // exists: refused by the job
  ASSERT_TRUE(f.Wait());
  EXPECT_NE(f.controller.LastError().find("--overwrite"), std::string::npos) << f.controller.LastError();
  EXPECT_FALSE(f.controller.Apply(false, "colour_9", false)) << "a bad pass name is refused at once";
}

TEST(PaletteController, UsesTheSessionsFrameWhenItShowsTheOriginalPass) {
  const fs::path root = Dataset();
  Fixture f;
  f.controller.AddGroup("g");
  f.controller.AddFrames("g", {(root / "test/Frame_Anime/synth_000/original").string()});
  ASSERT_TRUE(f.controller.Extract({}));
  ASSERT_TRUE(f.Wait());
  f.controller.SetPreviewGroup("g");
  auto dataset = std::make_shared<const data::AnimeRunDataset>(data::AnimeRunDataset::Open(root));
  f.controller.SetDataset(dataset, root, "test");
  // The session's pair, pixels changed in memory: the preview shows them, not the file.
  auto shown = std::make_shared<data::PairData>(data::LoadPair(dataset->FindScene("synth_001")->pairs[0]));
  cv::rectangle(shown->image1, {0, 0}, {20, 20}, cv::Scalar(1, 2, 3), cv::FILLED);
  f.controller.SetCut("synth_001", 0, shown, "original");
  ASSERT_TRUE(f.Wait());
  EXPECT_EQ(cv::norm(f.controller.PreviewOriginal(), shown->image1, cv::NORM_INF), 0.0);
  // Showing another pass: the preview reads the original pass.
  f.controller.SetCut("synth_001", 1, shown, "color_1");
  ASSERT_TRUE(f.Wait());
  const cv::Mat file = io::ReadImageRgb(root / "test/Frame_Anime/synth_001/original" /
                                        dataset->FindScene("synth_001")->frames[1].filename());
  EXPECT_EQ(cv::norm(f.controller.PreviewOriginal(), file, cv::NORM_INF), 0.0);
}

TEST(PaletteController, OpensThePaletteFileBesideTheDatasetOnlyWhenNothingIsOpen) {
  const fs::path dir = test::ScratchDir("beside");
  PaletteFile file;
  PaletteGroup g;
  g.name = "house";
  file.groups.push_back(g);
  SavePalettes(dir / "palettes.json", file);
  Fixture f;
  EXPECT_TRUE(f.controller.LoadBeside(dir));
  EXPECT_EQ(f.controller.palettes().groups.size(), 1u);
  EXPECT_EQ(f.controller.path(), (dir / "palettes.json").string());
  Fixture edited;
  edited.controller.AddGroup("mine");
  EXPECT_FALSE(edited.controller.LoadBeside(dir)) << "an edited palette is never replaced";
  EXPECT_EQ(edited.controller.palettes().groups[0].name, "mine");
  EXPECT_FALSE(Fixture().controller.LoadBeside(test::ScratchDir("none")));
}

}  // namespace
}  // namespace animerun::palette
