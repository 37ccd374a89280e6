// Sampler: picks the next token from a decoder's logits. Each Sampler owns its random engine, so a
// given seed, options, logits and history always give the same token, whatever other samplers do.
//
//   Sampler sampler({.temperature = 0.7f, .seed = 42});
//   int32_t next = sampler.sample(logits, tokens_so_far);
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace plinth::models {

struct SamplingOptions {
  float temperature = 0.8f;         // 0: greedy (exact argmax, ties to the lowest id)
  int top_k = 40;                   // keep the k most likely tokens; 0: off
  float top_p = 0.95f;              // keep the smallest set whose probability reaches p; 1: off
  float min_p = 0.0f;               // drop tokens below min_p * (probability of the best); 0: off
  float repetition_penalty = 1.0f;  // 1: off; > 1 makes recently seen tokens less likely
  int repeat_last_n = 64;           // how many of the latest history tokens the penalty looks at
  uint64_t seed = 0;
};

// Throws std::invalid_argument naming the first option out of range: temperature < 0 or not finite,
// top_k < 0, top_p outside (0, 1], min_p outside [0, 1], repetition_penalty <= 0 or not finite,
// repeat_last_n < 0.
void validate(const SamplingOptions& options);

class Sampler {
 public:
  // Validates the options (see validate()).
  explicit Sampler(SamplingOptions options);

  // The steps, in this order: repetition penalty over the last repeat_last_n tokens of `history`
  // (each distinct token once: a positive logit is divided by the penalty, a negative one multiplied)
  // -> top-k -> temperature -> softmax -> top-p -> min-p -> a draw from what is left.
  // Logits may hold -inf (masked tokens); NaN, +inf, an empty span, all -inf, or a history token
  // outside [0, logits.size()) throw std::invalid_argument.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history = {});

  const SamplingOptions& options() const noexcept { return options_; }
  // Restarts the random sequence (a new conversation that must replay like the first one).
  void reseed(uint64_t seed);

 private:
  double next_uniform();
  void keep_nucleus(double total, bool sorted);  // top-p over ranked_  // in [0, 1), from the engine's raw
                                                 // output so it is the same everywhere

  SamplingOptions options_;
  std::mt19937_64 engine_;
  std::vector<float> logits_;                      // penalized copy of the input
  std::vector<std::pair<float, int32_t>> ranked_;  // candidates, best first once ranked
  std::vector<int32_t> recent_;                    // distinct ids the penalty applies to
};

}  // namespace plinth::models
