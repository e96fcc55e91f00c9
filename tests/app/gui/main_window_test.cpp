// The main window (the composition root) on small generated datasets: opening, scene list,
// filmstrip, keyboard navigation, overlay and zoom keys, errors and dataset problems, drag
// and drop, the demo with its palette group, remembered settings, and the tool panels
// following the one session.
#include <gtest/gtest.h>

// LibTorch before Qt: Qt's `slots` macro breaks its headers.
#include "models/common/flow_factory.h"

#include <QAction>
#include <QApplication>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>
#include <QUrl>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "app/gui/main_window.h"
#include "core/data/synth.h"
#include "core/session/demo.h"
#include "test_paths.h"
#include "widgets/common/session_model.h"
#include "widgets/correspondence/correspondence_panel.h"
#include "widgets/flow/flow_panel.h"
#include "widgets/pair/filmstrip.h"
#include "widgets/pair/info_panel.h"
#include "widgets/pair/pair_view.h"
#include "widgets/pair/scene_list.h"
#include "widgets/palette/palette_panel.h"
#include "qstring_path.h"

namespace animerun::gui {
namespace {

namespace fs = std::filesystem;

// Settings and the demo go to a scratch home, set before QApplication reads anything
// (this runs before main). Without a display (the build runs the binary to list its
// tests), the offscreen platform is used, as ctest does.
// One home per process: ctest runs each test in its own process, several at once.
const fs::path kHome = test::ProcessScratch("widgets_home");
const bool kHomeSet = [] {
  if (!std::getenv("QT_QPA_PLATFORM") && !std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY"))
    setenv("QT_QPA_PLATFORM", "offscreen", 1);
  fs::remove_all(kHome);
  fs::create_directories(kHome);
  setenv("XDG_CONFIG_HOME", (kHome / "config").c_str(), 1);
  setenv("XDG_DATA_HOME", (kHome / "data").c_str(), 1);
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(kHome, ec);
  });
  return true;
}();

// A generated dataset in the empty folder root.
fs::path MakeDatasetIn(const fs::path& root, int scenes, int frames) {
  data::SynthOptions o;
  o.scenes = scenes;
  o.frames = frames;
  o.width = 160;
  o.height = 96;
  o.color_passes = 1;
  data::GenerateSynthDataset(root, o);
  return root;
}

const fs::path& SharedDataset() {
  static const fs::path root = MakeDatasetIn(test::SharedScratchDir("widgets_main_window"), 2, 4);
  return root;
}

MainWindowOptions TestOptions() {
  MainWindowOptions o;
  o.use_settings = false;
  o.modal_errors = false;
  return o;
}

void Open(MainWindow& w, const fs::path& root) {
  w.OpenFolder(Q(root));
  ASSERT_TRUE(w.WaitIdle(60000));
}

TEST(MainWindow, OpensADatasetAndListsItsScenes) {
  MainWindow w(TestOptions());
  QSignalSpy opened(&w, &MainWindow::datasetOpened);
  Open(w, SharedDataset());
  ASSERT_EQ(opened.count(), 1);
  EXPECT_TRUE(opened.first().at(0).toBool());
  ASSERT_NE(w.Dataset(), nullptr);
  const auto& scenes = w.Dataset()->scenes();
  ASSERT_EQ(scenes.size(), 2u);
  ASSERT_EQ(w.sceneList()->count(), 2);
  EXPECT_TRUE(w.sceneList()->item(1)->text().startsWith(QString::fromStdString(scenes[1].name)));
  EXPECT_EQ(w.CurrentSplit(), "test");
  EXPECT_EQ(w.SceneIndex(), 0);
  EXPECT_EQ(w.PairIndex(), 0);
  EXPECT_TRUE(w.pairView()->HasPair());
  EXPECT_EQ(w.pairView()->RenderedImage(0).size(), QSize(160, 96));
  EXPECT_TRUE(w.infoPanel()->PairText().contains("160 x 96"));
  // Filmstrip: one item per frame; thumbnails arrive from the worker thread.
  EXPECT_EQ(w.filmstrip()->count(), 4);
  for (int i = 0; i < 200 && w.filmstrip()->LoadedThumbnails() < 4; ++i) QTest::qWait(10);
  EXPECT_EQ(w.filmstrip()->LoadedThumbnails(), 4);
  EXPECT_EQ(w.filmstrip()->CurrentPair(), 0);
  EXPECT_TRUE(w.LastError().isEmpty()) << w.LastError().toStdString();
}

TEST(MainWindow, KeysMoveThePairAndScene) {
  MainWindow w(TestOptions());
  Open(w, SharedDataset());
  w.show();
  w.activateWindow();
  ASSERT_TRUE(QTest::qWaitForWindowActive(&w));
  QTest::keyClick(&w, Qt::Key_Right);
  EXPECT_EQ(w.PairIndex(), 1);
  QTest::keyClick(&w, Qt::Key_N);
  EXPECT_EQ(w.PairIndex(), 2);
  EXPECT_EQ(w.filmstrip()->CurrentPair(), 2);
  QTest::keyClick(&w, Qt::Key_Left);
  EXPECT_EQ(w.PairIndex(), 1);
  QTest::keyClick(&w, Qt::Key_P);
  EXPECT_EQ(w.PairIndex(), 0);
  QTest::keyClick(&w, Qt::Key_Left);  // the first pair of the first scene stays
  EXPECT_EQ(w.SceneIndex(), 0);
  EXPECT_EQ(w.PairIndex(), 0);
  QTest::keyClick(&w, Qt::Key_End);
  EXPECT_EQ(w.PairIndex(), 2);
  QTest::keyClick(&w, Qt::Key_Right);  // past the last pair: the next scene
  EXPECT_EQ(w.SceneIndex(), 1);
  EXPECT_EQ(w.PairIndex(), 0);
  EXPECT_EQ(w.sceneList()->currentRow(), 1);
  QTest::keyClick(&w, Qt::Key_Left);  // and back to the last pair of the previous one
  EXPECT_EQ(w.SceneIndex(), 0);
  EXPECT_EQ(w.PairIndex(), 2);
  QTest::keyClick(&w, Qt::Key_Home);
  EXPECT_EQ(w.PairIndex(), 0);
  QTest::keyClick(&w, Qt::Key_PageDown);
  EXPECT_EQ(w.SceneIndex(), 1);
  QTest::keyClick(&w, Qt::Key_PageDown);
  EXPECT_EQ(w.SceneIndex(), 1);
  QTest::keyClick(&w, Qt::Key_PageUp);
  EXPECT_EQ(w.SceneIndex(), 0);
}

TEST(MainWindow, OverlayAndZoomKeys) {
  MainWindow w(TestOptions());
  Open(w, SharedDataset());
  w.show();
  w.activateWindow();
  ASSERT_TRUE(QTest::qWaitForWindowActive(&w));
  const QImage plain = w.pairView()->RenderedImage(0);
  const Overlay order[] = {Overlay::kFlowColor, Overlay::kFlowArrows, Overlay::kBoundaries, Overlay::kOcclusion,
                           Overlay::kLines};
  for (int i = 0; i < 5; ++i) {
    QTest::keyClick(&w, static_cast<Qt::Key>(Qt::Key_1 + i));
    EXPECT_TRUE(w.OverlayOn(order[i])) << i;
    EXPECT_NE(w.pairView()->RenderedImage(0), plain) << i;
    QTest::keyClick(&w, static_cast<Qt::Key>(Qt::Key_1 + i));
    EXPECT_FALSE(w.OverlayOn(order[i])) << i;
  }
  EXPECT_EQ(w.pairView()->RenderedImage(0), plain);
  const double fit = w.pairView()->Zoom();
  QTest::keyClick(&w, Qt::Key_Plus);
  EXPECT_NEAR(w.pairView()->Zoom(), fit * 1.25, 1e-9);
  QTest::keyClick(&w, Qt::Key_Minus);
  QTest::keyClick(&w, Qt::Key_Minus);
  EXPECT_NEAR(w.pairView()->Zoom(), fit / 1.25, 1e-9);
  QTest::keyClick(&w, Qt::Key_0);
  EXPECT_TRUE(w.pairView()->FitMode());
  EXPECT_NEAR(w.pairView()->Zoom(), fit, 1e-9);
}

TEST(MainWindow, SwitchingThePassKeepsThePair) {
  MainWindow w(TestOptions());
  Open(w, SharedDataset());
  w.SetScene(1);
  w.SetPair(2);
  const QImage original = w.pairView()->RenderedImage(0);
  ASSERT_GE(w.Dataset()->scenes()[1].passes.size(), 2u);
  const QString pass = QString::fromStdString(w.Dataset()->scenes()[1].passes[1]);
  w.SetPass(pass);
  ASSERT_TRUE(w.WaitIdle(60000));
  EXPECT_EQ(w.CurrentPass(), pass);
  EXPECT_EQ(w.SceneIndex(), 1);
  EXPECT_EQ(w.PairIndex(), 2);
  EXPECT_TRUE(QString::fromStdString(w.Dataset()->scenes()[1].pairs[2].image1.string()).contains("/" + pass + "/"));
  EXPECT_NE(w.pairView()->RenderedImage(0), original);  // recoloured frames
}

TEST(MainWindow, ScoresAPredictionAndSavesTheViews) {
  MainWindow w(TestOptions());
  Open(w, SharedDataset());
  const auto& pair = w.Dataset()->scenes()[0].pairs[0];
  // The ground truth itself scores 0; a zero flow scores the mean motion.
  EXPECT_TRUE(w.LoadPredictionFile(Q(pair.flow_forward)));
  EXPECT_TRUE(w.infoPanel()->PredictionText().contains("epe  0.000")) << w.infoPanel()->PredictionText().toStdString();
  const fs::path out = test::ScratchDir("widgets_save_views");
  EXPECT_FALSE(w.LoadPredictionFile(Q(out / "missing.flo")));
  EXPECT_TRUE(w.LastError().contains("missing.flo"));

  w.SetOverlay(Overlay::kBoundaries, true);
  w.pairView()->SelectAt(0, {80, 48});
  ASSERT_TRUE(w.SaveViewImagesTo(Q(out)));
  const std::string stem = w.Dataset()->scenes()[0].name + "_" + pair.name1;
  for (const char* suffix : {"_t.png", "_t1.png"}) {
    const QImage saved(Q(out / (stem + suffix)));
    ASSERT_FALSE(saved.isNull()) << suffix;
    const int frame = std::string(suffix) == "_t.png" ? 0 : 1;
    EXPECT_EQ(saved.convertToFormat(QImage::Format_RGB888), w.pairView()->RenderedImage(frame)) << suffix;
  }
  // A folder that cannot exist (below a file) is an error that names it, not a crash.
  const fs::path file = out / "file.txt";
  { std::ofstream(file) << "x"; }
  EXPECT_FALSE(w.SaveViewImagesTo(Q(file / "sub")));
  EXPECT_TRUE(w.LastError().contains("file.txt")) << w.LastError().toStdString();
}

TEST(MainWindow, ToolPanelsAreDockedAndFollowThePair) {
  MainWindow w(TestOptions());
  ASSERT_NE(w.palettePanel(), nullptr);
  EXPECT_TRUE(w.PanelNames().contains("palette"));
  EXPECT_TRUE(w.PanelNames().contains("frames"));
  EXPECT_FALSE(w.ShowPanel("no_such_panel"));
  Open(w, SharedDataset());
  w.SetPair(1);
  EXPECT_TRUE(w.ShowPanel("palette"));
  // The panel previews the frame the pair view shows (frame t of the current pair).
  ASSERT_TRUE(w.palettePanel()->WaitIdle(20000));
  QApplication::processEvents();
  const auto& pair = w.Dataset()->scenes()[0].pairs[1];
  const QImage expected(Q(pair.image1));
  ASSERT_FALSE(w.palettePanel()->PreviewOriginal().isNull());
  EXPECT_EQ(w.palettePanel()->PreviewOriginal().convertToFormat(QImage::Format_RGB888),
            expected.convertToFormat(QImage::Format_RGB888));
}

TEST(MainWindow, ShortcutTableMatchesTheActions) {
  MainWindow w(TestOptions());
  const QString table = MainWindow::ShortcutLines().join("\n");
  int checked = 0;
  for (QAction* a : w.findChildren<QAction*>()) {
    for (const QKeySequence& k : a->shortcuts()) {
      const QString key = k.toString(QKeySequence::PortableText);
      EXPECT_TRUE(table.contains(key)) << key.toStdString() << " (" << a->text().toStdString() << ") is not listed";
      ++checked;
    }
  }
  EXPECT_GE(checked, 20);
}

TEST(MainWindow, UnreadableFileIsReportedNotFatal) {
  const fs::path root = MakeDatasetIn(test::ScratchDir("widgets_corrupt"), 1, 3);
  MainWindow w(TestOptions());
  Open(w, root);
  ASSERT_TRUE(w.pairView()->HasPair());
  // Truncate the forward flow of pair 1.
  const auto& pair = w.Dataset()->scenes()[0].pairs[1];
  ASSERT_FALSE(pair.flow_forward.empty());
  fs::resize_file(pair.flow_forward, 20);
  w.SetPair(1);
  EXPECT_EQ(w.PairIndex(), 1);
  EXPECT_FALSE(w.pairView()->HasPair());
  EXPECT_TRUE(w.LastError().contains(QString::fromStdString(pair.flow_forward.filename().string())))
      << w.LastError().toStdString();
  EXPECT_TRUE(w.LogLines().join("\n").contains("error:"));
  w.SetPair(0);
  EXPECT_TRUE(w.pairView()->HasPair());
}

TEST(MainWindow, DatasetProblemsAreShown) {
  const fs::path root = MakeDatasetIn(test::ScratchDir("widgets_problems"), 2, 3);
  // Scene 2 loses a segment map: the reader records a problem for it.
  const fs::path seg = root / "test" / "Segment";
  std::vector<fs::path> scenes;
  for (const auto& e : fs::directory_iterator(seg)) scenes.push_back(e.path());
  std::sort(scenes.begin(), scenes.end());
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(scenes[1])) files.push_back(e.path());
  ASSERT_FALSE(files.empty());
  fs::remove(files.front());
  MainWindow w(TestOptions());
  Open(w, root);
  ASSERT_NE(w.Dataset(), nullptr);
  int expected = 0;
  for (const auto& s : w.Dataset()->scenes()) expected += !s.problems.empty();
  ASSERT_GT(expected, 0) << "the reader reported no problem for a missing segment map";
  EXPECT_EQ(w.sceneList()->ScenesWithProblems(), expected);
  const std::string problem = w.Dataset()->scenes()[1].problems.at(0);
  EXPECT_TRUE(w.sceneList()->item(1)->toolTip().contains(QString::fromStdString(problem)));
  EXPECT_FALSE(w.sceneList()->item(1)->icon().isNull());
  EXPECT_TRUE(w.sceneList()->item(0)->icon().isNull());
  EXPECT_TRUE(w.LogLines().join("\n").contains(QString::fromStdString(problem)));
  w.SetScene(1);  // still browsable
  EXPECT_EQ(w.SceneIndex(), 1);
}

TEST(MainWindow, NotADatasetFolder) {
  MainWindow w(TestOptions());
  QSignalSpy opened(&w, &MainWindow::datasetOpened);
  const fs::path empty = test::ScratchDir("widgets_empty");
  w.OpenFolder(Q(empty));
  ASSERT_TRUE(w.WaitIdle(10000));
  ASSERT_EQ(opened.count(), 1);
  EXPECT_FALSE(opened.first().at(0).toBool());
  EXPECT_TRUE(w.LastError().contains(Q(empty))) << w.LastError().toStdString();
  EXPECT_EQ(w.Dataset(), nullptr);
}

TEST(MainWindow, DroppingAFolderOpensIt) {
  MainWindow w(TestOptions());
  w.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&w));
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(Q(SharedDataset()))});
  const QPoint pos = w.rect().center();
  QDragEnterEvent enter(pos, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &enter);
  EXPECT_TRUE(enter.isAccepted());
  QDropEvent drop(QPointF(pos), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &drop);
  ASSERT_TRUE(w.WaitIdle(60000));
  ASSERT_NE(w.Dataset(), nullptr);
  EXPECT_EQ(w.sceneList()->count(), 2);
  // A file is not a folder: not accepted.
  QMimeData file_mime;
  file_mime.setUrls({QUrl::fromLocalFile(Q(w.Dataset()->scenes()[0].frames[0]))});
  QDragEnterEvent enter_file(pos, Qt::CopyAction, &file_mime, Qt::LeftButton, Qt::NoModifier);
  enter_file.setAccepted(false);
  QApplication::sendEvent(&w, &enter_file);
  EXPECT_FALSE(enter_file.isAccepted());
}

TEST(MainWindow, RemembersTheLastFolderAndLayout) {
  QCoreApplication::setOrganizationName("AnimeRun Studio");
  QCoreApplication::setApplicationName("animerun");
  MainWindowOptions o = TestOptions();
  o.use_settings = true;
  {
    MainWindow w(o);
    Open(w, SharedDataset());
    w.SetOverlay(Overlay::kBoundaries, true);
    w.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&w));
    w.close();
  }
  QSettings s;
  EXPECT_EQ(s.value("data/lastFolder").toString(), Q(SharedDataset()));
  EXPECT_FALSE(s.value("window/state").toByteArray().isEmpty());
  MainWindow w2(o);
  EXPECT_TRUE(w2.OverlayOn(Overlay::kBoundaries));
  w2.OpenStartup();
  ASSERT_TRUE(w2.WaitIdle(60000));
  EXPECT_EQ(w2.CurrentFolder(), Q(SharedDataset()));
}

TEST(MainWindow, GeneratesTheDemoOnFirstUse) {
  QCoreApplication::setOrganizationName("AnimeRun Studio");
  QCoreApplication::setApplicationName("animerun");
  const QString demo = MainWindow::DemoFolder();
  EXPECT_TRUE(demo.startsWith(QString::fromStdString((kHome / "data").string()))) << demo.toStdString();
  EXPECT_TRUE(demo.endsWith("AnimeRun Studio/animerun/demo")) << demo.toStdString();
  fs::remove_all(demo.toStdString());
  MainWindow w(TestOptions());
  w.OpenDemo();
  ASSERT_TRUE(w.WaitIdle(120000));
  ASSERT_NE(w.Dataset(), nullptr) << w.LastError().toStdString();
  EXPECT_TRUE(fs::is_directory(demo.toStdString() + "/test/Frame_Anime"));
  EXPECT_FALSE(fs::exists(demo.toStdString() + ".partial"));
  EXPECT_GE(w.sceneList()->count(), 1);
  EXPECT_TRUE(w.pairView()->HasPair());
  // Something in every panel on first start: the palette panel opened the demo's palette
  // file, groups extracted from the demo's own frames, and previews with the first.
  EXPECT_TRUE(fs::is_regular_file(session::PalettesBeside(demo.toStdString())));
  widgets::PalettePanel* palette = w.palettePanel();
  ASSERT_GE(palette->Palettes().groups.size(), 2u) << palette->LastError().toStdString();
  EXPECT_TRUE(palette->Palettes().groups[0].extracted());
  EXPECT_FALSE(palette->CurrentGroup().isEmpty());
  ASSERT_TRUE(palette->WaitIdle(60000));
  QApplication::processEvents();
  EXPECT_FALSE(palette->PreviewRecoloured().isNull()) << palette->Status().toStdString();
}

TEST(MainWindow, PanelsShareTheSessionsPairInsteadOfCopies) {
  MainWindow w(TestOptions());
  Open(w, SharedDataset());
  w.SetPair(1);
  const auto pair = w.session()->session().pair();
  ASSERT_NE(pair, nullptr);
  EXPECT_EQ(&w.pairView()->pair(), pair.get());
  EXPECT_EQ(w.flowPanel()->controller().pair(), pair);
  EXPECT_EQ(w.flowPanel()->controller().key(), w.session()->session().key());
  EXPECT_GT(w.correspondencePanel()->session().NumSegments0(), 0);
  // Showing the same pair again keeps the panels' state: identity is the key.
  w.SetPair(1);
  EXPECT_EQ(w.flowPanel()->controller().key(), w.session()->session().key());
}

// Tools > Train > Open in Flow panel: the run's exported weights become model A, its start
// weights model B, and both run on the current pair.
TEST(MainWindow, TrainingRunOpensInTheFlowPanelAsABeforeAfterComparison) {
  MainWindow w(TestOptions());
  Open(w, SharedDataset());
  w.SetPair(0);
  const fs::path dir = test::ScratchDir("compare");
  const fs::path trained = dir / "flow_weights_last.pth", start = dir / "start.pth";
  models::CreateFlowModel("raft-small")->SaveWeights(trained.string());
  models::CreateFlowModel("raft-small")->SaveWeights(start.string());
  widgets::FlowPanel& panel = *w.flowPanel();
  panel.SetIterations(0, 1);
  panel.SetIterations(1, 1);
  w.CompareFlowWeights("raft-small", QString::fromStdString(trained.string()), QString::fromStdString(start.string()));
  EXPECT_EQ(panel.Model(0), "raft-small");
  EXPECT_EQ(panel.Weights(0).toStdString(), trained.string());
  EXPECT_EQ(panel.Model(1), "raft-small");
  EXPECT_EQ(panel.Weights(1).toStdString(), start.string());
  EXPECT_TRUE(panel.Compare());
  ASSERT_TRUE(panel.WaitIdle(120000));
  EXPECT_TRUE(panel.HasPrediction(0)) << panel.LastError().toStdString();
  EXPECT_TRUE(panel.HasPrediction(1)) << panel.LastError().toStdString();
  // A run that started from random weights: A alone.
  w.CompareFlowWeights("raft-small", QString::fromStdString(trained.string()), QString());
  EXPECT_FALSE(panel.Compare());
  ASSERT_TRUE(panel.WaitIdle(120000));
}

}  // namespace
}  // namespace animerun::gui
