// The engine on the real model (SmolLM2-135M Q4_1) with two replicas on two CPU devices
// (PLINTH_CPU_DEVICES=2, set by ctest): a device lost in the middle of generation moves its requests
// to the other replica, and every request still streams exactly the greedy tokens of a run without
// the fault. The replicas run batch-invariant, so a token never depends on which requests shared
// its step.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <vector>

#include "../decoder/test_support.hpp"
#include "plinth/models/llama_model.hpp"
#include "plinth/models/paged_llama.hpp"
#include "plinth/scheduler/engine.hpp"

namespace {

namespace sch = plinth::scheduler;
using plinth::models::LlamaModel;
using plinth::models::PagedLlama;

constexpr int kRequests = 32;
constexpr int kTokens = 6;

// Collects the tokens of every request; the test waits until all have finished.
struct Streams {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::vector<int32_t>> tokens = std::vector<std::vector<int32_t>>(kRequests);
  std::vector<sch::FinishInfo> finish = std::vector<sch::FinishInfo>(kRequests);
  int pending = kRequests;

  bool wait() {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, std::chrono::minutes(5), [&] { return pending == 0; });
  }
};

class Sink : public sch::StreamSink {
 public:
  Sink(Streams& s, int i) : s_(s), i_(i) {}
  void on_delta(const sch::TokenDelta& d) override {
    std::lock_guard lock(s_.mutex);
    if (d.token != sch::kNoToken) s_.tokens[static_cast<std::size_t>(i_)].push_back(d.token);
  }
  void on_finish(const sch::FinishInfo& f) override {
    {
      std::lock_guard lock(s_.mutex);
      s_.finish[static_cast<std::size_t>(i_)] = f;
      --s_.pending;
    }
    s_.cv.notify_all();
  }

 private:
  Streams& s_;
  int i_;
};

std::vector<int32_t> prompt_for(int i) {
  std::mt19937 rng(static_cast<unsigned>(i) + 11);
  std::uniform_int_distribution<int32_t> pick(300, 20000);
  std::vector<int32_t> p(static_cast<std::size_t>(6 + i % 7));
  for (auto& t : p) t = pick(rng);
  return p;
}

// Runs every request through an engine over both replicas; returns the engine's replica health.
std::vector<sch::ReplicaHealth> serve(PagedLlama& a, PagedLlama& b, Streams& streams) {
  sch::EngineOptions options;
  options.scheduler.max_batch_tokens = 256;
  options.max_consecutive_errors = 1;
  sch::Engine engine({a, b}, options);
  for (int i = 0; i < kRequests; ++i) {
    sch::Request r;
    r.prompt = prompt_for(i);
    r.sampling.temperature = 0.0f;
    r.max_tokens = kTokens;
    r.sink = std::make_shared<Sink>(streams, i);
    EXPECT_TRUE(engine.submit(std::move(r)).accepted);
  }
  EXPECT_TRUE(streams.wait()) << "requests still running after 5 minutes";
  return engine.health();
}

TEST(EngineOnModel, DeviceLostMidGenerationLosesNoToken) {
  PLINTH_DEFAULT_DECODER_OR_SKIP(path);
  plinth::Runtime runtime;
  plinth::Device* d0 = runtime.find_device("cpu:0");
  plinth::Device* d1 = runtime.find_device("cpu:1");
  ASSERT_NE(d0, nullptr);
  ASSERT_NE(d1, nullptr) << "needs two CPU devices: run with PLINTH_CPU_DEVICES=2";
  const auto m0 = LlamaModel::load(*d0, path);
  const auto m1 = LlamaModel::load(*d1, path);
  const plinth::models::PagedLlamaOptions paged{.num_blocks = 256, .max_batch_tokens = 256, .max_seqs = 64,
                                                .batch_invariant = true};
  PagedLlama r0(m0, paged);
  PagedLlama r1(m1, paged);

  Streams clean;
  const auto clean_health = serve(r0, r1, clean);
  ASSERT_EQ(clean_health.size(), 2u);
  EXPECT_TRUE(clean_health[0].healthy && clean_health[1].healthy);
  EXPECT_GT(clean_health[1].steps, 0u) << "the second replica served nothing: the test would prove nothing";
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_EQ(clean.finish[static_cast<std::size_t>(i)].reason, sch::FinishReason::length) << "request " << i;
    ASSERT_EQ(clean.tokens[static_cast<std::size_t>(i)].size(), static_cast<std::size_t>(kTokens));
  }

  // cpu:1 is lost after a few hundred launches: in its second or third step, with requests half done.
  d1->inject_fault({.kind = plinth::FaultKind::device_lost, .n = 700});
  Streams faulty;
  const auto health = serve(r0, r1, faulty);
  EXPECT_TRUE(health[0].healthy);
  EXPECT_FALSE(health[1].healthy) << "the lost device's replica is still reported healthy";
  EXPECT_NE(health[1].last_error.find("DEVICE_LOST"), std::string::npos) << health[1].last_error;
  std::size_t moved = 0;
  for (int i = 0; i < kRequests; ++i) {
    const auto& f = faulty.finish[static_cast<std::size_t>(i)];
    EXPECT_EQ(f.reason, sch::FinishReason::length) << "request " << i << ": " << f.message;
    EXPECT_EQ(faulty.tokens[static_cast<std::size_t>(i)], clean.tokens[static_cast<std::size_t>(i)]) << "request " << i;
    moved += f.usage.preemptions > 0 ? 1 : 0;
  }
  EXPECT_GT(moved, 0u) << "no request was moved off the lost replica";
}

}  // namespace
