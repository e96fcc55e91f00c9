// The training controller without a display, against scripted children that print what
// `animerun train` prints (trainer.h): curves from any numeric field (a flow task's "epe",
// a changing "lr"), a graceful stop through RUN_DIR/STOP, resume replaying the events
// file, a crashed child, stray output, and options or programs that cannot start.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/train/train_controller.h"
#include "core/train/trainer.h"
#include "core/util/fs.h"
#include "test_paths.h"

namespace animerun::train {
namespace {

namespace fs = std::filesystem;

std::string Script(const fs::path& dir, const std::string& name, const std::string& body) {
  const fs::path p = dir / name;
  WriteFileAtomic(p, "#!/bin/sh\n" + body);
  fs::permissions(p, fs::perms::owner_all, fs::perm_options::add);
  return p.string();
}

TrainOptions Valid(const fs::path& data) {
  TrainOptions o = TrainPreset("ant-tiny");
  o.data = data.string();
  o.iterations = 3;
  return o;
}

struct TrainFixture {
  CallQueue queue;
  TrainController controller{queue.Poster()};
  std::vector<std::string> log;
  int finished = 0;
  TrainFixture() {
    controller.Observe([this](TrainController::Event e) {
      if (e == TrainController::Event::kLog) log.push_back(controller.LastLogLine());
      finished += e == TrainController::Event::kFinished;
    });
  }
  bool WaitFinished(int n = 1) { return queue.RunUntil([&] { return finished >= n; }, 30000); }
  std::string Log() const {
    std::string all;
    for (const auto& l : log) all += l + "\n";
    return all;
  }
};

TEST(TrainCurves, EveryNumericFieldIsASeries) {
  TrainCurves c;
  EXPECT_TRUE(c.Add({{"event", "step"}, {"iter", 1}, {"loss", 2.0}, {"epe", 9.5}, {"lr", 1e-4}, {"note", "x"}}));
  EXPECT_TRUE(c.Add({{"event", "step"}, {"iter", 2}, {"loss", 1.5}, {"epe", 7.0}, {"lr", 5e-5}}));
  EXPECT_FALSE(c.Add({{"event", "step"}, {"iter", 2}, {"loss", 9.0}})) << "a repeated update";
  EXPECT_TRUE(c.Add({{"event", "eval"}, {"iter", 2}, {"metrics", {{"epe", 6.0}, {"acc_300", nullptr}}}}));
  EXPECT_FALSE(c.Add({{"event", "checkpoint"}, {"iter", 2}}));
  EXPECT_FALSE(c.Add({{"event", "brand_new"}, {"iter", 3}, {"value", 1}}));
  EXPECT_EQ(c.Fields(TrainCurves::kStep), (std::vector<std::string>{"epe", "loss", "lr"}));
  EXPECT_EQ(c.Fields(TrainCurves::kEval), std::vector<std::string>{"epe"});
  EXPECT_EQ(c.AllFields(), (std::vector<std::string>{"epe", "loss", "lr"}));
  const auto& lr = c.Series(TrainCurves::kStep, "lr");
  ASSERT_EQ(lr.size(), 2u);
  EXPECT_EQ(lr[1].iter, 2);
  EXPECT_DOUBLE_EQ(lr[1].value, 5e-5);
  EXPECT_TRUE(c.Series(TrainCurves::kEval, "acc_300").empty()) << "null is not a number";
  EXPECT_EQ(c.LastStep(), 2);
}

TEST(TrainController, FollowsAChildToTheEndAndKeepsUnknownOutput) {
  const fs::path dir = test::ScratchDir("fake");
  TrainFixture f;
  f.controller.SetProgram(Script(dir, "trainer.sh",
                                 "echo '{\"event\":\"start\",\"iter\":0,\"iterations\":3}'\n"
                                 "echo '{\"event\":\"step\",\"iter\":1,\"loss\":2.5,\"acc\":0.25,\"lr\":0.001,\"seconds\":0.1}'\n"
                                 "echo '{\"event\":\"step\",\"iter\":2,\"loss\":2.0,\"epe\":4.5}'\n"
                                 "echo 'a stray line'\n"
                                 "echo '{\"event\":\"eval\",\"iter\":2,\"metrics\":{\"acc\":0.5}}'\n"
                                 "echo '{\"event\":\"surprise\",\"iter\":2}'\n"
                                 "echo 'warning on stderr' >&2\n"
                                 "echo '{\"event\":\"done\",\"iter\":3,\"reason\":\"finished\"}'\n"));
  ASSERT_TRUE(f.controller.Start(Valid(dir), (dir / "run").string())) << f.controller.LastError();
  EXPECT_TRUE(f.controller.Running());
  ASSERT_TRUE(f.WaitFinished());
  EXPECT_EQ(f.controller.phase(), TrainController::Phase::kFinished);
  EXPECT_FALSE(f.controller.Crashed());
  EXPECT_EQ(f.controller.TotalIterations(), 3);
  EXPECT_EQ(f.controller.LastIteration(), 2);
  EXPECT_EQ(f.controller.curves().Series("step", "loss").size(), 2u);
  EXPECT_EQ(f.controller.curves().Series("step", "epe").size(), 1u);
  EXPECT_EQ(f.controller.curves().Series("eval", "acc").size(), 1u);
  const std::string log = f.Log();
  EXPECT_NE(log.find("$ " + f.controller.program() + " train --preset"), std::string::npos) << log;
  EXPECT_NE(log.find("--set iterations=3"), std::string::npos);
  EXPECT_NE(log.find("a stray line"), std::string::npos);
  EXPECT_NE(log.find("warning on stderr"), std::string::npos);
  EXPECT_NE(log.find("surprise"), std::string::npos);
  EXPECT_NE(log.find("validation at 2"), std::string::npos);
}

TEST(TrainController, StopsGracefullyAndResumesWithTheEarlierCurve) {
  const fs::path dir = test::ScratchDir("fake");
  const fs::path run = dir / "run";
  fs::create_directories(run);
  // Steps until RUN_DIR/STOP appears, then checkpoints and stops, as the trainer does.
  TrainFixture f;
  f.controller.SetProgram(Script(dir, "trainer.sh",
                                 "out=$(echo \"$@\" | sed 's/.*--out \\([^ ]*\\).*/\\1/')\n"
                                 "i=0\n"
                                 "while [ ! -f \"$out/STOP\" ] && [ $i -lt 1000 ]; do\n"
                                 "  i=$((i+1)); line=\"{\\\"event\\\":\\\"step\\\",\\\"iter\\\":$i,\\\"loss\\\":1.0}\"\n"
                                 "  echo \"$line\"; echo \"$line\" >> \"$out/events.jsonl\"; sleep 0.02\n"
                                 "done\n"
                                 "touch \"$out/checkpoint_last.pth\"\n"
                                 "echo \"{\\\"event\\\":\\\"done\\\",\\\"iter\\\":$i,\\\"reason\\\":\\\"stopped\\\"}\"\n"));
  ASSERT_TRUE(f.controller.Start(Valid(dir), run.string()));
  ASSERT_TRUE(f.queue.RunUntil([&] { return f.controller.LastIteration() >= 3; }, 30000)) << f.Log();
  f.controller.Stop();
  EXPECT_EQ(f.controller.phase(), TrainController::Phase::kStopping);
  ASSERT_TRUE(f.WaitFinished());
  EXPECT_TRUE(f.controller.Stopped()) << f.Log();
  const int stopped_at = f.controller.LastIteration();
  EXPECT_EQ(static_cast<int>(f.controller.curves().Series("step", "loss").size()), stopped_at);
  EXPECT_TRUE(TrainController::CanResume(run.string()));

  // Resume: the events file redraws the curve; the new child's repeated updates are ignored.
  fs::remove(run / kStopFile);
  f.controller.SetProgram(Script(dir, "resume.sh",
                                 "echo '{\"event\":\"step\",\"iter\":1,\"loss\":9.0}'\n"
                                 "echo '{\"event\":\"step\",\"iter\":" + std::to_string(stopped_at + 1) +
                                     ",\"loss\":0.5}'\n"
                                 "echo '{\"event\":\"done\",\"iter\":" + std::to_string(stopped_at + 1) +
                                     ",\"reason\":\"finished\"}'\n"));
  ASSERT_TRUE(f.controller.Resume(run.string(), stopped_at + 1));
  EXPECT_EQ(static_cast<int>(f.controller.curves().Series("step", "loss").size()), stopped_at) << "replayed";
  ASSERT_TRUE(f.WaitFinished(2));
  const auto& loss = f.controller.curves().Series("step", "loss");
  ASSERT_EQ(static_cast<int>(loss.size()), stopped_at + 1);
  EXPECT_DOUBLE_EQ(loss[0].value, 1.0) << "the repeated first update did not replace the replayed one";
  EXPECT_DOUBLE_EQ(loss.back().value, 0.5);
  EXPECT_NE(f.Log().find("--resume --set iterations=" + std::to_string(stopped_at + 1)), std::string::npos);
}

// Several processes (the dialog's "× N"): the child gets --nproc N, a run that cannot give
// every process a sample is refused before anything starts, and Resume keeps the count.
TEST(TrainController, StartsAndResumesWithSeveralProcesses) {
  const fs::path dir = test::ScratchDir("nproc");
  const fs::path run = dir / "run";
  fs::create_directories(run);
  TrainFixture f;
  f.controller.SetProgram(Script(dir, "trainer.sh",
                                 "echo '{\"event\":\"step\",\"iter\":1,\"loss\":1.0}'\n"
                                 "echo '{\"event\":\"done\",\"iter\":1,\"reason\":\"finished\"}'\n"));
  TrainOptions ant = Valid(dir);  // ant-tiny: 2 samples per update
  EXPECT_FALSE(f.controller.Start(ant, run.string(), 3));
  EXPECT_NE(f.controller.LastError().find("accumulation (2) must be at least the number of processes (3)"),
            std::string::npos)
      << f.controller.LastError();
  TrainOptions flow = TrainPreset("flow-tiny");
  flow.data = dir.string();
  flow.batch_size = 1;
  EXPECT_FALSE(f.controller.Start(flow, run.string(), 2));
  EXPECT_NE(f.controller.LastError().find("batch_size (1)"), std::string::npos) << f.controller.LastError();
  EXPECT_FALSE(f.controller.Start(ant, run.string(), 0));
  EXPECT_FALSE(f.controller.Running());

  ASSERT_TRUE(f.controller.Start(ant, run.string(), 2)) << f.controller.LastError();
  ASSERT_TRUE(f.WaitFinished()) << f.Log();
  EXPECT_NE(f.Log().find(" train --nproc 2 --preset "), std::string::npos) << f.Log();
  ASSERT_TRUE(f.controller.Resume(run.string(), 5, 2));
  ASSERT_TRUE(f.WaitFinished(2)) << f.Log();
  EXPECT_NE(f.Log().find(" train --nproc 2 --out " + run.string() + " --resume"), std::string::npos) << f.Log();
  ASSERT_TRUE(f.controller.Resume(run.string(), 5));
  ASSERT_TRUE(f.WaitFinished(3)) << f.Log();
  EXPECT_NE(f.Log().find(" train --out " + run.string() + " --resume"), std::string::npos) << "one process: no --nproc";
}

TEST(TrainController, ACrashedChildAndThingsThatCannotStart) {
  const fs::path dir = test::ScratchDir("fake");
  TrainFixture f;
  f.controller.SetProgram(Script(dir, "crash.sh",
                                 "echo '{\"event\":\"step\",\"iter\":1,\"loss\":2.5}'\n"
                                 "echo boom >&2\n"
                                 "kill -9 $$\n"));
  ASSERT_TRUE(f.controller.Start(Valid(dir), (dir / "run").string()));
  ASSERT_TRUE(f.WaitFinished());
  EXPECT_TRUE(f.controller.Crashed());
  EXPECT_NE(f.Log().find("boom"), std::string::npos);
  EXPECT_NE(f.Log().find("killed by signal 9 (SIGKILL)"), std::string::npos) << f.Log();
  EXPECT_NE(f.controller.CrashReport().find("No checkpoint was written yet"), std::string::npos)
      << f.controller.CrashReport();
  EXPECT_NE(f.controller.CrashReport().find("Last output: boom"), std::string::npos) << f.controller.CrashReport();
  EXPECT_EQ(f.controller.curves().Series("step", "loss").size(), 1u);
  // A clean exit without "done" is a crash too (the trainer always ends with it).
  f.controller.SetProgram(Script(dir, "quiet.sh", "exit 0\n"));
  ASSERT_TRUE(f.controller.Start(Valid(dir), (dir / "run").string()));
  ASSERT_TRUE(f.WaitFinished(2));
  EXPECT_TRUE(f.controller.Crashed());
  EXPECT_NE(f.controller.CrashReport().find("exited with code 0 without finishing"), std::string::npos);
  // A child that reports an error event and exits is a failure with its reason, not a crash.
  f.controller.SetProgram(Script(dir, "error.sh",
                                 "echo '{\"event\":\"error\",\"message\":\"data: no pairs\"}'\nexit 1\n"));
  ASSERT_TRUE(f.controller.Start(Valid(dir), (dir / "run").string()));
  ASSERT_TRUE(f.WaitFinished(3));
  EXPECT_FALSE(f.controller.Crashed());
  EXPECT_EQ(f.controller.phase(), TrainController::Phase::kFailed);
  EXPECT_NE(f.controller.Status().find("data: no pairs"), std::string::npos) << f.controller.Status();

  EXPECT_FALSE(f.controller.Start(Valid(dir), "  "));
  EXPECT_NE(f.controller.LastError().find("run folder"), std::string::npos);
  TrainOptions bad = Valid(dir);
  bad.iterations = 0;
  EXPECT_FALSE(f.controller.Start(bad, (dir / "run").string()));
  EXPECT_NE(f.controller.LastError().find("iterations"), std::string::npos) << f.controller.LastError();
  f.controller.SetProgram((dir / "no_such_binary").string());
  EXPECT_FALSE(f.controller.Start(Valid(dir), (dir / "run").string()));
  EXPECT_NE(f.controller.LastError().find("no_such_binary"), std::string::npos);
  EXPECT_FALSE(f.controller.Running());
}

}  // namespace
}  // namespace animerun::train
