// bf16 <-> float on the raw 16-bit pattern, for the CPU kernels that read and write bf16
// buffers themselves: plain integer operations that compilers vectorise inside loops.
// Rounding to nearest even, as c10::BFloat16 and the AVX-512 BF16 conversion do.
#pragma once

#include <cstdint>
#include <cstring>

namespace animerun::models {

inline float Bf16BitsToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

inline uint16_t FloatToBf16Bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);  // NaN stays NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

}  // namespace animerun::models
