// The trainer's random source: a 64-bit Mersenne Twister whose whole state goes into the
// checkpoint, so that a resumed run draws exactly the numbers an uninterrupted one would.
// Draws avoid std::*_distribution (their algorithms differ between standard libraries).
#pragma once

#include <cstdint>
#include <random>
#include <sstream>
#include <string>

#include "core/util/error.h"

namespace animerun::train {

class TrainRng {
 public:
  explicit TrainRng(uint64_t seed = 0) : engine_(seed) {}
  uint64_t Next() { return engine_(); }
  // Uniform integer in [0, n) for n >= 1 (modulo bias below 2^-40 for the sizes used here).
  int64_t Below(int64_t n) { return n <= 1 ? 0 : static_cast<int64_t>(engine_() % static_cast<uint64_t>(n)); }
  // Uniform double in [0, 1).
  double Uniform() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }

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

}  // namespace animerun::train
