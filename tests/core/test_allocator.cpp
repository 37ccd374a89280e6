#include <gtest/gtest.h>

#include "test_support.hpp"

using plinth::DType;
using plinth::Tensor;
using plinth::test::CapturedLog;

namespace {

class AllocatorTest : public ::testing::Test {
 protected:
  AllocatorTest() : rt_(plinth::test::coretest_options(log_)), dev_(rt_.device("coretest:0")) {}
  CapturedLog log_;
  plinth::Runtime rt_;
  plinth::Device& dev_;
};

TEST(AllocatorSizeClass, PowersOfTwoThenMegabytes) {
  EXPECT_EQ(plinth::allocator_size_class(1), 256u);
  EXPECT_EQ(plinth::allocator_size_class(256), 256u);
  EXPECT_EQ(plinth::allocator_size_class(257), 512u);
  EXPECT_EQ(plinth::allocator_size_class(1000), 1024u);
  EXPECT_EQ(plinth::allocator_size_class(1u << 20), 1u << 20);
  EXPECT_EQ(plinth::allocator_size_class((1u << 20) + 1), 2u << 20);
  EXPECT_EQ(plinth::allocator_size_class((5u << 20) - 3), 5u << 20);
  EXPECT_EQ(plinth::allocator_size_class((5u << 20) + 3), 6u << 20);
}

TEST_F(AllocatorTest, ReusesFreedBlocksAndKeepsStats) {
  {
    auto a = dev_.allocate(1000);
    auto st = dev_.allocator_stats();
    EXPECT_EQ(st.bytes_in_use, 1024u);
    EXPECT_EQ(st.bytes_requested, 1000u);
    EXPECT_EQ(st.cache_misses, 1u);
  }
  auto st = dev_.allocator_stats();
  EXPECT_EQ(st.bytes_in_use, 0u);
  EXPECT_EQ(st.bytes_cached, 1024u);
  auto b = dev_.allocate(900);  // same class: served from the cache
  st = dev_.allocator_stats();
  EXPECT_EQ(st.cache_hits, 1u);
  EXPECT_EQ(st.plugin_allocations, 1u);
  EXPECT_EQ(st.bytes_cached, 0u);
  auto c = dev_.allocate(3000);  // another class: a miss
  st = dev_.allocator_stats();
  EXPECT_EQ(st.cache_misses, 2u);
  EXPECT_EQ(st.allocations, 3u);
  EXPECT_EQ(st.peak_bytes_in_use, 1024u + 4096u);
  c.reset();
  dev_.reset_peak_stats();
  EXPECT_EQ(dev_.allocator_stats().peak_bytes_in_use, 1024u);
  // Different memory kinds never share blocks.
  auto pinned = dev_.allocate(1000, {.kind = plinth::MemoryKind::host_pinned});
  EXPECT_EQ(dev_.allocator_stats().cache_misses, 3u);
}

TEST_F(AllocatorTest, StreamOrderedReuse) {
  auto s1 = dev_.create_stream();
  auto s2 = dev_.create_stream();
  {
    auto b = dev_.allocate(4096, {.stream = &s1});
    plinth::ops::fill(s1, Tensor::contiguous(b, DType::f32, {1024}), 1.0);
  }  // freed while the fill is still queued (coretest runs lazily)
  EXPECT_EQ(dev_.allocator_stats().bytes_cached, 4096u);

  // Another stream must not get the block before the event recorded at free time completed.
  auto other = dev_.allocate(4096, {.stream = &s2});
  EXPECT_EQ(dev_.allocator_stats().cache_hits, 0u);
  EXPECT_EQ(dev_.allocator_stats().plugin_allocations, 2u);
  other.reset();

  // The stream that freed it may reuse it at once: its later work is ordered after the fill.
  auto same = dev_.allocate(4096, {.stream = &s1});
  EXPECT_EQ(dev_.allocator_stats().cache_hits, 1u);
  same.reset();

  // Once the work has run, any stream may take it.
  s1.synchronize();
  auto after = dev_.allocate(4096, {.stream = &s2});
  auto after2 = dev_.allocate(4096, {.stream = &s2});
  EXPECT_EQ(dev_.allocator_stats().cache_hits, 3u);
  EXPECT_EQ(dev_.allocator_stats().plugin_allocations, 2u);
}

TEST_F(AllocatorTest, BufferUsedOnAnotherStreamWaitsForThatStream) {
  auto s1 = dev_.create_stream();
  auto s2 = dev_.create_stream();
  {
    auto b = dev_.allocate(4096, {.stream = &s1});
    plinth::ops::fill(s2, Tensor::contiguous(b, DType::f32, {1024}), 1.0);  // used on s2, not s1
  }
  auto again = dev_.allocate(4096, {.stream = &s1});
  EXPECT_EQ(dev_.allocator_stats().cache_hits, 0u) << "s2's pending work still uses the block";
  again.reset();
  s2.synchronize();
  auto now = dev_.allocate(4096, {.stream = &s1});
  EXPECT_EQ(dev_.allocator_stats().cache_hits, 1u);
}

TEST_F(AllocatorTest, OutOfMemoryFreesTheCacheAndRetries) {
  { auto big = dev_.allocate(40u << 20); }  // 40 MiB cached of the 64 MiB coretest device
  EXPECT_EQ(dev_.allocator_stats().bytes_cached, 40u << 20);
  auto other = dev_.allocate(30u << 20);  // does not fit next to the cached block
  const auto st = dev_.allocator_stats();
  EXPECT_EQ(st.oom_retries, 1u);
  EXPECT_EQ(st.bytes_cached, 0u);
  EXPECT_EQ(st.plugin_frees, 1u);
  // A request that cannot fit at all still fails, with the plugin's message.
  try {
    dev_.allocate(50u << 20);
    FAIL() << "expected OUT_OF_MEMORY";
  } catch (const plinth::Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_OUT_OF_MEMORY);
    EXPECT_NE(e.message().find("bytes requested"), std::string::npos) << e.what();
  }
  EXPECT_EQ(dev_.allocator_stats().oom_retries, 2u);
}

TEST_F(AllocatorTest, TrimAndEmptyCache) {
  {
    auto a = dev_.allocate(1u << 20);
    auto b = dev_.allocate(2u << 20);
    auto c = dev_.allocate(4096);
  }
  EXPECT_EQ(dev_.allocator_stats().bytes_cached, (3u << 20) + 4096);
  dev_.trim_cache(2u << 20);
  EXPECT_LE(dev_.allocator_stats().bytes_cached, 2u << 20);
  dev_.empty_cache();
  EXPECT_EQ(dev_.allocator_stats().bytes_cached, 0u);
  EXPECT_EQ(dev_.allocator_stats().plugin_frees, 3u);
}

TEST_F(AllocatorTest, UnpooledBuffersGoBackToThePlugin) {
  { auto a = dev_.allocate(1000, {.pooled = false}); }
  const auto st = dev_.allocator_stats();
  EXPECT_EQ(st.bytes_cached, 0u);
  EXPECT_EQ(st.plugin_frees, 1u);
}

TEST_F(AllocatorTest, RejectsBadRequests) {
  EXPECT_THROW(dev_.allocate(0), plinth::Error);
  EXPECT_THROW(dev_.allocate(16, {.alignment = 48}), plinth::Error);
}

}  // namespace
