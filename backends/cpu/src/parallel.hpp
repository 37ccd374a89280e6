// OpenMP loops that never let an exception escape a parallel region (which would terminate the
// process): the first exception is captured and rethrown on the calling thread. A template, so the
// launch path of a small op neither allocates nor calls through std::function.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>

namespace plinth::cpu {

// Threads the OpenMP runtime will use (OMP_NUM_THREADS respected).
inline int max_threads() noexcept { return std::max(1, omp_get_max_threads()); }

// Calls body(begin, end) over [0, n) split into at most one chunk per thread, each of at least
// `grain` items; runs inline when there is only one chunk's work. body must be safe to run
// concurrently on disjoint ranges.
template <class Body>
void parallel_for(int64_t n, int64_t grain, const Body& body) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t chunks = std::min<int64_t>(max_threads(), (n + grain - 1) / grain);
  if (chunks <= 1 || omp_in_parallel()) {
    body(int64_t{0}, n);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
#pragma omp parallel for num_threads(static_cast <int>(chunks)) schedule(static, 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = n * c / chunks;
    const int64_t end = n * (c + 1) / chunks;
    try {
      body(begin, end);
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// Calls body(i) for every i in [0, n), handing items to threads one at a time as they free up.
// For tasks of very uneven cost (a ragged batch: one long sequence next to many short ones), where
// parallel_for's equal static ranges would leave threads idle. Runs inline for n <= 1.
template <class Body>
void parallel_for_dynamic(int64_t n, const Body& body) {
  if (n <= 0) return;
  const int64_t threads = std::min<int64_t>(max_threads(), n);
  if (threads <= 1 || omp_in_parallel()) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
#pragma omp parallel for num_threads(static_cast <int>(threads)) schedule(dynamic, 1)
  for (int64_t i = 0; i < n; ++i) {
    try {
      body(i);
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace plinth::cpu
