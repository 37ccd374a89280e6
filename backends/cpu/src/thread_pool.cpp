#include "thread_pool.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <omp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
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
thread_local int tl_thread_index = 0;  // 0 on callers; 1..threads-1 on workers
thread_local int64_t tl_worker_budget = -1;  // see spin_until
thread_local int64_t tl_caller_budget = -1;

// A spinning thread that lost the CPU for this long between two looks at the clock shares its core
// with another runnable thread.
constexpr int64_t kSharedCoreNs = 20000;

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

// Runnable threads on the whole machine right now (the 4th field of /proc/loadavg, "running/total"),
// or -1 when it cannot be read.
int runnable_threads() {
  const int fd = ::open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[128];
  const ssize_t len = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (len <= 0) return -1;
  buf[len] = '\0';
  const char* p = buf;
  for (int field = 0; field < 3; ++field) {
    p = std::strchr(p, ' ');
    if (p == nullptr) return -1;
    ++p;
  }
  return std::atoi(p);
}

// PLINTH_CPU_WAIT=spin|sleep|auto (default auto).
ThreadPool::WaitMode wait_mode_from_environment() {
  const char* v = std::getenv("PLINTH_CPU_WAIT");
  if (v != nullptr && std::strcmp(v, "spin") == 0) return ThreadPool::WaitMode::kSpin;
  if (v != nullptr && std::strcmp(v, "sleep") == 0) return ThreadPool::WaitMode::kSleep;
  return ThreadPool::WaitMode::kAuto;
}

}  // namespace

ThreadPool::ThreadPool(int threads, int spin_us, WaitMode mode)
    : threads_(std::clamp(threads, 1, 1024)),
      spin_ns_(int64_t{std::max(0, spin_us)} * 1000),
      wait_mode_(mode),
      chunks_per_thread_(env_int("PLINTH_CPU_CHUNKS", kDefaultChunksPerThread, 1, 64)),
      online_cpus_(static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)))) {
  shared_cores_.store(mode == WaitMode::kSleep, std::memory_order_relaxed);
  workers_.reserve(static_cast<size_t>(threads_ - 1));
  for (int i = 1; i < threads_; ++i) {
    workers_.emplace_back([this, i] {
      tl_thread_index = i;
      worker_main();
    });
  }
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
                         env_int("PLINTH_CPU_SPIN_US", kDefaultSpinUs, 0, 1000000),
                         wait_mode_from_environment());
  return pool;
}

bool ThreadPool::in_job() noexcept { return tl_in_job; }

int ThreadPool::thread_index() noexcept { return tl_thread_index; }

bool ThreadPool::spin_until(const auto& ready, int64_t& budget) const {
  if (ready()) return true;
  if (shared_cores_.load(std::memory_order_relaxed)) return false;
  // `budget`: the thread's current spin. A spin that finds the core shared drops it to none; it
  // grows back by 1/32 of the full spin per wait.
  const int64_t full = spin_ns_;
  const int64_t step = full / 32 + 1;
  if (budget < 0 || budget > full) budget = full;
  if (budget == 0) {
    budget = std::min(full, step);
    return false;
  }
  const int64_t start = now_ns();
  int64_t last = start;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      PLINTH_CPU_RELAX();
      if (ready()) {
        budget = std::min(full, budget + step);
        return true;
      }
    }
    const int64_t now = now_ns();
    // A gap between two looks at the clock: the thread was preempted, so the core is shared and
    // spinning only takes time from whoever else wants it (and spends the priority the scheduler
    // gives a thread that wakes from sleep). Sleep instead, and spin no more for a while.
    if (now - last >= kSharedCoreNs) {
      budget = 0;
      return ready();
    }
    last = now;
    if (now - start >= budget || shared_cores_.load(std::memory_order_relaxed)) {
      budget = std::min(full, budget + step);
      return ready();
    }
  }
}

void ThreadPool::sample_load() {
  const int64_t now = now_ns();
  if (now < next_sample_ns_) return;
  next_sample_ns_ = now + kSampleIntervalNs;
  const int running = wait_mode_ == WaitMode::kAuto ? runnable_threads() : -1;
  // Our own running threads count too: the caller, and workers still spinning.
  shared_cores_.store(wait_mode_ == WaitMode::kSleep || (running >= 0 && running > online_cpus_),
                      std::memory_order_relaxed);
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
    if (!spin_until(fresh, tl_worker_budget)) {
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
  sample_load();
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
  // Spinning as a worker does; once the spin finds the core shared, the caller sleeps at once, which
  // lets a preempted worker have the core back.
  if (!spin_until(finished, tl_caller_budget)) {
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
