// The child of AnnotationCrash.KilledAtRandomMomentsLosesAtMostTheLastChange: opens a pair's
// annotation as the panel does, makes the changes of annotation_kill_ops.h with an autosave
// every few, and prints "k" on stdout once change k is applied (then it may be killed).
//   annotation_kill_child ROOT SEED CHANGES
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/segments/annotation.h"
#include "tests/core/segments/annotation_kill_ops.h"

int main(int argc, char** argv) {
  using namespace animerun;
  if (argc != 4) {
    std::fprintf(stderr, "usage: annotation_kill_child ROOT SEED CHANGES\n");
    return 2;
  }
  const std::string root = argv[1];
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const int changes = std::atoi(argv[3]);
  try {
    segments::AnnotationSession session(test::kill::kN0, test::kill::kN1, test::kill::BaseProposal());
    const segments::AnnotationFiles files = segments::AnnotationFilesFor(root, "scene", "Image0000");
    const segments::OpenedAnnotation opened = segments::OpenSavedAnnotation(&session, files);
    if (!opened.error.empty()) {
      std::fprintf(stderr, "annotation_kill_child: %s\n", opened.error.c_str());
      return 3;
    }
    std::printf("ready\n");
    std::fflush(stdout);
    for (int k = 0; k < changes; ++k) {
      test::kill::ApplyChange(session, seed, k);
      std::printf("%d\n", k);
      std::fflush(stdout);
      if ((k + 1) % test::kill::kSaveEvery == 0) session.Save(files);
    }
    session.Save(files);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "annotation_kill_child: %s\n", e.what());
    return 1;
  }
  return 0;
}
