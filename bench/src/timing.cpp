#include "timing.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace plinth::bench {
namespace {

constexpr int kMinReps = 3;
constexpr int kMaxReps = 100000;
constexpr int kMaxWarmups = 20;
// On a loaded machine repetitions can take far longer than the warm-up predicted; automatic runs stop
// once they have spent this many times their budget (keeping at least kMinReps samples).
constexpr double kMaxOverrun = 3.0;

double time_once(const std::function<void()>& work) {
  const auto t0 = std::chrono::steady_clock::now();
  work();
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(t1 - t0).count();
}

Timing summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  Timing t;
  t.reps = static_cast<int>(n);
  t.min_s = samples.front();
  t.median_s = n % 2 == 1 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  return t;
}

}  // namespace

bool Sampler::over_budget(int done, double spent_s) const {
  return repeat_ == 0 && done >= kMinReps && spent_s > kMaxOverrun * target_s_;
}

int Sampler::repetitions(double estimate_s) const {
  if (repeat_ > 0) return repeat_;
  const double wanted = std::ceil(target_s_ / std::max(estimate_s, 1e-9));
  return static_cast<int>(std::clamp(wanted, static_cast<double>(kMinReps), static_cast<double>(kMaxReps)));
}

// The first run pays one-time costs (primitive creation, page faults, cold caches), so it never
// counts; later warm-ups continue until a tenth of the budget is spent and give the per-run estimate.
Timing Sampler::measure(const std::function<void()>& work) const {
  double estimate = time_once(work);
  double warm_total = 0.0;
  for (int i = 0; repeat_ == 0 && i < kMaxWarmups && warm_total < 0.1 * target_s_; ++i) {
    estimate = time_once(work);
    warm_total += estimate;
  }
  const int reps = repetitions(estimate);
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(reps));
  double spent = 0.0;
  for (int i = 0; i < reps && !over_budget(i, spent); ++i) {
    samples.push_back(time_once(work));
    spent += samples.back();
  }
  return summarize(std::move(samples));
}

std::pair<Timing, Timing> Sampler::measure_pair(const std::function<void()>& a,
                                                const std::function<void()>& b) const {
  double est_a = time_once(a);
  double est_b = time_once(b);
  double warm_total = 0.0;
  for (int i = 0; repeat_ == 0 && i < kMaxWarmups && warm_total < 0.2 * target_s_; ++i) {
    est_a = time_once(a);
    est_b = time_once(b);
    warm_total += est_a + est_b;
  }
  // The budget covers both sides: `target` of each on average.
  const int reps = repetitions(0.5 * (est_a + est_b));
  std::vector<double> sa;
  std::vector<double> sb;
  sa.reserve(static_cast<std::size_t>(reps));
  sb.reserve(static_cast<std::size_t>(reps));
  double spent = 0.0;
  for (int i = 0; i < reps && !over_budget(i, 0.5 * spent); ++i) {
    sa.push_back(time_once(a));
    sb.push_back(time_once(b));
    spent += sa.back() + sb.back();
  }
  return {summarize(std::move(sa)), summarize(std::move(sb))};
}

}  // namespace plinth::bench
