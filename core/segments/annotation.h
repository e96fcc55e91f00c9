// A correspondence annotation session (Qt-free): the matches of one pair (segments of
// frame t -> frame t+1) proposed by a matcher or the ground truth, the artist's edits on
// top (reassign, mark unmatched, restore), the review queue (least confident first), and
// their files.
//
// Files. Edits never go into the dataset's SegMatching folder (the ground truth). They are
// saved under an annotation root, by default <split folder>/Annotations, or a per-dataset
// folder of the user's data directory when the dataset is read-only (ChooseAnnotationRoot):
//   <annotation root>/SegMatching/<scene>/forward/<frame t>.json   AnimeRun SegMatching JSON
//   <annotation root>/Review/<scene>/forward/<frame t>.json        the proposal (source,
//                                                                   matches, confidences)
//   <annotation root>/Journal/<scene>/forward/<frame t>.jsonl      changes since the last save
// The first is a drop-in SegMatching file (`eval-match` and the official loaders read it);
// the second lets a reopened pair show the confidences and the review order again.
//
// Nothing lost on a crash: with a journal attached (OpenSavedAnnotation does it), every
// change is appended to the journal and flushed to disk before it is applied, each line
// the resulting value (absolute, so replaying it over the old or the new saved files gives
// the same state); Save writes the two files atomically (temp file + rename) and only
// then empties the journal. A process killed at any moment, during a save included, loses
// at most the change being made, and the SegMatching file is always a complete old or new
// version. Opening a pair replays the journal (a torn last line is the change that was
// being made and is dropped), removes temp files of dead processes, and moves a corrupt or
// foreign file aside (never overwriting it) instead of loading it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/segments/matcher.h"

namespace animerun::segments {

// What the edits start from: a matcher's output or the ground truth.
struct MatchProposal {
  std::string source;              // "gt", or the matcher's name ("flow", "geometric", "ant")
  std::vector<int> matches;        // size N0; id in frame t+1 or -1
  std::vector<float> confidence;   // size N0; in [0, 1]
};

// The ground truth as a proposal (confidence 1). gt may be shorter than n0 (missing ids
// are unmatched) but not longer.
MatchProposal ProposalFromGroundTruth(const std::vector<int>& gt, int n0);
// A matcher's result as a proposal; a missing confidence vector counts as 1 everywhere.
MatchProposal ProposalFromResult(const MatchResult& result, const std::string& source);

// Segment count of a label map (ids 0..N-1, so max + 1; 0 when empty). CV_32SC1.
int SegmentCount(const cv::Mat& labels);

// The files of one pair's annotation.
struct AnnotationFiles {
  std::filesystem::path matches;   // SegMatching JSON
  std::filesystem::path review;    // proposal sidecar
  std::filesystem::path journal;   // changes not yet saved (JSON lines)
};
AnnotationFiles AnnotationFilesFor(const std::filesystem::path& annotation_root, const std::string& scene,
                                   const std::string& frame_name);

// <split_root>/Annotations when files can be written there (or, while it does not exist,
// in split_root: the first save creates it); otherwise <fallback_base>/<last folder
// name>-<hash of the absolute split path> (so two datasets never share annotations),
// created here. Throws Error when neither can be written.
std::filesystem::path ChooseAnnotationRoot(const std::filesystem::path& split_root,
                                           const std::filesystem::path& fallback_base);

struct OpenedAnnotation;
class AnnotationSession;
OpenedAnnotation OpenSavedAnnotation(AnnotationSession* session, const AnnotationFiles& files);

class AnnotationSession {
 public:
  AnnotationSession() = default;
  // n0 / n1: segment counts of frames t and t+1. Throws Error when the proposal's sizes
  // or ids do not fit them.
  AnnotationSession(int n0, int n1, MatchProposal proposal);

  int NumSegments0() const { return n0_; }
  int NumSegments1() const { return n1_; }
  const std::vector<int>& matches() const { return matches_; }
  const MatchProposal& proposal() const { return proposal_; }
  int MatchOf(int id) const;          // -1 for unmatched or an id out of range
  float Confidence(int id) const;     // the proposal's confidence (0 out of range)
  bool IsEdited(int id) const;        // current match differs from the proposal
  int NumEdited() const;

  // Edits. Each returns the previous match of id (what an undo sets back) and marks the
  // session dirty when something changed. Throw Error for ids out of range.
  int Set(int id, int target);        // target in -1..N1-1
  int Reassign(int id, int target);  // target in 0..N1-1
  int MarkUnmatched(int id);
  int Restore(int id);                // back to the proposal

  // Replaces the proposal (a matcher was run), keeping the edited ids as they are.
  void ReplaceProposal(MatchProposal proposal);

  // Segment ids of frame t by ascending proposal confidence (ties: ascending id).
  std::vector<int> ReviewQueue() const;

  bool Dirty() const { return dirty_; }

  // The ground-truth file (SegMatching/.../forward) that Save must never write.
  void SetProtectedPath(const std::filesystem::path& path) { protected_ = path; }

  // Writes both files atomically (the review file only when the proposal changed since
  // it was last written or read), clears Dirty, then empties the attached journal. Throws
  // Error (naming the file) on failure or when files.matches is the protected
  // ground-truth file.
  void Save(const AnnotationFiles& files);
  // Reads saved edits: the matches file (required) and the review file (optional; when
  // present it restores the proposal). Throws Error naming the file when either is
  // malformed or made for other segment maps; the session is unchanged then.
  void Load(const AnnotationFiles& files);

  // From now on every change (Set and the edits built on it, ReplaceProposal) is first
  // appended to journal and flushed; a failed append throws Error and leaves the session
  // unchanged. An empty path detaches.
  void AttachJournal(const std::filesystem::path& journal) { journal_ = journal; }
  const std::filesystem::path& journal() const { return journal_; }
  // Applies the changes a journal holds; returns how many. A last line without its newline
  // is a change cut short by a crash and is ignored. Throws Error naming the journal when a
  // line is corrupt or does not fit these segment maps; the session is unchanged then.
  int ReplayJournal(const std::filesystem::path& journal);

 private:
  friend OpenedAnnotation OpenSavedAnnotation(AnnotationSession* session, const AnnotationFiles& files);
  void LoadFiles(const AnnotationFiles& files, bool require_matches);
  void CheckId(int id) const;
  void AppendToJournal(const std::string& line);
  void ApplyProposal(MatchProposal proposal, std::vector<int> matches);
  int n0_ = 0, n1_ = 0;
  MatchProposal proposal_;
  std::vector<int> matches_;
  bool dirty_ = false;
  bool review_dirty_ = true;  // the proposal differs from the review file on disk
  std::filesystem::path protected_;
  std::filesystem::path journal_;
};

// What opening a pair's saved annotation found.
struct OpenedAnnotation {
  bool restored = false;  // saved edits or journaled changes were loaded
  int journaled = 0;      // changes recovered from the journal (made after the last save)
  std::string error;      // why a file was not used ("" when all were, or none exist)
  std::vector<std::filesystem::path> kept_aside;  // where the unused files were moved
};

// Opens a pair's annotation as the correspondence panel does: removes temp files that
// dead processes left beside the files, loads the saved files and replays the journal
// into session, and attaches the journal. A saved file that is unreadable, corrupt or made
// for other segment maps is not loaded: the session keeps its proposal, the error is
// reported in the result, and the pair's files (the journal with them, as its changes
// build on them) are moved aside to "<name>.corrupt" (or ".corrupt-2", ... never over an
// earlier one) so that later saves cannot overwrite them. A bad journal alone is moved
// aside the same way and the saved edits are kept. Throws Error when a file cannot be
// moved aside: nothing may be saved over it then.
OpenedAnnotation OpenSavedAnnotation(AnnotationSession* session, const AnnotationFiles& files);

}  // namespace animerun::segments
