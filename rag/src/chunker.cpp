// chunk_document(): sections (the blocks under one heading) are cut into atoms (a block, or, for a
// block over the budget, its sentences, lines, words or pieces of a word), and the atoms of a section
// are packed greedily into chunks, each starting with the tail of the one before it. Token counts are
// taken per atom and per separator and summed; each finished chunk is counted once more as a whole,
// and shrinks if the sum was optimistic (a tokenizer need not be additive).
#include "plinth/rag/chunker.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text_util.hpp"

namespace plinth::rag {

namespace {

using detail::is_space;

struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

struct Atom {
  Span span;
  std::size_t tokens = 0;
};

enum class Cut { kSentence, kLine, kWord, kCharacter };

bool starts_with_at(std::string_view s, std::size_t i, std::string_view what) noexcept {
  return s.compare(i, what.size(), what) == 0;
}

// The length of a sentence end at s[i] ('.', '!', '?', or a CJK full stop with any closing quotes
// and brackets after it), or 0.
std::size_t sentence_end(std::string_view s, std::size_t i) noexcept {
  for (const std::string_view cjk : {"\xE3\x80\x82", "\xEF\xBC\x81", "\xEF\xBC\x9F"}) {  // 。！？
    if (starts_with_at(s, i, cjk)) return cjk.size();
  }
  if (s[i] != '.' && s[i] != '!' && s[i] != '?') return 0;
  std::size_t j = i + 1;
  while (j < s.size()) {
    if (s[j] == '"' || s[j] == '\'' || s[j] == ')' || s[j] == ']') {
      ++j;
    } else if (starts_with_at(s, j, "\xE2\x80\x9D") || starts_with_at(s, j, "\xE2\x80\x99")) {  // ” ’
      j += 3;
    } else {
      break;
    }
  }
  // "e.g.x" or "3.14" is no sentence end: one needs whitespace (or the end) after it.
  return j == s.size() || is_space(s[j]) ? j - i : 0;
}

class Chunker {
 public:
  Chunker(const ExtractedDocument& doc, const ChunkOptions& options, const TokenCounter& count)
      : doc_(doc), text_(doc.text), options_(options), count_(count) {}

  std::vector<Chunk> run() {
    std::vector<Atom> atoms;
    const Block* heading = nullptr;  // of the current section
    const auto flush = [&] {
      // A section without a body of its own is represented by its heading.
      if (atoms.empty() && heading) atomize(*heading, atoms);
      pack(atoms);
      atoms.clear();
    };
    for (const Block& block : doc_.blocks) {
      if (block.begin >= block.end || block.end > text_.size()) {
        throw std::invalid_argument("chunk_document: a block's span is outside the document text");
      }
      if (block.kind != BlockKind::kHeading) {
        atomize(block, atoms);
        continue;
      }
      flush();
      heading = &block;
      while (!headings_.empty() && headings_.back().first >= block.level) headings_.pop_back();
      headings_.emplace_back(block.level, detail::fold_whitespace(view({block.begin, block.end})));
      path_ = heading_path();
    }
    flush();
    return std::move(chunks_);
  }

 private:
  std::string_view view(Span s) const { return text_.substr(s.begin, s.end - s.begin); }
  std::size_t count(Span s) const { return count_(view(s)); }

  std::string heading_path() const {
    const std::string title = detail::fold_whitespace(doc_.title);
    std::string path = title;
    for (std::size_t i = 0; i < headings_.size(); ++i) {
      // The page's own h1 usually repeats its title.
      if (i == 0 && headings_[i].second == title) continue;
      if (!path.empty()) path += " > ";
      path += headings_[i].second;
    }
    return path;
  }

  // Appends `block` as one atom, or, when it is over the budget, as the smallest pieces it needs:
  // sentences, then lines, then words, then halves of a word (code and tables: lines first).
  void atomize(const Block& block, std::vector<Atom>& atoms) {
    const Span whole{block.begin, block.end};
    const bool prose = block.kind == BlockKind::kParagraph || block.kind == BlockKind::kListItem ||
                       block.kind == BlockKind::kQuote;
    const std::vector<Cut> cuts =
        prose ? std::vector<Cut>{Cut::kSentence, Cut::kLine, Cut::kWord, Cut::kCharacter}
              : std::vector<Cut>{Cut::kLine, Cut::kWord, Cut::kCharacter};
    const bool keep_indent = block.kind == BlockKind::kCode;
    struct Work {
      Span span;
      std::size_t tokens;
      std::size_t cut;  // index into cuts of the next way to split
    };
    std::vector<Work> stack{{whole, count(whole), 0}};
    while (!stack.empty()) {
      const Work work = stack.back();
      stack.pop_back();
      if (work.tokens <= options_.max_tokens || work.cut == cuts.size()) {
        atoms.push_back({work.span, work.tokens});
        continue;
      }
      const Cut cut = cuts[work.cut];
      const std::vector<Span> pieces = split(work.span, cut, keep_indent);
      if (pieces.size() <= 1) {
        // Nothing to split at this level (a single character stays whole: cuts.size() ends it).
        const std::size_t next = cut == Cut::kCharacter ? cuts.size() : work.cut + 1;
        stack.push_back({pieces.empty() ? work.span : pieces.front(), work.tokens, next});
        continue;
      }
      // Halves of a word are halved again while too large; other pieces go one level finer.
      const std::size_t next = cut == Cut::kCharacter ? work.cut : work.cut + 1;
      for (std::size_t i = pieces.size(); i-- > 0;) stack.push_back({pieces[i], count(pieces[i]), next});
    }
  }

  // The pieces of `span` at `cut`, without surrounding whitespace (code lines keep their
  // indentation), empty ones dropped.
  std::vector<Span> split(Span span, Cut cut, bool keep_indent) const {
    std::vector<Span> pieces;
    const auto add = [&](std::size_t b, std::size_t e, bool trim_front) {
      while (trim_front && b < e && is_space(text_[b])) ++b;
      while (e > b && is_space(text_[e - 1])) --e;
      bool visible = false;
      for (std::size_t k = b; k < e && !visible; ++k) visible = !is_space(text_[k]);
      if (visible) pieces.push_back({b, e});
    };
    std::size_t start = span.begin;
    switch (cut) {
      case Cut::kSentence:
        for (std::size_t i = span.begin; i < span.end; ++i) {
          if (const std::size_t n = sentence_end(view({0, span.end}), i)) {
            add(start, i + n, true);
            start = i + n;
            i += n - 1;
          }
        }
        add(start, span.end, true);
        break;
      case Cut::kLine:
        for (std::size_t i = span.begin; i < span.end; ++i) {
          if (text_[i] != '\n') continue;
          add(start, i, !keep_indent);
          start = i + 1;
        }
        add(start, span.end, !keep_indent);
        break;
      case Cut::kWord:
        for (std::size_t i = span.begin; i <= span.end; ++i) {
          if (i < span.end && !is_space(text_[i])) continue;
          add(start, i, true);
          start = i + 1;
        }
        break;
      case Cut::kCharacter: {
        std::size_t mid = detail::utf8_floor(text_, span.begin + (span.end - span.begin) / 2);
        if (mid == span.begin) {  // one character, or a first character longer than half
          mid = span.begin + 1;
          while (mid < span.end && (static_cast<unsigned char>(text_[mid]) & 0xC0) == 0x80) ++mid;
        }
        pieces.push_back({span.begin, mid});
        if (mid < span.end) pieces.push_back({mid, span.end});
        break;
      }
    }
    return pieces;
  }

  // Tokens of the whitespace between two atoms (0 for most tokenizers, "\n\n" may count for BPE).
  std::size_t gap_tokens(std::size_t from, std::size_t to) {
    if (from >= to) return 0;
    const std::string_view gap = view({from, to});
    if (gap.size() > 16) return count_(gap);
    const auto [it, inserted] = gap_cache_.try_emplace(std::string(gap), 0);
    if (inserted) it->second = count_(gap);
    return it->second;
  }

  // The longest tail of `previous` that starts at a word and counts at most `budget` tokens (counted
  // word by word), never all of it; nullopt when not even its last word fits.
  std::optional<Atom> overlap_tail(Span previous, std::size_t budget) {
    std::optional<Atom> tail;
    std::size_t pos = previous.end;
    std::size_t tokens = 0;
    while (true) {
      std::size_t word_end = pos;
      while (word_end > previous.begin && is_space(text_[word_end - 1])) --word_end;
      std::size_t word_begin = word_end;
      while (word_begin > previous.begin && !is_space(text_[word_begin - 1])) --word_begin;
      if (word_begin <= previous.begin) break;  // the previous chunk's first word: no further
      const std::size_t cost =
          count({word_begin, word_end}) + (tail ? gap_tokens(word_end, tail->span.begin) : 0);
      if (tokens + cost > budget) break;
      tokens += cost;
      tail = Atom{{word_begin, previous.end}, tokens};
      pos = word_begin;
    }
    return tail;
  }

  void pack(const std::vector<Atom>& atoms) {
    const std::size_t max = options_.max_tokens;
    std::optional<Span> previous;
    std::size_t i = 0;
    while (i < atoms.size()) {
      std::optional<Atom> lead;
      std::size_t used = 0;
      if (previous && options_.overlap_tokens > 0) {
        const std::size_t gap = gap_tokens(previous->end, atoms[i].span.begin);
        if (atoms[i].tokens + gap < max) {
          lead = overlap_tail(*previous, std::min(options_.overlap_tokens, max - atoms[i].tokens - gap));
          if (lead) used = lead->tokens + gap;
        }
      }
      std::size_t j = i;
      used += atoms[j++].tokens;
      while (j < atoms.size()) {
        const std::size_t more = gap_tokens(atoms[j - 1].span.end, atoms[j].span.begin) + atoms[j].tokens;
        if (used + more > max) break;
        used += more;
        ++j;
      }
      // The sum is an estimate: count the chunk itself, and give atoms back (then the overlap) while
      // it is over the budget.
      Span chunk{lead ? lead->span.begin : atoms[i].span.begin, atoms[j - 1].span.end};
      std::size_t tokens = count(chunk);
      while (tokens > max && j - i > 1) {
        chunk.end = atoms[--j - 1].span.end;
        tokens = count(chunk);
      }
      if (tokens > max && lead) {
        chunk.begin = atoms[i].span.begin;
        tokens = count(chunk);
      }
      chunks_.push_back({std::string(view(chunk)), path_, chunk.begin, chunk.end, tokens});
      previous = chunk;
      i = j;
    }
  }

  const ExtractedDocument& doc_;
  std::string_view text_;
  ChunkOptions options_;
  const TokenCounter& count_;
  std::vector<std::pair<int, std::string>> headings_;  // the open sections: level, text
  std::string path_ = detail::fold_whitespace(doc_.title);
  std::unordered_map<std::string, std::size_t> gap_cache_;
  std::vector<Chunk> chunks_;
};

}  // namespace

std::vector<Chunk> chunk_document(const ExtractedDocument& doc, const ChunkOptions& options,
                                  const TokenCounter& count) {
  if (options.max_tokens == 0) throw std::invalid_argument("chunk_document: max_tokens must be > 0");
  if (options.overlap_tokens >= options.max_tokens) {
    throw std::invalid_argument("chunk_document: overlap_tokens (" + std::to_string(options.overlap_tokens) +
                                ") must be below max_tokens (" + std::to_string(options.max_tokens) + ")");
  }
  if (!count) throw std::invalid_argument("chunk_document: no token counter");
  return Chunker(doc, options, count).run();
}

}  // namespace plinth::rag
