// A Mersenne Twister (MT19937) that reproduces Python's `random` module bit for bit for the
// calls the palette sampler uses: random.seed(int), random(), getrandbits(k <= 32),
// choice() and choices(). Our own generator, not std:: distributions, so that a seed gives
// the same colours on every platform and the sampling can be replayed in Python.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace animerun::palette {

class PyRandom {
 public:
  // random.seed(seed) for a non-negative integer seed (init_by_array over its 32-bit words).
  explicit PyRandom(uint64_t seed = 0) { Seed(seed); }
  void Seed(uint64_t seed);

  uint32_t NextU32();           // genrand_uint32
  double Random();              // random(): 53-bit float in [0, 1)
  uint32_t GetRandBits(int k);  // getrandbits(k), 1 <= k <= 32
  uint32_t RandBelow(uint32_t n);  // _randbelow(n), n >= 1: what choice() uses

 private:
  static constexpr int kN = 624;
  std::array<uint32_t, kN> mt_{};
  int index_ = kN;
};

// Python's random.choices(population, weights, k=1) index: bisect_right(cum_weights,
// random() * total, 0, n - 1) with total = cum_weights.back(). cum_weights must be the
// running sums of positive weights (as itertools.accumulate gives them).
size_t ChooseIndex(const std::vector<double>& cum_weights, PyRandom* rng);

// The seed of one film cut: FNV-1a (64-bit) over the 8 little-endian bytes of seed followed
// by the scene name's bytes. Each cut gets its own stream, so recolouring one scene gives
// the same colours whether or not the other scenes are processed.
uint64_t SceneSeed(uint64_t seed, const std::string& scene);

}  // namespace animerun::palette
