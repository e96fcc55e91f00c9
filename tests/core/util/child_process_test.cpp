// A child process read line by line on the owner's thread (CallQueue): output, exit codes,
// a killed child, a program that does not exist, and a ChildProcess destroyed mid-run.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/util/child_process.h"
#include "core/util/error.h"

namespace animerun {
namespace {

struct Child {
  CallQueue queue;
  ChildProcess child{queue.Poster()};
  std::vector<std::string> lines;
  std::string err;
  bool exited = false, signaled = false;
  int code = -100;
  ChildProcess::Callbacks Callbacks() {
    ChildProcess::Callbacks c;
    c.stdout_line = [this](const std::string& l) { lines.push_back(l); };
    c.stderr_text = [this](const std::string& t) { err += t; };
    c.exited = [this](int x, bool s, int) { exited = true, code = x, signaled = s; };
    return c;
  }
  bool Wait() { return queue.RunUntil([&] { return exited; }, 20000); }
};

TEST(ChildProcess, ReadsLinesAndStderrAndTheExitCode) {
  Child r;
  r.child.Start("/bin/sh", {"-c", "printf 'one\\ntwo\\n'; echo oops >&2; printf 'no newline'; exit 3"}, r.Callbacks());
  EXPECT_TRUE(r.child.Running());
  ASSERT_TRUE(r.Wait());
  EXPECT_FALSE(r.child.Running());
  EXPECT_EQ(r.lines, (std::vector<std::string>{"one", "two", "no newline"}));
  EXPECT_EQ(r.err, "oops\n");
  EXPECT_EQ(r.code, 3);
  EXPECT_FALSE(r.signaled);
}

TEST(ChildProcess, AKilledChildIsSignaled) {
  Child r;
  r.child.Start("/bin/sh", {"-c", "echo started; sleep 30"}, r.Callbacks());
  ASSERT_TRUE(r.queue.RunUntil([&] { return !r.lines.empty(); }, 20000));
  r.child.Kill();
  EXPECT_TRUE(r.child.WaitExited(20000));
  ASSERT_TRUE(r.Wait());
  EXPECT_TRUE(r.signaled);
}

TEST(ChildProcess, KillReachesWhatTheChildStarted) {
  // The background sleep holds the pipes: killing the shell alone would leave the reader
  // waiting for it.
  Child r;
  r.child.Start("/bin/sh", {"-c", "sleep 30 & echo started; wait"}, r.Callbacks());
  ASSERT_TRUE(r.queue.RunUntil([&] { return !r.lines.empty(); }, 20000));
  r.child.Kill();
  EXPECT_TRUE(r.child.WaitExited(20000));
  ASSERT_TRUE(r.queue.RunUntil([&] { return r.exited; }, 5000)) << "the pipes stayed open";
}

TEST(ChildProcess, AMissingProgramIsAnErrorNamingIt) {
  Child r;
  try {
    r.child.Start("/no/such/program", {}, r.Callbacks());
    FAIL() << "started";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/program"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(r.child.Running());
}

TEST(ChildProcess, DestroyedMidRunKillsTheChildAndDeliversNothing) {
  CallQueue queue;
  bool delivered = false;
  {
    ChildProcess child(queue.Poster());
    ChildProcess::Callbacks c;
    c.exited = [&](int, bool, int) { delivered = true; };
    child.Start("/bin/sh", {"-c", "sleep 30"}, c);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }  // must not wait 30 s
  queue.RunPending();
  EXPECT_FALSE(delivered);
}

}  // namespace
}  // namespace animerun
