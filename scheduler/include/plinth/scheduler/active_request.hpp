// ActiveRequest: one accepted request's own state, whichever replica runs it: its tokens so far
// (prompt + generated), its Sampler, its text pipeline (Utf8Assembler -> StopMatcher), its usage, and
// the rule that the sink gets exactly one finish. It owns no KV blocks: a scheduler holds those and
// may drop them (preemption, a failed replica); the request then resumes by recomputing tokens(),
// so its stream continues with no token lost or repeated, and its Sampler's random state carries on.
#pragma once

#include <memory>
#include <optional>
#include <plinth/models/sampler.hpp>
#include <plinth/models/stop_matcher.hpp>
#include <plinth/models/utf8_assembler.hpp>
#include <span>
#include <string>
#include <vector>

#include "plinth/scheduler/request.hpp"

namespace plinth::scheduler {

class ActiveRequest {
 public:
  // The request must be valid (Scheduler::validate). `detokenizer` may be null (no text).
  ActiveRequest(RequestId id, Request request, TimePoint arrival,
                std::shared_ptr<const Detokenizer> detokenizer);

  RequestId id() const noexcept { return id_; }
  const Request& request() const noexcept { return request_; }
  const std::string& tenant() const noexcept { return request_.tenant; }
  int priority() const noexcept { return request_.priority; }
  TimePoint arrival() const noexcept { return arrival_; }
  const std::optional<TimePoint>& queue_deadline() const noexcept { return request_.queue_deadline; }
  const std::optional<TimePoint>& deadline() const noexcept { return request_.deadline; }
  // Prompt + generated tokens: what a (re)admission must have in the KV cache.
  std::span<const Token> tokens() const noexcept { return tokens_; }
  std::size_t generated() const noexcept { return tokens_.size() - request_.prompt.size(); }
  const Usage& usage() const noexcept { return usage_; }

  // Started: admitted at least once (its queue deadline no longer applies; its prompt is charged).
  bool started() const noexcept { return started_; }
  void mark_started(std::size_t cached_prompt_tokens);
  void count_preemption() noexcept { ++usage_.preemptions; }
  bool cancelled() const noexcept { return request_.cancel && request_.cancel->cancelled(); }

  // The next token from the logits of its last token, with its own sampler and history.
  Token sample(std::span<const float> logits);
  // Records and streams a sampled token; returns how the request ends if this token ends it.
  std::optional<FinishReason> accept(Token token, TimePoint now);

  // Delivers the held-back text (unless a stop string ended it) and the one finish. Idempotent.
  void finish(FinishReason reason, std::string message = {});
  bool finished() const noexcept { return finished_; }

 private:
  void emit(Token token, std::string_view text);

  RequestId id_;
  Request request_;
  TimePoint arrival_;
  std::shared_ptr<const Detokenizer> detokenizer_;
  std::vector<Token> tokens_;
  models::Sampler sampler_;
  models::Utf8Assembler utf8_;
  models::StopMatcher stops_;
  Usage usage_;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace plinth::scheduler
