// LlamaSession: one sequence being decoded by a LlamaModel: its KV cache and scratch buffers, all
// allocated once in the constructor for `max_context` tokens, and one stream of its own. Not
// thread-safe (one session per thread); several sessions may share a model. The cache is f32:
// n_layers * 2 * n_kv_heads * head_dim * 4 bytes per token of max_context (46 KB for SmolLM2-135M).
//
//   LlamaSession session(model, 512);
//   auto logits = session.prefill(prompt);        // all prompt tokens in one batched pass
//   while (...) logits = session.decode(next);    // one token at a time
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <plinth/models/llama_model.hpp>

namespace plinth::models {

struct SessionOptions {
  // Most tokens one pass processes; a longer prefill runs in chunks of this many. Scratch memory
  // grows with it (about 30 KB per token for a 135M model). 0: min(max_context, 512).
  int max_batch = 0;
  // Time every op kind (synchronizing after each launch, so only for measurements): see profile().
  bool profile = false;
};

// Time spent per op kind since the session was made (or profile was last cleared), with
// SessionOptions::profile.
struct SessionProfileEntry {
  std::string name;  // "matmul_qkv", "attention", ...
  double seconds = 0;
  uint64_t launches = 0;
};

class LlamaSession {
 public:
  // max_context: the most tokens this session's cache holds; 1 <= max_context <= context_length
  // (else std::invalid_argument). The KV cache and all scratch buffers are allocated here, once.
  LlamaSession(const LlamaModel& model, int max_context);
  LlamaSession(const LlamaModel& model, int max_context, const SessionOptions& options);
  LlamaSession(LlamaSession&&) noexcept;
  LlamaSession& operator=(LlamaSession&&) noexcept;
  LlamaSession(const LlamaSession&) = delete;
  LlamaSession& operator=(const LlamaSession&) = delete;
  ~LlamaSession();

  // Appends `tokens` at the current position (one batched pass for all of them, or passes of
  // SessionOptions::max_batch tokens when there are more) and returns the logits of the last one: vocab_size floats, valid until the next call on this session.
  // Throws std::length_error when position() + tokens.size() > max_context() (the cache is left as
  // it was), std::invalid_argument for an empty span or a token outside [0, vocab_size).
  std::span<const float> prefill(std::span<const int32_t> tokens);
  // One token; same as prefill({token}).
  std::span<const float> decode(int32_t token);
  // As prefill, but returns the logits of every token, row-major [tokens.size(), vocab_size].
  std::vector<float> prefill_all_logits(std::span<const int32_t> tokens);

  int position() const;     // tokens in the cache
  int max_context() const;
  void reset();             // empties the cache (keeps its memory)
  // Drops the cache after `position` tokens (0 <= position <= position()): the next call continues
  // from there. Lets a caller reuse a shared prompt prefix.
  void truncate(int position);

  const LlamaModel& model() const;

  std::vector<SessionProfileEntry> profile() const;  // empty unless SessionOptions::profile
  void clear_profile();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth::models
