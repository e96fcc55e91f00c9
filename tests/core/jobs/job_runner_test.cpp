// Nested progress and cancellation (SubJob) and the worker that controllers run their jobs
// on (JobRunner), driven through a CallQueue instead of an event loop.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/jobs/job.h"
#include "core/jobs/job_runner.h"

namespace animerun {
namespace {

TEST(SubJob, MapsProgressIntoItsRangeWithItsPrefix) {
  std::vector<std::pair<double, std::string>> seen;
  JobContext job([&](double f, const std::string& m) { seen.emplace_back(f, m); });
  const SubJob a(&job, 0.0, 0.25, "A: ");
  const SubJob b(&job, 0.25, 1.0, "B: ");
  a.Report(0.5, "half");
  a.Report(1.0, "done");
  b.Report(0.0, "start");
  b.Report(1.0 / 3, "third");
  b.Report(1.0, "end");
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_DOUBLE_EQ(seen[0].first, 0.125);
  EXPECT_EQ(seen[0].second, "A: half");
  EXPECT_EQ(seen[1].first, 0.25);  // exactly the end: the next part starts there
  EXPECT_EQ(seen[2].first, 0.25);
  EXPECT_DOUBLE_EQ(seen[3].first, 0.5);
  EXPECT_EQ(seen[4].first, 1.0);
  EXPECT_EQ(seen[4].second, "B: end");
  // Nested twice: a part of a part.
  const SubJob inner(&b, 0.5, 1.0, "inner ");
  inner.Report(0.5, "x");
  EXPECT_DOUBLE_EQ(seen.back().first, 0.25 + 0.75 * 0.75);
  EXPECT_EQ(seen.back().second, "B: inner x");
}

TEST(SubJob, FollowsTheParentsCancelAndRethrowsIt) {
  JobContext job;
  const SubJob part(&job, 0.0, 1.0);
  const SubJob nested(&part, 0.0, 0.5);
  EXPECT_FALSE(nested.IsCancelled());
  EXPECT_NO_THROW(nested.CheckCancel());
  job.RequestCancel();
  EXPECT_TRUE(part.IsCancelled());
  EXPECT_TRUE(nested.IsCancelled());
  EXPECT_THROW(nested.CheckCancel(), Cancelled);
  // A part cancelled on its own does not cancel its parent.
  JobContext other;
  SubJob own(&other, 0.0, 1.0);
  own.RequestCancel();
  EXPECT_TRUE(own.IsCancelled());
  EXPECT_FALSE(other.IsCancelled());
}

TEST(SubJob, WithoutAParentReportsNothingAndIsNotCancelled) {
  const SubJob orphan(nullptr, 0.2, 0.4, "x");
  EXPECT_NO_THROW(orphan.Report(0.5, "nobody listens"));
  EXPECT_FALSE(orphan.IsCancelled());
}

TEST(JobRunner, DeliversProgressAndTheOutcomeOnTheOwnersThread) {
  CallQueue queue;
  JobRunner runner(queue.Poster());
  const auto owner = std::this_thread::get_id();
  std::vector<double> progress;
  bool done = false;
  JobOutcome outcome;
  runner.Start(
      [](const JobContext& job) {
        for (int i = 1; i <= 4; ++i) job.Report(i / 4.0, "step");
      },
      [&](const JobOutcome& o) {
        EXPECT_EQ(std::this_thread::get_id(), owner);
        outcome = o;
        done = true;
      },
      [&](double f, const std::string&) {
        EXPECT_EQ(std::this_thread::get_id(), owner);
        progress.push_back(f);
      });
  EXPECT_TRUE(runner.Running());
  EXPECT_FALSE(done) << "delivered before the owner ran its queue";
  ASSERT_TRUE(queue.RunUntil([&] { return done; }, 10000));
  EXPECT_TRUE(outcome.ok);
  EXPECT_FALSE(outcome.cancelled);
  EXPECT_FALSE(runner.Running());
  EXPECT_EQ(progress, (std::vector<double>{0.25, 0.5, 0.75, 1.0}));
}

TEST(JobRunner, ReportsErrorsAndCancellation) {
  CallQueue queue;
  JobRunner runner(queue.Poster());
  JobOutcome outcome;
  bool done = false;
  runner.Start([](const JobContext&) { throw std::runtime_error("disk full"); },
               [&](const JobOutcome& o) { outcome = o, done = true; });
  ASSERT_TRUE(queue.RunUntil([&] { return done; }, 10000));
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.error, "disk full");

  std::atomic<bool> started{false};
  done = false;
  runner.Start(
      [&](const JobContext& job) {
        started = true;
        while (true) {
          job.CheckCancel();
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      },
      [&](const JobOutcome& o) { outcome = o, done = true; });
  while (!started) std::this_thread::yield();
  runner.Cancel();
  ASSERT_TRUE(queue.RunUntil([&] { return done; }, 10000));
  EXPECT_TRUE(outcome.cancelled);
  EXPECT_FALSE(outcome.ok);
  EXPECT_TRUE(outcome.error.empty());
}

TEST(JobRunner, ANewJobReplacesTheRunningOneWhoseEndIsDropped) {
  CallQueue queue;
  JobRunner runner(queue.Poster());
  int first_done = 0, second_done = 0, first_progress = 0;
  std::atomic<bool> started{false};
  runner.Start(
      [&](const JobContext& job) {
        job.Report(0.1, "first");
        started = true;
        while (!job.IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      },
      [&](const JobOutcome&) { ++first_done; }, [&](double, const std::string&) { ++first_progress; });
  while (!started) std::this_thread::yield();
  runner.Start([](const JobContext&) {}, [&](const JobOutcome& o) { second_done += o.ok; });
  ASSERT_TRUE(queue.RunUntil([&] { return second_done == 1; }, 10000));
  queue.RunPending();
  EXPECT_EQ(first_done, 0);
  EXPECT_EQ(first_progress, 0) << "a report of the replaced job was delivered";
}

TEST(JobRunner, NothingIsDeliveredAfterTheRunnerIsGone) {
  CallQueue queue;
  bool delivered = false;
  {
    JobRunner runner(queue.Poster());
    runner.Start([](const JobContext& job) { job.Report(0.5, "x"); }, [&](const JobOutcome&) { delivered = true; },
                 [&](double, const std::string&) { delivered = true; });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }  // joins the worker; its posted calls stay queued
  queue.RunPending();
  EXPECT_FALSE(delivered);
}

}  // namespace
}  // namespace animerun
