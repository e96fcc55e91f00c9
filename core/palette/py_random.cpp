#include "core/palette/py_random.h"

#include <algorithm>

#include "core/util/error.h"

namespace animerun::palette {

void PyRandom::Seed(uint64_t seed) {
  // Python: key = 32-bit words of abs(seed), least significant first ([0] for 0), then
  // init_by_array(key) as in the MT19937 reference code.
  std::vector<uint32_t> key;
  for (uint64_t s = seed; s != 0; s >>= 32) key.push_back(static_cast<uint32_t>(s & 0xffffffffu));
  if (key.empty()) key.push_back(0);

  mt_[0] = 19650218u;
  for (int i = 1; i < kN; ++i) mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<uint32_t>(i);
  int i = 1;
  size_t j = 0;
  for (size_t k = std::max<size_t>(kN, key.size()); k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[j] + static_cast<uint32_t>(j);
    ++i;
    ++j;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
    if (j >= key.size()) j = 0;
  }
  for (int k = kN - 1; k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - static_cast<uint32_t>(i);
    ++i;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000u;
  index_ = kN;
}

uint32_t PyRandom::NextU32() {
  constexpr uint32_t kUpper = 0x80000000u, kLower = 0x7fffffffu, kMatrixA = 0x9908b0dfu;
  if (index_ >= kN) {
    for (int k = 0; k < kN; ++k) {
      const uint32_t y = (mt_[k] & kUpper) | (mt_[(k + 1) % kN] & kLower);
      mt_[k] = mt_[(k + 397) % kN] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
    }
    index_ = 0;
  }
  uint32_t y = mt_[index_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

double PyRandom::Random() {
  const uint32_t a = NextU32() >> 5, b = NextU32() >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

uint32_t PyRandom::GetRandBits(int k) {
  if (k < 1 || k > 32) throw Error("GetRandBits: k must be in 1..32");
  return NextU32() >> (32 - k);
}

uint32_t PyRandom::RandBelow(uint32_t n) {
  if (n == 0) throw Error("RandBelow: empty range");
  int k = 0;
  for (uint32_t v = n; v; v >>= 1) ++k;  // n.bit_length()
  uint32_t r = GetRandBits(k);
  while (r >= n) r = GetRandBits(k);
  return r;
}

size_t ChooseIndex(const std::vector<double>& cum_weights, PyRandom* rng) {
  if (cum_weights.empty()) throw Error("ChooseIndex: no weights");
  const double total = cum_weights.back();
  if (!(total > 0.0)) throw Error("ChooseIndex: total weight is not positive");
  const double x = rng->Random() * total;
  const size_t hi = cum_weights.size() - 1;
  // bisect_right over [0, hi): the first index whose running sum exceeds x.
  return static_cast<size_t>(std::upper_bound(cum_weights.begin(), cum_weights.begin() + hi, x) - cum_weights.begin());
}

uint64_t SceneSeed(uint64_t seed, const std::string& scene) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](uint8_t byte) {
    h ^= byte;
    h *= 1099511628211ull;
  };
  for (int i = 0; i < 8; ++i) mix(static_cast<uint8_t>(seed >> (8 * i)));
  for (unsigned char c : scene) mix(c);
  return h;
}

}  // namespace animerun::palette
