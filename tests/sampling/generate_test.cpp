// generate() on the default decoder (cpu:0): it must agree with a hand-written greedy loop, and each
// way of stopping (end token, stop string, length, full context, cancel) must behave as documented.
#include "plinth/models/generate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "plinth/models/chat_template.hpp"
#include "plinth/models/conversation.hpp"
#include "plinth/models/llama_model.hpp"
#include "plinth/models/llama_session.hpp"
#include "plinth/models/model_store.hpp"
#include "plinth/models/tokenizer.hpp"
#include "plinth/runtime.hpp"

namespace plinth::models {
namespace {

constexpr const char* kDefaultDecoder = "SmolLM2-135M-Instruct";
constexpr const char* kDevice = "cpu:0";

int32_t argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

GenerateOptions greedy(int max_tokens) {
  return {.max_tokens = max_tokens, .sampling = {.temperature = 0.0f}};
}

class Generate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto path = find_default_model(kDefaultDecoder);
    if (!path) return;
    runtime_ = std::make_unique<Runtime>(RuntimeOptions{.devices = {kDevice}});
    Device* device = runtime_->find_device(kDevice);
    if (device == nullptr) return;
    model_ = std::make_unique<LlamaModel>(LlamaModel::load(*device, *path));
    tokenizer_ = load_gguf_tokenizer(model_->file());
  }
  static void TearDownTestSuite() {
    tokenizer_.reset();
    model_.reset();  // before the runtime that owns its device
    runtime_.reset();
  }
  void SetUp() override {
    if (!find_default_model(kDefaultDecoder)) {
      const std::string why = std::string("default model ") + kDefaultDecoder + " not in " +
                              models_dir().string() + ": run tools/bootstrap.sh models";
      if (models_required()) FAIL() << why << " (PLINTH_REQUIRE_MODELS=1)";
      GTEST_SKIP() << why;
    }
    if (!model_) GTEST_SKIP() << "no device " << kDevice << " here";
  }

  std::vector<int32_t> prompt(const std::string& text = "The capital of France is") const {
    return tokenizer_->encode(text);
  }

  // Runs generate() and collects the streamed text.
  std::pair<GenerateStats, std::string> run(LlamaSession& session, std::span<const int32_t> tokens,
                                            const GenerateOptions& options) const {
    std::string text;
    auto stats = generate(session, *tokenizer_, tokens, options, [&](std::string_view piece) {
      EXPECT_FALSE(piece.empty());
      text.append(piece);
      return true;
    });
    return {std::move(stats), std::move(text)};
  }

  static std::unique_ptr<Runtime> runtime_;
  static std::unique_ptr<LlamaModel> model_;
  static std::unique_ptr<Tokenizer> tokenizer_;
};
std::unique_ptr<Runtime> Generate::runtime_;
std::unique_ptr<LlamaModel> Generate::model_;
std::unique_ptr<Tokenizer> Generate::tokenizer_;

TEST_F(Generate, GreedyMatchesAHandWrittenLoop) {
  const auto p = prompt();
  LlamaSession reference(*model_, 64);
  std::vector<int32_t> expected;
  auto logits = reference.prefill(p);
  for (int i = 0; i < 12; ++i) {
    expected.push_back(argmax(logits));
    if (i + 1 < 12) logits = reference.decode(expected.back());
  }

  LlamaSession session(*model_, 64);
  GenerateOptions options = greedy(12);
  options.end_tokens = {};  // only EOS ends it
  const auto [stats, text] = run(session, p, options);
  const auto eos = std::find(expected.begin(), expected.end(), *tokenizer_->eos_id());
  expected.erase(eos == expected.end() ? eos : eos + 1, expected.end());
  EXPECT_EQ(stats.tokens, expected);
  EXPECT_EQ(stats.prompt_tokens, static_cast<int>(p.size()));
  EXPECT_EQ(stats.generated_tokens, static_cast<int>(expected.size()));
  EXPECT_EQ(stats.stop_reason,
            expected.size() == 12 && expected.back() != *tokenizer_->eos_id() ? "length" : "eos");
  // The streamed text is the decoded tokens, and the session holds the prompt plus all but the last.
  EXPECT_EQ(text, tokenizer_->decode(expected));
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(stats.decode_steps, stats.generated_tokens - 1);
  EXPECT_EQ(session.position(), static_cast<int>(p.size()) + stats.decode_steps);
  EXPECT_GT(stats.prefill_s, 0.0);
  EXPECT_GE(stats.time_to_first_token_s, stats.prefill_s);
}

TEST_F(Generate, SameSeedSameText) {
  GenerateOptions options{.max_tokens = 10, .sampling = {.temperature = 1.0f, .seed = 99}};
  LlamaSession a(*model_, 64);
  LlamaSession b(*model_, 64);
  const auto [sa, ta] = run(a, prompt(), options);
  const auto [sb, tb] = run(b, prompt(), options);
  EXPECT_EQ(sa.tokens, sb.tokens);
  EXPECT_EQ(ta, tb);
}

TEST_F(Generate, StopStringEndsTheTextBeforeIt) {
  LlamaSession first(*model_, 64);
  const auto [full_stats, full] = run(first, prompt(), greedy(16));
  ASSERT_GE(full.size(), 8u) << full;
  // A stop string from the middle of the greedy text: the output must be exactly what precedes it.
  const std::string stop = full.substr(4, 3);
  const std::size_t at = full.find(stop);
  GenerateOptions options = greedy(16);
  options.stop = {stop};
  LlamaSession second(*model_, 64);
  const auto [stats, text] = run(second, prompt(), options);
  EXPECT_EQ(stats.stop_reason, "stop");
  ASSERT_TRUE(stats.stop_string.has_value());
  EXPECT_EQ(*stats.stop_string, stop);
  EXPECT_EQ(text, full.substr(0, at));
  EXPECT_LT(stats.generated_tokens, full_stats.generated_tokens + 1);
}

TEST_F(Generate, EndTokenStopsWithoutText) {
  LlamaSession probe(*model_, 64);
  const int32_t first = argmax(probe.prefill(prompt()));
  GenerateOptions options = greedy(8);
  options.end_tokens = {first};
  LlamaSession session(*model_, 64);
  const auto [stats, text] = run(session, prompt(), options);
  EXPECT_EQ(stats.stop_reason, "eos");
  EXPECT_EQ(stats.generated_tokens, 1);
  EXPECT_EQ(stats.decode_steps, 0);
  EXPECT_EQ(text, "");
}

TEST_F(Generate, ChatAnswerEndsAtImEnd) {
  const auto chat_template = ChatTemplate::from_gguf(model_->file());
  const std::vector<ChatMessage> messages{{"user", "What is the capital of France?"}};
  const auto tokens = tokenizer_->encode(chat_template.apply(messages));
  GenerateOptions options = greedy(48);
  options.end_tokens = default_end_tokens(*tokenizer_, chat_template.stop_strings());
  LlamaSession session(*model_, 256);
  const auto [stats, text] = run(session, tokens, options);
  EXPECT_EQ(stats.stop_reason, "eos") << text;
  EXPECT_NE(text.find("Paris"), std::string::npos) << text;
  EXPECT_EQ(text.find("<|im_end|>"), std::string::npos) << text;
}

TEST_F(Generate, ChatEndMarkersAreSpecialTokensOnTheDefaultModel) {
  // SmolLM2's ChatML end marker is one control token: it ends the answer as a token, not as text.
  const auto chat_template = ChatTemplate::from_gguf(model_->file());
  const auto markers = chat_template.stop_strings();
  const auto conditions = end_conditions(*tokenizer_, markers);
  EXPECT_TRUE(conditions.stop.empty());
  const auto im_end = tokenizer_->encode("<|im_end|>", /*add_special=*/false);
  ASSERT_EQ(im_end.size(), 1u);
  EXPECT_TRUE(std::binary_search(conditions.end_tokens.begin(), conditions.end_tokens.end(), im_end[0]));
  // A marker the vocabulary does not hold as one special token is matched as text.
  const std::vector<std::string> text_marker{"</answer>"};
  EXPECT_EQ(end_conditions(*tokenizer_, text_marker).stop, text_marker);
}

TEST_F(Generate, LengthAndZeroTokens) {
  LlamaSession session(*model_, 64);
  const auto [none, text] = run(session, prompt(), greedy(0));
  EXPECT_EQ(none.stop_reason, "length");
  EXPECT_EQ(none.generated_tokens, 0);
  EXPECT_EQ(text, "");
  EXPECT_EQ(session.position(), static_cast<int>(prompt().size()));  // the prompt was still prefilled
}

TEST_F(Generate, FullContextStops) {
  const auto p = prompt();
  LlamaSession session(*model_, static_cast<int>(p.size()) + 3);
  GenerateOptions options = greedy(100);
  options.end_tokens = {};
  const auto [stats, text] = run(session, p, options);
  if (stats.stop_reason == "eos") GTEST_SKIP() << "the model ended before the context filled";
  EXPECT_EQ(stats.stop_reason, "context");
  EXPECT_EQ(stats.decode_steps, 3);
  EXPECT_EQ(stats.generated_tokens, 4);
  EXPECT_EQ(session.position(), session.max_context());
}

TEST_F(Generate, CallbackCancels) {
  LlamaSession session(*model_, 64);
  int calls = 0;
  const auto stats = generate(session, *tokenizer_, prompt(), greedy(16), [&](std::string_view) {
    ++calls;
    return false;
  });
  EXPECT_EQ(stats.stop_reason, "cancelled");
  EXPECT_EQ(calls, 1);
  EXPECT_LT(stats.generated_tokens, 16);
}

TEST_F(Generate, ContinuesASession) {
  // Two prompts one after the other in one session give the same tokens as their concatenation.
  const auto a = prompt("The capital of France");
  const auto b = tokenizer_->encode(" is", /*add_special=*/false);
  std::vector<int32_t> ab = a;
  ab.insert(ab.end(), b.begin(), b.end());

  LlamaSession whole(*model_, 64);
  const auto [expected, expected_text] = run(whole, ab, greedy(6));

  LlamaSession split(*model_, 64);
  split.prefill(a);
  GenerateOptions options = greedy(6);
  options.context = a;
  const auto [stats, text] = run(split, b, options);
  EXPECT_EQ(stats.prompt_tokens, static_cast<int>(b.size()));
  EXPECT_EQ(stats.tokens, expected.tokens);
  EXPECT_EQ(text, expected_text);
}

// A chat's options as `plinth chat` sets them: greedy, ending at the template's end marker.
GenerateOptions chat_options(const Tokenizer& tokenizer, const ChatTemplate& chat_template, int max_tokens) {
  GenerateOptions options = greedy(max_tokens);
  end_conditions(tokenizer, chat_template.stop_strings()).apply(options);
  return options;
}

TEST_F(Generate, ConversationPrefillsOnlyTheNewTurn) {
  const auto chat_template = ChatTemplate::from_gguf(model_->file());
  const auto options = chat_options(*tokenizer_, chat_template, 48);
  LlamaSession session(*model_, 512);
  Conversation chat(session, *tokenizer_, chat_template);

  std::string first_text;
  const auto first = chat.turn("What is the capital of France?", options, [&](std::string_view text) {
    first_text.append(text);
    return true;
  });
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(
      first->prompt_tokens,
      static_cast<int>(
          tokenizer_->encode(chat_template.apply(std::vector<ChatMessage>{chat.messages()[0]})).size()));
  ASSERT_EQ(chat.messages().size(), 2u);
  EXPECT_EQ(chat.messages()[1].role, "assistant");
  EXPECT_EQ(chat.messages()[1].content, first_text);
  EXPECT_EQ(session.position(), static_cast<int>(chat.cached_tokens().size()));
  const std::vector<int32_t> before = chat.cached_tokens();

  std::string second_text;
  const auto second = chat.turn("And of Germany?", options, [&](std::string_view text) {
    second_text.append(text);
    return true;
  });
  ASSERT_TRUE(second.has_value());
  std::vector<ChatMessage> asked = chat.messages();
  asked.pop_back();  // the conversation as it stood when the second answer began
  const auto whole = tokenizer_->encode(chat_template.apply(asked));
  // The cache kept every token of the first turn; only the rest of the conversation was prefilled.
  ASSERT_GE(chat.cached_tokens().size(), before.size());
  EXPECT_TRUE(std::equal(before.begin(), before.end(), chat.cached_tokens().begin()));
  EXPECT_EQ(second->prompt_tokens, static_cast<int>(whole.size() - before.size()));
  EXPECT_EQ(chat.cached_tokens().size(), whole.size() + static_cast<std::size_t>(second->decode_steps));
  EXPECT_EQ(session.position(), static_cast<int>(chat.cached_tokens().size()));

  // The answer is the one a fresh session gives for the whole conversation.
  LlamaSession fresh(*model_, 512);
  const auto [expected, expected_text] = run(fresh, whole, options);
  EXPECT_EQ(second->tokens, expected.tokens);
  EXPECT_EQ(second_text, expected_text);
}

TEST_F(Generate, ConversationCutByAStopStringKeepsTheSharedPrefix) {
  const auto chat_template = ChatTemplate::from_gguf(model_->file());
  auto options = chat_options(*tokenizer_, chat_template, 48);
  LlamaSession session(*model_, 512);
  // The stop string is the greedy answer's second word, so it cuts this answer whatever the model
  // says: the cache then holds more than the answer kept.
  std::string answer;
  {
    Conversation probe(session, *tokenizer_, chat_template, "Answer in one sentence.");
    ASSERT_TRUE(probe.turn("What is the capital of France?", options, [&](std::string_view text) {
      answer.append(text);
      return true;
    }));
  }
  const auto space = answer.find(' ', 1);
  ASSERT_NE(space, std::string::npos) << "a one-word answer cannot be cut: '" << answer << "'";
  options.stop = {answer.substr(space, answer.find(' ', space + 1) - space)};
  Conversation chat(session, *tokenizer_, chat_template, "Answer in one sentence.");
  const auto first = chat.turn("What is the capital of France?", options, nullptr);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->stop_reason, "stop") << "stop string '" << options.stop[0] << "' in '" << answer << "'";
  const std::vector<int32_t> before = chat.cached_tokens();

  const auto prompt = chat.add_user("Thanks.");
  ASSERT_TRUE(prompt.has_value());
  const auto whole = tokenizer_->encode(chat_template.apply(chat.messages()));
  EXPECT_EQ(chat.cached_tokens(), whole);  // the whole conversation was encoded again
  // Only the tokens after those the cache shares with it are prefilled.
  std::size_t shared = 0;
  while (shared < before.size() && before[shared] == whole[shared]) ++shared;
  EXPECT_EQ(prompt->size(), whole.size() - shared);
  EXPECT_EQ(session.position(), static_cast<int>(shared));
  EXPECT_GT(shared, 0u);
  EXPECT_LT(prompt->size(), whole.size());
}

TEST_F(Generate, ConversationThatNoLongerFitsIsLeftAsItWas) {
  const auto chat_template = ChatTemplate::from_gguf(model_->file());
  const auto options = chat_options(*tokenizer_, chat_template, 4);
  LlamaSession session(*model_, 48);
  Conversation chat(session, *tokenizer_, chat_template, "Be brief.");
  ASSERT_TRUE(chat.turn("Hi", options, nullptr).has_value());
  const auto messages = chat.messages();
  const auto cached = chat.cached_tokens();
  const int position = session.position();
  EXPECT_FALSE(chat.turn(std::string(200, 'a'), options, nullptr).has_value());
  EXPECT_EQ(chat.messages().size(), messages.size());
  EXPECT_EQ(chat.cached_tokens(), cached);
  EXPECT_EQ(session.position(), position);

  chat.reset();  // starts over: the system message stays, the cache is emptied
  ASSERT_EQ(chat.messages().size(), 1u);
  EXPECT_EQ(chat.messages()[0].role, "system");
  EXPECT_EQ(session.position(), 0);
  EXPECT_TRUE(chat.cached_tokens().empty());
}

TEST_F(Generate, RejectsBadArguments) {
  LlamaSession session(*model_, 8);
  const std::vector<int32_t> empty;
  EXPECT_THROW(generate(session, *tokenizer_, empty, greedy(4), nullptr), std::invalid_argument);
  EXPECT_THROW(generate(session, *tokenizer_, prompt(), greedy(-1), nullptr), std::invalid_argument);
  GenerateOptions bad = greedy(4);
  bad.sampling.top_p = 0.0f;
  EXPECT_THROW(generate(session, *tokenizer_, prompt(), bad, nullptr), std::invalid_argument);
  const std::vector<int32_t> too_long(9, 100);
  EXPECT_THROW(generate(session, *tokenizer_, too_long, greedy(4), nullptr), std::length_error);
  EXPECT_EQ(session.position(), 0);
}

}  // namespace
}  // namespace plinth::models
