// The CPU backend's thread pool (backends/cpu/src/thread_pool.hpp), compiled into the test: every
// index is run exactly once whatever the chunking, exceptions reach the caller, nested and concurrent
// callers run inline, and sleeping workers wake for the next job. No timing is asserted.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "parallel.hpp"
#include "thread_pool.hpp"

namespace plinth::cpu {
namespace {

// Runs the pool over [0, n) in `chunks` pieces and returns how often each index was visited.
std::vector<int> visits(ThreadPool& pool, int64_t n, int64_t chunks) {
  std::vector<std::atomic<int>> count(static_cast<size_t>(n));
  auto body = [&](int64_t begin, int64_t end) {
    ASSERT_LE(0, begin);
    ASSERT_LE(begin, end);
    ASSERT_LE(end, n);
    for (int64_t i = begin; i < end; ++i) count[static_cast<size_t>(i)].fetch_add(1);
  };
  pool.run(
      n, chunks,
      [](const void* b, int64_t begin, int64_t end) { (*static_cast<const decltype(body)*>(b))(begin, end); },
      &body);
  std::vector<int> out;
  for (auto& c : count) out.push_back(c.load());
  return out;
}

class ThreadPoolTest : public ::testing::TestWithParam<int> {};  // spin in microseconds

TEST_P(ThreadPoolTest, EveryIndexRunsExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads, GetParam());
    EXPECT_EQ(pool.threads(), threads);
    for (int64_t n : {1, 2, 7, 64, 1000, 100003}) {
      for (int64_t chunks : {int64_t{1}, int64_t{2}, int64_t{5}, int64_t{32}, n, ThreadPool::kMaxChunks}) {
        if (chunks > n) continue;
        const auto v = visits(pool, n, chunks);
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(v[static_cast<size_t>(i)], 1)
              << "threads " << threads << " n " << n << " chunks " << chunks;
        }
      }
    }
  }
}

TEST_P(ThreadPoolTest, ManySmallJobsWithSleepingWorkers) {
  ThreadPool pool(4, GetParam());
  for (int job = 0; job < 3000; ++job) {
    std::atomic<int64_t> sum{0};
    auto body = [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) sum.fetch_add(i);
    };
    pool.run(
        16, 16,
        [](const void* b, int64_t begin, int64_t end) {
          (*static_cast<const decltype(body)*>(b))(begin, end);
        },
        &body);
    ASSERT_EQ(sum.load(), 120) << "job " << job;
    if (job % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let the workers sleep
  }
}

TEST_P(ThreadPoolTest, ExceptionReachesTheCallerAndThePoolStaysUsable) {
  ThreadPool pool(3, GetParam());
  std::atomic<int> ran{0};
  auto body = [&](int64_t begin, int64_t end) {
    ran.fetch_add(static_cast<int>(end - begin));
    if (begin <= 5 && 5 < end) throw std::runtime_error("chunk failed");
  };
  EXPECT_THROW(pool.run(
                   12, 12,
                   [](const void* b, int64_t begin, int64_t end) {
                     (*static_cast<const decltype(body)*>(b))(begin, end);
                   },
                   &body),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 12);  // the other chunks still ran
  const auto v = visits(pool, 500, 20);
  for (int x : v) ASSERT_EQ(x, 1);
}

TEST_P(ThreadPoolTest, ConcurrentAndNestedCallersComplete) {
  ThreadPool pool(2, GetParam());
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int job = 0; job < 200; ++job) {
        std::atomic<int64_t> sum{0};
        auto inner = [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) sum.fetch_add(i);
        };
        // A nested job from inside a chunk runs inline on that thread.
        auto outer = [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) {
            pool.run(
                10, 5,
                [](const void* b, int64_t b0, int64_t b1) {
                  (*static_cast<const decltype(inner)*>(b))(b0, b1);
                },
                &inner);
          }
        };
        pool.run(
            8, 4,
            [](const void* b, int64_t b0, int64_t b1) { (*static_cast<const decltype(outer)*>(b))(b0, b1); },
            &outer);
        if (sum.load() != 8 * 45) failures.fetch_add(1);
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(failures.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Spin, ThreadPoolTest, ::testing::Values(0, 50, 2000),
                         [](const auto& p) { return "spin" + std::to_string(p.param) + "us"; });

// parallel_for over the plugin's own pool: the cut follows the grain, every item exactly once.
TEST(ParallelForTest, CoversTheRangeAndRethrows) {
  for (int64_t n : {0, 1, 5, 1000, 65537}) {
    for (int64_t grain : {1, 7, 4096}) {
      std::vector<std::atomic<int>> count(static_cast<size_t>(n));
      parallel_for(n, grain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) count[static_cast<size_t>(i)].fetch_add(1);
      });
      for (auto& c : count) ASSERT_EQ(c.load(), 1) << "n " << n << " grain " << grain;
    }
  }
  EXPECT_THROW(parallel_for(100, 1,
                            [](int64_t begin, int64_t) {
                              if (begin == 0) throw std::logic_error("first chunk");
                            }),
               std::logic_error);
}

}  // namespace
}  // namespace plinth::cpu
