// Colorization of line-art frames from coloured key frames through segment matching: each
// frame is segmented (core/segments/segmentation.h), its segments are matched to the
// segments of a source whose colours are known, and each segment is filled with the colour
// of its match. A key's segment colour is its dominant colour over non-line pixels.
//
//  mode "nearest": every frame is matched directly to its nearest key;
//  mode "forward": frames are coloured in a chain from their nearest key, each from its
//                  already coloured neighbour on the key's side (errors can accumulate,
//                  but consecutive frames differ less than frame and key).
// Keys are placed in the sequence by file name: a key whose stem equals a frame's stem
// sits at that frame (e.g. Frame_Anime/.../Image0000.png keys contour/.../Image0000.png);
// any other key sits just before the first frame. Nearest = smallest index distance, ties
// to the earlier key (then to the first given).
// Matchers see binarised line art on both sides (black lines on white, LineArtImage), so
// a coloured key and line-art frames look alike to them.
// Segments without a match, or matched to an unfilled segment, stay unfilled: drawn in
// options.unfilled (magenta by default, a colour cel paint never uses) and listed as null
// in the per-frame JSON.
//
// Paint-bucket overrides (the GUI's): an artist's colour for one segment of one frame or
// key, keyed by file name and segment id. Ids are stable across re-propagation because
// segmentation is deterministic for the same options, so overrides survive it. A frame's
// overrides are applied right after it is matched, before anything is coloured from it:
//  - key override: every frame matched to that segment (directly or through a chain)
//    gets the colour, in both modes;
//  - frame override, "forward": the segments of later frames in the chain (further from
//    the key) matched to it inherit the colour, until another override;
//  - frame override, "nearest": that frame only (its neighbours come from the key).
// An overridden segment counts as filled even when the matcher left it unmatched.
//
// Output, per frame <stem>: <out>/<stem>.png (RGB) and <out>/<stem>.json:
//   {"frame": "<file>", "source": "<key or frame file>", "source_is_key": bool,
//    "matcher": "...", "mode": "...", "num_segments": N, "num_unfilled": K,
//    "unfilled_colour": [r, g, b],
//    "colours": {"<segment id>": [r, g, b] or null, ...},
//    "matches": {"<segment id>": <id in the source> or -1, ...},
//    "overridden": [<segment id>, ...]}
// Segment ids are those `animerun segment` gives the frame with the same options. Both
// files are written atomically.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/jobs/job.h"
#include "core/segments/matcher.h"
#include "core/segments/matcher_factory.h"
#include "core/segments/segmentation.h"

namespace animerun::colorize {

struct ColorizeOptions {
  std::vector<std::filesystem::path> refs;      // coloured key frames; at least one
  std::vector<std::filesystem::path> ref_segs;  // optional: one label map (.npy) per key, same order
  std::filesystem::path frames;                 // folder of line-art frames (.png/.jpg, sorted by name)
  std::filesystem::path out;                    // output folder (created; must differ from frames)
  std::string matcher = "geometric";            // ant, flow (needs matcher_options.flow_model) or geometric
  segments::MatcherOptions matcher_options;     // thresholds, weights, flow model, AnT checkpoint
  std::string mode = "nearest";                 // "nearest" or "forward" (see above)
  bool keep_lines = true;                       // false: line pixels take their segment's colour
  segments::SegmentationOptions segmentation;   // for the frames, and for keys without ref_segs
  cv::Vec3b unfilled{255, 0, 255};              // fill of segments without a colour (RGB)
  // Checks values; with need_out = false the output folder may be unset (the GUI
  // propagates first and exports later). Throws Error on bad values.
  void Check(bool need_out = true) const;
};

// Paint-bucket overrides: segment id -> colour, per frame file name, or per KeyOverrideName
// for a key (a key often shares its file name with a line-art frame).
using SegmentColours = std::map<int, cv::Vec3b>;
using Overrides = std::map<std::string, SegmentColours>;
inline std::string KeyOverrideName(const std::string& key_file_name) { return "key:" + key_file_name; }

struct FrameResult {
  std::string name;        // frame file name
  std::string source;      // file name of the key or frame its colours came from
  bool source_is_key = false;
  int num_segments = 0;
  int num_unfilled = 0;
  std::filesystem::path image, json;  // files written
};

struct ColorizeResult {
  std::vector<FrameResult> frames;  // in frame order
  int64_t total_unfilled = 0;
};

// Colours every frame and writes the outputs. Throws Error naming the file for a missing
// folder or key, an unreadable image, sizes that disagree or a bad key label map;
// Cancelled when job asks. Reports progress per frame.
ColorizeResult Colorize(const ColorizeOptions& options, const JobContext* job = nullptr);
// The same with a matcher the caller made (the GUI keeps one loaded; tests inject one),
// and overrides.
ColorizeResult Colorize(const ColorizeOptions& options, segments::SegmentMatcher& matcher,
                        const JobContext* job = nullptr, const Overrides& overrides = {});

// The per-frame steps, for the GUI's colorization view.
struct ColourState {
  std::string name;                 // file name
  cv::Mat image;                    // as read (RGB)
  cv::Mat line;                     // CV_8UC1 line mask (1 = line)
  cv::Mat lineart;                  // binarised line art given to matchers (RGB)
  cv::Mat labels;                   // CV_32SC1 segments
  std::vector<cv::Vec3b> colours;   // per segment
  std::vector<char> filled;         // per segment: colour known
  std::vector<char> overridden;     // per segment: colour set by a paint-bucket override
};

// A key: segments from labels when given (checked against the image size; name_for_errors
// names it), else segmented; colours = dominant non-line colour, all filled.
ColourState MakeKeyState(const std::string& name, const cv::Mat& image, const cv::Mat& labels,
                         const segments::SegmentationOptions& seg, const std::string& name_for_errors = "key");
// A line-art frame, segmented, nothing filled yet.
ColourState MakeFrameState(const std::string& name, const cv::Mat& image, const segments::SegmentationOptions& seg);
// Matches target's segments to source's and copies the colours; returns the match.
segments::MatchResult ColourFrom(segments::SegmentMatcher& matcher, const ColourState& source, ColourState& target);
// Sets the colours of overrides' segments (ids beyond the state's segments are ignored:
// a stale override after the segmentation options changed must not crash).
void ApplyOverrides(const SegmentColours& overrides, ColourState& state);
// The coloured picture (RGB): fills, unfilled colour, and the frame's own line pixels when
// keep_lines.
cv::Mat RenderColourised(const ColourState& state, bool keep_lines, const cv::Vec3b& unfilled);
// Segment id at a pixel, -1 outside the frame.
int SegmentAt(const ColourState& state, cv::Point p);

// One coloured frame as propagation produces it.
struct FrameOutcome {
  int index = 0;                   // position among the frames (sorted by name)
  ColourState state;
  segments::MatchResult match;     // target = this frame, source = `source`
  std::string source;              // file name of the key or frame coloured from
  bool source_is_key = false;
};

// The whole propagation without writing anything: calls on_frame once per frame (in
// propagation order, not frame order; see FrameOutcome::index) and returns the key states
// (in options.refs order, overrides applied). Same errors and progress as Colorize.
std::vector<ColourState> Propagate(const ColorizeOptions& options, segments::SegmentMatcher& matcher,
                                   const Overrides& overrides, const std::function<void(FrameOutcome&&)>& on_frame,
                                   const JobContext* job = nullptr);

// Writes <out>/<stem>.png and <out>/<stem>.json for one frame (format above), atomically.
FrameResult WriteFrameOutputs(const ColorizeOptions& options, const FrameOutcome& frame,
                              const std::string& matcher_name);

}  // namespace animerun::colorize
