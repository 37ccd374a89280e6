// PagedLlama (the batched step over a paged KV cache) on the synthetic model against LlamaSession, the
// single-sequence path already checked against the host reference: several sequences in one step,
// chunked prefill across steps, blocks out of order and shared between sequences, copy_block, batch
// validation, and the refusal of a device without the paged ops.
// Runs on PLINTH_DECODER_TEST_DEVICE; skipped where that device lacks SET_ROWS / PAGED_ATTENTION.
#include <gtest/gtest.h>

#include <numeric>
#include <plinth/models/llama_model.hpp>
#include <plinth/models/llama_session.hpp>
#include <plinth/models/paged_llama.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "tiny_llama.hpp"

namespace plinth::decoder_test {
namespace {

using models::BatchChunk;
using models::LlamaModel;
using models::LlamaSession;
using models::PagedLlama;
using models::PagedLlamaOptions;

// An f32 cache holds exactly what LlamaSession's does; only the attention kernel's summation order
// differs.
constexpr double kF32Nmse = 1e-9;
// An f16 cache rounds every k and v to 11 significant bits.
constexpr double kF16Nmse = 1e-5;

class PagedDecoder : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    dev_ = std::make_unique<OneDevice>(PLINTH_DECODER_TEST_DEVICE);
    if (dev_->device == nullptr) GTEST_SKIP() << "no device " << PLINTH_DECODER_TEST_DEVICE << " here";
    tiny_.write(file_.path());
    model_ = std::make_unique<LlamaModel>(LlamaModel::load(*dev_->device, file_.path()));
    try {
      paged_ = std::make_unique<PagedLlama>(*model_, options());
    } catch (const std::runtime_error& e) {
      // Backends without the ABI 1.2 paged ops (the refusal itself is tested below).
      GTEST_SKIP() << e.what();
    }
  }

  PagedLlamaOptions options() const {
    return {.block_size = 4, .kv_dtype = GetParam(), .num_blocks = 40, .max_batch_tokens = 64, .max_seqs = 8};
  }
  double tolerance() const { return GetParam() == DType::f32 ? kF32Nmse : kF16Nmse; }

  std::vector<int32_t> tokens(int n, int seed) const {
    std::vector<int32_t> t(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
      t[static_cast<std::size_t>(i)] = (i * 37 + seed * 11 + seed * seed) % tiny_.vocab;
    return t;
  }
  // The last token's logits of `seq` through LlamaSession.
  std::vector<float> session_logits(std::span<const int32_t> seq) const {
    LlamaSession s(*model_, tiny_.context);
    const auto l = s.prefill(seq);
    return {l.begin(), l.end()};
  }
  std::span<const float> row(std::span<const float> all, std::size_t r) const {
    const auto v = static_cast<std::size_t>(tiny_.vocab);
    return all.subspan(r * v, v);
  }

  TinyLlama tiny_;
  TempPath file_{"plinth-tiny-paged"};
  std::unique_ptr<OneDevice> dev_;
  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<PagedLlama> paged_;
};

TEST_P(PagedDecoder, SeveralSequencesInOneStepMatchLlamaSession) {
  // Three prompts of different lengths, their blocks out of order and interleaved, all in one step;
  // then greedy-free decode steps of all three together.
  std::vector<std::vector<int32_t>> seqs = {tokens(14, 1), tokens(5, 2), tokens(9, 3)};
  const std::vector<std::vector<int32_t>> tables = {{17, 3, 30, 8, 22}, {1, 39}, {12, 0, 25, 6}};
  const std::vector<int> prompt = {11, 3, 9};  // the rest are decoded one by one
  std::vector<BatchChunk> chunks;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    chunks.push_back({.tokens = std::span(seqs[i]).first(static_cast<std::size_t>(prompt[i])),
                      .start_pos = 0,
                      .block_table = tables[i]});
  }
  auto logits = paged_->step(chunks);
  ASSERT_EQ(logits.size(), 3u * static_cast<std::size_t>(tiny_.vocab));
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const auto expected = session_logits(std::span(seqs[i]).first(static_cast<std::size_t>(prompt[i])));
    EXPECT_LT(nmse(row(logits, i), expected), tolerance()) << "prefill of sequence " << i;
  }
  // Decode: sequence 1 runs out of tokens first and leaves the batch.
  for (int step = 0;; ++step) {
    chunks.clear();
    std::vector<std::size_t> who;
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      const int p = prompt[i] + step;
      if (p >= static_cast<int>(seqs[i].size())) continue;
      chunks.push_back({.tokens = std::span(seqs[i]).subspan(static_cast<std::size_t>(p), 1),
                        .start_pos = p,
                        .block_table = tables[i]});
      who.push_back(i);
    }
    if (chunks.empty()) break;
    logits = paged_->step(chunks);
    for (std::size_t c = 0; c < who.size(); ++c) {
      const auto expected =
          session_logits(std::span(seqs[who[c]]).first(static_cast<std::size_t>(prompt[who[c]] + step + 1)));
      EXPECT_LT(nmse(row(logits, c), expected), tolerance())
          << "sequence " << who[c] << " decode step " << step;
    }
  }
  // And the host reference, for the longest sequence.
  const std::vector<float> ref = tiny_.reference_logits(seqs[0]);
  EXPECT_LT(nmse(row(logits, 0), row(ref, seqs[0].size() - 1)), tolerance() + 1e-7);
}

TEST_P(PagedDecoder, ChunkedPrefillAcrossStepsBesideADecode) {
  const auto long_seq = tokens(23, 4);
  const auto other = tokens(8, 5);
  const std::vector<int32_t> long_table = {9, 2, 14, 31, 5, 20};
  const std::vector<int32_t> other_table = {7, 33};
  // `other`'s first 7 tokens as a prompt, then its decode rides along with the first chunk.
  paged_->step(std::vector<BatchChunk>{{.tokens = std::span(other).first(7), .block_table = other_table}});
  std::vector<float> last;
  for (int start = 0; start < 23; start += 7) {
    const int n = std::min(7, 23 - start);
    std::vector<BatchChunk> chunks = {
        {.tokens = std::span(long_seq).subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(n)),
         .start_pos = start,
         .block_table = long_table,
         .want_logits = start + n == 23}};
    if (start == 0)
      chunks.push_back(
          {.tokens = std::span(other).subspan(7, 1), .start_pos = 7, .block_table = other_table});
    const auto logits = paged_->step(chunks);
    if (start == 0) {
      ASSERT_EQ(logits.size(), static_cast<std::size_t>(tiny_.vocab));  // only `other` wanted logits
      EXPECT_LT(nmse(logits, session_logits(other)), tolerance());
    }
    if (start + n == 23) last.assign(logits.begin(), logits.end());
  }
  EXPECT_LT(nmse(last, session_logits(long_seq)), tolerance());
}

TEST_P(PagedDecoder, SharedPrefixBlocksAndCopyBlockFork) {
  // A 10-token prefix: blocks 3 and 11 are full (8 tokens) and shared by both sequences through
  // identical ids; the partial third block (2 tokens) is forked with copy_block.
  const auto prefix = tokens(10, 6);
  const std::vector<int32_t> a_table = {3, 11, 26, 27};
  std::vector<int32_t> b_table = {3, 11, 18, 19};
  paged_->step(std::vector<BatchChunk>{{.tokens = prefix, .block_table = a_table}});
  paged_->copy_block(26, 18);
  // Both continue from position 10 with different tokens, in one step.
  const auto a_tail = tokens(5, 7);
  const auto b_tail = tokens(3, 8);
  const auto logits =
      paged_->step(std::vector<BatchChunk>{{.tokens = a_tail, .start_pos = 10, .block_table = a_table},
                                           {.tokens = b_tail, .start_pos = 10, .block_table = b_table}});
  std::vector<int32_t> a = prefix, b = prefix;
  a.insert(a.end(), a_tail.begin(), a_tail.end());
  b.insert(b.end(), b_tail.begin(), b_tail.end());
  EXPECT_LT(nmse(row(logits, 0), session_logits(a)), tolerance());
  EXPECT_LT(nmse(row(logits, 1), session_logits(b)), tolerance());
  // B's own tokens went to its blocks: A's continuation (next in its block 26) is unaffected by B.
  const int32_t next = 5;
  const auto again =
      paged_->step(std::vector<BatchChunk>{{.tokens = {&next, 1}, .start_pos = 15, .block_table = a_table}});
  a.push_back(next);
  EXPECT_LT(nmse(again, session_logits(a)), tolerance());
  // A fresh sequence whose table shares block 3 only (prefix of 4 tokens).
  const std::vector<int32_t> c_table = {3, 35};
  const auto c = paged_->step(std::vector<BatchChunk>{
      {.tokens = std::span(prefix).subspan(4, 2), .start_pos = 4, .block_table = c_table}});
  EXPECT_LT(nmse(c, session_logits(std::span(prefix).first(6))), tolerance());
}

TEST_P(PagedDecoder, MalformedBatchesAreRejectedBeforeAnythingIsWritten) {
  const auto seq = tokens(6, 9);
  const std::vector<int32_t> table = {4, 5};
  paged_->step(std::vector<BatchChunk>{{.tokens = seq, .block_table = table}});
  const auto bad_tokens = tokens(6, 10);  // would overwrite seq's cache rows if anything ran
  const std::vector<int32_t> bad_id = {-7};
  const std::vector<int32_t> big = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
  const std::vector<int32_t> outside = {1, 40};
  const std::vector<int32_t> many_tokens(65, 1);
  auto expect_invalid = [&](std::vector<BatchChunk> chunks, const std::string& words) {
    SCOPED_TRACE(words);
    // The valid first chunk rewrites seq's own positions with other tokens.
    chunks.insert(chunks.begin(), BatchChunk{.tokens = bad_tokens, .block_table = table});
    try {
      paged_->step(chunks);
      ADD_FAILURE() << "no error";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  const int32_t one = 1, vocab = tiny_.vocab;
  expect_invalid({{.tokens = {}, .block_table = table}}, "no tokens");
  expect_invalid({{.tokens = {&vocab, 1}, .block_table = std::span(big).first(2)}}, "outside the vocabulary");
  expect_invalid({{.tokens = many_tokens, .block_table = big}}, "max_batch_tokens");
  expect_invalid({{.tokens = {&one, 1}, .start_pos = 4, .block_table = std::span(big).first(1)}},
                 "block table has 1");
  expect_invalid({{.tokens = {&one, 1}, .block_table = bad_id}}, "block id -7");
  expect_invalid({{.tokens = {&one, 1}, .start_pos = 4, .block_table = outside}}, "block id 40");
  expect_invalid({{.tokens = {&one, 1}, .start_pos = tiny_.context, .block_table = big}}, "context");
  expect_invalid({{.tokens = {&one, 1}, .start_pos = -1, .block_table = big}}, "negative start_pos");
  expect_invalid({{.tokens = {&one, 1}, .start_pos = 2, .block_table = table}}, "same cache slot");
  std::vector<BatchChunk> too_many(8, BatchChunk{.tokens = {&one, 1}, .block_table = big});
  expect_invalid(too_many, "max_seqs");
  EXPECT_THROW(paged_->step({}), std::invalid_argument);
  EXPECT_THROW(paged_->copy_block(0, 40), std::invalid_argument);
  EXPECT_THROW(paged_->copy_block(-1, 0), std::invalid_argument);

  // seq's cache was left as it was: its next token still matches the single-sequence path.
  const int32_t next = 17;
  const auto logits =
      paged_->step(std::vector<BatchChunk>{{.tokens = {&next, 1}, .start_pos = 6, .block_table = table}});
  std::vector<int32_t> full = seq;
  full.push_back(next);
  EXPECT_LT(nmse(logits, session_logits(full)), tolerance());
}

TEST_P(PagedDecoder, BatchInvariantOptionGivesTheSameLogitsAloneAndInABatch) {
  PagedLlamaOptions o = options();
  o.batch_invariant = true;
  o.batch_invariant_rows = 2;  // small, so the tiny batches here are sliced
  PagedLlama inv(*model_, o);
  const auto a = tokens(7, 11);
  const auto b = tokens(9, 12);
  const std::vector<int32_t> ta = {0, 1}, tb = {2, 3, 4};
  const auto alone = inv.step(std::vector<BatchChunk>{{.tokens = a, .block_table = ta}});
  const std::vector<float> alone_copy(alone.begin(), alone.end());
  const std::vector<int32_t> ta2 = {5, 6};
  const auto both =
      inv.step(std::vector<BatchChunk>{{.tokens = b, .block_table = tb}, {.tokens = a, .block_table = ta2}});
  const auto a_in_batch = row(both, 1);
  EXPECT_TRUE(std::equal(a_in_batch.begin(), a_in_batch.end(), alone_copy.begin()))
      << "logits differ bitwise";
  EXPECT_LT(nmse(alone_copy, session_logits(a)), tolerance());
}

TEST_P(PagedDecoder, SizesAndDefaults) {
  EXPECT_EQ(paged_->vocab_size(), tiny_.vocab);
  EXPECT_EQ(paged_->block_size(), 4);
  EXPECT_EQ(paged_->num_blocks(), 40);
  EXPECT_EQ(paged_->max_batch_tokens(), 64);
  EXPECT_EQ(paged_->max_blocks_per_seq(), tiny_.context / 4);
  const uint64_t per_block = PagedLlama::bytes_per_block(model_->config(), 4, GetParam());
  // k and v, per layer, per token: Hkv * D elements.
  const uint64_t elem = GetParam() == DType::f32 ? 4 : 2;
  EXPECT_EQ(per_block, 2u * tiny_.n_layers * 4 * tiny_.n_kv_heads * tiny_.head_dim * elem);
  EXPECT_EQ(paged_->cache_bytes(), per_block * 40);
  EXPECT_EQ(
      PagedLlama::default_num_blocks(model_->config(), 4, GetParam(), per_block * 100, 0.5, ~uint64_t{0}),
      50);
  EXPECT_EQ(
      PagedLlama::default_num_blocks(model_->config(), 4, GetParam(), per_block * 100, 0.5, per_block * 10),
      10);
  // num_blocks = 0 derives the cache from the device's free memory, capped by what max_seqs can use.
  PagedLlama derived(*model_,
                     {.block_size = 4, .kv_dtype = GetParam(), .max_batch_tokens = 16, .max_seqs = 2});
  EXPECT_GE(derived.num_blocks(), 1);
  EXPECT_LE(derived.num_blocks(), 2 * tiny_.context / 4);
  EXPECT_THROW(PagedLlama(*model_, {.kv_dtype = DType::q8_0}), std::invalid_argument);
  EXPECT_THROW(PagedLlama(*model_, {.block_size = 0}), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(CacheDtype, PagedDecoder, ::testing::Values(DType::f32, DType::f16),
                         [](const ::testing::TestParamInfo<DType>& p) {
                           return std::string(dtype_name(p.param));
                         });

#if defined(PLINTH_DECODER_TEMPLATE_PLUGIN) || defined(PLINTH_DECODER_TEMPLATE_V10_PLUGIN)
// A device whose plugin has no paged ops: the model refuses it at construction, naming the device
// and the plugin's reason.
void expect_refusal(const char* plugin, const std::string& reason_words) {
  RuntimeOptions ro;
  ro.plugin_paths = {plugin};
  ro.use_env_plugin_path = false;
  ro.use_default_plugin_dirs = false;
  Runtime runtime(ro);
  ASSERT_EQ(runtime.devices().size(), 1u);
  Device& device = *runtime.devices()[0];
  const std::string device_id = device.id();
  TinyLlama tiny;
  TempPath file("plinth-tiny-refuse");
  tiny.write(file.path());
  const LlamaModel model = LlamaModel::load(device, file.path());
  try {
    PagedLlama paged(model, {.num_blocks = 4});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("device " + device_id), std::string::npos) << what;
    EXPECT_NE(what.find("set_rows"), std::string::npos) << what;
    EXPECT_NE(what.find(reason_words), std::string::npos) << what;
  }
}

#endif

#ifdef PLINTH_DECODER_TEMPLATE_PLUGIN
TEST(PagedDecoderRefusal, DeviceWithoutThePagedOps) {
  expect_refusal(PLINTH_DECODER_TEMPLATE_PLUGIN, "the template implements only");
}
#endif
#ifdef PLINTH_DECODER_TEMPLATE_V10_PLUGIN
TEST(PagedDecoderRefusal, PluginOlderThanAbi12) {
  expect_refusal(PLINTH_DECODER_TEMPLATE_V10_PLUGIN, "implements ABI 1.0, and op set_rows needs ABI 1.2");
}
#endif

}  // namespace
}  // namespace plinth::decoder_test
