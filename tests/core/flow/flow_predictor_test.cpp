// FlowRunner, the path `animerun flow`, `eval-flow --model` and the GUI share: PNG in,
// official checkpoint, .flo out, compared with the official output.
#include "core/flow/flow_predictor.h"

#include <gtest/gtest.h>

#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/util/error.h"
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
