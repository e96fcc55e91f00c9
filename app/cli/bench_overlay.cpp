// `animerun bench overlay`: composing a frame of the pair view with every overlay (flow
// colours and arrows, segment boundaries, occlusion and line masks, a highlighted segment),
// with and without the flow colour cache; median of repeated runs. The speed the pair
// view needs on each toggle and click (measured here, not asserted in a unit test).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "app/cli/arg_parser.h"
#include "app/cli/bench_registry.h"
#include "core/data/animerun_dataset.h"
#include "core/view/overlay.h"

namespace animerun::cli {
namespace {

int RunBenchOverlay(int argc, char** argv) {
  std::string size = "960x540";
  int repeats = 9;
  ArgParser p("animerun bench overlay", "Pair-view frame composition with every overlay (median of repeats).");
  p.Add("--size", &size, "frame size WxH");
  p.Add("--repeats", &repeats, "timed runs (the median is reported)");
  if (!p.Parse(argc, argv)) return 0;
  int w = 0, h = 0;
  if (std::sscanf(size.c_str(), "%dx%d", &w, &h) != 2 || w < 16 || h < 16) throw UsageError("--size must look like 960x540");
  if (repeats < 1) throw UsageError("--repeats must be >= 1");

  data::PairData pair;
  pair.image1 = cv::Mat(h, w, CV_8UC3, cv::Scalar(200, 180, 160));
  pair.segment1 = cv::Mat(h, w, CV_32SC1);
  pair.flow_forward = cv::Mat(h, w, CV_32FC2);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      pair.segment1.at<int>(y, x) = (y / 20) * ((w + 19) / 20) + x / 20;
      pair.flow_forward.at<cv::Vec2f>(y, x) = cv::Vec2f(10 * std::sin(x * 0.01f), 5 * std::cos(y * 0.02f));
    }
  pair.unmatched_forward = cv::Mat(h, w, CV_8UC1, cv::Scalar(1));
  pair.unmatched_forward(cv::Rect(w / 10, h / 5, w / 5, h / 3)).setTo(0);
  pair.line_area = cv::Mat(h, w, CV_8UC1, cv::Scalar(1));
  pair.line_area.col(w / 3).setTo(0);
  view::OverlayOptions o;
  o.flow_color = o.flow_arrows = o.boundaries = o.occlusion = o.lines = true;

  auto median_ms = [&](view::FlowColorCache* cache) {
    view::ComposeFrameView(pair, 0, o, 17, cache);  // warm-up (fills the cache)
    std::vector<double> t;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      view::ComposeFrameView(pair, 0, o, 17, cache);
      t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  };
  view::FlowColorCache cache;
  const double plain = median_ms(nullptr);
  const double cached = median_ms(&cache);
  std::printf("{\"size\": \"%dx%d\", \"repeats\": %d, \"compose_ms\": %.2f, \"compose_cached_ms\": %.2f}\n", w, h,
              repeats, plain, cached);
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_BENCH(overlay, "overlay", "pair-view frame composition with every overlay", RunBenchOverlay);

}  // namespace animerun::cli
