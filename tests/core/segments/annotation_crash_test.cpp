// Nothing lost on a crash (docs/correspondence_annotation.md): the annotation journal and
// atomic saves. A child process makes changes with autosaves and is killed (SIGKILL) at
// random moments, during saves included; every time, the pair reopens without error, the
// SegMatching file is complete, and the state is the one after the last change the child
// reported, or the one after the change it was making. Also: torn journal lines, corrupt
// and foreign journals, temp files of dead processes, and files kept aside never overwritten.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/io/match_json.h"
#include "core/segments/annotation.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "test_paths.h"
#include "tests/core/segments/annotation_kill_ops.h"

namespace animerun::segments {
namespace {

namespace fs = std::filesystem;
namespace kill = test::kill;

struct Child {
  pid_t pid = -1;
  int out = -1;  // read end of its stdout
};

Child Spawn(const fs::path& root, uint64_t seed, int changes) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const std::string seed_s = std::to_string(seed), changes_s = std::to_string(changes);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(ANIMERUN_KILL_CHILD, ANIMERUN_KILL_CHILD, root.c_str(), seed_s.c_str(), changes_s.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

// Reads what is available (blocking for the first byte only when wait is set).
void Drain(int fd, std::string* text, bool until_eof) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      text->append(buf, static_cast<size_t>(n));
      if (!until_eof) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return;
  }
}

// Changes the child reported applied: complete lines after "ready".
int ReportedChanges(const std::string& text) {
  int n = -1;
  for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) ++n;
  return std::max(n, 0);
}

bool SameState(const AnnotationSession& a, const AnnotationSession& b) {
  return a.matches() == b.matches() && a.proposal().source == b.proposal().source &&
         a.proposal().matches == b.proposal().matches && a.proposal().confidence == b.proposal().confidence;
}

bool HasTempFile(const fs::path& file) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(file.parent_path(), ec))
    if (e.path().filename().string().rfind(file.filename().string() + ".tmp-", 0) == 0) return true;
  return false;
}

TEST(AnnotationCrash, KilledAtRandomMomentsLosesAtMostTheLastChange) {
  const fs::path root = test::ScratchDir("kill");
  const AnnotationFiles files = AnnotationFilesFor(root, "scene", "Image0000");
  AnnotationSession start(kill::kN0, kill::kN1, kill::BaseProposal());
  std::mt19937 rng(20240611);
  constexpr int kTrials = 80, kChanges = 400;
  int killed_mid_save = 0, recovered_from_journal = 0, total_reported = 0;
  for (int t = 0; t < kTrials; ++t) {
    SCOPED_TRACE("trial " + std::to_string(t));
    const uint64_t seed = 1000 + static_cast<uint64_t>(t);
    // What the child's state is after each change, from the state the last trial left.
    std::vector<AnnotationSession> after;
    {
      AnnotationSession sim = start;
      sim.AttachJournal(fs::path());
      for (int k = 0; k < kChanges; ++k) {
        kill::ApplyChange(sim, seed, k);
        after.push_back(sim);
      }
    }
    Child c = Spawn(root, seed, kChanges);
    ASSERT_GT(c.pid, 0);
    std::string out;
    while (out.find("ready\n") == std::string::npos) {
      const size_t before = out.size();
      Drain(c.out, &out, false);
      ASSERT_GT(out.size(), before) << "the child ended before it was ready";
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 60000));
    ::kill(c.pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(c.pid, &status, 0), c.pid);
    Drain(c.out, &out, true);
    ::close(c.out);
    ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) << out;
    const int reported = ReportedChanges(out);
    total_reported += reported;
    killed_mid_save += HasTempFile(files.matches) || HasTempFile(files.review);

    // The SegMatching file is complete whenever it exists.
    if (fs::exists(files.matches)) EXPECT_NO_THROW(io::ReadMatchJson(files.matches, kill::kN0));
    AnnotationSession got(kill::kN0, kill::kN1, kill::BaseProposal());
    const OpenedAnnotation opened = OpenSavedAnnotation(&got, files);
    ASSERT_TRUE(opened.error.empty()) << opened.error;
    ASSERT_TRUE(opened.kept_aside.empty());
    recovered_from_journal += opened.journaled > 0;
    EXPECT_FALSE(HasTempFile(files.matches) || HasTempFile(files.review)) << "temp files of the dead child stay";
    const AnnotationSession& last_reported = reported == 0 ? start : after[static_cast<size_t>(reported - 1)];
    const bool in_flight = reported < kChanges && SameState(got, after[static_cast<size_t>(reported)]);
    ASSERT_TRUE(SameState(got, last_reported) || in_flight)
        << "reopened state is neither after change " << reported << " nor after the one in flight";
    got.AttachJournal(fs::path());
    start = got;
  }
  std::printf("%d kills: %d during a save (temp file left), %d recovered changes from the journal, %d changes\n",
              kTrials, killed_mid_save, recovered_from_journal, total_reported);
  // The test proves what it claims only if kills landed inside saves and between them.
  EXPECT_GT(killed_mid_save, 0);
  EXPECT_GT(recovered_from_journal, 0);
}

// A journal line cut short (the change being written when power went) is dropped and cut
// off, so that the next change starts a fresh line.
TEST(AnnotationCrash, TornJournalLineIsDroppedAndRepaired) {
  const fs::path root = test::ScratchDir("torn");
  const AnnotationFiles files = AnnotationFilesFor(root, "s", "f");
  MatchProposal p = ProposalFromGroundTruth({0, 1, 2}, 3);
  AnnotationSession s(3, 3, p);
  ASSERT_TRUE(OpenSavedAnnotation(&s, files).error.empty());
  s.Set(0, 2);
  s.Set(1, -1);
  {
    std::ofstream j(files.journal, std::ios::app | std::ios::binary);
    j << "{\"set\": [2, ";  // torn
  }
  AnnotationSession again(3, 3, p);
  const OpenedAnnotation o = OpenSavedAnnotation(&again, files);
  EXPECT_TRUE(o.error.empty()) << o.error;
  EXPECT_EQ(o.journaled, 2);
  EXPECT_EQ(again.matches(), (std::vector<int>{2, -1, 2}));
  EXPECT_TRUE(again.Dirty());
  again.Set(2, 0);
  AnnotationSession third(3, 3, p);
  EXPECT_TRUE(OpenSavedAnnotation(&third, files).error.empty());
  EXPECT_EQ(third.matches(), (std::vector<int>{2, -1, 0}));
  // A save makes the files complete and empties the journal.
  third.Save(files);
  EXPECT_FALSE(fs::exists(files.journal));
  EXPECT_EQ(io::ReadMatchJson(files.matches), (std::vector<int>{2, -1, 0}));
}

// A corrupt or foreign journal is reported and kept aside; the saved edits stay.
TEST(AnnotationCrash, BadJournalIsKeptAsideAndSavedEditsStay) {
  const fs::path root = test::ScratchDir("bad_journal");
  const AnnotationFiles files = AnnotationFilesFor(root, "s", "f");
  const MatchProposal p = ProposalFromGroundTruth({0, 1, 2}, 3);
  AnnotationSession s(3, 3, p);
  s.Set(0, -1);
  s.Save(files);
  for (const std::string bad : {std::string("{\"set\": [7, 1]}\n"), std::string("not json\n"),
                                std::string("{\"delete\": 1}\n")}) {
    SCOPED_TRACE(bad);
    WriteFileAtomic(files.journal, bad);
    AnnotationSession again(3, 3, p);
    const OpenedAnnotation o = OpenSavedAnnotation(&again, files);
    EXPECT_NE(o.error.find(files.journal.string()), std::string::npos) << o.error;
    ASSERT_EQ(o.kept_aside.size(), 1u);
    EXPECT_EQ(ReadFileText(o.kept_aside[0]), bad);
    EXPECT_TRUE(o.restored);
    EXPECT_EQ(again.matches(), (std::vector<int>{-1, 1, 2}));
    EXPECT_FALSE(fs::exists(files.journal));
  }
  // Three kept copies, none overwritten.
  EXPECT_TRUE(fs::exists(files.journal.string() + ".corrupt"));
  EXPECT_TRUE(fs::exists(files.journal.string() + ".corrupt-2"));
  EXPECT_TRUE(fs::exists(files.journal.string() + ".corrupt-3"));
}

// A foreign SegMatching file (other segment maps) is reported and moved aside with the
// review and journal, never overwritten by the next save.
TEST(AnnotationCrash, ForeignSavedFileIsKeptAsideNotOverwritten) {
  const fs::path root = test::ScratchDir("foreign");
  const AnnotationFiles files = AnnotationFilesFor(root, "s", "f");
  const std::string foreign = "{\"0\": [40], \"1\": [41]}";
  WriteFileAtomic(files.matches, foreign);
  WriteFileAtomic(files.journal, std::string("{\"set\": [0, 1]}\n"));
  const MatchProposal p = ProposalFromGroundTruth({0, 1, 2}, 3);
  AnnotationSession s(3, 3, p);
  const OpenedAnnotation o = OpenSavedAnnotation(&s, files);
  EXPECT_NE(o.error.find("out of range"), std::string::npos) << o.error;
  EXPECT_EQ(o.kept_aside.size(), 2u);
  EXPECT_FALSE(o.restored);
  EXPECT_EQ(s.matches(), p.matches);
  s.Set(1, 2);
  s.Save(files);
  EXPECT_EQ(ReadFileText(files.matches.string() + ".corrupt"), foreign);
  EXPECT_EQ(io::ReadMatchJson(files.matches), (std::vector<int>{0, 2, 2}));
}

// Temp files of a save cut short are removed when their process is gone, not otherwise.
TEST(AnnotationCrash, StaleTempFilesOfDeadProcessesAreRemoved) {
  const fs::path dir = test::ScratchDir("temps");
  const fs::path file = dir / "a.json";
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  WriteFileAtomic(fs::path(file.string() + ".tmp-" + std::to_string(dead)), std::string("half"));
  WriteFileAtomic(fs::path(file.string() + ".tmp-" + std::to_string(::getpid())), std::string("mine"));
  WriteFileAtomic(fs::path(file.string() + ".tmp-x1"), std::string("not a pid"));
  EXPECT_EQ(RemoveStaleTempFiles(file), 1);
  EXPECT_FALSE(fs::exists(file.string() + ".tmp-" + std::to_string(dead)));
  EXPECT_TRUE(fs::exists(file.string() + ".tmp-" + std::to_string(::getpid())));
  EXPECT_TRUE(fs::exists(file.string() + ".tmp-x1"));
}

}  // namespace
}  // namespace animerun::segments
