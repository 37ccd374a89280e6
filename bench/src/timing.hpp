// Repeated wall-clock measurement of one piece of work: warm-up, then R timed repetitions, reported
// as median and minimum. The work itself must include its own synchronization.
#pragma once

#include <functional>
#include <utility>
#include <vector>

namespace plinth::bench {

struct Timing {
  double median_s = 0.0;
  double min_s = 0.0;
  int reps = 0;
};

class Sampler {
 public:
  // target_s: wall time the timed repetitions should add up to when repeat is 0 (automatic).
  // repeat > 0: exactly that many timed repetitions.
  Sampler(double target_s, int repeat) : target_s_(target_s), repeat_(repeat) {}

  Timing measure(const std::function<void()>& work) const;

  // Measures two pieces of work with their repetitions interleaved (a, b, a, b, ...), so a change in
  // machine load during the measurement hits both sides alike and their ratio stays meaningful.
  std::pair<Timing, Timing> measure_pair(const std::function<void()>& a, const std::function<void()>& b) const;
  double target_s() const noexcept { return target_s_; }

 private:
  int repetitions(double estimate_s) const;
  bool over_budget(int done, double spent_s) const;

  double target_s_;
  int repeat_;
};

}  // namespace plinth::bench
