#include "plinth/models/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

namespace plinth::models {
namespace {

[[noreturn]] void bad_option(const std::string& what) { throw std::invalid_argument("sampling: " + what); }

std::string show(float v) {  // "0.5", not to_string's "0.500000"
  std::ostringstream s;
  s << v;
  return s.str();
}

// Candidates rank by logit, then by id so equal logits always come out in the same order.
bool ranks_before(const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}
constexpr auto by_weight = ranks_before;  // after the softmax, weights order the same way as logits

}  // namespace

void validate(const SamplingOptions& o) {
  if (!std::isfinite(o.temperature) || o.temperature < 0.0f) {
    bad_option("temperature must be a finite number >= 0 (0 = greedy), got " + show(o.temperature));
  }
  if (o.top_k < 0) bad_option("top_k must be >= 0 (0 = off), got " + std::to_string(o.top_k));
  if (!(o.top_p > 0.0f && o.top_p <= 1.0f)) {
    bad_option("top_p must be in (0, 1] (1 = off), got " + show(o.top_p));
  }
  if (!(o.min_p >= 0.0f && o.min_p <= 1.0f)) {
    bad_option("min_p must be in [0, 1] (0 = off), got " + show(o.min_p));
  }
  if (!std::isfinite(o.repetition_penalty) || o.repetition_penalty <= 0.0f) {
    bad_option("repetition_penalty must be a finite number > 0 (1 = off), got " + show(o.repetition_penalty));
  }
  if (o.repeat_last_n < 0) bad_option("repeat_last_n must be >= 0, got " + std::to_string(o.repeat_last_n));
}

Sampler::Sampler(SamplingOptions options) : options_(options), engine_(options.seed) { validate(options_); }

void Sampler::reseed(uint64_t seed) {
  options_.seed = seed;
  engine_.seed(seed);
}

double Sampler::next_uniform() {
  // The top 53 bits of one 64-bit draw: exactly representable, uniform on [0, 1).
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  if (logits.empty()) throw std::invalid_argument("sampling: empty logits");
  if (logits.size() > static_cast<std::size_t>(std::numeric_limits<int32_t>::max())) {
    throw std::invalid_argument("sampling: more logits than int32 token ids");
  }
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const auto vocab = static_cast<int32_t>(logits.size());
  // One branch-free pass: NaN and +inf are caller bugs, -inf is a mask.
  bool bad = false;
  float max_logit = -kInf;
  for (float l : logits) {
    bad |= std::isnan(l) || l == kInf;
    max_logit = l > max_logit ? l : max_logit;
  }
  if (bad) throw std::invalid_argument("sampling: logits contain NaN or +inf");
  if (max_logit == -kInf) throw std::invalid_argument("sampling: every logit is -inf");

  // Repetition penalty, on a copy: the caller's logits stay as they were.
  std::span<const float> scores = logits;
  const std::size_t window = std::min(history.size(), static_cast<std::size_t>(options_.repeat_last_n));
  if (options_.repetition_penalty != 1.0f && window > 0) {
    recent_.assign(history.end() - static_cast<std::ptrdiff_t>(window), history.end());
    std::sort(recent_.begin(), recent_.end());
    recent_.erase(std::unique(recent_.begin(), recent_.end()), recent_.end());
    if (recent_.front() < 0 || recent_.back() >= vocab) {
      throw std::invalid_argument("sampling: history token " +
                                  std::to_string(recent_.front() < 0 ? recent_.front() : recent_.back()) +
                                  " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
    }
    logits_.assign(logits.begin(), logits.end());
    const float penalty = options_.repetition_penalty;
    for (int32_t id : recent_) {
      float& l = logits_[static_cast<std::size_t>(id)];
      l = l > 0.0f ? l / penalty : l * penalty;
    }
    scores = logits_;
  }

  if (options_.temperature == 0.0f) {
    // The running best is kept in a register: re-reading scores[best] makes every step wait on a load.
    int32_t best = 0;
    float best_score = scores[0];
    for (int32_t i = 1; i < vocab; ++i) {
      const float l = scores[static_cast<std::size_t>(i)];
      if (l > best_score) {
        best_score = l;
        best = i;
      }
    }
    return best;
  }

  ranked_.clear();
  const auto k = static_cast<std::size_t>(options_.top_k);
  if (k > 0 && k < logits.size()) {
    // One pass with a min-heap of the k best so far (worst on top): most tokens lose one comparison
    // against the heap's worst and cost nothing more.
    ranked_.reserve(k);
    for (int32_t i = 0; i < vocab; ++i) {
      const std::pair<float, int32_t> c{scores[static_cast<std::size_t>(i)], i};
      if (c.first == -kInf) continue;
      if (ranked_.size() < k) {
        ranked_.push_back(c);
        std::push_heap(ranked_.begin(), ranked_.end(), ranks_before);
      } else if (ranks_before(c, ranked_.front())) {
        std::pop_heap(ranked_.begin(), ranked_.end(), ranks_before);
        ranked_.back() = c;
        std::push_heap(ranked_.begin(), ranked_.end(), ranks_before);
      }
    }
    std::sort_heap(ranked_.begin(), ranked_.end(), ranks_before);  // best first
  } else {
    ranked_.reserve(logits.size());
    for (int32_t i = 0; i < vocab; ++i) {
      const float l = scores[static_cast<std::size_t>(i)];
      if (l != -kInf) ranked_.emplace_back(l, i);
    }
  }
  const bool sorted = k > 0 && k < logits.size();  // the top-k path leaves the candidates best first

  // Temperature and softmax; the probabilities replace the logits (the order does not change). The
  // best candidate gets exp(0) = 1 before normalization.
  float top = -kInf;
  for (const auto& c : ranked_) top = std::max(top, c.first);
  const float inv_t = 1.0f / options_.temperature;
  double total = 0.0;
  for (auto& c : ranked_) {
    c.first = std::exp((c.first - top) * inv_t);
    total += c.first;
  }

  if (options_.top_p < 1.0f) {
    keep_nucleus(total, sorted);
    total = 0.0;
    for (const auto& c : ranked_) total += c.first;
  }

  if (options_.min_p > 0.0f) {
    const float threshold = options_.min_p;  // relative to the best, whose weight is 1
    std::erase_if(ranked_, [threshold](const auto& c) { return c.first < threshold; });
    total = 0.0;
    for (const auto& c : ranked_) total += c.first;
  }

  const double target = next_uniform() * total;
  double cumulative = 0.0;
  for (const auto& c : ranked_) {
    cumulative += c.first;
    if (target < cumulative) return c.second;
  }
  return ranked_.back().second;  // rounding left target at the very top
}

void Sampler::keep_nucleus(double total, bool sorted) {
  // Sorting all candidates is the expensive part, and the nucleus is usually a small head of them:
  // sort a growing head (each round only orders the part the previous round had not) until its
  // mass reaches top_p.
  const double needed = static_cast<double>(options_.top_p) * total;
  const std::size_t n = ranked_.size();
  std::size_t ordered = sorted ? n : 0;
  std::size_t head = sorted ? n : std::min<std::size_t>(64, n);
  double cumulative = 0.0;
  std::size_t i = 0;
  for (;;) {
    if (ordered < head) {
      const auto first = ranked_.begin() + static_cast<std::ptrdiff_t>(ordered);
      const auto middle = ranked_.begin() + static_cast<std::ptrdiff_t>(head);
      std::nth_element(first, middle - 1, ranked_.end(), by_weight);
      std::sort(first, middle, by_weight);
      ordered = head;
    }
    for (; i < head; ++i) {
      cumulative += ranked_[i].first;
      if (cumulative >= needed) {
        ranked_.resize(i + 1);
        return;
      }
    }
    if (head == n) return;  // rounding: the whole set is the nucleus
    head = std::min(head * 4, n);
  }
}

}  // namespace plinth::models
