#include "core/segments/annotation.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
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
#include "core/util/json_text.h"

namespace animerun::segments {

namespace fs = std::filesystem;

namespace {

constexpr const char* kReviewFormat = "animerun-annotation-review";
// A journal holds the changes between two autosaves (normally a handful of lines).
constexpr uint64_t kMaxJournalBytes = uint64_t{1} << 26;

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
  f.journal = annotation_root / "Journal" / scene / "forward" / (frame_name + ".jsonl");
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
    if (!journal_.empty()) AppendToJournal("{\"set\": [" + std::to_string(id) + ", " + std::to_string(target) + "]}\n");
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
  if (!journal_.empty()) {
    // The resulting matches, not the rule: replaying never depends on the state it lands on.
    const nlohmann::json line = {
        {"proposal", {{"source", proposal.source}, {"matches", proposal.matches}, {"confidence", proposal.confidence}}},
        {"matches", next}};
    AppendToJournal(line.dump() + "\n");
  }
  ApplyProposal(std::move(proposal), std::move(next));
}

void AnnotationSession::ApplyProposal(MatchProposal proposal, std::vector<int> matches) {
  matches_ = std::move(matches);
  proposal_ = std::move(proposal);
  dirty_ = true;  // the review file changes too
  review_dirty_ = true;
}

void AnnotationSession::AppendToJournal(const std::string& line) {
  const std::string path = journal_.string();
  std::error_code ec;
  fs::create_directories(journal_.parent_path(), ec);
  if (ec) ThrowFileError(journal_.parent_path().string(), "cannot create folder: " + ec.message());
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) ThrowFileError(path, std::string("cannot write: ") + std::strerror(errno));
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  // On disk before the change is applied: a power cut cannot lose it either.
  const bool ok = done == line.size() && ::fdatasync(fd) == 0;
  ::close(fd);
  if (!ok) ThrowFileError(path, "cannot record the change (disk full?); it was not applied");
}

int AnnotationSession::ReplayJournal(const fs::path& journal) {
  const std::string path = journal.string();
  const std::string text = ReadFileText(journal, kMaxJournalBytes);
  std::vector<int> matches = matches_;
  MatchProposal proposal = proposal_;
  bool proposal_changed = false;
  int applied = 0, line_no = 0;
  // Only newline-terminated lines count: a last line without one was being written when the
  // process died, and its change was never applied.
  for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
    ++line_no;
    const std::string where = path + ": line " + std::to_string(line_no);
    const nlohmann::json j = ParseJsonText(text.substr(at, nl - at), where);
    try {
      if (j.is_object() && j.size() == 1 && j.contains("set")) {
        const auto set = j.at("set").get<std::vector<int>>();
        if (set.size() != 2 || set[0] < 0 || set[0] >= n0_ || set[1] < -1 || set[1] >= n1_)
          ThrowFileError(where, "change " + j.dump() + " does not fit these segment maps (" + std::to_string(n0_) +
                                    " and " + std::to_string(n1_) + " segments)");
        matches[static_cast<size_t>(set[0])] = set[1];
      } else if (j.is_object() && j.size() == 2 && j.contains("proposal") && j.contains("matches")) {
        const nlohmann::json& p = j.at("proposal");
        MatchProposal next;
        next.source = p.at("source").get<std::string>();
        next.matches = p.at("matches").get<std::vector<int>>();
        next.confidence = p.at("confidence").get<std::vector<float>>();
        CheckProposal(next, n0_, n1_, where);
        std::vector<int> m = j.at("matches").get<std::vector<int>>();
        if (static_cast<int>(m.size()) != n0_ ||
            std::any_of(m.begin(), m.end(), [&](int v) { return v < -1 || v >= n1_; }))
          ThrowFileError(where, "matches do not fit these segment maps");
        proposal = std::move(next);
        matches = std::move(m);
        proposal_changed = true;
      } else {
        ThrowFileError(where, "not an annotation change");
      }
    } catch (const nlohmann::json::exception& e) {
      ThrowFileError(where, std::string("malformed change: ") + e.what());
    }
    ++applied;
  }
  if (applied == 0) return 0;
  matches_ = std::move(matches);
  proposal_ = std::move(proposal);
  dirty_ = true;
  review_dirty_ = review_dirty_ || proposal_changed;
  return applied;
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
  // Load accepts (and the journal, emptied only below, brings the edits up to date).
  if (review_dirty_) {
    WriteFileAtomic(files.review, review.dump());
    review_dirty_ = false;
  }
  io::WriteMatchJson(files.matches, matches_);
  dirty_ = false;
  if (!journal_.empty()) {
    std::error_code ec;
    fs::remove(journal_, ec);  // a journal left behind only replays what was just saved
  }
}

void AnnotationSession::Load(const AnnotationFiles& files) { LoadFiles(files, true); }

void AnnotationSession::LoadFiles(const AnnotationFiles& files, bool require_matches) {
  std::vector<int> loaded;
  const bool have_matches = require_matches || fs::exists(files.matches);
  if (have_matches) loaded = io::ReadMatchJson(files.matches, n0_);
  for (int i = 0; have_matches && i < n0_; ++i)
    if (loaded[i] >= n1_)
      ThrowFileError(files.matches.string(), "match " + std::to_string(loaded[i]) + " of segment " +
                                                 std::to_string(i) + " is out of range (frame t+1 has " +
                                                 std::to_string(n1_) + " segments)");
  MatchProposal proposal = proposal_;
  const bool have_review = fs::exists(files.review);
  if (have_review) {
    const std::string path = files.review.string();
    const nlohmann::json j = ReadJsonFile(files.review);
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
  // Without a matches file (a first save cut short after the review file) the edits start
  // from the proposal, as they did when that save began.
  if (!have_matches) loaded = proposal.matches;
  proposal_ = std::move(proposal);
  matches_ = std::move(loaded);
  dirty_ = false;
  review_dirty_ = !have_review;
}

namespace {

// Moves path to "<path>.corrupt" (".corrupt-2", ...), never replacing an existing file.
fs::path KeepAside(const fs::path& path) {
  for (int k = 1; k < 1000; ++k) {
    fs::path aside = path;
    aside += k == 1 ? std::string(".corrupt") : ".corrupt-" + std::to_string(k);
    // link() refuses an existing name atomically; filesystems without hard links fall back
    // to a checked rename.
    if (::link(path.c_str(), aside.c_str()) == 0) {
      ::unlink(path.c_str());
      return aside;
    }
    if (errno == EEXIST) continue;
    std::error_code ec;
    if (fs::exists(aside, ec)) continue;
    fs::rename(path, aside, ec);
    if (!ec) return aside;
    ThrowFileError(path.string(), "cannot move the unreadable file aside (" + ec.message() +
                                      "); refusing to save over it");
  }
  ThrowFileError(path.string(), "cannot move the unreadable file aside (too many earlier copies)");
}

// Cuts a torn last line (a change being written when the process died) off the journal, so
// that the next change does not land on the same line.
void DropTornTail(const fs::path& journal) {
  const std::string text = ReadFileText(journal, kMaxJournalBytes);
  const size_t keep = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  if (keep == text.size()) return;
  if (::truncate(journal.c_str(), static_cast<off_t>(keep)) != 0)
    ThrowFileError(journal.string(), std::string("cannot repair the journal: ") + std::strerror(errno));
}

}  // namespace

OpenedAnnotation OpenSavedAnnotation(AnnotationSession* session, const AnnotationFiles& files) {
  for (const fs::path& f : {files.matches, files.review}) RemoveStaleTempFiles(f);
  OpenedAnnotation result;
  AnnotationSession trial = *session;  // all or nothing
  trial.AttachJournal(fs::path());     // replaying must not journal
  std::error_code ec;
  auto keep_aside = [&](const std::string& error, std::initializer_list<fs::path> paths) {
    result.error = error;
    for (const fs::path& f : paths)
      if (fs::exists(f, ec)) result.kept_aside.push_back(KeepAside(f));
  };
  try {
    if (fs::exists(files.matches, ec) || fs::exists(files.review, ec)) {
      trial.LoadFiles(files, false);
      result.restored = fs::exists(files.matches, ec);
    }
  } catch (const Error& e) {
    // The journal's changes were made on top of these files: without them it means nothing.
    keep_aside(e.what(), {files.matches, files.review, files.journal});
    session->AttachJournal(files.journal);
    return result;
  }
  if (fs::exists(files.journal, ec)) {
    AnnotationSession saved = trial;
    try {
      result.journaled = trial.ReplayJournal(files.journal);
      result.restored = result.restored || result.journaled > 0;
      DropTornTail(files.journal);
    } catch (const Error& e) {
      trial = std::move(saved);  // the saved edits stand; only the journal goes aside
      result.journaled = 0;
      keep_aside(e.what(), {files.journal});
    }
  }
  *session = std::move(trial);
  session->AttachJournal(files.journal);
  return result;
}

}  // namespace animerun::segments
