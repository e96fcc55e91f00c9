// The colorization view, offscreen: propagation shown (and equal to what the core writes),
// paint-bucket clicks (frame and key, carried forward by re-propagation), flipbook and
// onion skin, export, cancel, and a screenshot (test_scratch/.../colorize_view.png).
#include <gtest/gtest.h>

#include <QApplication>
#include <QElapsedTimer>
#include <QMouseEvent>
#include <QThread>

#include <nlohmann/json.hpp>

#include "core/colorize/colorize.h"
#include "core/data/synth.h"
#include "core/io/image_io.h"
#include "core/segments/geometric_matcher.h"
#include "core/util/fs.h"
#include "test_paths.h"
#include "widgets/colorize/colorize_canvas.h"
#include "widgets/colorize/colorize_view.h"

namespace animerun::widgets {
namespace {

namespace fs = std::filesystem;

struct Seq {
  fs::path key, seg, contour;
};

Seq MakeSequence() {
  const fs::path root = test::ScratchDir("data");
  data::SynthOptions o;
  o.scenes = 1;
  o.frames = 4;
  o.width = 192;
  o.height = 128;
  o.color_passes = 0;
  o.motion_scale = 0.3;
  data::GenerateSynthDataset(root, o);
  const fs::path split = root / "test";
  return {split / "Frame_Anime/synth_000/original/Image0000.png", split / "Segment/synth_000/Image0000.npy",
          split / "contour/synth_000"};
}

ColorizeViewOptions QuietColorize() {
  ColorizeViewOptions o;
  o.modal_errors = false;
  return o;
}

cv::Mat ToMat(const QImage& img) {
  const QImage rgb = img.convertToFormat(QImage::Format_RGB888);
  cv::Mat m(rgb.height(), rgb.width(), CV_8UC3);
  for (int y = 0; y < rgb.height(); ++y) std::memcpy(m.ptr(y), rgb.constScanLine(y), static_cast<size_t>(rgb.width()) * 3);
  return m;
}

int CountDiff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  return cv::countNonZero(d.reshape(1));
}

// A non-line pixel of segment id.
cv::Point PixelOf(const colorize::ColourState& s, int id) {
  for (int y = 0; y < s.labels.rows; ++y)
    for (int x = 0; x < s.labels.cols; ++x)
      if (s.labels.at<int>(y, x) == id && !s.line.at<uchar>(y, x)) return {x, y};
  return {-1, -1};
}

void Click(ColorizeCanvas* c, cv::Point image_point) {
  const QPoint w = c->ImageToWidget({image_point.x, image_point.y});
  ASSERT_EQ(c->WidgetToImage(w), QPoint(image_point.x, image_point.y));
  QMouseEvent press(QEvent::MouseButtonPress, QPointF(w), c->mapToGlobal(QPointF(w)), Qt::LeftButton, Qt::LeftButton,
                    Qt::NoModifier);
  QApplication::sendEvent(c, &press);
}

TEST(ColorizeView, PropagatesPaintsFlipsAndExports) {
  const Seq seq = MakeSequence();
  ColorizeView view(nullptr, QuietColorize());
  view.resize(900, 520);
  view.show();
  bool propagated = false;
  QObject::connect(&view, &ColorizeView::propagated, [&](bool ok) { propagated = ok; });
  view.SetSequence({seq.key}, {seq.seg}, seq.contour);  // auto-propagates, forward mode
  ASSERT_TRUE(view.WaitIdle(60000));
  ASSERT_TRUE(propagated) << view.LastError().toStdString();
  ASSERT_EQ(view.FrameCount(), 4);
  EXPECT_EQ(view.Options().mode, "forward");

  // What the view shows is what the core writes for the same options.
  const fs::path core_out = test::ScratchDir("core_out");
  colorize::ColorizeOptions o = view.Options();
  o.out = core_out;
  segments::GeometricMatcher m;
  colorize::Colorize(o, m);
  for (int i = 0; i < 4; ++i) {
    const cv::Mat want = io::ReadImageRgb(core_out / ("Image000" + std::to_string(i) + ".png"));
    EXPECT_EQ(CountDiff(ToMat(view.FrameImage(i)), want), 0) << i;
  }
  EXPECT_EQ(CountDiff(ToMat(view.ShownImage()), ToMat(view.FrameImage(0))), 0);
  EXPECT_FALSE(view.KeyImage().isNull());

  // Flipbook: steps wrap, the slider follows, playing advances.
  view.StepFrame(-1);
  EXPECT_EQ(view.CurrentFrame(), 3);
  view.StepFrame(2);
  EXPECT_EQ(view.CurrentFrame(), 1);
  EXPECT_EQ(CountDiff(ToMat(view.ShownImage()), ToMat(view.FrameImage(1))), 0);
  view.SetPlaying(true);
  EXPECT_TRUE(view.Playing());
  QElapsedTimer t;
  t.start();
  while (view.CurrentFrame() == 1 && t.elapsed() < 3000) QApplication::processEvents(QEventLoop::AllEvents, 20);
  view.SetPlaying(false);
  EXPECT_FALSE(view.Playing());
  EXPECT_NE(view.CurrentFrame(), 1);

  // Onion skin: the previous frame shows through where the two differ.
  view.showFrame(2);
  view.SetOnionSkin(true);
  const cv::Mat cur = ToMat(view.FrameImage(2)), prev = ToMat(view.FrameImage(1)), shown = ToMat(view.ShownImage());
  ASSERT_GT(CountDiff(cur, prev), 0);
  int blended = 0, checked = 0;
  for (int y = 0; y < cur.rows; ++y)
    for (int x = 0; x < cur.cols; ++x) {
      const auto c = cur.at<cv::Vec3b>(y, x), p = prev.at<cv::Vec3b>(y, x), s = shown.at<cv::Vec3b>(y, x);
      if (std::abs(c[0] - p[0]) < 60) continue;
      ++checked;
      const double want = 0.65 * c[0] + 0.35 * p[0];
      blended += std::abs(s[0] - want) <= 3;
    }
  ASSERT_GT(checked, 0);
  EXPECT_GT(blended, checked * 9 / 10);
  view.SetOnionSkin(false);

  // Paint bucket on frame 1's largest segment, through a click on the canvas.
  view.showFrame(1);
  const cv::Vec3b paint(20, 200, 90);
  view.SetPaintColour(paint);
  const colorize::ColourState before = view.Frame(1)->state;
  const cv::Point p = PixelOf(before, 0);
  ASSERT_GE(p.x, 0);
  Click(view.frameCanvas(), p);
  EXPECT_EQ(ToMat(view.ShownImage()).at<cv::Vec3b>(p.y, p.x), paint);  // at once
  ASSERT_EQ(view.Overrides().count("Image0001.png"), 1u);
  ASSERT_TRUE(view.WaitIdle(60000));
  // After re-propagation: the whole segment, and its continuations in frame 2.
  const cv::Mat f1 = ToMat(view.FrameImage(1));
  for (int y = 0; y < f1.rows; ++y)
    for (int x = 0; x < f1.cols; ++x)
      if (before.labels.at<int>(y, x) == 0 && !before.line.at<uchar>(y, x)) ASSERT_EQ(f1.at<cv::Vec3b>(y, x), paint);
  const auto* f2 = view.Frame(2);
  int carried = 0;
  for (size_t i = 0; i < f2->match.matches.size(); ++i)
    if (f2->match.matches[i] == 0) {
      ++carried;
      EXPECT_EQ(f2->state.colours[i], paint) << i;
    }
  EXPECT_GT(carried, 0);
  EXPECT_NE(view.Frame(0)->state.colours[0], paint);  // before the painted frame: untouched

  // Key bucket: every frame's segments matched (through the chain) to key segment 1.
  const cv::Vec3b key_paint(250, 250, 10);
  view.SetPaintColour(key_paint);
  const cv::Point kp = PixelOf(view.Keys()[0], 1);
  EXPECT_EQ(view.PaintKeyAt(kp), 1);
  EXPECT_EQ(ToMat(view.KeyImage()).at<cv::Vec3b>(kp.y, kp.x), key_paint);
  ASSERT_TRUE(view.WaitIdle(60000));
  int key_carried = 0;
  for (size_t i = 0; i < view.Frame(0)->match.matches.size(); ++i)
    if (view.Frame(0)->match.matches[i] == 1) {
      ++key_carried;
      EXPECT_EQ(view.Frame(0)->state.colours[i], key_paint);
    }
  EXPECT_GT(key_carried, 0);
  EXPECT_EQ(view.Frame(1)->state.colours[0], paint);  // the frame override survived

  // Export writes what is shown, with the override recorded.
  const fs::path out = test::ScratchDir("export");
  bool exported = false;
  QObject::connect(&view, &ColorizeView::exported, [&](bool ok, const QString&) { exported = ok; });
  ASSERT_TRUE(view.ExportTo(QString::fromStdString(out.string())));
  ASSERT_TRUE(view.WaitIdle(60000));
  EXPECT_TRUE(exported) << view.LastError().toStdString();
  for (int i = 0; i < 4; ++i) {
    const std::string stem = "Image000" + std::to_string(i);
    ASSERT_TRUE(fs::exists(out / (stem + ".json"))) << stem;
    EXPECT_EQ(CountDiff(io::ReadImageRgb(out / (stem + ".png")), ToMat(view.FrameImage(i))), 0) << stem;
  }
  const auto j1 = nlohmann::json::parse(ReadFileText(out / "Image0001.json"));
  EXPECT_EQ(j1["overridden"], nlohmann::json::array({0}));

  // Screenshot (docked-like size), on frame 1 with the onion skin.
  view.SetOnionSkin(true);
  view.resize(1000, 420);
  QApplication::processEvents();
  const fs::path shot = test::ScratchDir("shot") / "colorize_view.png";
  ASSERT_TRUE(view.grab().save(QString::fromStdString(shot.string())));
  EXPECT_GT(fs::file_size(shot), 1000u);
}

TEST(ColorizeView, CancelKeepsResultsAndErrorsAreReported) {
  const Seq seq = MakeSequence();
  ColorizeView view(nullptr, QuietColorize());
  view.SetSequence({seq.key}, {seq.seg}, seq.contour);
  ASSERT_TRUE(view.WaitIdle(60000));
  ASSERT_EQ(view.FrameCount(), 4);
  const cv::Mat shown = ToMat(view.FrameImage(3));
  view.SetMode("nearest");  // re-propagates
  view.Cancel();
  ASSERT_TRUE(view.WaitIdle(60000));
  EXPECT_EQ(view.FrameCount(), 4);
  EXPECT_FALSE(view.FrameImage(3).isNull());
  // Nothing to export while empty; a bad folder is reported, not thrown.
  ColorizeView empty(nullptr, QuietColorize());
  EXPECT_FALSE(empty.ExportTo(QString::fromStdString(test::ScratchDir("x").string())));
  empty.SetSequence({seq.key}, {}, test::ScratchDir("x") / "missing");
  ASSERT_TRUE(empty.WaitIdle(60000));
  EXPECT_EQ(empty.FrameCount(), 0);
  EXPECT_NE(empty.LastError().toStdString().find("missing"), std::string::npos) << empty.LastError().toStdString();
  (void)shown;
}

}  // namespace
}  // namespace animerun::widgets
