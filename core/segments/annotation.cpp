#include "core/segments/annotation.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/io/match_json.h"
#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::segments {

namespace fs = std::filesystem;

namespace {

constexpr const char* kReviewFormat = "animerun-annotation-review";

// Throws when a proposal does not fit segment counts n0 / n1; what names the culprit.
void CheckProposal(const MatchProposal& p, int n0, int n1, const std::string& what) {
  if (static_cast<int>(p.matches.size()) != n0 || static_cast<int>(p.confidence.size()) != n0)
    throw Error(what + ": proposal has " + std::to_string(p.matches.size()) + " matches and " +
                std::to_string(p.confidence.size()) + " confidences for " + std::to_string(n0) + " segments");
  for (int i = 0; i < n0; ++i) {
    if (p.matches[i] < -1 || p.matches[i] >= n1)
      throw Error(what + ": match " + std::to_string(p.matches[i]) + " of segment " + std::to_string(i) +
                  " is out of range (frame t+1 has " + std::to_string(n1) + " segments)");
    if (!(p.confidence[i] >= 0.f && p.confidence[i] <= 1.f))
      throw Error(what + ": confidence of segment " + std::to_string(i) + " is not in [0, 1]");
  }
}

// FNV-1a: a stable name for a dataset path (std::hash may differ between builds).
uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Proves a file can be written in folder `at` (a read-only mount may refuse; permission
// bits alone do not say so for root).
bool ProbeWrite(const fs::path& at) {
  std::error_code ec;
  if (!fs::is_directory(at, ec)) return false;
  const fs::path probe = at / (".animerun-write-test-" + std::to_string(::getpid()));
  bool ok = false;
  {
    std::ofstream f(probe, std::ios::binary);
    ok = static_cast<bool>(f << "ok");
  }
  fs::remove(probe, ec);
  return ok;
}

// dir can hold files: it is a writable folder, or absent with a writable parent (the first
// save creates it; merely viewing a dataset leaves no folder behind).
bool CanWriteBeside(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) return fs::is_directory(dir, ec) && ProbeWrite(dir);
  return ProbeWrite(dir.parent_path());
}

// Creates dir (the user's data folder) and proves it can be written.
bool CreateWritable(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  return !ec && ProbeWrite(dir);
}

}  // namespace

MatchProposal ProposalFromGroundTruth(const std::vector<int>& gt, int n0) {
  if (static_cast<int>(gt.size()) > n0)
    throw Error("ground-truth matching lists " + std::to_string(gt.size()) + " segments, frame t has " +
                std::to_string(n0));
  MatchProposal p;
  p.source = "gt";
  p.matches.assign(static_cast<size_t>(n0), -1);
  std::copy(gt.begin(), gt.end(), p.matches.begin());
  p.confidence.assign(static_cast<size_t>(n0), 1.f);
  return p;
}

MatchProposal ProposalFromResult(const MatchResult& result, const std::string& source) {
  MatchProposal p;
  p.source = source;
  p.matches = result.matches;
  p.confidence = result.confidence;
  if (p.confidence.empty()) p.confidence.assign(p.matches.size(), 1.f);
  return p;
}

int SegmentCount(const cv::Mat& labels) {
  if (labels.empty()) return 0;
  if (labels.type() != CV_32SC1) throw Error("segment labels must be CV_32SC1");
  double lo = 0, hi = 0;
  cv::minMaxLoc(labels, &lo, &hi);
  if (lo < 0) throw Error("segment labels must be >= 0");
  return static_cast<int>(hi) + 1;
}

AnnotationFiles AnnotationFilesFor(const fs::path& annotation_root, const std::string& scene,
                                   const std::string& frame_name) {
  Require(!scene.empty() && !frame_name.empty(), "annotation files need a scene and a frame name");
  AnnotationFiles f;
  f.matches = annotation_root / "SegMatching" / scene / "forward" / (frame_name + ".json");
  f.review = annotation_root / "Review" / scene / "forward" / (frame_name + ".json");
  return f;
}

fs::path ChooseAnnotationRoot(const fs::path& split_root, const fs::path& fallback_base) {
  const fs::path beside = split_root / "Annotations";
  if (CanWriteBeside(beside)) return beside;
  std::error_code ec;
  fs::path abs = fs::absolute(split_root, ec);
  if (ec) abs = split_root;
  abs = abs.lexically_normal();
  std::string leaf = abs.filename().string();
  if (leaf.empty()) leaf = abs.parent_path().filename().string();
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(Fnv1a(abs.string())));
  const fs::path fallback = fallback_base / (leaf + "-" + hash);
  if (CreateWritable(fallback)) return fallback;
  throw Error(beside.string() + ": cannot write annotations here, nor in " + fallback.string());
}

AnnotationSession::AnnotationSession(int n0, int n1, MatchProposal proposal) : n0_(n0), n1_(n1) {
  Require(n0 >= 0 && n1 >= 0, "segment counts must be >= 0");
  CheckProposal(proposal, n0, n1, "proposal '" + proposal.source + "'");
  proposal_ = std::move(proposal);
  matches_ = proposal_.matches;
}

void AnnotationSession::CheckId(int id) const {
  if (id < 0 || id >= n0_)
    throw Error("segment " + std::to_string(id) + " is not in frame t (" + std::to_string(n0_) + " segments)");
}

int AnnotationSession::MatchOf(int id) const { return id >= 0 && id < n0_ ? matches_[id] : -1; }

float AnnotationSession::Confidence(int id) const { return id >= 0 && id < n0_ ? proposal_.confidence[id] : 0.f; }

bool AnnotationSession::IsEdited(int id) const { return id >= 0 && id < n0_ && matches_[id] != proposal_.matches[id]; }

int AnnotationSession::NumEdited() const {
  int n = 0;
  for (int i = 0; i < n0_; ++i) n += matches_[i] != proposal_.matches[i];
  return n;
}

int AnnotationSession::Set(int id, int target) {
  CheckId(id);
  if (target < -1 || target >= n1_)
    throw Error("segment " + std::to_string(target) + " is not in frame t+1 (" + std::to_string(n1_) + " segments)");
  const int old = matches_[id];
  if (old != target) {
    matches_[id] = target;
    dirty_ = true;
  }
  return old;
}

int AnnotationSession::Reassign(int id, int target) {
  if (target < 0) throw Error("reassign: target segment must be >= 0 (use MarkUnmatched)");
  return Set(id, target);
}

int AnnotationSession::MarkUnmatched(int id) { return Set(id, -1); }

int AnnotationSession::Restore(int id) {
  CheckId(id);
  return Set(id, proposal_.matches[id]);
}

void AnnotationSession::ReplaceProposal(MatchProposal proposal) {
  CheckProposal(proposal, n0_, n1_, "proposal '" + proposal.source + "'");
  std::vector<int> next = proposal.matches;
  for (int i = 0; i < n0_; ++i)
    if (IsEdited(i)) next[i] = matches_[i];
  if (next != matches_) dirty_ = true;
  matches_ = std::move(next);
  proposal_ = std::move(proposal);
  dirty_ = true;  // the review file changes too
}

std::vector<int> AnnotationSession::ReviewQueue() const {
  std::vector<int> q(static_cast<size_t>(n0_));
  std::iota(q.begin(), q.end(), 0);
  std::stable_sort(q.begin(), q.end(),
                   [this](int a, int b) { return proposal_.confidence[a] < proposal_.confidence[b]; });
  return q;
}

void AnnotationSession::Save(const AnnotationFiles& files) {
  if (!protected_.empty()) {
    std::error_code ec;
    const bool same = fs::exists(files.matches) && fs::exists(protected_) &&
                      fs::equivalent(files.matches, protected_, ec);
    if (same || files.matches.lexically_normal() == protected_.lexically_normal())
      ThrowFileError(files.matches.string(), "refusing to overwrite the ground-truth matching");
  }
  nlohmann::json review = {{"format", kReviewFormat},
                           {"version", 1},
                           {"source", proposal_.source},
                           {"segments", {n0_, n1_}},
                           {"matches", proposal_.matches},
                           {"confidence", proposal_.confidence}};
  // Review first: a crash between the two leaves the old edits with the new proposal, which
  // Load accepts; the matches file is the one that matters.
  WriteFileAtomic(files.review, review.dump());
  io::WriteMatchJson(files.matches, matches_);
  dirty_ = false;
}

void AnnotationSession::Load(const AnnotationFiles& files) {
  std::vector<int> loaded = io::ReadMatchJson(files.matches, n0_);
  for (int i = 0; i < n0_; ++i)
    if (loaded[i] >= n1_)
      ThrowFileError(files.matches.string(), "match " + std::to_string(loaded[i]) + " of segment " +
                                                 std::to_string(i) + " is out of range (frame t+1 has " +
                                                 std::to_string(n1_) + " segments)");
  MatchProposal proposal = proposal_;
  if (fs::exists(files.review)) {
    const std::string path = files.review.string();
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(ReadFileText(files.review));
    } catch (const nlohmann::json::exception& e) {
      ThrowFileError(path, std::string("invalid JSON: ") + e.what());
    }
    try {
      if (!j.is_object() || j.value("format", "") != kReviewFormat)
        ThrowFileError(path, std::string("not an annotation review file (\"format\": \"") + kReviewFormat + "\")");
      const auto segs = j.at("segments").get<std::vector<int>>();
      if (segs.size() != 2 || segs[0] != n0_ || segs[1] != n1_)
        ThrowFileError(path, "made for other segment maps (" + j.at("segments").dump() + ", these have [" +
                                 std::to_string(n0_) + ", " + std::to_string(n1_) + "])");
      proposal.source = j.at("source").get<std::string>();
      proposal.matches = j.at("matches").get<std::vector<int>>();
      proposal.confidence = j.at("confidence").get<std::vector<float>>();
    } catch (const nlohmann::json::exception& e) {
      ThrowFileError(path, std::string("malformed review file: ") + e.what());
    }
    CheckProposal(proposal, n0_, n1_, path);
  }
  proposal_ = std::move(proposal);
  matches_ = std::move(loaded);
  dirty_ = false;
}

}  // namespace animerun::segments
