// Deterministic simulation helpers: a sink that records a stream with fake-clock times, and a driver
// that steps a Scheduler, advancing the fake clock over idle gaps.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <plinth/scheduler/scheduler.hpp>
#include <string>
#include <vector>

#include "fake_model.hpp"

namespace plinth::scheduler::testing {

class Recorder final : public StreamSink {
 public:
  explicit Recorder(const FakeClock* clock = nullptr) : clock_(clock) {}
  void on_delta(const TokenDelta& d) override {
    if (d.token != kNoToken) {
      tokens.push_back(d.token);
      if (clock_ && !first_token_at) first_token_at = clock_->now();
    }
    text += d.text;
  }
  void on_finish(const FinishInfo& f) override {
    ++finishes;
    finish = f;
    if (clock_) finished_at = clock_->now();
  }
  bool done() const noexcept { return finishes > 0; }
  FinishReason reason() const { return finish.value().reason; }

  std::vector<Token> tokens;
  std::string text;
  int finishes = 0;
  std::optional<FinishInfo> finish;
  std::optional<TimePoint> first_token_at;
  std::optional<TimePoint> finished_at;

 private:
  const FakeClock* clock_;
};

inline std::vector<Token> tokens_from(Token first, std::size_t n, int vocab = 1000) {
  std::vector<Token> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<Token>((static_cast<std::size_t>(first) + i * 13) % vocab);
  return v;
}

inline models::SamplingOptions greedy() { return models::SamplingOptions{.temperature = 0.0f}; }

// Steps until `done` holds or the clock passes `until`; `before_step` may submit more (it sees the
// clock). Idle steps jump the clock by `idle_jump` (or to the next deadline when sooner).
inline void drive(Scheduler& s, FakeClock& clock, TimePoint until, const std::function<bool()>& done,
                  const std::function<void()>& before_step = {},
                  Duration idle_jump = std::chrono::milliseconds(1)) {
  while (clock.now() < until && !(done && done())) {
    if (before_step) before_step();
    const StepResult r = s.step();
    if (!r.ran()) {
      TimePoint next = clock.now() + idle_jump;
      if (const auto d = s.next_deadline(); d && *d > clock.now()) next = std::min(next, *d);
      clock.advance_to(next);
    }
  }
}

// Jain's fairness index: 1 when all equal, 1/n when one gets everything.
inline double jain(const std::vector<double>& x) {
  const double sum = std::accumulate(x.begin(), x.end(), 0.0);
  double sq = 0;
  for (double v : x) sq += v * v;
  return sum * sum / (static_cast<double>(x.size()) * sq);
}

inline Duration percentile(std::vector<Duration> v, double p) {
  std::ranges::sort(v);
  const auto i = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

}  // namespace plinth::scheduler::testing
