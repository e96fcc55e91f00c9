// A reproducible random source: a 64-bit Mersenne Twister whose whole state can be saved
// (training checkpoints) and restored, so a resumed run draws exactly the numbers an
// uninterrupted one would. Draws avoid std::*_distribution (their algorithms differ
// between standard libraries), so a seed gives the same numbers everywhere.
#pragma once

#include <cstdint>
#include <random>
#include <sstream>
#include <string>

#include "core/util/error.h"

namespace animerun {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : engine_(seed) {}
  uint64_t Next() { return engine_(); }
  // Uniform integer in [0, n) for n >= 1 (modulo bias below 2^-40 for the sizes used here).
  int64_t Below(int64_t n) { return n <= 1 ? 0 : static_cast<int64_t>(engine_() % static_cast<uint64_t>(n)); }
  // Uniform integer in [lo, hi) (numpy's randint(lo, hi)); lo when hi <= lo + 1.
  int64_t Randint(int64_t lo, int64_t hi) { return lo + Below(hi - lo); }
  // Uniform double in [0, 1).
  double Uniform() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }
  // Uniform double in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // True with probability p (numpy's rand() < p).
  bool Chance(double p) { return Uniform() < p; }

  std::string Serialize() const {
    std::ostringstream s;
    s << engine_;
    return s.str();
  }
  void Deserialize(const std::string& state) {
    std::istringstream s(state);
    std::mt19937_64 e;
    s >> e;
    if (s.fail()) throw Error("random generator state: unreadable");
    engine_ = e;
  }

 private:
  std::mt19937_64 engine_;
};

// A well-mixed 64-bit seed from several integers (splitmix64 steps), for per-sample
// generators keyed by (seed, step, index): nearby keys give unrelated streams.
inline uint64_t MixSeed(uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  auto mix = [](uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return mix(mix(mix(a) ^ b) ^ c);
}

}  // namespace animerun
