#include "core/segments/segmentation.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/util/error.h"

namespace animerun::segments {

void SegmentationOptions::Check() const {
  Require(mode == "lines" || mode == "flat", "segmentation mode must be 'lines' or 'flat' (got '" + mode + "')");
  Require(line_threshold >= 0 && line_threshold <= 256,
          "line threshold must be in 0..256 (got " + std::to_string(line_threshold) + ")");
  Require(close_gaps >= 0 && close_gaps <= 64, "gap-closing radius must be in 0..64 (got " + std::to_string(close_gaps) + ")");
}

namespace {

// Packed 0xRRGGBB per pixel (continuous), for the "same colour" tests of flat mode.
std::vector<uint32_t> PackColours(const cv::Mat& colour) {
  std::vector<uint32_t> c(colour.total());
  size_t i = 0;
  for (int y = 0; y < colour.rows; ++y) {
    const auto* p = colour.ptr<cv::Vec3b>(y);
    for (int x = 0; x < colour.cols; ++x) c[i++] = static_cast<uint32_t>(p[x][0]) << 16 | p[x][1] << 8 | p[x][2];
  }
  return c;
}

// Gives every 4-connected component of unlabelled pixels with allow[i] (and one colour,
// when col is given) a new id from next_id on. Returns the next free id.
int LabelComponents(const std::vector<uchar>& allow, const uint32_t* col, int w, int h, std::vector<int>& lab,
                    int next_id) {
  std::vector<int> stack;
  const int n = w * h;
  for (int s = 0; s < n; ++s) {
    if (!allow[static_cast<size_t>(s)] || lab[static_cast<size_t>(s)] != 0) continue;
    const int id = next_id++;
    lab[static_cast<size_t>(s)] = id;
    stack.push_back(s);
    while (!stack.empty()) {
      const int p = stack.back();
      stack.pop_back();
      const int x = p % w, y = p / w;
      const int nb[4] = {x > 0 ? p - 1 : -1, x + 1 < w ? p + 1 : -1, y > 0 ? p - w : -1, y + 1 < h ? p + w : -1};
      for (int q : nb) {
        if (q < 0 || !allow[static_cast<size_t>(q)] || lab[static_cast<size_t>(q)] != 0) continue;
        if (col && col[q] != col[p]) continue;
        lab[static_cast<size_t>(q)] = id;
        stack.push_back(q);
      }
    }
  }
  return next_id;
}

// Breadth-first growth from every labelled pixel (queued in raster order) into unlabelled
// pixels with allow (all when allow is null); with col, only into pixels of the source
// pixel's colour.
void Grow(std::vector<int>& lab, const std::vector<uchar>* allow, const uint32_t* col, int w, int h) {
  const int n = w * h;
  std::vector<int> queue;
  queue.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    if (lab[static_cast<size_t>(i)] > 0) queue.push_back(i);
  for (size_t head = 0; head < queue.size(); ++head) {
    const int p = queue[head];
    const int x = p % w, y = p / w;
    const int nb[4] = {x > 0 ? p - 1 : -1, x + 1 < w ? p + 1 : -1, y > 0 ? p - w : -1, y + 1 < h ? p + w : -1};
    for (int q : nb) {
      if (q < 0 || lab[static_cast<size_t>(q)] != 0) continue;
      if (allow && !(*allow)[static_cast<size_t>(q)]) continue;
      if (col && col[q] != col[p]) continue;
      lab[static_cast<size_t>(q)] = lab[static_cast<size_t>(p)];
      queue.push_back(q);
    }
  }
}

}  // namespace

cv::Mat DetectLines(const cv::Mat& image, int line_threshold) {
  if (image.empty()) throw Error("line detection: empty image");
  cv::Mat value;
  if (image.type() == CV_8UC3) {
    std::vector<cv::Mat> ch;
    cv::split(image, ch);
    cv::max(ch[0], ch[1], value);
    cv::max(value, ch[2], value);
  } else if (image.type() == CV_8UC1) {
    value = image;
  } else {
    throw Error("line detection: the image must be RGB CV_8UC3 or grey CV_8UC1");
  }
  cv::Mat line(image.size(), CV_8UC1);
  for (int y = 0; y < value.rows; ++y) {
    const uchar* v = value.ptr<uchar>(y);
    uchar* l = line.ptr<uchar>(y);
    for (int x = 0; x < value.cols; ++x) l[x] = v[x] < line_threshold ? 1 : 0;
  }
  return line;
}

cv::Mat LabelSegments(const cv::Mat& line_mask, int close_gaps, const cv::Mat& colour) {
  if (line_mask.empty() || line_mask.type() != CV_8UC1) throw Error("segmentation: line mask must be CV_8UC1");
  if (!colour.empty() && (colour.type() != CV_8UC3 || colour.size() != line_mask.size()))
    throw Error("segmentation: colour image must be RGB CV_8UC3 of the line mask's size");
  if (close_gaps < 0) throw Error("segmentation: negative gap-closing radius");
  const int h = line_mask.rows, w = line_mask.cols;
  const size_t n = static_cast<size_t>(h) * w;
  std::vector<uchar> flat(n);
  for (int y = 0; y < h; ++y) {
    const uchar* l = line_mask.ptr<uchar>(y);
    for (int x = 0; x < w; ++x) flat[static_cast<size_t>(y) * w + x] = l[x] == 0;
  }
  const std::vector<uint32_t> packed = colour.empty() ? std::vector<uint32_t>() : PackColours(colour);
  const uint32_t* col = colour.empty() ? nullptr : packed.data();

  std::vector<int> lab(n, 0);  // 0 = not yet labelled; ids from 1
  int next = 1;
  if (close_gaps == 0) {
    next = LabelComponents(flat, col, w, h, lab, next);
  } else {
    cv::Mat f(h, w, CV_8UC1, flat.data()), eroded;
    const int k = 2 * close_gaps + 1;
    // The default border value of erode leaves the frame edge open (not a line).
    cv::erode(f, eroded, cv::getStructuringElement(cv::MORPH_ELLIPSE, {k, k}));
    std::vector<uchar> core(eroded.datastart, eroded.dataend);
    next = LabelComponents(core, col, w, h, lab, next);
    Grow(lab, &flat, col, w, h);
    next = LabelComponents(flat, col, w, h, lab, next);  // pockets the ball could not enter
  }
  const int ncomp = next;  // ids 1..ncomp-1 in use
  cv::Mat out(h, w, CV_32SC1);
  if (ncomp <= 1) {  // no non-line pixel: one segment
    out.setTo(0);
    return out;
  }
  Grow(lab, nullptr, nullptr, w, h);  // line pixels

  std::vector<int64_t> area(static_cast<size_t>(ncomp), 0), first(static_cast<size_t>(ncomp), -1);
  for (size_t i = 0; i < n; ++i) {
    const auto l = static_cast<size_t>(lab[i]);
    if (area[l]++ == 0) first[l] = static_cast<int64_t>(i);
  }
  std::vector<int> order(static_cast<size_t>(ncomp - 1));
  std::iota(order.begin(), order.end(), 1);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const auto ua = static_cast<size_t>(a), ub = static_cast<size_t>(b);
    return area[ua] != area[ub] ? area[ua] > area[ub] : first[ua] < first[ub];
  });
  std::vector<int> lut(static_cast<size_t>(ncomp), 0);
  for (size_t k = 0; k < order.size(); ++k) lut[static_cast<size_t>(order[k])] = static_cast<int>(k);
  int* o = out.ptr<int>();
  for (size_t i = 0; i < n; ++i) o[i] = lut[static_cast<size_t>(lab[i])];
  return out;
}

cv::Mat SegmentImage(const cv::Mat& image, const SegmentationOptions& options) {
  options.Check();
  const cv::Mat line = DetectLines(image, options.line_threshold);
  cv::Mat colour;
  if (options.mode == "flat") {
    if (image.type() == CV_8UC3) colour = image;
    else cv::cvtColor(image, colour, cv::COLOR_GRAY2RGB);
  }
  return LabelSegments(line, options.close_gaps, colour);
}

cv::Mat LineArtImage(const cv::Mat& image, int line_threshold) {
  const cv::Mat line = DetectLines(image, line_threshold);
  cv::Mat art(image.size(), CV_8UC3, cv::Scalar(255, 255, 255));
  art.setTo(cv::Scalar(0, 0, 0), line);
  return art;
}

cv::Mat VisualizeSegments(const cv::Mat& labels) {
  if (labels.empty() || labels.type() != CV_32SC1) throw Error("segment visualisation: labels must be CV_32SC1");
  cv::Mat out(labels.size(), CV_8UC3);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const int* up = y > 0 ? labels.ptr<int>(y - 1) : nullptr;
    const int* dn = y + 1 < labels.rows ? labels.ptr<int>(y + 1) : nullptr;
    auto* o = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < labels.cols; ++x) {
      const int id = l[x];
      const bool edge = (x > 0 && l[x - 1] != id) || (x + 1 < labels.cols && l[x + 1] != id) || (up && up[x] != id) ||
                        (dn && dn[x] != id);
      // A multiplicative hash spreads neighbouring ids over the colour cube; +64 keeps
      // fills away from the dark boundary colour.
      const uint32_t hsh = static_cast<uint32_t>(id) * 2654435761u;
      const cv::Vec3b c(static_cast<uchar>(64 + (hsh >> 24) % 192), static_cast<uchar>(64 + (hsh >> 16) % 192),
                        static_cast<uchar>(64 + (hsh >> 8) % 192));
      o[x] = edge ? cv::Vec3b(c[0] / 4, c[1] / 4, c[2] / 4) : c;
    }
  }
  return out;
}

}  // namespace animerun::segments
