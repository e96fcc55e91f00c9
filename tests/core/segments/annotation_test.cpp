// The annotation session: edits and their undo values, the review order, proposals that
// keep edits, save/load round trips (the saved file is plain SegMatching JSON), refusal to
// write the ground truth, corrupt and truncated files, and where annotations are stored.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/io/match_json.h"
#include "core/segments/annotation.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "test_paths.h"

namespace animerun::segments {
namespace {

namespace fs = std::filesystem;

// 6 segments in t, 5 in t+1; confidences out of order on purpose.
MatchProposal Sample() {
  MatchProposal p;
  p.source = "geometric";
  p.matches = {0, 1, -1, 3, 4, 2};
  p.confidence = {0.9f, 0.2f, 0.5f, 0.2f, 1.0f, 0.05f};
  return p;
}

std::string Slurp(const fs::path& p) { return ReadFileText(p); }

TEST(Annotation, GroundTruthProposalPadsAndRefusesExtraIds) {
  const MatchProposal p = ProposalFromGroundTruth({2, -1, 0}, 5);
  EXPECT_EQ(p.source, "gt");
  EXPECT_EQ(p.matches, (std::vector<int>{2, -1, 0, -1, -1}));
  EXPECT_EQ(p.confidence, std::vector<float>(5, 1.f));
  EXPECT_THROW(ProposalFromGroundTruth({1, 2, 3}, 2), Error);
  MatchResult r;
  r.matches = {1, 0};
  const MatchProposal q = ProposalFromResult(r, "flow");
  EXPECT_EQ(q.confidence, std::vector<float>(2, 1.f));
}

TEST(Annotation, SegmentCountIsMaxPlusOne) {
  cv::Mat l = (cv::Mat_<int>(2, 3) << 0, 4, 1, 2, 2, 3);
  EXPECT_EQ(SegmentCount(l), 5);
  EXPECT_EQ(SegmentCount(cv::Mat()), 0);
  EXPECT_THROW(SegmentCount(cv::Mat(2, 2, CV_8UC1, cv::Scalar(1))), Error);
}

TEST(Annotation, EditsReturnPreviousValuesAndTrackDirtyAndEdited) {
  AnnotationSession s(6, 5, Sample());
  EXPECT_FALSE(s.Dirty());
  EXPECT_EQ(s.NumEdited(), 0);
  EXPECT_EQ(s.Reassign(2, 4), -1);
  EXPECT_TRUE(s.Dirty());
  EXPECT_TRUE(s.IsEdited(2));
  EXPECT_EQ(s.MatchOf(2), 4);
  EXPECT_EQ(s.MarkUnmatched(0), 0);
  EXPECT_EQ(s.MatchOf(0), -1);
  EXPECT_EQ(s.NumEdited(), 2);
  // Undo = Set(id, returned value): back to the proposal exactly.
  EXPECT_EQ(s.Set(0, 0), -1);
  EXPECT_FALSE(s.IsEdited(0));
  EXPECT_EQ(s.Restore(2), 4);
  EXPECT_EQ(s.matches(), Sample().matches);
  EXPECT_EQ(s.NumEdited(), 0);
  // Out of range ids and targets.
  EXPECT_THROW(s.Set(6, 0), Error);
  EXPECT_THROW(s.Set(-1, 0), Error);
  EXPECT_THROW(s.Set(0, 5), Error);
  EXPECT_THROW(s.Set(0, -2), Error);
  EXPECT_THROW(s.Reassign(0, -1), Error);
  EXPECT_EQ(s.matches(), Sample().matches);
  EXPECT_FLOAT_EQ(s.Confidence(5), 0.05f);
  EXPECT_EQ(s.MatchOf(99), -1);
}

TEST(Annotation, BadProposalsAreRefused) {
  MatchProposal p = Sample();
  p.matches[1] = 5;  // t+1 has 5 segments: ids 0..4
  EXPECT_THROW(AnnotationSession(6, 5, p), Error);
  p = Sample();
  p.confidence.pop_back();
  EXPECT_THROW(AnnotationSession(6, 5, p), Error);
  p = Sample();
  p.confidence[0] = 1.5f;
  EXPECT_THROW(AnnotationSession(6, 5, p), Error);
}

TEST(Annotation, ReviewQueueIsAscendingConfidenceThenId) {
  AnnotationSession s(6, 5, Sample());
  EXPECT_EQ(s.ReviewQueue(), (std::vector<int>{5, 1, 3, 2, 0, 4}));
}

TEST(Annotation, NewProposalKeepsEdits) {
  AnnotationSession s(6, 5, Sample());
  s.Reassign(1, 3);
  MatchProposal gt = ProposalFromGroundTruth({4, 1, 2, 3, 0, 2}, 6);
  s.ReplaceProposal(gt);
  EXPECT_EQ(s.matches(), (std::vector<int>{4, 3, 2, 3, 0, 2}));
  EXPECT_EQ(s.proposal().source, "gt");
  EXPECT_TRUE(s.IsEdited(1));
  EXPECT_EQ(s.NumEdited(), 1);
}

TEST(Annotation, SaveWritesSegMatchingJsonAndLoadRestoresEverything) {
  const fs::path root = test::ScratchDir("ann");
  const AnnotationFiles f = AnnotationFilesFor(root, "cut_1", "Image0003");
  EXPECT_EQ(f.matches, root / "SegMatching" / "cut_1" / "forward" / "Image0003.json");
  EXPECT_EQ(f.review, root / "Review" / "cut_1" / "forward" / "Image0003.json");

  AnnotationSession s(6, 5, Sample());
  s.Reassign(2, 1);
  s.MarkUnmatched(4);
  s.Save(f);
  EXPECT_FALSE(s.Dirty());
  // The official format, readable by the SegMatching reader.
  EXPECT_EQ(io::ReadMatchJson(f.matches, 6), s.matches());
  EXPECT_EQ(Slurp(f.matches), "{\"0\": [0], \"1\": [1], \"2\": [1], \"3\": [3], \"4\": [-1], \"5\": [2]}");

  // A fresh session (say from the ground truth) gets the edits and the proposal back.
  AnnotationSession r(6, 5, ProposalFromGroundTruth({0, 1, 2, 3, 4, 0}, 6));
  r.Load(f);
  EXPECT_EQ(r.matches(), s.matches());
  EXPECT_EQ(r.proposal().source, "geometric");
  EXPECT_EQ(r.proposal().matches, Sample().matches);
  EXPECT_EQ(r.proposal().confidence, Sample().confidence);
  EXPECT_EQ(r.ReviewQueue(), s.ReviewQueue());
  EXPECT_EQ(r.NumEdited(), 2);
  EXPECT_FALSE(r.Dirty());

  // Without the review file the current proposal stays and edits are relative to it.
  fs::remove(f.review);
  AnnotationSession g(6, 5, Sample());
  g.Load(f);
  EXPECT_EQ(g.matches(), s.matches());
  EXPECT_EQ(g.proposal().source, "geometric");
}

TEST(Annotation, CorruptTruncatedOrForeignFilesAreRefusedAndSessionUnchanged) {
  const fs::path root = test::ScratchDir("bad");
  const AnnotationFiles f = AnnotationFilesFor(root, "s", "0001");
  AnnotationSession good(6, 5, Sample());
  good.Reassign(0, 2);
  good.Save(f);
  const std::string text = Slurp(f.matches);
  const std::string review = Slurp(f.review);

  auto expect_refused = [&](const fs::path& file, const std::string& why) {
    AnnotationSession s(6, 5, Sample());
    s.Reassign(3, 0);
    const std::vector<int> before = s.matches();
    try {
      s.Load(f);
      ADD_FAILURE() << why << ": accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << why << ": " << e.what();
    }
    EXPECT_EQ(s.matches(), before) << why;
    EXPECT_EQ(s.proposal().source, "geometric") << why;
    EXPECT_TRUE(s.Dirty()) << why;
  };

  WriteFileAtomic(f.matches, text.substr(0, text.size() / 2));
  expect_refused(f.matches, "truncated matches");
  WriteFileAtomic(f.matches, "{\"0\": [7]}");  // t+1 has 5 segments
  expect_refused(f.matches, "target out of range");
  WriteFileAtomic(f.matches, "{\"6\": [0]}");  // t has 6 segments
  expect_refused(f.matches, "source out of range");
  WriteFileAtomic(f.matches, text);
  WriteFileAtomic(f.review, review.substr(0, review.size() - 7));
  expect_refused(f.review, "truncated review");
  nlohmann::json j = nlohmann::json::parse(review);
  j["segments"] = {7, 5};
  WriteFileAtomic(f.review, j.dump());
  expect_refused(f.review, "other segment maps");
  j = nlohmann::json::parse(review);
  j["confidence"] = {0.5, 0.5};
  WriteFileAtomic(f.review, j.dump());
  expect_refused(f.review, "short confidence");
  WriteFileAtomic(f.review, "[1, 2]");
  expect_refused(f.review, "not an object");
  fs::remove(f.matches);
  expect_refused(f.matches, "missing matches file");
}

TEST(Annotation, SaveRefusesTheGroundTruthFile) {
  const fs::path root = test::ScratchDir("gt");
  const fs::path gt = root / "SegMatching" / "s" / "forward" / "0001.json";
  io::WriteMatchJson(gt, {0, 1, -1, 3, 4, 2});
  const std::string before = Slurp(gt);
  AnnotationSession s(6, 5, Sample());
  s.SetProtectedPath(gt);
  s.MarkUnmatched(0);
  AnnotationFiles f{gt, root / "Review" / "0001.json"};
  EXPECT_THROW(s.Save(f), Error);
  f.matches = root / "SegMatching" / "s" / "forward" / "." / "0001.json";  // same file, another spelling
  EXPECT_THROW(s.Save(f), Error);
  EXPECT_EQ(Slurp(gt), before);
  EXPECT_TRUE(s.Dirty());
  // The annotation tree is fine.
  s.Save(AnnotationFilesFor(root / "Annotations", "s", "0001"));
  EXPECT_FALSE(s.Dirty());
  EXPECT_EQ(Slurp(gt), before);
}

TEST(Annotation, AnnotationRootBesideTheDatasetOrInTheFallback) {
  const fs::path base = test::ScratchDir("roots");
  const fs::path split = base / "data" / "test";
  fs::create_directories(split);
  EXPECT_EQ(ChooseAnnotationRoot(split, base / "user"), split / "Annotations");
  EXPECT_FALSE(fs::exists(split / "Annotations"));  // created by the first save, not by looking
  EXPECT_TRUE(fs::is_empty(split));                 // the write probe is gone
  fs::create_directories(split / "Annotations");
  EXPECT_EQ(ChooseAnnotationRoot(split, base / "user"), split / "Annotations");
  EXPECT_TRUE(fs::is_empty(split / "Annotations"));
  EXPECT_FALSE(fs::exists(base / "user"));
  fs::remove(split / "Annotations");

  // A dataset where Annotations cannot be created (a read-only mount; here a file of that
  // name, which blocks it even for root) goes to the fallback folder.
  const fs::path ro = base / "ro" / "test";
  fs::create_directories(ro);
  WriteFileAtomic(ro / "Annotations", std::string("not a folder"));
  const fs::path a = ChooseAnnotationRoot(ro, base / "user");
  const fs::path b = ChooseAnnotationRoot(ro, base / "user");
  EXPECT_EQ(a, b);  // stable
  EXPECT_EQ(a.parent_path(), base / "user");
  EXPECT_EQ(a.filename().string().rfind("test-", 0), 0u) << a;
  EXPECT_TRUE(fs::is_directory(a));
  EXPECT_EQ(ReadFileText(ro / "Annotations"), "not a folder");
  // Another dataset with the same folder name gets another folder.
  const fs::path ro2 = base / "ro2" / "test";
  fs::create_directories(ro2);
  WriteFileAtomic(ro2 / "Annotations", std::string("x"));
  EXPECT_NE(ChooseAnnotationRoot(ro2, base / "user"), a);
  // Neither writable: a clear error naming the folder.
  WriteFileAtomic(base / "blocked", std::string("x"));
  try {
    ChooseAnnotationRoot(ro, base / "blocked");
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((ro / "Annotations").string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace animerun::segments
