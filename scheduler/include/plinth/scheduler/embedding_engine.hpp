// EmbeddingEngine: embeddings through the engine's admission and tenant rules. One or more encoder
// replicas (each a models::BatchEncoder) with one thread each, all taking batches from ONE shared
// queue: whichever replica is free takes the next batch, so a slow or busy replica never holds work a
// free one could run. submit() may be called from any thread and never waits for a batch.
//
// Admission: a request is validated (>= 1 input, each >= 1 token id >= 0, at most max_inputs
// inputs), its inputs are truncated to the encoder's max_input_tokens (the least over the replicas,
// so a result does not depend on which replica ran it), and it is queued, or rejected at once when
// the global or its tenant's queue bound is reached, with a retry-after estimate from the measured
// token throughput.
//
// Batching by token count: a free replica takes requests in the queue's order (RequestQueue's policy:
// priority class with aging, then the least-served tenant by weighted tokens, charged with the
// request's truncated token count when it is taken) while the batch's tokens stay within the
// replica's budget (min(max_batch_tokens, encoder.max_batch_tokens())) and tenants' running caps
// allow. The queue's order is kept: a request that does not fit ends the batch, rather than letting
// smaller ones pass it. A request with more tokens than the budget runs alone, its inputs split over
// consecutive calls of the same replica, each within the budget (an input never exceeds it: the
// budget must hold one input of max_input_tokens).
//
// Deadlines and cancellation of waiting requests are checked by a watchdog thread that sleeps until
// the next deadline (at most max_idle_wait), so they are met even while every replica is inside a
// long batch. A running request is never interrupted: past its total deadline, or cancelled, it
// finishes so when its batch returns.
//
// Failover: a batch whose encoder throws (plinth::Error or any std::exception other than
// std::invalid_argument) counts as an error of its replica, and its requests go back to the head of
// the line for any healthy replica (nothing is lost), until batches with it failed on max_attempts
// distinct replicas. After max_consecutive_errors in a row the
// replica is marked down and its thread stops. With no healthy replica left, every waiting request
// finishes with FinishReason::error and a message saying why, and submit() answers `unavailable`.
// std::invalid_argument means a malformed input (e.g. an id the model does not know): the batch's
// requests are rerun one by one so that only the bad one finishes with `error`.
//
//   EmbeddingEngine engine({replica_a, replica_b}, {.max_batch_tokens = 4096});
//   SubmitResult r = engine.submit({.inputs = ids, .tenant = "acme", .sink = sink});
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <plinth/models/batch_encoder.hpp>
#include <string>
#include <vector>

#include "plinth/scheduler/clock.hpp"
#include "plinth/scheduler/embedding_request.hpp"
#include "plinth/scheduler/request.hpp"
#include "plinth/scheduler/tenant_fairness.hpp"

namespace plinth::scheduler {

struct EmbeddingEngineOptions {
  std::size_t max_queued = 4096;  // waiting requests, all tenants (then queue_full)
  std::size_t max_inputs = 2048;  // inputs in one request (then too_large)
  TenantPolicy default_tenant{};  // weight, max_queued (waiting), max_running (in running batches)
  std::map<std::string, TenantPolicy, std::less<>> tenants{};
  Duration aging_step = std::chrono::seconds(1);  // waiting this long improves a class by one
  std::size_t max_batch_tokens = 8192;            // tokens per encoder call; each encoder's limit caps it
  int max_consecutive_errors = 3;                 // failed batches in a row that mark a replica down
  // Distinct replicas on which batches with a request may fail before it finishes with `error` on its
  // own (>= 1): a request whose inputs make every device fail must not take each replica down in
  // turn. Requests that shared its failed batches count those replicas too.
  int max_attempts = 2;
  // A waiting request's cancellation is noticed within this; deadlines are met exactly (the watchdog
  // sleeps until the next one).
  Duration max_idle_wait = std::chrono::milliseconds(50);
  Duration default_retry_after = std::chrono::seconds(1);  // before any throughput has been measured
};

struct EncoderReplicaHealth {
  std::size_t index = 0;
  bool healthy = true;
  bool busy = false;  // inside a batch now
  int consecutive_errors = 0;
  std::uint64_t errors = 0;
  std::string last_error;
  std::uint64_t batches = 0;       // that succeeded
  std::uint64_t tokens = 0;        // embedded by it
  double tokens_per_second = 0;    // moving average over its batches; 0 before the first
  std::size_t batch_token_budget = 0;
};

struct EmbeddingStats {
  std::size_t queued = 0;         // waiting for a first batch
  std::size_t retrying = 0;       // back in line after a failed batch
  std::size_t queued_tokens = 0;  // of queued and retrying requests
  std::size_t running = 0;        // requests in batches now
  std::uint64_t admitted = 0;     // accepted by submit()
  std::uint64_t rejected = 0;
  std::uint64_t finished = 0;  // for any reason
  std::uint64_t batches = 0;   // that succeeded
  std::uint64_t tokens_embedded = 0;
  std::uint64_t inputs_embedded = 0;
  double tokens_per_second = 0;  // measured, healthy replicas together
  std::vector<TenantStats> tenants;
};

class EmbeddingEngine {
 public:
  // Starts one thread per replica and the watchdog. The encoders must outlive the engine; each is
  // called only by its replica's thread. Throws std::invalid_argument for no replica, replicas of
  // different dim(), a budget that cannot hold one input of max_input_tokens, or bad options.
  EmbeddingEngine(std::vector<std::reference_wrapper<models::BatchEncoder>> replicas,
                  EmbeddingEngineOptions options = {}, NowFn now = steady_now);
  // Stops (see stop()).
  ~EmbeddingEngine();
  EmbeddingEngine(const EmbeddingEngine&) = delete;
  EmbeddingEngine& operator=(const EmbeddingEngine&) = delete;

  // Thread-safe; never waits for a batch. Accepted: the sink gets one result on an engine thread.
  // Rejected (no sink call): invalid, too_large, queue_full or tenant_queue_full (with retry_after),
  // unavailable (no healthy replica, or stopping).
  SubmitResult submit(EmbeddingRequest request);

  int dim() const noexcept;
  std::size_t max_input_tokens() const noexcept;  // inputs are truncated to this
  std::vector<EncoderReplicaHealth> health() const;
  EmbeddingStats stats() const;
  std::size_t in_flight() const;  // accepted, not finished

  // Stops the threads (idempotent) after the batches in progress return (their results are
  // delivered); every request not finished then finishes with FinishReason::error ("engine stopped").
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth::scheduler
