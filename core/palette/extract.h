// Palette extraction (AnimeRun supplementary 1.1): quantise each RGB channel to 16 levels
// (bin = v >> 4), count every quantised colour over a whole group of reference frames, keep
// the colours whose count exceeds 0.05% of the group's pixels. Details in docs/palette.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/jobs/job.h"
#include "core/palette/palette.h"

namespace animerun::palette {

constexpr int kLevels = 16;                  // quantisation levels per channel
constexpr int kBins = kLevels * kLevels * kLevels;  // 4096 packed bins

// Packed bin index of a colour: (r>>4)<<8 | (g>>4)<<4 | (b>>4).
inline int PackedBin(uint8_t r, uint8_t g, uint8_t b) { return ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4); }

// Counts and channel sums per packed bin (the sums give each bin's mean colour).
struct ColorHistogram {
  struct Bin {
    int64_t count = 0;
    int64_t sum[3] = {0, 0, 0};
  };
  std::vector<Bin> bins = std::vector<Bin>(kBins);
  int64_t pixels = 0;

  // rgb: CV_8UC3 (RGB). Throws Error for another type.
  void Add(const cv::Mat& rgb);
  void AddRows(const cv::Mat& rgb, int row_begin, int row_end);
  void Merge(const ColorHistogram& other);
};

// How the 8-bit colour written for a bin is chosen.
enum class RgbRule {
  kMean,    // mean of the group's pixels in the bin, rounded half up (default; what artists saw)
  kCentre,  // bin centre: bin * 16 + 8 per channel
};
const char* RgbRuleName(RgbRule rule);          // "mean" / "centre"
RgbRule ParseRgbRule(const std::string& name);  // throws Error for another name

struct ExtractOptions {
  // Keep a colour when count * 1,000,000 > min_ppm * pixels (strictly greater; exact integer
  // arithmetic). 500 ppm = the paper's 0.05%.
  int64_t min_ppm = 500;
  RgbRule rgb_rule = RgbRule::kMean;  // representative colour of a bin
  int threads = 0;                    // worker threads; 0 = all cores
  void Check() const;
};

// The palette of a histogram: kept colours sorted by count desc, ties by rgb asc.
std::vector<PaletteColor> PaletteFromHistogram(const ColorHistogram& hist, const ExtractOptions& options);

// Histogram of in-memory RGB frames (parallel over row bands).
ColorHistogram HistogramOfFrames(const std::vector<cv::Mat>& frames, int threads = 0);

// Extracts a group's palette from in-memory frames (frames stays empty in the result).
PaletteGroup ExtractPalette(const std::vector<cv::Mat>& frames, const ExtractOptions& options);

// Reads the files (in parallel) and extracts the group's palette. frames in the result are
// the paths as given. Throws Error naming the first unreadable file; Cancelled on cancel.
PaletteGroup ExtractPaletteFromFiles(const std::string& name, const std::string& style,
                                     const std::vector<std::filesystem::path>& files,
                                     const ExtractOptions& options, const JobContext* job = nullptr);

// Extracts each group's palette from its frames, one group after the other, each in its
// share of job's progress ("group 2/5: <name>: 3/40 frames"): the one loop behind
// `animerun palette extract` and the GUI's Extract, with the same options. The result
// keeps the groups' order. Throws as ExtractPaletteFromFiles (a group without frames is an
// error naming it); Cancelled when job asks.
std::vector<PaletteGroup> ExtractGroups(const std::vector<PaletteGroup>& groups, const ExtractOptions& options,
                                        const JobContext* job = nullptr);

// Image files by extension (.png .jpg .jpeg .bmp .tif .tiff .webp, any case).
bool IsImageFile(const std::filesystem::path& path);
// Files stay as given; folders expand to the image files beneath them (recursively, sorted
// by path). Throws Error for a missing path or a folder without images.
std::vector<std::filesystem::path> ExpandFrameInputs(const std::vector<std::string>& inputs);

}  // namespace animerun::palette
