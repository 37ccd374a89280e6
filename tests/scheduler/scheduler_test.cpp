// Scheduler policies in deterministic simulation: a fake clock and a fake paged model.
#include "plinth/scheduler/scheduler.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <vector>

#include "fake_model.hpp"
#include "sim.hpp"

namespace plinth::scheduler {
namespace {

using namespace std::chrono_literals;
using testing::drive;
using testing::fake_stream;
using testing::FakeClock;
using testing::FakeModel;
using testing::greedy;
using testing::Recorder;
using testing::tokens_from;

constexpr int kVocab = 1000;

Request make(std::vector<Token> prompt, std::size_t max_tokens, std::shared_ptr<Recorder> sink,
             std::string tenant = "default", int priority = 0) {
  Request r;
  r.prompt = std::move(prompt);
  r.sampling = greedy();
  r.max_tokens = max_tokens;
  r.tenant = std::move(tenant);
  r.priority = priority;
  r.sink = std::move(sink);
  return r;
}

bool all_done(const std::vector<std::shared_ptr<Recorder>>& v) {
  return std::ranges::all_of(v, [](const auto& r) { return r->done(); });
}

TEST(Scheduler, GreedyStreamAndUsage) {
  FakeClock clock;
  FakeModel model({.clock = &clock, .step_cost = 10ms});
  Scheduler s(model, {}, clock.fn());
  auto sink = std::make_shared<Recorder>(&clock);
  const auto prompt = tokens_from(5, 40);
  ASSERT_TRUE(s.submit(make(prompt, 12, sink)));
  drive(s, clock, clock.now() + 10s, [&] { return sink->done(); });
  ASSERT_EQ(sink->finishes, 1);
  EXPECT_EQ(sink->reason(), FinishReason::length);
  EXPECT_EQ(sink->tokens, fake_stream(prompt, 12, kVocab));
  const Usage& u = sink->finish->usage;
  EXPECT_EQ(u.prompt_tokens, 40u);
  EXPECT_EQ(u.generated_tokens, 12u);
  EXPECT_EQ(u.cached_prompt_tokens, 0u);
  ASSERT_TRUE(u.time_to_first_token);
  EXPECT_EQ(*u.time_to_first_token, 10ms);  // one prefill step
  EXPECT_EQ(s.stats().kv.in_use_blocks, 0u);
  EXPECT_EQ(s.stats().finished, 1u);
}

TEST(Scheduler, ChunkedPrefillKeepsDecodersStreaming) {
  FakeClock clock;
  FakeModel model({.clock = &clock, .step_cost = 5ms});
  // The budget alone (no prefill cap): the long prompt takes what the decoders leave.
  Scheduler s(model, {.max_batch_tokens = 256, .prefill_per_decode = 0}, clock.fn());
  std::vector<std::shared_ptr<Recorder>> decoders;
  for (int i = 0; i < 4; ++i) {
    decoders.push_back(std::make_shared<Recorder>(&clock));
    ASSERT_TRUE(s.submit(make(tokens_from(i, 20), 400, decoders.back())));
  }
  s.step();  // their prefills
  for (const auto& d : decoders) ASSERT_EQ(d->tokens.size(), 1u);
  auto big = std::make_shared<Recorder>(&clock);
  const auto long_prompt = tokens_from(77, 2048);
  ASSERT_TRUE(s.submit(make(long_prompt, 4, big)));
  int prefill_steps = 0;
  while (big->tokens.empty()) {
    std::vector<std::size_t> before;
    for (const auto& d : decoders) before.push_back(d->tokens.size());
    const StepResult r = s.step();
    ++prefill_steps;
    EXPECT_LE(r.decode_tokens + r.prefill_tokens, 256u);
    for (std::size_t i = 0; i < decoders.size(); ++i)
      ASSERT_EQ(decoders[i]->tokens.size(), before[i] + 1)
          << "decoder " << i << " starved at step " << prefill_steps;
    ASSERT_LT(prefill_steps, 100);
  }
  EXPECT_GE(prefill_steps, 2048 / 256);
  drive(s, clock, clock.now() + 60s, [&] { return big->done(); });
  EXPECT_EQ(big->tokens, fake_stream(long_prompt, 4, kVocab));
}

// While sequences decode, a step's prompt tokens are capped at max(min_prefill_chunk,
// prefill_per_decode x decoders); with nothing decoding a prompt takes the whole budget.
TEST(Scheduler, PrefillChunksShrinkWhileSequencesDecode) {
  FakeClock clock;
  FakeModel model({.clock = &clock, .step_cost = 1ms});
  Scheduler s(model, {.max_batch_tokens = 512, .prefill_per_decode = 2.0, .min_prefill_chunk = 16}, clock.fn());
  auto first = std::make_shared<Recorder>(&clock);
  ASSERT_TRUE(s.submit(make(tokens_from(1, 1000), 300, first)));
  StepResult r = s.step();
  EXPECT_EQ(r.prefill_tokens, 512u);  // nothing decodes: the whole budget
  r = s.step();
  EXPECT_EQ(r.prefill_tokens, 1000u - 512u);
  ASSERT_EQ(first->tokens.size(), 1u);

  // One decoder: chunks of max(16, 2 x 1) = 16.
  auto second = std::make_shared<Recorder>(&clock);
  ASSERT_TRUE(s.submit(make(tokens_from(2, 40), 300, second)));
  r = s.step();
  EXPECT_EQ(r.decode_tokens, 1u);
  EXPECT_EQ(r.prefill_tokens, 16u);
  // Twenty decoders: chunks of 2 x 20 = 40, shared by the prompts in line.
  std::vector<std::shared_ptr<Recorder>> more;
  for (int i = 0; i < 19; ++i) {
    more.push_back(std::make_shared<Recorder>(&clock));
    ASSERT_TRUE(s.submit(make(tokens_from(10 + i, 3), 300, more.back())));
  }
  for (int i = 0; i < 40 && more.back()->tokens.empty(); ++i) {
    r = s.step();
    EXPECT_LE(r.prefill_tokens, std::max<std::size_t>(16, 2 * r.decode_tokens));
  }
  ASSERT_FALSE(more.back()->tokens.empty());
  auto big = std::make_shared<Recorder>(&clock);
  ASSERT_TRUE(s.submit(make(tokens_from(99, 400), 2, big)));
  r = s.step();
  EXPECT_EQ(r.decode_tokens, 21u);
  EXPECT_EQ(r.prefill_tokens, 42u);
}

TEST(Scheduler, PrefixCacheHitSkipsPrefill) {
  FakeClock clock;
  FakeModel model({.clock = &clock, .step_cost = 1ms});
  Scheduler s(model, {}, clock.fn());
  const auto system = tokens_from(3, 256);
  auto with = [&](std::vector<Token> tail) {
    std::vector<Token> p = system;
    p.insert(p.end(), tail.begin(), tail.end());
    return p;
  };
  auto a = std::make_shared<Recorder>(&clock);
  ASSERT_TRUE(s.submit(make(with(tokens_from(500, 10)), 3, a)));
  drive(s, clock, clock.now() + 10s, [&] { return a->done(); });
  const auto before = model.tokens_processed();
  auto b = std::make_shared<Recorder>(&clock);
  const auto pb = with(tokens_from(600, 20));
  ASSERT_TRUE(s.submit(make(pb, 3, b)));
  drive(s, clock, clock.now() + 10s, [&] { return b->done(); });
  EXPECT_EQ(b->finish->usage.cached_prompt_tokens, 256u);
  EXPECT_EQ(model.tokens_processed() - before, 20u + 2u);  // the uncached tail, then two decodes
  EXPECT_EQ(b->tokens, fake_stream(pb, 3, kVocab));
  EXPECT_EQ(s.stats().prefix_hit_tokens, 256u);
}

TEST(Scheduler, ConcurrentSamePromptNeverReadsUncomputedKV) {
  // Two copies of a 512-token prompt admitted into the same pass: the second must not hit the blocks
  // the first has allocated but not computed yet (the fake model throws if a chunk reads KV that no
  // earlier pass wrote). A third, admitted once the first is computed, hits all of it.
  FakeClock clock;
  FakeModel model({.clock = &clock, .step_cost = 1ms});
  Scheduler s(model, {.max_batch_tokens = 600}, clock.fn());
  const auto p = tokens_from(9, 512);
  std::vector<std::shared_ptr<Recorder>> sinks;
  for (int i = 0; i < 2; ++i) {
    sinks.push_back(std::make_shared<Recorder>(&clock));
    ASSERT_TRUE(s.submit(make(p, 5, sinks.back())));
  }
  EXPECT_EQ(s.step().prefill_tokens, 600u);
  sinks.push_back(std::make_shared<Recorder>(&clock));
  ASSERT_TRUE(s.submit(make(p, 5, sinks.back())));
  drive(s, clock, clock.now() + 60s, [&] { return all_done(sinks); });
  for (const auto& r : sinks) {
    ASSERT_EQ(r->reason(), FinishReason::length) << r->finish->message;
    EXPECT_EQ(r->tokens, fake_stream(p, 5, kVocab));
  }
  EXPECT_EQ(sinks[1]->finish->usage.cached_prompt_tokens, 0u);
  EXPECT_EQ(sinks[2]->finish->usage.cached_prompt_tokens, 512u);
}

TEST(Scheduler, CancellationFreesBlocksWithinOneStep) {
  FakeClock clock;
  FakeModel model({.clock = &clock, .step_cost = 1ms});
  Scheduler s(model, {.max_running = 1}, clock.fn());
  auto running = std::make_shared<Recorder>(&clock);
  auto queued = std::make_shared<Recorder>(&clock);
  Request a = make(tokens_from(1, 100), 1000, running);
  a.cancel = std::make_shared<CancelToken>();
  Request b = make(tokens_from(2, 100), 1000, queued);
  b.cancel = std::make_shared<CancelToken>();
  auto cancel_a = a.cancel, cancel_b = b.cancel;
  ASSERT_TRUE(s.submit(std::move(a)));
  ASSERT_TRUE(s.submit(std::move(b)));
  for (int i = 0; i < 5; ++i) s.step();
  EXPECT_GT(s.stats().kv.in_use_blocks, 0u);
  cancel_b->cancel();
  cancel_a->cancel();
  s.step();
  EXPECT_EQ(s.stats().kv.in_use_blocks, 0u);
  EXPECT_EQ(running->finishes, 1);
  EXPECT_EQ(running->reason(), FinishReason::cancelled);
  EXPECT_EQ(running->tokens.size(), 5u);
  EXPECT_EQ(queued->finishes, 1);
  EXPECT_EQ(queued->reason(), FinishReason::cancelled);
  EXPECT_TRUE(queued->tokens.empty());
  EXPECT_FALSE(s.has_work());
}

TEST(Scheduler, BoundedQueuesRejectWithRetryAfter) {
  FakeClock clock;
  FakeModel model({.clock = &clock});
  SchedulerOptions o{.max_queued = 4};
  o.tenants["small"] = {.weight = 1, .max_queued = 2};
  Scheduler s(model, o, clock.fn());
  auto sink = std::make_shared<Recorder>(&clock);
  EXPECT_TRUE(s.submit(make(tokens_from(1, 8), 4, sink, "small")));
  EXPECT_TRUE(s.submit(make(tokens_from(1, 8), 4, sink, "small")));
  const SubmitResult t = s.submit(make(tokens_from(1, 8), 4, sink, "small"));
  EXPECT_FALSE(t);
  EXPECT_EQ(t.reason, RejectReason::tenant_queue_full);
  EXPECT_GT(t.retry_after, Duration::zero());
  EXPECT_NE(t.message.find("small"), std::string::npos);
  EXPECT_TRUE(s.submit(make(tokens_from(1, 8), 4, sink, "big")));
  EXPECT_TRUE(s.submit(make(tokens_from(1, 8), 4, sink, "big")));
  const SubmitResult g = s.submit(make(tokens_from(1, 8), 4, sink, "big"));
  EXPECT_EQ(g.reason, RejectReason::queue_full);
  EXPECT_GT(g.retry_after, Duration::zero());
  EXPECT_EQ(sink->finishes, 0);  // a rejection is the return value, not a stream
  EXPECT_EQ(s.stats().rejected, 2u);
  EXPECT_EQ(s.stats().queued, 4u);
}

TEST(Scheduler, TenantRunningCapAndGlobalCap) {
  FakeClock clock;
  FakeModel model({.clock = &clock, .step_cost = 1ms});
  SchedulerOptions o{.max_running = 5};
  o.tenants["capped"] = {.weight = 1, .max_running = 2};
  Scheduler s(model, o, clock.fn());
  std::vector<std::shared_ptr<Recorder>> sinks;
  for (int i = 0; i < 6; ++i) {
    sinks.push_back(std::make_shared<Recorder>(&clock));
    ASSERT_TRUE(s.submit(make(tokens_from(i, 8), 20, sinks.back(), i % 2 ? "capped" : "free")));
  }
  while (!all_done(sinks)) {
    s.step();
    const SchedulerStats st = s.stats();
    EXPECT_LE(st.running, 5u);
    for (const auto& t : st.tenants)
      if (t.tenant == "capped") {
        EXPECT_LE(t.running, 2u);
      }
  }
  for (const auto& r : sinks) EXPECT_EQ(r->reason(), FinishReason::length);
}

TEST(Scheduler, InvalidAndTooLargeRequestsAreRejected) {
  FakeClock clock;
  FakeModel model({.block_size = 16, .num_blocks = 8});
  Scheduler s(model, {}, clock.fn());
  EXPECT_EQ(s.submit(make({}, 4, nullptr)).reason, RejectReason::invalid);
  EXPECT_EQ(s.submit(make({1, kVocab}, 4, nullptr)).reason, RejectReason::invalid);
  EXPECT_EQ(s.submit(make({1}, 0, nullptr)).reason, RejectReason::invalid);
  Request stops = make({1}, 4, nullptr);
  stops.stop.stop_strings = {"\n"};
  EXPECT_EQ(s.submit(std::move(stops)).reason, RejectReason::invalid);  // no detokenizer
  Request bad_sampling = make({1}, 4, nullptr);
  bad_sampling.sampling.top_p = 2;
  EXPECT_EQ(s.submit(std::move(bad_sampling)).reason, RejectReason::invalid);
  const SubmitResult big = s.submit(make(tokens_from(1, 128), 4, nullptr));  // 128 + 1 tokens > 8 blocks
  EXPECT_EQ(big.reason, RejectReason::too_large);
  EXPECT_NE(big.message.find("KV"), std::string::npos);
  EXPECT_TRUE(s.submit(make(tokens_from(1, 127), 4, nullptr)));
}

TEST(Scheduler, QueueDeadlineRejectsWithinPrecision) {
  FakeClock clock;
  FakeModel model({.clock = &clock, .step_cost = 10ms, .token_cost = 10us});
  Scheduler s(model, {.max_running = 1}, clock.fn());
  auto busy = std::make_shared<Recorder>(&clock);
  ASSERT_TRUE(s.submit(make(tokens_from(1, 30), 1000, busy)));
  auto late = std::make_shared<Recorder>(&clock);
  Request r = make(tokens_from(2, 30), 10, late);
  r.queue_deadline = clock.now() + 300ms;
  const TimePoint deadline = *r.queue_deadline;
  ASSERT_TRUE(s.submit(std::move(r)));
  EXPECT_EQ(s.next_deadline(), deadline);
  drive(s, clock, clock.now() + 10s, [&] { return late->done(); });
  ASSERT_EQ(late->reason(), FinishReason::deadline);
  EXPECT_TRUE(late->tokens.empty());
  ASSERT_TRUE(late->finished_at);
  EXPECT_GE(*late->finished_at, deadline);
  EXPECT_LE(*late->finished_at - deadline, 50ms);
  std::cout << "[ measure  ] queue deadline: rejected "
            << std::chrono::duration<double, std::milli>(*late->finished_at - deadline).count()
            << " ms of fake time after it (10 ms steps)\n";
  EXPECT_FALSE(busy->done());
}

TEST(Scheduler, TotalDeadlineStopsARunningRequest) {
  FakeClock clock;
  FakeModel model({.clock = &clock, .step_cost = 10ms, .token_cost = 10us});
  Scheduler s(model, {}, clock.fn());
  auto sink = std::make_shared<Recorder>(&clock);
  Request r = make(tokens_from(1, 30), 100000, sink);
  r.deadline = clock.now() + 500ms;
  const TimePoint deadline = *r.deadline;
  ASSERT_TRUE(s.submit(std::move(r)));
  drive(s, clock, clock.now() + 10s, [&] { return sink->done(); });
  ASSERT_EQ(sink->reason(), FinishReason::deadline);
  EXPECT_GT(sink->tokens.size(), 10u);
  EXPECT_GE(*sink->finished_at, deadline);
  EXPECT_LE(*sink->finished_at - deadline, 50ms);
  std::cout << "[ measure  ] total deadline: stopped "
            << std::chrono::duration<double, std::milli>(*sink->finished_at - deadline).count()
            << " ms of fake time after it (10 ms steps)\n";
  EXPECT_EQ(s.stats().kv.in_use_blocks, 0u);
}

TEST(Scheduler, IdleDriverWakesAtTheNextDeadline) {
  // A request that cannot start (its tenant is at its running cap) only waits: a driver sleeping until
  // next_deadline() sees it finish exactly then.
  FakeClock clock;
  FakeModel model({.clock = &clock, .step_cost = 1ms});
  SchedulerOptions o;
  o.tenants["t"] = {.weight = 1, .max_running = 0};
  Scheduler s(model, o, clock.fn());
  auto sink = std::make_shared<Recorder>(&clock);
  Request r = make(tokens_from(1, 8), 4, sink, "t");
  r.queue_deadline = clock.now() + 1234ms;
  ASSERT_TRUE(s.submit(std::move(r)));
  EXPECT_FALSE(s.step().ran());
  const auto next = s.next_deadline();
  ASSERT_TRUE(next);
  clock.advance_to(*next);
  s.step();
  ASSERT_TRUE(sink->done());
  EXPECT_EQ(sink->reason(), FinishReason::deadline);
  EXPECT_EQ(*sink->finished_at, *next);
  EXPECT_FALSE(s.next_deadline());
}

// Runs `n` requests to completion on a pool of `blocks` blocks; returns each stream.
std::vector<std::vector<Token>> run_pool(int blocks, std::uint64_t* preemptions,
                                         models::SamplingOptions sampling = greedy()) {
  FakeClock clock;
  FakeModel model({.block_size = 16, .num_blocks = blocks, .clock = &clock, .step_cost = 1ms});
  Scheduler s(model, {.max_batch_tokens = 128}, clock.fn());
  std::vector<std::shared_ptr<Recorder>> sinks;
  for (int i = 0; i < 8; ++i) {
    sinks.push_back(std::make_shared<Recorder>(&clock));
    Request r = make(tokens_from(i * 31, 40), 60, sinks.back());
    r.sampling = sampling;
    r.sampling.seed = static_cast<std::uint64_t>(i);
    EXPECT_TRUE(s.submit(std::move(r)));
  }
  drive(s, clock, clock.now() + 600s, [&] { return all_done(sinks); });
  std::vector<std::vector<Token>> out;
  for (const auto& r : sinks) {
    EXPECT_EQ(r->finishes, 1);
    EXPECT_EQ(r->reason(), FinishReason::length) << r->finish->message;
    out.push_back(r->tokens);
  }
  if (preemptions) *preemptions = s.stats().preemptions;
  EXPECT_EQ(s.stats().kv.in_use_blocks, 0u);
  return out;
}

TEST(Scheduler, PreemptionByRecomputeKeepsTheGreedyStream) {
  std::uint64_t roomy = 0, tight = 0;
  const auto reference = run_pool(1024, &roomy);
  // 8 sequences of up to 100 tokens (7 blocks each) on 20 blocks: they must take turns.
  const auto preempted = run_pool(20, &tight);
  EXPECT_EQ(roomy, 0u);
  EXPECT_GT(tight, 0u);
  EXPECT_EQ(preempted, reference);
  for (std::size_t i = 0; i < reference.size(); ++i)
    EXPECT_EQ(reference[i], fake_stream(tokens_from(static_cast<Token>(i * 31), 40), 60, kVocab));
}

TEST(Scheduler, PreemptionKeepsASeededRandomStream) {
  // Recompute re-runs the model, never the sampler: each request's random draws stay in order.
  const models::SamplingOptions random{.temperature = 1.5f, .top_k = 0, .top_p = 1.0f};
  std::uint64_t roomy = 0, tight = 0;
  const auto reference = run_pool(1024, &roomy, random);
  const auto preempted = run_pool(20, &tight, random);
  EXPECT_GT(tight, 0u);
  EXPECT_EQ(preempted, reference);
}

TEST(Scheduler, PreemptsLowestPriorityFirst) {
  FakeClock clock;
  FakeModel model({.block_size = 16, .num_blocks = 12, .clock = &clock, .step_cost = 1ms});
  Scheduler s(model, {}, clock.fn());
  auto low = std::make_shared<Recorder>(&clock);
  auto high = std::make_shared<Recorder>(&clock);
  // The low-priority one is admitted first; both grow to 6 blocks, 12 together: one must yield.
  ASSERT_TRUE(s.submit(make(tokens_from(1, 40), 60, low, "default", 5)));
  s.step();
  ASSERT_TRUE(s.submit(make(tokens_from(2, 40), 60, high, "default", 0)));
  drive(s, clock, clock.now() + 60s, [&] { return low->done() && high->done(); });
  EXPECT_EQ(high->finish->usage.preemptions, 0u);
  EXPECT_GT(low->finish->usage.preemptions, 0u);
  EXPECT_EQ(low->tokens, fake_stream(tokens_from(1, 40), 60, kVocab));
  EXPECT_EQ(high->tokens, fake_stream(tokens_from(2, 40), 60, kVocab));
}

TEST(Scheduler, EndTokensAndStopStrings) {
  FakeClock clock;
  FakeModel model({.clock = &clock, .step_cost = 1ms});
  SchedulerOptions o;
  o.detokenizer = std::make_shared<const Detokenizer>([](Token t) { return "<" + std::to_string(t) + ">"; });
  Scheduler s(model, o, clock.fn());
  const auto prompt = tokens_from(4, 16);
  const auto expected = fake_stream(prompt, 10, kVocab);

  auto by_token = std::make_shared<Recorder>(&clock);
  Request a = make(prompt, 10, by_token);
  a.stop.end_tokens = {expected[3]};
  ASSERT_TRUE(s.submit(std::move(a)));
  auto by_text = std::make_shared<Recorder>(&clock);
  Request b = make(prompt, 10, by_text);
  b.stop.stop_strings = {std::to_string(expected[5]) + "><"};  // spans two tokens
  ASSERT_TRUE(s.submit(std::move(b)));
  drive(s, clock, clock.now() + 10s, [&] { return by_token->done() && by_text->done(); });

  EXPECT_EQ(by_token->reason(), FinishReason::stop);
  EXPECT_EQ(by_token->tokens, std::vector<Token>(expected.begin(), expected.begin() + 3));
  EXPECT_EQ(by_token->finish->usage.generated_tokens, 4u);  // the end token counts, unseen
  EXPECT_EQ(by_token->text, "<" + std::to_string(expected[0]) + "><" + std::to_string(expected[1]) + "><" +
                                std::to_string(expected[2]) + ">");
  EXPECT_EQ(by_text->reason(), FinishReason::stop);
  ASSERT_TRUE(by_text->finish->stop_string);
  std::string want;
  for (int i = 0; i < 5; ++i) want += "<" + std::to_string(expected[static_cast<std::size_t>(i)]) + ">";
  want += "<";
  EXPECT_EQ(by_text->text, want);
  EXPECT_EQ(by_text->tokens.size(), 7u);
}

TEST(Scheduler, DrainHandsOverEverythingWithBlocksFreed) {
  FakeClock clock;
  FakeModel model({.clock = &clock, .step_cost = 1ms});
  FakeModel other({.clock = &clock, .step_cost = 1ms});
  Scheduler a(model, {.max_running = 2}, clock.fn());
  Scheduler b(other, {}, clock.fn());
  std::vector<std::shared_ptr<Recorder>> sinks;
  for (int i = 0; i < 4; ++i) {
    sinks.push_back(std::make_shared<Recorder>(&clock));
    ASSERT_TRUE(a.submit(make(tokens_from(i, 20), 12, sinks.back())));
  }
  for (int i = 0; i < 5; ++i) a.step();
  auto moved = a.drain();
  EXPECT_EQ(moved.size(), 4u);
  EXPECT_FALSE(a.has_work());
  EXPECT_EQ(a.stats().kv.in_use_blocks, 0u);
  for (auto& r : moved) b.adopt(std::move(r));
  drive(b, clock, clock.now() + 10s, [&] { return all_done(sinks); });
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(sinks[static_cast<std::size_t>(i)]->tokens, fake_stream(tokens_from(i, 20), 12, kVocab));
    EXPECT_EQ(sinks[static_cast<std::size_t>(i)]->finishes, 1);
  }
}

}  // namespace
}  // namespace plinth::scheduler
