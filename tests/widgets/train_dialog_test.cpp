// The training dialog, offscreen, driving the real `animerun train` on a tiny synthetic
// dataset: curves get points, Stop is graceful (checkpoint, "stopped"), Resume redraws
// the earlier curve and continues, invalid options never start a process, a child that
// dies mid-run leaves the dialog alive, a new field in the events becomes a curve to
// choose. Screenshot: test_scratch/.../train_dialog.png. Tools > Train: tests/app/gui.
#include <gtest/gtest.h>

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QFile>
#include <QLineEdit>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>

#include <qcustomplot.h>

#include "core/data/synth.h"
#include "core/train/trainer.h"
#include "test_paths.h"
#include "widgets/train/train_curves_view.h"
#include "widgets/train/train_dialog.h"

namespace animerun::widgets {
namespace {

namespace fs = std::filesystem;

QString Q(const fs::path& p) { return QString::fromStdString(p.string()); }
const QString kAnimerun = QString(ANIMERUN_EXE);

fs::path TinyData() {
  const fs::path root = test::ScratchDir("data");
  data::SynthOptions s;
  s.width = 96;
  s.height = 64;
  s.frames = 3;
  s.scenes = 2;
  s.color_passes = 0;
  s.split = "train";
  data::GenerateSynthDataset(root, s);
  s.split = "test";
  s.scenes = 1;
  data::GenerateSynthDataset(root, s);
  return root;
}

train::TrainOptions Tiny(const fs::path& data, int iterations) {
  train::TrainOptions o = train::TrainPreset("ant-tiny");
  o.data = data.string();
  o.iterations = iterations;
  o.accumulation = 1;
  o.crop_height = 48;
  o.crop_width = 64;
  o.checkpoint_every = 0;
  o.eval_every = 2;
  o.eval_pairs = 1;
  return o;
}

bool WaitFor(const std::function<bool()>& cond, int ms) {
  for (int waited = 0; waited < ms; waited += 20) {
    if (cond()) return true;
    QTest::qWait(20);
  }
  return cond();
}

TEST(TrainDialog, FormMirrorsTheOptionsStruct) {
  TrainDialog d(nullptr, {false});
  train::TrainOptions o = train::TrainPreset("ant-tiny");
  o.data = "/some/data";
  o.lr = 2.5e-4;
  o.area_weighted = false;
  d.setOptions(o);
  EXPECT_EQ(d.options().ToJson(), o.ToJson());
  for (const auto& f : train::TrainOptionFields())
    EXPECT_NE(d.findChild<QWidget*>(QString::fromStdString("option_" + f.key)), nullptr) << f.key;
  // An unparsable number is refused before any process starts.
  d.findChild<QLineEdit*>("option_lr")->setText("fast");
  d.setRunDir(Q(test::ScratchDir("run")));
  EXPECT_FALSE(d.startTraining());
  EXPECT_FALSE(d.isRunning());
  EXPECT_TRUE(d.logText().contains("lr")) << d.logText().toStdString();
}

TEST(TrainDialog, RunsStopsAndResumesTheRealTrainer) {
  ASSERT_TRUE(QFile::exists(kAnimerun)) << "build the animerun target first";
  const fs::path data = TinyData();
  const fs::path run = test::ScratchDir("run");
  // One LibTorch thread in the child: on a loaded 2-core machine OpenMP's spinning
  // barriers make 2 threads several times slower than 1.
  qputenv("ANIMERUN_THREADS", "1");
  TrainDialog d(nullptr, {false});
  d.setProgram(kAnimerun);
  d.setRunDir(Q(run));
  d.setOptions(Tiny(data, 400));
  d.show();
  QSignalSpy finished(&d, &TrainDialog::trainingFinished);
  ASSERT_TRUE(d.startTraining());
  EXPECT_TRUE(d.isRunning());
  ASSERT_TRUE(WaitFor([&] { return d.lastIteration() >= 3 || !d.isRunning(); }, 90000)) << d.logText().toStdString();
  d.stopTraining();
  ASSERT_TRUE(finished.count() > 0 || finished.wait(60000)) << d.logText().toStdString();
  const int stopped_at = d.lastIteration();
  EXPECT_GE(stopped_at, 3);
  EXPECT_LT(stopped_at, 400);
  EXPECT_EQ(finished.at(0).at(0).toInt(), 0);
  EXPECT_TRUE(finished.at(0).at(1).toBool()) << "not a graceful stop";
  EXPECT_FALSE(finished.at(0).at(2).toBool());
  EXPECT_EQ(d.lossPointCount(), stopped_at);
  EXPECT_EQ(d.accuracyPointCount(), stopped_at);
  EXPECT_TRUE(fs::exists(run / train::kCheckpointFile));
  EXPECT_TRUE(d.findChild<QWidget*>("train_resume")->isEnabled());

  // Resume up to stopped_at + 2 updates: the old curve is replayed, the new points appended.
  train::TrainOptions more = d.options();
  more.iterations = stopped_at + 2;
  d.setOptions(more);
  finished.clear();
  ASSERT_TRUE(d.resumeTraining());
  ASSERT_TRUE(finished.wait(90000)) << d.logText().toStdString();
  EXPECT_FALSE(finished.at(0).at(1).toBool());
  EXPECT_FALSE(finished.at(0).at(2).toBool());
  EXPECT_EQ(d.lastIteration(), stopped_at + 2);
  EXPECT_EQ(d.lossPointCount(), stopped_at + 2);
  EXPECT_GE(d.validationPointCount(), 2);  // every 2 updates and at the end
  const QCPRange x = d.lossPlot()->xAxis->range();
  EXPECT_LE(x.lower, 1.0);
  EXPECT_GE(x.upper, stopped_at + 2.0);

  const fs::path shot = test::ScratchRoot() / "train_dialog.png";
  EXPECT_TRUE(d.grab().save(Q(shot)));
}

TEST(TrainDialog, ACrashingChildLeavesTheDialogAlive) {
  const fs::path dir = test::ScratchDir("fake");
  const fs::path script = dir / "crashing_trainer.sh";
  {
    QFile f(Q(script));
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("#!/bin/sh\n"
            "echo '{\"event\":\"start\",\"iter\":0,\"iterations\":5}'\n"
            "echo '{\"event\":\"step\",\"iter\":1,\"loss\":2.5,\"acc\":0.25,\"seconds\":0.1}'\n"
            "echo 'some stray output'\n"
            "echo 'boom' >&2\n"
            "kill -9 $$\n");
    f.setPermissions(f.permissions() | QFileDevice::ExeOwner);
  }
  TrainDialog d(nullptr, {false});
  d.setProgram(Q(script));
  d.setRunDir(Q(dir / "run"));
  d.setOptions(Tiny(dir, 5));
  QSignalSpy finished(&d, &TrainDialog::trainingFinished);
  ASSERT_TRUE(d.startTraining());
  ASSERT_TRUE(finished.wait(20000));
  EXPECT_TRUE(finished.at(0).at(2).toBool()) << "a killed child must count as crashed";
  EXPECT_EQ(d.lossPointCount(), 1);
  EXPECT_TRUE(d.logText().contains("boom"));
  EXPECT_TRUE(d.logText().contains("some stray output"));
  EXPECT_FALSE(d.isRunning());
  EXPECT_TRUE(d.findChild<QWidget*>("train_start")->isEnabled());

  // A program that does not exist: an error, no crash, no running state.
  d.setProgram(Q(dir / "no_such_binary"));
  d.startTraining();
  EXPECT_FALSE(d.isRunning());
}


TEST(TrainDialog, ANewNumberInTheEventsBecomesACurveToChoose) {
  // A task that reports an end-point error and a learning-rate schedule (the flow tasks):
  // no dialog change is needed to plot them.
  const fs::path dir = test::ScratchDir("fake");
  const fs::path script = dir / "flow_trainer.sh";
  {
    QFile f(Q(script));
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("#!/bin/sh\n"
            "echo '{\"event\":\"start\",\"iter\":0,\"iterations\":3}'\n"
            "echo '{\"event\":\"step\",\"iter\":1,\"loss\":9.0,\"epe\":7.5,\"lr\":0.0004}'\n"
            "echo '{\"event\":\"step\",\"iter\":2,\"loss\":8.0,\"epe\":6.5,\"lr\":0.0003}'\n"
            "echo '{\"event\":\"eval\",\"iter\":2,\"metrics\":{\"epe\":6.0,\"px1\":0.2}}'\n"
            "echo '{\"event\":\"done\",\"iter\":2,\"reason\":\"finished\"}'\n");
    f.setPermissions(f.permissions() | QFileDevice::ExeOwner);
  }
  TrainDialog d(nullptr, {false});
  d.setProgram(Q(script));
  d.setRunDir(Q(dir / "run"));
  d.setOptions(Tiny(dir, 3));
  QSignalSpy finished(&d, &TrainDialog::trainingFinished);
  ASSERT_TRUE(d.startTraining());
  ASSERT_TRUE(finished.wait(20000));
  EXPECT_FALSE(finished.at(0).at(2).toBool());
  EXPECT_EQ(d.lossPointCount(), 2);
  auto* metric = d.findChild<QComboBox*>("train_metric");
  ASSERT_NE(metric, nullptr);
  EXPECT_GE(metric->findText("epe"), 0);
  EXPECT_GE(metric->findText("lr"), 0);
  EXPECT_GE(metric->findText("px1"), 0);
  EXPECT_LT(metric->findText("loss"), 0) << "losses have their own plot";
  d.curvesView()->SetMetric("epe");
  EXPECT_EQ(d.curvesView()->MetricPoints(false), 2);
  EXPECT_EQ(d.curvesView()->MetricPoints(true), 1);
  EXPECT_EQ(d.accuracyPlot()->graph(0)->dataCount(), 2);
  EXPECT_TRUE(d.findChild<QLabel*>("train_status")->text().contains("Finished"));
}

}  // namespace
}  // namespace animerun::widgets
