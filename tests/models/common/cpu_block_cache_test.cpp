#include "models/common/cpu_block_cache.h"

#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <random>
#include <vector>

namespace animerun::models {
namespace {

constexpr size_t kCacheMiB = size_t{1} << 20;

// Floats making up `bytes` bytes.
int64_t CacheFloats(size_t bytes) { return static_cast<int64_t>(bytes / sizeof(float)); }

class CpuBlockCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CpuBlockCacheOptions options;
    options.min_block_bytes = kCacheMiB;
    options.max_cached_bytes = 64 * kCacheMiB;
    options.max_footprint_ratio = 1.0;  // the strict bound; one test below uses more
    InstallCpuBlockCache(options);
    ReleaseCpuBlockCache();
  }
  void TearDown() override { ReleaseCpuBlockCache(); }
};

TEST_F(CpuBlockCacheTest, IsLibTorchsCpuAllocatorOnceInstalled) {
  EXPECT_TRUE(CpuBlockCacheInstalled());
  const auto before = GetCpuBlockCacheStats();
  { torch::Tensor t = torch::empty({CacheFloats(4 * kCacheMiB)}); }
  const auto after = GetCpuBlockCacheStats();
  EXPECT_EQ(after.hits + after.misses, before.hits + before.misses + 1);
  EXPECT_EQ(after.cached_bytes, 4 * kCacheMiB);
}

TEST_F(CpuBlockCacheTest, AFreedBlockServesTheNextRequestOfNearlyItsSize) {
  void* first = nullptr;
  {
    torch::Tensor t = torch::empty({CacheFloats(4 * kCacheMiB)});
    first = t.data_ptr();
  }
  const auto before = GetCpuBlockCacheStats();
  torch::Tensor same = torch::empty({CacheFloats(4 * kCacheMiB)});
  EXPECT_EQ(same.data_ptr(), first);
  same.reset();
  // 3.75 MiB: the 4 MiB block wastes less than 1/8 of the request, so it is reused.
  torch::Tensor smaller = torch::empty({CacheFloats(4 * kCacheMiB - kCacheMiB / 4)});
  EXPECT_EQ(smaller.data_ptr(), first);
  EXPECT_EQ(GetCpuBlockCacheStats().hits, before.hits + 2);
  // Reused memory is ordinary memory: values written are the values read.
  smaller.fill_(2.0f);
  EXPECT_DOUBLE_EQ(smaller.sum().item<double>(), 2.0 * smaller.numel());
}

TEST_F(CpuBlockCacheTest, AMissGivesBackCachedBytesBeforeAllocating) {
  { torch::Tensor big = torch::empty({CacheFloats(8 * kCacheMiB)}); }
  EXPECT_EQ(GetCpuBlockCacheStats().cached_bytes, 8 * kCacheMiB);
  // 2 MiB is far smaller than the cached 8 MiB block: not reused (it would waste 3/4), and
  // the cached block is released, so the process holds no more than before.
  const auto before = GetCpuBlockCacheStats();
  torch::Tensor small = torch::empty({CacheFloats(2 * kCacheMiB)});
  const auto after = GetCpuBlockCacheStats();
  EXPECT_EQ(after.misses, before.misses + 1);
  EXPECT_EQ(after.cached_bytes, 0u);
  EXPECT_EQ(after.live_bytes, 2 * kCacheMiB);
}

TEST_F(CpuBlockCacheTest, OptionsAreChecked) {
  CpuBlockCacheOptions options;
  EXPECT_TRUE(options.Check());
  options.max_footprint_ratio = 0.5;
  EXPECT_FALSE(options.Check());
  EXPECT_THROW(InstallCpuBlockCache(options), std::invalid_argument);
  options = {};
  options.slack_divisor = 0;
  EXPECT_FALSE(options.Check());
}

TEST_F(CpuBlockCacheTest, CachedBytesStayUnderTheCap) {
  {
    std::vector<torch::Tensor> blocks;
    for (int i = 0; i < 3; ++i) blocks.push_back(torch::empty({CacheFloats(30 * kCacheMiB)}));
  }
  const auto stats = GetCpuBlockCacheStats();
  EXPECT_LE(stats.cached_bytes, 64 * kCacheMiB);
  EXPECT_EQ(stats.cached_bytes, 60 * kCacheMiB);  // two of the three fit
  ReleaseCpuBlockCache();
  EXPECT_EQ(GetCpuBlockCacheStats().cached_bytes, 0u);
}

TEST_F(CpuBlockCacheTest, SmallTensorsBypassTheCache) {
  const auto before = GetCpuBlockCacheStats();
  {
    torch::Tensor a = torch::ones({1000});
    torch::Tensor b = a * 3;
    EXPECT_FLOAT_EQ(b.sum().item<float>(), 3000.0f);
  }
  const auto after = GetCpuBlockCacheStats();
  EXPECT_EQ(after.hits, before.hits);
  EXPECT_EQ(after.misses, before.misses);
  EXPECT_EQ(after.cached_bytes, before.cached_bytes);
}

TEST_F(CpuBlockCacheTest, LiveAndCachedBytesNeverExceedThePeakOfLiveBytes) {
  // Random allocations and frees of large blocks: the cache must never make the process
  // hold more than the plain allocator would at its peak.
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> size_mib(1, 24), action(0, 2);
  std::vector<torch::Tensor> live;
  size_t live_bytes = 0, peak_live = 0;
  size_t max_total_seen = 0;
  for (int step = 0; step < 400; ++step) {
    if (live.empty() || action(rng) != 0) {
      const size_t bytes = static_cast<size_t>(size_mib(rng)) * kCacheMiB;
      live.push_back(torch::empty({CacheFloats(bytes)}));
      live_bytes += bytes;
    } else {
      const size_t i = rng() % live.size();
      live_bytes -= static_cast<size_t>(live[i].numel()) * sizeof(float);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    }
    if (live.size() > 12) {  // keep the working set bounded
      live_bytes -= static_cast<size_t>(live.front().numel()) * sizeof(float);
      live.erase(live.begin());
    }
    peak_live = std::max(peak_live, live_bytes);
    const auto stats = GetCpuBlockCacheStats();
    max_total_seen = std::max(max_total_seen, stats.live_bytes + stats.cached_bytes);
    // A reused block may be up to 1/8 larger than its request.
    ASSERT_GE(stats.live_bytes, live_bytes) << "step " << step;
    ASSERT_LE(stats.live_bytes, live_bytes + live_bytes / 8) << "step " << step;
  }
  EXPECT_GT(GetCpuBlockCacheStats().hits, 0);
  // live_bytes counts the blocks' real sizes, which may exceed the requests by up to 1/8.
  EXPECT_LE(max_total_seen, peak_live + peak_live / 8);
}

TEST_F(CpuBlockCacheTest, AFootprintAboveThePeakLetsAnEncoderReuseEveryMap) {
  // AnT's encoder per image (scaled from 63 / 127 / 253 MB): conv1's map, conv2's, conv1's
  // freed, conv3's, conv2's freed, conv3's freed. Its peak is conv2 + conv3; keeping all
  // three needs 7/6 of that.
  CpuBlockCacheOptions options;
  options.min_block_bytes = kCacheMiB;
  options.max_footprint_ratio = 1.25;
  InstallCpuBlockCache(options);
  ReleaseCpuBlockCache();
  auto image = [] {
    torch::Tensor a = torch::empty({CacheFloats(2 * kCacheMiB)});
    torch::Tensor b = torch::empty({CacheFloats(4 * kCacheMiB)});
    a.reset();
    torch::Tensor c = torch::empty({CacheFloats(8 * kCacheMiB)});
    b.reset();
  };
  image();
  image();
  const auto before = GetCpuBlockCacheStats();
  for (int i = 0; i < 3; ++i) image();
  const auto after = GetCpuBlockCacheStats();
  EXPECT_EQ(after.misses, before.misses);  // no fresh memory from the third image on
  EXPECT_EQ(after.hits, before.hits + 9);
  EXPECT_EQ(after.cached_bytes, 14 * kCacheMiB);  // 7/6 of the 12 MiB peak

  // The strict bound keeps only what fits under the peak: conv1's map is given back each time.
  options.max_footprint_ratio = 1.0;
  InstallCpuBlockCache(options);
  ReleaseCpuBlockCache();
  image();
  const auto strict_before = GetCpuBlockCacheStats();
  image();
  EXPECT_GT(GetCpuBlockCacheStats().misses, strict_before.misses);
  EXPECT_LE(GetCpuBlockCacheStats().cached_bytes, 12 * kCacheMiB);
}

TEST_F(CpuBlockCacheTest, RawAllocateAndDeallocateRoundTrip) {
  c10::Allocator* allocator = c10::GetCPUAllocator();
  void* p = allocator->raw_allocate(4 * kCacheMiB);
  ASSERT_NE(p, nullptr);
  static_cast<char*>(p)[4 * kCacheMiB - 1] = 1;
  allocator->raw_deallocate(p);
  EXPECT_EQ(GetCpuBlockCacheStats().cached_bytes, 4 * kCacheMiB);
}

}  // namespace
}  // namespace animerun::models
