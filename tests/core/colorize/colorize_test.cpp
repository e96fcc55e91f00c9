#include "core/colorize/colorize.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "core/data/synth.h"
#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/segments/flow_matcher.h"
#include "core/segments/geometric_matcher.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "test_paths.h"

namespace animerun::colorize {
namespace {

namespace fs = std::filesystem;

// One synthetic scene: key = first `original` frame + its Segment map, line art = contour/.
struct Scene {
  fs::path split, original, contour, segment, flow;
  int frames = 0;
  fs::path Frame(int i) const { return original / Stem(i, ".png"); }
  fs::path Seg(int i) const { return segment / Stem(i, ".npy"); }
  static std::string Stem(int i, const std::string& ext) {
    char b[32];
    std::snprintf(b, sizeof b, "Image%04d%s", i, ext.c_str());
    return b;
  }
};

Scene MakeScene(const std::string& name, int frames = 5, double motion = 0.3, cv::Size size = {192, 128}) {
  const fs::path root = test::ScratchDir(name);
  data::SynthOptions so;
  so.scenes = 1;
  so.frames = frames;
  so.width = size.width;
  so.height = size.height;
  so.color_passes = 0;
  so.motion_scale = motion;
  data::GenerateSynthDataset(root, so);
  Scene s;
  s.split = root / "test";
  s.original = s.split / "Frame_Anime" / "synth_000" / "original";
  s.contour = s.split / "contour" / "synth_000";
  s.segment = s.split / "Segment" / "synth_000";
  s.flow = s.split / "Flow" / "synth_000";
  s.frames = frames;
  return s;
}

ColorizeOptions BaseOptions(const Scene& s, const fs::path& out, const std::string& mode) {
  ColorizeOptions o;
  o.refs = {s.Frame(0)};
  o.ref_segs = {s.Seg(0)};
  o.frames = s.contour;
  o.out = out;
  o.mode = mode;
  return o;
}

// Share of non-line pixels (lines of the line art) whose output colour equals the
// `original` frame's, over all frames.
double ColourAccuracy(const Scene& s, const fs::path& out) {
  int64_t good = 0, total = 0;
  for (int i = 0; i < s.frames; ++i) {
    const cv::Mat got = io::ReadImageRgb(out / Scene::Stem(i, ".png"));
    const cv::Mat want = io::ReadImageRgb(s.Frame(i));
    const cv::Mat line = segments::DetectLines(io::ReadImageRgb(s.contour / Scene::Stem(i, ".png")), 64);
    for (int y = 0; y < got.rows; ++y)
      for (int x = 0; x < got.cols; ++x) {
        if (line.at<uchar>(y, x)) continue;
        ++total;
        good += got.at<cv::Vec3b>(y, x) == want.at<cv::Vec3b>(y, x);
      }
  }
  return total ? static_cast<double>(good) / total : 0.0;
}

// Flow-guided matching with the generator's exact flow: the test stands in for a flow
// network (the golden weights are random). It recognises the frames by their label maps
// (segmenting the contour reproduces the Segment maps) and chains the consecutive flows.
class GtFlowMatcher : public segments::SegmentMatcher {
 public:
  explicit GtFlowMatcher(const Scene& s) {
    for (int i = 0; i < s.frames; ++i) labels_.push_back(io::ReadNpyLabels(s.Seg(i)));
    const auto fw = ListFiles(s.flow / "forward", {".flo"});
    const auto bw = ListFiles(s.flow / "backward", {".flo"});
    for (const auto& p : fw) forward_.push_back(io::ReadFlo(p));   // k -> k+1
    for (const auto& p : bw) backward_.push_back(io::ReadFlo(p));  // k+1 -> k
  }
  std::string name() const override { return "flow"; }
  segments::MatchResult Match(const segments::MatchInput& in) override {
    const int a = Identify(in.labels0), b = Identify(in.labels1);
    return segments::MatchByFlow(in.labels0, in.labels1, Chain(a, b), in.image0, in.image1, {});
  }

 private:
  int Identify(const cv::Mat& labels) const {
    int best = -1;
    int64_t best_same = -1;
    for (size_t i = 0; i < labels_.size(); ++i) {
      const int64_t same = static_cast<int64_t>(labels.total()) - cv::countNonZero(labels != labels_[i]);
      if (same > best_same) best_same = same, best = static_cast<int>(i);
    }
    return best;
  }
  // Flow a -> b: f(p) = step(p) + rest(p + step(p)).
  cv::Mat Chain(int a, int b) const {
    const cv::Size size = labels_[0].size();
    cv::Mat f(size, CV_32FC2, cv::Scalar(0, 0));
    int at = a;
    cv::Mat map(size, CV_32FC2);
    while (at != b) {
      const cv::Mat& step = at > b ? backward_[static_cast<size_t>(at - 1)] : forward_[static_cast<size_t>(at)];
      for (int y = 0; y < size.height; ++y)
        for (int x = 0; x < size.width; ++x) {
          const auto d = f.at<cv::Vec2f>(y, x);
          map.at<cv::Vec2f>(y, x) = cv::Vec2f(static_cast<float>(x) + d[0], static_cast<float>(y) + d[1]);
        }
      cv::Mat moved;
      cv::remap(step, moved, map, cv::noArray(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
      f += moved;
      at += at > b ? -1 : 1;
    }
    return f;
  }
  std::vector<cv::Mat> labels_, forward_, backward_;
};

// Wraps a matcher and drops the matches of every odd segment (unfilled reporting).
class DropOddMatcher : public segments::SegmentMatcher {
 public:
  std::string name() const override { return "drop-odd"; }
  segments::MatchResult Match(const segments::MatchInput& in) override {
    segments::MatchResult r = inner_.Match(in);
    for (size_t i = 1; i < r.matches.size(); i += 2) r.matches[i] = -1;
    return r;
  }

 private:
  segments::GeometricMatcher inner_;
};

nlohmann::json ReadJson(const fs::path& p) { return nlohmann::json::parse(ReadFileText(p)); }

TEST(Colorize, GeometricMatcherColoursBothModes) {
  const Scene s = MakeScene("scene");
  for (const std::string mode : {"forward", "nearest"}) {
    segments::GeometricMatcher m;
    const fs::path out = test::ScratchDir("out_" + mode);
    const ColorizeResult r = Colorize(BaseOptions(s, out, mode), m);
    ASSERT_EQ(r.frames.size(), 5u);
    const double acc = ColourAccuracy(s, out);
    std::printf("geometric %s: colour accuracy %.4f, %lld unfilled segments\n", mode.c_str(), acc,
                static_cast<long long>(r.total_unfilled));
    RecordProperty("accuracy_geometric_" + mode, std::to_string(acc));
    EXPECT_GT(acc, 0.95) << mode;
  }
}

TEST(Colorize, FlowMatcherColoursBothModes) {
  const Scene s = MakeScene("scene");
  for (const std::string mode : {"forward", "nearest"}) {
    GtFlowMatcher m(s);
    const fs::path out = test::ScratchDir("out_" + mode);
    const ColorizeResult r = Colorize(BaseOptions(s, out, mode), m);
    const double acc = ColourAccuracy(s, out);
    std::printf("flow %s: colour accuracy %.4f, %lld unfilled segments\n", mode.c_str(), acc,
                static_cast<long long>(r.total_unfilled));
    RecordProperty("accuracy_flow_" + mode, std::to_string(acc));
    EXPECT_GT(acc, 0.95) << mode;
  }
}

// Measurement at AnimeRun-like size and motion (slow: run with
// --gtest_also_run_disabled_tests --gtest_filter=*Measure*). Prints the accuracies.
TEST(Colorize, DISABLED_MeasureAtFullSize) {
  const Scene s = MakeScene("scene", 6, 1.0, {960, 540});
  for (const std::string matcher : {"geometric", "flow"})
    for (const std::string mode : {"forward", "nearest"}) {
      std::unique_ptr<segments::SegmentMatcher> m;
      if (matcher == "flow") m = std::make_unique<GtFlowMatcher>(s);
      else m = std::make_unique<segments::GeometricMatcher>();
      const fs::path out = test::ScratchDir("out_" + matcher + "_" + mode);
      const ColorizeResult r = Colorize(BaseOptions(s, out, mode), *m);
      std::printf("960x540, 6 frames, %s %s: colour accuracy %.4f, %lld unfilled segments\n", matcher.c_str(),
                  mode.c_str(), ColourAccuracy(s, out), static_cast<long long>(r.total_unfilled));
    }
}

TEST(Colorize, FirstFrameFromItsOwnKeyIsExact) {
  // Key and frame 0 are the same picture: every non-line pixel must come back exactly.
  const Scene s = MakeScene("scene", 2);
  segments::GeometricMatcher m;
  const fs::path out = test::ScratchDir("out");
  Colorize(BaseOptions(s, out, "nearest"), m);
  const cv::Mat got = io::ReadImageRgb(out / "Image0000.png");
  const cv::Mat want = io::ReadImageRgb(s.Frame(0));
  const cv::Mat line = segments::DetectLines(io::ReadImageRgb(s.contour / "Image0000.png"), 64);
  int wrong = 0;
  for (int y = 0; y < got.rows; ++y)
    for (int x = 0; x < got.cols; ++x) wrong += !line.at<uchar>(y, x) && got.at<cv::Vec3b>(y, x) != want.at<cv::Vec3b>(y, x);
  EXPECT_EQ(wrong, 0);
}

TEST(Colorize, ReportsUnfilledSegmentsAndDrawsThemInTheUnfilledColour) {
  const Scene s = MakeScene("scene", 3);
  DropOddMatcher m;
  const fs::path out = test::ScratchDir("out");
  ColorizeOptions o = BaseOptions(s, out, "nearest");
  o.unfilled = cv::Vec3b(1, 2, 3);
  const ColorizeResult r = Colorize(o, m);
  int64_t sum = 0;
  for (const FrameResult& f : r.frames) {
    // Every odd segment at least (the geometric matcher leaves a few others unmatched).
    EXPECT_GE(f.num_unfilled, f.num_segments / 2) << f.name;
    sum += f.num_unfilled;
    const nlohmann::json j = ReadJson(f.json);
    EXPECT_EQ(j["num_unfilled"].get<int>(), f.num_unfilled);
    int nulls = 0;
    for (int i = 0; i < f.num_segments; ++i) {
      const bool null = j["colours"][std::to_string(i)].is_null();
      nulls += null;
      if (i % 2) EXPECT_TRUE(null) << f.name << " segment " << i;
    }
    EXPECT_EQ(nulls, f.num_unfilled);
    EXPECT_FALSE(j["colours"]["0"].is_null());
    EXPECT_EQ(j["unfilled_colour"], nlohmann::json({1, 2, 3}));
    // Segment 1's non-line pixels are drawn in the unfilled colour.
    const cv::Mat img = io::ReadImageRgb(f.image);
    const cv::Mat labels = segments::SegmentImage(io::ReadImageRgb(s.contour / f.name));
    const cv::Mat line = segments::DetectLines(io::ReadImageRgb(s.contour / f.name), 64);
    int seen = 0;
    for (int y = 0; y < img.rows; ++y)
      for (int x = 0; x < img.cols; ++x)
        if (labels.at<int>(y, x) == 1 && !line.at<uchar>(y, x)) {
          ++seen;
          ASSERT_EQ(img.at<cv::Vec3b>(y, x), cv::Vec3b(1, 2, 3));
        }
    EXPECT_GT(seen, 0);
  }
  EXPECT_GT(sum, 0);
  EXPECT_EQ(r.total_unfilled, sum);
}

TEST(Colorize, KeepOrRemoveLines) {
  const Scene s = MakeScene("scene", 2);
  segments::GeometricMatcher m;
  const fs::path keep = test::ScratchDir("keep"), drop = test::ScratchDir("drop");
  ColorizeOptions o = BaseOptions(s, keep, "nearest");
  Colorize(o, m);
  o.out = drop;
  o.keep_lines = false;
  Colorize(o, m);
  const cv::Mat art = io::ReadImageRgb(s.contour / "Image0001.png");
  const cv::Mat line = segments::DetectLines(art, 64);
  const cv::Mat k = io::ReadImageRgb(keep / "Image0001.png"), d = io::ReadImageRgb(drop / "Image0001.png");
  ASSERT_GT(cv::countNonZero(line), 0);
  for (int y = 0; y < art.rows; ++y)
    for (int x = 0; x < art.cols; ++x) {
      if (line.at<uchar>(y, x)) {
        ASSERT_EQ(k.at<cv::Vec3b>(y, x), art.at<cv::Vec3b>(y, x));  // the frame's own line pixel
        const auto c = d.at<cv::Vec3b>(y, x);
        ASSERT_GE(std::max({c[0], c[1], c[2]}), 64) << "a line survived at " << x << "," << y;
      } else {
        ASSERT_EQ(k.at<cv::Vec3b>(y, x), d.at<cv::Vec3b>(y, x));  // fills agree
      }
    }
}

TEST(Colorize, JsonRecordsSourcesColoursAndMatches) {
  const Scene s = MakeScene("scene", 3);
  segments::GeometricMatcher m;
  const fs::path out = test::ScratchDir("out");
  const ColorizeResult r = Colorize(BaseOptions(s, out, "forward"), m);
  const nlohmann::json j0 = ReadJson(out / "Image0000.json"), j2 = ReadJson(out / "Image0002.json");
  EXPECT_EQ(j0["frame"], "Image0000.png");
  EXPECT_EQ(j0["source"], "Image0000.png");
  EXPECT_TRUE(j0["source_is_key"].get<bool>());
  EXPECT_EQ(j2["source"], "Image0001.png");  // forward: the chain's previous frame
  EXPECT_FALSE(j2["source_is_key"].get<bool>());
  EXPECT_EQ(j2["matcher"], "geometric");
  EXPECT_EQ(j2["mode"], "forward");
  EXPECT_EQ(r.frames[2].source, "Image0001.png");
  // Frame 0's colours are the key's dominant colours through its matches.
  const ColourState key =
      MakeKeyState("k", io::ReadImageRgb(s.Frame(0)), io::ReadNpyLabels(s.Seg(0)), segments::SegmentationOptions{});
  const int n = j0["num_segments"].get<int>();
  ASSERT_EQ(static_cast<int>(j0["colours"].size()), n);
  for (int i = 0; i < n; ++i) {
    const std::string id = std::to_string(i);
    const int src = j0["matches"][id].get<int>();
    if (src < 0) continue;
    const auto c = key.colours[static_cast<size_t>(src)];
    EXPECT_EQ(j0["colours"][id], nlohmann::json({c[0], c[1], c[2]})) << id;
  }
  EXPECT_TRUE(j0["overridden"].empty());
}

TEST(Colorize, NearestKeyOwnsEachFrame) {
  const Scene s = MakeScene("scene", 5);
  segments::GeometricMatcher m;
  ColorizeOptions o = BaseOptions(s, test::ScratchDir("out"), "nearest");
  o.refs = {s.Frame(4), s.Frame(0)};  // order given does not matter; placement is by name
  o.ref_segs = {s.Seg(4), s.Seg(0)};
  const ColorizeResult r = Colorize(o, m);
  const std::vector<std::string> want = {"Image0000.png", "Image0000.png", "Image0000.png", "Image0004.png",
                                         "Image0004.png"};  // frame 2 ties: the earlier key
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.frames[static_cast<size_t>(i)].source, want[static_cast<size_t>(i)]) << i;
  o.mode = "forward";
  o.out = test::ScratchDir("fw");
  const ColorizeResult f = Colorize(o, m);
  EXPECT_EQ(f.frames[3].source, "Image0004.png");  // chained backwards from the later key
  EXPECT_FALSE(f.frames[3].source_is_key);
  EXPECT_EQ(f.frames[2].source, "Image0001.png");
}

// Colour of segment id's non-line pixels in an output image (all must agree).
cv::Vec3b SegmentColour(const fs::path& out_png, const fs::path& lineart, int id) {
  const cv::Mat img = io::ReadImageRgb(out_png), art = io::ReadImageRgb(lineart);
  const cv::Mat labels = segments::SegmentImage(art), line = segments::DetectLines(art, 64);
  std::optional<cv::Vec3b> c;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x)
      if (labels.at<int>(y, x) == id && !line.at<uchar>(y, x)) {
        if (!c) c = img.at<cv::Vec3b>(y, x);
        EXPECT_EQ(img.at<cv::Vec3b>(y, x), *c) << out_png << " segment " << id;
      }
  return c.value_or(cv::Vec3b(0, 0, 0));
}

TEST(ColorizeOverrides, FrameOverrideFollowsTheChainForwardOnly) {
  const Scene s = MakeScene("scene", 4);
  GtFlowMatcher m(s);
  const cv::Vec3b paint(12, 34, 56);
  // Segment 0 (the largest) of frame 1; with exact flow its continuation is segment 0's
  // match in frames 2 and 3.
  Overrides ov;
  ov["Image0001.png"][0] = paint;
  ColorizeOptions o = BaseOptions(s, test::ScratchDir("fw"), "forward");
  Colorize(o, m, nullptr, ov);
  EXPECT_EQ(SegmentColour(o.out / "Image0001.png", s.contour / "Image0001.png", 0), paint);
  const nlohmann::json j1 = ReadJson(o.out / "Image0001.json"), j2 = ReadJson(o.out / "Image0002.json");
  EXPECT_EQ(j1["overridden"], nlohmann::json::array({0}));
  EXPECT_TRUE(j2["overridden"].empty());
  // Frame 2: the segments matched to frame 1's segment 0 inherit the paint.
  int inherited = 0;
  for (auto& [id, src] : j2["matches"].items())
    if (src.get<int>() == 0) {
      ++inherited;
      EXPECT_EQ(j2["colours"][id], nlohmann::json({12, 34, 56})) << id;
    }
  EXPECT_GT(inherited, 0);
  // Frame 0 comes before the override in the chain: untouched.
  EXPECT_NE(SegmentColour(o.out / "Image0000.png", s.contour / "Image0000.png", 0), paint);

  // Nearest mode: only frame 1 changes.
  o.mode = "nearest";
  o.out = test::ScratchDir("nearest");
  Colorize(o, m, nullptr, ov);
  EXPECT_EQ(SegmentColour(o.out / "Image0001.png", s.contour / "Image0001.png", 0), paint);
  EXPECT_NE(SegmentColour(o.out / "Image0002.png", s.contour / "Image0002.png", 0), paint);
}

TEST(ColorizeOverrides, KeyOverrideReachesEveryFrameAndOverridesFillUnmatched) {
  const Scene s = MakeScene("scene", 3);
  DropOddMatcher m;
  const cv::Vec3b paint(7, 77, 177);
  Overrides ov;
  ov[KeyOverrideName("Image0000.png")][0] = paint;
  ov["Image0002.png"][1] = paint;   // odd: never matched, filled by the override
  ov["Image0002.png"][99999] = paint;  // stale id: ignored
  ColorizeOptions o = BaseOptions(s, test::ScratchDir("out"), "nearest");
  const ColorizeResult r = Colorize(o, m, nullptr, ov);
  for (int i = 0; i < 3; ++i) {
    const nlohmann::json j = ReadJson(o.out / Scene::Stem(i, ".json"));
    for (auto& [id, src] : j["matches"].items())
      if (src.get<int>() == 0) EXPECT_EQ(j["colours"][id], nlohmann::json({7, 77, 177})) << i << " " << id;
  }
  const nlohmann::json j2 = ReadJson(o.out / "Image0002.json");
  EXPECT_EQ(j2["colours"]["1"], nlohmann::json({7, 77, 177}));
  EXPECT_EQ(j2["num_unfilled"].get<int>(), r.frames[2].num_unfilled);
  EXPECT_EQ(SegmentColour(o.out / "Image0002.png", s.contour / "Image0002.png", 1), paint);
}

TEST(ColorizeOverrides, PropagateKeepsStatesAndApplyOverridesIgnoresBadIds) {
  const Scene s = MakeScene("scene", 3);
  segments::GeometricMatcher m;
  ColorizeOptions o = BaseOptions(s, "", "forward");
  std::vector<FrameOutcome> got;
  const auto keys = Propagate(o, m, {}, [&](FrameOutcome&& f) { got.push_back(std::move(f)); });
  ASSERT_EQ(keys.size(), 1u);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_FALSE(fs::exists(o.out));
  ColourState st = got[1].state;
  const int id = SegmentAt(st, {st.labels.cols / 2, st.labels.rows / 2});
  ASSERT_GE(id, 0);
  EXPECT_EQ(SegmentAt(st, {-1, 0}), -1);
  ApplyOverrides({{id, cv::Vec3b(1, 1, 1)}, {-5, cv::Vec3b(2, 2, 2)}}, st);
  EXPECT_EQ(st.colours[static_cast<size_t>(id)], cv::Vec3b(1, 1, 1));
  EXPECT_TRUE(st.overridden[static_cast<size_t>(id)]);
  const cv::Mat pic = RenderColourised(st, false, cv::Vec3b(255, 0, 255));
  EXPECT_EQ(pic.at<cv::Vec3b>(st.labels.rows / 2, st.labels.cols / 2), cv::Vec3b(1, 1, 1));
}

void ExpectErrorNaming(const ColorizeOptions& o, const std::string& needle) {
  segments::GeometricMatcher m;
  try {
    Colorize(o, m);
    ADD_FAILURE() << "no error; expected one naming " << needle;
  } catch (const Cancelled&) {
    ADD_FAILURE() << "cancelled";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(ColorizeErrors, BadInputsNameTheFile) {
  const Scene s = MakeScene("scene", 2);
  const fs::path scratch = test::ScratchDir("bad");
  ColorizeOptions o = BaseOptions(s, scratch / "out", "nearest");
  {
    ColorizeOptions b = o;
    b.frames = scratch / "missing_dir";
    ExpectErrorNaming(b, "missing_dir");
  }
  {
    ColorizeOptions b = o;
    b.refs = {scratch / "no_key.png"};
    ExpectErrorNaming(b, "no_key.png");
  }
  {
    fs::create_directories(scratch / "empty");
    ColorizeOptions b = o;
    b.frames = scratch / "empty";
    ExpectErrorNaming(b, "empty");
  }
  {  // key of another size
    cv::Mat small;
    cv::resize(io::ReadImageRgb(s.Frame(0)), small, cv::Size(96, 64), 0, 0, cv::INTER_NEAREST);
    io::WriteImage(scratch / "small_key.png", small);
    ColorizeOptions b = o;
    b.refs = {scratch / "small_key.png"};
    b.ref_segs.clear();
    ExpectErrorNaming(b, "small_key.png");
  }
  {  // a line-art frame of another size
    fs::copy(s.contour, scratch / "mixed");
    io::WriteImage(scratch / "mixed" / "Image0001.png", cv::Mat(10, 10, CV_8UC3, cv::Scalar(255, 255, 255)));
    ColorizeOptions b = o;
    b.frames = scratch / "mixed";
    ExpectErrorNaming(b, "Image0001.png");
  }
  {  // truncated and garbage npy
    const std::string bytes = ReadFileText(s.Seg(0));
    WriteFileAtomic(scratch / "trunc.npy", bytes.substr(0, bytes.size() / 2));
    WriteFileAtomic(scratch / "junk.npy", std::string("not a numpy file at all"));
    ColorizeOptions b = o;
    b.ref_segs = {scratch / "trunc.npy"};
    ExpectErrorNaming(b, "trunc.npy");
    b.ref_segs = {scratch / "junk.npy"};
    ExpectErrorNaming(b, "junk.npy");
  }
  {  // label map of another size
    io::WriteNpyMat(scratch / "small.npy", cv::Mat(8, 8, CV_32SC1, cv::Scalar(0)));
    ColorizeOptions b = o;
    b.ref_segs = {scratch / "small.npy"};
    ExpectErrorNaming(b, "small.npy");
  }
  {
    ColorizeOptions b = o;
    b.ref_segs = {s.Seg(0), s.Seg(1)};
    EXPECT_THROW(b.Check(), Error);
    b = o;
    b.mode = "sideways";
    EXPECT_THROW(b.Check(), Error);
    b = o;
    b.matcher = "flow";  // no flow model: line art has no flow
    EXPECT_THROW(b.Check(), Error);
    b = o;
    b.out = s.contour;
    ExpectErrorNaming(b, "differ");
  }
  EXPECT_FALSE(fs::exists(scratch / "out"));  // nothing written for bad input
}

TEST(ColorizeErrors, CancelStopsWithoutTouchingTheOutput) {
  const Scene s = MakeScene("scene", 3);
  segments::GeometricMatcher m;
  ColorizeOptions o = BaseOptions(s, test::ScratchDir("x") / "out", "forward");
  JobContext job;
  job.RequestCancel();
  EXPECT_THROW(Colorize(o, m, &job), Cancelled);
  EXPECT_FALSE(fs::exists(o.out));
  // Cancelled after the first frame: the frames written are complete files.
  int reports = 0;
  JobContext later([&](double, const std::string&) {
    if (++reports == 1) later.RequestCancel();
  });
  EXPECT_THROW(Colorize(o, m, &later), Cancelled);
  EXPECT_TRUE(fs::exists(o.out / "Image0000.png"));
  EXPECT_TRUE(fs::exists(o.out / "Image0000.json"));
  EXPECT_FALSE(fs::exists(o.out / "Image0002.png"));
  EXPECT_NO_THROW(ReadJson(o.out / "Image0000.json"));
}

}  // namespace
}  // namespace animerun::colorize
