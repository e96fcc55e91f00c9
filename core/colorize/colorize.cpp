// Colorization of a sequence: keys, propagation order, outputs (colorize.h).
#include "core/colorize/colorize.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <opencv2/imgcodecs.hpp>

#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/mat_text.h"

namespace animerun::colorize {

namespace fs = std::filesystem;

namespace {

struct Key {
  int index = -1;  // frame it sits at; -1 = before the first frame
  int order = 0;   // position in options.refs
  ColourState state;
};

// Frame size from a PNG header (IHDR) without decoding, else by decoding; empty when
// unreadable (the decode later reports it). Lets a size mismatch stop the job before any
// output is written.
cv::Size QuickImageSize(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char b[24];
  static const unsigned char kSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (in && in.read(reinterpret_cast<char*>(b), sizeof b) && std::memcmp(b, kSig, 8) == 0 &&
      std::memcmp(b + 12, "IHDR", 4) == 0) {
    auto be32 = [&](int o) {
      return static_cast<int>((uint32_t(b[o]) << 24) | (uint32_t(b[o + 1]) << 16) | (uint32_t(b[o + 2]) << 8) | b[o + 3]);
    };
    return cv::Size(be32(16), be32(20));
  }
  const cv::Mat m = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
  return m.size();
}

const SegmentColours* Find(const Overrides& o, const std::string& name) {
  const auto it = o.find(name);
  return it == o.end() ? nullptr : &it->second;
}

}  // namespace

std::vector<ColourState> Propagate(const ColorizeOptions& o, segments::SegmentMatcher& matcher,
                                   const Overrides& overrides, const std::function<void(FrameOutcome&&)>& on_frame,
                                   const JobContext* job) {
  o.Check(/*need_out=*/false);
  for (size_t k = 0; k < o.refs.size(); ++k) {
    if (!fs::is_regular_file(o.refs[k])) throw Error(o.refs[k].string() + ": key frame not found");
    if (!o.ref_segs.empty() && !fs::is_regular_file(o.ref_segs[k]))
      throw Error(o.ref_segs[k].string() + ": key segment map not found");
  }
  if (!fs::is_directory(o.frames)) throw Error(o.frames.string() + ": line-art folder not found");
  const std::vector<fs::path> frames = ListFiles(o.frames, {".png", ".jpg", ".jpeg"});
  if (frames.empty()) throw Error(o.frames.string() + ": no line-art frames (.png, .jpg) in the folder");
  const int nf = static_cast<int>(frames.size());
  const cv::Mat first = io::ReadImageRgb(frames[0]);
  for (const fs::path& p : frames) {
    const cv::Size sz = QuickImageSize(p);
    if (!sz.empty() && sz != first.size())
      throw Error(p.string() + ": size " + std::to_string(sz.width) + "x" + std::to_string(sz.height) +
                  " differs from " + frames[0].string() + " (" + MatSizeText(first) + ")");
  }

  // Keys: read, checked against the frames' size, placed by file stem.
  std::vector<Key> keys;
  for (size_t k = 0; k < o.refs.size(); ++k) {
    if (job) job->CheckCancel();
    const cv::Mat img = io::ReadImageRgb(o.refs[k]);
    if (img.size() != first.size())
      throw Error(o.refs[k].string() + ": key is " + MatSizeText(img) + " but the line-art frames are " + MatSizeText(first) +
                  " (" + frames[0].string() + ")");
    cv::Mat labels;
    if (!o.ref_segs.empty()) labels = io::ReadNpyLabels(o.ref_segs[k]);
    Key key;
    key.order = static_cast<int>(k);
    for (int f = 0; f < nf && key.index < 0; ++f)
      if (frames[static_cast<size_t>(f)].stem() == o.refs[k].stem()) key.index = f;
    key.state = MakeKeyState(o.refs[k].filename().string(), img, labels, o.segmentation,
                             o.ref_segs.empty() ? o.refs[k].string() : o.ref_segs[k].string());
    if (const auto* ov = Find(overrides, KeyOverrideName(key.state.name))) ApplyOverrides(*ov, key.state);
    keys.push_back(std::move(key));
  }
  std::vector<ColourState> key_states(keys.size());
  for (const Key& k : keys) key_states[static_cast<size_t>(k.order)] = k.state;
  std::stable_sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) { return a.index < b.index; });
  // Owner of each frame: the nearest key, ties to the earlier one (keys are sorted).
  std::vector<int> owner(static_cast<size_t>(nf), 0);
  for (int f = 0; f < nf; ++f)
    for (size_t k = 1; k < keys.size(); ++k)
      if (std::abs(keys[k].index - f) < std::abs(keys[static_cast<size_t>(owner[static_cast<size_t>(f)])].index - f))
        owner[static_cast<size_t>(f)] = static_cast<int>(k);

  int done = 0;
  auto load = [&](int f) {
    if (job) job->CheckCancel();
    const fs::path& p = frames[static_cast<size_t>(f)];
    const cv::Mat img = f == 0 ? first : io::ReadImageRgb(p);
    if (img.size() != first.size())
      throw Error(p.string() + ": size " + MatSizeText(img) + " differs from " + frames[0].string() + " (" +
                  MatSizeText(first) + ")");
    return MakeFrameState(p.filename().string(), img, o.segmentation);
  };
  // Matches frame f to src, applies its overrides, hands it on; returns its state for the
  // next link of a chain.
  auto colour = [&](int f, const ColourState& src, bool src_is_key) {
    FrameOutcome out;
    out.index = f;
    out.state = load(f);
    out.match = ColourFrom(matcher, src, out.state);
    if (const auto* ov = Find(overrides, out.state.name)) ApplyOverrides(*ov, out.state);
    out.source = src.name;
    out.source_is_key = src_is_key;
    ColourState kept = out.state;  // cv::Mat copies share pixels: cheap
    const std::string name = out.state.name;
    on_frame(std::move(out));
    ++done;
    if (job) job->Report(static_cast<double>(done) / nf, "frame " + std::to_string(done) + "/" + std::to_string(nf) + ": " + name);
    return kept;
  };

  if (o.mode == "nearest") {
    for (int f = 0; f < nf; ++f) colour(f, keys[static_cast<size_t>(owner[static_cast<size_t>(f)])].state, true);
  } else {
    // Each key colours its own contiguous run of frames outwards from where it sits.
    for (size_t k = 0; k < keys.size(); ++k) {
      int lo = nf, hi = -1;
      for (int f = 0; f < nf; ++f)
        if (owner[static_cast<size_t>(f)] == static_cast<int>(k)) lo = std::min(lo, f), hi = std::max(hi, f);
      if (hi < 0) continue;
      const int start = std::max(keys[k].index, 0);
      ColourState prev = keys[k].state, at_start;
      bool prev_is_key = true;
      for (int f = start; f <= hi; ++f) {
        prev = colour(f, prev, prev_is_key);
        if (f == start) at_start = prev;
        prev_is_key = false;
      }
      prev = std::move(at_start);
      for (int f = start - 1; f >= lo; --f) prev = colour(f, prev, false);
    }
  }
  if (job) job->Report(1.0, "done");
  return key_states;
}

ColorizeResult Colorize(const ColorizeOptions& options, const JobContext* job) {
  options.Check();
  std::unique_ptr<segments::SegmentMatcher> matcher = segments::CreateMatcher(options.matcher, options.matcher_options);
  return Colorize(options, *matcher, job);
}

ColorizeResult Colorize(const ColorizeOptions& o, segments::SegmentMatcher& matcher, const JobContext* job,
                        const Overrides& overrides) {
  o.Check();
  ColorizeResult result;
  bool made_dir = false;
  Propagate(o, matcher, overrides,
            [&](FrameOutcome&& f) {
              // The folder appears only once the inputs proved readable.
              if (!made_dir) fs::create_directories(o.out), made_dir = true;
              FrameResult r = WriteFrameOutputs(o, f, matcher.name());
              result.total_unfilled += r.num_unfilled;
              if (result.frames.size() <= static_cast<size_t>(f.index)) result.frames.resize(static_cast<size_t>(f.index) + 1);
              result.frames[static_cast<size_t>(f.index)] = std::move(r);
            },
            job);
  return result;
}

}  // namespace animerun::colorize
