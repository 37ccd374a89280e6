#include "plinth/models/generate.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "plinth/models/stop_matcher.hpp"
#include "plinth/models/utf8_assembler.hpp"

namespace plinth::models {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

std::vector<int32_t> default_end_tokens(const Tokenizer& tokenizer,
                                        std::span<const std::string> end_strings) {
  std::vector<int32_t> ends;
  if (auto eos = tokenizer.eos_id()) ends.push_back(*eos);
  auto add = [&](std::string_view text) {
    const auto ids = tokenizer.encode(text, /*add_special=*/false);
    if (ids.size() == 1 && tokenizer.is_special(ids[0])) ends.push_back(ids[0]);
  };
  for (const auto& s : end_strings) add(s);
  for (std::string_view s : {"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>", "</s>"}) add(s);
  std::sort(ends.begin(), ends.end());
  ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
  return ends;
}

EndConditions end_conditions(const Tokenizer& tokenizer, std::span<const std::string> end_strings) {
  EndConditions ends{.end_tokens = default_end_tokens(tokenizer, end_strings), .stop = {}};
  for (const auto& s : end_strings) {
    // An end marker that is not one special token can still end the answer as text.
    const auto ids = tokenizer.encode(s, /*add_special=*/false);
    if (ids.size() != 1 || !tokenizer.is_special(ids[0])) ends.stop.push_back(s);
  }
  return ends;
}

void EndConditions::apply(GenerateOptions& options) const {
  options.end_tokens = end_tokens;
  options.stop.insert(options.stop.end(), stop.begin(), stop.end());
}

GenerateStats generate(LlamaSession& session, const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                       const GenerateOptions& options,
                       const std::function<bool(std::string_view text)>& on_text) {
  validate(options.sampling);
  if (options.max_tokens < 0) {
    throw std::invalid_argument("generate: max_tokens must be >= 0, got " +
                                std::to_string(options.max_tokens));
  }
  if (prompt.empty()) throw std::invalid_argument("generate: the prompt has no tokens");
  const auto room = static_cast<std::size_t>(session.max_context() - session.position());
  if (prompt.size() > room) {
    throw std::length_error("generate: the prompt has " + std::to_string(prompt.size()) +
                            " tokens but the context has room for " + std::to_string(room) + " (of " +
                            std::to_string(session.max_context()) + ")");
  }

  Sampler sampler(options.sampling);
  StopMatcher stops(options.stop);
  Utf8Assembler utf8;
  const std::optional<int32_t> eos = tokenizer.eos_id();
  auto is_end = [&](int32_t token) {
    return (eos && token == *eos) ||
           std::find(options.end_tokens.begin(), options.end_tokens.end(), token) != options.end_tokens.end();
  };

  std::vector<int32_t> history;
  history.reserve(options.context.size() + prompt.size() + static_cast<std::size_t>(options.max_tokens));
  history.insert(history.end(), options.context.begin(), options.context.end());
  history.insert(history.end(), prompt.begin(), prompt.end());

  GenerateStats stats;
  stats.prompt_tokens = static_cast<int>(prompt.size());
  bool cancelled = false;
  auto emit = [&](const std::string& text) {
    if (!text.empty() && !cancelled && on_text && !on_text(text)) cancelled = true;
  };

  const auto start = Clock::now();
  std::span<const float> logits = session.prefill(prompt);
  stats.prefill_s = seconds_since(start);
  if (options.max_tokens == 0) {
    stats.stop_reason = "length";
    return stats;
  }

  int32_t token = sampler.sample(logits, history);
  stats.time_to_first_token_s = seconds_since(start);
  for (;;) {
    stats.tokens.push_back(token);
    ++stats.generated_tokens;
    if (is_end(token)) {
      stats.stop_reason = "eos";
      break;
    }
    if (!tokenizer.is_special(token)) {
      emit(stops.push(utf8.push(tokenizer.token_to_piece(token))));
      if (stops.stopped()) {
        stats.stop_reason = "stop";
        stats.stop_string = stops.matched();
        break;
      }
    }
    if (cancelled) {
      stats.stop_reason = "cancelled";
      break;
    }
    if (stats.generated_tokens >= options.max_tokens) {
      stats.stop_reason = "length";
      break;
    }
    if (session.position() >= session.max_context()) {
      stats.stop_reason = "context";
      break;
    }
    const auto step = Clock::now();
    logits = session.decode(token);
    history.push_back(token);
    ++stats.decode_steps;
    token = sampler.sample(logits, history);
    stats.decode_s += seconds_since(step);
  }

  if (stats.stop_reason != "stop" && stats.stop_reason != "cancelled") {
    // What was held back (a partial character, a tail that looked like a stop string) is text after all.
    std::string tail = stops.push(utf8.flush());
    if (stops.stopped()) {
      stats.stop_reason = "stop";
      stats.stop_string = stops.matched();
    } else {
      tail += stops.flush();
    }
    emit(tail);
  }
  return stats;
}

}  // namespace plinth::models
