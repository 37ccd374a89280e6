// Parallel loops over the plugin's own thread pool (thread_pool.hpp), which never lets an exception
// escape a worker: the first exception is captured and rethrown on the calling thread. A template, so
// the launch path of a small op neither allocates nor calls through std::function.
#pragma once

#include <algorithm>
#include <cstdint>

#include "thread_pool.hpp"

namespace plinth::cpu {

// Threads the pool uses, the caller included (OMP_NUM_THREADS respected).
inline int max_threads() noexcept { return ThreadPool::instance().threads(); }

// Calls body(begin, end) over disjoint ranges covering [0, n), each of at least `grain` items; runs
// inline when there is only one grain's work (a small launch never wakes the pool). body must be
// safe to run concurrently on disjoint ranges, and its result must not depend on how [0, n) is cut.
template <class Body>
void parallel_for(int64_t n, int64_t grain, const Body& body) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t tasks = (n + grain - 1) / grain;
  if (tasks <= 1 || ThreadPool::in_job()) {
    body(int64_t{0}, n);
    return;
  }
  ThreadPool& pool = ThreadPool::instance();
  const int64_t chunks = std::min({tasks, pool.threads() * pool.chunks_per_thread(), ThreadPool::kMaxChunks});
  pool.run(
      n, chunks,
      [](const void* b, int64_t begin, int64_t end) { (*static_cast<const Body*>(b))(begin, end); }, &body);
}

// Calls body(i) for every i in [0, n), handing items to threads one at a time as they free up.
// For tasks of very uneven cost (a ragged batch: one long sequence next to many short ones), where
// parallel_for's equal ranges would leave threads idle. The pool already claims chunks from one
// counter, so one item per chunk is all the dynamic scheduling needed. Runs inline for n <= 1.
template <class Body>
void parallel_for_dynamic(int64_t n, const Body& body) {
  if (n <= 0) return;
  if (n == 1 || max_threads() <= 1 || ThreadPool::in_job()) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  const int64_t chunks = std::min(n, ThreadPool::kMaxChunks);
  ThreadPool::instance().run(
      n, chunks,
      [](const void* b, int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) (*static_cast<const Body*>(b))(i);
      },
      &body);
}

}  // namespace plinth::cpu
