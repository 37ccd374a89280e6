// Sampler: greedy, determinism, each filter's effect, and option validation.
#include "plinth/models/sampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

namespace plinth::models {
namespace {

std::vector<float> random_logits(std::size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

int32_t argmax(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

std::vector<double> softmax(const std::vector<float>& logits) {
  const double m = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double total = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) total += p[i] = std::exp(logits[i] - m);
  for (auto& x : p) x /= total;
  return p;
}

TEST(Sampler, GreedyIsExactArgmax) {
  Sampler sampler({.temperature = 0.0f});
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const auto logits = random_logits(49152, seed);
    EXPECT_EQ(sampler.sample(logits), argmax(logits));
  }
}

TEST(Sampler, GreedyTiesGoToTheLowestId) {
  Sampler sampler({.temperature = 0.0f});
  const std::vector<float> logits{1.0f, 5.0f, -2.0f, 5.0f, 5.0f};
  EXPECT_EQ(sampler.sample(logits), 1);
  const std::vector<float> masked{-INFINITY, -INFINITY, 0.5f};
  EXPECT_EQ(sampler.sample(masked), 2);
}

TEST(Sampler, SameSeedSameTokens) {
  const auto logits = random_logits(49152, 7);
  const SamplingOptions options{.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 1234};
  Sampler a(options);
  Sampler b(options);
  Sampler other({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 1235});
  std::vector<int32_t> ta, tb, tc;
  for (int i = 0; i < 200; ++i) {
    ta.push_back(a.sample(logits));
    tb.push_back(b.sample(logits));
    tc.push_back(other.sample(logits));
  }
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, tc);
  // Draws vary from call to call (the distribution is spread out).
  EXPECT_GT(std::set<int32_t>(ta.begin(), ta.end()).size(), 20u);

  a.reseed(1234);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(a.sample(logits), ta[static_cast<std::size_t>(i)]) << i;
}

TEST(Sampler, TopKOneIsGreedy) {
  Sampler sampler({.temperature = 1.5f, .top_k = 1, .top_p = 1.0f, .seed = 3});
  for (uint32_t seed = 0; seed < 50; ++seed) {
    const auto logits = random_logits(1000, seed);
    EXPECT_EQ(sampler.sample(logits), argmax(logits));
  }
}

TEST(Sampler, TopKOnlyDrawsTheKBest) {
  const auto logits = random_logits(5000, 11);
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  const std::set<int32_t> best(order.begin(), order.begin() + 5);
  // A high temperature flattens the distribution, so without top-k many other tokens would appear.
  Sampler sampler({.temperature = 50.0f, .top_k = 5, .top_p = 1.0f, .seed = 9});
  std::set<int32_t> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(sampler.sample(logits));
  EXPECT_EQ(seen, best);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
  // Probabilities 0.5, 0.25, 0.125, 0.0625, ...: top_p = 0.7 must keep exactly the first two.
  std::vector<float> logits;
  for (int i = 0; i < 10; ++i) logits.push_back(-static_cast<float>(i) * std::log(2.0f));
  Sampler sampler({.temperature = 1.0f, .top_k = 0, .top_p = 0.7f, .seed = 5});
  std::map<int32_t, int> counts;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) ++counts[sampler.sample(logits)];
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_TRUE(counts.count(0) && counts.count(1));
  // Renormalized: 2/3 and 1/3.
  EXPECT_NEAR(counts[0] / static_cast<double>(draws), 2.0 / 3.0, 0.02);
}

TEST(Sampler, TopPWithTopKLargerThanTheVocabulary) {
  std::vector<float> logits;
  for (int i = 0; i < 10; ++i) logits.push_back(-static_cast<float>(i) * std::log(2.0f));
  Sampler sampler({.temperature = 1.0f, .top_k = 100, .top_p = 0.7f, .seed = 6});
  std::set<int32_t> seen;
  for (int i = 0; i < 5000; ++i) seen.insert(sampler.sample(logits));
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1}));
}

TEST(Sampler, TopPAppliesToTheTopKRenormalized) {
  const auto logits = random_logits(3000, 42);
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  std::vector<float> head;
  for (int i = 0; i < 50; ++i)
    head.push_back(logits[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])]);
  const auto p = softmax(head);  // already in descending order
  std::set<int32_t> nucleus;
  double mass = 0;
  for (std::size_t i = 0; i < p.size() && mass < 0.6; ++i) {
    nucleus.insert(order[i]);
    mass += p[i];
  }
  Sampler sampler({.temperature = 1.0f, .top_k = 50, .top_p = 0.6f, .seed = 4});
  std::set<int32_t> seen;
  for (int i = 0; i < 3000; ++i) seen.insert(sampler.sample(logits));
  EXPECT_EQ(seen, nucleus);
}

TEST(Sampler, TopPMassProperty) {
  // Over random distributions: every drawn token lies inside the top-p nucleus computed here.
  for (uint32_t seed = 0; seed < 10; ++seed) {
    const auto logits = random_logits(2000, seed + 100);
    const auto p = softmax(logits);
    std::vector<int32_t> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return p[a] > p[b]; });
    std::set<int32_t> nucleus;
    double mass = 0;
    for (int32_t id : order) {
      nucleus.insert(id);
      mass += p[static_cast<std::size_t>(id)];
      if (mass >= 0.5) break;
    }
    Sampler sampler({.temperature = 1.0f, .top_k = 0, .top_p = 0.5f, .seed = seed});
    std::set<int32_t> seen;
    for (int i = 0; i < 500; ++i) {
      const int32_t t = sampler.sample(logits);
      ASSERT_TRUE(nucleus.count(t)) << "token " << t << " outside the 0.5 nucleus (seed " << seed << ")";
      seen.insert(t);
    }
    EXPECT_GT(seen.size(), nucleus.size() / 2) << "the nucleus should be sampled broadly";
  }
}

TEST(Sampler, DrawFrequenciesFollowTheDistribution) {
  const std::vector<float> logits{std::log(0.6f), std::log(0.3f), std::log(0.1f)};
  Sampler sampler({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 77});
  std::vector<int> counts(3);
  const int draws = 30000;
  for (int i = 0; i < draws; ++i) ++counts[static_cast<std::size_t>(sampler.sample(logits))];
  EXPECT_NEAR(counts[0] / double(draws), 0.6, 0.015);
  EXPECT_NEAR(counts[1] / double(draws), 0.3, 0.015);
  EXPECT_NEAR(counts[2] / double(draws), 0.1, 0.015);
}

TEST(Sampler, LowTemperatureTendsToGreedy) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const auto logits = random_logits(49152, seed + 500);
    Sampler sampler({.temperature = 1e-4f, .top_k = 0, .top_p = 1.0f, .seed = seed});
    EXPECT_EQ(sampler.sample(logits), argmax(logits));
  }
}

TEST(Sampler, HighTemperatureFlattens) {
  const std::vector<float> logits{2.0f, 0.0f};
  const int draws = 20000;
  auto share_of_best = [&](float t) {
    Sampler sampler({.temperature = t, .top_k = 0, .top_p = 1.0f, .seed = 1});
    int best = 0;
    for (int i = 0; i < draws; ++i) best += sampler.sample(logits) == 0;
    return best / static_cast<double>(draws);
  };
  EXPECT_NEAR(share_of_best(1.0f), 1.0 / (1.0 + std::exp(-2.0)), 0.015);
  EXPECT_NEAR(share_of_best(4.0f), 1.0 / (1.0 + std::exp(-0.5)), 0.015);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  // p = 0.5, 0.3, 0.15, 0.05: min_p 0.2 keeps tokens with p >= 0.1, i.e. 0, 1, 2.
  const std::vector<float> logits{std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  Sampler sampler({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .min_p = 0.2f, .seed = 8});
  std::set<int32_t> seen;
  for (int i = 0; i < 5000; ++i) seen.insert(sampler.sample(logits));
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1, 2}));
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  Sampler sampler({.temperature = 0.0f, .repetition_penalty = 2.0f, .repeat_last_n = 64});
  // Token 0 leads; after it is seen, 4.0 / 2 = 2.0 < 3.0 so token 1 wins.
  const std::vector<float> logits{4.0f, 3.0f, -1.0f};
  EXPECT_EQ(sampler.sample(logits), 0);
  const std::vector<int32_t> seen_zero{0};
  EXPECT_EQ(sampler.sample(logits, seen_zero), 1);
  // Negative logits get more negative: -1 * 2 = -2 < -1.5.
  const std::vector<float> negative{-1.0f, -1.5f};
  EXPECT_EQ(sampler.sample(negative), 0);
  EXPECT_EQ(sampler.sample(negative, seen_zero), 1);
  // Repeats within the window are penalized once, not once per occurrence: 4 / 2 = 2 > 1.9.
  const std::vector<float> close{4.0f, 1.9f};
  const std::vector<int32_t> many_zeros{0, 0, 0, 0};
  EXPECT_EQ(sampler.sample(close, many_zeros), 0);
  // The caller's logits are not modified.
  EXPECT_EQ(logits[0], 4.0f);
}

TEST(Sampler, RepetitionPenaltyOnlyLooksAtTheLastN) {
  Sampler sampler({.temperature = 0.0f, .repetition_penalty = 2.0f, .repeat_last_n = 2});
  const std::vector<float> logits{4.0f, 3.0f, 0.0f};
  const std::vector<int32_t> old_zero{0, 2, 2};  // token 0 is outside the window of 2
  EXPECT_EQ(sampler.sample(logits, old_zero), 0);
  const std::vector<int32_t> recent_zero{2, 2, 0};
  EXPECT_EQ(sampler.sample(logits, recent_zero), 1);
  Sampler off({.temperature = 0.0f, .repetition_penalty = 2.0f, .repeat_last_n = 0});
  EXPECT_EQ(off.sample(logits, recent_zero), 0);
}

TEST(Sampler, RejectsInvalidOptions) {
  auto message = [](SamplingOptions o) -> std::string {
    try {
      Sampler s(o);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message({.temperature = -0.1f}).find("temperature"), std::string::npos);
  EXPECT_NE(message({.temperature = std::numeric_limits<float>::quiet_NaN()}).find("temperature"),
            std::string::npos);
  EXPECT_NE(message({.top_k = -1}).find("top_k"), std::string::npos);
  EXPECT_NE(message({.top_p = 0.0f}).find("top_p"), std::string::npos);
  EXPECT_NE(message({.top_p = 1.01f}).find("top_p"), std::string::npos);
  EXPECT_NE(message({.top_p = -0.5f}).find("top_p"), std::string::npos);
  EXPECT_NE(message({.min_p = 1.5f}).find("min_p"), std::string::npos);
  EXPECT_NE(message({.repetition_penalty = 0.0f}).find("repetition_penalty"), std::string::npos);
  EXPECT_NE(message({.repeat_last_n = -1}).find("repeat_last_n"), std::string::npos);
  EXPECT_EQ(message({.temperature = 0.0f, .top_k = 0, .top_p = 1.0f}), "");
}

TEST(Sampler, RejectsBadLogitsAndHistory) {
  Sampler sampler({.temperature = 1.0f, .repetition_penalty = 1.1f, .seed = 1});
  const std::vector<float> empty;
  EXPECT_THROW(sampler.sample(empty), std::invalid_argument);
  const std::vector<float> nan{0.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(sampler.sample(nan), std::invalid_argument);
  const std::vector<float> all_masked{-INFINITY, -INFINITY};
  EXPECT_THROW(sampler.sample(all_masked), std::invalid_argument);
  const std::vector<float> ok{0.0f, 1.0f};
  const std::vector<int32_t> out_of_range{5};
  EXPECT_THROW(sampler.sample(ok, out_of_range), std::invalid_argument);
}

TEST(Sampler, MaskedTokensAreNeverDrawn) {
  std::vector<float> logits(100, 0.0f);
  for (std::size_t i = 0; i < logits.size(); i += 2) logits[i] = -INFINITY;
  Sampler sampler({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 2});
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(sampler.sample(logits) % 2, 1);
}

}  // namespace
}  // namespace plinth::models
