// The embedding engine on the default encoder (all-MiniLM-L6-v2) on the cpu plugin: requests from
// several tenants and threads, batched together by the engine, give what the encoder gives each
// request alone. Skips without the model (fails under PLINTH_REQUIRE_MODELS=1).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <plinth/models/bert_batch_encoder.hpp>
#include <plinth/models/bert_encoder.hpp>
#include <plinth/scheduler/embedding_engine.hpp>
#include <string>
#include <thread>
#include <vector>

#include "encoder_test_support.hpp"

namespace plinth::scheduler {
namespace {

using namespace std::chrono_literals;

class Collect final : public EmbeddingSink {
 public:
  void on_finish(const EmbeddingResult& r) override {
    std::lock_guard lock(m_);
    result = r;
    cv_.notify_all();
  }
  bool wait(std::chrono::seconds timeout) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, timeout, [&] { return result.has_value(); });
  }
  std::optional<EmbeddingResult> result;

 private:
  std::mutex m_;
  std::condition_variable cv_;
};

// Token ids of a sentence-like input: [CLS] ... [SEP] with ids from the vocabulary's word range.
std::vector<int32_t> sentence(std::size_t seed, std::size_t words) {
  std::vector<int32_t> ids{101};
  for (std::size_t i = 0; i < words; ++i) ids.push_back(static_cast<int32_t>(2000 + (seed * 7919 + i * 104729) % 20000));
  ids.push_back(102);
  return ids;
}

TEST(EmbeddingEngineModel, BatchedRequestsMatchTheEncoderAlone) {
  encoder_test::OneDevice device(PLINTH_ENCODER_TEST_PLUGIN, PLINTH_ENCODER_TEST_DEVICE);
  if (device.device() == nullptr) GTEST_SKIP() << device.why();
  const auto dir = encoder_test::default_model();
  if (!dir) return;
  models::BertEncoder bert = models::BertEncoder::load(*device.device(), *dir);

  // 40 requests of 1-4 inputs of 3-60 tokens (one past the 256-token truncation), from 3 tenants.
  std::vector<std::vector<std::vector<int32_t>>> requests;
  for (std::size_t i = 0; i < 40; ++i) {
    std::vector<std::vector<int32_t>> in;
    for (std::size_t k = 0; k < 1 + i % 4; ++k) in.push_back(sentence(i * 10 + k, 1 + (i * 13 + k * 7) % 58));
    requests.push_back(std::move(in));
  }
  requests[7][0] = sentence(777, 300);
  std::vector<std::vector<float>> alone;
  for (const auto& in : requests) alone.push_back(bert.embed_tokens(in));

  models::BertBatchEncoder replica(bert, 1024);
  EmbeddingEngine engine({replica}, {.max_batch_tokens = 1024});
  std::vector<std::shared_ptr<Collect>> sinks(requests.size());
  for (auto& s : sinks) s = std::make_shared<Collect>();
  const std::vector<std::string> tenants{"acme", "globex", "initech"};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = t; i < requests.size(); i += 4) {
        EmbeddingRequest r;
        r.inputs = requests[i];
        r.tenant = tenants[i % 3];
        r.sink = sinks[i];
        EXPECT_TRUE(engine.submit(std::move(r)));
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::size_t dim = static_cast<std::size_t>(bert.hidden_size());
  double worst = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE(sinks[i]->wait(120s)) << "request " << i;
    const EmbeddingResult& r = *sinks[i]->result;
    ASSERT_EQ(r.reason, FinishReason::stop) << r.message;
    ASSERT_EQ(r.embeddings.size(), requests[i].size() * dim);
    for (std::size_t k = 0; k < r.embeddings.size(); ++k) {
      worst = std::max(worst, static_cast<double>(std::abs(r.embeddings[k] - alone[i][k])));
      ASSERT_NEAR(r.embeddings[k], alone[i][k], 1e-5) << "request " << i << " value " << k;
    }
  }
  EXPECT_EQ(sinks[7]->result->usage.truncated_inputs, 1u);
  const EmbeddingStats s = engine.stats();
  std::cout << "[ measure  ] 40 requests in " << s.batches << " batches, " << s.tokens_embedded
            << " tokens; largest difference from the encoder alone " << worst << "\n";
  EXPECT_EQ(s.tenants.size(), 3u);
}

}  // namespace
}  // namespace plinth::scheduler
