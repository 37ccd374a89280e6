#include "thread_pool.hpp"

#include <linux/futex.h>
#include <omp.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <string>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PLINTH_CPU_RELAX() _mm_pause()
#else
#define PLINTH_CPU_RELAX() ((void)0)
#endif

namespace plinth::cpu {
namespace {

thread_local bool tl_in_job = false;

// How long a wait spins on the CPU before it starts yielding it.
constexpr int64_t kPureSpinNs = 3000;

void futex_wait(std::atomic<uint32_t>& word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}
void futex_wake(std::atomic<uint32_t>& word, int count) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

constexpr uint32_t epoch_of(uint64_t job) { return static_cast<uint32_t>(job >> 32); }
constexpr int64_t chunks_of(uint64_t job) { return static_cast<int64_t>((job >> 16) & 0xffff); }
constexpr int64_t next_of(uint64_t job) { return static_cast<int64_t>(job & 0xffff); }

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int env_int(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (end == v) return fallback;
  return static_cast<int>(std::clamp<long>(x, lo, hi));
}

}  // namespace

ThreadPool::ThreadPool(int threads, int spin_us)
    : threads_(std::clamp(threads, 1, 1024)), spin_ns_(int64_t{std::max(0, spin_us)} * 1000) {
  workers_.reserve(static_cast<size_t>(threads_ - 1));
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { worker_main(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_seq_cst);
  wake_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake(wake_, INT_MAX);
  for (std::thread& t : workers_) t.join();
}

ThreadPool& ThreadPool::instance() {
  // omp_get_max_threads() honours OMP_NUM_THREADS and the affinity mask, as oneDNN's count does.
  static ThreadPool pool(std::max(1, omp_get_max_threads()),
                         env_int("PLINTH_CPU_SPIN_US", kDefaultSpinUs, 0, 1000000));
  return pool;
}

bool ThreadPool::in_job() noexcept { return tl_in_job; }

bool ThreadPool::spin_until(const auto& ready) const {
  if (ready()) return true;
  if (spin_ns_ <= 0) return false;
  const int64_t start = now_ns();
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      PLINTH_CPU_RELAX();
      if (ready()) return true;
    }
    const int64_t elapsed = now_ns() - start;
    if (elapsed >= spin_ns_) return ready();
    // Past the first microseconds the spin gives way to any other runnable thread on this core (the
    // caller of the next job, or another process): on an idle machine sched_yield returns at once.
    if (elapsed >= kPureSpinNs) sched_yield();
  }
}

void ThreadPool::run_chunk(int64_t index, int64_t chunks) {
  const int64_t n = n_.load(std::memory_order_relaxed);
  const ChunkFn fn = fn_.load(std::memory_order_relaxed);
  const void* body = body_.load(std::memory_order_relaxed);
  try {
    fn(body, n * index / chunks, n * (index + 1) / chunks);
  } catch (...) {
    std::lock_guard lock(error_mutex_);
    if (!error_) error_ = std::current_exception();
  }
}

void ThreadPool::work(uint32_t epoch) {
  uint64_t job = job_.load(std::memory_order_acquire);
  for (;;) {
    if (epoch_of(job) != epoch) return;
    const int64_t chunks = chunks_of(job);
    const int64_t index = next_of(job);
    if (index >= chunks) return;
    if (!job_.compare_exchange_weak(job, job + 1, std::memory_order_acq_rel, std::memory_order_acquire))
      continue;
    // The claim succeeded, so the job is still in progress: its description stays valid until this
    // chunk is counted done, and nothing of it is touched after that.
    run_chunk(index, chunks);
    if (done_.fetch_add(1, std::memory_order_seq_cst) + 1 == static_cast<uint32_t>(chunks) &&
        caller_sleeping_.load(std::memory_order_seq_cst) != 0) {
      futex_wake(done_, 1);
    }
    job = job_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_main() {
  tl_in_job = true;
  uint32_t seen = 0;  // epoch 0 is never published
  for (;;) {
    const auto fresh = [&] {
      return epoch_of(job_.load(std::memory_order_acquire)) != seen || stop_.load(std::memory_order_relaxed);
    };
    if (!spin_until(fresh)) {
      const uint32_t ticket = wake_.load(std::memory_order_seq_cst);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      // Re-checked after announcing the sleep: a publisher either sees the sleeper or we see its job.
      if (!fresh()) futex_wait(wake_, ticket);
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      continue;
    }
    if (stop_.load(std::memory_order_relaxed)) return;
    seen = epoch_of(job_.load(std::memory_order_acquire));
    work(seen);
  }
}

void ThreadPool::run(int64_t n, int64_t chunks, ChunkFn fn, const void* body) {
  chunks = std::clamp<int64_t>(chunks, 1, kMaxChunks);
  std::unique_lock<std::mutex> lock;
  if (chunks > 1 && threads_ > 1 && !tl_in_job) lock = std::unique_lock(busy_, std::try_to_lock);
  if (!lock.owns_lock()) {
    // Nothing to share, a nested loop, or another thread's job holds the pool: run it all here.
    fn(body, 0, n);
    return;
  }
  tl_in_job = true;
  error_ = nullptr;
  n_.store(n, std::memory_order_relaxed);
  fn_.store(fn, std::memory_order_relaxed);
  body_.store(body, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  if (++epoch_ == 0) epoch_ = 1;
  const uint32_t epoch = epoch_;
  job_.store(uint64_t{epoch} << 32 | static_cast<uint64_t>(chunks) << 16, std::memory_order_seq_cst);
  if (const int sleeping = sleepers_.load(std::memory_order_seq_cst); sleeping > 0) {
    wake_.fetch_add(1, std::memory_order_seq_cst);
    futex_wake(wake_, static_cast<int>(std::min<int64_t>(sleeping, chunks - 1)));
  }

  work(epoch);  // the caller takes chunks like any worker

  // Every chunk is claimed; wait for the ones still being computed by workers.
  const auto finished = [&] {
    return done_.load(std::memory_order_acquire) == static_cast<uint32_t>(chunks);
  };
  if (!spin_until(finished)) {
    for (;;) {
      const uint32_t seen = done_.load(std::memory_order_seq_cst);
      if (seen == static_cast<uint32_t>(chunks)) break;
      caller_sleeping_.store(1, std::memory_order_seq_cst);
      if (done_.load(std::memory_order_seq_cst) == seen) futex_wait(done_, seen);
      caller_sleeping_.store(0, std::memory_order_seq_cst);
    }
  }
  tl_in_job = false;
  std::exception_ptr error = std::exchange(error_, nullptr);
  lock.unlock();
  if (error) std::rethrow_exception(error);
}

}  // namespace plinth::cpu
