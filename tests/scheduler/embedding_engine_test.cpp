// EmbeddingEngine with real threads over FakeEncoder replicas. A closed gate holds the replica inside
// its first call while the test queues a backlog, so batch compositions are deterministic; other
// waits are bounded with generous timeouts.
#include "plinth/scheduler/embedding_engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fake_encoder.hpp"
#include "finish_counter.hpp"
#include "sim.hpp"

namespace plinth::scheduler {
namespace {

using namespace std::chrono_literals;
using testing::FakeEncoder;

using Results = testing::FinishCounter;

class Sink final : public EmbeddingSink {
 public:
  explicit Sink(Results& r) : results_(r) {}
  void on_finish(const EmbeddingResult& r) override {
    {
      std::lock_guard lock(m_);
      ++count_;
      result_ = r;
      at_ = steady_now();
    }
    results_.add();
  }
  EmbeddingResult result() const {
    std::lock_guard lock(m_);
    return result_.value_or(EmbeddingResult{});
  }
  int count() const {
    std::lock_guard lock(m_);
    return count_;
  }
  TimePoint at() const {
    std::lock_guard lock(m_);
    return at_;
  }

 private:
  Results& results_;
  mutable std::mutex m_;
  std::optional<EmbeddingResult> result_;
  int count_ = 0;
  TimePoint at_{};
};

// `n` inputs of `len` tokens; the first token of each names the request (`tag`), so a recorded call
// tells which request its inputs came from.
std::vector<std::vector<Token>> inputs(Token tag, std::size_t n, std::size_t len) {
  std::vector<std::vector<Token>> v(n, std::vector<Token>(len));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t p = 0; p < len; ++p) v[i][p] = p == 0 ? tag : static_cast<Token>(i * 31 + p);
  return v;
}

EmbeddingRequest make(std::vector<std::vector<Token>> in, std::shared_ptr<Sink> sink,
                      std::string tenant = "default") {
  EmbeddingRequest r;
  r.inputs = std::move(in);
  r.tenant = std::move(tenant);
  r.sink = std::move(sink);
  return r;
}

// The rows the fake gives these (truncated) inputs.
std::vector<float> expected(const std::vector<std::vector<Token>>& in, int dim, std::size_t max_len) {
  std::vector<float> out;
  for (const auto& x : in) {
    const auto row = FakeEncoder::expected(std::span<const Token>(x).first(std::min(x.size(), max_len)), dim);
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

std::size_t tokens_of(const std::vector<std::vector<Token>>& call) {
  std::size_t n = 0;
  for (const auto& x : call) n += x.size();
  return n;
}

TEST(EmbeddingEngine, BatchesStayWithinTheBudgetInQueueOrder) {
  FakeEncoder enc(8, 64, 16);
  EmbeddingEngine engine({enc}, {.max_batch_tokens = 1000});  // the encoder's 64 is the budget
  Results results;
  enc.close_gate();
  auto gate_sink = std::make_shared<Sink>(results);
  ASSERT_TRUE(engine.submit(make(inputs(1, 1, 4), gate_sink)));
  ASSERT_TRUE(enc.wait_entered(1));

  // A backlog of 40 requests of 1-3 inputs of 3-16 tokens (one truncated from 40), then one bigger
  // than the whole budget.
  std::vector<std::vector<std::vector<Token>>> sent;
  std::vector<std::shared_ptr<Sink>> sinks;
  for (int i = 0; i < 40; ++i) {
    auto in = inputs(100 + i, 1 + i % 3, 3 + (i * 7) % 14);
    if (i == 5) in[0].resize(40, 7);
    sent.push_back(in);
    sinks.push_back(std::make_shared<Sink>(results));
    ASSERT_TRUE(engine.submit(make(in, sinks.back())));
  }
  auto big = inputs(500, 10, 16);  // 160 tokens: alone, over three calls
  sent.push_back(big);
  sinks.push_back(std::make_shared<Sink>(results));
  ASSERT_TRUE(engine.submit(make(big, sinks.back())));
  enc.open_gate();
  ASSERT_TRUE(results.wait_for(42));

  for (std::size_t i = 0; i < sent.size(); ++i) {
    const EmbeddingResult r = sinks[i]->result();
    ASSERT_EQ(r.reason, FinishReason::stop) << i << ": " << r.message;
    EXPECT_EQ(sinks[i]->count(), 1);
    EXPECT_EQ(r.dim, 8);
    EXPECT_EQ(r.embeddings, expected(sent[i], 8, 16)) << i;
    EXPECT_EQ(r.usage.truncated_inputs, i == 5 ? 1u : 0u);
    EXPECT_EQ(r.usage.prompt_tokens, tokens_of(sent[i]) - (i == 5 ? 24u : 0u));
    EXPECT_EQ(r.usage.attempts, 1u);
    EXPECT_TRUE(r.usage.queue_wait.has_value());
  }
  // Calls after the gate's: within the budget, requests in submission order (one tenant, one class),
  // each batch ended only by a request that did not fit, and the big one alone.
  const auto calls = enc.calls();
  std::vector<Token> order;
  std::size_t next = 0;  // index into sent of the next request expected in a call
  for (std::size_t c = 1; c < calls.size(); ++c) {
    EXPECT_LE(tokens_of(calls[c]), 64u) << "call " << c;
    for (const auto& x : calls[c])
      if (order.empty() || order.back() != x[0] || x[0] == 500) order.push_back(x[0]);
    if (calls[c].front()[0] == 500) {
      for (const auto& x : calls[c]) EXPECT_EQ(x[0], 500) << "the big request shares a call";
      continue;
    }
    // The batch is full: the request after its last would not have fit.
    std::size_t batch_requests = 0;
    for (std::size_t k = 0; k < calls[c].size(); ++k)
      if (k == 0 || calls[c][k][0] != calls[c][k - 1][0]) ++batch_requests;
    next += batch_requests;
    if (next < 40) {
      std::size_t next_tokens = 0;
      for (const auto& x : sent[next]) next_tokens += std::min<std::size_t>(x.size(), 16);
      EXPECT_GT(tokens_of(calls[c]) + next_tokens, 64u) << "call " << c << " left room";
    }
  }
  std::vector<Token> want;
  for (int i = 0; i < 40; ++i) want.push_back(100 + i);
  order.erase(std::remove(order.begin(), order.end(), 500), order.end());
  EXPECT_EQ(order, want);
  EXPECT_EQ(calls.back().size() + calls[calls.size() - 2].size() + calls[calls.size() - 3].size(), 10u);

  const EmbeddingStats s = engine.stats();
  EXPECT_EQ(s.finished, 42u);
  EXPECT_EQ(s.queued + s.running + s.retrying, 0u);
  EXPECT_EQ(engine.in_flight(), 0u);
  EXPECT_GT(s.tokens_embedded, 0u);
  EXPECT_EQ(s.batches, 1u + (calls.size() - 1 - 3) + 1u);  // the big request's three calls: one batch
}

// Tokens served per tenant over the calls in which every tenant still had a backlog.
std::map<std::string, double> shares_under_backlog(const FakeEncoder& enc, const std::map<Token, std::string>& tenant_of,
                                                   const std::map<std::string, std::size_t>& backlog_tokens) {
  std::map<std::string, double> served;
  std::map<std::string, std::size_t> left = backlog_tokens;
  const auto calls = enc.calls();
  for (std::size_t c = 1; c < calls.size(); ++c) {
    for (const auto& x : calls[c]) {
      const std::string& t = tenant_of.at(x[0]);
      served[t] += static_cast<double>(x.size());
      left[t] -= x.size();
    }
    if (std::ranges::any_of(left, [](const auto& kv) { return kv.second == 0; })) break;
  }
  return served;
}

TEST(EmbeddingEngine, TenantsGetWeightedTokenShares) {
  for (const bool weighted : {false, true}) {
    FakeEncoder enc(4, 48, 16);
    EmbeddingEngineOptions o;
    if (weighted) o.tenants["heavy"] = {.weight = 3};
    EmbeddingEngine engine({enc}, o);
    Results results;
    enc.close_gate();
    ASSERT_TRUE(engine.submit(make(inputs(1, 1, 4), std::make_shared<Sink>(results), "warmup")));
    ASSERT_TRUE(enc.wait_entered(1));
    const std::vector<std::string> tenants =
        weighted ? std::vector<std::string>{"light", "heavy"} : std::vector<std::string>{"a", "b", "c"};
    std::map<Token, std::string> tenant_of;
    std::map<std::string, std::size_t> backlog;
    Token tag = 10;
    int n = 1;
    // Each floods the queue with requests of different sizes (5-16 tokens) in rounds.
    for (int i = 0; i < 150; ++i) {
      for (std::size_t t = 0; t < tenants.size(); ++t) {
        const std::size_t len = 5 + (i * 5 + t * 3) % 12;
        tenant_of[tag] = tenants[t];
        backlog[tenants[t]] += len;
        ASSERT_TRUE(engine.submit(make(inputs(tag++, 1, len), std::make_shared<Sink>(results), tenants[t])));
        ++n;
      }
    }
    tenant_of[1] = "warmup";
    enc.open_gate();
    ASSERT_TRUE(results.wait_for(n));
    const auto served = shares_under_backlog(enc, tenant_of, backlog);
    if (!weighted) {
      std::vector<double> x;
      for (const auto& t : tenants) x.push_back(served.at(t));
      const double j = testing::jain(x);
      std::cout << "[ measure  ] embedding tokens a/b/c under backlog: " << x[0] << "/" << x[1] << "/" << x[2]
                << ", Jain " << j << "\n";
      EXPECT_GE(j, 0.95);
    } else {
      const double ratio = served.at("heavy") / served.at("light");
      std::cout << "[ measure  ] embedding tokens heavy:light (weights 3:1) = " << ratio << "\n";
      EXPECT_NEAR(ratio, 3.0, 0.3);
    }
    // Each tenant's counters add up.
    for (const auto& t : engine.stats().tenants) {
      if (t.tenant == "warmup") continue;
      EXPECT_EQ(t.served_tokens, backlog.at(t.tenant)) << t.tenant;
    }
  }
}

TEST(EmbeddingEngine, AgingBoundsALowPriorityWait) {
  // A fake clock for the queue's order (the engine's waits stay real; nothing here needs them).
  std::atomic<Clock::rep> fake{Duration(std::chrono::hours(1)).count()};
  auto now = [&] { return TimePoint(Duration(fake.load())); };
  auto advance = [&](Duration d) { fake += d.count(); };
  FakeEncoder enc(4, 16, 16);  // one 16-token request per batch
  EmbeddingEngine engine({enc}, {.aging_step = 1s}, now);
  Results results;
  enc.close_gate();
  ASSERT_TRUE(engine.submit(make(inputs(1, 1, 16), std::make_shared<Sink>(results))));
  ASSERT_TRUE(enc.wait_entered(1));
  EmbeddingRequest low = make(inputs(2, 1, 16), std::make_shared<Sink>(results));
  low.priority = 2;
  ASSERT_TRUE(engine.submit(std::move(low)));
  // Class-0 requests keep arriving every 100 ms for 3 s.
  for (int i = 1; i <= 30; ++i) {
    advance(100ms);
    ASSERT_TRUE(engine.submit(make(inputs(100 + i, 1, 16), std::make_shared<Sink>(results))));
  }
  enc.open_gate();
  ASSERT_TRUE(results.wait_for(32));
  const auto calls = enc.calls();
  std::size_t low_at = 0;
  for (std::size_t c = 0; c < calls.size(); ++c)
    if (calls[c][0][0] == 2) low_at = c;
  // After 2 x aging_step it is class 0, and nothing of its tenant arriving later goes first: only the
  // 19 class-0 requests that arrived before t0 + 2 s do (the one at exactly 2 s arrived after it).
  EXPECT_EQ(low_at, 20u);
  for (std::size_t c = 1; c < low_at; ++c) EXPECT_LT(calls[c][0][0], 100 + 20);
  for (std::size_t c = low_at + 1; c < calls.size(); ++c) EXPECT_GE(calls[c][0][0], 100 + 20);
}

TEST(EmbeddingEngine, QueueAndTenantBoundsRejectAtOnce) {
  FakeEncoder enc;
  EmbeddingEngineOptions o{.max_queued = 5};
  o.tenants["small"] = {.weight = 1, .max_queued = 2};
  EmbeddingEngine engine({enc}, o);
  Results results;
  enc.close_gate();
  ASSERT_TRUE(engine.submit(make(inputs(1, 1, 4), std::make_shared<Sink>(results))));
  ASSERT_TRUE(enc.wait_entered(1));
  ASSERT_TRUE(engine.submit(make(inputs(2, 1, 4), std::make_shared<Sink>(results), "small")));
  ASSERT_TRUE(engine.submit(make(inputs(3, 1, 4), std::make_shared<Sink>(results), "small")));
  const SubmitResult tenant_full = engine.submit(make(inputs(4, 1, 4), std::make_shared<Sink>(results), "small"));
  EXPECT_FALSE(tenant_full);
  EXPECT_EQ(tenant_full.reason, RejectReason::tenant_queue_full);
  EXPECT_GT(tenant_full.retry_after, Duration::zero());
  EXPECT_NE(tenant_full.message.find("small"), std::string::npos);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(engine.submit(make(inputs(5 + i, 1, 4), std::make_shared<Sink>(results), "big")));
  const SubmitResult full = engine.submit(make(inputs(9, 1, 4), std::make_shared<Sink>(results), "big"));
  EXPECT_EQ(full.reason, RejectReason::queue_full);
  EXPECT_GT(full.retry_after, Duration::zero());
  enc.open_gate();
  ASSERT_TRUE(results.wait_for(6));
  // With throughput measured, the estimate follows it (and stays > 0).
  enc.close_gate();
  ASSERT_TRUE(engine.submit(make(inputs(1, 1, 4), std::make_shared<Sink>(results))));
  ASSERT_TRUE(enc.wait_entered(3));  // the gate's call, the backlog's, this one
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(engine.submit(make(inputs(20 + i, 1, 4), std::make_shared<Sink>(results))));
  const SubmitResult again = engine.submit(make(inputs(30, 1, 4), std::make_shared<Sink>(results)));
  EXPECT_EQ(again.reason, RejectReason::queue_full);
  EXPECT_GT(again.retry_after, Duration::zero());
  enc.open_gate();
  ASSERT_TRUE(results.wait_for(12));
  const EmbeddingStats s = engine.stats();
  EXPECT_EQ(s.rejected, 3u);
}

TEST(EmbeddingEngine, InvalidAndTooLargeRequests) {
  FakeEncoder enc;
  EmbeddingEngine engine({enc}, {.max_inputs = 4});
  EXPECT_EQ(engine.submit(make({}, nullptr)).reason, RejectReason::invalid);
  EXPECT_EQ(engine.submit(make({{1, 2}, {}}, nullptr)).reason, RejectReason::invalid);
  EXPECT_EQ(engine.submit(make({{1, -2}}, nullptr)).reason, RejectReason::invalid);
  EXPECT_EQ(engine.submit(make(inputs(1, 5, 3), nullptr)).reason, RejectReason::too_large);
  EXPECT_EQ(engine.max_input_tokens(), 16u);
  EXPECT_EQ(engine.dim(), 8);

  FakeEncoder other_dim(4);
  EXPECT_THROW(EmbeddingEngine({enc, other_dim}), std::invalid_argument);
  EXPECT_THROW(EmbeddingEngine({enc}, {.max_batch_tokens = 8}), std::invalid_argument);  // < 16
  EXPECT_THROW(EmbeddingEngine({}), std::invalid_argument);
}

TEST(EmbeddingEngine, QueueDeadlineMetWhileTheReplicaIsBusy) {
  FakeEncoder enc;
  // A long idle bound: meeting the deadline must come from sleeping until it.
  EmbeddingEngine engine({enc}, {.max_idle_wait = 10s});
  Results results;
  enc.close_gate();
  ASSERT_TRUE(engine.submit(make(inputs(1, 1, 4), std::make_shared<Sink>(results))));
  ASSERT_TRUE(enc.wait_entered(1));
  auto sink = std::make_shared<Sink>(results);
  EmbeddingRequest r = make(inputs(2, 1, 4), sink);
  const TimePoint deadline = steady_now() + 100ms;
  r.queue_deadline = deadline;
  ASSERT_TRUE(engine.submit(std::move(r)));
  ASSERT_TRUE(results.wait_for(1, 5s));
  const double late_ms = std::chrono::duration<double, std::milli>(sink->at() - deadline).count();
  std::cout << "[ measure  ] embedding queue deadline met " << late_ms << " ms late\n";
  EXPECT_EQ(sink->result().reason, FinishReason::deadline);
  EXPECT_GE(sink->at(), deadline);
  EXPECT_LT(late_ms, 50.0 * 20);  // 50 ms is the goal; the bound leaves room for a loaded machine
  EXPECT_TRUE(sink->result().embeddings.empty());
  enc.open_gate();
  ASSERT_TRUE(results.wait_for(2));
}

TEST(EmbeddingEngine, CancellationOfWaitingAndRunningRequests) {
  FakeEncoder enc;
  EmbeddingEngine engine({enc});
  Results results;
  enc.close_gate();
  auto running_sink = std::make_shared<Sink>(results);
  EmbeddingRequest first = make(inputs(1, 1, 4), running_sink);
  first.cancel = std::make_shared<CancelToken>();
  auto cancel_running = first.cancel;
  ASSERT_TRUE(engine.submit(std::move(first)));
  ASSERT_TRUE(enc.wait_entered(1));
  auto waiting_sink = std::make_shared<Sink>(results);
  EmbeddingRequest second = make(inputs(2, 1, 4), waiting_sink);
  second.cancel = std::make_shared<CancelToken>();
  auto cancel_waiting = second.cancel;
  ASSERT_TRUE(engine.submit(std::move(second)));
  auto kept = std::make_shared<Sink>(results);
  ASSERT_TRUE(engine.submit(make(inputs(3, 1, 4), kept)));
  cancel_waiting->cancel();
  // Noticed while the only replica is still inside its batch.
  ASSERT_TRUE(results.wait_for(1, 5s));
  EXPECT_EQ(waiting_sink->result().reason, FinishReason::cancelled);
  cancel_running->cancel();
  enc.open_gate();
  ASSERT_TRUE(results.wait_for(3));
  EXPECT_EQ(running_sink->result().reason, FinishReason::cancelled);
  EXPECT_TRUE(running_sink->result().embeddings.empty());
  EXPECT_EQ(kept->result().reason, FinishReason::stop);
  for (const auto& call : enc.calls())
    for (const auto& x : call) EXPECT_NE(x[0], 2) << "a cancelled request ran";
}

TEST(EmbeddingEngine, FailoverToAHealthyReplicaGivesTheSameResults) {
  FakeEncoder bad(8, 32, 16), good(8, 32, 16);
  bad.fail_from(0);
  good.close_gate();  // good holds its first batch until bad is down, so bad surely fails 3 times
  EmbeddingEngine engine({bad, good}, {.max_consecutive_errors = 3});
  Results results;
  std::vector<std::vector<std::vector<Token>>> sent;
  std::vector<std::shared_ptr<Sink>> sinks;
  for (int i = 0; i < 24; ++i) {
    sent.push_back(inputs(100 + i, 1 + i % 2, 4 + i % 9));
    sinks.push_back(std::make_shared<Sink>(results));
    ASSERT_TRUE(engine.submit(make(sent.back(), sinks.back(), i % 2 ? "x" : "y")));
  }
  for (int i = 0; i < 1000 && engine.health()[0].healthy; ++i) std::this_thread::sleep_for(10ms);
  good.open_gate();
  ASSERT_TRUE(results.wait_for(24));
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const EmbeddingResult r = sinks[i]->result();
    ASSERT_EQ(r.reason, FinishReason::stop) << r.message;
    EXPECT_EQ(r.embeddings, expected(sent[i], 8, 16)) << i;
    EXPECT_EQ(sinks[i]->count(), 1);
  }
  const auto h = engine.health();
  EXPECT_FALSE(h[0].healthy);
  EXPECT_EQ(h[0].errors, 3u);
  EXPECT_EQ(h[0].last_error, "device lost");
  EXPECT_TRUE(h[1].healthy);
  EXPECT_EQ(engine.stats().finished, 24u);
  // A new request still runs, on the healthy replica.
  auto after = std::make_shared<Sink>(results);
  ASSERT_TRUE(engine.submit(make(inputs(7, 1, 5), after)));
  ASSERT_TRUE(results.wait_for(25));
  EXPECT_EQ(after->result().reason, FinishReason::stop);
}

TEST(EmbeddingEngine, NoHealthyReplicaFinishesWithAnError) {
  FakeEncoder a, b;
  a.fail_from(0);
  b.fail_from(0);
  // max_attempts above the replica count: requests never fail alone, the replicas go down first.
  EmbeddingEngine engine({a, b}, {.max_consecutive_errors = 2, .max_attempts = 3});
  Results results;
  std::vector<std::shared_ptr<Sink>> sinks;
  for (int i = 0; i < 6; ++i) {
    sinks.push_back(std::make_shared<Sink>(results));
    // Submits may race with the replicas going down: a late one is refused, not lost.
    if (!engine.submit(make(inputs(10 + i, 1, 4), sinks.back()))) results.add();
  }
  ASSERT_TRUE(results.wait_for(6));
  for (const auto& s : sinks) {
    if (s->count() == 0) continue;
    EXPECT_EQ(s->result().reason, FinishReason::error);
    EXPECT_NE(s->result().message.find("no healthy encoder replica"), std::string::npos) << s->result().message;
    EXPECT_EQ(s->count(), 1);
  }
  const SubmitResult r = engine.submit(make(inputs(1, 1, 4), nullptr));
  EXPECT_EQ(r.reason, RejectReason::unavailable);
  EXPECT_NE(r.message.find("device lost"), std::string::npos);
  for (const auto& h : engine.health()) EXPECT_FALSE(h.healthy);
  EXPECT_EQ(engine.in_flight(), 0u);
}

TEST(EmbeddingEngine, MalformedInputFailsOnlyItsRequest) {
  FakeEncoder enc;
  EmbeddingEngine engine({enc});
  Results results;
  enc.close_gate();
  ASSERT_TRUE(engine.submit(make(inputs(1, 1, 4), std::make_shared<Sink>(results))));
  ASSERT_TRUE(enc.wait_entered(1));
  auto good1 = std::make_shared<Sink>(results), bad = std::make_shared<Sink>(results),
       good2 = std::make_shared<Sink>(results);
  ASSERT_TRUE(engine.submit(make(inputs(2, 1, 4), good1)));
  ASSERT_TRUE(engine.submit(make({{3, FakeEncoder::kPoison}}, bad)));
  ASSERT_TRUE(engine.submit(make(inputs(4, 1, 4), good2)));
  enc.open_gate();
  ASSERT_TRUE(results.wait_for(4));
  EXPECT_EQ(good1->result().reason, FinishReason::stop);
  EXPECT_EQ(good2->result().reason, FinishReason::stop);
  EXPECT_EQ(bad->result().reason, FinishReason::error);
  EXPECT_NE(bad->result().message.find("unknown token id"), std::string::npos);
  EXPECT_TRUE(engine.health()[0].healthy);
  EXPECT_EQ(engine.health()[0].errors, 0u);
}

TEST(EmbeddingEngine, ARequestThatFailsEveryDeviceFailsAloneAfterItsAttempts) {
  FakeEncoder a, b;
  EmbeddingEngine engine({a, b}, {.max_consecutive_errors = 3, .max_attempts = 2});
  Results results;
  auto crash = std::make_shared<Sink>(results);
  ASSERT_TRUE(engine.submit(make({{3, FakeEncoder::kCrash}}, crash)));
  ASSERT_TRUE(results.wait_for(1));
  EXPECT_EQ(crash->result().reason, FinishReason::error);
  EXPECT_NE(crash->result().message.find("failed on 2 replicas; the last error: device fault"), std::string::npos)
      << crash->result().message;
  EXPECT_GE(crash->result().usage.attempts, 2u);
  // It failed on each replica, fewer than three times in a row on either: both still serve.
  const auto h = engine.health();
  EXPECT_TRUE(h[0].healthy);
  EXPECT_TRUE(h[1].healthy);
  EXPECT_GE(h[0].errors, 1u);
  EXPECT_GE(h[1].errors, 1u);
  auto fine = std::make_shared<Sink>(results);
  ASSERT_TRUE(engine.submit(make(inputs(5, 1, 4), fine)));
  ASSERT_TRUE(results.wait_for(2));
  EXPECT_EQ(fine->result().reason, FinishReason::stop);
}

TEST(EmbeddingEngine, ConcurrentSubmittersAndTwoReplicas) {
  FakeEncoder a(8, 64, 16), b(8, 64, 16);
  a.set_delay(1ms);
  b.set_delay(1ms);
  EmbeddingEngine engine({a, b});
  Results results;
  constexpr int kThreads = 8, kEach = 40;
  std::vector<std::vector<std::shared_ptr<Sink>>> sinks(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        sinks[t].push_back(std::make_shared<Sink>(results));
        EmbeddingRequest r = make(inputs(static_cast<Token>(t * 1000 + i), 1 + i % 3, 2 + i % 15),
                                  sinks[t].back(), "tenant" + std::to_string(t % 3));
        EXPECT_TRUE(engine.submit(std::move(r)));
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(results.wait_for(kThreads * kEach));
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kEach; ++i) {
      const EmbeddingResult r = sinks[t][i]->result();
      ASSERT_EQ(r.reason, FinishReason::stop);
      EXPECT_EQ(r.embeddings,
                expected(inputs(static_cast<Token>(t * 1000 + i), 1 + i % 3, 2 + i % 15), 8, 16));
    }
  const EmbeddingStats s = engine.stats();
  EXPECT_EQ(s.finished, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_EQ(s.tenants.size(), 3u);
  std::cout << "[ measure  ] " << s.batches << " batches for " << kThreads * kEach << " requests on "
            << engine.health().size() << " replicas\n";
}

TEST(EmbeddingEngine, StopFinishesWaitingRequests) {
  FakeEncoder enc;
  auto engine = std::make_unique<EmbeddingEngine>(std::vector<std::reference_wrapper<models::BatchEncoder>>{enc});
  Results results;
  enc.close_gate();
  auto running = std::make_shared<Sink>(results);
  ASSERT_TRUE(engine->submit(make(inputs(1, 1, 4), running)));
  ASSERT_TRUE(enc.wait_entered(1));
  std::vector<std::shared_ptr<Sink>> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.push_back(std::make_shared<Sink>(results));
    ASSERT_TRUE(engine->submit(make(inputs(2 + i, 1, 4), waiting.back())));
  }
  std::thread stopper([&] { engine->stop(); });
  // Once submit() says the engine is stopping, the replica will not take another batch.
  while (engine->submit(make(inputs(9, 1, 4), nullptr)).reason != RejectReason::unavailable)
    std::this_thread::sleep_for(1ms);
  enc.open_gate();
  stopper.join();
  ASSERT_TRUE(results.wait_for(4, 5s));
  EXPECT_EQ(running->result().reason, FinishReason::stop);  // its batch was in progress: delivered
  for (const auto& s : waiting) {
    EXPECT_EQ(s->result().reason, FinishReason::error);
    EXPECT_EQ(s->result().message, "engine stopped");
  }
  engine.reset();
  for (const auto& s : waiting) EXPECT_EQ(s->count(), 1);
}

}  // namespace
}  // namespace plinth::scheduler
