#include "plinth/scheduler/active_request.hpp"

#include <algorithm>
#include <utility>

namespace plinth::scheduler {

std::string_view to_string(FinishReason reason) noexcept {
  switch (reason) {
    case FinishReason::stop: return "stop";
    case FinishReason::length: return "length";
    case FinishReason::cancelled: return "cancelled";
    case FinishReason::deadline: return "deadline";
    case FinishReason::error: return "error";
  }
  return "unknown";
}

std::string_view to_string(RejectReason reason) noexcept {
  switch (reason) {
    case RejectReason::none: return "none";
    case RejectReason::invalid: return "invalid";
    case RejectReason::too_large: return "too_large";
    case RejectReason::queue_full: return "queue_full";
    case RejectReason::tenant_queue_full: return "tenant_queue_full";
    case RejectReason::unavailable: return "unavailable";
  }
  return "unknown";
}

ActiveRequest::ActiveRequest(RequestId id, Request request, TimePoint arrival,
                             std::shared_ptr<const Detokenizer> detokenizer)
    : id_(id),
      request_(std::move(request)),
      arrival_(arrival),
      detokenizer_(std::move(detokenizer)),
      tokens_(request_.prompt),
      sampler_(request_.sampling),
      stops_(request_.stop.stop_strings) {
  usage_.prompt_tokens = request_.prompt.size();
}

void ActiveRequest::mark_started(std::size_t cached_prompt_tokens) {
  if (started_) return;
  started_ = true;
  usage_.cached_prompt_tokens = std::min(cached_prompt_tokens, request_.prompt.size());
}

Token ActiveRequest::sample(std::span<const float> logits) { return sampler_.sample(logits, tokens_); }

void ActiveRequest::emit(Token token, std::string_view text) {
  if (request_.sink) request_.sink->on_delta(TokenDelta{token, text});
}

std::optional<FinishReason> ActiveRequest::accept(Token token, TimePoint now) {
  tokens_.push_back(token);
  ++usage_.generated_tokens;
  if (!usage_.time_to_first_token) usage_.time_to_first_token = now - arrival_;
  if (std::ranges::find(request_.stop.end_tokens, token) != request_.stop.end_tokens.end())
    return FinishReason::stop;
  std::string text;
  if (detokenizer_ && *detokenizer_) {
    text = utf8_.push((*detokenizer_)(token));
    if (!stops_.stops().empty()) text = stops_.push(text);
  }
  emit(token, text);
  if (stops_.stopped()) return FinishReason::stop;
  if (generated() >= request_.max_tokens) return FinishReason::length;
  return std::nullopt;
}

void ActiveRequest::finish(FinishReason reason, std::string message) {
  if (finished_) return;
  finished_ = true;
  if (!stops_.stopped() && detokenizer_ && *detokenizer_) {
    // The tail: an incomplete character (U+FFFD) and text held back as a possible stop string.
    std::string tail = utf8_.flush();
    if (!stops_.stops().empty()) tail = stops_.push(tail) + (stops_.stopped() ? "" : stops_.flush());
    if (!tail.empty()) emit(kNoToken, tail);
  }
  if (request_.sink)
    request_.sink->on_finish(FinishInfo{reason, std::move(message), stops_.matched(), usage_});
}

}  // namespace plinth::scheduler
