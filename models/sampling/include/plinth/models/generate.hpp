// generate(): the decode loop shared by `plinth generate`, `plinth chat` and the server. It prefills
// the prompt, then samples and decodes one token at a time, streaming complete UTF-8 text (never any
// part of a stop string, never the text of special tokens) until an end token, a stop string, the
// token limit, a full context, or the caller cancels.
//
//   GenerateOptions options{.max_tokens = 64};
//   auto stats = generate(session, tokenizer, tokenizer.encode(prompt), options,
//                         [](std::string_view text) { std::cout << text << std::flush; return true; });
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <plinth/models/llama_session.hpp>
#include <plinth/models/sampler.hpp>
#include <plinth/models/tokenizer.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::models {

struct GenerateOptions {
  int max_tokens = 128;  // tokens to sample at most (>= 0)
  SamplingOptions sampling{};
  std::vector<std::string> stop{};  // stop strings: generation ends before them; they are never shown
  // Tokens that end generation besides the tokenizer's EOS (e.g. <|im_end|> for a chat template that
  // is not the EOS token). The end token is not shown and not fed to the session.
  std::vector<int32_t> end_tokens{};
  // Tokens already in the session before `prompt` (earlier turns of a chat): the repetition penalty
  // sees them as history. Optional.
  std::span<const int32_t> context{};
};

struct GenerateStats {
  int prompt_tokens = 0;     // tokens prefilled by this call
  int generated_tokens = 0;  // tokens sampled, the final end token included
  int decode_steps = 0;      // session.decode() calls (generated_tokens minus the last, usually)
  double prefill_s = 0;
  double decode_s = 0;               // the decode calls and the sampling after them
  double time_to_first_token_s = 0;  // from the call to the first sampled token
  // "eos" (EOS or an end token), "stop" (a stop string), "length" (max_tokens), "context" (the
  // session is full), "cancelled" (on_text returned false).
  std::string stop_reason;
  std::optional<std::string> stop_string;  // which stop string matched, when stop_reason == "stop"
  // Every sampled token in order (the end token included). The first `decode_steps` of them were fed
  // to the session after the prompt; the last one never is, so a caller that continues the session
  // (chat) knows exactly what its cache holds.
  std::vector<int32_t> tokens;

  double prefill_tokens_per_s() const { return prefill_s > 0 ? prompt_tokens / prefill_s : 0.0; }
  double decode_tokens_per_s() const { return decode_s > 0 ? decode_steps / decode_s : 0.0; }
};

// The tokens that end a generation for this tokenizer: EOS, plus every string in `end_strings` and
// the usual end-of-turn markers ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>", "</s>")
// that the vocabulary holds as one special token. Sorted, without duplicates.
std::vector<int32_t> default_end_tokens(const Tokenizer& tokenizer,
                                        std::span<const std::string> end_strings = {});

// What ends a generation for a model's end markers (a chat template's stop_strings(), say): the
// markers the vocabulary holds as one special token end it as tokens, the others as text.
//
//   GenerateOptions options{.stop = user_stop_strings};
//   end_conditions(tokenizer, chat_template.stop_strings()).apply(options);
struct EndConditions {
  std::vector<int32_t> end_tokens;  // default_end_tokens(tokenizer, end_strings)
  std::vector<std::string> stop;    // the end strings that are not one special token, in their order

  // Sets options.end_tokens and appends `stop` to options.stop (after the caller's stop strings).
  void apply(GenerateOptions& options) const;
};
EndConditions end_conditions(const Tokenizer& tokenizer, std::span<const std::string> end_strings = {});

// Appends `prompt` to the session (which may already hold earlier tokens) and generates. `prompt`
// must not be empty. on_text receives each piece of text as soon as it is complete; returning false
// stops generation ("cancelled"). Errors: std::invalid_argument for an empty prompt, bad options
// (see validate()) or max_tokens < 0; std::length_error when the prompt does not fit in the session's
// remaining context.
GenerateStats generate(LlamaSession& session, const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                       const GenerateOptions& options,
                       const std::function<bool(std::string_view text)>& on_text);

}  // namespace plinth::models
