// `animerun bench palette`: palette extraction and recolouring throughput on cartoon-like
// frames (flat colour shapes with dark outlines), median of repeated runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "app/cli/arg_parser.h"
#include "app/cli/bench_registry.h"
#include "app/cli/bench_util.h"
#include "core/io/image_io.h"
#include "core/palette/extract.h"
#include "core/palette/parallel.h"
#include "core/palette/py_random.h"
#include "core/palette/recolor.h"

namespace animerun::cli {
namespace {

namespace fs = std::filesystem;
using namespace animerun::palette;

// A frame of flat shapes with 2-px dark outlines and a few hundred distinct colours overall.
cv::Mat CartoonFrame(int w, int h, int index) {
  PyRandom rng(1000 + index);
  auto u = [&](int n) { return static_cast<int>(rng.RandBelow(static_cast<uint32_t>(n))); };
  cv::Mat m(h, w, CV_8UC3, cv::Scalar(200 + u(40), 200 + u(40), 180 + u(60)));
  for (int i = 0; i < 40; ++i) {
    const cv::Scalar fill(u(256), u(256), u(256));
    const cv::Point c(u(w), u(h));
    const cv::Size axes(10 + u(w / 6), 10 + u(h / 6));
    cv::ellipse(m, c, axes, u(180), 0, 360, fill, cv::FILLED, cv::LINE_8);
    cv::ellipse(m, c, axes, u(180), 0, 360, cv::Scalar(20, 20, 20), 2, cv::LINE_8);
  }
  return m;
}

template <typename Fn>
double MedianSeconds(int repeats, Fn fn) {
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return Median(t);
}

int RunBenchPalette(int argc, char** argv) {
  std::string size = "960x540";
  int frames = 16, repeats = 5, threads = 0;
  ArgParser p("animerun bench palette", "Palette extraction and recolouring throughput (median of repeats).");
  p.Add("--size", &size, "frame size WxH");
  p.Add("--frames", &frames, "frames per run");
  p.Add("--repeats", &repeats, "timed runs (the median is reported)");
  p.Add("--threads", &threads, "worker threads for the parallel figures (0 = all cores)");
  if (!p.Parse(argc, argv)) return 0;
  int w = 0, h = 0;
  if (std::sscanf(size.c_str(), "%dx%d", &w, &h) != 2 || w < 16 || h < 16) throw UsageError("--size must look like 960x540");
  if (frames < 1 || repeats < 1 || threads < 0) throw UsageError("--frames and --repeats must be >= 1, --threads >= 0");

  std::vector<cv::Mat> imgs;
  for (int i = 0; i < frames; ++i) imgs.push_back(CartoonFrame(w, h, i));
  const double mpx = double(w) * h * frames / 1e6;
  std::printf("palette bench: %d frame(s) of %dx%d (%.1f Mpx per run), %d repeat(s), %u hardware threads\n", frames, w,
              h, mpx, repeats, std::thread::hardware_concurrency());

  ExtractOptions one, all;
  one.threads = 1;
  all.threads = threads;
  size_t colors = 0;
  const double t_one = MedianSeconds(repeats, [&] { colors = ExtractPalette(imgs, one).colors.size(); });
  const double t_all = MedianSeconds(repeats, [&] { ExtractPalette(imgs, all); });
  std::printf("extract (in memory, 1 thread)    %8.1f Mpx/s  %7.2f ms/frame  (%zu colours kept)\n", mpx / t_one,
              1e3 * t_one / frames, colors);
  std::printf("extract (in memory, %2d threads)  %8.1f Mpx/s  %7.2f ms/frame\n", WorkerCount(threads, 1 << 20),
              mpx / t_all, 1e3 * t_all / frames);

  // From PNG files, as `palette extract` runs: decoding dominates.
  const fs::path dir = fs::temp_directory_path() / ("animerun_bench_palette_" + std::to_string(::getpid()));
  std::vector<fs::path> files;
  for (int i = 0; i < frames; ++i) {
    files.push_back(dir / ("f" + std::to_string(i) + ".png"));
    io::WriteImage(files.back(), imgs[i]);
  }
  const double t_files = MedianSeconds(repeats, [&] { ExtractPaletteFromFiles("bench", "", files, all); });
  std::error_code ec;
  fs::remove_all(dir, ec);
  std::printf("extract (PNG files, %2d threads)  %8.1f Mpx/s  %7.2f ms/frame\n", WorkerCount(threads, 1 << 20),
              mpx / t_files, 1e3 * t_files / frames);

  // Recolouring in memory: line mask (dark-pixel rule), material count, recolour.
  PaletteFile pal;
  pal.groups.push_back(ExtractPalette(imgs, one));
  pal.groups[0].name = "bench";
  RecolorOptions ro;
  ro.pass = "color_9";
  ro.group = "bench";
  ro.threads = threads;
  std::vector<cv::Mat> masks(imgs.size());
  for (size_t i = 0; i < imgs.size(); ++i) masks[i] = LineMask(imgs[i], {}, ro);
  size_t materials = 0;
  const double t_count = MedianSeconds(repeats, [&] {
    MaterialCounts counts;
    for (size_t i = 0; i < imgs.size(); ++i) CountMaterials(imgs[i], masks[i], &counts);
    materials = counts.size();
  });
  MaterialCounts counts;
  for (size_t i = 0; i < imgs.size(); ++i) CountMaterials(imgs[i], masks[i], &counts);
  const ScenePlan plan = PlanRecolor("bench", counts, pal, ro);
  const double t_recolor = MedianSeconds(repeats, [&] {
    for (size_t i = 0; i < imgs.size(); ++i) RecolorFrame(imgs[i], masks[i], plan.map);
  });
  const double t_apply = MedianSeconds(repeats, [&] {
    ParallelFor(imgs.size(), threads, [&](size_t i, int) {
      const cv::Mat m = LineMask(imgs[i], {}, ro);
      MaterialCounts c;
      CountMaterials(imgs[i], m, &c);
      RecolorFrame(imgs[i], m, plan.map);
    });
  });
  std::printf("materials count (1 thread)       %8.1f Mpx/s  %7.2f ms/frame  (%zu materials)\n", mpx / t_count,
              1e3 * t_count / frames, materials);
  std::printf("recolour frame (1 thread)        %8.1f Mpx/s  %7.2f ms/frame\n", mpx / t_recolor,
              1e3 * t_recolor / frames);
  std::printf("mask+count+recolour (%2d threads) %8.1f Mpx/s  %7.2f ms/frame\n", WorkerCount(threads, 1 << 20),
              mpx / t_apply, 1e3 * t_apply / frames);
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_BENCH(palette, "palette", "palette extraction and recolouring throughput", RunBenchPalette);

}  // namespace animerun::cli
