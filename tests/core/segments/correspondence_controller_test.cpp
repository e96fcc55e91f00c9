// The correspondence controller without a display: opening a pair (ground truth, saved
// edits, a corrupt file kept aside), selection and the review queue, edits and their
// files, a matcher on a worker, and the drawn frames.
#include <gtest/gtest.h>

#include "core/data/synth.h"
#include "core/io/match_json.h"
#include "core/segments/correspondence_controller.h"
#include "core/util/fs.h"
#include "test_paths.h"

namespace animerun::segments {
namespace {

namespace fs = std::filesystem;

struct Data {
  fs::path split;
  data::FramePair pair;
  std::shared_ptr<const data::PairData> data;
};

Data MakeData() {
  const fs::path root = test::ScratchDir("data");
  data::SynthOptions o;
  o.scenes = 1;
  o.frames = 3;
  o.width = 160;
  o.height = 96;
  o.color_passes = 0;
  data::GenerateSynthDataset(root, o);
  const auto ds = data::AnimeRunDataset::Open(root);
  Data d;
  d.split = ds.root();
  d.pair = ds.scenes()[0].pairs[0];
  d.data = std::make_shared<const data::PairData>(data::LoadPair(d.pair));
  return d;
}

struct Fixture {
  CallQueue queue;
  CorrespondenceController controller{queue.Poster()};
  Fixture() { controller.SetFallbackDir(test::ScratchDir("user_data")); }
  bool Wait() { return queue.RunUntil([&] { return !controller.Busy(); }, 60000); }
};

TEST(CorrespondenceController, EditsSaveToTheAnnotationTreeAndReopen) {
  const Data d = MakeData();
  std::vector<int> edited;
  {
    Fixture f;
    f.controller.SetPair(d.split, d.pair, d.data);
    ASSERT_TRUE(f.controller.HasSession()) << f.controller.LastError();
    EXPECT_EQ(f.controller.session().proposal().source, "gt");
    EXPECT_EQ(f.controller.files().matches,
              d.split / "Annotations/SegMatching" / d.pair.scene / "forward" / (d.pair.name1 + ".json"));
    int before = 0;
    EXPECT_FALSE(f.controller.PrepareEdit(-1, 0, &before)) << "nothing selected";
    const int s = 0, target = d.data->match_forward[0] == 1 ? 2 : 1;
    ASSERT_TRUE(f.controller.PrepareEdit(s, target, &before));
    EXPECT_EQ(before, d.data->match_forward[0]);
    EXPECT_FALSE(f.controller.PrepareEdit(s, 100000, &before)) << "not a segment of t+1";
    EXPECT_NE(f.controller.LastError().find("is not in frame t+1"), std::string::npos);
    f.controller.Edit(s, target);
    EXPECT_EQ(f.controller.selected(), s);
    EXPECT_TRUE(f.controller.Dirty());
    ASSERT_FALSE(f.controller.PrepareEdit(s, target, &before)) << "the same match again changes nothing";
    ASSERT_TRUE(f.controller.Save());
    EXPECT_FALSE(f.controller.Dirty());
    edited = f.controller.session().matches();
    EXPECT_EQ(io::ReadMatchJson(f.controller.files().matches), edited);
    f.controller.Edit(1, -1);  // pending when the controller goes: saved by its destructor
    edited = f.controller.session().matches();
  }
  Fixture again;
  again.controller.SetPair(d.split, d.pair, d.data);
  EXPECT_EQ(again.controller.session().matches(), edited);
  EXPECT_NE(again.controller.Status().find("Restored 2 edit(s)"), std::string::npos) << again.controller.Status();
}

TEST(CorrespondenceController, ACorruptFileIsKeptAsideAndTheGroundTruthShown) {
  const Data d = MakeData();
  const fs::path file = d.split / "Annotations/SegMatching" / d.pair.scene / "forward" / (d.pair.name1 + ".json");
  WriteFileAtomic(file, std::string("{\"0\": [3"));
  Fixture f;
  f.controller.SetPair(d.split, d.pair, d.data);
  ASSERT_TRUE(f.controller.HasSession());
  EXPECT_NE(f.controller.LastError().find(file.string()), std::string::npos) << f.controller.LastError();
  EXPECT_NE(f.controller.LastError().find("ground truth"), std::string::npos);
  EXPECT_EQ(ReadFileText(fs::path(file.string() + ".corrupt")), "{\"0\": [3");
  EXPECT_EQ(f.controller.session().matches(), d.data->match_forward);
}

TEST(CorrespondenceController, QueueMatcherAndDrawing) {
  const Data d = MakeData();
  Fixture f;
  f.controller.SetPair(d.split, d.pair, d.data);
  bool finished = false;
  f.controller.Observe([&](CorrespondenceController::Event e) {
    finished = finished || e == CorrespondenceController::Event::kMatcherFinished;
  });
  f.controller.RunMatcher("geometric");
  EXPECT_TRUE(f.controller.Busy());
  ASSERT_TRUE(f.Wait());
  ASSERT_TRUE(finished);
  ASSERT_TRUE(f.controller.LastMatcherOk()) << f.controller.LastMatcherMessage();
  const AnnotationSession& s = f.controller.session();
  EXPECT_EQ(s.proposal().source, "geometric");
  ASSERT_EQ(f.controller.queue_size(), s.NumSegments0());
  float last = -1.f;
  for (int k = 0; k < f.controller.queue_size(); ++k) {
    f.controller.NextInQueue();
    EXPECT_EQ(f.controller.queue_position(), k);
    EXPECT_GE(s.Confidence(f.controller.selected()), last);
    last = s.Confidence(f.controller.selected());
  }
  f.controller.NextInQueue();
  EXPECT_EQ(f.controller.queue_position(), 0) << "wraps";
  f.controller.PrevInQueue();
  EXPECT_EQ(f.controller.queue_position(), f.controller.queue_size() - 1);

  // Drawn frames: the selection is highlighted where it lies.
  f.controller.Select(-1);
  const cv::Mat plain = f.controller.Render(0);
  f.controller.Select(0);
  const cv::Mat selected = f.controller.Render(0);
  ASSERT_EQ(plain.size(), cv::Size(160, 96));
  const cv::Rect box = f.controller.SegmentBounds(0, 0);
  ASSERT_GT(box.area(), 0);
  EXPECT_GT(cv::norm(plain(box), selected(box), cv::NORM_INF), 0.0);
  cv::Point inside(-1, -1);
  for (int y = box.y; y < box.br().y && inside.x < 0; ++y)
    for (int x = box.x; x < box.br().x && inside.x < 0; ++x)
      if (d.data->segment1.at<int>(y, x) == 0) inside = {x, y};
  EXPECT_EQ(f.controller.SegmentAt(0, inside), 0);
  EXPECT_EQ(f.controller.SegmentAt(0, {-3, 5}), -1);
  MatcherOptions missing;  // an AnT checkpoint that is not there: an error, reported
  missing.weights = (test::ScratchDir("no_weights") / "missing.pth").string();
  f.controller.RunMatcher("ant", missing);
  ASSERT_TRUE(f.Wait());
  EXPECT_FALSE(f.controller.LastMatcherOk());
  EXPECT_NE(f.controller.LastError().find("missing.pth"), std::string::npos) << f.controller.LastError();
  f.controller.RunMatcher("gt");
  EXPECT_TRUE(f.controller.LastMatcherOk());
  EXPECT_EQ(s.proposal().source, "gt");
}

TEST(CorrespondenceController, APairWithoutSegmentMapsHasNoSession) {
  const Data d = MakeData();
  auto bare = std::make_shared<data::PairData>(*d.data);
  bare->segment2 = cv::Mat();
  Fixture f;
  f.controller.SetPair(d.split, d.pair, bare);
  EXPECT_FALSE(f.controller.HasSession());
  EXPECT_NE(f.controller.Message().find("no segment maps"), std::string::npos);
  EXPECT_TRUE(f.controller.Render(0).empty());
  f.controller.RunMatcher("gt");
  EXPECT_FALSE(f.controller.LastMatcherOk());
}

}  // namespace
}  // namespace animerun::segments
