// The decoder on a synthetic model against a plain double-precision host implementation, the KV
// cache's consistency (prefill then decode == one prefill), chunked prefill, reset/truncate, and
// error paths. Runs on PLINTH_DECODER_TEST_DEVICE (cpu:0 in the unit suite, vulkan:0 in integration).
#include <gtest/gtest.h>

#include <numeric>
#include <stdexcept>
#include <vector>

#include <plinth/models/llama_model.hpp>
#include <plinth/models/llama_session.hpp>

#include "test_support.hpp"
#include "tiny_llama.hpp"

namespace plinth::decoder_test {
namespace {

using models::LlamaModel;
using models::LlamaSession;

// f32 arithmetic against a double reference over identical (dequantized) weights.
constexpr double kReferenceNmse = 1e-7;
// The same arithmetic split differently (batched vs one token, other matmul kernels).
constexpr double kConsistencyNmse = 1e-9;

class SyntheticDecoder : public ::testing::Test {
 protected:
  void SetUp() override {
    dev_ = std::make_unique<OneDevice>(PLINTH_DECODER_TEST_DEVICE);
    if (dev_->device == nullptr) GTEST_SKIP() << "no device " << PLINTH_DECODER_TEST_DEVICE << " here";
    tiny_.write(file_.path());
    model_ = std::make_unique<LlamaModel>(LlamaModel::load(*dev_->device, file_.path()));
  }

  std::vector<int32_t> tokens(int n, int seed = 3) const {
    std::vector<int32_t> t(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) t[static_cast<std::size_t>(i)] = (i * 37 + seed * 11) % tiny_.vocab;
    return t;
  }
  std::span<const float> row(const std::vector<float>& all, std::size_t r) const {
    const auto v = static_cast<std::size_t>(tiny_.vocab);
    return std::span<const float>(all).subspan(r * v, v);
  }

  TinyLlama tiny_;
  TempPath file_{"plinth-tiny-llama"};
  std::unique_ptr<OneDevice> dev_;
  std::unique_ptr<LlamaModel> model_;
};

TEST_F(SyntheticDecoder, ReadsConfig) {
  const auto& c = model_->config();
  EXPECT_EQ(c.architecture, "llama");
  EXPECT_EQ(c.n_layers, tiny_.n_layers);
  EXPECT_EQ(c.d_model, tiny_.d);
  EXPECT_EQ(c.n_heads, tiny_.n_heads);
  EXPECT_EQ(c.n_kv_heads, tiny_.n_kv_heads);
  EXPECT_EQ(c.head_dim, tiny_.head_dim);
  EXPECT_EQ(c.ffn_dim, tiny_.ffn);
  EXPECT_EQ(c.vocab_size, tiny_.vocab);  // no llama.vocab_size key: from token_embd
  EXPECT_EQ(c.context_length, tiny_.context);
  EXPECT_TRUE(c.tied_output);
  EXPECT_FLOAT_EQ(c.rope_base, tiny_.rope_base);
  EXPECT_GT(model_->weight_bytes(), 0u);
}

TEST_F(SyntheticDecoder, PrefillAndDecodeMatchHostReference) {
  const auto prompt = tokens(12);
  const std::vector<float> ref = tiny_.reference_logits(prompt);
  LlamaSession session(*model_, 32);
  const std::vector<float> all = session.prefill_all_logits(std::span(prompt).first(9));
  for (std::size_t r = 0; r < 9; ++r) EXPECT_LT(nmse(row(all, r), row(ref, r)), kReferenceNmse) << "token " << r;
  for (std::size_t r = 9; r < prompt.size(); ++r) {
    const auto logits = session.decode(prompt[r]);
    EXPECT_LT(nmse(logits, row(ref, r)), kReferenceNmse) << "decode at position " << r;
  }
  EXPECT_EQ(session.position(), 12);
}

TEST_F(SyntheticDecoder, PrefillThenDecodeEqualsOnePrefill) {
  // 40 prompt tokens: above the size where a batched matmul may switch kernels.
  const auto seq = tokens(45);
  LlamaSession whole(*model_, 64);
  const std::vector<float> all = whole.prefill_all_logits(seq);
  LlamaSession split(*model_, 64);
  const auto first = split.prefill(std::span(seq).first(40));
  EXPECT_LT(nmse(first, row(all, 39)), kConsistencyNmse);
  for (std::size_t i = 40; i < seq.size(); ++i) {
    const auto logits = split.decode(seq[i]);
    EXPECT_LT(nmse(logits, row(all, i)), kConsistencyNmse) << "position " << i;
  }
}

TEST_F(SyntheticDecoder, ChunkedPrefillEqualsOnePass) {
  const auto seq = tokens(20);
  LlamaSession ref(*model_, 32);
  const auto r = ref.prefill(seq);
  const std::vector<float> expected(r.begin(), r.end());
  LlamaSession chunked(*model_, 32, {.max_batch = 7});
  const auto c = chunked.prefill(seq);
  EXPECT_EQ(chunked.position(), 20);
  EXPECT_LT(nmse(c, expected), kConsistencyNmse);
}

TEST_F(SyntheticDecoder, ResetAndTruncateReuseTheCache) {
  const auto seq = tokens(10);
  LlamaSession s(*model_, 32);
  const auto first = s.prefill(seq);
  const std::vector<float> expected(first.begin(), first.end());
  s.reset();
  EXPECT_EQ(s.position(), 0);
  const auto again = s.prefill(seq);
  EXPECT_LT(nmse(again, expected), kConsistencyNmse);
  s.truncate(6);  // keep the first 6 tokens, run the last 4 again
  EXPECT_EQ(s.position(), 6);
  const auto resumed = s.prefill(std::span(seq).subspan(6));
  EXPECT_LT(nmse(resumed, expected), kConsistencyNmse);
  EXPECT_THROW(s.truncate(11), std::out_of_range);
}

TEST_F(SyntheticDecoder, ContextOverflowIsAClearErrorAndKeepsTheCache) {
  LlamaSession s(*model_, 8);
  const auto seq = tokens(8);
  s.prefill(std::span(seq).first(6));
  try {
    s.prefill(std::span(seq).first(3));
    FAIL() << "no error";
  } catch (const std::length_error& e) {
    EXPECT_NE(std::string(e.what()).find("max_context 8"), std::string::npos) << e.what();
  }
  EXPECT_EQ(s.position(), 6);
  s.prefill(std::span(seq).subspan(6, 2));  // exactly full is fine
  EXPECT_EQ(s.position(), 8);
  EXPECT_THROW(s.decode(1), std::length_error);
}

TEST_F(SyntheticDecoder, RejectsBadArguments) {
  EXPECT_THROW(LlamaSession(*model_, tiny_.context + 1), std::invalid_argument);
  EXPECT_THROW(LlamaSession(*model_, 0), std::invalid_argument);
  LlamaSession s(*model_, 16);
  EXPECT_THROW(s.decode(tiny_.vocab), std::invalid_argument);
  EXPECT_THROW(s.decode(-1), std::invalid_argument);
  EXPECT_THROW(s.prefill({}), std::invalid_argument);
  EXPECT_EQ(s.position(), 0);
}

TEST(DecoderLoad, MissingFileNamesThePath) {
  OneDevice dev(PLINTH_DECODER_TEST_DEVICE);
  if (dev.device == nullptr) GTEST_SKIP() << "no device " << PLINTH_DECODER_TEST_DEVICE << " here";
  try {
    (void)models::LlamaModel::load(*dev.device, "/nonexistent/model.gguf");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
  }
}

TEST(DecoderLoad, UnsupportedArchitectureListsSupportedOnes) {
  OneDevice dev(PLINTH_DECODER_TEST_DEVICE);
  if (dev.device == nullptr) GTEST_SKIP() << "no device " << PLINTH_DECODER_TEST_DEVICE << " here";
  TinyLlama tiny;
  TempPath file("plinth-tiny-gpt2");
  tiny.write(file.path(), "gpt2");
  try {
    (void)models::LlamaModel::load(*dev.device, file.path());
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unsupported architecture 'gpt2'"), std::string::npos) << what;
    EXPECT_NE(what.find("llama"), std::string::npos) << what;
  }
  const auto archs = models::supported_decoder_architectures();
  ASSERT_EQ(archs.size(), 1u);
  EXPECT_EQ(archs[0], "llama");
}

}  // namespace
}  // namespace plinth::decoder_test
