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
// The first is a drop-in SegMatching file (`eval-match` and the official loaders read it);
// the second lets a reopened pair show the confidences and the review order again.
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

// The two files of one pair's annotation.
struct AnnotationFiles {
  std::filesystem::path matches;   // SegMatching JSON
  std::filesystem::path review;    // proposal sidecar
};
AnnotationFiles AnnotationFilesFor(const std::filesystem::path& annotation_root, const std::string& scene,
                                   const std::string& frame_name);

// <split_root>/Annotations when files can be written there (or, while it does not exist,
// in split_root: the first save creates it); otherwise <fallback_base>/<last folder
// name>-<hash of the absolute split path> (so two datasets never share annotations),
// created here. Throws Error when neither can be written.
std::filesystem::path ChooseAnnotationRoot(const std::filesystem::path& split_root,
                                           const std::filesystem::path& fallback_base);

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

  // Writes both files atomically and clears Dirty. Throws Error (naming the file) on
  // failure or when files.matches is the protected ground-truth file.
  void Save(const AnnotationFiles& files);
  // Reads saved edits: the matches file (required) and the review file (optional; when
  // present it restores the proposal). Throws Error naming the file when either is
  // malformed or made for other segment maps; the session is unchanged then.
  void Load(const AnnotationFiles& files);

 private:
  void CheckId(int id) const;
  int n0_ = 0, n1_ = 0;
  MatchProposal proposal_;
  std::vector<int> matches_;
  bool dirty_ = false;
  std::filesystem::path protected_;
};

}  // namespace animerun::segments
