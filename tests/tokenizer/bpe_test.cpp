// Byte-level BPE on a handmade vocabulary: merge order, byte fallback, specials, odd input, errors.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <format_writer.hpp>
#include <plinth/formats/gguf_file.hpp>
#include <plinth/models/bpe_tokenizer.hpp>

#include "tiny_vocab.hpp"

namespace plinth::models {
namespace {

using testing::kTinyEndOfText;
using testing::kTinyImEnd;
using testing::kTinyImStart;
using testing::kTinyTool;
using testing::tiny_bpe_config;
using testing::tiny_byte_id;
using testing::tiny_token_id;
using Ids = std::vector<std::int32_t>;

class TinyBpe : public ::testing::Test {
 protected:
  BpeConfig config_ = tiny_bpe_config();
  std::unique_ptr<Tokenizer> tok_ = make_bpe_tokenizer(tiny_bpe_config());
  std::int32_t id(const std::string& s) const { return tiny_token_id(config_, s); }
};

TEST_F(TinyBpe, MergesByRankNotPosition) {
  // "b c" (rank 9) beats "a b" (rank 10): abc -> a + bc, and no merge joins a with bc.
  EXPECT_EQ(tok_->encode("abc"), (Ids{id("a"), id("bc")}));
  // Chained merges, each applied in rank order, produce the whole word.
  EXPECT_EQ(tok_->encode("hello"), (Ids{id("hello")}));
  EXPECT_EQ(tok_->encode("hello world"), (Ids{id("hello"), id("Ġworld")}));
}

TEST_F(TinyBpe, RepeatedPairsMergeLeftmostFirst) {
  // "ll" twice: both merge; "lll" merges the leftmost pair and leaves the last l.
  EXPECT_EQ(tok_->encode("llll"), (Ids{id("ll"), id("ll")}));
  EXPECT_EQ(tok_->encode("lll"), (Ids{id("ll"), id("l")}));
}

TEST_F(TinyBpe, UnseenBytesUseByteTokens) {
  const std::string emoji = "\xF0\x9F\x98\x80";  // U+1F600, four bytes, no merges
  EXPECT_EQ(tok_->encode(emoji), (Ids{tiny_byte_id(0xF0), tiny_byte_id(0x9F), tiny_byte_id(0x98), tiny_byte_id(0x80)}));
  // "x y" merges, but "xy" is no token: its bytes come back as byte tokens.
  EXPECT_EQ(tok_->encode("xy"), (Ids{tiny_byte_id('x'), tiny_byte_id('y')}));
  EXPECT_EQ(tok_->decode(tok_->encode(emoji)), emoji);
}

TEST_F(TinyBpe, PiecesAreRawBytes) {
  EXPECT_EQ(tok_->token_to_piece(id("Ġworld")), " world");
  EXPECT_EQ(tok_->token_to_piece(tiny_byte_id(0xF0)), "\xF0");  // partial UTF-8 on purpose
  EXPECT_EQ(tok_->token_to_piece(tiny_byte_id('\n')), "\n");
  EXPECT_EQ(tok_->token_to_piece(kTinyImStart), "<|im_start|>");
  EXPECT_EQ(tok_->token_to_piece(-1), "");
  EXPECT_EQ(tok_->token_to_piece(tok_->vocab_size()), "");
}

TEST_F(TinyBpe, SpecialTokensInTextAreRecognised) {
  const Ids ids = tok_->encode("<|im_start|>hello<|im_end|>\n<tool>");
  EXPECT_EQ(ids, (Ids{kTinyImStart, id("hello"), kTinyImEnd, tiny_byte_id('\n'), kTinyTool}));
  EXPECT_TRUE(tok_->is_special(kTinyImStart));
  EXPECT_TRUE(tok_->is_special(kTinyImEnd));
  EXPECT_FALSE(tok_->is_special(kTinyTool));  // user-defined tokens are printed
  EXPECT_FALSE(tok_->is_special(id("hello")));
  EXPECT_EQ(tok_->decode(ids), "hello\n<tool>");
  EXPECT_EQ(tok_->decode(ids, false), "<|im_start|>hello<|im_end|>\n<tool>");
  // An incomplete special string is ordinary text.
  EXPECT_EQ(tok_->decode(tok_->encode("<|im_start")), "<|im_start");
}

TEST_F(TinyBpe, AddsBosOnlyWhenTheModelAsks) {
  EXPECT_EQ(tok_->encode("hello", true), (Ids{id("hello")}));
  BpeConfig c = tiny_bpe_config();
  c.add_bos = true;
  auto with_bos = make_bpe_tokenizer(c);
  EXPECT_EQ(with_bos->encode("hello", true), (Ids{kTinyEndOfText, id("hello")}));
  EXPECT_EQ(with_bos->encode("hello", false), (Ids{id("hello")}));
  EXPECT_EQ(with_bos->bos_id(), kTinyEndOfText);
  EXPECT_EQ(with_bos->eos_id(), kTinyImEnd);
  EXPECT_EQ(with_bos->pad_id(), kTinyEndOfText);
}

TEST_F(TinyBpe, InvalidUtf8BecomesReplacementCharacters) {
  // Each byte that starts no well-formed sequence is one U+FFFD (EF BF BD), so the result is defined.
  const std::string bad = "a\xFF" "b\xC3";
  const Ids ids = tok_->encode(bad);
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(tok_->decode(ids), "a" + fffd + "b" + fffd);
  // Overlong and surrogate encodings are not characters either.
  EXPECT_EQ(tok_->decode(tok_->encode("\xC0\xAF")), fffd + fffd);
  EXPECT_EQ(tok_->decode(tok_->encode("\xED\xA0\x80")), fffd + fffd + fffd);
}

TEST_F(TinyBpe, EmptyAndWhitespaceOnly) {
  EXPECT_TRUE(tok_->encode("").empty());
  EXPECT_EQ(tok_->encode("  "), (Ids{id("ĠĠ")}));
  EXPECT_EQ(tok_->decode(tok_->encode(" \t\n ")), " \t\n ");
}

TEST_F(TinyBpe, DecodeRoundTripsArbitraryValidText) {
  for (const std::string s : {"hello world", "  leading", "tabs\tand\nnewlines\r\n", "Caf\xC3\xA9 12345",
                              "I'm you're they've", "\xE6\x97\xA5\xE6\x9C\xAC"}) {
    EXPECT_EQ(tok_->decode(tok_->encode(s)), s) << s;
  }
}

TEST_F(TinyBpe, DecodeIgnoresOutOfRangeIds) {
  const Ids ids{id("hello"), -5, 1 << 30, id("Ġworld")};
  EXPECT_EQ(tok_->decode(ids), "hello world");
}

TEST(BpeErrors, UnknownPreTokenizerNamesTheSupportedOnes) {
  BpeConfig c = tiny_bpe_config("no-such-pre");
  try {
    (void)make_bpe_tokenizer(c);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tiny-bpe: unsupported pre-tokenizer 'no-such-pre'"), std::string::npos) << what;
    EXPECT_NE(what.find("smollm"), std::string::npos) << what;
    EXPECT_NE(what.find("gpt-2"), std::string::npos) << what;
    EXPECT_NE(what.find("llama3"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
}

TEST(BpeErrors, MalformedConfigs) {
  BpeConfig bad_merge = tiny_bpe_config();
  bad_merge.merges.push_back("nospace");
  EXPECT_THROW((void)make_bpe_tokenizer(bad_merge), std::runtime_error);
  BpeConfig bad_id = tiny_bpe_config();
  bad_id.eos_id = 1 << 20;
  EXPECT_THROW((void)make_bpe_tokenizer(bad_id), std::runtime_error);
  BpeConfig bad_types = tiny_bpe_config();
  bad_types.token_types.pop_back();
  EXPECT_THROW((void)make_bpe_tokenizer(bad_types), std::runtime_error);
  BpeConfig empty;
  empty.pre = "gpt-2";
  EXPECT_THROW((void)make_bpe_tokenizer(empty), std::runtime_error);
}

TEST(BpeErrors, SupportedListMatchesLoader) {
  const auto names = supported_bpe_pre_tokenizers();
  for (std::string_view name : names) {
    EXPECT_NO_THROW((void)make_bpe_tokenizer(tiny_bpe_config(std::string(name)))) << name;
  }
}

// load_gguf_tokenizer over a GGUF image built in memory.
namespace fw = formats::testing;

fw::Bytes tiny_gguf(bool with_model = true, std::string model = "gpt2", std::string pre = "smollm") {
  const BpeConfig c = tiny_bpe_config();
  fw::GgufSpec spec;
  spec.kvs.push_back(fw::kv_string("general.architecture", "llama"));
  if (with_model) spec.kvs.push_back(fw::kv_string("tokenizer.ggml.model", model));
  spec.kvs.push_back(fw::kv_string("tokenizer.ggml.pre", pre));
  spec.kvs.push_back(fw::kv_array("tokenizer.ggml.tokens", fw::string_array_body(c.tokens)));
  std::vector<std::int32_t> types;
  for (TokenType t : c.token_types) types.push_back(static_cast<std::int32_t>(t));
  spec.kvs.push_back(fw::kv_array("tokenizer.ggml.token_type", fw::array_body(fw::kI32, types)));
  spec.kvs.push_back(fw::kv_array("tokenizer.ggml.merges", fw::string_array_body(c.merges)));
  spec.kvs.push_back(fw::kv<std::uint32_t>("tokenizer.ggml.bos_token_id", fw::kU32, 0));
  spec.kvs.push_back(fw::kv<std::uint32_t>("tokenizer.ggml.eos_token_id", fw::kU32, 2));
  spec.kvs.push_back(fw::kv<std::uint8_t>("tokenizer.ggml.add_bos_token", fw::kBool, 1));
  return fw::build_gguf(spec);
}

TEST(GgufTokenizer, LoadsFromMetadata) {
  const fw::Bytes bytes = tiny_gguf();
  const auto file = formats::GgufFile::parse(bytes, "tiny.gguf");
  auto tok = load_gguf_tokenizer(file);
  const BpeConfig c = tiny_bpe_config();
  EXPECT_EQ(tok->vocab_size(), static_cast<std::int32_t>(c.tokens.size()));
  EXPECT_EQ(tok->encode("hello 12"),
            (Ids{0, tiny_token_id(c, "hello"), tiny_byte_id(' '), tiny_byte_id('1'), tiny_byte_id('2')}));
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_FALSE(tok->pad_id().has_value());
}

TEST(GgufTokenizer, ErrorsNameTheFile) {
  for (const auto& bytes : {tiny_gguf(false), tiny_gguf(true, "llama"), tiny_gguf(true, "gpt2", "mystery")}) {
    const auto file = formats::GgufFile::parse(bytes, "tiny.gguf");
    try {
      (void)load_gguf_tokenizer(file);
      FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("tiny.gguf: ", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace plinth::models
