// Scheduler: continuous batching for one replica (one BatchModel and its BlockManager). Single-threaded
// and deterministic: the caller drives step(); the clock is injected. Engine wraps it in a thread.
//
// Each step (in the manner of vLLM's V1 scheduler):
//   1. Cancelled requests and reached deadlines finish; their blocks are freed.
//   2. Every running sequence gets the KV slot of its pending token, most important first (priority
//      class, then admission order). When blocks run out, the least important running sequence (lowest
//      priority, then most recently admitted) is preempted by recompute: its blocks are freed and it
//      waits, first in line, to be admitted again with prompt + generated tokens.
//   3. One token budget (min(max_batch_tokens, model.max_batch_tokens())) is filled: decodes first,
//      then running prefills in chunks (least-served tenant first), then new admissions (preempted
//      ones first, then RequestQueue's order) while the budget, max_running, the tenant's running cap
//      and free blocks (BlockManager::plan_prompt) allow. A prefix-cache hit skips its tokens.
//   4. The model runs the batch; each chunk's computed tokens are reported (mark_computed); each
//      sequence whose prompt is done samples with its own Sampler and streams the token.
//   5. Deadlines reached during the pass finish their requests at its end, so a deadline is met to
//      within one step (plus a driver's wake-up, which next_deadline() makes exact when idle).
// A step error (the model throws) loses the batch's KV: those sequences are preempted to recompute,
// and the exception propagates (Engine counts them and fails over).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <plinth/models/batch_model.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/scheduler/active_request.hpp"
#include "plinth/scheduler/block_manager.hpp"
#include "plinth/scheduler/clock.hpp"
#include "plinth/scheduler/request.hpp"
#include "plinth/scheduler/request_queue.hpp"
#include "plinth/scheduler/tenant_fairness.hpp"

namespace plinth::scheduler {

struct SchedulerOptions {
  std::size_t max_batch_tokens = 2048;            // the step's token budget; the model's limit caps it
  // When > 0: while sequences decode, a step adds at most max(min_prefill_chunk, prefill_per_decode x
  // decoding sequences) prompt tokens. Where a step's cost grows with its tokens (a CPU: almost
  // linearly), this bounds how much a long prompt slows the decoders (about 1 + prefill_per_decode
  // times) instead of handing it the rest of the budget; the price is a later first token for every
  // prompt that arrives under load. With nothing decoding, prefill takes the whole budget. 0 (the
  // default): no cap, prompts fill what the decodes leave of the budget.
  double prefill_per_decode = 0;
  std::size_t min_prefill_chunk = 16;  // >= 1
  std::size_t max_running = 64;                   // sequences admitted at once
  std::size_t max_queued = 4096;                  // waiting requests, all tenants (then queue_full)
  Duration aging_step = std::chrono::seconds(1);  // waiting this long improves a class by one
  TenantPolicy default_tenant{};
  std::map<std::string, TenantPolicy, std::less<>> tenants{};
  bool prefix_caching = true;
  std::shared_ptr<const Detokenizer> detokenizer{};        // null: no text, no stop strings
  Duration default_retry_after = std::chrono::seconds(1);  // before any request has finished
};

struct StepResult {
  std::size_t sequences = 0;  // chunks in the batch (0: nothing ran)
  std::size_t decode_tokens = 0;
  std::size_t prefill_tokens = 0;  // prompt (or recomputed) tokens
  std::size_t finished = 0;        // requests that finished during the step, for any reason
  bool ran() const noexcept { return sequences > 0; }
};

struct SchedulerStats {
  std::size_t queued = 0;    // waiting for a first admission
  std::size_t resuming = 0;  // preempted (or moved here), waiting to be admitted again
  std::size_t running = 0;
  BlockManagerStats kv;
  double kv_usage = 0;  // blocks in use / all blocks
  std::uint64_t prefix_hit_tokens = 0;
  std::uint64_t preemptions = 0;
  std::uint64_t steps = 0;
  std::uint64_t admitted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t finished = 0;
  std::uint64_t generated_tokens = 0;
  std::uint64_t prefill_tokens = 0;
  std::vector<TenantStats> tenants;
};

class Scheduler {
 public:
  // Throws std::invalid_argument for a zero token budget or max_running, or a bad tenant weight.
  Scheduler(models::BatchModel& model, SchedulerOptions options, NowFn now = steady_now);

  // Whether `request` could ever run here: nullopt, or the rejection. Reads only what is fixed at
  // construction, so any thread may call it while another steps.
  std::optional<SubmitResult> validate(const Request& request) const;
  // Validates and queues, or rejects at once (queue bounds: with a retry-after estimate).
  SubmitResult submit(Request request);
  // Takes over a request accepted elsewhere (by Engine, or moved off a failed replica); no queue bound
  // applies. One already started waits first in line, to resume its stream.
  void adopt(std::unique_ptr<ActiveRequest> request);
  // An ActiveRequest for `request` (valid), arriving now, with this scheduler's detokenizer.
  std::unique_ptr<ActiveRequest> make_request(RequestId id, Request request) const;

  StepResult step();
  bool has_work() const noexcept { return !running_.empty() || !resuming_.empty() || !queue_.empty(); }
  // The earliest deadline of any request here: a driver idles no longer than until then.
  std::optional<TimePoint> next_deadline() const;

  // Removes every request (blocks freed, ready to resume elsewhere from tokens()).
  std::vector<std::unique_ptr<ActiveRequest>> drain();
  // Finishes every request with FinishReason::error and `message`.
  void fail_all(std::string_view message);

  PromptPlan plan_prompt(std::span<const Token> tokens) const { return blocks_.plan_prompt(tokens); }
  const BlockManager& block_manager() const noexcept { return blocks_; }
  std::size_t token_budget() const noexcept { return budget_; }
  SchedulerStats stats() const;

 private:
  struct Running {
    std::unique_ptr<ActiveRequest> request;
    SequenceId seq = 0;
    std::size_t computed = 0;    // tokens whose KV is in the cache
    std::uint64_t admitted = 0;  // admission order: preemption takes the most recent
  };
  struct Planned {
    std::size_t index = 0;  // into running_
    std::size_t start = 0;
    std::size_t length = 0;
    bool logits = false;
  };
  struct TenantCounters {
    std::size_t running = 0;
    std::uint64_t admitted = 0, rejected = 0, finished = 0;
  };

  const TenantPolicy& policy(std::string_view tenant) const;
  TenantCounters& counters(std::string_view tenant);
  SubmitResult reject(std::string_view tenant, RejectReason reason, std::string message,
                      std::size_t queued_ahead = 0);
  Duration retry_after(std::size_t queued_ahead) const;

  void enqueue(std::unique_ptr<ActiveRequest> request);
  void resume_later(std::unique_ptr<ActiveRequest> request);
  std::unique_ptr<ActiveRequest> release(std::size_t running_index);  // frees its blocks
  void preempt(std::size_t running_index);
  void finish(std::unique_ptr<ActiveRequest> request, FinishReason reason, std::string message);
  std::size_t reap(TimePoint now);  // cancellations and deadlines; returns how many finished
  void secure_slots();
  // Token budgets of one step: all tokens, and of those, prompt (prefill) tokens.
  struct Budget {
    std::size_t tokens = 0;
    std::size_t prefill = 0;
    std::size_t prefill_take(std::size_t wanted) const noexcept { return std::min({wanted, tokens, prefill}); }
    void spend(std::size_t n, bool decode) noexcept {
      tokens -= n;
      if (!decode) prefill -= n;
    }
  };
  void plan_running(std::vector<Planned>& plan, Budget& budget);
  void admit(TimePoint now, std::vector<Planned>& plan, Budget& budget);

  models::BatchModel& model_;
  SchedulerOptions options_;
  NowFn now_;
  const int vocab_;
  const std::size_t budget_;
  BlockManager blocks_;
  const std::uint32_t total_blocks_;
  TenantFairness fairness_;
  RequestQueue queue_;
  std::vector<std::unique_ptr<ActiveRequest>> resuming_;  // by (priority, arrival)
  std::vector<Running> running_;
  std::map<std::string, TenantCounters, std::less<>> tenants_;
  std::optional<Duration> latency_;  // moving average of submit-to-finish, for retry-after
  RequestId next_id_ = 1;
  SequenceId next_seq_ = 1;
  std::uint64_t next_admission_ = 0;
  std::uint64_t preemptions_ = 0, steps_ = 0, admitted_ = 0, rejected_ = 0, finished_ = 0;
  std::uint64_t generated_ = 0, prefilled_ = 0;
  // Per-step scratch, kept to reuse its memory.
  std::vector<std::vector<std::int32_t>> tables_;
  std::vector<models::BatchChunk> chunks_;
};

}  // namespace plinth::scheduler
