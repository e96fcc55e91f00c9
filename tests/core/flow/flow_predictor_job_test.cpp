// FlowRunner::Predict with a JobContext: progress per network step, prompt cancellation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/flow/flow_predictor.h"
#include "core/jobs/job.h"

namespace animerun::flow {
namespace {

cv::Mat Noise(int seed) {
  cv::Mat m(48, 64, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  return m;
}

FlowRunOptions Options(const std::string& model, int iters) {
  FlowRunOptions o;
  o.model = model;
  o.iters = iters;
  o.allow_random_weights = true;
  return o;
}

TEST(FlowRunnerJob, ReportsEveryIterationAndKeepsTheFlow) {
  FlowRunner runner(Options("raft-small", 5));
  EXPECT_EQ(runner.Steps(), 5);
  const cv::Mat a = Noise(1), b = Noise(2);
  const cv::Mat plain = runner.Predict(a, b);

  std::vector<double> fractions;
  std::vector<std::string> messages;
  JobContext job([&](double f, const std::string& m) {
    fractions.push_back(f);
    messages.push_back(m);
  });
  const cv::Mat flow = runner.Predict(a, b, &job);
  ASSERT_EQ(fractions.size(), 5u);
  for (size_t k = 0; k < fractions.size(); ++k) {
    EXPECT_DOUBLE_EQ(fractions[k], (k + 1) / 5.0);
    EXPECT_EQ(messages[k], "iteration " + std::to_string(k + 1) + "/5");
  }
  EXPECT_EQ(cv::norm(flow, plain, cv::NORM_INF), 0.0) << "progress reporting changed the flow";
}

TEST(FlowRunnerJob, CancelStopsAtTheNextIteration) {
  FlowRunner runner(Options("raft-small", 20));
  int reports = 0;
  JobContext* self = nullptr;
  JobContext job([&](double, const std::string&) {
    if (++reports == 2) self->RequestCancel();
  });
  self = &job;
  EXPECT_THROW(runner.Predict(Noise(3), Noise(4), &job), Cancelled);
  EXPECT_EQ(reports, 2) << "iterations ran on after the cancel";

  // Already cancelled: nothing runs.
  JobContext cancelled([&](double, const std::string&) { ADD_FAILURE() << "reported after cancel"; });
  cancelled.RequestCancel();
  EXPECT_THROW(runner.Predict(Noise(3), Noise(4), &cancelled), Cancelled);

  // The runner is usable afterwards.
  EXPECT_EQ(runner.Predict(Noise(3), Noise(4)).type(), CV_32FC2);
}

TEST(FlowRunnerJob, StagesOfTheOtherNetworks) {
  struct Case {
    const char* model;
    int steps;
  };
  for (const Case& c : {Case{"gmflow", 8}, Case{"pwcnet", 7}}) {
    FlowRunner runner(Options(c.model, 32));
    EXPECT_EQ(runner.Steps(), c.steps) << c.model;
    std::vector<double> fractions;
    JobContext job([&](double f, const std::string&) { fractions.push_back(f); });
    runner.Predict(Noise(5), Noise(6), &job);
    ASSERT_EQ(fractions.size(), static_cast<size_t>(c.steps)) << c.model;
    EXPECT_DOUBLE_EQ(fractions.back(), 1.0) << c.model;
    for (size_t k = 1; k < fractions.size(); ++k) EXPECT_GT(fractions[k], fractions[k - 1]) << c.model;
  }
}

}  // namespace
}  // namespace animerun::flow
