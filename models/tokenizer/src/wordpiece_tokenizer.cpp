#include <plinth/models/wordpiece_tokenizer.hpp>

#include <stdexcept>
#include <unordered_map>

#include "message_text.hpp"
#include "special_splitter.hpp"
#include "unicode_text.hpp"

namespace plinth::models {
namespace {

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// BERT splits off ASCII symbols ($, +, <, ...) as well as Unicode punctuation.
bool is_bert_punctuation(char32_t c) {
  if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  return unicode::is_punctuation(c);
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

// The BERT decoder's clean-up of each decoded piece (space before punctuation and contractions).
std::string cleanup(std::string piece) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"},
      {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) replace_all(piece, from, to);
  return piece;
}

class WordPieceTokenizer final : public Tokenizer {
 public:
  explicit WordPieceTokenizer(WordPieceConfig config) : config_(std::move(config)) {
    if (config_.vocab.empty()) fail("empty vocabulary");
    if (config_.vocab.size() > 0x7FFFFFFF) fail("vocabulary too large");
    ids_.reserve(config_.vocab.size());
    for (std::size_t i = 0; i < config_.vocab.size(); ++i) {
      ids_.try_emplace(config_.vocab[i], static_cast<std::int32_t>(i));
    }
    unk_ = require(config_.unk_token, "unknown");
    cls_ = require(config_.cls_token, "classifier");
    sep_ = require(config_.sep_token, "separator");
    pad_ = lookup(config_.pad_token);
    if (config_.special_tokens.empty()) {
      config_.special_tokens = {config_.pad_token, config_.unk_token, config_.cls_token, config_.sep_token,
                                config_.mask_token};
    }
    std::vector<std::pair<std::string, std::int32_t>> specials;
    for (const std::string& s : config_.special_tokens) {
      if (auto id = lookup(s)) {
        specials.emplace_back(s, *id);
        special_ids_.push_back(*id);
      }
    }
    splitter_ = SpecialSplitter(std::move(specials), SpecialSplitter::Order::kLeftmostLongest);
  }

  std::vector<std::int32_t> encode(std::string_view text, bool add_special) const override {
    std::vector<std::int32_t> out;
    out.reserve(text.size() / 4 + 2);
    if (add_special) out.push_back(cls_);
    for (const TextFragment& f : splitter_.split(text)) {
      if (f.id >= 0) {
        out.push_back(f.id);
      } else {
        encode_raw(f.text, out);
      }
    }
    if (add_special) out.push_back(sep_);
    return out;
  }

  std::string decode(std::span<const std::int32_t> ids, bool skip_special) const override {
    std::string out;
    bool first = true;
    for (std::int32_t id : ids) {
      if (id < 0 || id >= vocab_size()) continue;
      if (skip_special && is_special(id)) continue;
      const std::string& token = config_.vocab[static_cast<std::size_t>(id)];
      const std::string& prefix = config_.continuing_prefix;
      std::string piece;
      if (first) {
        piece = token;
      } else if (!prefix.empty() && token.starts_with(prefix)) {
        piece = token.substr(prefix.size());
      } else {
        piece = " " + token;
      }
      out += cleanup(std::move(piece));
      first = false;
    }
    return out;
  }

  std::string token_to_piece(std::int32_t id) const override {
    if (id < 0 || id >= vocab_size()) return {};
    return config_.vocab[static_cast<std::size_t>(id)];
  }

  std::int32_t vocab_size() const override { return static_cast<std::int32_t>(config_.vocab.size()); }
  std::optional<std::int32_t> bos_id() const override { return cls_; }
  std::optional<std::int32_t> eos_id() const override { return sep_; }
  std::optional<std::int32_t> pad_id() const override { return pad_; }
  std::optional<std::size_t> max_length() const override { return config_.model_max_length; }
  bool is_special(std::int32_t id) const override {
    for (std::int32_t s : special_ids_) {
      if (s == id) return true;
    }
    return false;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(one_line(config_.source, 4096) + ": " + one_line(what, 1000));
  }

  std::optional<std::int32_t> lookup(std::string_view token) const {
    auto it = ids_.find(std::string(token));
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  std::int32_t require(const std::string& token, const char* what) const {
    auto id = lookup(token);
    if (!id) fail(std::string(what) + " token '" + token + "' is not in the vocabulary");
    return *id;
  }

  // BertNormalizer: clean text, space out CJK ideographs, strip accents (NFD, drop Mn), lowercase.
  std::u32string normalize(std::string_view raw) const {
    std::u32string cps = unicode::decode_utf8(raw);
    std::u32string out;
    out.reserve(cps.size());
    for (char32_t c : cps) {
      if (config_.clean_text) {
        if (c == 0 || c == unicode::kReplacement) continue;
        if (c != U'\t' && c != U'\n' && c != U'\r' && unicode::is_other(c)) continue;
        if (unicode::is_whitespace(c)) c = U' ';
      }
      if (config_.handle_chinese_chars && is_chinese_char(c)) {
        out.push_back(U' ');
        out.push_back(c);
        out.push_back(U' ');
      } else {
        out.push_back(c);
      }
    }
    if (config_.strip_accents) {
      out = unicode::nfd(out);
      std::erase_if(out, unicode::is_nonspacing_mark);
    }
    if (config_.lowercase) {
      for (char32_t& c : out) c = unicode::to_lower(c);
    }
    return out;
  }

  void encode_raw(std::string_view raw, std::vector<std::int32_t>& out) const {
    const std::u32string text = normalize(raw);
    std::size_t pos = 0;
    while (pos < text.size()) {
      if (unicode::is_whitespace(text[pos])) {
        ++pos;
        continue;
      }
      std::size_t end = pos + 1;
      if (!is_bert_punctuation(text[pos])) {
        while (end < text.size() && !unicode::is_whitespace(text[end]) && !is_bert_punctuation(text[end])) ++end;
      }
      encode_word(std::u32string_view(text).substr(pos, end - pos), out);
      pos = end;
    }
  }

  // Greedy longest-match-first; one piece that cannot be matched makes the whole word [UNK].
  void encode_word(std::u32string_view word, std::vector<std::int32_t>& out) const {
    if (word.size() > config_.max_input_chars_per_word) {
      out.push_back(unk_);
      return;
    }
    const std::string bytes = unicode::encode_utf8(word);
    // Byte offset of each code point, so substrings are cut on character boundaries.
    std::vector<std::size_t> offsets;
    offsets.reserve(word.size() + 1);
    for (std::size_t i = 0, off = 0; i <= word.size(); ++i) {
      offsets.push_back(off);
      if (i < word.size()) {
        const char32_t c = word[i];
        off += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      }
    }
    const std::size_t first_out = out.size();
    std::string candidate;
    std::size_t start = 0;
    while (start < word.size()) {
      std::size_t end = word.size();
      std::optional<std::int32_t> found;
      while (start < end) {
        candidate.clear();
        if (start > 0) candidate = config_.continuing_prefix;
        candidate.append(bytes, offsets[start], offsets[end] - offsets[start]);
        auto it = ids_.find(candidate);
        if (it != ids_.end()) {
          found = it->second;
          break;
        }
        --end;
      }
      if (!found) {
        out.resize(first_out);
        out.push_back(unk_);
        return;
      }
      out.push_back(*found);
      start = end;
    }
  }

  WordPieceConfig config_;
  std::unordered_map<std::string, std::int32_t> ids_;
  std::int32_t unk_ = 0;
  std::int32_t cls_ = 0;
  std::int32_t sep_ = 0;
  std::optional<std::int32_t> pad_;
  std::vector<std::int32_t> special_ids_;
  SpecialSplitter splitter_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_wordpiece_tokenizer(WordPieceConfig config) {
  return std::make_unique<WordPieceTokenizer>(std::move(config));
}

}  // namespace plinth::models
