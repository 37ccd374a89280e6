// Test doubles for the scheduler: a fake clock, and a fake BatchModel that keeps a real paged "KV
// cache" (the token ids written at each block slot) and derives each next token from the history it
// reads back through the block table. A wrong block table, a prefix hit on a block never written, or
// a lost token therefore changes the stream (or throws), instead of passing unnoticed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <plinth/models/batch_model.hpp>
#include <plinth/scheduler/clock.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace plinth::scheduler::testing {

class FakeClock {
 public:
  TimePoint now() const noexcept { return now_; }
  void advance(Duration d) noexcept { now_ += d; }
  void advance_to(TimePoint t) noexcept {
    if (t > now_) now_ = t;
  }
  NowFn fn() {
    return [this] { return now_; };
  }

 private:
  TimePoint now_ = TimePoint{} + std::chrono::hours(1);
};

// The greedy next token after `history`: the argmax the fake model's logits put a peak on.
inline std::int32_t fake_next(std::span<const std::int32_t> history, int vocab) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::int32_t t : history) h = (h ^ static_cast<std::uint32_t>(t)) * 1099511628211ull;
  return static_cast<std::int32_t>((h >> 7) % static_cast<std::uint64_t>(vocab));
}

// What greedy decoding of `prompt` for `n` tokens gives, with no engine in between.
inline std::vector<std::int32_t> fake_stream(std::vector<std::int32_t> prompt, std::size_t n, int vocab) {
  std::vector<std::int32_t> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(fake_next(prompt, vocab));
    prompt.push_back(out.back());
  }
  return out;
}

struct FakeModelOptions {
  int vocab = 1000;
  int block_size = 16;
  int num_blocks = 1024;
  int max_batch_tokens = 8192;
  FakeClock* clock = nullptr;                     // advanced by each step's cost
  Duration step_cost{};                           // fixed per step (reading the weights)
  Duration token_cost{};                          // per token in the batch
  std::optional<std::uint64_t> fail_from_step{};  // step numbers (1-based) from which step() throws
  std::function<void()> before_step{};            // e.g. holds an engine thread until a test is ready
};

struct FakeChunk {
  std::int32_t start = 0;
  std::size_t length = 0;
  bool logits = false;
};

class FakeModel final : public models::BatchModel {
 public:
  explicit FakeModel(FakeModelOptions o)
      : o_(o), kv_(static_cast<std::size_t>(o.num_blocks) * static_cast<std::size_t>(o.block_size), -1) {}

  int vocab_size() const override { return o_.vocab; }
  int block_size() const override { return o_.block_size; }
  int num_blocks() const override { return o_.num_blocks; }
  int max_batch_tokens() const override { return o_.max_batch_tokens; }

  std::span<const float> step(std::span<const models::BatchChunk> chunks) override {
    if (o_.before_step) o_.before_step();
    ++steps_;
    if (o_.fail_from_step && steps_ >= *o_.fail_from_step)
      throw std::runtime_error("fake device lost at step " + std::to_string(steps_));
    std::size_t total = 0;
    for (const auto& c : chunks) total += c.tokens.size();
    if (chunks.empty() || total > static_cast<std::size_t>(o_.max_batch_tokens))
      throw std::invalid_argument("FakeModel: empty batch or over max_batch_tokens");
    logits_.clear();
    last_.clear();
    // Attention reads every earlier position: it must have been computed before this pass (a chunk
    // may not rely on another chunk of the same pass writing it first).
    for (const auto& c : chunks) {
      if (c.tokens.empty()) throw std::invalid_argument("FakeModel: empty chunk");
      const std::size_t end = static_cast<std::size_t>(c.start_pos) + c.tokens.size();
      if (c.block_table.size() * static_cast<std::size_t>(o_.block_size) < end)
        throw std::invalid_argument("FakeModel: block table too short");
      for (std::size_t p = 0; p < static_cast<std::size_t>(c.start_pos); ++p)
        if (slot(c, p) < 0)
          throw std::logic_error("FakeModel: reads KV at position " + std::to_string(p) + " never computed");
    }
    for (const auto& c : chunks) {
      const std::size_t end = static_cast<std::size_t>(c.start_pos) + c.tokens.size();
      for (std::size_t i = 0; i < c.tokens.size(); ++i) {
        if (c.tokens[i] < 0 || c.tokens[i] >= o_.vocab) throw std::invalid_argument("FakeModel: token id");
        slot(c, static_cast<std::size_t>(c.start_pos) + i) = c.tokens[i];
      }
      if (c.want_logits) {
        history_.clear();
        for (std::size_t p = 0; p < end; ++p) history_.push_back(slot(c, p));
        const std::size_t row = logits_.size();
        logits_.resize(row + static_cast<std::size_t>(o_.vocab), 0.0f);
        logits_[row + static_cast<std::size_t>(fake_next(history_, o_.vocab))] = 10.0f;
      }
      last_.push_back({c.start_pos, c.tokens.size(), c.want_logits});
    }
    tokens_ += total;
    if (o_.clock) o_.clock->advance(o_.step_cost + o_.token_cost * static_cast<std::int64_t>(total));
    return logits_;
  }

  void copy_block(std::int32_t src, std::int32_t dst) override {
    const auto bs = static_cast<std::size_t>(o_.block_size);
    std::copy_n(kv_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(src) * bs), bs,
                kv_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(dst) * bs));
  }

  std::uint64_t steps() const noexcept { return steps_; }
  std::uint64_t tokens_processed() const noexcept { return tokens_; }
  const std::vector<FakeChunk>& last_batch() const noexcept { return last_; }

 private:
  std::int32_t& slot(const models::BatchChunk& c, std::size_t pos) {
    const auto bs = static_cast<std::size_t>(o_.block_size);
    return kv_[static_cast<std::size_t>(c.block_table[pos / bs]) * bs + pos % bs];
  }

  FakeModelOptions o_;
  std::vector<std::int32_t> kv_;  // -1: never written
  std::vector<float> logits_;
  std::vector<std::int32_t> history_;
  std::vector<FakeChunk> last_;
  std::uint64_t steps_ = 0;
  std::uint64_t tokens_ = 0;
};

}  // namespace plinth::scheduler::testing
