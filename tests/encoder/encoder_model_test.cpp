// The encoder on the default model (all-MiniLM-L6-v2) against golden embeddings from an independent
// float64 numpy implementation (tests/reference/encoder/make_golden.py), on the device named by
// PLINTH_ENCODER_TEST_DEVICE (cpu:0 in one executable, vulkan:0 in the integration one). Slow devices
// (lavapipe runs shaders at about 1 GFLOP/s) use only the golden cases of at most
// PLINTH_ENCODER_TEST_MAX_TOKENS tokens (the environment variable overrides the build's default).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <plinth/models/bert_encoder.hpp>
#include <string>
#include <vector>

#include "encoder_test_support.hpp"

namespace plinth::encoder_test {
namespace {

constexpr double kGoldenCosine = 0.9999;
constexpr double kBatchCosine = 0.99999;

#ifndef PLINTH_ENCODER_TEST_MAX_TOKENS
#define PLINTH_ENCODER_TEST_MAX_TOKENS 1000000
#endif
#ifndef PLINTH_ENCODER_TEST_SLOW_DEVICE
#define PLINTH_ENCODER_TEST_SLOW_DEVICE 0
#endif

// The golden cases this run checks.
std::vector<GoldenCase> golden_cases() {
  std::size_t limit = PLINTH_ENCODER_TEST_MAX_TOKENS;
  if (const char* env = std::getenv("PLINTH_ENCODER_TEST_MAX_TOKENS"); env != nullptr && *env != '\0') {
    limit = static_cast<std::size_t>(std::strtoull(env, nullptr, 10));
  }
  std::vector<GoldenCase> cases = read_golden();
  std::erase_if(cases, [&](const GoldenCase& c) { return c.ids.size() > limit; });
  return cases;
}

class EncoderModelTest : public testing::Test {
 protected:
  void SetUp() override {
    device_ = std::make_unique<OneDevice>(PLINTH_ENCODER_TEST_PLUGIN, PLINTH_ENCODER_TEST_DEVICE);
    if (device_->device() == nullptr) GTEST_SKIP() << device_->why();
    dir_ = default_model();
    if (!dir_) return;
    encoder_.emplace(models::BertEncoder::load(*device_->device(), *dir_));
  }
  std::unique_ptr<OneDevice> device_;
  std::optional<std::filesystem::path> dir_;
  std::optional<models::BertEncoder> encoder_;
};

TEST_F(EncoderModelTest, MatchesGoldenEmbeddings) {
  if (!encoder_) return;
  const auto cases = golden_cases();
  ASSERT_GE(cases.size(), 8u);
  std::vector<std::vector<int32_t>> ids;
  for (const auto& c : cases) ids.push_back(c.ids);
  const std::size_t dim = static_cast<std::size_t>(encoder_->hidden_size());
  ASSERT_EQ(dim, cases[0].embedding.size());
  const std::vector<float> rows = encoder_->embed_tokens(ids);
  ASSERT_EQ(rows.size(), cases.size() * dim);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_GE(cosine(row(rows, i, dim), cases[i].embedding), kGoldenCosine)
        << "case " << i << ": " << cases[i].text;
  }
}

TEST_F(EncoderModelTest, BatchingDoesNotChangeAnEmbedding) {
  if (!encoder_) return;
  const auto cases = golden_cases();
  const std::size_t dim = static_cast<std::size_t>(encoder_->hidden_size());
  // The shortest case alone, then padded to 4x its length in one batch with longer ones (similar
  // lengths, so the batch planner keeps them together rather than paying another launch).
  const auto shortest = std::min_element(
      cases.begin(), cases.end(), [](const auto& a, const auto& b) { return a.ids.size() < b.ids.size(); });
  const std::vector<std::vector<int32_t>> alone{shortest->ids};
  const std::vector<float> single = encoder_->embed_tokens(alone);
  std::vector<std::vector<int32_t>> mixed;
  for (const auto& c : cases) {
    if (c.ids.size() >= 9 && c.ids.size() <= 12) mixed.push_back(c.ids);
  }
  ASSERT_GE(mixed.size(), 3u);
  mixed.push_back(shortest->ids);
  const std::vector<float> batched = encoder_->embed_tokens(mixed);
  EXPECT_GE(cosine(row(single, 0, dim), row(batched, mixed.size() - 1, dim)), kBatchCosine);
  EXPECT_GE(cosine(row(single, 0, dim), shortest->embedding), kGoldenCosine);
}

#if !PLINTH_ENCODER_TEST_SLOW_DEVICE  // the tiny-model tests cover batch sizes there
TEST_F(EncoderModelTest, SmallBatchesGiveTheSameRowsInInputOrder) {
  if (!dir_ || !encoder_) return;
  const auto cases = golden_cases();
  std::vector<std::vector<int32_t>> ids;
  for (const auto& c : cases) ids.push_back(c.ids);
  auto small = models::BertEncoder::load(*device_->device(), *dir_, {.batch_size = 3});
  const std::vector<float> a = encoder_->embed_tokens(ids);
  const std::vector<float> b = small.embed_tokens(ids);
  const std::size_t dim = static_cast<std::size_t>(encoder_->hidden_size());
  for (std::size_t i = 0; i < cases.size(); ++i)
    EXPECT_GE(cosine(row(a, i, dim), row(b, i, dim)), kBatchCosine) << i;
}
#endif

TEST_F(EncoderModelTest, SimilarSentencesAreCloserThanUnrelatedOnes) {
  if (!encoder_) return;
  const auto cases = golden_cases();
  auto find = [&](const std::string& text) {
    for (const auto& c : cases) {
      if (c.text == text) return c.ids;
    }
    ADD_FAILURE() << "golden file lacks " << text;
    return std::vector<int32_t>{};
  };
  const std::vector<std::vector<int32_t>> ids{
      find("A cat sat on the mat."), find("The cat is sitting on the mat."), find("東京は日本の首都です。")};
  const auto rows = encoder_->embed_tokens(ids);
  const std::size_t dim = static_cast<std::size_t>(encoder_->hidden_size());
  EXPECT_GT(cosine(row(rows, 0, dim), row(rows, 1, dim)), cosine(row(rows, 0, dim), row(rows, 2, dim)) + 0.3);
}

}  // namespace
}  // namespace plinth::encoder_test
