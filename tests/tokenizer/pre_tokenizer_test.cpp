// The word splits of each BPE pre-tokenizer, and the UTF-8 / Unicode helpers under them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pre_tokenizer.hpp"
#include "unicode_text.hpp"

namespace plinth::models {
namespace {

std::vector<std::string> words(BpePreTokenizer kind, const std::string& text) {
  const std::u32string cps = unicode::decode_utf8(text);
  std::vector<std::string> out;
  std::size_t expected_begin = 0;
  for (const auto& [b, e] : pre_tokenize(kind, cps)) {
    EXPECT_EQ(b, expected_begin) << "words must tile the text";
    EXPECT_LT(b, e);
    expected_begin = e;
    out.push_back(unicode::encode_utf8(std::u32string_view(cps).substr(b, e - b)));
  }
  EXPECT_EQ(expected_begin, cps.size());
  return out;
}

using W = std::vector<std::string>;

TEST(PreTokenizer, Gpt2Pattern) {
  EXPECT_EQ(words(BpePreTokenizer::kGpt2, "Hello world"), (W{"Hello", " world"}));
  EXPECT_EQ(words(BpePreTokenizer::kGpt2, "I'm here, they'll"), (W{"I", "'m", " here", ",", " they", "'ll"}));
  // Contractions are case-sensitive in GPT-2's pattern.
  EXPECT_EQ(words(BpePreTokenizer::kGpt2, "I'M"), (W{"I", "'", "M"}));
  // \s+(?!\S): the last space of a run joins the next word; a run at the end stays whole.
  EXPECT_EQ(words(BpePreTokenizer::kGpt2, "a   b  "), (W{"a", "  ", " b", "  "}));
  EXPECT_EQ(words(BpePreTokenizer::kGpt2, "a\n\nb"), (W{"a", "\n", "\n", "b"}));
  EXPECT_EQ(words(BpePreTokenizer::kGpt2, "x 123 4.5"), (W{"x", " 123", " 4", ".", "5"}));
  EXPECT_EQ(words(BpePreTokenizer::kGpt2, "f(x) += 1;"), (W{"f", "(", "x", ")", " +=", " 1", ";"}));
  EXPECT_EQ(words(BpePreTokenizer::kGpt2, "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC"),
            (W{"caf\xC3\xA9", " \xE6\x97\xA5\xE6\x9C\xAC"}));
}

TEST(PreTokenizer, SmollmSplitsEveryDigit) {
  EXPECT_EQ(words(BpePreTokenizer::kSmollm, "x 123 ab12"), (W{"x", " ", "1", "2", "3", " ab", "1", "2"}));
  // Non-ASCII digits are \p{N} too.
  EXPECT_EQ(words(BpePreTokenizer::kSmollm, "\xD9\xA1\xD9\xA2"), (W{"\xD9\xA1", "\xD9\xA2"}));
}

TEST(PreTokenizer, Llama3Pattern) {
  EXPECT_EQ(words(BpePreTokenizer::kLlama3, "12345 I'M"), (W{"123", "45", " I", "'M"}));
  EXPECT_EQ(words(BpePreTokenizer::kLlama3, "a\n\n b"), (W{"a", "\n\n", " b"}));
  EXPECT_EQ(words(BpePreTokenizer::kLlama3, "(x)\n"), (W{"(x", ")\n"}));  // one non-letter may lead a word
  EXPECT_EQ(words(BpePreTokenizer::kLlama3, "$foo"), (W{"$foo"}));
}

TEST(PreTokenizer, DefaultPattern) {
  EXPECT_EQ(words(BpePreTokenizer::kDefault, "a+b 1234567"), (W{"a", "+", "b", " ", "123", "456", "7"}));
}

TEST(PreTokenizer, NamesAndFlags) {
  ASSERT_TRUE(find_bpe_pre_tokenizer("smollm").has_value());
  EXPECT_EQ(find_bpe_pre_tokenizer("smollm")->kind, BpePreTokenizer::kSmollm);
  EXPECT_TRUE(find_bpe_pre_tokenizer("llama-bpe")->ignore_merges);
  EXPECT_FALSE(find_bpe_pre_tokenizer("gpt2").has_value());  // llama.cpp's name is "gpt-2"
}

TEST(Utf8, DecodeReplacesEachBadByte) {
  EXPECT_EQ(unicode::decode_utf8("a\xE2\x82"), (std::u32string{U'a', 0xFFFD, 0xFFFD}));
  EXPECT_EQ(unicode::decode_utf8("\xF4\x90\x80\x80"), std::u32string(4, 0xFFFD));  // > U+10FFFF
  EXPECT_EQ(unicode::decode_utf8("\xF0\x9F\x98\x80"), (std::u32string{0x1F600}));
  EXPECT_EQ(unicode::encode_utf8(U"\U0001F600\u00E9x"), "\xF0\x9F\x98\x80\xC3\xA9x");
}

TEST(Unicode, NfdAndCategories) {
  EXPECT_EQ(unicode::nfd(U"\u00C5"), (std::u32string{U'A', 0x030A}));
  EXPECT_EQ(unicode::nfd(U"\uD55C"), (std::u32string{0x1112, 0x1161, 0x11AB}));  // Hangul syllable
  // Canonical ordering: dot below (220) before acute (230).
  EXPECT_EQ(unicode::nfd(U"e\u0301\u0323"), (std::u32string{U'e', 0x0323, 0x0301}));
  EXPECT_TRUE(unicode::is_letter(U'\u00E9'));
  EXPECT_TRUE(unicode::is_number(U'\u0663'));
  EXPECT_TRUE(unicode::is_whitespace(U'\u3000'));
  EXPECT_FALSE(unicode::is_whitespace(U'\u200B'));
  EXPECT_TRUE(unicode::is_other(U'\u200B'));
  EXPECT_EQ(unicode::to_lower(U'\u0391'), U'\u03B1');
}

}  // namespace
}  // namespace plinth::models
