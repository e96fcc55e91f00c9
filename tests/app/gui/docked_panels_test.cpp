// The tool panels docked in the main window, each following the one session: the Flow
// panel runs every shown pair with "Every pair", the Correspondences panel follows the pair
// and the pair view's selection and takes its keys from the window, Tools > Train opens one
// dialog for the open dataset.
#include <gtest/gtest.h>

// LibTorch before Qt: its headers use `slots` as a name.
#include "models/common/flow_factory.h"

#include <QAction>
#include <QApplication>
#include <QKeyEvent>
#include <QSignalSpy>
#include <QTest>

#include <opencv2/core.hpp>

#include "app/gui/main_window.h"
#include "core/data/synth.h"
#include "core/flow/flow_compare.h"
#include "core/flow/flow_predictor.h"
#include "core/io/match_json.h"
#include "test_paths.h"
#include "widgets/common/image_pane.h"
#include "widgets/correspondence/correspondence_panel.h"
#include "widgets/flow/flow_panel.h"
#include "widgets/pair/pair_view.h"
#include "widgets/train/train_dialog.h"
#include "qstring_path.h"

namespace animerun::gui {
namespace {

namespace fs = std::filesystem;

QString SaveRandomWeights(const std::string& model, const fs::path& dir) {
  const fs::path p = dir / (model + "_random.pth");
  models::CreateFlowModel(model)->SaveWeights(p.string());
  return Q(p);
}

cv::Mat RunnerFlow(const std::string& model, const QString& weights, int iters, const data::PairData& pair) {
  flow::FlowRunOptions o;
  o.model = model;
  o.weights = weights.toStdString();
  o.iters = iters;
  o.threads = 2;
  flow::FlowRunner runner(o);
  return runner.Predict(pair.image1, pair.image2);
}

fs::path Dataset(int frames, int width, int height) {
  const fs::path root = test::ScratchDir("data");
  data::SynthOptions o;
  o.scenes = 1;
  o.frames = frames;
  o.width = width;
  o.height = height;
  o.color_passes = 0;
  data::GenerateSynthDataset(root, o);
  return root;
}

// A pixel inside segment id (the first in scan order).
cv::Point PixelOf(const cv::Mat& labels, int id) {
  for (int y = 0; y < labels.rows; ++y)
    for (int x = 0; x < labels.cols; ++x)
      if (labels.at<int>(y, x) == id) return {x, y};
  return {-1, -1};
}

// A correspondence fixture: a dataset with one scene of three frames and its first pair.
struct Fixture {
  fs::path split;
  data::FramePair pair;
  data::PairData data;
};

Fixture MakeData() {
  Fixture f;
  const fs::path root = Dataset(3, 200, 120);
  const auto ds = data::AnimeRunDataset::Open(root);
  f.split = ds.root();
  f.pair = ds.scenes().at(0).pairs.at(0);
  f.data = data::LoadPair(f.pair);
  return f;
}

// A segment of t with a ground-truth match, and another segment of t+1 to reassign it to.
std::pair<int, int> SegmentAndOtherTarget(const Fixture& f) {
  for (size_t i = 0; i < f.data.match_forward.size(); ++i)
    if (f.data.match_forward[i] >= 0) return {static_cast<int>(i), f.data.match_forward[i] == 0 ? 1 : 0};
  return {-1, -1};
}

fs::path TinyData() {
  const fs::path root = test::ScratchDir("train_data");
  data::SynthOptions s;
  s.width = 96;
  s.height = 64;
  s.frames = 3;
  s.scenes = 2;
  s.color_passes = 0;
  s.split = "train";
  data::GenerateSynthDataset(root, s);
  return root;
}

// Docked in the main window: follows the shown pair, and with "Every pair" runs on each
// pair the window shows, reusing the loaded network.
TEST(DockedPanels, FlowFollowsTheSessionsPair) {
  const fs::path root = test::ScratchDir("data");
  data::SynthOptions so;
  so.scenes = 1;
  so.frames = 3;
  so.width = 96;
  so.height = 64;
  so.color_passes = 0;
  data::GenerateSynthDataset(root, so);
  const QString w = SaveRandomWeights("raft-small", test::ScratchDir("weights"));
  MainWindowOptions mo;
  mo.use_settings = false;
  mo.modal_errors = false;
  mo.progress_dialog = false;
  MainWindow win(mo);
  ASSERT_NE(win.flowPanel(), nullptr);
  EXPECT_TRUE(win.ShowPanel("flow"));
  widgets::FlowPanel& panel = *win.flowPanel();
  EXPECT_FALSE(panel.HasPair());
  panel.SetModel(0, "raft-small");
  panel.SetWeights(0, w);
  panel.SetIterations(0, 1);
  panel.SetAutoRun(true);
  win.OpenFolder(Q(root));
  ASSERT_TRUE(win.WaitIdle(60000));
  ASSERT_TRUE(panel.HasPair());
  EXPECT_EQ(panel.GroundTruthImage().size(), QSize(96, 64));
  ASSERT_TRUE(panel.WaitIdle(120000));
  ASSERT_TRUE(panel.HasPrediction(0)) << panel.LastError().toStdString();
  win.NextPair();
  ASSERT_EQ(win.PairIndex(), 1);
  ASSERT_TRUE(panel.WaitIdle(120000));
  ASSERT_TRUE(panel.HasPrediction(0)) << panel.LastError().toStdString();
  const data::PairData& shown = win.pairView()->pair();
  EXPECT_LT(cv::norm(panel.Prediction(0), RunnerFlow("raft-small", w, 1, shown), cv::NORM_INF), 1e-4);
  EXPECT_EQ(panel.NetworksLoaded(), 1);
  EXPECT_EQ(panel.Metrics(0)->epe, flow::ScorePairFlow(shown, panel.Prediction(0)).epe);
}

TEST(DockedPanels, CorrespondencesFollowThePairAndTakeTheirKeys) {
  const Fixture f = MakeData();
  MainWindowOptions mo;
  mo.use_settings = false;
  mo.modal_errors = false;
  MainWindow w(mo);
  w.resize(1200, 800);
  w.show();
  w.OpenFolder(Q(f.split.parent_path()));
  ASSERT_TRUE(w.WaitIdle(60000));
  ASSERT_TRUE(w.PanelNames().contains("correspondence"));
  EXPECT_TRUE(w.ShowPanel("correspondence"));
  widgets::CorrespondencePanel* panel = w.correspondencePanel();
  ASSERT_TRUE(panel && panel->HasSession()) << (panel ? panel->LastError().toStdString() : "");
  EXPECT_EQ(panel->Files().matches, f.split / "Annotations" / "SegMatching" / f.pair.scene / "forward" / (f.pair.name1 + ".json"));
  EXPECT_EQ(panel->session().matches(), f.data.match_forward);

  // A click on frame t of the pair view selects the segment in the panel too.
  const auto [s, other] = SegmentAndOtherTarget(f);
  w.pairView()->SelectAt(0, PixelOf(f.data.segment1, s));
  EXPECT_EQ(panel->Selected(), s);
  ASSERT_TRUE(panel->ReassignSelected(other));

  // N in the panel steps its review queue; elsewhere it is the window's "next pair".
  ASSERT_TRUE(QTest::qWaitForWindowActive(&w));
  panel->Pane(0)->setFocus();
  QTest::keyClick(panel->Pane(0), Qt::Key_N);
  EXPECT_EQ(panel->QueuePosition(), 0);
  EXPECT_EQ(w.PairIndex(), 0);
  QTest::keyClick(panel->Pane(0), Qt::Key_Z, Qt::ControlModifier);
  EXPECT_EQ(panel->session().matches(), f.data.match_forward);
  QTest::keyClick(panel->Pane(0), Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
  EXPECT_EQ(panel->session().MatchOf(s), other);
  const std::vector<int> edited = panel->session().matches();

  // The next pair saves this one's edits first; coming back restores them.
  w.pairView()->setFocus();
  QTest::keyClick(w.pairView(), Qt::Key_N);
  ASSERT_EQ(w.Dataset()->scenes()[0].pairs.size(), 2u);
  EXPECT_EQ(w.PairIndex(), 1);
  EXPECT_EQ(panel->Files().matches.filename().string(), w.Dataset()->scenes()[0].pairs[1].name1 + ".json");
  EXPECT_EQ(io::ReadMatchJson(f.split / "Annotations" / "SegMatching" / f.pair.scene / "forward" / (f.pair.name1 + ".json")),
            edited);
  w.SetPair(0);
  EXPECT_EQ(panel->session().matches(), edited);
  EXPECT_EQ(panel->session().NumEdited(), 1);
}

TEST(DockedPanels, ToolsMenuOpensOneTrainDialogForTheOpenDataset) {
  const fs::path data = TinyData();
  MainWindowOptions mo;
  mo.use_settings = false;
  mo.modal_errors = false;
  mo.progress_dialog = false;
  MainWindow w(mo);
  QSignalSpy opened(&w, &MainWindow::datasetOpened);
  w.OpenFolder(Q(data / "train"), "");
  ASSERT_TRUE(opened.count() > 0 || opened.wait(20000));
  auto* action = w.findChild<QAction*>("action_train");
  ASSERT_NE(action, nullptr);
  action->trigger();
  auto* dialog = w.findChild<widgets::TrainDialog*>();
  ASSERT_NE(dialog, nullptr);
  EXPECT_TRUE(dialog->isVisible());
  EXPECT_EQ(fs::path(dialog->options().data), data);
  action->trigger();
  EXPECT_EQ(w.findChildren<widgets::TrainDialog*>().size(), 1);
}
}  // namespace
}  // namespace animerun::gui
