#include "core/data/animerun_dataset.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>

#include <opencv2/imgcodecs.hpp>

#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/io/match_json.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::data {

void DatasetOptions::Check() const {
  Require(!pass.empty(), "dataset: pass must not be empty");
  Require(split.find('/') == std::string::npos, "dataset: split must be a folder name (got '" + split + "')");
}

namespace {

std::string SizeText(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

// Image size from the header only (PNG IHDR); other formats are decoded. False when the
// file cannot be read or is not an image.
bool ImageSize(const fs::path& path, int* w, int* h) {
  std::ifstream in(path, std::ios::binary);
  unsigned char b[24];
  if (!in || !in.read(reinterpret_cast<char*>(b), sizeof(b))) return false;
  static const unsigned char kSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (std::memcmp(b, kSig, 8) == 0) {
    if (std::memcmp(b + 12, "IHDR", 4) != 0) return false;
    auto be32 = [&](int o) { return (uint32_t(b[o]) << 24) | (uint32_t(b[o + 1]) << 16) | (uint32_t(b[o + 2]) << 8) | b[o + 3]; };
    const uint32_t ww = be32(16), hh = be32(20);
    if (ww == 0 || hh == 0 || ww > (1u << 20) || hh > (1u << 20)) return false;
    *w = static_cast<int>(ww), *h = static_cast<int>(hh);
    return true;
  }
  const cv::Mat m = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
  if (m.empty()) return false;
  *w = m.cols, *h = m.rows;
  return true;
}

// .flo header check: tag, size, and a file length that holds the whole field.
std::string FloProblem(const fs::path& path, int w, int h) {
  std::ifstream in(path, std::ios::binary);
  char b[12];
  if (!in || !in.read(b, sizeof(b))) return "cannot read the .flo header (missing or truncated)";
  float tag;
  int32_t fw, fh;
  std::memcpy(&tag, b, 4);
  std::memcpy(&fw, b + 4, 4);
  std::memcpy(&fh, b + 8, 4);
  if (tag != 202021.25f) return "not a .flo file (bad tag)";
  if (fw <= 0 || fh <= 0) return "bad .flo size " + SizeText(fw, fh);
  if (w > 0 && (fw != w || fh != h)) return "flow is " + SizeText(fw, fh) + " but the frames are " + SizeText(w, h);
  std::error_code ec;
  const auto len = fs::file_size(path, ec);
  if (ec || len < 12 + 8ull * static_cast<uint64_t>(fw) * static_cast<uint64_t>(fh)) return "truncated .flo file";
  return "";
}

// Assigns the files of one folder to slots (frames or pairs). Sorted position when the
// counts agree (the official behaviour); otherwise a problem, then by name when every
// file's stem names a slot under one of the naming schemes, else by position.
struct Slots {
  bool present = false;          // the folder has files: its slots are required
  std::vector<fs::path> files;   // per slot, empty when unassigned
};

Slots Assign(const std::vector<fs::path>& files, size_t n_slots, const std::vector<std::vector<std::string>>& schemes,
             const std::string& rel_folder, const char* slot_kind, std::vector<std::string>& problems) {
  Slots s;
  s.files.assign(n_slots, fs::path());
  if (files.empty()) return s;
  s.present = true;
  if (files.size() == n_slots) {
    s.files = files;
    return s;
  }
  problems.push_back(rel_folder + ": " + std::to_string(files.size()) + " files for " + std::to_string(n_slots) +
                     " " + slot_kind);
  for (const auto& stems : schemes) {
    std::vector<fs::path> by_name(n_slots);
    bool ok = true;
    for (const auto& f : files) {
      const auto it = std::find(stems.begin(), stems.end(), f.stem().string());
      if (it == stems.end() || !by_name[static_cast<size_t>(it - stems.begin())].empty()) {
        ok = false;
        break;
      }
      by_name[static_cast<size_t>(it - stems.begin())] = f;
    }
    if (ok) {
      s.files = std::move(by_name);
      return s;
    }
  }
  for (size_t k = 0; k < n_slots && k < files.size(); ++k) s.files[k] = files[k];
  return s;
}

Scene IndexScene(const fs::path& root, const std::string& name, const DatasetOptions& opt) {
  Scene sc;
  sc.name = name;
  auto rel = [&](const fs::path& p) { return p.lexically_relative(root).generic_string(); };
  auto problem = [&](const fs::path& p, const std::string& what) { sc.problems.push_back(rel(p) + ": " + what); };

  const fs::path scene_dir = root / "Frame_Anime" / name;
  sc.passes = ListSubdirs(scene_dir);
  const auto orig = std::find(sc.passes.begin(), sc.passes.end(), "original");
  if (orig != sc.passes.end()) std::rotate(sc.passes.begin(), orig, orig + 1);
  fs::path img_dir = scene_dir / opt.pass;
  if (!fs::is_directory(img_dir)) {
    if (sc.passes.empty() && !ListFiles(scene_dir, {".png"}).empty()) {
      img_dir = scene_dir;  // images straight in the scene folder (no passes)
    } else {
      problem(img_dir, "missing pass folder");
      return sc;
    }
  }
  sc.frames = ListFiles(img_dir, {".png"});
  const size_t nf = sc.frames.size();
  if (nf < 2) {
    problem(img_dir, std::to_string(nf) + " frame(s): at least 2 are needed for a pair");
    return sc;
  }
  const size_t np = nf - 1;
  std::vector<std::string> stems(nf);
  for (size_t i = 0; i < nf; ++i) stems[i] = sc.frames[i].stem().string();
  const std::vector<std::string> first_stems(stems.begin(), stems.end() - 1), second_stems(stems.begin() + 1, stems.end());

  // Frame sizes: frames that can't be read or differ from the first are bad.
  std::vector<char> bad_frame(nf, 0);
  if (!ImageSize(sc.frames[0], &sc.width, &sc.height)) {
    sc.width = sc.height = 0;
    problem(sc.frames[0], "cannot read the image header");
    bad_frame[0] = 1;
  }
  if (opt.check_sizes) {
    for (size_t i = 1; i < nf; ++i) {
      int w = 0, h = 0;
      if (!ImageSize(sc.frames[i], &w, &h)) {
        problem(sc.frames[i], "cannot read the image header");
        bad_frame[i] = 1;
      } else if (sc.width > 0 && (w != sc.width || h != sc.height)) {
        problem(sc.frames[i], "size " + SizeText(w, h) + " differs from the first frame's " + SizeText(sc.width, sc.height));
        bad_frame[i] = 1;
      }
    }
  }

  auto list = [&](const fs::path& dir, const char* ext) { return ListFiles(dir, {ext}); };
  auto per_frame = [&](const fs::path& dir, const char* ext) {
    return Assign(list(dir, ext), nf, {stems}, rel(dir), "frames", sc.problems);
  };
  auto per_pair = [&](const fs::path& dir, const char* ext, bool backward) {
    return Assign(list(dir, ext), np, backward ? std::vector<std::vector<std::string>>{second_stems, first_stems}
                                               : std::vector<std::vector<std::string>>{first_stems},
                  rel(dir), "pairs", sc.problems);
  };
  const Slots contour = per_frame(root / "contour" / name, ".png");
  const Slots segment = per_frame(root / "Segment" / name, ".npy");
  const Slots flow_f = per_pair(root / "Flow" / name / "forward", ".flo", false);
  const Slots flow_b = per_pair(root / "Flow" / name / "backward", ".flo", true);
  const Slots match_f = per_pair(root / "SegMatching" / name / "forward", ".json", false);
  const Slots match_b = per_pair(root / "SegMatching" / name / "backward", ".json", true);
  const Slots unmatched = per_pair(root / "UnmatchedForward" / name, ".npy", false);
  // LineArea: one per pair officially; one per frame is accepted as well (frame t's).
  const fs::path line_dir = root / "LineArea" / name;
  const auto line_files = list(line_dir, ".npy");
  Slots line;
  if (line_files.size() == nf) {
    line.present = true;
    line.files.assign(line_files.begin(), line_files.end() - 1);
  } else {
    line = per_pair(line_dir, ".npy", false);
  }

  // Per-file checks that make a frame or a pair unusable.
  std::vector<char> bad_contour(nf, 0), bad_pair(np, 0);
  if (opt.check_sizes && sc.width > 0) {
    for (size_t i = 0; i < nf; ++i) {
      const fs::path& c = contour.files[i];
      if (c.empty()) continue;
      int w = 0, h = 0;
      if (!ImageSize(c, &w, &h)) {
        problem(c, "cannot read the image header"), bad_contour[i] = 1;
      } else if (w != sc.width || h != sc.height) {
        problem(c, "contour is " + SizeText(w, h) + " but the frames are " + SizeText(sc.width, sc.height));
        bad_contour[i] = 1;
      }
    }
  }
  for (const Slots* flows : {&flow_f, &flow_b})
    for (size_t k = 0; k < np; ++k) {
      const fs::path& f = flows->files[k];
      if (f.empty()) continue;
      const std::string why = FloProblem(f, opt.check_sizes ? sc.width : 0, sc.height);
      if (!why.empty()) problem(f, why), bad_pair[k] = 1;
    }

  const Slots* pair_slots[] = {&flow_f, &flow_b, &match_f, &match_b, &unmatched, &line};
  const Slots* frame_slots[] = {&contour, &segment};
  size_t dropped = 0;
  for (size_t k = 0; k < np; ++k) {
    bool ok = !bad_frame[k] && !bad_frame[k + 1] && !bad_pair[k] && !bad_contour[k] && !bad_contour[k + 1];
    for (const Slots* s : pair_slots)
      if (s->present && s->files[k].empty()) ok = false;
    for (const Slots* s : frame_slots)
      if (s->present && (s->files[k].empty() || s->files[k + 1].empty())) ok = false;
    if (!ok) {
      ++dropped;
      continue;
    }
    FramePair p;
    p.scene = name;
    p.index = static_cast<int>(k);
    p.name1 = stems[k];
    p.name2 = stems[k + 1];
    p.image1 = sc.frames[k];
    p.image2 = sc.frames[k + 1];
    p.contour1 = contour.files[k];
    p.contour2 = contour.files[k + 1];
    p.segment1 = segment.files[k];
    p.segment2 = segment.files[k + 1];
    p.flow_forward = flow_f.files[k];
    p.flow_backward = flow_b.files[k];
    p.match_forward = match_f.files[k];
    p.match_backward = match_b.files[k];
    p.unmatched_forward = unmatched.files[k];
    p.line_area = line.files[k];
    sc.pairs.push_back(std::move(p));
  }
  if (dropped > 0)
    problem(img_dir, "kept " + std::to_string(np - dropped) + " of " + std::to_string(np) +
                         " pairs (the others lack files or have bad ones)");
  return sc;
}

}  // namespace

AnimeRunDataset AnimeRunDataset::Open(const fs::path& root, const DatasetOptions& options, const JobContext* job) {
  options.Check();
  fs::path split_root = options.split.empty() ? root : root / options.split;
  if (!fs::is_directory(split_root)) {
    // Accept the split folder itself too (it has Frame_Anime directly).
    if (!options.split.empty() && fs::is_directory(root / "Frame_Anime")) split_root = root;
    else ThrowFileError(split_root.string(), "dataset folder not found");
  }
  if (!fs::is_directory(split_root / "Frame_Anime"))
    ThrowFileError((split_root / "Frame_Anime").string(), "missing: not an AnimeRun dataset folder");
  AnimeRunDataset ds;
  ds.root_ = split_root;
  ds.options_ = options;
  const auto names = ListSubdirs(split_root / "Frame_Anime");
  for (size_t i = 0; i < names.size(); ++i) {
    if (job) {
      job->CheckCancel();
      job->Report(static_cast<double>(i) / names.size(), "indexing scene " + names[i]);
    }
    ds.scenes_.push_back(IndexScene(split_root, names[i], options));
  }
  if (job) job->Report(1.0, "indexed " + std::to_string(names.size()) + " scenes");
  return ds;
}

const Scene* AnimeRunDataset::FindScene(const std::string& name) const {
  for (const auto& s : scenes_)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<FramePair> AnimeRunDataset::AllPairs() const {
  std::vector<FramePair> out;
  for (const auto& s : scenes_) out.insert(out.end(), s.pairs.begin(), s.pairs.end());
  return out;
}

std::vector<std::string> AnimeRunDataset::AllProblems() const {
  std::vector<std::string> out;
  for (const auto& s : scenes_)
    for (const auto& p : s.problems) out.push_back(s.name + ": " + p);
  return out;
}

PairData LoadPair(const FramePair& pair) {
  if (pair.image1.empty() || pair.image2.empty())
    throw Error("pair " + pair.scene + "/" + std::to_string(pair.index) + ": no image paths");
  PairData d;
  d.image1 = io::ReadImageRgb(pair.image1);
  d.image2 = io::ReadImageRgb(pair.image2);
  const cv::Size size = d.image1.size();
  auto check = [&](const fs::path& p, const cv::Mat& m) {
    if (m.size() != size)
      ThrowFileError(p.string(), "size " + SizeText(m.cols, m.rows) + " differs from the frame's " +
                                     SizeText(size.width, size.height) + " (" + pair.image1.filename().string() + ")");
  };
  check(pair.image2, d.image2);
  if (!pair.contour1.empty()) check(pair.contour1, d.contour1 = io::ReadImageGray(pair.contour1));
  if (!pair.contour2.empty()) check(pair.contour2, d.contour2 = io::ReadImageGray(pair.contour2));
  if (!pair.flow_forward.empty()) check(pair.flow_forward, d.flow_forward = io::ReadFlo(pair.flow_forward));
  if (!pair.flow_backward.empty()) check(pair.flow_backward, d.flow_backward = io::ReadFlo(pair.flow_backward));
  if (!pair.segment1.empty()) check(pair.segment1, d.segment1 = io::ReadNpyLabels(pair.segment1));
  if (!pair.segment2.empty()) check(pair.segment2, d.segment2 = io::ReadNpyLabels(pair.segment2));
  if (!pair.unmatched_forward.empty())
    check(pair.unmatched_forward, d.unmatched_forward = io::ReadNpyMask(pair.unmatched_forward));
  if (!pair.line_area.empty()) check(pair.line_area, d.line_area = io::ReadNpyMask(pair.line_area));

  // Segment counts (ids are 0..N-1) bound the matching files' keys and values.
  auto count = [](const fs::path& p, const cv::Mat& seg) -> int {
    if (seg.empty()) return -1;
    double lo = 0, hi = 0;
    cv::minMaxLoc(seg, &lo, &hi);
    if (lo < 0) ThrowFileError(p.string(), "negative segment id " + std::to_string(static_cast<int64_t>(lo)));
    return static_cast<int>(hi) + 1;
  };
  const int n1 = count(pair.segment1, d.segment1), n2 = count(pair.segment2, d.segment2);
  auto load_match = [](const fs::path& p, int n_from, int n_to) {
    std::vector<int> m = io::ReadMatchJson(p, n_from);
    if (n_to >= 0)
      for (size_t i = 0; i < m.size(); ++i)
        if (m[i] >= n_to)
          ThrowFileError(p.string(), "segment " + std::to_string(i) + " is matched to " + std::to_string(m[i]) +
                                         " but the other frame has " + std::to_string(n_to) + " segments");
    return m;
  };
  if (!pair.match_forward.empty()) d.match_forward = load_match(pair.match_forward, n1, n2);
  if (!pair.match_backward.empty()) d.match_backward = load_match(pair.match_backward, n2, n1);
  return d;
}

FramePair PairIdentity(const FramePair& pair) {
  FramePair t;
  t.scene = pair.scene;
  t.index = pair.index;
  t.name1 = pair.name1;
  t.name2 = pair.name2;
  return t;
}

void RequireAllPredictions(const std::vector<FramePair>& pairs,
                           const std::function<fs::path(const FramePair&)>& prediction_path) {
  int64_t missing = 0;
  fs::path first;
  for (const auto& p : pairs) {
    const fs::path path = prediction_path(p);
    if (fs::is_regular_file(path)) continue;
    if (first.empty()) first = path;
    ++missing;
  }
  if (missing)
    throw Error(first.string() + ": prediction not found (" + std::to_string(missing) + " of " +
                std::to_string(pairs.size()) + " predictions missing; expected <pred>/<scene>/forward/<ground-truth "
                "file name>)");
}

}  // namespace animerun::data
