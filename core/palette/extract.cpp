#include "core/palette/extract.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "core/io/image_io.h"
#include "core/palette/parallel.h"
#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::palette {

namespace fs = std::filesystem;

void ColorHistogram::Add(const cv::Mat& rgb) { AddRows(rgb, 0, rgb.rows); }

void ColorHistogram::AddRows(const cv::Mat& rgb, int row_begin, int row_end) {
  if (rgb.type() != CV_8UC3) throw Error("palette histogram: expected an RGB CV_8UC3 image");
  Bin* b = bins.data();
  // Animation frames are flat colours: runs of one exact colour are counted first and
  // added to their bin once (several times faster than a bin update per pixel).
  auto flush = [b](const uint8_t* px, int64_t run) {
    Bin& bin = b[PackedBin(px[0], px[1], px[2])];
    bin.count += run;
    bin.sum[0] += run * px[0];
    bin.sum[1] += run * px[1];
    bin.sum[2] += run * px[2];
  };
  for (int y = row_begin; y < row_end; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    if (rgb.cols == 0) continue;
    const uint8_t* run_px = p;
    int64_t run = 1;
    p += 3;
    for (int x = 1; x < rgb.cols; ++x, p += 3) {
      if (p[0] == run_px[0] && p[1] == run_px[1] && p[2] == run_px[2]) {
        ++run;
        continue;
      }
      flush(run_px, run);
      run_px = p;
      run = 1;
    }
    flush(run_px, run);
  }
  pixels += static_cast<int64_t>(row_end - row_begin) * rgb.cols;
}

void ColorHistogram::Merge(const ColorHistogram& other) {
  for (int i = 0; i < kBins; ++i) {
    bins[i].count += other.bins[i].count;
    for (int c = 0; c < 3; ++c) bins[i].sum[c] += other.bins[i].sum[c];
  }
  pixels += other.pixels;
}

const char* RgbRuleName(RgbRule rule) { return rule == RgbRule::kMean ? "mean" : "centre"; }

RgbRule ParseRgbRule(const std::string& name) {
  if (name == "mean") return RgbRule::kMean;
  if (name == "centre" || name == "center") return RgbRule::kCentre;
  throw Error("unknown rgb rule '" + name + "' (use mean or centre)");
}

void ExtractOptions::Check() const {
  Require(min_ppm >= 0 && min_ppm < 1000000, "min_ppm must be in [0, 1000000), got " + std::to_string(min_ppm));
  Require(threads >= 0, "threads must be >= 0");
}

std::vector<PaletteColor> PaletteFromHistogram(const ColorHistogram& hist, const ExtractOptions& options) {
  options.Check();
  std::vector<PaletteColor> out;
  for (int i = 0; i < kBins; ++i) {
    const ColorHistogram::Bin& bin = hist.bins[i];
    // Strictly greater, in integers: count / pixels > min_ppm / 1e6.
    if (bin.count == 0 || bin.count * 1000000 <= options.min_ppm * hist.pixels) continue;
    PaletteColor c;
    c.count = bin.count;
    const int level[3] = {i >> 8, (i >> 4) & 15, i & 15};
    for (int k = 0; k < 3; ++k) {
      c.rgb[k] = options.rgb_rule == RgbRule::kMean
                     ? static_cast<uint8_t>((bin.sum[k] + bin.count / 2) / bin.count)
                     : static_cast<uint8_t>(level[k] * 16 + 8);
    }
    out.push_back(c);
  }
  SortColors(&out);
  return out;
}

namespace {

// Each worker fills its own histogram; they are merged at the end.
template <typename Fn>
ColorHistogram ParallelHistogram(size_t n, int threads, Fn fn) {
  std::vector<ColorHistogram> partial(WorkerCount(threads, n));
  ParallelFor(n, threads, [&](size_t i, int w) { fn(i, &partial[w]); });
  for (size_t w = 1; w < partial.size(); ++w) partial[0].Merge(partial[w]);
  return std::move(partial[0]);
}

}  // namespace

ColorHistogram HistogramOfFrames(const std::vector<cv::Mat>& frames, int threads) {
  // Work items are bands of rows so that a single large frame also spreads over cores.
  constexpr int kBand = 64;
  std::vector<std::pair<size_t, int>> items;
  for (size_t f = 0; f < frames.size(); ++f) {
    if (frames[f].type() != CV_8UC3) throw Error("palette histogram: frame " + std::to_string(f) + " is not RGB CV_8UC3");
    for (int y = 0; y < frames[f].rows; y += kBand) items.emplace_back(f, y);
  }
  return ParallelHistogram(items.size(), threads, [&](size_t i, ColorHistogram* h) {
    const cv::Mat& m = frames[items[i].first];
    h->AddRows(m, items[i].second, std::min(m.rows, items[i].second + kBand));
  });
}

PaletteGroup ExtractPalette(const std::vector<cv::Mat>& frames, const ExtractOptions& options) {
  options.Check();
  PaletteGroup group;
  const ColorHistogram hist = HistogramOfFrames(frames, options.threads);
  group.pixels = hist.pixels;
  group.colors = PaletteFromHistogram(hist, options);
  return group;
}

PaletteGroup ExtractPaletteFromFiles(const std::string& name, const std::string& style,
                                     const std::vector<fs::path>& files, const ExtractOptions& options,
                                     const JobContext* job) {
  options.Check();
  if (files.empty()) throw Error("palette group '" + name + "': no frames");
  std::atomic<size_t> done{0};
  std::mutex report_mutex;
  const ColorHistogram hist = ParallelHistogram(files.size(), options.threads, [&](size_t i, ColorHistogram* h) {
    if (job) job->CheckCancel();
    h->Add(io::ReadImageRgb(files[i]));
    const size_t d = ++done;
    if (job) {
      std::lock_guard<std::mutex> lock(report_mutex);
      job->Report(static_cast<double>(d) / files.size(),
                  name + ": " + std::to_string(d) + "/" + std::to_string(files.size()) + " frames");
    }
  });
  if (job) job->CheckCancel();
  PaletteGroup group;
  group.name = name;
  group.style = style;
  for (const auto& f : files) group.frames.push_back(f.string());
  group.pixels = hist.pixels;
  group.colors = PaletteFromHistogram(hist, options);
  return group;
}

std::vector<PaletteGroup> ExtractGroups(const std::vector<PaletteGroup>& groups, const ExtractOptions& options,
                                        const JobContext* job) {
  options.Check();
  std::vector<PaletteGroup> out;
  const double n = static_cast<double>(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    if (job) job->CheckCancel();
    const SubJob part(job, i / n, (i + 1) / n,
                      "group " + std::to_string(i + 1) + "/" + std::to_string(groups.size()) + ": ");
    const std::vector<fs::path> files(groups[i].frames.begin(), groups[i].frames.end());
    out.push_back(ExtractPaletteFromFiles(groups[i].name, groups[i].style, files, options, &part));
  }
  if (job) job->CheckCancel();
  return out;
}

bool IsImageFile(const fs::path& path) {
  const std::string ext = LowerExtension(path);
  static const char* kExts[] = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"};
  return std::any_of(std::begin(kExts), std::end(kExts), [&](const char* e) { return ext == e; });
}

std::vector<fs::path> ExpandFrameInputs(const std::vector<std::string>& inputs) {
  std::vector<fs::path> out;
  for (const std::string& input : inputs) {
    std::error_code ec;
    const fs::path p(input);
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && IsImageFile(it->path())) found.push_back(it->path());
      }
      if (ec) ThrowFileError(input, "cannot list folder: " + ec.message());
      if (found.empty()) ThrowFileError(input, "no image files in this folder");
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      out.push_back(p);
    } else {
      ThrowFileError(input, "no such file or folder");
    }
  }
  return out;
}

}  // namespace animerun::palette
