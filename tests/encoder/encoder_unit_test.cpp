// The encoder graph on a tiny random BERT written on the fly (no model download), checked against a
// double-precision reference of the whole model; config parsing; batch planning; error messages.
#include <gtest/gtest.h>

#include <fstream>
#include <plinth/models/bert_config.hpp>
#include <plinth/models/bert_encoder.hpp>
#include <string>
#include <vector>

#include "batch_plan.hpp"  // internal: the batch planner is tested directly
#include "encoder_test_support.hpp"
#include "tiny_bert.hpp"

namespace plinth::encoder_test {
namespace {

using models::BertEncoder;

std::vector<std::vector<int32_t>> some_sequences() {
  return {{1, 5, 7, 2},
          {1, 9, 2},
          {1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 2},
          {1, 2},
          {1, 49, 48, 47, 46, 2},
          {1, 30, 31, 32, 33, 34, 35, 36, 2}};
}

// The first line of what `fn` throws (empty when it does not throw).
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

class EncoderUnitTest : public testing::Test {
 protected:
  void SetUp() override {
    device_ = std::make_unique<OneDevice>(PLINTH_ENCODER_TEST_PLUGIN, PLINTH_ENCODER_TEST_DEVICE);
    if (device_->device() == nullptr) GTEST_SKIP() << device_->why();
  }
  Device& device() { return *device_->device(); }

  std::unique_ptr<OneDevice> device_;
  TempDir dir_;
};

void expect_matches_reference(const TinyBert& model, BertEncoder& encoder,
                              const std::vector<std::vector<int32_t>>& seqs, double min_cosine) {
  const auto rows = encoder.embed_tokens(seqs);
  const std::size_t dim = static_cast<std::size_t>(model.shape().hidden);
  ASSERT_EQ(rows.size(), seqs.size() * dim);
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const auto ref = model.reference(seqs[i]);
    const std::vector<float> ref_f(ref.begin(), ref.end());
    double max_diff = 0;
    for (std::size_t c = 0; c < dim; ++c)
      max_diff = std::max(max_diff, std::fabs(rows[i * dim + c] - ref[c]));
    EXPECT_GE(cosine(row(rows, i, dim), ref_f), min_cosine) << "sequence " << i;
    EXPECT_LT(max_diff, 1e-3) << "sequence " << i;
  }
}

TEST_F(EncoderUnitTest, TinyModelMatchesDoublePrecisionReference) {
  const TinyBert model;
  model.write(dir_.path());
  auto encoder = BertEncoder::load(device(), dir_.path());
  EXPECT_EQ(encoder.hidden_size(), 16);
  EXPECT_EQ(encoder.config().num_layers, 2);
  EXPECT_EQ(encoder.weight_dtype(), DType::f32);
  expect_matches_reference(model, encoder, some_sequences(), 0.99999);
}

TEST_F(EncoderUnitTest, AcceptsBertPrefixAndSafetensorsPath) {
  const TinyBert model({}, 11, "bert.");
  model.write(dir_.path());
  auto encoder = BertEncoder::load(device(), dir_.path() / "model.safetensors");
  expect_matches_reference(model, encoder, {{1, 2, 3}, {4, 5, 6, 7, 8}}, 0.99999);
}

TEST_F(EncoderUnitTest, BatchSizeAndOrderDoNotChangeResults) {
  const TinyBert model;
  model.write(dir_.path());
  auto whole = BertEncoder::load(device(), dir_.path());
  auto single = BertEncoder::load(device(), dir_.path(), {.batch_size = 1});
  auto pairs = BertEncoder::load(device(), dir_.path(), {.batch_size = 2});
  const auto seqs = some_sequences();
  const auto a = whole.embed_tokens(seqs);
  const auto b = single.embed_tokens(seqs);
  const auto c = pairs.embed_tokens(seqs);
  const std::size_t dim = 16;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    EXPECT_GE(cosine(row(a, i, dim), row(b, i, dim)), 0.99999) << i;
    EXPECT_GE(cosine(row(a, i, dim), row(c, i, dim)), 0.99999) << i;
  }
  // Reusing the encoder (and its buffers) for a second, smaller call gives the same rows.
  const std::vector<std::vector<int32_t>> one{seqs[2]};
  EXPECT_GE(cosine(row(whole.embed_tokens(one), 0, dim), row(a, 2, dim)), 0.99999);
}

TEST_F(EncoderUnitTest, EmptySequencesAndEmptyInputGiveZeroRows) {
  const TinyBert model;
  model.write(dir_.path());
  auto encoder = BertEncoder::load(device(), dir_.path());
  EXPECT_TRUE(encoder.embed_tokens({}).empty());
  const std::vector<std::vector<int32_t>> seqs{{}, {1, 2, 3}, {}};
  const auto rows = encoder.embed_tokens(seqs);
  ASSERT_EQ(rows.size(), 3u * 16u);
  for (std::size_t c = 0; c < 16; ++c) {
    EXPECT_EQ(rows[c], 0.0f);
    EXPECT_EQ(rows[32 + c], 0.0f);
  }
  EXPECT_NEAR(cosine(row(rows, 1, 16), row(rows, 1, 16)), 1.0, 1e-9);
}

TEST_F(EncoderUnitTest, TruncatesToMaxTokens) {
  const TinyBert model;
  model.write(dir_.path());
  auto encoder = BertEncoder::load(device(), dir_.path(), {.max_tokens = 5});
  const std::vector<std::vector<int32_t>> longer{{1, 5, 6, 7, 8, 9, 10, 2}};
  const std::vector<std::vector<int32_t>> cut{{1, 5, 6, 7, 8}};
  EXPECT_GE(cosine(encoder.embed_tokens(longer), encoder.embed_tokens(cut)), 0.999999);
  EXPECT_EQ(encoder.max_tokens(), 5);
  // Beyond the model's positions nothing can be embedded: the cap is max_position_embeddings.
  auto capped = BertEncoder::load(device(), dir_.path(), {.max_tokens = 100000});
  EXPECT_EQ(capped.max_tokens(), 40);
  std::vector<std::vector<int32_t>> huge{std::vector<int32_t>(100, 3)};
  EXPECT_EQ(capped.embed_tokens(huge).size(), 16u);
  // A sentence-transformers model truncates at the length it was trained for.
  std::ofstream(dir_.path() / "sentence_bert_config.json")
      << R"({"max_seq_length": 7, "do_lower_case": false})";
  EXPECT_EQ(BertEncoder::load(device(), dir_.path()).max_tokens(), 7);
  EXPECT_EQ(BertEncoder::load(device(), dir_.path(), {.max_tokens = 6}).max_tokens(), 6);
}

TEST_F(EncoderUnitTest, HalfPrecisionWeightsStayClose) {
  const TinyBert model;
  model.write(dir_.path());
  for (DType dtype : {DType::f16, DType::bf16}) {
    auto encoder = BertEncoder::load(device(), dir_.path(), {.weight_dtype = dtype});
    if (encoder.weight_dtype() != dtype) continue;  // the device lacks it: f32 is used instead
    const auto seqs = some_sequences();
    const auto rows = encoder.embed_tokens(seqs);
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      const auto ref = model.reference(seqs[i]);
      const std::vector<float> ref_f(ref.begin(), ref.end());
      EXPECT_GE(cosine(row(rows, i, 16), ref_f), 0.999) << dtype_name(dtype) << " sequence " << i;
    }
  }
}

TEST_F(EncoderUnitTest, FlopsCountPaddedWork) {
  const TinyBert model;
  model.write(dir_.path());
  auto encoder = BertEncoder::load(device(), dir_.path());
  const std::vector<std::vector<int32_t>> one{std::vector<int32_t>(10, 3)};
  // Per layer: 2*T*H*(3H + H + 2I) for the projections plus 4*S*L*H for attention.
  const double h = 16, inter = 32, t = 10;
  EXPECT_DOUBLE_EQ(encoder.flops(one), 2 * (2 * t * h * (4 * h + 2 * inter) + 4 * t * t * h));
  EXPECT_EQ(encoder.flops({}), 0.0);
}

TEST_F(EncoderUnitTest, TokenOutsideVocabularyIsAnError) {
  const TinyBert model;
  model.write(dir_.path());
  auto encoder = BertEncoder::load(device(), dir_.path());
  const std::vector<std::vector<int32_t>> bad{{1, 2}, {1, 50, 2}};
  const std::string e = error_of([&] { encoder.embed_tokens(bad); });
  EXPECT_NE(e.find("token id 50 at position 1 of sequence 1 is outside the vocabulary [0, 50)"),
            std::string::npos)
      << e;
  // The encoder still works afterwards.
  EXPECT_EQ(encoder.embed_tokens(std::vector<std::vector<int32_t>>{{1, 2}}).size(), 16u);
}

TEST_F(EncoderUnitTest, MissingFilesAreOneLineErrors) {
  const std::string missing = error_of([&] { BertEncoder::load(device(), dir_.path() / "nope"); });
  EXPECT_NE(missing.find("no such model file or directory"), std::string::npos) << missing;
  EXPECT_EQ(missing.find('\n'), std::string::npos);

  const std::string no_weights = error_of([&] { BertEncoder::load(device(), dir_.path()); });
  EXPECT_NE(no_weights.find("no model.safetensors"), std::string::npos) << no_weights;

  const TinyBert model;
  model.write(dir_.path());
  std::filesystem::remove(dir_.path() / "config.json");
  const std::string no_config = error_of([&] { BertEncoder::load(device(), dir_.path()); });
  EXPECT_NE(no_config.find("no config.json"), std::string::npos) << no_config;
}

TEST_F(EncoderUnitTest, WrongArchitectureListsWhatIsSupported) {
  const TinyBert model;
  auto config = model.config();
  config["model_type"] = "llama";
  config["architectures"] = {"LlamaForCausalLM"};
  model.write(dir_.path(), "", "", config);
  const std::string e = error_of([&] { BertEncoder::load(device(), dir_.path()); });
  EXPECT_NE(e.find("unsupported architecture model_type \"llama\""), std::string::npos) << e;
  EXPECT_NE(e.find("supported are BERT encoders"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST_F(EncoderUnitTest, MissingOrMisshapedTensorNamesIt) {
  const TinyBert model;
  model.write(dir_.path(), "encoder.layer.1.attention.self.key.weight");
  const std::string missing = error_of([&] { BertEncoder::load(device(), dir_.path()); });
  EXPECT_NE(missing.find("tensor 'encoder.layer.1.attention.self.key.weight' not found"), std::string::npos)
      << missing;

  TempDir other;
  model.write(other.path(), "", "encoder.layer.0.output.dense.weight");
  const std::string shape = error_of([&] { BertEncoder::load(device(), other.path()); });
  EXPECT_NE(shape.find("'encoder.layer.0.output.dense.weight' has shape [512], expected [16,32]"),
            std::string::npos)
      << shape;
}

TEST(BertConfigTest, ParsesMiniLmStyleConfig) {
  const auto c = models::parse_bert_config(
      R"({"architectures":["BertModel"],"model_type":"bert","hidden_size":384,"num_hidden_layers":6,
          "num_attention_heads":12,"intermediate_size":1536,"max_position_embeddings":512,
          "vocab_size":30522,"type_vocab_size":2,"layer_norm_eps":1e-12,"hidden_act":"gelu"})",
      "config.json");
  EXPECT_EQ(c.hidden_size, 384);
  EXPECT_EQ(c.head_dim(), 32);
  EXPECT_EQ(c.num_layers, 6);
  EXPECT_FLOAT_EQ(c.layer_norm_eps, 1e-12f);
  EXPECT_EQ(c.gelu, ops::GeluApprox::erf);
}

TEST(BertConfigTest, RejectsWhatTheGraphCannotRun) {
  auto error = [](const std::string& json) {
    return error_of([&] { models::parse_bert_config(json, "cfg.json"); });
  };
  const std::string base =
      R"("hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":16,)"
      R"("max_position_embeddings":8,"vocab_size":10)";
  EXPECT_EQ(error("{\"model_type\":\"bert\"," + base + "}"), "");
  EXPECT_NE(error("{\"architectures\":[\"RobertaModel\"]," + base + "}")
                .find("unsupported architecture \"RobertaModel\""),
            std::string::npos);
  EXPECT_NE(error("{" + base + "}").find("neither \"model_type\" nor \"architectures\""), std::string::npos);
  EXPECT_NE(
      error("{\"model_type\":\"bert\",\"hidden_act\":\"relu\"," + base + "}").find("hidden_act \"relu\""),
      std::string::npos);
  EXPECT_NE(error("{\"model_type\":\"bert\",\"position_embedding_type\":\"relative_key\"," + base + "}")
                .find("position_embedding_type"),
            std::string::npos);
  EXPECT_NE(error(R"({"model_type":"bert","vocab_size":10,"hidden_size":8})")
                .find("cfg.json: missing \"num_hidden_layers\""),
            std::string::npos);
  EXPECT_NE(error(R"({"model_type":"bert","vocab_size":10,"hidden_size":-8})")
                .find("\"hidden_size\" must be a positive integer"),
            std::string::npos);
  const std::string bad_heads =
      R"({"model_type":"bert","hidden_size":10,"num_hidden_layers":1,"num_attention_heads":3,"intermediate_size":16,)"
      R"("max_position_embeddings":8,"vocab_size":10})";
  EXPECT_NE(error(bad_heads).find("not a multiple of num_attention_heads"), std::string::npos);
  const std::string broken = error("{\"model_type\":\n");
  EXPECT_NE(broken.find("cfg.json: not valid JSON"), std::string::npos) << broken;
  EXPECT_EQ(broken.find('\n'), std::string::npos) << broken;
}

TEST(BatchPlanTest, SortsByLengthSkipsEmptyAndChunks) {
  const std::vector<int64_t> lengths{3, 0, 7, 3, 5, 1, 7};
  const auto plan = models::detail::plan_batches(lengths, 3);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].members, (std::vector<std::size_t>{2, 6, 4}));
  EXPECT_EQ(plan[0].seq_len, 7);
  EXPECT_EQ(plan[1].members, (std::vector<std::size_t>{0, 3, 5}));
  EXPECT_EQ(plan[1].seq_len, 3);
  EXPECT_TRUE(models::detail::plan_batches(std::vector<int64_t>{0, 0}, 4).empty());
}

TEST(BatchPlanTest, OneLongSequenceDoesNotPadTheShortOnes) {
  std::vector<int64_t> lengths(12, 5);
  lengths[7] = 100;
  lengths[3] = 6;
  const auto plan = models::detail::plan_batches(lengths, 32);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].members, (std::vector<std::size_t>{7}));
  EXPECT_EQ(plan[0].seq_len, 100);
  EXPECT_EQ(plan[1].members.size(), 11u);
  EXPECT_EQ(plan[1].members[0], 3u);
  EXPECT_EQ(plan[1].seq_len, 6);
  // Similar lengths share a batch: a launch costs more than a little padding.
  EXPECT_EQ(models::detail::plan_batches(std::vector<int64_t>{9, 8, 7, 6, 5}, 32).size(), 1u);
}

}  // namespace
}  // namespace plinth::encoder_test
