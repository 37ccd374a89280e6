// The plugin's own worker pool for its kernels. It replaces OpenMP parallel regions because those
// degrade badly when the cores are shared: an OpenMP region ends in a barrier that every team member
// must reach, so the calling thread waits (spinning) for a worker the OS has descheduled in favour of
// another process, once per op. Here a job is cut into more chunks than threads and every thread,
// the caller included, claims chunks from one atomic counter: a worker that is not running when a job
// starts simply takes no part in it, and the caller only ever waits for chunks already being
// computed. Idle workers spin for a short, bounded time (so back-to-back ops on an idle machine do not
// pay a wake-up) and then sleep on a futex.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace plinth::cpu {

class ThreadPool {
 public:
  // Called for each chunk: fn(body, begin, end) over a sub-range of [0, n).
  using ChunkFn = void (*)(const void* body, int64_t begin, int64_t end);

  // How waiting threads behave. kSpin: spin up to spin_us, then sleep. kSleep: sleep at once.
  // kAuto: spin while the machine has no more runnable threads than CPUs (sampled from
  // /proc/loadavg at most every kSampleIntervalNs, when a job starts), else sleep at once.
  enum class WaitMode { kAuto, kSpin, kSleep };
  static constexpr int64_t kSampleIntervalNs = 5'000'000;

  // `threads` counts the caller: threads - 1 workers are started. `spin_us`: how long an idle
  // worker (and a caller waiting for a chunk in flight) spins before it sleeps.
  ThreadPool(int threads, int spin_us, WaitMode mode = WaitMode::kAuto);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The plugin's pool, started on first use: OMP_NUM_THREADS threads if set, else one per CPU the
  // process may run on; PLINTH_CPU_SPIN_US sets the spin (default kDefaultSpinUs) and
  // PLINTH_CPU_WAIT=auto|spin|sleep the wait mode (default auto).
  static ThreadPool& instance();
  static constexpr int kDefaultSpinUs = 100;

  int threads() const noexcept { return threads_; }
  // Chunks per thread a loop is cut into (PLINTH_CPU_CHUNKS, default kDefaultChunksPerThread), so
  // that a thread the OS has descheduled holds up at most a small share of the work: the running
  // threads take the rest.
  int64_t chunks_per_thread() const noexcept { return chunks_per_thread_; }
  static constexpr int kDefaultChunksPerThread = 4;

  // True on a pool worker, and on a caller while it runs a job: a nested parallel loop runs inline.
  static bool in_job() noexcept;
  // 0 on any thread that is not a worker (a caller), 1..threads()-1 on the workers: an index into
  // per-thread scratch of a stream. Two callers may both be 0 at once, but only with distinct
  // streams (a job runs for one caller; a caller that finds the pool busy runs inline).
  static int thread_index() noexcept;

  // Runs fn over [0, n) cut into `chunks` near-equal ranges (1 <= chunks <= kMaxChunks), returning
  // when every chunk is done. The first exception a chunk throws is rethrown here (the other
  // chunks still run). Jobs do not overlap: a caller that finds the pool busy with another thread's
  // job runs its whole range itself. Results never depend on which thread ran a chunk.
  void run(int64_t n, int64_t chunks, ChunkFn fn, const void* body);

  static constexpr int64_t kMaxChunks = 0xffff;

 private:
  void worker_main();
  // Claims and runs chunks of the job whose epoch is `epoch` until none is left unclaimed.
  void work(uint32_t epoch);
  void run_chunk(int64_t index, int64_t chunks);
  void sample_load();  // under busy_
  // Spins (pause) until ready() or for at most `budget` ns; see thread_pool.cpp.
  bool spin_until(const auto& ready, int64_t& budget) const;

  const int threads_;
  const int64_t spin_ns_;
  std::vector<std::thread> workers_;
  const WaitMode wait_mode_;
  const int64_t chunks_per_thread_;
  const int online_cpus_;
  std::mutex busy_;     // held by the caller of the job in progress
  uint32_t epoch_ = 0;  // last published epoch (under busy_)
  int64_t next_sample_ns_ = 0;  // under busy_
  // More runnable threads than CPUs at the last sample (or kSleep): waits sleep without spinning.
  std::atomic<bool> shared_cores_{false};

  // The job: epoch (high 32 bits), chunk count (bits 16-31), next unclaimed chunk (bits 0-15). A
  // claim is a CAS on this word, so a worker late for a job can never claim a chunk of a newer one.
  alignas(64) std::atomic<uint64_t> job_{0};
  // What the job runs; written before its epoch is published, read before a claim is attempted.
  std::atomic<int64_t> n_{0};
  std::atomic<ChunkFn> fn_{nullptr};
  std::atomic<const void*> body_{nullptr};

  alignas(64) std::atomic<uint32_t> done_{0};  // chunks of the current job finished (futex word)
  std::atomic<uint32_t> caller_sleeping_{0};

  alignas(64) std::atomic<uint32_t> wake_{0};  // bumped to wake sleeping workers (futex word)
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};

  std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace plinth::cpu
