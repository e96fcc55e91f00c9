// The colorization controller without a display: propagation on a worker equal to what the
// CLI writes, paint-bucket overrides carried forward by re-propagation, a propagation
// asked for during one (restart), the flipbook position, export, and a dataset cut.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/colorize/colorize_controller.h"
#include "core/data/animerun_dataset.h"
#include "core/data/synth.h"
#include "core/io/image_io.h"
#include "core/segments/geometric_matcher.h"
#include "core/util/fs.h"
#include "test_paths.h"

namespace animerun::colorize {
namespace {

namespace fs = std::filesystem;

struct Seq {
  fs::path root, key, seg, contour;
};

Seq MakeSequence() {
  const fs::path root = test::ScratchDir("data");
  data::SynthOptions o;
  o.scenes = 1;
  o.frames = 4;
  o.width = 160;
  o.height = 96;
  o.color_passes = 0;
  o.motion_scale = 0.3;
  data::GenerateSynthDataset(root, o);
  const fs::path split = root / "test";
  return {root, split / "Frame_Anime/synth_000/original/Image0000.png", split / "Segment/synth_000/Image0000.npy",
          split / "contour/synth_000"};
}

cv::Point PixelOf(const ColourState& s, int id) {
  for (int y = 0; y < s.labels.rows; ++y)
    for (int x = 0; x < s.labels.cols; ++x)
      if (s.labels.at<int>(y, x) == id && !s.line.at<uchar>(y, x)) return {x, y};
  return {-1, -1};
}

struct Fixture {
  CallQueue queue;
  ColorizeController controller{queue.Poster()};
  int propagated = 0, exported = 0, results = 0;
  Fixture() {
    controller.Observe([this](ColorizeController::Event e) {
      propagated += e == ColorizeController::Event::kPropagated;
      exported += e == ColorizeController::Event::kExported;
      results += e == ColorizeController::Event::kResults;
    });
  }
  bool Wait() { return queue.RunUntil([&] { return !controller.Busy(); }, 120000); }
};

TEST(ColorizeController, PropagatesAsTheCliWritesAndCarriesPaintForward) {
  const Seq seq = MakeSequence();
  Fixture f;
  f.controller.SetSequence({seq.key}, {seq.seg}, seq.contour);  // auto-propagates, forward
  EXPECT_TRUE(f.controller.Busy());
  ASSERT_TRUE(f.Wait());
  ASSERT_EQ(f.propagated, 1);
  ASSERT_TRUE(f.controller.LastOk()) << f.controller.LastError();
  ASSERT_EQ(f.controller.FrameCount(), 4);
  EXPECT_EQ(f.controller.Options().mode, "forward");
  const fs::path core_out = test::ScratchDir("core_out");
  ColorizeOptions o = f.controller.Options();
  o.out = core_out;
  segments::GeometricMatcher m;
  Colorize(o, m);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(cv::norm(f.controller.RenderFrame(i), io::ReadImageRgb(core_out / ("Image000" + std::to_string(i) + ".png")),
                       cv::NORM_INF),
              0.0)
        << i;

  // Flipbook position wraps.
  f.controller.Step(-1);
  EXPECT_EQ(f.controller.current(), 3);
  f.controller.Step(2);
  EXPECT_EQ(f.controller.current(), 1);

  // Paint frame 1's segment 0: shown at once, then carried to frame 2 by re-propagation.
  const cv::Vec3b paint(20, 200, 90);
  const ColourState before = f.controller.Frame(1)->state;
  const cv::Point p = PixelOf(before, 0);
  ASSERT_EQ(f.controller.PaintAt(p, paint), 0);
  EXPECT_EQ(f.controller.PaintedFrame(), 1);
  EXPECT_EQ(f.controller.RenderFrame(1).at<cv::Vec3b>(p.y, p.x), paint);
  EXPECT_TRUE(f.controller.Busy());
  ASSERT_TRUE(f.Wait());
  int carried = 0;
  const FrameOutcome* f2 = f.controller.Frame(2);
  for (size_t i = 0; i < f2->match.matches.size(); ++i)
    if (f2->match.matches[i] == 0) {
      ++carried;
      EXPECT_EQ(f2->state.colours[i], paint);
    }
  EXPECT_GT(carried, 0);
  EXPECT_NE(f.controller.Frame(0)->state.colours[0], paint) << "a frame before the painted one changed";
  EXPECT_EQ(f.controller.overrides().at("Image0001.png").at(0), paint);
  EXPECT_EQ(f.controller.PaintAt({-1, -1}, paint), -1);

  // Two requests while one runs: it restarts once, and the last settings win.
  f.propagated = 0;
  f.controller.SetMode("nearest");
  f.controller.Propagate();
  ASSERT_TRUE(f.Wait());
  EXPECT_EQ(f.propagated, 1);
  EXPECT_EQ(f.controller.Options().mode, "nearest");
  EXPECT_EQ(f.controller.Frame(1)->state.colours[0], paint) << "the override survived";

  // Export writes the frames and records the override.
  const fs::path out = test::ScratchDir("export");
  ASSERT_TRUE(f.controller.ExportTo(out));
  EXPECT_FALSE(f.controller.ExportTo(out)) << "busy";
  ASSERT_TRUE(f.Wait());
  EXPECT_EQ(f.exported, 1);
  for (int i = 0; i < 4; ++i) {
    const std::string stem = "Image000" + std::to_string(i);
    EXPECT_EQ(cv::norm(io::ReadImageRgb(out / (stem + ".png")), f.controller.RenderFrame(i), cv::NORM_INF), 0.0);
  }
  EXPECT_EQ(nlohmann::json::parse(ReadFileText(out / "Image0001.json"))["overridden"], nlohmann::json::array({0}));
  f.controller.ClearOverrides();
  ASSERT_TRUE(f.Wait());
  EXPECT_TRUE(f.controller.overrides().empty());
}

TEST(ColorizeController, FollowsADatasetCutAndReportsCutsWithoutLineArt) {
  const Seq seq = MakeSequence();
  const auto ds = data::AnimeRunDataset::Open(seq.root);
  Fixture f;
  ASSERT_TRUE(f.controller.SetScene(ds.scenes()[0]));
  ASSERT_TRUE(f.Wait());
  EXPECT_EQ(f.controller.Options().refs, std::vector<fs::path>{ds.scenes()[0].frames[0]});
  const int results = f.results;
  EXPECT_TRUE(f.controller.SetScene(ds.scenes()[0])) << "the same cut";
  EXPECT_EQ(f.results, results) << "the same cut keeps its results";
  data::Scene bare = ds.scenes()[0];
  for (auto& p : bare.pairs) p.contour1.clear();
  EXPECT_FALSE(f.controller.SetScene(bare));
  EXPECT_NE(f.controller.LastError().find("no line art"), std::string::npos);
  f.controller.Clear();
  EXPECT_FALSE(f.controller.HasSequence());
  EXPECT_EQ(f.controller.FrameCount(), 0);
  // A missing folder is an error, not a throw.
  f.controller.SetSequence({seq.key}, {}, seq.root / "missing");
  ASSERT_TRUE(f.Wait());
  EXPECT_NE(f.controller.LastError().find("missing"), std::string::npos) << f.controller.LastError();
}

TEST(ColorizeController, MatcherChoicesComeFromTheNetworks) {
  const auto choices = ColorizeController::MatcherChoices();
  EXPECT_EQ(choices.front(), "geometric");
  EXPECT_NE(std::find(choices.begin(), choices.end(), "flow:gmflow-refine"), choices.end());
  Fixture f;
  f.controller.SetMatcherChoice("flow:pwcnet", "/w/pwc.pytorch");
  EXPECT_EQ(f.controller.Options().matcher, "flow");
  ASSERT_TRUE(f.controller.Options().matcher_options.flow_model);
  EXPECT_EQ(f.controller.Options().matcher_options.flow_model->iters, 12);
  EXPECT_EQ(f.controller.MatcherChoice(), "flow:pwcnet");
  EXPECT_EQ(f.controller.MatcherWeights(), "/w/pwc.pytorch");
  f.controller.SetMatcherChoice("ant", "/w/ant.pt");
  EXPECT_EQ(f.controller.MatcherChoice(), "ant");
  EXPECT_EQ(f.controller.Options().matcher_options.weights, "/w/ant.pt");
}

}  // namespace
}  // namespace animerun::colorize
