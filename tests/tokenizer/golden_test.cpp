// The default models' tokenizers against the oracle output committed in tests/reference/tokenizer/
// (HF tokenizers for WordPiece, llama.cpp for byte-level BPE, jinja2 for the chat template).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <plinth/formats/gguf_file.hpp>
#include <plinth/models/bpe_tokenizer.hpp>
#include <plinth/models/chat_template.hpp>
#include <plinth/models/model_store.hpp>
#include <plinth/models/tokenizer.hpp>

namespace plinth::models {
namespace {

using nlohmann::json;
using Ids = std::vector<std::int32_t>;

json golden(const std::string& name) {
  std::ifstream in(std::string(PLINTH_TOKENIZER_GOLDEN_DIR) + "/" + name);
  EXPECT_TRUE(in) << "missing golden file " << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

// The default model's path, or skips (fails under PLINTH_REQUIRE_MODELS=1).
#define PLINTH_REQUIRE_MODEL(var, name)                                                                  \
  const auto var = find_default_model(name);                                                             \
  if (!var) {                                                                                            \
    if (models_required()) FAIL() << "default model " name " not in " << models_dir().string();        \
    GTEST_SKIP() << "default model " name " not in " << models_dir().string()                           \
                 << ": run tools/bootstrap.sh models";                                                  \
  }

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void expect_wordpiece_matches(const Tokenizer& tok, const json& cases) {
  ASSERT_GE(cases.size(), 40u);
  for (const json& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    const Ids expected = c.at("ids").get<Ids>();
    const Ids ids = tok.encode(text);
    EXPECT_EQ(ids, expected) << "text: \"" << printable(text) << "\"";
    if (ids == expected) {
      EXPECT_EQ(tok.decode(ids), c.at("decoded").get<std::string>()) << printable(text);
    }
  }
}

TEST(GoldenWordPiece, TokenizerJsonMatchesHfTokenizers) {
  PLINTH_REQUIRE_MODEL(dir, "all-MiniLM-L6-v2");
  auto tok = load_wordpiece(*dir / "tokenizer.json");
  EXPECT_EQ(tok->vocab_size(), 30522);
  EXPECT_EQ(tok->max_length(), 128u);  // tokenizer.json's truncation setting
  expect_wordpiece_matches(*tok, golden("wordpiece_golden.json").at("cases"));
}

TEST(GoldenWordPiece, VocabTxtMatchesHfTokenizers) {
  PLINTH_REQUIRE_MODEL(dir, "all-MiniLM-L6-v2");
  expect_wordpiece_matches(*load_wordpiece(*dir / "vocab.txt"), golden("wordpiece_golden.json").at("cases"));
}

class GoldenBpe : public ::testing::Test {
 protected:
  void SetUp() override {
    PLINTH_REQUIRE_MODEL(path, "SmolLM2-135M-Instruct");
    file_ = std::make_unique<formats::GgufFile>(formats::GgufFile::open(*path));
  }
  std::unique_ptr<formats::GgufFile> file_;
};

TEST_F(GoldenBpe, SmollmMatchesLlamaCpp) {
  auto tok = load_gguf_tokenizer(*file_);
  EXPECT_EQ(tok->vocab_size(), 49152);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_EQ(tok->pad_id(), 2);
  const json cases = golden("bpe_golden.json").at("cases");
  ASSERT_GE(cases.size(), 40u);
  for (const json& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    const Ids expected = c.at("ids").get<Ids>();
    const Ids ids = tok->encode(text);
    EXPECT_EQ(ids, expected) << "text: \"" << printable(text) << "\"";
    // llama.cpp's detokenizer, without and with the special tokens' text.
    EXPECT_EQ(tok->decode(expected), c.at("decoded").get<std::string>()) << printable(text);
    EXPECT_EQ(tok->decode(expected, false), c.at("decoded_special").get<std::string>()) << printable(text);
    std::string pieces;
    for (std::int32_t id : expected) pieces += tok->token_to_piece(id);
    EXPECT_EQ(pieces, c.at("decoded_special").get<std::string>());
  }
}

TEST_F(GoldenBpe, OtherPreTokenizersMatchLlamaCpp) {
  const json g = golden("bpe_golden.json");
  const json& cases = g.at("cases");
  for (const auto& [pre, expected_all] : g.at("pre_variants").items()) {
    BpeConfig config = bpe_config_from_gguf(*file_);
    config.pre = pre;
    auto tok = make_bpe_tokenizer(config);
    ASSERT_EQ(expected_all.size(), cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const std::string text = cases[i].at("text").get<std::string>();
      EXPECT_EQ(tok->encode(text), expected_all[i].get<Ids>()) << pre << " text: \"" << printable(text) << "\"";
    }
  }
}

TEST_F(GoldenBpe, ChatTemplateMatchesJinjaRendering) {
  const json g = golden("chat_golden.json");
  // The golden file was rendered from this very template.
  ASSERT_EQ(std::string(file_->get<std::string_view>("tokenizer.chat_template")), g.at("template").get<std::string>());
  const ChatTemplate t = ChatTemplate::from_gguf(*file_);
  EXPECT_FALSE(t.default_system_prompt().empty());
  for (const json& c : g.at("cases")) {
    std::vector<ChatMessage> messages;
    for (const json& m : c.at("messages")) messages.push_back({m.at("role"), m.at("content")});
    EXPECT_EQ(t.apply(messages, c.at("add_generation_prompt").get<bool>()), c.at("expected").get<std::string>())
        << c.dump();
  }
  // The rendered prompt tokenizes with the chat markers as single special tokens.
  auto tok = load_gguf_tokenizer(*file_);
  const std::vector<ChatMessage> hi = {{"user", "hi"}};
  const Ids ids = tok->encode(t.apply(hi));
  EXPECT_EQ(ids.front(), 1);  // <|im_start|>
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 2);  // <|im_end|> after system and user
}

// 256 sentences of about 64 tokens, as an encoder batch would bring; the time is printed, not
// asserted (timings do not belong in tests), and every result is checked against a second pass.
TEST_F(GoldenBpe, BatchOfSentences) {
  auto bpe = load_gguf_tokenizer(*file_);
  PLINTH_REQUIRE_MODEL(dir, "all-MiniLM-L6-v2");
  auto wordpiece = load_wordpiece(*dir / "tokenizer.json");
  const std::string base =
      "The quick brown fox jumps over the lazy dog while 42 curious onlookers, several of them "
      "visiting from abroad, watch and take notes about its remarkable agility in the sunshine; later "
      "they write about it, comparing the fox's leap (roughly 1.5 meters) with other animals";
  std::vector<std::string> sentences;
  for (int i = 0; i < 256; ++i) sentences.push_back(base + " #" + std::to_string(i) + ".");
  for (const Tokenizer* tok : {bpe.get(), wordpiece.get()}) {
    std::vector<Ids> results(sentences.size());
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < sentences.size(); ++i) results[i] = tok->encode(sentences[i]);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::size_t total = 0;
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      total += results[i].size();
      EXPECT_EQ(results[i], tok->encode(sentences[i]));
    }
    EXPECT_GT(total, 256u * 30);
    std::cout << (tok == bpe.get() ? "byte-level BPE" : "WordPiece") << ": " << sentences.size()
              << " sentences, " << total << " tokens in " << ms << " ms\n";
  }
}

}  // namespace
}  // namespace plinth::models
