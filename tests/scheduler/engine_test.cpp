// Engine with real threads: concurrent submitters, routing by prefix, failover between replicas.
// Waits are bounded with generous timeouts; no assertion depends on timing.
#include "plinth/scheduler/engine.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fake_model.hpp"
#include "finish_counter.hpp"
#include "sim.hpp"

namespace plinth::scheduler {
namespace {

using namespace std::chrono_literals;
using testing::fake_stream;
using testing::FakeModel;
using testing::greedy;
using testing::tokens_from;

constexpr int kVocab = 1000;

using Finishes = testing::FinishCounter;

class ThreadSink final : public StreamSink {
 public:
  explicit ThreadSink(Finishes& f) : finishes_(f) {}
  void on_delta(const TokenDelta& d) override {
    std::lock_guard lock(m_);
    if (d.token != kNoToken) tokens_.push_back(d.token);
  }
  void on_finish(const FinishInfo& f) override {
    {
      std::lock_guard lock(m_);
      ++count_;
      finish_ = f;
    }
    finishes_.add();
  }
  std::vector<Token> tokens() const {
    std::lock_guard lock(m_);
    return tokens_;
  }
  FinishInfo finish() const {
    std::lock_guard lock(m_);
    return finish_;
  }
  int count() const {
    std::lock_guard lock(m_);
    return count_;
  }

 private:
  Finishes& finishes_;
  mutable std::mutex m_;
  std::vector<Token> tokens_;
  FinishInfo finish_;
  int count_ = 0;
};

// Holds the engine threads' first model step until the test has submitted everything, so what each
// replica receives does not depend on thread timing.
class Gate {
 public:
  std::function<void()> wait() {
    return
        [f = opened_] { f.wait_for(std::chrono::seconds(10)); };  // bounded: a failed ASSERT never opens it
  }
  void open() { promise_.set_value(); }

 private:
  std::promise<void> promise_;
  std::shared_future<void> opened_ = promise_.get_future().share();
};

Request make(std::vector<Token> prompt, std::size_t max_tokens, std::shared_ptr<StreamSink> sink) {
  Request r;
  r.prompt = std::move(prompt);
  r.sampling = greedy();
  r.max_tokens = max_tokens;
  r.sink = std::move(sink);
  return r;
}

TEST(Engine, ManyConcurrentSubmittersAllFinish) {
  FakeModel a({}), b({});
  Engine engine({a, b}, {.scheduler = {.max_batch_tokens = 256, .max_running = 16}});
  Finishes finishes;
  constexpr int kThreads = 8, kEach = 16;
  std::vector<std::vector<std::shared_ptr<ThreadSink>>> sinks(kThreads);
  std::vector<std::thread> submitters;
  for (int t = 0; t < kThreads; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto sink = std::make_shared<ThreadSink>(finishes);
        sinks[static_cast<std::size_t>(t)].push_back(sink);
        EXPECT_TRUE(engine.submit(make(tokens_from(t * 100 + i, 24), 16, sink)));
      }
    });
  }
  for (auto& th : submitters) th.join();
  ASSERT_TRUE(finishes.wait_for(kThreads * kEach));
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      const auto& s = sinks[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)];
      EXPECT_EQ(s->count(), 1);
      EXPECT_EQ(s->finish().reason, FinishReason::length);
      EXPECT_EQ(s->tokens(), fake_stream(tokens_from(t * 100 + i, 24), 16, kVocab));
    }
  }
  EXPECT_EQ(engine.in_flight(), 0u);
  engine.stop();  // the stats of each replica's last step are final now
  const auto stats = engine.stats();
  EXPECT_EQ(stats[0].finished + stats[1].finished, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_EQ(stats[0].generated_tokens + stats[1].generated_tokens,
            static_cast<std::uint64_t>(kThreads * kEach * 16));
  const auto health = engine.health();
  EXPECT_GT(health[0].steps, 0u);  // both replicas took work
  EXPECT_GT(health[1].steps, 0u);
}

TEST(Engine, FailoverKeepsStreamsIntact) {
  Gate gate;
  FakeModel flaky({.fail_from_step = 15, .before_step = gate.wait()}), steady({.before_step = gate.wait()});
  Engine engine({flaky, steady}, {.scheduler = {.max_batch_tokens = 512}, .max_consecutive_errors = 3});
  Finishes finishes;
  std::vector<std::shared_ptr<ThreadSink>> sinks;
  for (int i = 0; i < 32; ++i) {
    sinks.push_back(std::make_shared<ThreadSink>(finishes));
    ASSERT_TRUE(engine.submit(make(tokens_from(i * 7, 40), 24, sinks.back())));
  }
  gate.open();
  ASSERT_TRUE(finishes.wait_for(32));
  std::size_t moved = 0;
  for (int i = 0; i < 32; ++i) {
    const auto& s = sinks[static_cast<std::size_t>(i)];
    EXPECT_EQ(s->count(), 1);
    EXPECT_EQ(s->finish().reason, FinishReason::length) << s->finish().message;
    EXPECT_EQ(s->tokens(), fake_stream(tokens_from(i * 7, 40), 24, kVocab)) << "request " << i;
    if (s->finish().usage.preemptions > 0) ++moved;
  }
  EXPECT_GT(moved, 0u);  // some streams really were cut mid-generation and resumed elsewhere
  const auto health = engine.health();
  EXPECT_FALSE(health[0].healthy);
  EXPECT_EQ(health[0].consecutive_errors, 3);
  EXPECT_NE(health[0].last_error.find("fake device lost"), std::string::npos);
  EXPECT_TRUE(health[1].healthy);
  std::cout << "[ measure  ] failover: " << moved << " of 32 streams moved mid-generation, all intact\n";
}

TEST(Engine, NoHealthyReplicaFinishesWithError) {
  Gate gate;
  FakeModel broken({.fail_from_step = 3, .before_step = gate.wait()});
  Engine engine({broken}, {.max_consecutive_errors = 2});
  Finishes finishes;
  std::vector<std::shared_ptr<ThreadSink>> sinks;
  for (int i = 0; i < 4; ++i) {
    sinks.push_back(std::make_shared<ThreadSink>(finishes));
    ASSERT_TRUE(engine.submit(make(tokens_from(i, 20), 50, sinks.back())));
  }
  gate.open();
  ASSERT_TRUE(finishes.wait_for(4));
  for (int i = 0; i < 4; ++i) {
    const auto& s = sinks[static_cast<std::size_t>(i)];
    EXPECT_EQ(s->finish().reason, FinishReason::error);
    EXPECT_NE(s->finish().message.find("no healthy replica"), std::string::npos) << s->finish().message;
    EXPECT_NE(s->finish().message.find("fake device lost"), std::string::npos) << s->finish().message;
    // What was streamed before the failure is a prefix of the right stream.
    const auto got = s->tokens();
    const auto want = fake_stream(tokens_from(i, 20), 50, kVocab);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin()));
  }
  EXPECT_FALSE(engine.health()[0].healthy);
  const SubmitResult r = engine.submit(make(tokens_from(1, 8), 4, nullptr));
  EXPECT_EQ(r.reason, RejectReason::unavailable);
  EXPECT_NE(r.message.find("no healthy replica"), std::string::npos);
}

TEST(Engine, RoutesToTheReplicaHoldingThePrefix) {
  FakeModel a({}), b({});
  Engine engine({a, b}, {});
  Finishes finishes;
  const auto system = tokens_from(11, 256);
  auto with = [&](Token seed) {
    auto p = system;
    const auto tail = tokens_from(seed, 12);
    p.insert(p.end(), tail.begin(), tail.end());
    return p;
  };
  auto first = std::make_shared<ThreadSink>(finishes);
  ASSERT_TRUE(engine.submit(make(with(500), 2, first)));
  ASSERT_TRUE(finishes.wait_for(1));
  // Load the replica that holds the prefix a little; the next one with that prefix still goes there.
  auto busy = std::make_shared<ThreadSink>(finishes);
  auto second = std::make_shared<ThreadSink>(finishes);
  ASSERT_TRUE(engine.submit(make(with(600), 200, busy)));
  ASSERT_TRUE(engine.submit(make(with(700), 2, second)));
  ASSERT_TRUE(finishes.wait_for(3));
  EXPECT_EQ(second->finish().usage.cached_prompt_tokens, 256u);
  EXPECT_EQ(busy->finish().usage.cached_prompt_tokens, 256u);
}

TEST(Engine, TenantBoundRejectsWithRetryAfterAndCancelFinishes) {
  Gate gate;
  FakeModel a({.before_step = gate.wait()});
  EngineOptions o;
  o.scheduler.tenants["small"] = {.weight = 1, .max_queued = 1, .max_running = 1};
  Engine engine({a}, o);
  Finishes finishes;
  auto first = std::make_shared<ThreadSink>(finishes);
  auto second = std::make_shared<ThreadSink>(finishes);
  Request r1 = make(tokens_from(1, 8), 100000, first);
  r1.tenant = "small";
  r1.cancel = std::make_shared<CancelToken>();
  const auto cancel = r1.cancel;
  Request r2 = make(tokens_from(2, 8), 4, second);
  r2.tenant = "small";
  ASSERT_TRUE(engine.submit(std::move(r1)));
  ASSERT_TRUE(engine.submit(std::move(r2)));
  Request r3 = make(tokens_from(3, 8), 4, nullptr);
  r3.tenant = "small";
  const SubmitResult rejected = engine.submit(std::move(r3));
  EXPECT_EQ(rejected.reason, RejectReason::tenant_queue_full);
  EXPECT_GT(rejected.retry_after, Duration::zero());
  gate.open();
  cancel->cancel();
  ASSERT_TRUE(finishes.wait_for(2));
  EXPECT_EQ(first->finish().reason, FinishReason::cancelled);
  EXPECT_EQ(second->finish().reason, FinishReason::length);
  EXPECT_EQ(engine.in_flight(), 0u);
}

TEST(Engine, ExpectedWaitBoundRejectsWhatWouldStartLate) {
  // A fake clock that moves 100 ms per model step, and steps held until the test lets them run, so the
  // admission decisions below do not depend on thread timing.
  std::atomic<std::int64_t> now_ms{0};
  auto now = [&] { return TimePoint(std::chrono::milliseconds(now_ms.load())); };
  std::mutex m;
  std::condition_variable cv;
  bool running = false;
  FakeModel a({.before_step = [&] {
    std::unique_lock lock(m);
    cv.wait_for(lock, 10s, [&] { return running; });
    now_ms += 100;
  }});
  const auto run = [&](bool on) {
    {
      std::lock_guard lock(m);
      running = on;
    }
    cv.notify_all();
  };
  EngineOptions o;
  o.scheduler.max_running = 2;
  o.scheduler.default_retry_after = 1s;  // what a slot is expected to be held before anything finished
  o.scheduler.prefill_per_decode = 0.5;  // while sequences decode, a step takes 8 prompt tokens
  o.scheduler.min_prefill_chunk = 8;
  o.max_queue_wait = 1s;
  Engine engine({a}, o, now);
  Finishes finishes;
  const auto submit = [&](int seed) {
    return engine.submit(make(tokens_from(seed, 8), 4, std::make_shared<ThreadSink>(finishes)));
  };

  // Two slots, each held 1 s: the 3rd and 4th wait 0.5 and 1 s, the 5th would wait 1.5 s.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(submit(i)) << i;
  const SubmitResult late = submit(4);
  EXPECT_EQ(late.reason, RejectReason::queue_full);
  EXPECT_NE(late.message.find("expected wait"), std::string::npos) << late.message;
  EXPECT_EQ(late.retry_after, Duration(500ms));
  run(true);
  ASSERT_TRUE(finishes.wait_for(4));

  // Measured now: a request holds its slot 3 steps (300 ms) after its first token, and a step takes
  // 100 ms. The t-th new request (t from 0) expects 0.15 s x (t - 1) for a slot (t >= 2), plus its
  // 8-token prompt and the t ahead at 8 tokens a step: 0.1 s x (t + 1). That is 0.1, 0.2, 0.45,
  // 0.7, 0.95, then 1.2 s: 5 admitted, the 6th rejected (the slots alone would admit 8).
  run(false);
  int admitted = 0;
  for (int i = 0; i < 12; ++i) admitted += submit(10 + i) ? 1 : 0;
  EXPECT_EQ(admitted, 5);
  run(true);
  ASSERT_TRUE(finishes.wait_for(4 + admitted));
  EXPECT_EQ(engine.in_flight(), 0u);
}

TEST(Engine, IdleThreadWakesForADeadline) {
  // The request cannot start (its tenant may run nothing): the idle engine thread must wake on its
  // own at the queue deadline, not at max_idle_wait.
  FakeModel a({});
  EngineOptions o{.max_idle_wait = 10s};
  o.scheduler.tenants["capped"] = {.weight = 1, .max_queued = 8, .max_running = 0};
  Engine engine({a}, o);
  Finishes finishes;
  auto sink = std::make_shared<ThreadSink>(finishes);
  Request r = make(tokens_from(1, 8), 4, sink);
  r.tenant = "capped";
  const TimePoint deadline = steady_now() + 100ms;
  r.queue_deadline = deadline;
  ASSERT_TRUE(engine.submit(std::move(r)));
  ASSERT_TRUE(finishes.wait_for(1, 5s));
  const TimePoint done = steady_now();
  EXPECT_EQ(sink->finish().reason, FinishReason::deadline);
  EXPECT_GE(done, deadline);
  std::cout << "[ measure  ] engine thread finished the request "
            << std::chrono::duration<double, std::milli>(done - deadline).count()
            << " ms after its queue deadline\n";
}

}  // namespace
}  // namespace plinth::scheduler
