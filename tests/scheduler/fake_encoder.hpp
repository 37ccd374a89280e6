// FakeEncoder: a BatchEncoder for the embedding engine's tests. Each input's row is a deterministic
// function of its tokens (so a result can be checked without the fake), every call is recorded (the
// batch compositions), and it can be told to hold a call at a gate, sleep, throw like a failing
// device, or reject a poison token id as malformed.
#pragma once

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <plinth/models/batch_encoder.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace plinth::scheduler::testing {

class FakeEncoder final : public models::BatchEncoder {
 public:
  static constexpr int32_t kPoison = 999999;  // an id "the model does not know"
  static constexpr int32_t kCrash = 999998;   // an input that makes the device fail (runtime_error)

  FakeEncoder(int dim = 8, int max_batch_tokens = 64, int max_input_tokens = 16)
      : dim_(dim), max_batch_tokens_(max_batch_tokens), max_input_tokens_(max_input_tokens) {}

  int dim() const override { return dim_; }
  int max_batch_tokens() const override { return max_batch_tokens_; }
  int max_input_tokens() const override { return max_input_tokens_; }

  // The row the fake gives `input` (truncated to max_input_tokens), L2-normalized.
  static std::vector<float> expected(std::span<const int32_t> input, int dim) {
    std::vector<float> row(static_cast<std::size_t>(dim));
    double norm = 0;
    for (int d = 0; d < dim; ++d) {
      std::uint64_t h = 1469598103934665603ull + static_cast<std::uint64_t>(d);
      for (int32_t t : input) h = (h ^ static_cast<std::uint64_t>(t)) * 1099511628211ull;
      row[static_cast<std::size_t>(d)] = static_cast<float>(static_cast<double>(h % 2001) / 1000.0 - 1.0);
      norm += static_cast<double>(row[static_cast<std::size_t>(d)]) * row[static_cast<std::size_t>(d)];
    }
    for (float& v : row) v = static_cast<float>(v / std::sqrt(norm > 0 ? norm : 1));
    return row;
  }

  std::vector<float> embed(std::span<const std::vector<int32_t>> inputs) override {
    std::unique_lock lock(m_);
    calls_.emplace_back(inputs.begin(), inputs.end());
    ++entered_;
    cv_.notify_all();
    if (gate_closed_) cv_.wait(lock, [&] { return !gate_closed_; });
    const std::size_t call = calls_.size() - 1;
    const auto delay = delay_;
    const bool fail = fail_from_ >= 0 && call >= static_cast<std::size_t>(fail_from_);
    lock.unlock();
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    if (fail) throw std::runtime_error("device lost");
    std::size_t total = 0;
    std::vector<float> out;
    for (const auto& input : inputs) {
      if (input.empty() || static_cast<int>(input.size()) > max_input_tokens_)
        throw std::invalid_argument("bad input length " + std::to_string(input.size()));
      for (int32_t t : input) {
        if (t == kPoison) throw std::invalid_argument("unknown token id");
        if (t == kCrash) throw std::runtime_error("device fault");
      }
      total += input.size();
      const auto row = expected(input, dim_);
      out.insert(out.end(), row.begin(), row.end());
    }
    if (total > static_cast<std::size_t>(max_batch_tokens_))
      throw std::invalid_argument("over budget: " + std::to_string(total));
    return out;
  }

  // Calls block until open_gate(); wait_entered(n) waits until n calls have begun.
  void close_gate() {
    std::lock_guard lock(m_);
    gate_closed_ = true;
  }
  void open_gate() {
    std::lock_guard lock(m_);
    gate_closed_ = false;
    cv_.notify_all();
  }
  bool wait_entered(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, timeout, [&] { return entered_ >= n; });
  }
  void fail_from(int call) {
    std::lock_guard lock(m_);
    fail_from_ = call;
  }
  void set_delay(std::chrono::milliseconds d) {
    std::lock_guard lock(m_);
    delay_ = d;
  }
  std::vector<std::vector<std::vector<int32_t>>> calls() const {
    std::lock_guard lock(m_);
    return calls_;
  }

 private:
  const int dim_, max_batch_tokens_, max_input_tokens_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::vector<std::vector<int32_t>>> calls_;
  int entered_ = 0;
  bool gate_closed_ = false;
  int fail_from_ = -1;
  std::chrono::milliseconds delay_{0};
};

}  // namespace plinth::scheduler::testing
