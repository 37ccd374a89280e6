// Engine: the serving engine over one or more replicas (each a BatchModel with its own Scheduler and
// KV cache). One thread per replica drives Scheduler::step in a loop and sleeps on a condition
// variable when there is nothing to run, at most until the replica's next deadline. submit() may be
// called from any thread; it routes the request into a replica's inbox and never waits for a step.
//
// Admission: the engine's and the tenant's bounds on requests in flight (queued + running), and
// optionally an expected-wait bound (EngineOptions::max_queue_wait). A rejection says when a retry may
// succeed.
//
// Routing: to the healthy replica with the least load (queued + running + inbox; then the most free
// KV blocks), except that a replica that was last sent the prompt's prefix (PrefixAffinity) is
// preferred while its load is within `affinity_slack` of the least.
//
// Failover: a step that throws (plinth::Error from the device, or any std::exception) counts as an
// error of its replica; after max_consecutive_errors in a row the replica is marked down (its
// thread stops: quarantined) and every request it held is moved to a healthy replica, where it
// resumes from prompt + generated tokens: its stream continues with no token lost or repeated. With
// no healthy replica left, those requests finish with FinishReason::error and a message saying why,
// and submit() answers `unavailable`.
//
//   Engine engine({model_a, model_b}, {.scheduler = {.max_batch_tokens = 2048}});
//   SubmitResult r = engine.submit(std::move(request));  // sink gets the stream on an engine thread
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <plinth/models/batch_model.hpp>
#include <string>
#include <thread>
#include <vector>

#include "plinth/scheduler/clock.hpp"
#include "plinth/scheduler/prefix_affinity.hpp"
#include "plinth/scheduler/request.hpp"
#include "plinth/scheduler/scheduler.hpp"

namespace plinth::scheduler {

struct EngineOptions {
  // For every replica. Its tenant policies also bound what a tenant may have in flight in the engine
  // (max_queued + max_running), and max_queued + max_running bounds the engine's total per replica.
  SchedulerOptions scheduler{};
  int max_consecutive_errors = 3;                    // step errors in a row that mark a replica down
  std::size_t affinity_slack = 8;                    // extra load a replica holding the prefix may carry
  Duration max_idle_wait = std::chrono::seconds(1);  // an idle thread re-checks at least this often
  // When > 0: a request whose expected wait for its first token exceeds this is rejected at once
  // (queue_full, with a retry-after), instead of queueing to start late: a bound on the time to first
  // token of what is admitted. Expected wait: for a slot, the requests ahead of it beyond the running
  // slots (max_running per healthy replica) times the recent average time a request holds a slot
  // (first token to finish; before any request finished, scheduler.default_retry_after), over the
  // slots; plus the steps that compute the prompt tokens not yet computed ahead of it and its own, by
  // the scheduler's step policy (decodes first, then the prefill cap or what the budget leaves), at
  // the recent average step time (none before the first step).
  Duration max_queue_wait{};
};

struct ReplicaHealth {
  std::size_t index = 0;
  bool healthy = true;
  int consecutive_errors = 0;
  std::uint64_t errors = 0;
  std::string last_error;
  std::size_t load = 0;  // queued + running + inbox, as of its last step
  std::uint32_t free_blocks = 0;
  std::uint32_t total_blocks = 0;
  std::uint64_t steps = 0;
};

class Engine {
 public:
  // Starts one thread per replica. The models must outlive the Engine, and each is used only by its
  // replica's thread. Throws std::invalid_argument for no replica or bad scheduler options.
  Engine(std::vector<std::reference_wrapper<models::BatchModel>> replicas, EngineOptions options = {},
         NowFn now = steady_now);
  // Stops: requests not finished yet finish with FinishReason::error ("engine stopped").
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Thread-safe; never waits for a step. Accepted: the sink gets the stream on an engine thread.
  SubmitResult submit(Request request);
  std::vector<ReplicaHealth> health() const;
  // Each replica's scheduler stats (queue depth, running, tenants, KV usage, prefix hits,
  // preemptions), as of its last step: for metrics.
  std::vector<SchedulerStats> stats() const;
  std::size_t in_flight() const;
  // Stops the threads (idempotent); see ~Engine.
  void stop();

 private:
  struct Replica;
  struct Admission;

  void run(std::size_t index);
  void fail_over(std::size_t index);
  // The replica for `tokens` among the healthy ones; nullopt when none. Caller holds mutex_.
  std::optional<std::size_t> route(std::span<const Token> tokens, bool use_affinity);
  std::string down_message() const;  // caller holds mutex_

  EngineOptions options_;
  NowFn now_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::shared_ptr<Admission> admission_;  // shared with the sinks that report finishes
  mutable std::mutex mutex_;              // inboxes, health, published load, routing state
  PrefixAffinity affinity_;
  RequestId next_id_ = 1;
  bool stopping_ = false;
};

}  // namespace plinth::scheduler
