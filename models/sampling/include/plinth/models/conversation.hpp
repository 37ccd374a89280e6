// Conversation: a chat with a decoder model whose KV cache is reused from turn to turn, shared by
// `plinth chat` and the server. Each turn renders the whole conversation with the model's chat
// template, but only the text after what the session's cache already holds is prefilled.
//
//   LlamaSession session(model, 2048);
//   Conversation chat(session, tokenizer, chat_template);
//   GenerateOptions options{.max_tokens = 256};
//   end_conditions(tokenizer, chat_template.stop_strings()).apply(options);
//   auto stats = chat.turn("What is the capital of France?", options,
//                          [](std::string_view text) { std::cout << text << std::flush; return true; });
//   if (!stats) { /* the conversation no longer fits: reset() */ }
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <plinth/models/chat_template.hpp>
#include <plinth/models/generate.hpp>
#include <plinth/models/llama_session.hpp>
#include <plinth/models/tokenizer.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::models {

// The messages of one conversation and what the session's KV cache holds of them. The session, the
// tokenizer and the template are borrowed: they must outlive the conversation, and while it lives
// the conversation is the session's only user (it resets and truncates the cache). Not thread-safe;
// not copyable (two copies would disagree about one cache).
class Conversation {
 public:
  // Starts empty: the session is reset and, with `system`, the conversation opens with that system
  // message (without it, the template inserts its default system message, if it has one).
  Conversation(LlamaSession& session, const Tokenizer& tokenizer, const ChatTemplate& chat_template,
               std::optional<std::string_view> system = std::nullopt);
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  // Starts over: only the system message is kept, and the session's cache is emptied.
  void reset();

  // One turn: appends `user`, generates the answer with `options` (its `context` is set here to the
  // cached tokens before this turn, the repetition penalty's history) through
  // generate(), streaming its text to on_text (may be empty), and records the answer. Returns
  // nothing, and leaves the conversation as it was, when the conversation with `user` no longer fits
  // in the session's context (leaving room for one generated token). Errors are generate()'s.
  std::optional<GenerateStats> turn(std::string_view user, GenerateOptions options,
                                    const std::function<bool(std::string_view text)>& on_text);

  // The two halves of turn(), for a caller that runs the generation itself.
  //
  // Appends `user` and returns the tokens to prefill for it. When the rendered conversation still
  // starts with the cached text, only the new tail is encoded; otherwise (a stop string cut an answer,
  // the template rewrote it) the whole conversation is encoded and the cache is truncated to the
  // tokens it shares with it (at least one token is always returned, for fresh logits). Returns
  // nothing, and leaves the conversation as it was, when it cannot fit in the context.
  std::optional<std::vector<int32_t>> add_user(std::string_view user);
  // After generate() on add_user()'s tokens: records what the cache now holds (the first
  // stats.decode_steps sampled tokens) and the assistant's answer as shown.
  void add_answer(const GenerateStats& stats, std::string_view shown);

  // The tokens the session's cache holds (after add_user(), those it will hold once they are
  // prefilled).
  const std::vector<int32_t>& cached_tokens() const { return cached_tokens_; }
  const std::vector<ChatMessage>& messages() const { return messages_; }

 private:
  LlamaSession& session_;
  const Tokenizer& tokenizer_;
  const ChatTemplate& template_;
  std::optional<std::string> system_;
  std::vector<ChatMessage> messages_;
  std::string cached_text_;             // the text whose tokens the session holds
  std::vector<int32_t> cached_tokens_;  // those tokens (also the repetition penalty's history)
};

}  // namespace plinth::models
