// A CPU allocator for LibTorch that keeps freed large blocks for reuse.
//
// The networks allocate and free the same full-resolution maps on every pass (AnT at
// 960x540: 66, 133 and 265 MB per image). glibc maps every block over its 32 MiB mmap
// threshold afresh and unmaps it on free, so each pass pays the kernel to zero the pages again
// (perf, AnT 400 segments 540x960: a fifth of the samples in clear_page). This allocator
// keeps freed blocks of at least `min_block_bytes` and hands them out again to requests of
// nearly the same size. Its memory is bounded by the program's own need: on a miss it gives
// back cached blocks until live plus cached bytes stay within max_footprint_ratio of the
// most ever live at once (AnT's encoder frees its 63 MB map before allocating the 253 MB
// one: keeping both takes 1.17 times its peak, and then no pass after the second maps fresh
// memory).
#pragma once

#include <cstddef>
#include <cstdint>

namespace animerun::models {

struct CpuBlockCacheOptions {
  // Blocks smaller than this go straight to LibTorch's default CPU allocator (glibc's heap
  // already reuses them).
  size_t min_block_bytes = size_t{8} << 20;
  // At most this many bytes of freed blocks are kept; frees beyond it return memory.
  size_t max_cached_bytes = size_t{2} << 30;
  // A cached block serves a request of n bytes when its size is in [n, n + n / slack_divisor]:
  // at most 1/8 of a reused block is wasted.
  size_t slack_divisor = 8;
  // Live plus cached large-block bytes stay under this multiple of the most ever live at once
  // (or the new live total, where a request sets a new high). 1 = never above the plain
  // allocator's peak.
  double max_footprint_ratio = 1.25;

  bool Check() const;  // min_block_bytes > 0, slack_divisor > 0, max_footprint_ratio >= 1
};

struct CpuBlockCacheStats {
  int64_t hits = 0;          // allocations served from the cache
  int64_t misses = 0;        // large allocations that needed fresh memory
  int64_t evicted = 0;       // cached blocks given back to make room for a miss or over the cap
  size_t cached_bytes = 0;   // bytes in freed blocks held now
  size_t live_bytes = 0;     // bytes of large blocks in use now
};

// Makes the block cache LibTorch's CPU allocator for the rest of the process (tensors made
// before keep their own deleters). Calling it again changes the options. Command-line runs
// install it; a GUI session, idle most of the time, does not keep memory it is not using.
void InstallCpuBlockCache(const CpuBlockCacheOptions& options = {});
bool CpuBlockCacheInstalled();
CpuBlockCacheStats GetCpuBlockCacheStats();
// Gives every cached block back to the system and starts the footprint limit afresh from
// the bytes live now.
void ReleaseCpuBlockCache();

}  // namespace animerun::models
