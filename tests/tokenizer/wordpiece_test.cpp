// WordPiece on a handmade vocabulary, and load_wordpiece's file handling and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <plinth/models/tokenizer.hpp>
#include <plinth/models/wordpiece_tokenizer.hpp>

#include "tiny_vocab.hpp"

namespace plinth::models {
namespace {

using Ids = std::vector<std::int32_t>;
// Ids in tiny_wordpiece_config().
enum : std::int32_t {
  kPad = 0, kUnk = 1, kCls = 2, kSep = 3, kMask = 4, kHello = 5, kWorld = 6, kS = 7, kUn = 8, kAff = 9,
  kAble = 10, kComma = 11, kBang = 12, kDot = 13, kCafe = 14, kSun = 15, kBook = 16, kA = 17, kContA = 18,
  kApos = 19, kT = 20, kDon = 21,
};

class TinyWordPiece : public ::testing::Test {
 protected:
  std::unique_ptr<Tokenizer> tok_ = make_wordpiece_tokenizer(testing::tiny_wordpiece_config());
};

TEST_F(TinyWordPiece, NormalizesSplitsAndWraps) {
  EXPECT_EQ(tok_->encode("Hello, WORLDS! unaffable Caf\xC3\xA9"),
            (Ids{kCls, kHello, kComma, kWorld, kS, kBang, kUn, kAff, kAble, kCafe, kSep}));
  EXPECT_EQ(tok_->encode("hello", false), (Ids{kHello}));
  EXPECT_EQ(tok_->encode(""), (Ids{kCls, kSep}));
}

TEST_F(TinyWordPiece, AccentsAreStrippedAfterDecomposition) {
  // Precomposed and combining forms of the same text tokenize the same.
  EXPECT_EQ(tok_->encode("CAF\xC3\x89", false), (Ids{kCafe}));
  EXPECT_EQ(tok_->encode("cafe\xCC\x81", false), (Ids{kCafe}));
}

TEST_F(TinyWordPiece, UnknownWordsAreOneUnk) {
  // "helloz": hello matches but ##z does not, so the whole word is [UNK].
  EXPECT_EQ(tok_->encode("helloz world", false), (Ids{kUnk, kWorld}));
  // Greedy longest match: "aaa" = a ##a ##a.
  EXPECT_EQ(tok_->encode("aaa", false), (Ids{kA, kContA, kContA}));
  // Over max_input_chars_per_word (100) characters: [UNK] without trying.
  EXPECT_EQ(tok_->encode(std::string(101, 'a'), false), (Ids{kUnk}));
  EXPECT_EQ(tok_->encode(std::string(100, 'a'), false).size(), 100u);
}

TEST_F(TinyWordPiece, CjkCharactersAreWords) {
  EXPECT_EQ(tok_->encode("\xE6\x97\xA5\xE6\x9C\xAC", false), (Ids{kSun, kBook}));  // two ideographs
}

TEST_F(TinyWordPiece, PunctuationAndContractionsSplit) {
  EXPECT_EQ(tok_->encode("don't", false), (Ids{kDon, kApos, kT}));
}

TEST_F(TinyWordPiece, SpecialStringsAreMatchedBeforeNormalizing) {
  EXPECT_EQ(tok_->encode("[CLS] hello[MASK]", false), (Ids{kCls, kHello, kMask}));
  // Lowercased look-alikes are text, not specials: "[" "mask" "]" -> [UNK] for the unknown word.
  const Ids lower = tok_->encode("[mask]", false);
  EXPECT_EQ(std::count(lower.begin(), lower.end(), kMask), 0);
}

TEST_F(TinyWordPiece, ControlCharactersAndInvalidUtf8AreDropped) {
  EXPECT_EQ(tok_->encode("hel\x01lo\x7F", false), (Ids{kHello}));
  // Bad bytes become U+FFFD, which clean-up removes: the words around them join.
  EXPECT_EQ(tok_->encode("hello \xFF\xFE world", false), (Ids{kHello, kWorld}));
  EXPECT_EQ(tok_->encode("hel\xFFlo", false), (Ids{kHello}));
  EXPECT_EQ(tok_->encode("hello\twor\xE2\x80\x8B" "ld", false), (Ids{kHello, kWorld}));  // ZWSP is Cf
}

TEST_F(TinyWordPiece, DecodeJoinsPiecesLikeBert) {
  EXPECT_EQ(tok_->decode(tok_->encode("Hello, worlds! unaffable.")), "hello, worlds! unaffable.");
  EXPECT_EQ(tok_->decode(tok_->encode("hello"), false), "[CLS] hello [SEP]");
  EXPECT_EQ(tok_->token_to_piece(kS), "##s");
  EXPECT_TRUE(tok_->is_special(kCls));
  EXPECT_TRUE(tok_->is_special(kPad));
  EXPECT_FALSE(tok_->is_special(kHello));
  EXPECT_EQ(tok_->bos_id(), kCls);
  EXPECT_EQ(tok_->eos_id(), kSep);
  EXPECT_EQ(tok_->pad_id(), kPad);
}

TEST_F(TinyWordPiece, TruncateKeepsTheClosingSpecial) {
  const Ids ids = tok_->encode("hello world hello world");
  EXPECT_EQ(truncate_ids(*tok_, ids, 4), (Ids{kCls, kHello, kWorld, kSep}));
  EXPECT_EQ(truncate_ids(*tok_, ids, 100), ids);
  EXPECT_EQ(truncate_ids(*tok_, tok_->encode("hello world", false), 1), (Ids{kHello}));
  EXPECT_TRUE(truncate_ids(*tok_, ids, 0).empty());
}

TEST(WordPieceConfigErrors, MissingRequiredTokens) {
  WordPieceConfig c = testing::tiny_wordpiece_config();
  c.vocab.erase(c.vocab.begin() + kUnk);
  try {
    (void)make_wordpiece_tokenizer(c);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "tiny-wordpiece: unknown token '[UNK]' is not in the vocabulary");
  }
}

class WordPieceFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("plinth_wordpiece_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& name, const std::string& content) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  static std::string message_of(const std::filesystem::path& path) {
    try {
      (void)load_wordpiece(path);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "no error";
  }
  std::filesystem::path dir_;
};

std::string vocab_txt() {
  std::string s;
  for (const auto& t : testing::tiny_wordpiece_config().vocab) s += t + "\r\n";
  return s;
}

TEST_F(WordPieceFiles, VocabTxtUsesBertDefaults) {
  auto tok = load_wordpiece(write("vocab.txt", vocab_txt()));
  EXPECT_EQ(tok->encode("Hello, WORLDS!"), (Ids{kCls, kHello, kComma, kWorld, kS, kBang, kSep}));
  EXPECT_EQ(tok->vocab_size(), 22);
  EXPECT_FALSE(tok->max_length().has_value());
}

TEST_F(WordPieceFiles, DirectoryPrefersTokenizerJson) {
  write("vocab.txt", vocab_txt());
  EXPECT_EQ(load_wordpiece(dir_)->vocab_size(), 22);
  write("tokenizer.json", "{oops");
  EXPECT_NE(message_of(dir_).find("tokenizer.json: invalid JSON"), std::string::npos);
}

TEST_F(WordPieceFiles, TokenizerJsonSettingsAreRead) {
  nlohmann::json vocab = nlohmann::json::object();
  const auto cfg = testing::tiny_wordpiece_config();
  for (std::size_t i = 0; i < cfg.vocab.size(); ++i) vocab[cfg.vocab[i]] = i;
  nlohmann::json doc = {
      {"normalizer", {{"type", "BertNormalizer"}, {"lowercase", false}, {"strip_accents", nullptr},
                      {"clean_text", true}, {"handle_chinese_chars", true}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"post_processor", {{"type", "BertProcessing"}, {"sep", {"[SEP]", 3}}, {"cls", {"[CLS]", 2}}}},
      {"model", {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"},
                 {"max_input_chars_per_word", 3}, {"vocab", vocab}}},
  };
  auto tok = load_wordpiece(write("tokenizer.json", doc.dump()));
  // Not lowercased (so "Hello" is unknown), and words over 3 characters are [UNK].
  EXPECT_EQ(tok->encode("Hello un aaa aaaa", false), (Ids{kUnk, kUn, kA, kContA, kContA, kUnk}));
}

TEST_F(WordPieceFiles, ErrorsAreOneLineNamingTheFile) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"tokenizer.json", "{\"model\": \n{\"type\": \"WordPiece\", \"vocab\": [1,"},
      {"tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}"},
      {"tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0, \"b\": 0}}}"},
      {"tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": \"x\"}}}"},
      {"tokenizer.json", "[1, 2, 3]"},
      {"tokenizer.json", "{\"normalizer\": {\"type\": \"NFC\"}, \"model\": {\"type\": \"WordPiece\", "
                         "\"vocab\": {\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2}}}"},
      {"vocab.txt", ""},
      {"vocab.txt", "just\nwords\n"},
  };
  for (const auto& [name, content] : cases) {
    const auto path = write(name, content);
    const std::string what = message_of(path);
    EXPECT_EQ(what.rfind(path.string() + ": ", 0), 0u) << content << " -> " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  const auto missing = dir_ / "absent.txt";
  EXPECT_EQ(message_of(missing), missing.string() + ": cannot open file");
}

}  // namespace
}  // namespace plinth::models
