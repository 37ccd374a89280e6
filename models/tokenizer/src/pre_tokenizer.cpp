#include "pre_tokenizer.hpp"

#include <array>

#include "unicode_text.hpp"

namespace plinth::models {
namespace {

using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;

constexpr std::array<BpePreTokenizerInfo, 16> kPreTokenizers{{
    {"default", BpePreTokenizer::kDefault, false, false},
    {"gpt-2", BpePreTokenizer::kGpt2, false, false},
    {"phi-2", BpePreTokenizer::kGpt2, false, false},
    {"mpt", BpePreTokenizer::kGpt2, false, false},
    {"olmo", BpePreTokenizer::kGpt2, false, false},
    {"jais", BpePreTokenizer::kGpt2, false, false},
    {"smollm", BpePreTokenizer::kSmollm, false, false},
    {"starcoder", BpePreTokenizer::kSmollm, false, false},
    {"refact", BpePreTokenizer::kSmollm, false, false},
    {"command-r", BpePreTokenizer::kSmollm, false, false},
    {"codeshell", BpePreTokenizer::kSmollm, false, false},
    {"exaone", BpePreTokenizer::kSmollm, false, false},
    {"minerva-7b", BpePreTokenizer::kSmollm, false, false},
    {"llama3", BpePreTokenizer::kLlama3, true, true},
    {"llama-v3", BpePreTokenizer::kLlama3, true, true},
    {"llama-bpe", BpePreTokenizer::kLlama3, true, true},
}};

// Character classes of the patterns; "defined" is every position inside the fragment.
struct Flags {
  bool in_range = false;
  bool letter = false;
  bool number = false;
  bool space = false;
};

class Fragment {
 public:
  Fragment(std::u32string_view cps, std::size_t begin, std::size_t end, Ranges& out)
      : cps_(cps), begin_(begin), end_(end), prev_end_(begin), out_(out) {}

  [[nodiscard]] char32_t cpt(std::size_t pos) const { return pos >= begin_ && pos < end_ ? cps_[pos] : kOutOfRange; }
  [[nodiscard]] Flags flags(std::size_t pos) const {
    if (pos < begin_ || pos >= end_) return {};
    const char32_t c = cps_[pos];
    return {true, unicode::is_letter(c), unicode::is_number(c), unicode::is_whitespace(c)};
  }
  void add(std::size_t end) {
    if (end > prev_end_) out_.emplace_back(prev_end_, end);
    prev_end_ = end;
  }
  [[nodiscard]] std::size_t begin() const { return begin_; }
  [[nodiscard]] std::size_t end() const { return end_; }

  static constexpr char32_t kOutOfRange = 0xFFFFFFFF;

 private:
  std::u32string_view cps_;
  std::size_t begin_;
  std::size_t end_;
  std::size_t prev_end_;
  Ranges& out_;
};

bool is_other_class(const Flags& f) { return f.in_range && !(f.space || f.letter || f.number); }

// 's|'t|'re|'ve|'m|'ll|'d, optionally ignoring case; returns the match length or 0.
std::size_t contraction(const Fragment& f, std::size_t pos, bool ignore_case) {
  if (f.cpt(pos) != U'\'' || pos + 1 >= f.end()) return 0;
  auto lower = [&](char32_t c) { return ignore_case && c >= U'A' && c <= U'Z' ? c + 32 : c; };
  const char32_t a = lower(f.cpt(pos + 1));
  if (a == U's' || a == U't' || a == U'm' || a == U'd') return 2;
  if (pos + 2 >= f.end()) return 0;
  const char32_t b = lower(f.cpt(pos + 2));
  if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return 3;
  return 0;
}

void split_gpt2(std::u32string_view cps, std::size_t begin, std::size_t end, Ranges& out) {
  Fragment f(cps, begin, end, out);
  std::size_t pos = begin;
  while (pos < end) {
    const char32_t c = f.cpt(pos);
    if (std::size_t n = contraction(f, pos, false)) {
      pos += n;
      f.add(pos);
      continue;
    }
    const Flags f2 = c == U' ' ? f.flags(pos + 1) : f.flags(pos);
    if (f2.letter || f2.number) {  //  ?\p{L}+ and  ?\p{N}+
      const bool letter = f2.letter;
      pos += c == U' ' ? 1 : 0;
      while (letter ? f.flags(pos).letter : f.flags(pos).number) ++pos;
      f.add(pos);
      continue;
    }
    if (is_other_class(f2)) {  //  ?[^\s\p{L}\p{N}]+
      pos += c == U' ' ? 1 : 0;
      while (is_other_class(f.flags(pos))) ++pos;
      f.add(pos);
      continue;
    }
    std::size_t spaces = 0;
    while (f.flags(pos + spaces).space) ++spaces;
    if (spaces > 1 && f.cpt(pos + spaces) != Fragment::kOutOfRange) {  // \s+(?!\S): the last one goes on
      pos += spaces - 1;
      f.add(pos);
      continue;
    }
    pos += spaces > 0 ? spaces : 1;
    f.add(pos);
  }
}

void split_llama3(std::u32string_view cps, std::size_t begin, std::size_t end, Ranges& out) {
  Fragment f(cps, begin, end, out);
  std::size_t pos = begin;
  while (pos < end) {
    const char32_t c = f.cpt(pos);
    const Flags fl = f.flags(pos);
    if (std::size_t n = contraction(f, pos, true)) {
      pos += n;
      f.add(pos);
      continue;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!(c == U'\r' || c == U'\n' || fl.number) && (fl.letter || f.flags(pos + 1).letter)) {
      ++pos;
      while (f.flags(pos).letter) ++pos;
      f.add(pos);
      continue;
    }
    if (fl.number) {  // \p{N}{1,3}
      const std::size_t start = pos;
      while (pos - start < 3 && f.flags(pos).number) ++pos;
      f.add(pos);
      continue;
    }
    const Flags f2 = c == U' ' ? f.flags(pos + 1) : fl;
    if (is_other_class(f2)) {  //  ?[^\s\p{L}\p{N}]+[\r\n]*
      pos += c == U' ' ? 1 : 0;
      while (is_other_class(f.flags(pos))) ++pos;
      while (f.cpt(pos) == U'\r' || f.cpt(pos) == U'\n') ++pos;
      f.add(pos);
      continue;
    }
    std::size_t spaces = 0;
    std::size_t last_newline_end = 0;
    while (f.flags(pos + spaces).space) {
      const char32_t s = f.cpt(pos + spaces);
      if (s == U'\r' || s == U'\n') last_newline_end = pos + spaces + 1;
      ++spaces;
    }
    if (last_newline_end > 0) {  // \s*[\r\n]+
      pos = last_newline_end;
    } else if (spaces > 1 && f.cpt(pos + spaces) != Fragment::kOutOfRange) {  // \s+(?!\S)
      pos += spaces - 1;
    } else {
      pos += spaces > 0 ? spaces : 1;
    }
    f.add(pos);
  }
}

// A pattern that is one character class: every match (a maximal run, or single characters when
// `single`) and every gap between matches becomes a fragment.
template <class Pred>
void split_class(std::u32string_view cps, std::size_t begin, std::size_t end, Ranges& out, Pred in_class,
                 bool single) {
  std::size_t gap = begin;
  std::size_t pos = begin;
  while (pos < end) {
    if (!in_class(cps[pos])) {
      ++pos;
      continue;
    }
    if (pos > gap) out.emplace_back(gap, pos);
    const std::size_t start = pos++;
    if (!single) {
      while (pos < end && in_class(cps[pos])) ++pos;
    }
    out.emplace_back(start, pos);
    gap = pos;
  }
  if (end > gap) out.emplace_back(gap, end);
}

// [0-9][0-9][0-9]: non-overlapping triples of ASCII digits, leftmost first.
void split_digit_triples(std::u32string_view cps, std::size_t begin, std::size_t end, Ranges& out) {
  auto digit = [&](std::size_t p) { return p < end && cps[p] >= U'0' && cps[p] <= U'9'; };
  std::size_t gap = begin;
  std::size_t pos = begin;
  while (pos < end) {
    if (digit(pos) && digit(pos + 1) && digit(pos + 2)) {
      if (pos > gap) out.emplace_back(gap, pos);
      out.emplace_back(pos, pos + 3);
      pos += 3;
      gap = pos;
    } else {
      ++pos;
    }
  }
  if (end > gap) out.emplace_back(gap, end);
}

template <class Stage>
Ranges apply(const Ranges& in, std::u32string_view cps, Stage stage) {
  Ranges out;
  out.reserve(in.size() * 2);
  for (const auto& [b, e] : in) stage(cps, b, e, out);
  return out;
}

bool is_default_punct(char32_t c) {
  switch (c) {
    case U'$': case U'+': case U'<': case U'=': case U'>': case U'^': case U'~': case U'|':
      return true;
    default:
      return unicode::is_punctuation(c);
  }
}

}  // namespace

std::span<const BpePreTokenizerInfo> bpe_pre_tokenizers() { return kPreTokenizers; }

std::optional<BpePreTokenizerInfo> find_bpe_pre_tokenizer(std::string_view name) {
  for (const auto& info : kPreTokenizers) {
    if (info.name == name) return info;
  }
  return std::nullopt;
}

std::vector<std::pair<std::size_t, std::size_t>> pre_tokenize(BpePreTokenizer kind, std::u32string_view cps) {
  Ranges words;
  if (cps.empty()) return words;
  words.emplace_back(0, cps.size());
  switch (kind) {
    case BpePreTokenizer::kGpt2:
      return apply(words, cps, split_gpt2);
    case BpePreTokenizer::kSmollm:
      words = apply(words, cps, [](std::u32string_view c, std::size_t b, std::size_t e, Ranges& o) {
        split_class(c, b, e, o, unicode::is_number, true);
      });
      return apply(words, cps, split_gpt2);
    case BpePreTokenizer::kLlama3:
      return apply(words, cps, split_llama3);
    case BpePreTokenizer::kDefault:
      words = apply(words, cps, [](std::u32string_view c, std::size_t b, std::size_t e, Ranges& o) {
        split_class(c, b, e, o, is_default_punct, false);
      });
      words = apply(words, cps, split_gpt2);
      words = apply(words, cps, [](std::u32string_view c, std::size_t b, std::size_t e, Ranges& o) {
        split_class(c, b, e, o, unicode::is_number, false);
      });
      return apply(words, cps, split_digit_triples);
  }
  return words;
}

}  // namespace plinth::models
