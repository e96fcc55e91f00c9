// Test-only, shared by annotation_crash_test.cpp and its child annotation_kill_child: the
// pair both sides annotate and the deterministic sequence of changes the child makes
// (edits, restores, a matcher's new proposal now and then, an autosave every few changes).
#pragma once

#include <cstdint>
#include <vector>

#include "core/segments/annotation.h"

namespace animerun::test::kill {

// Big enough that a save takes a while (the kill often lands inside one).
constexpr int kN0 = 3000;
constexpr int kN1 = 2800;
constexpr int kSaveEvery = 5;  // the panel's debounced autosave, in changes

inline segments::MatchProposal BaseProposal() {
  std::vector<int> gt(kN0);
  for (int i = 0; i < kN0; ++i) gt[static_cast<size_t>(i)] = (i * 7) % (kN1 + 1) - 1;
  return segments::ProposalFromGroundTruth(gt, kN0);
}

// splitmix64: the same numbers in the test and the child.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int Below(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
};

// Change k of the run with this seed, applied to session.
inline void ApplyChange(segments::AnnotationSession& session, uint64_t seed, int k) {
  Rng rng{seed * 1000003u + static_cast<uint64_t>(k)};
  const int kind = rng.Below(100);
  const int id = rng.Below(kN0);
  if (kind < 85) {
    session.Set(id, rng.Below(kN1 + 1) - 1);
  } else if (kind < 95) {
    session.Restore(id);
  } else {
    segments::MatchProposal p;
    p.source = "matcher" + std::to_string(k);
    p.matches.resize(kN0);
    p.confidence.resize(kN0);
    for (int i = 0; i < kN0; ++i) {
      p.matches[static_cast<size_t>(i)] = rng.Below(kN1 + 1) - 1;
      p.confidence[static_cast<size_t>(i)] = static_cast<float>(rng.Below(1000)) / 999.f;
    }
    session.ReplaceProposal(std::move(p));
  }
}

}  // namespace animerun::test::kill
