// end_conditions(): which end markers end a generation as tokens and which as text, on the handmade
// byte-level BPE vocabulary of the tokenizer tests (no model needed).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plinth/models/generate.hpp"
#include "tiny_vocab.hpp"

namespace plinth::models {
namespace {

using testing::kTinyEndOfText;
using testing::kTinyImEnd;

TEST(EndConditions, SpecialMarkersAreTokensOthersAreText) {
  const auto tokenizer = make_bpe_tokenizer(testing::tiny_bpe_config());
  // "<tool>" is one token but user-defined (printed as text), "</answer>" several tokens: both are
  // matched as text. "<|im_end|>" is EOS and a control token.
  const std::vector<std::string> ends{"<|im_end|>", "</answer>", "<tool>"};
  const auto conditions = end_conditions(*tokenizer, ends);
  EXPECT_EQ(conditions.end_tokens, (std::vector<int32_t>{kTinyEndOfText, kTinyImEnd}));
  EXPECT_EQ(conditions.stop, (std::vector<std::string>{"</answer>", "<tool>"}));
  EXPECT_EQ(conditions.end_tokens, default_end_tokens(*tokenizer, ends));
}

TEST(EndConditions, NoEndStringsGiveTheDefaultEndTokensOnly) {
  const auto tokenizer = make_bpe_tokenizer(testing::tiny_bpe_config());
  const auto conditions = end_conditions(*tokenizer);
  EXPECT_EQ(conditions.end_tokens, default_end_tokens(*tokenizer));
  EXPECT_TRUE(conditions.stop.empty());
}

TEST(EndConditions, ApplyKeepsTheCallersStopStringsFirst) {
  const auto tokenizer = make_bpe_tokenizer(testing::tiny_bpe_config());
  const std::vector<std::string> ends{"</answer>"};
  GenerateOptions options{.stop = {"\n\n"}, .end_tokens = {42}};
  end_conditions(*tokenizer, ends).apply(options);
  EXPECT_EQ(options.stop, (std::vector<std::string>{"\n\n", "</answer>"}));
  EXPECT_EQ(options.end_tokens, default_end_tokens(*tokenizer, ends));  // replaced, not appended
}

}  // namespace
}  // namespace plinth::models
