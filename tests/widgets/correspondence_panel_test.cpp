// The correspondence panel, offscreen: select / reassign / mark unmatched by clicks and
// keys, undo and redo back to the exact states, the review queue in confidence order (a
// real matcher on a worker thread), the autosaved file equal to the edits, reopening
// restores them, a corrupt annotation file (clear error, ground truth untouched, the file
// kept aside), read-only datasets, the N key taken from the window's shortcut, the dock in
// the main window (follows the pair and the pair view's selection), and a screenshot
// (test_scratch/<test>/correspondence_panel/correspondence_panel.png).
#include <gtest/gtest.h>

#include <QApplication>
#include <QComboBox>
#include <QLineEdit>
#include <QPushButton>
#include <QKeyEvent>
#include <QSignalSpy>
#include <QTest>
#include <QUndoStack>

#include <opencv2/imgproc.hpp>

#include "core/data/animerun_dataset.h"
#include "core/data/synth.h"
#include "core/flow/flow_models.h"
#include "core/io/match_json.h"
#include "core/segments/match_eval.h"
#include "core/util/fs.h"
#include "test_paths.h"
#include "widgets/common/image_pane.h"
#include "widgets/common/qt_image.h"
#include "widgets/correspondence/correspondence_panel.h"
#include "qstring_path.h"

namespace animerun::widgets {
namespace {

namespace fs = std::filesystem;

// A small synthetic dataset in the running test's scratch folder (annotations go beside it).
struct Fixture {
  fs::path split;
  data::FramePair pair;
  data::PairData data;
};

Fixture MakeData(int width = 200, int height = 120, int frames = 3) {
  Fixture f;
  const fs::path root = test::ScratchDir("data");
  data::SynthOptions o;
  o.scenes = 1;
  o.frames = frames;
  o.width = width;
  o.height = height;
  o.color_passes = 0;
  data::GenerateSynthDataset(root, o);
  const auto ds = data::AnimeRunDataset::Open(root);
  f.split = ds.root();
  f.pair = ds.scenes().at(0).pairs.at(0);
  f.data = data::LoadPair(f.pair);
  return f;
}

CorrespondencePanelOptions QuietCorrespondence(int autosave_ms = 10000) {
  CorrespondencePanelOptions o;
  o.modal_errors = false;
  o.autosave_delay_ms = autosave_ms;
  o.fallback_dir = Q(test::ScratchDir("user_data"));
  return o;
}

// A pixel inside segment id (the first in scan order).
cv::Point PixelOf(const cv::Mat& labels, int id) {
  for (int y = 0; y < labels.rows; ++y)
    for (int x = 0; x < labels.cols; ++x)
      if (labels.at<int>(y, x) == id) return {x, y};
  return {-1, -1};
}

// A segment of t with a ground-truth match, and another segment of t+1 to reassign it to.
std::pair<int, int> SegmentAndOtherTarget(const Fixture& f) {
  for (size_t i = 0; i < f.data.match_forward.size(); ++i)
    if (f.data.match_forward[i] >= 0) return {static_cast<int>(i), f.data.match_forward[i] == 0 ? 1 : 0};
  return {-1, -1};
}

std::shared_ptr<const data::PairData> Shared(const data::PairData& d) {
  return std::make_shared<const data::PairData>(d);
}

void Key(QWidget* w, Qt::Key key, Qt::KeyboardModifiers mods = Qt::NoModifier) {
  QKeyEvent press(QEvent::KeyPress, key, mods);
  QApplication::sendEvent(w, &press);
}

TEST(CorrespondencePanel, SelectReassignUnmatchAndUndoRedoExactly) {
  const Fixture f = MakeData();
  CorrespondencePanel panel(nullptr, QuietCorrespondence());
  panel.setPair(Q(f.split), f.pair, Shared(f.data));
  ASSERT_TRUE(panel.HasSession()) << panel.LastError().toStdString();
  ASSERT_GE(f.data.match_forward.size(), 3u);
  const std::vector<int> gt = panel.session().matches();
  EXPECT_EQ(panel.session().proposal().source, "gt");
  EXPECT_EQ(gt, std::vector<int>(f.data.match_forward.begin(), f.data.match_forward.end()));

  const auto [s, other] = SegmentAndOtherTarget(f);
  ASSERT_GE(s, 0);
  // Click on t selects; frame t+1's highlight is the current match.
  panel.ClickAt(0, PixelOf(f.data.segment1, s));
  EXPECT_EQ(panel.Selected(), s);
  EXPECT_NE(panel.SelectionText().indexOf(QString("<b>%1</b> in t+1").arg(gt[s])), -1) << panel.SelectionText().toStdString();
  EXPECT_NE(panel.SelectionText().indexOf("confidence 1.00"), -1);
  const QImage before_t1 = panel.RenderedImage(1);

  // Click on t+1 reassigns.
  panel.ClickAt(1, PixelOf(f.data.segment2, other));
  EXPECT_EQ(panel.session().MatchOf(s), other);
  EXPECT_TRUE(panel.session().IsEdited(s));
  EXPECT_NE(panel.RenderedImage(1), before_t1);  // the highlight moved
  const std::vector<int> after_reassign = panel.session().matches();

  // U marks unmatched; Delete on another segment too.
  Key(&panel, Qt::Key_U);
  EXPECT_EQ(panel.session().MatchOf(s), -1);
  const std::vector<int> after_unmatch = panel.session().matches();
  panel.SelectSegment(s == 0 ? 1 : 0);
  const int s2 = panel.Selected();
  Key(&panel, Qt::Key_Delete);
  EXPECT_EQ(panel.session().MatchOf(s2), -1);
  const std::vector<int> after_delete = panel.session().matches();
  EXPECT_EQ(panel.undoStack()->count(), 3);
  // Restore (R) goes back to the proposal.
  panel.SelectSegment(s);
  Key(&panel, Qt::Key_R);
  EXPECT_EQ(panel.session().MatchOf(s), gt[s]);
  EXPECT_EQ(panel.undoStack()->count(), 4);

  // Undo walks back through every state exactly (keys and the stack).
  Key(&panel, Qt::Key_Z, Qt::ControlModifier);
  EXPECT_EQ(panel.session().matches(), after_delete);
  panel.undoStack()->undo();
  EXPECT_EQ(panel.session().matches(), after_unmatch);
  panel.undoStack()->undo();
  EXPECT_EQ(panel.session().matches(), after_reassign);
  panel.undoStack()->undo();
  EXPECT_EQ(panel.session().matches(), gt);
  EXPECT_EQ(panel.session().NumEdited(), 0);
  // Redo forward again.
  Key(&panel, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
  EXPECT_EQ(panel.session().matches(), after_reassign);
  panel.undoStack()->redo();
  panel.undoStack()->redo();
  EXPECT_EQ(panel.session().matches(), after_delete);
  panel.undoStack()->redo();
  EXPECT_EQ(panel.session().MatchOf(s), gt[s]);
  EXPECT_EQ(panel.session().MatchOf(s2), -1);

  // Nothing selected: edits are refused, nothing pushed.
  panel.ClickAt(0, {-5, -5});
  EXPECT_EQ(panel.Selected(), -1);
  EXPECT_FALSE(panel.MarkSelectedUnmatched());
  EXPECT_FALSE(panel.ReassignSelected(0));
  EXPECT_EQ(panel.undoStack()->count(), 4);
}

TEST(CorrespondencePanel, PanelKeysWinOverTheWindowShortcuts) {
  CorrespondencePanel panel(nullptr, QuietCorrespondence());
  for (auto [key, mods] : std::vector<std::pair<Qt::Key, Qt::KeyboardModifiers>>{
           {Qt::Key_N, Qt::NoModifier}, {Qt::Key_N, Qt::ShiftModifier}, {Qt::Key_U, Qt::NoModifier},
           {Qt::Key_Delete, Qt::NoModifier}, {Qt::Key_Z, Qt::ControlModifier}}) {
    QKeyEvent ev(QEvent::ShortcutOverride, key, mods);
    ev.ignore();
    QApplication::sendEvent(&panel, &ev);
    EXPECT_TRUE(ev.isAccepted()) << key;
  }
  QKeyEvent other(QEvent::ShortcutOverride, Qt::Key_P, Qt::NoModifier);
  other.ignore();
  QApplication::sendEvent(&panel, &other);
  EXPECT_FALSE(other.isAccepted());  // P (previous pair) stays the window's
}

TEST(CorrespondencePanel, ReviewQueueStepsLeastConfidentFirst) {
  const Fixture f = MakeData();
  CorrespondencePanel panel(nullptr, QuietCorrespondence());
  panel.setPair(Q(f.split), f.pair, Shared(f.data));
  ASSERT_TRUE(panel.HasSession());
  QSignalSpy done(&panel, &CorrespondencePanel::matcherFinished);
  panel.RunMatcher("geometric");
  EXPECT_TRUE(panel.Busy());
  ASSERT_TRUE(panel.WaitIdle(60000));
  ASSERT_EQ(done.count(), 1);
  ASSERT_TRUE(done.at(0).at(0).toBool()) << done.at(0).at(1).toString().toStdString();
  const auto& sess = panel.session();
  EXPECT_EQ(sess.proposal().source, "geometric");
  const int n = sess.NumSegments0();
  ASSERT_EQ(panel.QueueSize(), n);
  EXPECT_EQ(panel.QueueText(), QString("0 of %1").arg(n));

  // N visits every segment once, confidences never decreasing.
  std::vector<int> visited;
  float last = -1.f;
  for (int k = 0; k < n; ++k) {
    Key(&panel, Qt::Key_N);
    EXPECT_EQ(panel.QueueText(), QString("%1 of %2").arg(k + 1).arg(n));
    const int id = panel.Selected();
    visited.push_back(id);
    EXPECT_GE(sess.Confidence(id), last) << "step " << k;
    last = sess.Confidence(id);
  }
  std::vector<int> sorted = visited;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < n; ++i) EXPECT_EQ(sorted[i], i);
  // The first one is the least confident of all.
  const float min_conf = *std::min_element(sess.proposal().confidence.begin(), sess.proposal().confidence.end());
  EXPECT_EQ(sess.Confidence(visited[0]), min_conf);
  // Shift+N steps back; N past the end wraps to the first.
  Key(&panel, Qt::Key_N, Qt::ShiftModifier);
  EXPECT_EQ(panel.Selected(), visited[n - 2]);
  Key(&panel, Qt::Key_N);
  Key(&panel, Qt::Key_N);
  EXPECT_EQ(panel.Selected(), visited[0]);
  EXPECT_EQ(panel.QueueText(), QString("1 of %1").arg(n));

  // An edit survives switching the proposal back to the ground truth.
  const int target = sess.MatchOf(visited[0]) == 0 ? 1 : 0;
  ASSERT_TRUE(panel.ReassignSelected(target));
  panel.RunMatcher("gt");
  EXPECT_EQ(sess.proposal().source, "gt");
  EXPECT_EQ(sess.MatchOf(visited[0]), target);
  EXPECT_EQ(sess.NumEdited(), target == f.data.match_forward[visited[0]] ? 0 : 1);

  // Zoomed in, stepping the queue scrolls both panes to the segment and its match.
  panel.resize(1000, 300);
  panel.show();
  QApplication::processEvents();
  panel.Pane(0)->SetZoom(8.0);
  panel.Pane(1)->SetZoom(8.0);
  for (int k = 0; k < 5; ++k) {
    Key(&panel, Qt::Key_N);
    const int id = panel.Selected();
    const cv::Rect r = cv::boundingRect(f.data.segment1 == id);
    const QRectF seen = panel.Pane(0)->mapToScene(panel.Pane(0)->viewport()->rect()).boundingRect();
    EXPECT_TRUE(seen.intersects(QRectF(r.x, r.y, r.width, r.height))) << "segment " << id;
  }

  // The flow-guided matcher with the pair's own (ground-truth) flow.
  panel.RunMatcher("flow");
  ASSERT_TRUE(panel.WaitIdle(60000));
  ASSERT_TRUE(done.last().at(0).toBool()) << done.last().at(1).toString().toStdString();
  EXPECT_EQ(sess.proposal().source, "flow");
  int agree = 0;
  for (int i = 0; i < n; ++i) agree += sess.proposal().matches[i] == f.data.match_forward[i];
  EXPECT_GT(agree, n / 2);  // exact flow: most matches are right

  // A matcher that cannot run reports its error.
  segments::MatcherOptions missing;  // an AnT checkpoint that is not there
  missing.weights = (test::ScratchDir("no_weights") / "missing.pth").string();
  panel.RunMatcher("ant", missing);
  ASSERT_TRUE(panel.WaitIdle(20000));
  EXPECT_FALSE(done.last().at(0).toBool());
  EXPECT_NE(panel.LastError().indexOf("missing.pth"), -1) << panel.LastError().toStdString();
}

TEST(CorrespondencePanel, AutosavesTheEditsAndReopeningRestoresThem) {
  const Fixture f = MakeData();
  const std::string gt_bytes = ReadFileText(f.pair.match_forward);
  std::vector<int> edited;
  fs::path saved_file;
  {
    CorrespondencePanel panel(nullptr, QuietCorrespondence(30));
    panel.setPair(Q(f.split), f.pair, Shared(f.data));
    ASSERT_TRUE(panel.HasSession());
    saved_file = panel.Files().matches;
    EXPECT_EQ(saved_file, f.split / "Annotations" / "SegMatching" / f.pair.scene / "forward" / (f.pair.name1 + ".json"));
    EXPECT_FALSE(fs::exists(f.split / "Annotations"));  // nothing edited, nothing written
    // Laid out as `eval-match --pred` reads predictions.
    EXPECT_EQ(saved_file, segments::MatchPredictionPath(f.split / "Annotations" / "SegMatching", f.pair));
    QSignalSpy saved(&panel, &CorrespondencePanel::saved);
    const auto [s, other] = SegmentAndOtherTarget(f);
    panel.SelectSegment(s);
    panel.ReassignSelected(other);
    panel.SelectSegment(s == 0 ? 1 : 0);
    panel.MarkSelectedUnmatched();
    EXPECT_TRUE(panel.AutosavePending());
    ASSERT_TRUE(saved.wait(5000));
    EXPECT_EQ(saved.count(), 1);  // debounced: both edits in one save
    EXPECT_FALSE(panel.session().Dirty());
    edited = panel.session().matches();
    EXPECT_EQ(io::ReadMatchJson(saved_file, panel.session().NumSegments0()), edited);
    EXPECT_NE(edited, f.data.match_forward);
    // An edit then a pair change: the pending edit is saved first.
    panel.SelectSegment(s);
    panel.MarkSelectedUnmatched();
    edited = panel.session().matches();
    panel.clearPair();
    EXPECT_EQ(io::ReadMatchJson(saved_file), edited);
  }
  EXPECT_EQ(ReadFileText(f.pair.match_forward), gt_bytes);  // the ground truth untouched

  CorrespondencePanel reopened(nullptr, QuietCorrespondence());
  reopened.setPair(Q(f.split), f.pair, Shared(f.data));
  EXPECT_EQ(reopened.session().matches(), edited);
  EXPECT_EQ(reopened.session().proposal().source, "gt");
  EXPECT_EQ(reopened.session().NumEdited(), 2);
  EXPECT_NE(reopened.Status().indexOf("Restored 2 edit(s)"), -1) << reopened.Status().toStdString();
  EXPECT_TRUE(reopened.LastError().isEmpty());
}

// An edit is on disk (the journal) before the debounced autosave runs: a panel that never
// saves (as when the app is killed) loses nothing; the next one restores the edit.
TEST(CorrespondencePanel, EditsSurviveAKillBeforeTheAutosave) {
  const Fixture f = MakeData();
  std::vector<int> edited;
  {
    CorrespondencePanel panel(nullptr, QuietCorrespondence(600000));
    panel.setPair(Q(f.split), f.pair, Shared(f.data));
    const auto [s, other] = SegmentAndOtherTarget(f);
    panel.SelectSegment(s);
    panel.ReassignSelected(other);
    EXPECT_TRUE(panel.AutosavePending());
    edited = panel.session().matches();
    EXPECT_FALSE(fs::exists(panel.Files().matches));  // not saved yet
    // Reopen while the first panel still holds the unsaved edit, as after a SIGKILL.
    CorrespondencePanel reopened(nullptr, QuietCorrespondence());
    reopened.setPair(Q(f.split), f.pair, Shared(f.data));
    EXPECT_EQ(reopened.session().matches(), edited);
    EXPECT_NE(reopened.Status().indexOf("recovered after an interruption"), -1) << reopened.Status().toStdString();
    EXPECT_TRUE(reopened.LastError().isEmpty()) << reopened.LastError().toStdString();
  }
}

TEST(CorrespondencePanel, CorruptAnnotationIsReportedKeptAsideAndGroundTruthShown) {
  const Fixture f = MakeData();
  const std::string gt_bytes = ReadFileText(f.pair.match_forward);
  const fs::path file = f.split / "Annotations" / "SegMatching" / f.pair.scene / "forward" / (f.pair.name1 + ".json");
  WriteFileAtomic(file, std::string("{\"0\": [3], \"1\": ["));  // truncated
  CorrespondencePanel panel(nullptr, QuietCorrespondence(20));
  panel.setPair(Q(f.split), f.pair, Shared(f.data));
  ASSERT_TRUE(panel.HasSession());
  EXPECT_NE(panel.LastError().indexOf(Q(file)), -1) << panel.LastError().toStdString();
  EXPECT_NE(panel.LastError().indexOf("ground truth"), -1);
  EXPECT_EQ(panel.session().matches(), f.data.match_forward);
  EXPECT_EQ(ReadFileText(fs::path(file.string() + ".corrupt")), "{\"0\": [3], \"1\": [");
  EXPECT_FALSE(fs::exists(file));
  // Editing works and saves a fresh file; the ground truth is never written.
  panel.SelectSegment(0);
  panel.MarkSelectedUnmatched();
  ASSERT_TRUE(panel.SaveNow());
  EXPECT_EQ(io::ReadMatchJson(file)[0], -1);
  EXPECT_EQ(ReadFileText(f.pair.match_forward), gt_bytes);
}

TEST(CorrespondencePanel, UnwritableDatasetSavesInTheUserFolder) {
  const Fixture f = MakeData();
  // Annotations cannot be created beside the dataset (as on a read-only mount; a file of
  // that name blocks it even for root): the user's data folder takes the edits.
  WriteFileAtomic(f.split / "Annotations", std::string("blocked"));
  const CorrespondencePanelOptions o = QuietCorrespondence(20);
  CorrespondencePanel panel(nullptr, o);
  panel.setPair(Q(f.split), f.pair, Shared(f.data));
  ASSERT_TRUE(panel.HasSession()) << panel.LastError().toStdString();
  EXPECT_EQ(panel.Files().matches.string().rfind(o.fallback_dir.toStdString(), 0), 0u) << panel.Files().matches;
  panel.SelectSegment(0);
  panel.MarkSelectedUnmatched();
  EXPECT_TRUE(panel.SaveNow()) << panel.LastError().toStdString();
  EXPECT_EQ(io::ReadMatchJson(panel.Files().matches)[0], -1);
  EXPECT_EQ(ReadFileText(f.split / "Annotations"), "blocked");
  // Reopening finds them there again.
  CorrespondencePanel again(nullptr, o);
  again.setPair(Q(f.split), f.pair, Shared(f.data));
  EXPECT_EQ(again.session().matches(), panel.session().matches());
}

TEST(CorrespondencePanel, NoSegmentMapsAndScreenshot) {
  const Fixture f = MakeData();
  CorrespondencePanel panel(nullptr, QuietCorrespondence());
  data::PairData bare = f.data;
  bare.segment2 = cv::Mat();
  panel.setPair(Q(f.split), f.pair, Shared(bare));
  EXPECT_FALSE(panel.HasSession());
  EXPECT_FALSE(panel.MarkSelectedUnmatched());
  panel.RunMatcher("gt");
  EXPECT_FALSE(panel.LastError().isEmpty());

  panel.setPair(Q(f.split), f.pair, Shared(f.data));
  ASSERT_TRUE(panel.HasSession());
  const auto [s, other] = SegmentAndOtherTarget(f);
  panel.SelectSegment(s);
  panel.ReassignSelected(other);
  // The checkpoint field shows for ant only.
  auto* source = panel.findChild<QComboBox*>();
  auto* weights = panel.findChild<QLineEdit*>();
  ASSERT_TRUE(source && weights);
  EXPECT_TRUE(weights->isHidden());
  source->setCurrentIndex(source->findData("ant"));
  EXPECT_FALSE(weights->isHidden());
  source->setCurrentIndex(source->findData("gt"));
  EXPECT_TRUE(weights->isHidden());
  panel.resize(1000, 300);  // docked at the bottom of the main window: wide and short
  panel.show();
  QApplication::processEvents();
  const fs::path shot = test::ScratchDir("correspondence_panel") / "correspondence_panel.png";
  const QImage img = panel.grab().toImage();
  ASSERT_TRUE(img.save(Q(shot)));
  EXPECT_EQ(img.width(), 1000);
  // The selected segment's yellow fill is visible in the rendered frames.
  const QImage t = panel.RenderedImage(0).convertToFormat(QImage::Format_RGB888);
  const cv::Point p = PixelOf(f.data.segment1, s);
  ASSERT_GE(p.x, 0);
  int highlighted = 0;
  for (int y = 0; y < t.height(); ++y)
    for (int x = 0; x < t.width(); ++x)
      if (f.data.segment1.at<int>(y, x) == s && t.pixelColor(x, y) != QColor(f.data.image1.at<cv::Vec3b>(y, x)[0],
                                                                                f.data.image1.at<cv::Vec3b>(y, x)[1],
                                                                                f.data.image1.at<cv::Vec3b>(y, x)[2]))
        ++highlighted;
  EXPECT_GT(highlighted, 0);
}


TEST(CorrespondencePanel, AntMatcherWithTheGoldenCheckpoint) {
  ANIMERUN_REQUIRE_GOLDEN();
  const Fixture f = MakeData();
  CorrespondencePanel panel(nullptr, QuietCorrespondence());
  panel.setPair(Q(f.split), f.pair, Shared(f.data));
  ASSERT_TRUE(panel.HasSession());
  QSignalSpy done(&panel, &CorrespondencePanel::matcherFinished);
  segments::MatcherOptions o;
  o.weights = (test::GoldenDir() / "ant" / "ant.pt").string();
  panel.RunMatcher("ant", o);
  ASSERT_TRUE(panel.WaitIdle(120000));
  ASSERT_EQ(done.count(), 1);
  ASSERT_TRUE(done.at(0).at(0).toBool()) << done.at(0).at(1).toString().toStdString();
  const auto& sess = panel.session();
  EXPECT_EQ(sess.proposal().source, "ant");
  // The network's softmax maxima: in (0, 1], and not all equal.
  float lo = 2.f, hi = -1.f;
  for (float c : sess.proposal().confidence) lo = std::min(lo, c), hi = std::max(hi, c);
  EXPECT_GT(lo, 0.f);
  EXPECT_LE(hi, 1.f);
  EXPECT_LT(lo, hi);
  Key(&panel, Qt::Key_N);
  EXPECT_FLOAT_EQ(sess.Confidence(panel.Selected()), lo);
  // Saved with its confidences: reopening shows the same review order.
  ASSERT_TRUE(panel.SaveNow());
  CorrespondencePanel reopened(nullptr, QuietCorrespondence());
  reopened.setPair(Q(f.split), f.pair, Shared(f.data));
  EXPECT_EQ(reopened.session().proposal().source, "ant");
  EXPECT_EQ(reopened.session().ReviewQueue(), sess.ReviewQueue());
}

// The demo's path: AnT chosen, the weights field left empty, Run. The built-in weights (when
// the binary has them) match the generated pair, mostly as the ground truth does.
TEST(CorrespondencePanel, AntWithAnEmptyFieldRunsTheBuiltInWeights) {
  if (flow::BuiltinWeightsRef("ant").empty()) GTEST_SKIP() << "no built-in AnT weights in this build";
  const Fixture f = MakeData(480, 272, 2);
  const data::PairData& d = f.data;
  CorrespondencePanel panel(nullptr, QuietCorrespondence());
  panel.setPair(Q(f.split), f.pair, Shared(d));
  ASSERT_TRUE(panel.HasSession());
  auto* source = panel.findChild<QComboBox*>();
  auto* weights = panel.findChild<QLineEdit*>();
  ASSERT_TRUE(source && weights);
  source->setCurrentIndex(source->findData("ant"));
  EXPECT_TRUE(weights->text().isEmpty());
  EXPECT_NE(weights->placeholderText().indexOf("built-in"), -1);
  QPushButton* run = nullptr;
  for (auto* b : panel.findChildren<QPushButton*>())
    if (b->text() == "Run") run = b;
  ASSERT_NE(run, nullptr);
  QSignalSpy done(&panel, &CorrespondencePanel::matcherFinished);
  run->click();
  ASSERT_TRUE(panel.WaitIdle(120000));
  ASSERT_EQ(done.count(), 1);
  ASSERT_TRUE(done.at(0).at(0).toBool()) << done.at(0).at(1).toString().toStdString();
  const auto& proposal = panel.session().proposal();
  EXPECT_EQ(proposal.source, "ant");
  int agree = 0, total = 0;
  for (size_t i = 0; i < d.match_forward.size() && i < proposal.matches.size(); ++i) {
    ++total;
    agree += proposal.matches[i] == d.match_forward[i];
  }
  ASSERT_GT(total, 20);
  EXPECT_GT(static_cast<double>(agree) / total, 0.6) << agree << " of " << total;
  std::printf("[builtin ant] %d of %d segments as the ground truth\n", agree, total);
  panel.resize(1200, 420);
  panel.show();
  QApplication::processEvents();
  EXPECT_TRUE(panel.grab().save(Q(test::ScratchDir("builtin_ant_shot") / "correspondence_builtin_ant.png")));
}

}  // namespace
}  // namespace animerun::widgets
