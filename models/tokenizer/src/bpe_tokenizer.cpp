#include <plinth/models/bpe_tokenizer.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <stdexcept>
#include <unordered_map>

#include "byte_level.hpp"
#include "message_text.hpp"
#include "pre_tokenizer.hpp"
#include "special_splitter.hpp"
#include "unicode_text.hpp"

namespace plinth::models {
namespace {

struct Merge {
  std::int32_t rank;
  std::int32_t result;  // id of the merged piece (a token, or an interned non-token piece)
};

std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
}

class BpeTokenizer final : public Tokenizer {
 public:
  explicit BpeTokenizer(BpeConfig config) : config_(std::move(config)) {
    const auto info = find_bpe_pre_tokenizer(config_.pre);
    if (!info) {
      std::string names;
      for (const auto& p : bpe_pre_tokenizers()) names += (names.empty() ? "" : ", ") + std::string(p.name);
      fail("unsupported pre-tokenizer '" + config_.pre + "' (supported: " + names + ")");
    }
    pre_ = *info;
    if (config_.tokens.empty()) fail("empty vocabulary");
    if (config_.tokens.size() > 0x7FFFFFFF) fail("vocabulary too large");
    if (!config_.token_types.empty() && config_.token_types.size() != config_.tokens.size()) {
      fail("token_type has " + std::to_string(config_.token_types.size()) + " entries for " +
           std::to_string(config_.tokens.size()) + " tokens");
    }
    if (config_.token_types.empty()) config_.token_types.assign(config_.tokens.size(), TokenType::kNormal);
    n_vocab_ = static_cast<std::int32_t>(config_.tokens.size());
    check_id(config_.bos_id, "bos");
    check_id(config_.eos_id, "eos");
    check_id(config_.unk_id, "unk");
    check_id(config_.pad_id, "pad");
    if (config_.add_bos && !config_.bos_id) fail("add_bos_token is set but there is no bos token");

    piece_ids_.reserve(config_.tokens.size() * 2);
    std::vector<std::pair<std::string, std::int32_t>> specials;
    for (std::int32_t id = 0; id < n_vocab_; ++id) {
      const std::string& text = config_.tokens[static_cast<std::size_t>(id)];
      piece_ids_.try_emplace(text, id);  // the first of duplicate texts wins
      const TokenType type = config_.token_types[static_cast<std::size_t>(id)];
      if (type == TokenType::kControl || type == TokenType::kUserDefined || type == TokenType::kUnknown) {
        specials.emplace_back(text, id);
      }
    }
    splitter_ = SpecialSplitter(std::move(specials), SpecialSplitter::Order::kLongestTokenFirst);

    for (unsigned b = 0; b < 256; ++b) {
      std::string s;
      unicode::append_utf8(s, bytes_.to_char(static_cast<std::uint8_t>(b)));
      byte_piece_[b] = intern(s);
    }
    merges_.reserve(config_.merges.size());
    for (std::size_t rank = 0; rank < config_.merges.size(); ++rank) {
      const std::string& m = config_.merges[rank];
      // Split at the first space after the first byte, so a left piece may itself be " ".
      const std::size_t sep = m.find(' ', 1);
      if (sep == std::string::npos || sep + 1 >= m.size()) {
        fail("merge " + std::to_string(rank) + " is not two pieces separated by a space");
      }
      const std::int32_t left = intern(m.substr(0, sep));
      const std::int32_t right = intern(m.substr(sep + 1));
      const std::int32_t result = intern(m.substr(0, sep) + m.substr(sep + 1));
      merges_.try_emplace(pair_key(left, right), Merge{static_cast<std::int32_t>(rank), result});
    }
    config_.merges = {};  // now held as ids in merges_
    pieces_.resize(config_.tokens.size());
    for (std::size_t id = 0; id < config_.tokens.size(); ++id) {
      const TokenType type = config_.token_types[id];
      // As llama.cpp: specials print their text, unused/byte/undefined tokens print nothing.
      if (type == TokenType::kControl || type == TokenType::kUserDefined || type == TokenType::kUnknown) {
        pieces_[id] = config_.tokens[id];
      } else if (type == TokenType::kNormal) {
        pieces_[id] = bytes_.decode(config_.tokens[id]);
      }
    }
  }

  std::vector<std::int32_t> encode(std::string_view text, bool add_special) const override {
    std::vector<std::int32_t> out;
    out.reserve(text.size() / 3 + 2);
    if (add_special && config_.add_bos) out.push_back(*config_.bos_id);
    Scratch scratch;
    for (const TextFragment& f : splitter_.split(text)) {
      if (f.id >= 0) {
        out.push_back(f.id);
      } else {
        encode_raw(f.text, scratch, out);
      }
    }
    return out;
  }

  std::string decode(std::span<const std::int32_t> ids, bool skip_special) const override {
    std::string out;
    for (std::int32_t id : ids) {
      if (id < 0 || id >= n_vocab_) continue;
      if (skip_special && is_special(id)) continue;
      out += pieces_[static_cast<std::size_t>(id)];
    }
    return out;
  }

  std::string token_to_piece(std::int32_t id) const override {
    if (id < 0 || id >= n_vocab_) return {};
    return pieces_[static_cast<std::size_t>(id)];
  }

  std::int32_t vocab_size() const override { return n_vocab_; }
  std::optional<std::int32_t> bos_id() const override { return config_.bos_id; }
  std::optional<std::int32_t> eos_id() const override { return config_.eos_id; }
  std::optional<std::int32_t> pad_id() const override { return config_.pad_id; }

  bool is_special(std::int32_t id) const override {
    if (id < 0 || id >= n_vocab_) return false;
    const TokenType type = config_.token_types[static_cast<std::size_t>(id)];
    return type == TokenType::kControl || type == TokenType::kUnknown;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(one_line(config_.source, 4096) + ": " + one_line(what, 1000));
  }

  void check_id(const std::optional<std::int32_t>& id, const char* what) const {
    if (id && (*id < 0 || *id >= static_cast<std::int32_t>(config_.tokens.size()))) {
      fail(std::string(what) + " token id " + std::to_string(*id) + " is outside the vocabulary of " +
           std::to_string(config_.tokens.size()));
    }
  }

  // Pieces that are not tokens (a merge result missing from the vocabulary) get ids past the vocab.
  std::int32_t intern(const std::string& piece) {
    auto [it, inserted] = piece_ids_.try_emplace(piece, next_extra_id());
    if (inserted) ++extra_pieces_;
    return it->second;
  }
  std::int32_t next_extra_id() const { return n_vocab_ + extra_pieces_; }

  struct Scratch;

  void encode_raw(std::string_view raw, Scratch& scratch, std::vector<std::int32_t>& out) const {
    const std::u32string cps = unicode::decode_utf8(raw);
    for (const auto& [b, e] : pre_tokenize(pre_.kind, cps)) {
      scratch.word.clear();
      for (std::size_t i = b; i < e; ++i) unicode::append_utf8(scratch.word, cps[i]);
      encode_word(scratch.word, scratch, out);
    }
  }

  struct Symbol {
    std::int32_t id;
    std::int32_t prev;
    std::int32_t next;
    std::uint32_t bytes_begin;
    std::uint32_t bytes_len;  // 0: merged into its left neighbour
  };
  struct Candidate {
    std::int32_t rank;
    std::int32_t left;
    std::int32_t left_id;
    std::int32_t right_id;
    std::int32_t result;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  // Buffers reused across the words of one encode call.
  struct Scratch {
    std::string word;
    std::vector<Symbol> symbols;
    std::vector<Candidate> heap;  // min-heap on (rank, left)
  };

  void encode_word(std::string_view word, Scratch& scratch, std::vector<std::int32_t>& out) const {
    if (pre_.ignore_merges) {
      auto it = piece_ids_.find(bytes_.encode(word));
      if (it != piece_ids_.end() && it->second < n_vocab_) {
        out.push_back(it->second);
        return;
      }
    }
    // Symbols start as single bytes (their byte-level characters); merges only ever join neighbours.
    std::vector<Symbol>& symbols = scratch.symbols;
    symbols.resize(word.size());
    for (std::size_t i = 0; i < word.size(); ++i) {
      const auto index = static_cast<std::int32_t>(i);
      symbols[i] = {byte_piece_[static_cast<unsigned char>(word[i])], index - 1,
                    i + 1 < word.size() ? index + 1 : -1, static_cast<std::uint32_t>(i), 1};
    }

    std::vector<Candidate>& heap = scratch.heap;
    heap.clear();
    auto consider = [&](std::int32_t left) {
      if (left < 0) return;
      const Symbol& l = symbols[static_cast<std::size_t>(left)];
      if (l.next < 0) return;
      const Symbol& r = symbols[static_cast<std::size_t>(l.next)];
      auto it = merges_.find(pair_key(l.id, r.id));
      if (it != merges_.end()) {
        heap.push_back({it->second.rank, left, l.id, r.id, it->second.result});
        std::push_heap(heap.begin(), heap.end(), std::greater<>());
      }
    };
    for (std::int32_t i = 0; i + 1 < static_cast<std::int32_t>(symbols.size()); ++i) consider(i);

    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), std::greater<>());
      const Candidate c = heap.back();
      heap.pop_back();
      Symbol& l = symbols[static_cast<std::size_t>(c.left)];
      if (l.bytes_len == 0 || l.id != c.left_id || l.next < 0) continue;
      Symbol& r = symbols[static_cast<std::size_t>(l.next)];
      if (r.id != c.right_id) continue;  // stale: a neighbour changed since this pair was queued
      l.id = c.result;
      l.bytes_len += r.bytes_len;
      r.bytes_len = 0;
      l.next = r.next;
      if (r.next >= 0) symbols[static_cast<std::size_t>(r.next)].prev = c.left;
      consider(l.prev);
      consider(c.left);
    }

    for (const Symbol& s : symbols) {
      if (s.bytes_len == 0) continue;
      if (s.id >= 0 && s.id < n_vocab_) {
        out.push_back(s.id);
        continue;
      }
      // Not a token: one byte token per byte, else unk, else nothing.
      for (std::uint32_t k = 0; k < s.bytes_len; ++k) {
        const std::int32_t byte_id = byte_piece_[static_cast<unsigned char>(word[s.bytes_begin + k])];
        if (byte_id < n_vocab_) {
          out.push_back(byte_id);
        } else if (config_.unk_id) {
          out.push_back(*config_.unk_id);
        }
      }
    }
  }

  BpeConfig config_;
  BpePreTokenizerInfo pre_{};
  std::int32_t n_vocab_ = 0;
  std::int32_t extra_pieces_ = 0;
  ByteLevelMap bytes_;
  std::unordered_map<std::string, std::int32_t> piece_ids_;
  std::unordered_map<std::uint64_t, Merge> merges_;
  std::array<std::int32_t, 256> byte_piece_{};
  std::vector<std::string> pieces_;
  SpecialSplitter splitter_;
};

}  // namespace

std::vector<std::string_view> supported_bpe_pre_tokenizers() {
  std::vector<std::string_view> names;
  for (const auto& p : bpe_pre_tokenizers()) names.push_back(p.name);
  return names;
}

std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeConfig config) {
  return std::make_unique<BpeTokenizer>(std::move(config));
}

}  // namespace plinth::models
