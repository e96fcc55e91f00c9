// Data-parallel training end to end with the real binary: `animerun train --nproc 2` gives
// the losses and weights of a 1-process run with the same global batch; a worker that is
// killed, or hangs, ends the run with an error naming the problem instead of a hang.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/data/synth.h"
#include "core/train/worker_launcher.h"
#include "core/util/fs.h"
#include "models/ant/ant.h"
#include "models/common/flow_factory.h"
#include "models/common/flow_model.h"
#include "flow_test_data.h"
#include "test_paths.h"

namespace animerun {
namespace {

namespace fs = std::filesystem;

// The acceptance command at test size: PWC-Net at its smallest crop, a global batch of 4,
// one thread per process, validation on two pairs at the end (rank 0 validates while the
// other waits on its heartbeats).
// timeout_s: how long a rank waits on a collective. Generous by default: under a loaded
// ctest -j run a peer may fall seconds behind without being hung (a 5 s limit failed so).
std::vector<std::string> TinyFlowArgs(const fs::path& data, const fs::path& out, int iterations, int timeout_s = 120) {
  return {"train",          "--preset", "flow-tiny",
          "--set",          "model=pwcnet",
          "--set",          "batch_size=4",
          "--set",          "crop_height=64",
          "--set",          "crop_width=64",
          "--set",          "iterations=" + std::to_string(iterations),
          "--set",          "threads=1",
          "--set",          "workers=1",
          "--set",          "eval_pairs=2",
          "--set",          "dist_timeout_s=" + std::to_string(timeout_s),
          // Adam's epsilon at 1e-3 rather than 1e-8, for the reason given at the AnT test
          // below: weights whose exact gradient is ~0 would otherwise take lr-sized steps
          // of random sign from rounding noise (seen: PWC-Net's refiner, 8.5e-5 apart in
          // the clang sanitizer build), which no change of summation order can avoid.
          "--set",          "epsilon=1e-3",
          "--set",          "data=" + data.string(),
          "--out",          out.string(),
          "--quiet"};
}

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string Command(const std::vector<std::string>& args) {
  std::string c = Quote(ANIMERUN_EXE);
  for (const auto& a : args) c += " " + Quote(a);
  return c;
}

std::vector<nlohmann::json> Events(const fs::path& run, const std::string& type) {
  std::vector<nlohmann::json> out;
  std::ifstream in(run / "events.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_object() && e.value("event", "") == type) out.push_back(e);
  }
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> Weights(const fs::path& file) {
  auto model = models::CreateFlowModel("pwcnet");
  model->LoadWeights(file.string(), /*strict=*/true);
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : model->module().named_parameters()) out.emplace_back(p.key(), p.value().detach().clone());
  return out;
}

// Reads lines from a child's stdout (popen) until pred accepts one.
bool ReadUntil(FILE* f, const std::function<bool(const nlohmann::json&)>& pred) {
  char buf[1 << 16];
  while (std::fgets(buf, sizeof buf, f)) {
    const auto e = nlohmann::json::parse(buf, nullptr, false);
    if (e.is_object() && pred(e)) return true;
  }
  return false;
}

// The acceptance test of issue 10: the same command with --nproc 2 matches the 1-process
// run step for step, and so does a 2-process run stopped (RUN/STOP) and resumed.
TEST(DistributedTraining, TwoProcessesMatchOneProcessStepForStep) {
  constexpr int kIterations = 6;
  const fs::path data = test::MakeFlowData("data");
  const fs::path one = test::ScratchDir("one"), two = test::ScratchDir("two"), three = test::ScratchDir("three");
  for (const auto& d : {one, two, three}) fs::remove_all(d);
  auto nproc2 = [](std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"--nproc", "2"});
    return args;
  };
  ASSERT_EQ(std::system((Command(TinyFlowArgs(data, one, kIterations)) + " > /dev/null").c_str()), 0);
  ASSERT_EQ(std::system((Command(nproc2(TinyFlowArgs(data, two, kIterations))) + " > /dev/null").c_str()), 0);

  // Stopped after its second update (rank 0 sees the file; both ranks stop at the same
  // sample), then resumed with two processes: every rank reads the checkpoint.
  FILE* f = popen(Command(nproc2(TinyFlowArgs(data, three, kIterations))).c_str(), "r");
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(ReadUntil(f, [](const nlohmann::json& e) { return e["event"] == "step" && e["iter"] == 2; }));
  std::ofstream(three / "STOP") << "stop\n";
  std::string reason;
  ReadUntil(f, [&](const nlohmann::json& e) {
    if (e["event"] == "done") reason = e["reason"].get<std::string>();
    return false;
  });
  ASSERT_EQ(pclose(f), 0);
  ASSERT_EQ(reason, "stopped");
  const int stopped_at = Events(three, "done").back()["iter"].get<int>();
  EXPECT_LT(stopped_at, kIterations);
  ASSERT_EQ(std::system((Command({"train", "--nproc", "2", "--out", three.string(), "--resume", "--quiet"}) +
                         " > /dev/null").c_str()),
            0);

  const auto start2 = Events(two, "start");
  ASSERT_EQ(start2.size(), 1u);
  EXPECT_EQ(start2[0]["world_size"], 2);
  const auto s1 = Events(one, "step"), s2 = Events(two, "step");
  std::map<int, nlohmann::json> s3;  // the resumed run's last event per update
  for (const auto& e : Events(three, "step")) s3[e["iter"].get<int>()] = e;
  ASSERT_EQ(s1.size(), size_t(kIterations));
  ASSERT_EQ(s2.size(), size_t(kIterations));
  ASSERT_EQ(s3.size(), size_t(kIterations));
  for (size_t i = 0; i < s1.size(); ++i) {
    const double a = s1[i]["loss"].get<double>(), b = s2[i]["loss"].get<double>();
    const double c = s3[int(i) + 1]["loss"].get<double>();
    std::printf("step %zu: loss 1 process %.9g, 2 processes %.9g, 2 processes stopped at %d and resumed %.9g\n",
                i + 1, a, b, stopped_at, c);
    EXPECT_NEAR(b, a, 1e-5 * std::abs(a)) << "step " << i + 1;
    EXPECT_NEAR(c, a, 1e-5 * std::abs(a)) << "step " << i + 1;
    EXPECT_NEAR(s2[i]["epe"].get<double>(), s1[i]["epe"].get<double>(), 1e-5 * s1[i]["epe"].get<double>());
    EXPECT_NEAR(s2[i]["grad_norm"].get<double>(), s1[i]["grad_norm"].get<double>(),
                1e-4 * s1[i]["grad_norm"].get<double>());
  }
  // The runs learnt something (else equal weights would prove little).
  EXPECT_NE(s1.front()["loss"].get<double>(), s1.back()["loss"].get<double>());
  EXPECT_EQ(Events(two, "eval").size(), 1u);

  const auto w1 = Weights(one / "flow_weights_last.pth");
  for (const auto& run : {two, three}) {
    const auto w = Weights(run / "flow_weights_last.pth");
    ASSERT_EQ(w1.size(), w.size());
    double worst = 0.0;
    std::string worst_name;
    for (size_t i = 0; i < w1.size(); ++i) {
      const double d = (w1[i].second - w[i].second).abs().max().item<double>();
      if (d > worst) worst = d, worst_name = w1[i].first;
    }
    std::printf("%s: largest weight difference to 1 process: %.3g (%s)\n", run.filename().c_str(), worst,
                worst_name.c_str());
    EXPECT_LE(worst, 1e-6) << run;
  }
}

// AnT: the 4 samples of each update dealt out to 2 processes (2 each, the skipped ones'
// draws replayed), against all 4 in one process. AnT has biases right before
// normalisation layers, whose exact gradient is zero: with Adam's epsilon at 1e-8 their
// rounding noise (which differs with any change of summation order, threads included)
// becomes lr-sized steps of random sign. epsilon = 1e-3 keeps such noise from moving the
// weights, so that the weights compare what data parallelism computes.
TEST(DistributedTraining, AntTwoProcessesMatchOneProcess) {
  const fs::path data = test::ScratchDir("data");
  data::SynthOptions s;
  s.width = 96;
  s.height = 64;
  s.frames = 3;
  s.color_passes = 0;
  s.split = "train";
  s.scenes = 2;
  data::GenerateSynthDataset(data, s);
  s.split = "test";
  s.scenes = 1;
  s.seed = 9;
  data::GenerateSynthDataset(data, s);
  auto args = [&](const fs::path& out) {
    return std::vector<std::string>{"train", "--preset", "ant-tiny", "--set", "data=" + data.string(),
                                    "--set", "iterations=3", "--set", "accumulation=4", "--set", "crop_height=48",
                                    "--set", "crop_width=64", "--set", "eval_pairs=1", "--set", "threads=1",
                                    "--set", "dist_timeout_s=120", "--set", "epsilon=1e-3", "--out", out.string(), "--quiet"};
  };
  const fs::path one = test::ScratchDir("one"), two = test::ScratchDir("two");
  fs::remove_all(one);
  fs::remove_all(two);
  std::vector<std::string> two_args = args(two);
  two_args.insert(two_args.begin() + 1, {"--nproc", "2"});
  ASSERT_EQ(std::system((Command(args(one)) + " > /dev/null").c_str()), 0);
  ASSERT_EQ(std::system((Command(two_args) + " > /dev/null").c_str()), 0);
  const auto s1 = Events(one, "step"), s2 = Events(two, "step");
  ASSERT_EQ(s1.size(), 3u);
  ASSERT_EQ(s2.size(), 3u);
  for (size_t i = 0; i < s1.size(); ++i) {
    const double a = s1[i]["loss"].get<double>(), b = s2[i]["loss"].get<double>();
    std::printf("AnT step %zu: loss 1 process %.9g, 2 processes %.9g\n", i + 1, a, b);
    EXPECT_NEAR(b, a, 1e-5 * std::abs(a)) << "step " << i + 1;
    EXPECT_NEAR(s2[i]["acc"].get<double>(), s1[i]["acc"].get<double>(), 1e-9);
    EXPECT_EQ(s2[i]["skipped"], s1[i]["skipped"]);
    EXPECT_NEAR(s2[i]["grad_norm"].get<double>(), s1[i]["grad_norm"].get<double>(),
                1e-5 * s1[i]["grad_norm"].get<double>());
  }
  models::AntNet n1(models::AntConfig{}), n2(models::AntConfig{});
  models::LoadAntWeights(*n1, (one / "ant_weights_last.pth").string(), true);
  models::LoadAntWeights(*n2, (two / "ant_weights_last.pth").string(), true);
  const auto p1 = n1->parameters(), p2 = n2->parameters();
  ASSERT_EQ(p1.size(), p2.size());
  double worst = 0.0;
  // Relative to each tensor's largest weight. 1e-5 rather than the flow test's 1e-6: the
  // summation order of AnT's many small per-sample gradients differs between the runs,
  // and Adam scales each element's update by its own history, so elements with tiny
  // gradients keep a ~1e-6 difference after three updates (measured 1.2e-6).
  for (size_t i = 0; i < p1.size(); ++i)
    worst = std::max(worst, (p1[i] - p2[i]).abs().max().item<double>() /
                                std::max(1.0, p1[i].abs().max().item<double>()));
  std::printf("AnT largest relative weight difference: %.3g\n", worst);
  EXPECT_LE(worst, 1e-5);
}

TEST(DistributedTraining, KilledWorkerEndsTheLaunchWithAnErrorNamingTheRank) {
  const fs::path data = test::MakeFlowData("data");
  const fs::path run = test::ScratchDir("run");
  fs::remove_all(run);
  const fs::path err = test::ScratchRoot() / "stderr.txt";
  std::vector<std::string> args = TinyFlowArgs(data, run, 100000);
  args.insert(args.begin() + 1, {"--nproc", "2"});
  FILE* f = popen((Command(args) + " 2> " + Quote(err.string())).c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::vector<int> pids;
  ASSERT_TRUE(ReadUntil(f, [&](const nlohmann::json& e) {
    if (e["event"] == "workers") pids = e["pids"].get<std::vector<int>>();
    return e["event"] == "step";
  }));
  ASSERT_EQ(pids.size(), 2u);
  ASSERT_EQ(kill(pids[1], SIGKILL), 0);
  std::string last_error;
  ReadUntil(f, [&](const nlohmann::json& e) {
    if (e["event"] == "error") last_error = e["message"].get<std::string>();
    return false;
  });
  const int status = pclose(f);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_NE(last_error.find("rank 1 (pid " + std::to_string(pids[1]) + ") was killed by signal 9"), std::string::npos)
      << last_error;
  const std::string log = ReadFileText(err);
  EXPECT_NE(log.find("animerun train: training worker rank 1"), std::string::npos) << log;
  // Rank 0 itself saw its peer go (a failed collective), not only the launcher's SIGTERM.
  EXPECT_NE(log.find("[rank 0] "), std::string::npos) << log;
  EXPECT_EQ(kill(pids[0], 0), -1) << "rank 0 still running";
}

// torchrun-style: two processes started with the variables and no launcher. Rank 1 hangs
// (SIGSTOP); rank 0 must fail with a process-group error after dist_timeout_s, not hang.
TEST(DistributedTraining, HungPeerMakesTheOtherRankFailAfterTheTimeout) {
  const fs::path data = test::MakeFlowData("data");
  const fs::path run = test::ScratchDir("run");
  fs::remove_all(run);
  const int port = train::FreeTcpPort();
  std::vector<pid_t> pids;
  for (int rank = 0; rank < 2; ++rank) {
    const fs::path log = test::ScratchRoot() / ("rank" + std::to_string(rank) + ".err");
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      setenv("RANK", std::to_string(rank).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      setenv("WORLD_SIZE", "2", 1);
      setenv("MASTER_ADDR", "127.0.0.1", 1);
      setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, STDERR_FILENO);
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, STDOUT_FILENO);
      std::vector<std::string> args = TinyFlowArgs(data, run, 100000, /*timeout_s=*/5);
      args.insert(args.begin(), ANIMERUN_EXE);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(ANIMERUN_EXE, argv.data());
      _exit(127);
    }
    pids.push_back(pid);
  }
  // Wait for the first update of rank 0 (its events file), then freeze rank 1.
  bool stepped = false;
  for (int polls = 0; polls < 6000 && !stepped; ++polls) {
    stepped = !Events(run, "step").empty();
    int status = 0;
    if (!stepped && waitpid(pids[0], &status, WNOHANG) == pids[0]) {
      kill(pids[1], SIGKILL);
      waitpid(pids[1], nullptr, 0);
      FAIL() << "rank 0 ended before its first update: " << ReadFileText(test::ScratchRoot() / "rank0.err");
    }
    if (!stepped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(stepped);
  ASSERT_EQ(kill(pids[1], SIGSTOP), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pids[0], &status, 0), pids[0]);  // returns: rank 0 did not hang
  kill(pids[1], SIGKILL);
  waitpid(pids[1], nullptr, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  const std::string log = ReadFileText(test::ScratchRoot() / "rank0.err");
  EXPECT_NE(log.find("process group rank 0/2 (gloo, store 127.0.0.1:" + std::to_string(port) + ")"), std::string::npos)
      << log;
  EXPECT_NE(log.find("failed"), std::string::npos) << log;
}

}  // namespace
}  // namespace animerun
