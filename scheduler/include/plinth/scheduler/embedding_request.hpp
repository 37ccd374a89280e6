// An embedding request as the engine sees it, and what comes back: exactly one EmbeddingResult.
// Admission, tenants, priorities, deadlines and cancellation mean what they mean for generation
// (request.hpp); SubmitResult and FinishReason are shared.
//
//   auto sink = std::make_shared<MyEmbeddingSink>();
//   SubmitResult r = engine.submit({.inputs = {ids_a, ids_b}, .tenant = "acme", .sink = sink});
//   if (!r) reply_429(r.retry_after);
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plinth/scheduler/clock.hpp"
#include "plinth/scheduler/request.hpp"

namespace plinth::scheduler {

struct EmbeddingUsage {
  std::size_t prompt_tokens = 0;     // tokens embedded (after truncation), all inputs together
  std::size_t truncated_inputs = 0;  // inputs cut to the encoder's max_input_tokens
  std::optional<Duration> queue_wait;  // submit to the start of the batch that produced the result
  Duration time_to_result{};           // submit to finish
  std::size_t attempts = 0;            // batches it was in (more than 1 after a failed replica)
};

struct EmbeddingResult {
  FinishReason reason = FinishReason::stop;  // stop on success; cancelled, deadline or error otherwise
  std::string message;                       // why, for error and deadline
  std::vector<float> embeddings;             // [inputs, dim] row-major; empty unless reason == stop
  int dim = 0;
  EmbeddingUsage usage;
};

// Receives a request's one result on an engine thread (also for a request that never started). Must
// not throw and should return quickly; it may submit again.
class EmbeddingSink {
 public:
  virtual ~EmbeddingSink() = default;
  virtual void on_finish(const EmbeddingResult& result) = 0;
};

struct EmbeddingRequest {
  std::vector<std::vector<Token>> inputs{};  // >= 1 inputs, each >= 1 token id >= 0
  std::string tenant = "default";
  int priority = 0;                           // class: 0 is the highest; larger waits longer (with aging)
  std::optional<TimePoint> queue_deadline{};  // finish with `deadline` unless started by then
  std::optional<TimePoint> deadline{};        // finish with `deadline` if not done by then
  std::shared_ptr<CancelToken> cancel{};      // optional
  std::shared_ptr<EmbeddingSink> sink{};      // optional (fire and forget)
};

}  // namespace plinth::scheduler
