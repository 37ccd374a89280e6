// RateLimiter on a fake clock: bursts, refill, retry_after values (and that waiting that long is
// enough), debt from generated tokens, unlimited rates, unknown tenants, and concurrent callers.
#include "plinth/server/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace plinth::server {
namespace {

using namespace std::chrono_literals;
using scheduler::Duration;
using scheduler::TimePoint;

class FakeClock {
 public:
  scheduler::NowFn fn() {
    return [this] { return TimePoint(Duration(ns_.load())); };
  }
  void advance(Duration d) { ns_ += d.count(); }

 private:
  std::atomic<Duration::rep> ns_{1'000'000'000};
};

TenantSettings tenant(std::string name, double rpm, double burst, double tpm) {
  TenantSettings t;
  t.name = std::move(name);
  t.requests_per_minute = rpm;
  t.request_burst = burst;
  t.tokens_per_minute = tpm;
  return t;
}

AccessConfig config_of(std::vector<TenantSettings> tenants) {
  AccessConfig c;
  c.tenants = std::move(tenants);
  return c;
}

TEST(RateLimiter, UnlimitedAlwaysAllows) {
  FakeClock clock;
  RateLimiter limiter(config_of({tenant("free", 0, 0, 0)}), clock.fn());
  for (int i = 0; i < 10000; ++i) {
    const RateDecision d = limiter.admit("free", 1'000'000);
    ASSERT_TRUE(d.allowed);
    EXPECT_EQ(d.retry_after, Duration::zero());
    EXPECT_TRUE(d.reason.empty());
    limiter.charge_tokens("free", 1'000'000'000);
  }
  // The default tenant of an empty config is unlimited too (open mode without limits).
  RateLimiter open(AccessConfig{}, clock.fn());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(open.admit("default", 1 << 20).allowed);
}

TEST(RateLimiter, BurstThenOnePerRefill) {
  FakeClock clock;
  RateLimiter limiter(config_of({tenant("acme", 60, 3, 0)}), clock.fn());  // 1 request per second
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.admit("acme", 0).allowed) << i;
  RateDecision d = limiter.admit("acme", 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 1s);
  EXPECT_EQ(d.reason, "tenant acme: 60 requests per minute");

  clock.advance(500ms);
  d = limiter.admit("acme", 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 1s);  // half a second left, rounded up
  clock.advance(500ms);
  EXPECT_TRUE(limiter.admit("acme", 0).allowed);
  EXPECT_FALSE(limiter.admit("acme", 0).allowed);

  // A long idle refills to the burst, not beyond.
  clock.advance(1h);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.admit("acme", 0).allowed) << i;
  EXPECT_FALSE(limiter.admit("acme", 0).allowed);
}

TEST(RateLimiter, RetryAfterComesFromTheRefillRate) {
  FakeClock clock;
  RateLimiter limiter(config_of({tenant("slow", 6, 1, 0)}), clock.fn());  // one request per 10 s
  EXPECT_TRUE(limiter.admit("slow", 0).allowed);
  EXPECT_EQ(limiter.admit("slow", 0).retry_after, 10s);
  clock.advance(3s);
  EXPECT_EQ(limiter.admit("slow", 0).retry_after, 7s);
  clock.advance(6500ms);
  EXPECT_EQ(limiter.admit("slow", 0).retry_after, 1s);  // 0.5 s rounded up
  clock.advance(500ms);
  EXPECT_TRUE(limiter.admit("slow", 0).allowed);

  RateLimiter fast(config_of({tenant("fast", 600, 2, 0)}), clock.fn());  // 10 per second
  EXPECT_TRUE(fast.admit("fast", 0).allowed);
  EXPECT_TRUE(fast.admit("fast", 0).allowed);
  const RateDecision d = fast.admit("fast", 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 1s);  // 0.1 s: whole seconds are what Retry-After can say
  clock.advance(100ms);
  EXPECT_TRUE(fast.admit("fast", 0).allowed);
}

TEST(RateLimiter, DefaultBurstIsTenSecondsOfTheRate) {
  FakeClock clock;
  RateLimiter limiter(config_of({tenant("acme", 60, 0, 0)}), clock.fn());
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.admit("acme", 0).allowed) << i;
  EXPECT_FALSE(limiter.admit("acme", 0).allowed);
}

TEST(RateLimiter, TokenBucketTakesPromptTokensAndRefusesWithoutTakingAnything) {
  FakeClock clock;
  RateLimiter limiter(config_of({tenant("acme", 60, 2, 600)}), clock.fn());  // 10 tokens per second
  EXPECT_TRUE(limiter.admit("acme", 500).allowed);                           // 100 tokens and 1 request left
  RateDecision d = limiter.admit("acme", 200);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 10s);  // 100 tokens short at 10 per second
  EXPECT_EQ(d.reason, "tenant acme: 600 tokens per minute");
  // The refusal took neither the request nor any token: both are still there.
  EXPECT_TRUE(limiter.admit("acme", 100).allowed);
  d = limiter.admit("acme", 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "tenant acme: 60 requests per minute");
  EXPECT_EQ(d.retry_after, 1s);
}

TEST(RateLimiter, BothLimitsNamedAndTheLongerWaitGiven) {
  FakeClock clock;
  RateLimiter limiter(config_of({tenant("acme", 60, 1, 60)}), clock.fn());  // 1 request and 1 token per s
  EXPECT_TRUE(limiter.admit("acme", 60).allowed);
  const RateDecision d = limiter.admit("acme", 5);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 5s);
  EXPECT_EQ(d.reason, "tenant acme: 60 requests per minute and 60 tokens per minute");
}

TEST(RateLimiter, GeneratedTokensLeaveADebtThatDelaysTheNextRequest) {
  FakeClock clock;
  RateLimiter limiter(config_of({tenant("acme", 0, 0, 60)}), clock.fn());  // 1 token per second
  EXPECT_TRUE(limiter.admit("acme", 10).allowed);                          // 50 left
  limiter.charge_tokens("acme", 110);                                      // -60
  RateDecision d = limiter.admit("acme", 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 60s);
  EXPECT_EQ(d.reason, "tenant acme: 60 tokens per minute");
  d = limiter.admit("acme", 5);
  EXPECT_EQ(d.retry_after, 65s);
  clock.advance(59s);
  EXPECT_EQ(limiter.admit("acme", 0).retry_after, 1s);
  clock.advance(1s);
  EXPECT_TRUE(limiter.admit("acme", 0).allowed);
  EXPECT_FALSE(limiter.admit("acme", 1).allowed);
}

TEST(RateLimiter, PromptLargerThanTheBucketWaitsForAFullBucket) {
  FakeClock clock;
  RateLimiter limiter(config_of({tenant("acme", 0, 0, 60)}), clock.fn());
  EXPECT_TRUE(limiter.admit("acme", 10).allowed);  // 50 left
  RateDecision d = limiter.admit("acme", 1000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 10s);  // until the bucket is full, not 950 s
  clock.advance(10s);
  EXPECT_TRUE(limiter.admit("acme", 1000).allowed);  // 60 - 1000 = -940
  d = limiter.admit("acme", 1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 941s);  // the debt keeps the long-run rate
}

TEST(RateLimiter, WaitingRetryAfterIsAlwaysEnough) {
  FakeClock clock;
  RateLimiter limiter(config_of({tenant("t", 7, 3, 1234)}), clock.fn());
  std::uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  int refused = 0;
  for (int i = 0; i < 300; ++i) {
    const std::size_t prompt = next() % 400;
    RateDecision d = limiter.admit("t", prompt);
    if (!d.allowed) {
      ++refused;
      ASSERT_GE(d.retry_after, 1s);
      clock.advance(d.retry_after);
      d = limiter.admit("t", prompt);
      ASSERT_TRUE(d.allowed) << "still refused after waiting: " << d.reason;
    }
    if (next() % 2) limiter.charge_tokens("t", next() % 300);
    clock.advance(std::chrono::milliseconds(next() % 3000));
  }
  EXPECT_GT(refused, 50);
}

TEST(RateLimiter, TenantsHaveTheirOwnBuckets) {
  FakeClock clock;
  RateLimiter limiter(config_of({tenant("a", 60, 1, 0), tenant("b", 60, 1, 0)}), clock.fn());
  EXPECT_TRUE(limiter.admit("a", 0).allowed);
  EXPECT_FALSE(limiter.admit("a", 0).allowed);
  EXPECT_TRUE(limiter.admit("b", 0).allowed);
}

TEST(RateLimiter, UnknownTenantsShareTheDefaultTenantsBuckets) {
  FakeClock clock;
  AccessConfig config = config_of({tenant("acme", 0, 0, 0)});
  config.default_tenant.requests_per_minute = 60;
  config.default_tenant.request_burst = 2;
  RateLimiter limiter(config, clock.fn());
  EXPECT_TRUE(limiter.admit("nobody", 0).allowed);
  EXPECT_TRUE(limiter.admit("default", 0).allowed);
  const RateDecision d = limiter.admit("made-up-name", 0);  // a new name earns no new bucket
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "tenant default: 60 requests per minute");
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.admit("acme", 0).allowed);
}

TEST(RateLimiter, ConcurrentAdmitsTakeExactlyTheBurst) {
  FakeClock clock;  // never advanced: no refill during the test
  RateLimiter limiter(config_of({tenant("acme", 60, 50, 0), tenant("tok", 0, 0, 6000)}), clock.fn());
  std::atomic<int> requests_allowed{0};
  std::atomic<int> tokens_allowed{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (limiter.admit("acme", 0).allowed) ++requests_allowed;
        if (limiter.admit("tok", 10).allowed) ++tokens_allowed;
        limiter.charge_tokens("acme", 1);  // unlimited tokens: no effect, but takes the lock
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(requests_allowed.load(), 50);
  EXPECT_EQ(tokens_allowed.load(), 600);
}

}  // namespace
}  // namespace plinth::server
