// `animerun bench match --matcher flow|geometric --segments N`: median time per pair of a
// weight-free segment matcher on a generated cartoon pair with about N segments.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "app/cli/arg_parser.h"
#include "app/cli/bench_registry.h"
#include "core/segments/matcher_factory.h"
#include "core/segments/segment_stats.h"
#include "core/segments/segmentation.h"

namespace animerun::cli {
namespace {

// Flat ellipses with dark outlines (count of them), deterministic.
cv::Mat Cartoon(int h, int w, int count) {
  cv::Mat a(h, w, CV_8UC3, cv::Scalar(200, 220, 240));
  cv::RNG rng(11);
  const int r = std::max(6, static_cast<int>(std::sqrt(static_cast<double>(h) * w / std::max(count, 1))));
  for (int i = 0; i < count; ++i) {
    const cv::Point c(rng.uniform(0, w), rng.uniform(0, h));
    const cv::Size ax(rng.uniform(r / 3 + 2, r + 3), rng.uniform(r / 3 + 2, r + 3));
    const cv::Scalar col(rng.uniform(80, 255), rng.uniform(80, 255), rng.uniform(80, 255));
    const double angle = rng.uniform(0, 180);
    cv::ellipse(a, c, ax, angle, 0, 360, col, cv::FILLED, cv::LINE_8);
    cv::ellipse(a, c, ax, angle, 0, 360, cv::Scalar(20, 20, 20), 2, cv::LINE_8);
  }
  return a;
}

int RunBenchMatch(int argc, char** argv) {
  std::string matcher = "geometric", size = "540x960";
  int segments = 100, repeats = 5, warmup = 1;
  ArgParser p(argv[0], "Times a weight-free segment matcher on one generated cartoon pair (frame t+1 = frame t moved "
                       "by (6, 3) px, flow given): median seconds per pair over --repeats runs after --warmup runs.");
  p.Add("--matcher", &matcher, "flow (voting with the given flow) or geometric");
  p.Add("--segments", &segments, "aim for about this many segments per frame");
  p.Add("--size", &size, "frame size HxW");
  p.Add("--repeats", &repeats, "timed runs");
  p.Add("--warmup", &warmup, "untimed runs first");
  p.SetEpilog("The flow matcher's time excludes the flow network (see `animerun bench flow`).\n"
              "example: animerun bench match --matcher geometric --segments 400");
  if (!p.Parse(argc, argv)) return 0;
  int h = 0, w = 0;
  if (std::sscanf(size.c_str(), "%dx%d", &h, &w) != 2 || h < 16 || w < 16) throw UsageError("--size must be HxW, e.g. 540x960");
  if (repeats < 1 || warmup < 0) throw UsageError("--repeats must be >= 1 and --warmup >= 0");
  if (segments < 2 || segments > 100000) throw UsageError("--segments must be in 2..100000");
  if (matcher != "flow" && matcher != "geometric") throw UsageError("--matcher must be flow or geometric");

  // More ellipses until the segment count reaches the aim (overlaps make it non-linear).
  cv::Mat a, labels0;
  int n0 = 0;
  for (int count = std::max(1, segments / 3);; count = count * 5 / 4 + 1) {
    a = Cartoon(h, w, count);
    labels0 = segments::SegmentImage(a);
    n0 = segments::CountSegments(labels0);
    if (n0 >= segments || count > 20 * segments) break;
  }
  cv::Mat b;
  const cv::Mat shift = (cv::Mat_<double>(2, 3) << 1, 0, 6, 0, 1, 3);
  cv::warpAffine(a, b, shift, a.size(), cv::INTER_NEAREST, cv::BORDER_REPLICATE);
  const cv::Mat labels1 = segments::SegmentImage(b);
  const segments::MatchInput in{a, b, labels0, labels1, cv::Mat(h, w, CV_32FC2, cv::Scalar(6, 3))};

  auto m = segments::CreateMatcher(matcher);
  segments::MatchResult r;
  for (int i = 0; i < warmup; ++i) r = m->Match(in);
  std::vector<double> secs;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    r = m->Match(in);
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(secs.begin(), secs.end());
  const auto matched = std::count_if(r.matches.begin(), r.matches.end(), [](int j) { return j >= 0; });
  std::printf("{\"bench\": \"match\", \"matcher\": \"%s\", \"size\": \"%dx%d\", \"segments0\": %d, \"segments1\": %d, "
              "\"matched\": %lld, \"median_s\": %.4f, \"min_s\": %.4f}\n",
              matcher.c_str(), h, w, n0, segments::CountSegments(labels1), static_cast<long long>(matched),
              secs[secs.size() / 2], secs.front());
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_BENCH(match, "match", "median time per pair of the flow-guided or geometric segment matcher",
                        RunBenchMatch);

}  // namespace animerun::cli
