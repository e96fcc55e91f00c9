#include "core/view/flow_probe.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/util/error.h"
#include "core/view/overlay.h"
#include "core/view/segment_view.h"

namespace animerun::view {

cv::Point PixelAt(double sx, double sy) {
  return cv::Point(static_cast<int>(std::floor(sx)), static_cast<int>(std::floor(sy)));
}

cv::Point2d PixelCenter(const cv::Point2d& p) { return p + cv::Point2d(0.5, 0.5); }

cv::Point ViewportToPixel(const cv::Point2d& origin, double zoom, cv::Point viewport) {
  return PixelAt(origin.x + (viewport.x + 0.5) / zoom, origin.y + (viewport.y + 0.5) / zoom);
}

cv::Point SceneToViewport(const cv::Point2d& origin, double zoom, const cv::Point2d& scene) {
  return PixelAt((scene.x - origin.x) * zoom, (scene.y - origin.y) * zoom);
}

double ClampZoom(double zoom) {
  if (!std::isfinite(zoom)) return 1.0;
  return std::clamp(zoom, kMinZoom, kMaxZoom);
}

double ZoomStep(double zoom, int steps) { return ClampZoom(zoom * std::pow(1.25, steps)); }

double FitZoom(cv::Size image_size, cv::Size view_size) {
  if (image_size.area() <= 0 || view_size.area() <= 0) return 1.0;
  return ClampZoom(std::min(static_cast<double>(view_size.width) / image_size.width,
                            static_cast<double>(view_size.height) / image_size.height));
}

namespace {

std::string Fmt(const char* format, double a, double b) {
  char buf[96];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}

}  // namespace

std::string FlowProbe::Describe() const {
  const char* here = frame == 0 ? "t" : "t+1";
  const char* there = frame == 0 ? "t+1" : "t";
  if (!inside) return std::string(here) + ": outside the frame";
  std::string s = std::string(here) + " (" + std::to_string(pixel.x) + ", " + std::to_string(pixel.y) + ")";
  if (has_flow) {
    s += "  flow " + Fmt("(%.2f, %.2f)", flow.x, flow.y) + Fmt(" |%.2f|", std::hypot(flow.x, flow.y), 0);
    s += std::string(" -> ") + there + " " + Fmt("(%.2f, %.2f)", target.x - 0.5, target.y - 0.5);
    if (!target_inside) s += " (outside)";
  } else {
    s += "  no flow";
  }
  if (occluded == 1) s += "  occluded";
  if (line == 1) s += "  line";
  if (segment >= 0) s += "  segment " + std::to_string(segment);
  return s;
}

FlowProbe ProbeFlow(const data::PairData& pair, int frame, cv::Point pixel) {
  if (frame != 0 && frame != 1) throw Error("ProbeFlow: frame must be 0 (t) or 1 (t+1)");
  FlowProbe probe;
  probe.frame = frame;
  probe.pixel = pixel;
  const cv::Mat& image = frame == 0 ? pair.image1 : pair.image2;
  const cv::Mat& labels = frame == 0 ? pair.segment1 : pair.segment2;
  const cv::Mat& flow = FlowForFrame(pair, frame);
  cv::Size size = !image.empty() ? image.size() : !labels.empty() ? labels.size() : flow.size();
  probe.inside = pixel.x >= 0 && pixel.y >= 0 && pixel.x < size.width && pixel.y < size.height;
  if (!probe.inside) return probe;
  probe.segment = LabelAt(labels, pixel);
  if (!flow.empty() && flow.type() == CV_32FC2 && flow.size() == size) {
    const cv::Vec2f f = flow.at<cv::Vec2f>(pixel.y, pixel.x);
    if (std::isfinite(f[0]) && std::isfinite(f[1])) {
      probe.has_flow = true;
      probe.flow = cv::Point2f(f[0], f[1]);
      probe.target = PixelCenter(cv::Point2d(pixel.x + f[0], pixel.y + f[1]));
      const cv::Mat& other = frame == 0 ? pair.image2 : pair.image1;
      const cv::Size os = other.empty() ? size : other.size();
      probe.target_inside = probe.target.x >= 0 && probe.target.y >= 0 && probe.target.x < os.width &&
                            probe.target.y < os.height;
    }
  }
  if (frame == 0) {
    const cv::Mat& um = pair.unmatched_forward;
    if (!um.empty() && um.size() == size) probe.occluded = um.at<uint8_t>(pixel.y, pixel.x) == 0 ? 1 : 0;
    const cv::Mat& la = pair.line_area;
    if (!la.empty() && la.size() == size) probe.line = la.at<uint8_t>(pixel.y, pixel.x) == 0 ? 1 : 0;
  }
  return probe;
}

}  // namespace animerun::view
