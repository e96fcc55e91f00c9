// A tiny work-sharing loop for the palette tools: fn(item, worker) for items [0, n) on up
// to `threads` threads (0 = all cores). The first exception stops the remaining items and
// is rethrown on the calling thread, so a bad file never leaves threads running.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace animerun::palette {

inline int WorkerCount(int threads, size_t items) {
  const size_t n = threads > 0 ? static_cast<size_t>(threads) : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::max<size_t>(1, std::min(n, items)));
}

// fn(size_t item, int worker); worker is in [0, WorkerCount(threads, n)).
template <typename Fn>
void ParallelFor(size_t n, int threads, Fn fn) {
  const int workers = WorkerCount(threads, n);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&](int w) {
    try {
      for (size_t i; !failed.load() && (i = next.fetch_add(1)) < n;) fn(i, w);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed.store(true);
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace animerun::palette
