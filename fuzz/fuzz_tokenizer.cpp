// libFuzzer entry point for the tokenizers (models/tokenizer). The first byte picks what the rest
// is fed to:
//   0  text for encode() of a small in-memory byte-level BPE (smollm, gpt-2, llama3, default) and
//      WordPiece tokenizer; decode(encode(x)) must give x back (BPE; invalid UTF-8 as U+FFFD) and
//      every id must be in range
//   1  a tokenizer.json, 2  a vocab.txt: parse, build and use, or fail with std::runtime_error
//   3  a chat template: accept and render, or fail with std::runtime_error
// Anything else (a crash, a sanitizer report, another exception, a broken invariant) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <plinth/models/bpe_tokenizer.hpp>
#include <plinth/models/chat_template.hpp>
#include <plinth/models/wordpiece_tokenizer.hpp>

#include "tiny_vocab.hpp"
#include "unicode_text.hpp"

namespace {

using plinth::models::Tokenizer;

void check(bool ok) {
  if (!ok) std::abort();
}

struct Tokenizers {
  std::vector<std::unique_ptr<Tokenizer>> bpe;
  std::unique_ptr<Tokenizer> wordpiece;
};

const Tokenizers& tokenizers() {
  static const Tokenizers t = [] {
    Tokenizers out;
    for (const char* pre : {"smollm", "gpt-2", "llama3", "default"}) {
      out.bpe.push_back(plinth::models::make_bpe_tokenizer(plinth::models::testing::tiny_bpe_config(pre)));
    }
    out.wordpiece = plinth::models::make_wordpiece_tokenizer(plinth::models::testing::tiny_wordpiece_config());
    return out;
  }();
  return t;
}

void check_ids(const Tokenizer& tok, const std::vector<std::int32_t>& ids) {
  for (std::int32_t id : ids) check(id >= 0 && id < tok.vocab_size());
}

void fuzz_encode(std::string_view text) {
  const std::string valid = plinth::models::unicode::encode_utf8(plinth::models::unicode::decode_utf8(text));
  for (const auto& tok : tokenizers().bpe) {
    const auto ids = tok->encode(text);
    check_ids(*tok, ids);
    check(tok->decode(ids, false) == valid);
    std::string pieces;
    for (std::int32_t id : ids) pieces += tok->token_to_piece(id);
    check(pieces == valid);
  }
  const Tokenizer& wp = *tokenizers().wordpiece;
  const auto with = wp.encode(text, true);
  const auto without = wp.encode(text, false);
  check_ids(wp, with);
  check(with.size() == without.size() + 2 && with.front() == *wp.bos_id() && with.back() == *wp.eos_id());
  (void)wp.decode(with);
  (void)wp.decode(with, false);
}

void use(const Tokenizer& tok) {
  const auto ids = tok.encode("Hello, world! [CLS] caf\xC3\xA9 \xE6\x97\xA5 12345");
  check_ids(tok, ids);
  (void)tok.decode(ids);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0:
        fuzz_encode(rest);
        break;
      case 1:
        use(*plinth::models::make_wordpiece_tokenizer(plinth::models::wordpiece_config_from_json(rest, "fuzz.json")));
        break;
      case 2:
        use(*plinth::models::make_wordpiece_tokenizer(
            plinth::models::wordpiece_config_from_vocab_txt(rest, "vocab.txt")));
        break;
      default: {
        const auto t = plinth::models::ChatTemplate::from_string(rest, "fuzz-template");
        const std::vector<plinth::models::ChatMessage> messages = {{"user", std::string(rest.substr(0, 64))}};
        check(!t.apply(messages).empty());
        break;
      }
    }
  } catch (const std::runtime_error&) {
    // Rejected input: fine for files and templates, never for encode().
    check(data[0] % 4 != 0);
  }
  return 0;
}
