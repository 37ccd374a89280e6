// A generation request as the engine sees it, and what comes back: a stream of token deltas and
// exactly one finish. Shared by Scheduler (one replica) and Engine (threads, replicas).
//
//   auto sink = std::make_shared<MySink>();
//   SubmitResult r = engine.submit({.prompt = tokens, .max_tokens = 64, .tenant = "acme", .sink = sink});
//   if (!r) reply_429(r.retry_after);
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <plinth/models/sampler.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/scheduler/block_manager.hpp"
#include "plinth/scheduler/clock.hpp"

namespace plinth::scheduler {

using RequestId = std::uint64_t;

// Cancels a request from any thread (a client disconnect). The engine notices at the next step
// boundary, frees the request's KV blocks and finishes it with FinishReason::cancelled.
class CancelToken {
 public:
  void cancel() noexcept { cancelled_.store(true, std::memory_order_release); }
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> cancelled_{false};
};

enum class FinishReason {
  stop,       // an end token or a stop string
  length,     // max_tokens generated (or the KV cache cannot hold one more token for it, alone)
  cancelled,  // the CancelToken fired
  deadline,   // not started by its queue deadline, or not done by its total deadline
  error,      // see FinishInfo::message (e.g. no healthy replica)
};
std::string_view to_string(FinishReason reason) noexcept;

struct Usage {
  std::size_t prompt_tokens = 0;
  std::size_t generated_tokens = 0;      // sampled, a final end token included
  std::size_t cached_prompt_tokens = 0;  // prompt tokens served from the prefix cache at first admission
  std::optional<Duration> time_to_first_token;  // from submit to the first sampled token
  std::size_t preemptions = 0;                  // times it was preempted (or moved off a failed replica)
};

inline constexpr Token kNoToken = -1;

// One piece of a stream. `token` is the sampled id (kNoToken for the text held back until the end,
// delivered just before the finish); `text` is the complete UTF-8 text it adds (empty without a
// detokenizer, or while a possible stop string is held back). An end token and the text of a stop
// string are never delivered. `text` is valid only during the call.
struct TokenDelta {
  Token token = kNoToken;
  std::string_view text;
};

struct FinishInfo {
  FinishReason reason = FinishReason::stop;
  std::string message;                     // why, for error and deadline; may be empty otherwise
  std::optional<std::string> stop_string;  // which stop string matched
  Usage usage;
};

// Receives a request's stream on the engine thread that runs it: deltas, then exactly one on_finish
// (also for a request that never started). Must not throw and should return quickly: it runs inside
// the step loop.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual void on_delta(const TokenDelta& delta) = 0;
  virtual void on_finish(const FinishInfo& finish) = 0;
};

// Turns a token id into its bytes (a byte-level BPE piece may end inside a UTF-8 character). Needed
// for text deltas and stop strings; usually the tokenizer's decode of one token.
using Detokenizer = std::function<std::string(Token)>;

struct StopConditions {
  std::vector<Token> end_tokens{};          // end the request, never shown
  std::vector<std::string> stop_strings{};  // end before the text; need a detokenizer
};

struct Request {
  std::vector<Token> prompt{};  // >= 1 token ids in [0, vocab)
  models::SamplingOptions sampling{};
  std::size_t max_tokens = 128;  // >= 1
  StopConditions stop{};
  std::string tenant = "default";
  int priority = 0;                           // class: 0 is the highest; larger waits longer (with aging)
  std::optional<TimePoint> queue_deadline{};  // finish with `deadline` unless started by then
  std::optional<TimePoint> deadline{};        // finish with `deadline` when reached, running or not
  std::shared_ptr<CancelToken> cancel{};      // optional
  std::shared_ptr<StreamSink> sink{};         // optional (fire and forget)
};

enum class RejectReason {
  none,
  invalid,            // malformed: empty prompt, token out of range, bad sampling options, ...
  too_large,          // the prompt cannot fit in the whole KV pool, ever
  queue_full,         // the global queue bound
  tenant_queue_full,  // the tenant's queue bound
  unavailable,        // no healthy replica, or the engine is stopping
};
std::string_view to_string(RejectReason reason) noexcept;

// Accepted (id set; the sink will get a finish) or rejected at once (no sink call): the reason, a
// message for the client, and when retrying may succeed (HTTP 429 Retry-After) for queue_full.
struct SubmitResult {
  bool accepted = false;
  RequestId id = 0;
  RejectReason reason = RejectReason::none;
  std::string message;
  Duration retry_after{};

  explicit operator bool() const noexcept { return accepted; }
};

}  // namespace plinth::scheduler
