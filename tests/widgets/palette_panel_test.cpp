// The palette panel, offscreen: group editing (incl. drag and drop), background extraction,
// the preview of the session's shown frame (and that it matches what Apply writes),
// apply/overwrite/cancel, suggested groups, export, and a screenshot
// (test_scratch/palette_panel/palette_panel.png).
#include <gtest/gtest.h>

#include <QApplication>
#include <QDropEvent>
#include <QListWidget>
#include <QMimeData>
#include <QUrl>

#include <opencv2/imgproc.hpp>

#include "core/data/synth.h"
#include "core/io/image_io.h"
#include "core/palette/palette.h"
#include "core/util/fs.h"
#include "test_paths.h"
#include "widgets/common/qt_image.h"
#include "widgets/common/session_model.h"
#include "widgets/palette/palette_panel.h"
#include "widgets/palette/palette_views.h"
#include "qstring_path.h"

namespace animerun::widgets {
namespace {

namespace fs = std::filesystem;

// A small synthetic AnimeRun dataset, generated once per test binary run.
fs::path Dataset() {
  static const fs::path root = [] {
    const fs::path r = test::SharedScratchDir("palette_panel_data");
    data::SynthOptions o;
    o.scenes = 2;
    o.frames = 3;
    o.width = 192;
    o.height = 108;
    o.color_passes = 1;
    data::GenerateSynthDataset(r, o);
    return r;
  }();
  return root;
}

// Reference frames in two colour styles (warm and cold), two folders.
fs::path References() {
  static const fs::path root = [] {
    const fs::path r = test::SharedScratchDir("palette_panel_refs");
    for (int i = 0; i < 4; ++i) {
      const bool warm = i % 2 == 0;
      cv::Mat m(60, 80, CV_8UC3, warm ? cv::Scalar(250, 200, 170) : cv::Scalar(30, 40, 110));
      cv::circle(m, {20 + 10 * i, 30}, 14, warm ? cv::Scalar(230, 90, 60) : cv::Scalar(60, 160, 210), cv::FILLED);
      cv::rectangle(m, {50, 5}, {75, 20 + 5 * i}, warm ? cv::Scalar(255, 240, 120) : cv::Scalar(20, 90, 60), cv::FILLED);
      io::WriteImage(r / (warm ? "warm" : "cold") / ("f" + std::to_string(i) + ".png"), m);
    }
    return r;
  }();
  return root;
}

PalettePanelOptions QuietPalette() {
  PalettePanelOptions o;
  o.modal_errors = false;
  return o;
}

cv::Mat FromQImage(const QImage& img) {
  const QImage rgb = img.convertToFormat(QImage::Format_RGB888);
  cv::Mat m(rgb.height(), rgb.width(), CV_8UC3);
  for (int y = 0; y < rgb.height(); ++y) std::memcpy(m.ptr(y), rgb.constScanLine(y), rgb.width() * 3);
  return m;
}

TEST(PaletteViews, SquarifiedLayoutAreasFollowValues) {
  const std::vector<double> v = {600, 300, 200, 100, 50, 25, 0, 25};
  const QRectF r(10, 20, 400, 250);
  const auto rects = SquarifiedLayout(v, r);
  ASSERT_EQ(rects.size(), v.size());
  double total = 0;
  for (double x : v) total += x;
  double sum = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_NEAR(rects[i].width() * rects[i].height(), v[i] / total * r.width() * r.height(), 1e-6) << i;
    if (v[i] > 0) {
      EXPECT_TRUE(r.adjusted(-1e-6, -1e-6, 1e-6, 1e-6).contains(rects[i])) << i;
    }
    sum += rects[i].width() * rects[i].height();
    for (size_t j = 0; j < i; ++j) {
      const QRectF o = rects[i].intersected(rects[j]);
      EXPECT_LT(o.width() * o.height(), 1e-6) << i << " overlaps " << j;
    }
  }
  EXPECT_NEAR(sum, r.width() * r.height(), 1e-6);
  // Squarified: no sliver worse than 1:6 for these values.
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] > 0) {
      EXPECT_LT(std::max(rects[i].width() / rects[i].height(), rects[i].height() / rects[i].width()), 6.0);
    }
}

TEST(PalettePanel, EditsGroupsAndAcceptsDrops) {
  PalettePanel panel(nullptr, QuietPalette());
  EXPECT_TRUE(panel.AddGroup("warm", "disney"));
  EXPECT_FALSE(panel.AddGroup("warm"));  // duplicate name refused
  EXPECT_EQ(panel.CurrentGroup(), "warm");
  panel.AddFrames("warm", {Q(References() / "warm")});
  ASSERT_EQ(panel.Palettes().Find("warm")->frames.size(), 2u);
  EXPECT_EQ(panel.frameList()->count(), 2);

  // Drop a folder onto the frame list.
  EXPECT_TRUE(panel.AddGroup("cold"));
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(Q(References() / "cold"))});
  QWidget* target = panel.frameList()->viewport();
  QDragEnterEvent enter(QPoint(5, 5), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(target, &enter);
  EXPECT_TRUE(enter.isAccepted());
  QDropEvent drop(QPointF(5, 5), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(target, &drop);
  ASSERT_EQ(panel.Palettes().Find("cold")->frames.size(), 2u);
  EXPECT_TRUE(panel.Modified());

  EXPECT_TRUE(panel.RenameGroup("cold", "night"));
  EXPECT_FALSE(panel.RenameGroup("night", "warm"));
  panel.SetGroupStyle("night", "japanese");
  EXPECT_EQ(panel.Palettes().Find("night")->style, "japanese");
  panel.RemoveFrames("night", {QString::fromStdString(panel.Palettes().Find("night")->frames[0])});
  EXPECT_EQ(panel.Palettes().Find("night")->frames.size(), 1u);
  EXPECT_TRUE(panel.RemoveGroup("night"));
  EXPECT_EQ(panel.Palettes().groups.size(), 1u);
  EXPECT_EQ(panel.groupList()->count(), 1);
}

TEST(PalettePanel, ExtractsInBackgroundAndExports) {
  PalettePanel panel(nullptr, QuietPalette());
  panel.AddGroup("warm", "disney");
  panel.AddFrames("warm", {Q(References() / "warm")});
  panel.ExtractGroups({});
  ASSERT_TRUE(panel.WaitIdle(20000));
  const palette::PaletteGroup* g = panel.Palettes().Find("warm");
  ASSERT_TRUE(g->extracted()) << panel.LastError().toStdString();
  EXPECT_EQ(g->pixels, 2 * 60 * 80);
  EXPECT_GE(g->colors.size(), 3u);
  EXPECT_EQ(panel.swatches()->SwatchRects().size(), g->colors.size());
  // Adding a frame makes the palette stale.
  panel.AddFrames("warm", {Q(References() / "cold" / "f1.png")});
  EXPECT_FALSE(panel.Palettes().Find("warm")->extracted());
  panel.ExtractGroups({"warm"});
  ASSERT_TRUE(panel.WaitIdle(20000));
  EXPECT_EQ(panel.Palettes().Find("warm")->pixels, 3 * 60 * 80);

  const fs::path out = test::ScratchDir("palette_panel_export") / "palettes.json";
  ASSERT_TRUE(panel.savePalettes(Q(out)));
  EXPECT_FALSE(panel.Modified());
  const palette::PaletteFile back = palette::LoadPalettes(out);
  EXPECT_EQ(palette::SerializePalettes(back), palette::SerializePalettes(panel.Palettes()));
  PalettePanel other(nullptr, QuietPalette());
  ASSERT_TRUE(other.loadPalettes(Q(out)));
  EXPECT_EQ(other.groupList()->count(), 1);
  EXPECT_FALSE(other.loadPalettes(Q(out.parent_path() / "missing.json")));
  EXPECT_TRUE(other.LastError().contains("missing.json"));
}

TEST(PalettePanel, SuggestedGroupsCanBeAccepted) {
  PalettePanel panel(nullptr, QuietPalette());
  panel.AddGroup("all", "western");
  panel.AddFrames("all", {Q(References())});
  QStringList frames;
  for (const auto& f : panel.Palettes().Find("all")->frames) frames << QString::fromStdString(f);
  ASSERT_EQ(frames.size(), 4);
  panel.SuggestGroups(frames, 2, 1);
  ASSERT_TRUE(panel.WaitIdle(20000));
  ASSERT_EQ(panel.Suggestion().groups.size(), 2u) << panel.LastError().toStdString();
  for (const auto& g : panel.Suggestion().groups) {
    ASSERT_EQ(g.frames.size(), 2u);
    // Each suggested group holds one style: both frames in the same folder.
    EXPECT_EQ(fs::path(g.frames[0]).parent_path(), fs::path(g.frames[1]).parent_path());
  }
  panel.AcceptSuggestion();
  EXPECT_TRUE(panel.Suggestion().groups.empty());
  EXPECT_EQ(panel.Palettes().groups.size(), 3u);  // "all" stays: it was not the suggestion's source
}

TEST(PalettePanel, PreviewMatchesApplyAndScreenshot) {
  PalettePanel panel(nullptr, QuietPalette());
  panel.resize(1280, 760);
  panel.show();
  panel.AddGroup("warm", "disney");
  panel.AddFrames("warm", {Q(References() / "warm")});
  panel.AddGroup("synth", "japanese");
  panel.AddFrames("synth", {Q(Dataset() / "test/Frame_Anime/synth_001/original")});
  panel.ExtractGroups({});
  ASSERT_TRUE(panel.WaitIdle(20000));
  panel.selectGroup("warm");
  panel.setSeed(7);
  // The panel follows the session: its dataset and the frame t it shows.
  SessionModel session;
  panel.SetSession(&session);
  session.session().Open(Dataset());
  ASSERT_TRUE(session.WaitIdle(30000));
  auto show = [&](const std::string& scene, int pair) {
    const auto& scenes = session.session().dataset()->scenes();
    for (size_t i = 0; i < scenes.size(); ++i)
      if (scenes[i].name == scene) session.session().SetScene(static_cast<int>(i));
    session.session().SetPair(pair);
  };
  show("synth_000", 1);
  ASSERT_TRUE(panel.WaitIdle(30000));
  const QImage original = panel.PreviewOriginal(), recoloured = panel.PreviewRecoloured();
  ASSERT_FALSE(original.isNull()) << panel.LastError().toStdString();
  ASSERT_FALSE(recoloured.isNull()) << panel.Status().toStdString();
  EXPECT_EQ(original.size(), QSize(192, 108));
  EXPECT_NE(original, recoloured);
  EXPECT_EQ(panel.PassName(), "color_2");  // the first pass the cut lacks

  // Re-rolling the seed draws other colours.
  panel.rerollSeed();
  EXPECT_EQ(panel.Seed(), 8u);
  EXPECT_NE(panel.PreviewRecoloured(), recoloured);
  panel.setSeed(7);
  EXPECT_EQ(panel.PreviewRecoloured(), recoloured);

  // Apply the current cut with the previewed settings: the written frame is the preview.
  QStringList written;
  QObject::connect(&panel, &PalettePanel::passWritten, [&](const QString&, const QStringList& s) { written = s; });
  panel.Apply(false);
  ASSERT_TRUE(panel.WaitIdle(30000));
  EXPECT_EQ(written, QStringList{"synth_000"}) << panel.LastError().toStdString();
  const cv::Mat out = io::ReadImageRgb(Dataset() / "test/Frame_Anime/synth_000/color_2" /
                                       ListFiles(Dataset() / "test/Frame_Anime/synth_000/original", {".png"})[1].filename());
  EXPECT_EQ(cv::norm(out, FromQImage(recoloured), cv::NORM_INF), 0.0);
  EXPECT_FALSE(fs::exists(Dataset() / "test/Frame_Anime/synth_001/color_2"));

  // The same pass again is refused without Overwrite.
  panel.SetPassName("color_2");
  panel.Apply(false);
  ASSERT_TRUE(panel.WaitIdle(30000));
  EXPECT_TRUE(panel.LastError().contains("--overwrite")) << panel.LastError().toStdString();

  // Whole dataset, cancelled at once: any pass present is complete.
  panel.SetPassName("color_3");
  panel.Apply(true);
  panel.CancelJob();
  ASSERT_TRUE(panel.WaitIdle(30000));
  for (const char* scene : {"synth_000", "synth_001"}) {
    const fs::path pass = Dataset() / "test/Frame_Anime" / scene / "color_3";
    if (fs::exists(pass)) {
      EXPECT_EQ(ListFiles(pass, {".png"}).size(), 3u) << scene;
    }
    for (const auto& d : ListSubdirs(Dataset() / "test/Frame_Anime" / scene)) EXPECT_NE(d[0], '.') << d;
  }

  // Screenshot for docs and review.
  panel.selectGroup("synth");
  show("synth_001", 0);
  ASSERT_TRUE(panel.WaitIdle(30000));
  const fs::path shot = test::ScratchDir("palette_panel") / "palette_panel.png";
  ASSERT_TRUE(panel.grab().save(Q(shot)));
  EXPECT_GT(fs::file_size(shot), 10000u);
  // Docked size.
  panel.resize(900, 560);
  QApplication::processEvents();
  ASSERT_TRUE(panel.grab().save(Q(shot.parent_path() / "palette_panel_docked.png")));
}

}  // namespace
}  // namespace animerun::widgets
