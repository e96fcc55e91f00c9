// The AnT matcher through cv::Mat inputs: on the golden pair (images and label maps read
// with core/io) it gives the official matches.json, scores and confidences, also when made
// by name through CreateMatcher; the N < 2 rule, ids without pixels and bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <opencv2/imgproc.hpp>

#include "core/io/image_io.h"
#include "core/io/match_json.h"
#include "core/io/npy.h"
#include "core/segments/ant_matcher.h"
#include "core/segments/matcher_factory.h"
#include "core/util/error.h"
#include "models/ant/ant.h"
#include "parity.h"
#include "test_paths.h"

namespace animerun::test {
namespace {

using segments::AntMatcher;
using segments::AntMatcherOptions;
using segments::MatchInput;

MatchInput GoldenInput() {
  const auto dir = GoldenDir() / "inputs" / "dev_ant";
  MatchInput in;
  in.image0 = io::ReadImageRgb(dir / "img1.png");
  in.image1 = io::ReadImageRgb(dir / "img2.png");
  in.labels0 = io::ReadNpyLabels(dir / "seg1.npy");
  in.labels1 = io::ReadNpyLabels(dir / "seg2.npy");
  return in;
}

void ExpectOfficial(const segments::MatchResult& r) {
  const auto out = GoldenDir() / "ant" / "ant_dev";
  const std::vector<int> official = io::ReadMatchJson(out / "matches.json");
  EXPECT_EQ(r.matches, official);
  const io::NpyArray raw = io::ReadNpy(out / "scores_raw.npy");
  ASSERT_EQ(raw.shape, (std::vector<int64_t>{1, 38, 38}));
  ASSERT_EQ(r.scores.type(), CV_32FC1);
  ASSERT_EQ(r.scores.rows, 38);
  ASSERT_EQ(r.scores.cols, 38);
  double d = 0;
  for (int i = 0; i < 38 * 38; ++i) d = std::max(d, std::abs(double(r.scores.ptr<float>()[i]) - raw.as<float>()[i]));
  ExpectParity("ant_matcher_dev", "scores_raw", d, 1e-4);
  const io::NpyArray conf = io::ReadNpy(out / "matching_scores0.npy");
  ASSERT_EQ(r.confidence.size(), 37u);
  double dc = 0;
  for (int i = 0; i < 37; ++i) dc = std::max(dc, std::abs(double(r.confidence[i]) - conf.as<float>()[i]));
  ExpectParity("ant_matcher_dev", "confidence", dc, 1e-4);
}

TEST(AntMatcher, GoldenPairGivesOfficialMatches) {
  ANIMERUN_REQUIRE_GOLDEN();
  AntMatcherOptions o;
  o.weights = (GoldenDir() / "ant" / "ant.pt").string();
  AntMatcher matcher(o);
  EXPECT_EQ(matcher.name(), "ant");
  ExpectOfficial(matcher.Match(GoldenInput()));
}

TEST(AntMatcher, FactoryMakesIt) {
  ANIMERUN_REQUIRE_GOLDEN();
  segments::MatcherOptions o;
  o.weights = (GoldenDir() / "ant" / "ant.pt").string();
  auto matcher = segments::CreateMatcher("ant", o);
  EXPECT_EQ(matcher->name(), "ant");
  ExpectOfficial(matcher->Match(GoldenInput()));
  EXPECT_THROW(segments::CreateMatcher("ant", segments::MatcherOptions{}), Error);  // no weights
}

// Random full-size weights saved once per test (no golden files needed).
std::string RandomWeights(const std::string& name) {
  const auto path = ScratchDir(name) / "ant.pt";
  torch::manual_seed(1);
  models::AntNet net;
  models::SaveAntWeights(*net, path.string());
  return path.string();
}

// Four vertical stripes of colour and four label ids.
MatchInput StripesInput() {
  MatchInput in;
  in.image0 = cv::Mat(12, 16, CV_8UC3);
  in.labels0 = cv::Mat(12, 16, CV_32SC1);
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 16; ++x) {
      in.labels0.at<int>(y, x) = x / 4;
      in.image0.at<cv::Vec3b>(y, x) = cv::Vec3b(60 * (x / 4), 200 - 40 * (x / 4), (y * 20) % 256);
    }
  in.image1 = in.image0.clone();
  in.labels1 = in.labels0.clone();
  return in;
}

TEST(AntMatcher, FewerThanTwoSegmentsPredictsUnmatched) {
  AntMatcherOptions o;
  o.weights = RandomWeights("ant");
  AntMatcher matcher(o);
  MatchInput in = StripesInput();
  in.labels1.setTo(0);  // one segment in frame t+1
  const auto r = matcher.Match(in);
  EXPECT_EQ(r.matches, std::vector<int>(4, -1));
  EXPECT_EQ(r.confidence, std::vector<float>(4, 0.0f));
  EXPECT_TRUE(r.scores.empty());
  const auto full = matcher.Match(StripesInput());
  EXPECT_EQ(full.scores.rows, 5);
  EXPECT_EQ(full.scores.cols, 5);
  for (float c : full.confidence) EXPECT_GT(c, 0.0f);
}

TEST(AntMatcher, IdsWithoutPixelsAreLeftOut) {
  AntMatcherOptions o;
  o.weights = RandomWeights("ant");
  AntMatcher matcher(o);
  const MatchInput dense = StripesInput();
  // The same partition with ids 0, 1, 3, 5 (2 and 4 absent) in frame t and 0, 2, 3, 4 in t+1.
  MatchInput sparse = dense;
  sparse.labels0 = dense.labels0.clone();  // cv::Mat copies share pixels
  sparse.labels1 = dense.labels1.clone();
  const int remap0[4] = {0, 1, 3, 5}, remap1[4] = {0, 2, 3, 4};
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 16; ++x) {
      sparse.labels0.at<int>(y, x) = remap0[dense.labels0.at<int>(y, x)];
      sparse.labels1.at<int>(y, x) = remap1[dense.labels1.at<int>(y, x)];
    }
  const auto a = matcher.Match(dense);
  const auto b = matcher.Match(sparse);
  ASSERT_EQ(b.matches.size(), 6u);
  EXPECT_EQ(b.matches[2], -1);
  EXPECT_EQ(b.matches[4], -1);
  EXPECT_EQ(b.confidence[2], 0.0f);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(b.matches[remap0[i]], a.matches[i] < 0 ? -1 : remap1[a.matches[i]]) << i;
    EXPECT_FLOAT_EQ(b.confidence[remap0[i]], a.confidence[i]) << i;
    for (int j = 0; j < 4; ++j) EXPECT_FLOAT_EQ(b.scores.at<float>(remap0[i], remap1[j]), a.scores.at<float>(i, j));
  }
  ASSERT_EQ(b.scores.rows, 7);
  ASSERT_EQ(b.scores.cols, 6);
  EXPECT_TRUE(std::isinf(b.scores.at<float>(2, 0)));
  EXPECT_TRUE(std::isinf(b.scores.at<float>(0, 1)));
  EXPECT_FLOAT_EQ(b.scores.at<float>(2, 5), a.scores.at<float>(4, 4));  // bin_score
}

TEST(AntMatcher, BadInputsAndWeightsThrowError) {
  AntMatcherOptions o;
  o.weights = RandomWeights("ant");
  AntMatcher matcher(o);
  MatchInput in = StripesInput();
  in.labels1 = cv::Mat(11, 16, CV_32SC1, cv::Scalar(0));
  EXPECT_THROW(matcher.Match(in), Error);
  in = StripesInput();
  in.labels0.convertTo(in.labels0, CV_16U);
  EXPECT_THROW(matcher.Match(in), Error);
  in = StripesInput();
  in.labels0.at<int>(0, 0) = -3;
  EXPECT_THROW(matcher.Match(in), Error);
  in = StripesInput();
  cv::cvtColor(in.image0, in.image0, cv::COLOR_RGB2GRAY);
  EXPECT_THROW(matcher.Match(in), Error);

  const auto dir = ScratchDir("bad");
  AntMatcherOptions missing;
  missing.weights = (dir / "absent.pt").string();
  try {
    AntMatcher m(missing);
    ADD_FAILURE() << "no error for a missing checkpoint";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.pt"), std::string::npos) << e.what();
  }
  const std::string cut = (dir / "cut.pt").string();
  {
    std::ifstream src(o.weights, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
    std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  AntMatcherOptions truncated;
  truncated.weights = cut;
  EXPECT_THROW(AntMatcher m(truncated), Error);
  AntMatcherOptions none;
  EXPECT_THROW(none.Check(), Error);
  none.allow_random_weights = true;
  none.device = "tpu";
  EXPECT_THROW(none.Check(), Error);
  none.device = "cpu";
  none.precision = "fp16";  // CPU kernels lack it; AnT offers fp32 and bf16
  EXPECT_THROW(none.Check(), Error);
}

TEST(AntMatcher, Bf16MatcherRunsAndReturnsFp32Scores) {
  AntMatcherOptions o;
  o.weights = RandomWeights("ant");
  const MatchInput in = StripesInput();
  const segments::MatchResult fp32 = AntMatcher(o).Match(in);
  o.precision = "bf16";
  const segments::MatchResult bf16 = AntMatcher(o).Match(in);
  ASSERT_EQ(bf16.matches.size(), fp32.matches.size());
  ASSERT_EQ(bf16.scores.type(), CV_32FC1);
  ASSERT_EQ(bf16.scores.size(), fp32.scores.size());
  // bf16 encoder output: close to, but not bit for bit, the fp32 scores.
  EXPECT_GT(cv::norm(bf16.scores, fp32.scores, cv::NORM_INF), 0.0);
  EXPECT_LT(cv::norm(bf16.scores, fp32.scores, cv::NORM_INF), 0.1 * cv::norm(fp32.scores, cv::NORM_INF) + 1e-3);
}

}  // namespace
}  // namespace animerun::test
