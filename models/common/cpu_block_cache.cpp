#include "models/common/cpu_block_cache.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "models/common/torch_compat.h"

namespace animerun::models {

bool CpuBlockCacheOptions::Check() const {
  return min_block_bytes > 0 && slack_divisor > 0 && max_footprint_ratio >= 1.0;
}

namespace {

class CpuBlockCache final : public c10::Allocator {
 public:
  void SetOptions(const CpuBlockCacheOptions& options) {
    std::lock_guard<std::mutex> lock(mutex_);
    options_ = options;
    TrimLocked(options_.max_cached_bytes);
  }

#if ANIMERUN_TORCH_AT_LEAST(2, 3)
  c10::DataPtr allocate(size_t n) override { return Allocate(n); }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
#else
  c10::DataPtr allocate(size_t n) const override { return Allocate(n); }
#endif
  c10::DeleterFnPtr raw_deleter() const override { return &Free; }

  CpuBlockCacheStats Stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    TrimLocked(0);
    peak_live_bytes_ = stats_.live_bytes;
  }

  // The deleter of every block this allocator hands out (data and context are the same
  // pointer, as raw_deleter requires).
  static void Free(void* ptr);

 private:
  c10::DataPtr Allocate(size_t n) const {
    void* ptr = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (n >= options_.min_block_bytes) ptr = TakeLocked(n);
    }
    if (!ptr) {
      ptr = c10::alloc_cpu(n);  // throws c10::Error when out of memory; nothing recorded yet
      if (n >= options_.min_block_bytes) {
        std::lock_guard<std::mutex> lock(mutex_);
        NoteLiveLocked(ptr, n);
      }
    }
    return {ptr, ptr, &Free, c10::Device(c10::DeviceType::CPU)};
  }

  // A cached block for n bytes, or nullptr after making room for a fresh one: the caller
  // allocates outside the lock.
  void* TakeLocked(size_t n) const {
    auto it = cached_.lower_bound(n);
    if (it != cached_.end() && it->first - n <= n / options_.slack_divisor) {
      void* ptr = it->second;
      const size_t size = it->first;
      cached_.erase(it);
      stats_.cached_bytes -= size;
      NoteLiveLocked(ptr, size);
      ++stats_.hits;
      return ptr;
    }
    ++stats_.misses;
    // Give back cached blocks (largest first) until live + cached + n fits under the
    // footprint limit: max_footprint_ratio times the most ever live, or live + n where that is
    // more (a new high, which the plain allocator would need as well).
    const size_t limit = std::max(static_cast<size_t>(static_cast<double>(peak_live_bytes_) * options_.max_footprint_ratio),
                                  stats_.live_bytes + n);
    TrimLocked(limit - stats_.live_bytes - n);
    return nullptr;
  }

  void NoteLiveLocked(void* ptr, size_t size) const {
    live_[ptr] = size;
    stats_.live_bytes += size;
    peak_live_bytes_ = std::max(peak_live_bytes_, stats_.live_bytes);
  }

  void Return(void* ptr) const {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = live_.find(ptr);
      if (it != live_.end()) {
        const size_t size = it->second;
        live_.erase(it);
        stats_.live_bytes -= size;
        if (stats_.cached_bytes + size <= options_.max_cached_bytes) {
          cached_.emplace(size, ptr);
          stats_.cached_bytes += size;
          return;
        }
        ++stats_.evicted;
      }
    }
    c10::free_cpu(ptr);
  }

  // Frees cached blocks, largest first, until at most keep_bytes stay cached.
  void TrimLocked(size_t keep_bytes) const {
    while (stats_.cached_bytes > keep_bytes && !cached_.empty()) {
      auto largest = std::prev(cached_.end());
      stats_.cached_bytes -= largest->first;
      c10::free_cpu(largest->second);
      cached_.erase(largest);
      ++stats_.evicted;
    }
  }

  // c10::Allocator::allocate is const in LibTorch 1.13: the state is mutable.
  mutable std::mutex mutex_;
  CpuBlockCacheOptions options_;
  mutable std::multimap<size_t, void*> cached_;      // size -> freed block
  mutable std::unordered_map<void*, size_t> live_;   // large blocks in use -> size
  mutable CpuBlockCacheStats stats_;
  mutable size_t peak_live_bytes_ = 0;  // the most large-block bytes ever live at once
};

// Never destroyed: tensors freed during static destruction still call Free.
CpuBlockCache* g_cache = nullptr;
std::once_flag g_cache_once;

void CpuBlockCache::Free(void* ptr) {
  if (ptr == nullptr) return;
  g_cache->Return(ptr);
}

}  // namespace

void InstallCpuBlockCache(const CpuBlockCacheOptions& options) {
  if (!options.Check()) throw std::invalid_argument("CpuBlockCacheOptions: min_block_bytes and slack_divisor must be > 0, max_footprint_ratio >= 1");
  std::call_once(g_cache_once, [] { g_cache = new CpuBlockCache(); });
  g_cache->SetOptions(options);
  // Priority above the default allocator's (0), so a later default registration cannot
  // replace it.
  c10::SetCPUAllocator(g_cache, /*priority=*/10);
}

bool CpuBlockCacheInstalled() { return g_cache != nullptr && c10::GetCPUAllocator() == g_cache; }

CpuBlockCacheStats GetCpuBlockCacheStats() { return g_cache ? g_cache->Stats() : CpuBlockCacheStats{}; }

void ReleaseCpuBlockCache() {
  if (g_cache) g_cache->Release();
}

}  // namespace animerun::models
