// The per-frame steps of colorization and the per-frame outputs (colorize.h).
#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "core/colorize/colorize.h"
#include "core/io/image_io.h"
#include "core/segments/segment_stats.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/mat_text.h"

namespace animerun::colorize {

namespace fs = std::filesystem;

void ColorizeOptions::Check(bool need_out) const {
  Require(!refs.empty(), "colorize: at least one coloured key frame (--ref) is required");
  Require(ref_segs.empty() || ref_segs.size() == refs.size(),
          "colorize: give one key segment map per key (" + std::to_string(ref_segs.size()) + " for " +
              std::to_string(refs.size()) + " keys)");
  Require(!frames.empty(), "colorize: the line-art folder (--frames) is required");
  Require(!need_out || !out.empty(), "colorize: the output folder (-o) is required");
  Require(mode == "nearest" || mode == "forward", "colorize: mode must be 'forward' or 'nearest' (got '" + mode + "')");
  const auto names = segments::MatcherNames();
  Require(std::find(names.begin(), names.end(), matcher) != names.end(),
          "colorize: unknown matcher '" + matcher + "' (choose ant, flow or geometric)");
  Require(matcher != "flow" || matcher_options.flow_model.has_value(),
          "colorize: matcher 'flow' needs a flow model (--flow-model M --flow-weights FILE); line-art frames "
          "come without flow");
  segmentation.Check();
  matcher_options.Check(matcher);
  std::error_code ec;
  Require(out.empty() || !(fs::exists(out, ec) && fs::exists(frames, ec) && fs::equivalent(out, frames, ec)),
          out.string() + ": the output folder must differ from the line-art folder (outputs share its file names)");
}

namespace {

void FinishState(ColourState& s, const segments::SegmentationOptions& seg) {
  s.line = segments::DetectLines(s.image, seg.line_threshold);
  s.lineart = segments::LineArtImage(s.image, seg.line_threshold);
}

}  // namespace

ColourState MakeKeyState(const std::string& name, const cv::Mat& image, const cv::Mat& labels,
                         const segments::SegmentationOptions& seg, const std::string& name_for_errors) {
  ColourState s;
  s.name = name;
  s.image = image;
  FinishState(s, seg);
  if (labels.empty()) {
    s.labels = segments::SegmentImage(image, seg);
  } else {
    if (labels.size() != image.size())
      throw Error(name_for_errors + ": segment map is " + MatSizeText(labels) + " but the key is " + MatSizeText(image));
    s.labels = labels;
  }
  const int n = segments::CountSegments(s.labels, name_for_errors);  // also checks type and ids
  s.colours = segments::DominantColours(s.labels, n, image, s.line);
  s.filled.assign(static_cast<size_t>(n), 1);
  s.overridden.assign(static_cast<size_t>(n), 0);
  return s;
}

ColourState MakeFrameState(const std::string& name, const cv::Mat& image, const segments::SegmentationOptions& seg) {
  ColourState s;
  s.name = name;
  s.image = image;
  FinishState(s, seg);
  s.labels = segments::SegmentImage(image, seg);
  const int n = segments::CountSegments(s.labels, name);
  s.colours.assign(static_cast<size_t>(n), cv::Vec3b(0, 0, 0));
  s.filled.assign(static_cast<size_t>(n), 0);
  s.overridden.assign(static_cast<size_t>(n), 0);
  return s;
}

segments::MatchResult ColourFrom(segments::SegmentMatcher& matcher, const ColourState& source, ColourState& target) {
  if (source.labels.size() != target.labels.size())
    throw Error(target.name + ": size " + MatSizeText(target.labels) + " differs from " + source.name + " (" +
                MatSizeText(source.labels) + ")");
  segments::MatchInput in;
  in.image0 = target.lineart;
  in.image1 = source.lineart;
  in.labels0 = target.labels;
  in.labels1 = source.labels;
  segments::MatchResult r = matcher.Match(in);
  const size_t n = target.colours.size();
  if (r.matches.size() != n)
    throw Error(target.name + ": matcher '" + matcher.name() + "' returned " + std::to_string(r.matches.size()) +
                " matches for " + std::to_string(n) + " segments");
  target.overridden.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const int j = r.matches[i];
    const bool ok = j >= 0 && static_cast<size_t>(j) < source.colours.size() && source.filled[static_cast<size_t>(j)];
    target.filled[i] = ok ? 1 : 0;
    target.colours[i] = ok ? source.colours[static_cast<size_t>(j)] : cv::Vec3b(0, 0, 0);
  }
  return r;
}

void ApplyOverrides(const SegmentColours& overrides, ColourState& s) {
  s.overridden.resize(s.colours.size(), 0);
  for (const auto& [id, colour] : overrides) {
    if (id < 0 || static_cast<size_t>(id) >= s.colours.size()) continue;
    const auto i = static_cast<size_t>(id);
    s.colours[i] = colour;
    s.filled[i] = 1;
    s.overridden[i] = 1;
  }
}

cv::Mat RenderColourised(const ColourState& s, bool keep_lines, const cv::Vec3b& unfilled) {
  cv::Mat out(s.labels.size(), CV_8UC3);
  for (int y = 0; y < out.rows; ++y) {
    const int* l = s.labels.ptr<int>(y);
    const uchar* ln = s.line.ptr<uchar>(y);
    const auto* src = s.image.ptr<cv::Vec3b>(y);
    auto* o = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < out.cols; ++x) {
      const auto id = static_cast<size_t>(l[x]);
      if (keep_lines && ln[x]) o[x] = src[x];
      else o[x] = id < s.filled.size() && s.filled[id] ? s.colours[id] : unfilled;
    }
  }
  return out;
}

int SegmentAt(const ColourState& s, cv::Point p) {
  if (s.labels.empty() || p.x < 0 || p.y < 0 || p.x >= s.labels.cols || p.y >= s.labels.rows) return -1;
  return s.labels.at<int>(p.y, p.x);
}

FrameResult WriteFrameOutputs(const ColorizeOptions& o, const FrameOutcome& f, const std::string& matcher_name) {
  const ColourState& s = f.state;
  FrameResult r;
  r.name = s.name;
  r.source = f.source;
  r.source_is_key = f.source_is_key;
  r.num_segments = static_cast<int>(s.colours.size());
  nlohmann::json colours = nlohmann::json::object(), matches = nlohmann::json::object();
  nlohmann::json overridden = nlohmann::json::array();
  for (size_t i = 0; i < s.colours.size(); ++i) {
    const std::string k = std::to_string(i);
    if (s.filled[i]) {
      colours[k] = {s.colours[i][0], s.colours[i][1], s.colours[i][2]};
    } else {
      colours[k] = nullptr;
      ++r.num_unfilled;
    }
    matches[k] = i < f.match.matches.size() ? f.match.matches[i] : -1;
    if (i < s.overridden.size() && s.overridden[i]) overridden.push_back(static_cast<int>(i));
  }
  const std::string stem = fs::path(s.name).stem().string();
  r.image = o.out / (stem + ".png");
  r.json = o.out / (stem + ".json");
  io::WriteImage(r.image, RenderColourised(s, o.keep_lines, o.unfilled));
  const nlohmann::json j = {{"frame", s.name},
                            {"source", f.source},
                            {"source_is_key", f.source_is_key},
                            {"matcher", matcher_name},
                            {"mode", o.mode},
                            {"num_segments", r.num_segments},
                            {"num_unfilled", r.num_unfilled},
                            {"unfilled_colour", {o.unfilled[0], o.unfilled[1], o.unfilled[2]}},
                            {"colours", colours},
                            {"matches", matches},
                            {"overridden", overridden}};
  WriteFileAtomic(r.json, j.dump(1) + "\n");
  return r;
}

}  // namespace animerun::colorize
