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
#include "models/common/flow_factory.h"
#include "core/train/trainer.h"
#include "test_paths.h"
#include "widgets/train/mixture_table.h"
#include "widgets/train/train_curves_view.h"
#include "widgets/train/train_dialog.h"
#include "widgets/train/train_options_form.h"
#include "qstring_path.h"

#include <QPushButton>
#include <QTableWidget>

#include <csignal>

namespace animerun::widgets {
namespace {

namespace fs = std::filesystem;

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
  // The preset box names the recipe the options are, else (custom); choosing one fills the
  // form and keeps the data folder.
  auto* preset = d.findChild<QComboBox*>("train_preset");
  ASSERT_NE(preset, nullptr);
  EXPECT_EQ(preset->currentText(), "(custom)") << "lr was changed";
  preset->setCurrentText("flow-tiny");
  EXPECT_EQ(d.options().task, "flow");
  EXPECT_EQ(d.options().data, "/some/data");
  EXPECT_EQ(preset->currentText(), "flow-tiny");
  EXPECT_TRUE(d.mixtureTable()->isVisibleTo(&d));
  d.setOptions(o);
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

// A real flow-tiny run from the dialog: the flow fields show and the AnT ones hide, the
// mixture table checks the data, curves of loss, learning rate and validation EPE fill,
// a crash injected into the child (SIGSEGV after a checkpoint) is explained and Resume
// finishes the run from that checkpoint, and "Open in Flow panel" hands over the exported
// and the start weights.
TEST(TrainDialog, FlowRunWithMixtureCurvesCrashResumeAndComparison) {
  ASSERT_TRUE(QFile::exists(kAnimerun)) << "build the animerun target first";
  const fs::path data = TinyData();
  const fs::path run = test::ScratchDir("flow_run");
  const fs::path start = test::ScratchDir("flow_start") / "start.pth";
  models::CreateFlowModel("raft-small")->SaveWeights(start.string());
  qputenv("ANIMERUN_THREADS", "1");
  TrainDialog d(nullptr, {false});
  d.setProgram(kAnimerun);
  d.setRunDir(Q(run));
  d.resize(1200, 820);
  d.show();
  train::TrainOptions o = train::TrainPreset("flow-tiny");
  o.data = data.string();
  o.init_weights = start.string();
  o.iterations = 6;
  o.batch_size = 1;
  o.crop_height = 128;  // RAFT's smallest (the frames are upscaled to fit)
  o.crop_width = 128;
  o.refine_iters = 2;
  o.eval_every = 2;
  o.eval_pairs = 1;
  o.eval_iters = 2;
  o.checkpoint_every = 2;
  o.min_scale = 0.0;
  o.max_scale = 0.2;
  d.setOptions(o);
  EXPECT_EQ(d.options().ToJson(), o.ToJson());
  // The form shows the flow fields, hides AnT's; the table lists the mixture.
  EXPECT_FALSE(d.form()->editor("model")->isHidden());
  EXPECT_TRUE(d.form()->editor("area_weighted")->isHidden());
  EXPECT_TRUE(d.mixtureTable()->isVisible());
  QTableWidget* rows = d.mixtureTable()->table();
  ASSERT_EQ(rows->rowCount(), 1);
  QSignalSpy scanned(d.mixtureTable(), &MixtureTable::scanFinished);
  d.mixtureTable()->check();
  ASSERT_TRUE(scanned.count() > 0 || scanned.wait(60000));
  EXPECT_EQ(rows->item(0, 3)->text(), "4") << "2 scenes of 3 frames";
  EXPECT_EQ(rows->item(0, 4)->text(), "96x64");
  // Editing the factor in the table writes the spec into the form.
  d.mixtureTable()->controller().SetRepeat(0, 3);
  EXPECT_EQ(d.options().datasets, "anime:3");

  // Start; after the checkpoint of iteration 2 the child dies of SIGSEGV.
  QSignalSpy finished(&d, &TrainDialog::trainingFinished);
  bool injected = false;
  QObject::connect(&d, &TrainDialog::trainingEvent, &d, [&](const QString& type, int iter) {
    if (type == "checkpoint" && iter >= 2 && !injected) {
      injected = true;
      ::kill(d.controller().ChildPid(), SIGSEGV);
    }
  });
  ASSERT_TRUE(d.startTraining()) << d.logText().toStdString();
  ASSERT_TRUE(finished.wait(240000)) << d.logText().toStdString();
  ASSERT_TRUE(injected) << d.logText().toStdString();
  EXPECT_TRUE(finished.at(0).at(2).toBool()) << "the SIGSEGV counts as a crash";
  EXPECT_TRUE(d.crashText().contains("SIGSEGV")) << d.crashText().toStdString();
  EXPECT_TRUE(d.crashText().contains("checkpoint of iteration 2")) << d.crashText().toStdString();
  EXPECT_TRUE(d.findChild<QWidget*>("train_resume")->isEnabled());
  EXPECT_TRUE(d.grab().save(Q(test::ScratchRoot() / "train_dialog_flow_crashed.png")));

  // Resume runs to the end from that checkpoint.
  finished.clear();
  ASSERT_TRUE(d.resumeTraining());
  ASSERT_TRUE(finished.wait(240000)) << d.logText().toStdString();
  EXPECT_FALSE(finished.at(0).at(2).toBool()) << d.logText().toStdString();
  EXPECT_TRUE(d.crashText().isEmpty());
  EXPECT_EQ(d.lastIteration(), 6);
  EXPECT_EQ(d.lossPointCount(), 6);
  const auto& curves = d.controller().curves();
  EXPECT_EQ(curves.Series(train::TrainCurves::kStep, "lr").size(), 6u);
  // Validation at 4 and 6 (the crash came before the one at 2 ran).
  const auto& val = curves.Series(train::TrainCurves::kEval, "epe");
  ASSERT_GE(val.size(), 2u);
  EXPECT_EQ(val.back().iter, 6);
  EXPECT_EQ(d.curvesView()->Metric(), "epe") << "the flow tasks' headline number";
  EXPECT_TRUE(d.curvesView()->lrPlot()->isVisible()) << "OneCycle changes the rate";

  // Open in Flow panel: the exported weights as A, the start weights as B.
  QSignalSpy compare(&d, &TrainDialog::compareInFlowPanel);
  auto* open = d.findChild<QPushButton*>("train_open_flow");
  ASSERT_NE(open, nullptr);
  EXPECT_TRUE(open->isEnabled());
  open->click();
  ASSERT_EQ(compare.count(), 1);
  EXPECT_EQ(compare.at(0).at(0).toString(), "raft-small");
  EXPECT_EQ(compare.at(0).at(1).toString(), Q(run / "flow_weights_last.pth"));
  EXPECT_EQ(compare.at(0).at(2).toString(), Q(start));
  EXPECT_TRUE(d.grab().save(Q(test::ScratchRoot() / "train_dialog_flow.png")));
}

}  // namespace
}  // namespace animerun::widgets
