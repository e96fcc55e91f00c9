#include "core/segments/matcher_factory.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::segments {
namespace {

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(MatcherFactory, KnowsItsNames) {
  const auto names = MatcherNames();
  for (const char* n : {"ant", "flow", "geometric"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_EQ(CreateMatcher("flow")->name(), "flow");
  EXPECT_EQ(CreateMatcher("geometric")->name(), "geometric");
  const std::string e = ErrorOf([] { CreateMatcher("sift"); });
  EXPECT_NE(e.find("unknown matcher 'sift'"), std::string::npos) << e;
}

TEST(MatcherFactory, CreatedMatchersWork) {
  cv::Mat lab(8, 8, CV_32SC1, cv::Scalar(0));
  lab(cv::Rect(0, 0, 3, 8)).setTo(1);
  const MatchInput in{cv::Mat(), cv::Mat(), lab, lab, cv::Mat(8, 8, CV_32FC2, cv::Scalar(0, 0))};
  for (const char* n : {"flow", "geometric"}) {
    const MatchResult r = CreateMatcher(n)->Match(in);
    EXPECT_EQ(r.matches, (std::vector<int>{0, 1})) << n;
  }
}

TEST(MatcherFactory, OptionsAreCheckedPerMatcher) {
  MatcherOptions o;
  o.flow.min_share = 2.0;
  EXPECT_THROW(CreateMatcher("flow", o), Error);
  EXPECT_NO_THROW(CreateMatcher("geometric", o));  // flow options don't concern it
  o = {};
  o.geometric.assignment = "random";
  EXPECT_THROW(CreateMatcher("geometric", o), Error);
  EXPECT_NO_THROW(o.Check("flow"));
  o = {};
  o.flow_model = flow::FlowRunOptions{};
  o.flow_model->allow_random_weights = true;
  EXPECT_NO_THROW(o.Check("flow"));
  o.flow_model->iters = 0;
  EXPECT_THROW(o.Check("flow"), Error);
}

TEST(MatcherFactory, FlowModelWeightsThatCannotLoadAreAnError) {
  MatcherOptions o;
  o.flow_model = flow::FlowRunOptions{};
  o.flow_model->model = "raft-small";
  o.flow_model->weights = (test::ScratchDir("w") / "missing.pth").string();
  const std::string e = ErrorOf([&] { CreateMatcher("flow", o); });
  EXPECT_NE(e.find("missing.pth"), std::string::npos) << e;
}

TEST(MatcherFactory, FlowMatcherRunsAFlowNetworkWhenTheInputHasNoFlow) {
  MatcherOptions o;
  o.flow_model = flow::FlowRunOptions{};
  o.flow_model->model = "raft-small";
  o.flow_model->iters = 2;
  o.flow_model->threads = 1;
  o.flow_model->allow_random_weights = true;  // the plumbing, not the quality
  auto m = CreateMatcher("flow", o);
  cv::Mat lab(64, 64, CV_32SC1, cv::Scalar(0));
  lab(cv::Rect(0, 0, 20, 64)).setTo(1);
  cv::Mat img(64, 64, CV_8UC3, cv::Scalar(240, 240, 240));
  img(cv::Rect(0, 0, 20, 64)).setTo(cv::Scalar(200, 40, 40));
  const MatchResult r = m->Match({img, img, lab, lab, cv::Mat()});
  ASSERT_EQ(r.matches.size(), 2u);
  for (float c : r.confidence) {
    EXPECT_GE(c, 0.0f);
    EXPECT_LE(c, 1.0f);
  }
  // Without images the network has nothing to run on.
  EXPECT_THROW(m->Match({cv::Mat(), cv::Mat(), lab, lab, cv::Mat()}), Error);
}

TEST(MatcherFactory, AntNeedsWeights) {
  const std::string e = ErrorOf([] { CreateMatcher("ant"); });
  EXPECT_NE(e.find("--weights"), std::string::npos) << e;
  MatcherOptions o;
  o.weights = (test::ScratchDir("w") / "none.pth").string();
  EXPECT_THROW(CreateMatcher("ant", o), Error);  // missing file (or AnT not linked in yet)
  // The AnT fields are checked as AntMatcher checks them, before any file is read.
  o.precision = "fp16";
  EXPECT_NE(ErrorOf([&] { o.Check("ant"); }).find("precision"), std::string::npos);
  o.precision = "bf16";
  o.device = "tpu";
  EXPECT_THROW(o.Check("ant"), Error);
}

}  // namespace
}  // namespace animerun::segments
