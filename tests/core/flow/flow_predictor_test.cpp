// FlowRunner, the path `animerun flow`, `eval-flow --model` and the GUI share: PNG in,
// official checkpoint, .flo out, compared with the official output.
#include "core/flow/flow_predictor.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/util/error.h"
#include "models/common/flow_factory.h"
#include "parity.h"
#include "test_paths.h"

namespace animerun::flow {
namespace {

double MaxDiff(const cv::Mat& a, const cv::Mat& b) {
  EXPECT_EQ(a.size(), b.size());
  return cv::norm(a, b, cv::NORM_INF);
}

struct Case {
  const char* model;
  const char* weights;
  const char* expected;  // official flow_final.flo of the dev_b pair (224x160)
  int iters;
  double tol;
};

TEST(FlowRunner, ReproducesOfficialOutputFromPngs) {
  ANIMERUN_REQUIRE_GOLDEN();
  const auto g = test::GoldenDir();
  const cv::Mat a = io::ReadImageRgb(g / "inputs/dev_b/img1.png");
  const cv::Mat b = io::ReadImageRgb(g / "inputs/dev_b/img2.png");
  const Case cases[] = {
      {"raft", "raft/raft.pth", "raft/raft_dev_b_it4/flow_final.flo", 4, 1e-3},
      {"pwcnet", "pwc/pwc.pytorch", "pwc/pwc_dev_b_160x224/flow_final.flo", 0, 1e-3},
  };
  for (const auto& c : cases) {
    FlowRunOptions o;
    o.model = c.model;
    o.weights = (g / c.weights).string();
    if (c.iters) o.iters = c.iters;
    FlowRunner runner(o);
    const cv::Mat f = runner.Predict(a, b);
    ASSERT_EQ(f.type(), CV_32FC2);
    const cv::Mat expected = io::ReadFlo(g / c.expected);
    const double d = MaxDiff(f, expected);
    test::ExpectParity(std::string("flow_runner_") + c.model, "flow_final", d, c.tol);
    EXPECT_GT(cv::norm(expected, cv::NORM_INF), 0.5);  // a real flow, not zeros
  }
}

TEST(FlowRunner, WrongCheckpointNamesFileAndKeys) {
  ANIMERUN_REQUIRE_GOLDEN();
  FlowRunOptions o;
  o.model = "raft";
  o.weights = (test::GoldenDir() / "gma/gma.pth").string();
  try {
    FlowRunner r(o);
    FAIL() << "loading GMA weights into RAFT must fail";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("gma.pth"), std::string::npos) << msg;
    EXPECT_NE(msg.find("aggregator"), std::string::npos) << msg;  // an unexpected GMA key, by name
  }
}

TEST(FlowRunner, OptionsAreChecked) {
  FlowRunOptions o;
  o.model = "flownet";
  EXPECT_THROW(o.Check(), Error);
  o.model = "raft";
  EXPECT_THROW(o.Check(), Error);  // no weights
  o.weights = "/nonexistent/raft-things.pth";
  o.iters = 0;
  EXPECT_THROW(o.Check(), Error);
  o.iters = 12;
  o.device = "tpu";
  EXPECT_THROW(o.Check(), Error);
  o.device = "cpu";
  EXPECT_NO_THROW(o.Check());
  EXPECT_THROW(FlowRunner r(o), Error);  // missing file
  o.precision = "fp16";  // CUDA only
  try {
    o.Check();
    ADD_FAILURE() << "fp16 on the CPU was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA"), std::string::npos) << e.what();
  }
  // The network refuses it as well (for callers that skip the options' check).
  auto net = models::CreateFlowModel("raft-small");
  models::FlowInferenceOptions fp16;
  fp16.precision = "fp16";
  fp16.iters = 1;
  const auto image = torch::zeros({1, 3, 64, 64});
  EXPECT_THROW(net->Estimate(image, image, fp16), std::invalid_argument);
  models::FlowInferenceOptions fp32;
  fp32.iters = 1;
  EXPECT_NO_THROW(net->Estimate(image, image, fp32));  // and still runs in fp32 afterwards
}

// Early stop (`--iters auto`): a threshold every update passes ends after the first
// iteration with the first iteration's flow; previews come after every iteration but the last.
TEST(FlowRunner, EarlyStopEndsAtTheFirstSmallUpdateAndPreviewsTheIterations) {
  const cv::Mat a(96, 128, CV_8UC3, cv::Scalar(40, 90, 200)), b = a.clone();
  cv::circle(a, {50, 40}, 20, cv::Scalar(250, 250, 20), cv::FILLED);
  cv::circle(b, {56, 43}, 20, cv::Scalar(250, 250, 20), cv::FILLED);
  // One set of random weights for every run.
  const std::string weights = (test::ScratchDir("early_stop") / "raft-small_random.pth").string();
  models::CreateFlowModel("raft-small")->SaveWeights(weights);
  auto run = [&](int iters, double early_stop_px, std::vector<int>* previews) {
    FlowRunOptions o;
    o.model = "raft-small";
    o.weights = weights;
    o.iters = iters;
    o.early_stop_px = early_stop_px;
    FlowRunner r(o);
    return r.Predict(a, b, nullptr, [&](int done, int total, const std::function<cv::Mat()>& flow) {
      EXPECT_EQ(total, iters);
      const cv::Mat f = flow();
      EXPECT_EQ(f.size(), a.size());
      previews->push_back(done);
    });
  };
  std::vector<int> all, stopped, one;
  const cv::Mat full = run(5, 0.0, &all);
  EXPECT_EQ(all, (std::vector<int>{1, 2, 3, 4}));
  const cv::Mat early = run(5, 100.0, &stopped);  // every update is below 100 px
  EXPECT_TRUE(stopped.empty());
  EXPECT_LT(MaxDiff(early, run(1, 0.0, &one)), 1e-5);
  EXPECT_GT(MaxDiff(early, full), 0.0);  // the random network does move the flow on
  FlowRunOptions bad;
  bad.model = "raft-small";
  bad.allow_random_weights = true;
  bad.early_stop_px = -1;
  EXPECT_THROW(bad.Check(), Error);
}

TEST(FlowRunner, RefusesMismatchedImages) {
  FlowRunOptions o;
  o.model = "raft-small";
  o.allow_random_weights = true;
  FlowRunner r(o);
  EXPECT_THROW(r.Predict(cv::Mat(64, 64, CV_8UC3, cv::Scalar::all(0)), cv::Mat(64, 80, CV_8UC3, cv::Scalar::all(0))),
               Error);
  const cv::Mat f = r.Predict(cv::Mat(37, 53, CV_8UC3, cv::Scalar::all(90)), cv::Mat(37, 53, CV_8UC3, cv::Scalar::all(90)));
  EXPECT_EQ(f.size(), cv::Size(53, 37));  // odd sizes come back at the input size
}

}  // namespace
}  // namespace animerun::flow
