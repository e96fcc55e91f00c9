#include "core/data/flow_datasets.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/data/animerun_dataset.h"
#include "core/io/file_probe.h"
#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::data {

namespace {

bool IsDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

void RequireDir(const fs::path& p, const std::string& what) {
  if (!IsDir(p)) ThrowFileError(p.string(), "missing folder (" + what + ")");
}

std::vector<fs::path> Files(const fs::path& dir, const std::string& ext) { return ListFiles(dir, {ext}); }

// ----- the readers -----

FlowSet IndexAnime(const FlowSetOptions& o, const JobContext* job) {
  DatasetOptions d;
  d.split = o.split.empty() ? "train" : o.split;
  d.pass = o.pass;
  d.check_sizes = false;  // CheckFlowSet compares sizes pair by pair
  d.Check();
  const AnimeRunDataset ds = AnimeRunDataset::Open(o.root, d, job);
  FlowSet set;
  for (const FramePair& p : ds.AllPairs()) {
    if (p.flow_forward.empty()) continue;  // reported among the dataset's problems
    set.pairs.push_back({p.image1, p.image2, p.flow_forward, {}});
  }
  set.problems = ds.AllProblems();
  if (set.pairs.empty())
    ThrowFileError(ds.root().string(), "no frame pairs with forward flow (Flow/<scene>/forward/*.flo) in pass '" +
                                           o.pass + "'");
  return set;
}

FlowSet IndexThings(const FlowSetOptions& o, bool final_pass) {
  const std::string split = o.split.empty() ? "TRAIN" : o.split;
  const fs::path frames = o.root / (final_pass ? "frames_finalpass" : "frames_cleanpass") / split;
  const fs::path flows = o.root / "optical_flow" / split;
  RequireDir(frames, "FlyingThings3D frames");
  RequireDir(flows, "FlyingThings3D optical_flow");
  // Sequences as <letter>/<number>, sorted as the official sorted(glob(.../TRAIN/*/*)).
  std::vector<std::string> sequences;
  for (const auto& letter : ListSubdirs(frames))
    for (const auto& seq : ListSubdirs(frames / letter)) sequences.push_back(letter + "/" + seq);
  std::sort(sequences.begin(), sequences.end());
  FlowSet set;
  for (const char* direction : {"into_future", "into_past"}) {
    const bool future = std::string(direction) == "into_future";
    for (const auto& seq : sequences) {
      const fs::path idir = frames / seq / "left", fdir = flows / seq / direction / "left";
      if (!IsDir(idir) || !IsDir(fdir)) {
        if (future) set.problems.push_back(seq + ": no " + (IsDir(idir) ? fdir.string() : idir.string()));
        continue;
      }
      const auto images = Files(idir, ".png");
      const auto flow_files = Files(fdir, ".pfm");
      if (flow_files.size() > images.size()) {
        set.problems.push_back(seq + "/" + direction + ": " + std::to_string(flow_files.size()) + " flows for " +
                               std::to_string(images.size()) + " frames; skipped");
        continue;
      }
      for (size_t i = 0; i + 1 < flow_files.size(); ++i) {
        if (future)
          set.pairs.push_back({images[i], images[i + 1], flow_files[i], {}});
        else
          set.pairs.push_back({images[i + 1], images[i], flow_files[i + 1], {}});
      }
    }
  }
  if (set.pairs.empty()) ThrowFileError(frames.string(), "no FlyingThings3D pairs found (left camera, .png + .pfm)");
  return set;
}

FlowSet IndexSintel(const FlowSetOptions& o, bool final_pass) {
  const std::string split = o.split.empty() ? "training" : o.split;
  const fs::path images_root = o.root / split / (final_pass ? "final" : "clean");
  const fs::path flow_root = o.root / split / "flow";
  RequireDir(images_root, "MPI-Sintel frames");
  RequireDir(flow_root, "MPI-Sintel flow");
  FlowSet set;
  for (const auto& scene : ListSubdirs(images_root)) {
    const auto images = Files(images_root / scene, ".png");
    const auto flow_files = Files(flow_root / scene, ".flo");
    if (images.size() < 2 || flow_files.size() != images.size() - 1) {
      set.problems.push_back(scene + ": " + std::to_string(images.size()) + " frames but " +
                             std::to_string(flow_files.size()) + " flows (expected one fewer); skipped");
      continue;
    }
    for (size_t i = 0; i + 1 < images.size(); ++i) set.pairs.push_back({images[i], images[i + 1], flow_files[i], {}});
  }
  if (set.pairs.empty()) ThrowFileError(images_root.string(), "no MPI-Sintel pairs found");
  return set;
}

FlowSet IndexCreative(const FlowSetOptions& o) {
  const std::string split = o.split.empty() ? "test" : o.split;
  const fs::path root = o.root / split;
  RequireDir(root, "Creative Flow+ decompressed split");
  FlowSet set;
  for (const auto& scene : ListSubdirs(root)) {
    const fs::path composite = root / scene / "cam0" / "renders" / "composite";
    const fs::path flow_dir = root / scene / "cam0" / "metadata" / "flow";
    const auto styles = IsDir(composite) ? ListSubdirs(composite) : std::vector<std::string>{};
    if (styles.empty() || !IsDir(flow_dir)) {
      set.problems.push_back(scene + ": no cam0/renders/composite/<style> or cam0/metadata/flow; skipped");
      continue;
    }
    const auto images = Files(composite / styles.front(), ".png");
    const auto flow_files = Files(flow_dir, ".flo");
    if (images.size() < 2 || images.size() - 1 != flow_files.size()) {  // the official condition
      set.problems.push_back(scene + ": " + std::to_string(images.size()) + " frames, " +
                             std::to_string(flow_files.size()) + " flows; skipped as the official reader does");
      continue;
    }
    for (size_t i = 0; i + 1 < images.size(); ++i) set.pairs.push_back({images[i], images[i + 1], flow_files[i], {}});
  }
  if (set.pairs.empty()) ThrowFileError(root.string(), "no Creative Flow+ pairs found");
  return set;
}

fs::path Resolve(const fs::path& base, const std::string& p) {
  const fs::path path(p);
  return path.is_absolute() ? path : base / path;
}

FlowSet IndexPairsList(const FlowSetOptions& o) {
  const std::string text = ReadFileText(o.root);  // names the file when missing
  const fs::path base = o.root.parent_path();
  FlowSet set;
  auto add = [&](const std::vector<std::string>& f, const std::string& where) {
    if (f.size() != 3 && f.size() != 4)
      ThrowFileError(o.root.string(), where + ": expected 'image1 image2 flow [valid]', got " +
                                          std::to_string(f.size()) + " field(s)");
    set.pairs.push_back({Resolve(base, f[0]), Resolve(base, f[1]), Resolve(base, f[2]),
                         f.size() == 4 ? Resolve(base, f[3]) : fs::path()});
  };
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      ThrowFileError(o.root.string(), std::string("not valid JSON: ") + e.what());
    }
    for (size_t i = 0; i < j.size(); ++i) {
      const auto& e = j[i];
      const std::string where = "entry " + std::to_string(i);
      std::vector<std::string> f;
      if (e.is_array()) {
        for (const auto& v : e) {
          if (!v.is_string()) ThrowFileError(o.root.string(), where + ": paths must be strings");
          f.push_back(v.get<std::string>());
        }
      } else if (e.is_object()) {
        for (const char* key : {"image1", "image2", "flow"}) {
          if (!e.contains(key) || !e[key].is_string())
            ThrowFileError(o.root.string(), where + ": needs string \"" + std::string(key) + "\"");
          f.push_back(e[key].get<std::string>());
        }
        if (e.contains("valid")) {
          if (!e["valid"].is_string()) ThrowFileError(o.root.string(), where + ": \"valid\" must be a string");
          f.push_back(e["valid"].get<std::string>());
        }
      } else {
        ThrowFileError(o.root.string(), where + ": expected an object or an array of paths");
      }
      add(f, where);
    }
  } else {
    std::istringstream in(text);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t s = line.find_first_not_of(" \t");
      if (s == std::string::npos || line[s] == '#') continue;
      std::vector<std::string> f;
      if (line.find('\t') != std::string::npos) {  // tab separated: paths may hold spaces
        std::istringstream fields(line);
        for (std::string x; std::getline(fields, x, '\t');)
          if (!x.empty()) f.push_back(x);
      } else {
        std::istringstream fields(line);
        for (std::string x; fields >> x;) f.push_back(x);
      }
      add(f, "line " + std::to_string(n));
    }
  }
  if (set.pairs.empty()) ThrowFileError(o.root.string(), "the pairs list holds no pairs");
  return set;
}

std::string SizeKey(const cv::Size& s) { return std::to_string(s.width) + "x" + std::to_string(s.height); }

}  // namespace

const std::vector<std::string>& FlowSetKinds() {
  static const std::vector<std::string> kinds = {"anime", "things", "things-final", "sintel",
                                                 "sintel-final", "creative", "pairs"};
  return kinds;
}

void FlowSetOptions::Check() const {
  const auto& k = FlowSetKinds();
  if (std::find(k.begin(), k.end(), kind) == k.end()) {
    std::string known;
    for (const auto& n : k) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown dataset kind '" + kind + "' (known: " + known + ")");
  }
  Require(!root.empty(), kind + ": no folder given");
  Require(kind != "anime" || !pass.empty(), "anime: pass required");
}

FlowSet IndexFlowSet(const FlowSetOptions& options, const JobContext* job) {
  options.Check();
  std::error_code ec;
  if (!fs::exists(options.root, ec)) ThrowFileError(options.root.string(), "no such " +
                                                        std::string(options.kind == "pairs" ? "file" : "folder"));
  FlowSet set;
  if (options.kind == "anime") set = IndexAnime(options, job);
  else if (options.kind == "things" || options.kind == "things-final") set = IndexThings(options, options.kind != "things");
  else if (options.kind == "sintel" || options.kind == "sintel-final") set = IndexSintel(options, options.kind != "sintel");
  else if (options.kind == "creative") set = IndexCreative(options);
  else set = IndexPairsList(options);
  set.kind = options.kind;
  set.root = options.root;
  return set;
}

std::string DetectFlowSetKind(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    const std::string ext = LowerExtension(path);
    return ext == ".txt" || ext == ".json" || ext == ".list" ? "pairs" : "";
  }
  if (!IsDir(path)) return "";
  for (const fs::path& base : {path, path / "train", path / "test"})
    if (IsDir(base / "Frame_Anime")) return "anime";
  if (IsDir(path / "optical_flow") && (IsDir(path / "frames_cleanpass") || IsDir(path / "frames_finalpass")))
    return "things";
  if (IsDir(path / "training" / "flow")) return "sintel";
  for (const char* split : {"test", "train"}) {
    const fs::path s = path / split;
    if (!IsDir(s)) continue;
    for (const auto& scene : ListSubdirs(s))
      if (IsDir(s / scene / "cam0" / "metadata" / "flow")) return "creative";
    break;
  }
  return "";
}

void ReadTrainingFlow(const fs::path& path, cv::Mat* flow, cv::Mat* valid) {
  const std::string ext = LowerExtension(path);
  cv::Mat f, v;
  if (ext == ".png") {
    io::KittiFlow k = io::ReadKittiFlow(path);
    f = k.flow;
    v = k.valid;
  } else if (ext == ".npy") {
    const io::NpyArray a = io::ReadNpy(path);
    if (a.shape.size() != 3 || a.shape[2] != 2) ThrowFileError(path.string(), "a flow .npy must have shape [H, W, 2]");
    if (a.type != io::NpyType::kFloat32 && a.type != io::NpyType::kFloat64)
      ThrowFileError(path.string(), std::string("a flow .npy must be float32 or float64, not ") + io::NpyTypeName(a.type));
    f = io::ReadNpyFloat(path);
  } else {
    f = io::ReadFlowAuto(path);  // .flo / .pfm; names the file on errors
  }
  if (f.type() != CV_32FC2) ThrowFileError(path.string(), "flow must have 2 channels");
  if (v.empty()) v = cv::Mat(f.size(), CV_8UC1, cv::Scalar(1));
  // The official dense rule |u| < 1000 and |v| < 1000; non-finite pixels are unusable.
  for (int y = 0; y < f.rows; ++y) {
    cv::Vec2f* fr = f.ptr<cv::Vec2f>(y);
    uint8_t* vr = v.ptr<uint8_t>(y);
    for (int x = 0; x < f.cols; ++x) {
      const float u = fr[x][0], w = fr[x][1];
      if (!std::isfinite(u) || !std::isfinite(w)) {
        fr[x] = cv::Vec2f(0.f, 0.f);
        vr[x] = 0;
      } else if (!(std::fabs(u) < 1000.f && std::fabs(w) < 1000.f)) {
        vr[x] = 0;
      } else {
        vr[x] = vr[x] ? 1 : 0;
      }
    }
  }
  *flow = f;
  *valid = v;
}

FlowSample LoadFlowSample(const FlowPairFiles& files) {
  FlowSample s;
  s.image1 = io::ReadImageRgb(files.image1);
  s.image2 = io::ReadImageRgb(files.image2);
  ReadTrainingFlow(files.flow, &s.flow, &s.valid);
  if (s.image2.size() != s.image1.size())
    ThrowFileError(files.image2.string(), "size " + SizeKey(s.image2.size()) + " differs from " +
                                              files.image1.string() + " (" + SizeKey(s.image1.size()) + ")");
  if (s.flow.size() != s.image1.size())
    ThrowFileError(files.flow.string(), "flow size " + SizeKey(s.flow.size()) + " differs from its frame " +
                                            files.image1.string() + " (" + SizeKey(s.image1.size()) + ")");
  if (!files.valid.empty()) {
    const cv::Mat m = LowerExtension(files.valid) == ".npy" ? io::ReadNpyMask(files.valid) : io::ReadImageGray(files.valid);
    if (m.size() != s.flow.size())
      ThrowFileError(files.valid.string(), "mask size " + SizeKey(m.size()) + " differs from the flow's");
    s.valid.setTo(0, m == 0);
  }
  return s;
}

std::string FlowSetReport::Summary() const {
  std::string s = kind + " (" + root.string() + "): " + std::to_string(pairs) + " pairs";
  std::string sizes;
  for (const auto& [size, n] : resolutions)
    sizes += (sizes.empty() ? "" : ", ") + size + (resolutions.size() > 1 ? " x" + std::to_string(n) : "");
  return s + (sizes.empty() ? "" : ", " + sizes);
}

FlowSetReport CheckFlowSet(const FlowSet& set, const JobContext* job) {
  FlowSetReport report;
  report.kind = set.kind;
  report.root = set.root;
  report.pairs = static_cast<int64_t>(set.pairs.size());
  const size_t n = set.pairs.size();
  std::vector<cv::Size> sizes(n);
  std::vector<std::string> errors(n);
  std::atomic<size_t> next{0}, done{0};
  std::atomic<bool> cancelled{false};
  std::mutex report_mutex;
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      if (job && job->IsCancelled()) {
        cancelled = true;
        return;
      }
      const FlowPairFiles& p = set.pairs[i];
      try {
        const cv::Size a = io::ProbeImageSize(p.image1), b = io::ProbeImageSize(p.image2);
        const cv::Size f = io::ProbeFlowSize(p.flow);
        if (b != a)
          ThrowFileError(p.image2.string(), "size " + SizeKey(b) + " differs from " + p.image1.string() + " (" +
                                                SizeKey(a) + ")");
        if (f != a)
          ThrowFileError(p.flow.string(), "flow size " + SizeKey(f) + " differs from its frame " +
                                              p.image1.string() + " (" + SizeKey(a) + ")");
        if (!p.valid.empty() && !fs::exists(p.valid)) ThrowFileError(p.valid.string(), "no such file");
        sizes[i] = a;
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
      const size_t k = ++done;
      if (job && (k % 256 == 0 || k == n)) {
        std::lock_guard<std::mutex> lock(report_mutex);
        job->Report(static_cast<double>(k) / n, set.kind + ": checked " + std::to_string(k) + "/" + std::to_string(n));
      }
    }
  };
  // File checks wait on the disk more than the CPU: a few threads beyond the cores.
  const unsigned threads = std::max(2u, std::min(8u, std::thread::hardware_concurrency() * 2));
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  if (cancelled) throw Cancelled();
  size_t bad = 0, first_bad = n;
  for (size_t i = 0; i < n; ++i)
    if (!errors[i].empty()) {
      ++bad;
      if (first_bad == n) first_bad = i;
    }
  if (bad > 0)
    throw Error(set.kind + " (" + set.root.string() + "): " + std::to_string(bad) + " of " + std::to_string(n) +
                " pairs unusable; first: " + errors[first_bad]);
  for (const cv::Size& s : sizes) ++report.resolutions[SizeKey(s)];
  return report;
}

}  // namespace animerun::data
