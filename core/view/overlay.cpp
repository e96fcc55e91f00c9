#include "core/view/overlay.h"

#include <cmath>
#include <string>

#include <opencv2/imgproc.hpp>

#include "core/flow/flow_viz.h"
#include "core/util/error.h"
#include "core/view/segment_view.h"

namespace animerun::view {

const cv::Vec3b kOcclusionColor(230, 0, 200);
const cv::Vec3b kLineColor(0, 200, 255);
const cv::Vec3b kBoundaryColor(255, 110, 0);
const cv::Vec3b kHighlightColor(255, 230, 0);
const cv::Vec3b kHighlightEdge(230, 0, 0);

void OverlayOptions::Check() const {
  Require(std::isfinite(flow_opacity) && flow_opacity >= 0.0 && flow_opacity <= 1.0,
          "overlay: flow_opacity must be in [0, 1]");
  Require(std::isfinite(mask_opacity) && mask_opacity >= 0.0 && mask_opacity <= 1.0,
          "overlay: mask_opacity must be in [0, 1]");
  Require(arrow_step >= 2 && arrow_step <= 1024, "overlay: arrow_step must be in 2..1024");
  Require(std::isfinite(arrow_scale) && arrow_scale > 0.0 && arrow_scale <= 100.0,
          "overlay: arrow_scale must be in (0, 100]");
  Require(std::isfinite(max_flow) && max_flow >= 0.0, "overlay: max_flow must be >= 0 (0 = automatic)");
}

void TintMask(cv::Mat& rgb, const cv::Mat& mask, const cv::Vec3b& color, double alpha) {
  if (mask.empty()) return;
  Require(alpha >= 0.0 && alpha <= 1.0, "TintMask: alpha must be in [0, 1]");
  if (rgb.type() != CV_8UC3 || mask.type() != CV_8UC1 || rgb.size() != mask.size())
    throw Error("TintMask: expected a CV_8UC3 image and a CV_8UC1 mask of the same size");
  // Fixed point keeps the blend cheap at 960x540 (it runs on every toggle).
  const int a = static_cast<int>(std::lround(alpha * 256.0)), b = 256 - a;
  const int c0 = color[0] * a, c1 = color[1] * a, c2 = color[2] * a;
  for (int y = 0; y < rgb.rows; ++y) {
    uint8_t* p = rgb.ptr<uint8_t>(y);
    const uint8_t* m = mask.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, p += 3) {
      if (!m[x]) continue;
      p[0] = static_cast<uint8_t>((p[0] * b + c0 + 128) >> 8);
      p[1] = static_cast<uint8_t>((p[1] * b + c1 + 128) >> 8);
      p[2] = static_cast<uint8_t>((p[2] * b + c2 + 128) >> 8);
    }
  }
}

void PaintMask(cv::Mat& rgb, const cv::Mat& mask, const cv::Vec3b& color) {
  if (mask.empty()) return;
  if (rgb.type() != CV_8UC3 || mask.type() != CV_8UC1 || rgb.size() != mask.size())
    throw Error("PaintMask: expected a CV_8UC3 image and a CV_8UC1 mask of the same size");
  rgb.setTo(cv::Scalar(color[0], color[1], color[2]), mask);
}

cv::Mat OcclusionMask(const cv::Mat& unmatched_forward) {
  if (unmatched_forward.empty()) return cv::Mat();
  cv::Mat m;
  cv::compare(unmatched_forward, cv::Scalar(0), m, cv::CMP_EQ);
  return m;
}

cv::Mat LineMask(const cv::Mat& line_area) {
  if (line_area.empty()) return cv::Mat();
  cv::Mat m;
  cv::compare(line_area, cv::Scalar(0), m, cv::CMP_EQ);
  return m;
}

const cv::Mat& FlowForFrame(const data::PairData& pair, int frame) {
  return frame == 0 ? pair.flow_forward : pair.flow_backward;
}

double MaxFlowMagnitude(const cv::Mat& flow) {
  if (flow.empty() || flow.type() != CV_32FC2) return 0.0;
  double best = 0.0;
  for (int y = 0; y < flow.rows; ++y) {
    const cv::Vec2f* row = flow.ptr<cv::Vec2f>(y);
    for (int x = 0; x < flow.cols; ++x) {
      const double m = std::hypot(row[x][0], row[x][1]);
      if (std::isfinite(m) && m > best) best = m;
    }
  }
  return best;
}

namespace {

cv::Size FrameSize(const data::PairData& pair, int frame) {
  const cv::Mat& image = frame == 0 ? pair.image1 : pair.image2;
  if (!image.empty()) return image.size();
  for (const cv::Mat* m : {frame == 0 ? &pair.segment1 : &pair.segment2, &FlowForFrame(pair, frame),
                           frame == 0 ? &pair.contour1 : &pair.contour2, &pair.image1, &pair.image2}) {
    if (!m->empty()) return m->size();
  }
  return cv::Size();
}

}  // namespace

cv::Mat ComposeFrameView(const data::PairData& pair, int frame, const OverlayOptions& options, int highlight,
                         FlowColorCache* cache) {
  options.Check();
  if (frame != 0 && frame != 1) throw Error("ComposeFrameView: frame must be 0 (t) or 1 (t+1)");
  const cv::Size size = FrameSize(pair, frame);
  if (size.area() == 0) throw Error("ComposeFrameView: the pair has no image or map to show");
  const cv::Mat& image = frame == 0 ? pair.image1 : pair.image2;
  cv::Mat out;
  if (image.empty()) {
    out = cv::Mat(size, CV_8UC3, cv::Scalar(128, 128, 128));
  } else if (image.type() == CV_8UC3) {
    out = image.clone();
  } else {
    throw Error("ComposeFrameView: expected an RGB CV_8UC3 frame");
  }

  const cv::Mat& flow = FlowForFrame(pair, frame);
  const bool have_flow = !flow.empty() && flow.size() == size;
  if (options.flow_color && have_flow) {
    cv::Mat colors;
    if (cache && cache->flow_data[frame] == flow.data && cache->max_flow[frame] == options.max_flow &&
        cache->colors[frame].size() == size) {
      colors = cache->colors[frame];
    } else {
      flow::FlowVizOptions viz;
      viz.max_flow = options.max_flow;
      colors = flow::FlowToColor(flow, viz);
      if (cache) {
        cache->colors[frame] = colors;
        cache->flow_data[frame] = flow.data;
        cache->max_flow[frame] = options.max_flow;
      }
    }
    cv::addWeighted(colors, options.flow_opacity, out, 1.0 - options.flow_opacity, 0.0, out);
  }
  if (frame == 0 && options.occlusion && pair.unmatched_forward.size() == size)
    TintMask(out, OcclusionMask(pair.unmatched_forward), kOcclusionColor, options.mask_opacity);
  if (frame == 0 && options.lines && pair.line_area.size() == size)
    TintMask(out, LineMask(pair.line_area), kLineColor, options.mask_opacity);

  const cv::Mat& labels = frame == 0 ? pair.segment1 : pair.segment2;
  const bool have_labels = !labels.empty() && labels.size() == size;
  if (options.boundaries && have_labels) PaintMask(out, SegmentBoundaryMask(labels), kBoundaryColor);
  if (highlight >= 0 && have_labels) {
    const cv::Mat mask = SegmentMask(labels, highlight);
    TintMask(out, mask, kHighlightColor, 0.6);
    // The outline: the segment minus its erosion, thickened so it shows when zoomed out.
    cv::Mat eroded, edge;
    cv::erode(mask, eroded, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(5, 5)), cv::Point(-1, -1), 1,
              cv::BORDER_CONSTANT, cv::Scalar(0));
    cv::subtract(mask, eroded, edge);
    PaintMask(out, edge, kHighlightEdge);
  }
  if (options.flow_arrows && have_flow) {
    flow::ArrowOptions arrows;
    arrows.step = options.arrow_step;
    arrows.scale = options.arrow_scale;
    // Black arrows vanish on line art and on dark flow colours; a bright colour reads on both.
    arrows.color = options.flow_color ? cv::Scalar(0, 0, 0) : cv::Scalar(0, 90, 255);
    arrows.thickness = 1;
    out = flow::DrawFlowArrows(out, flow, arrows);
  }
  return out;
}

}  // namespace animerun::view
