#pragma once
// The host's byte order, for the readers and writers of binary formats with a fixed one.

namespace animerun {

constexpr bool kHostLittleEndian =
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    false;
#else
    true;
#endif

}  // namespace animerun
