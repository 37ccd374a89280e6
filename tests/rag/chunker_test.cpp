// chunk_document(): budgets, overlap, sections, exact spans and economical counting, on documents
// built by the extractor (so block spans are real) and counted in words.
#include <gtest/gtest.h>

#include <plinth/rag/chunker.hpp>
#include <plinth/rag/extract.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "rag_invariants.hpp"

namespace plinth::rag {
namespace {

using testing::chunks_violation;
using testing::count_words;

ExtractedDocument markdown(const std::string& md) { return extract_document(DocumentFormat::kMarkdown, md); }

std::vector<Chunk> chunk_checked(const ExtractedDocument& doc, ChunkOptions options,
                                 const TokenCounter& count = count_words) {
  auto chunks = chunk_document(doc, options, count);
  EXPECT_EQ(chunks_violation(doc, chunks, options, count), "");
  return chunks;
}

// "w<first> w<first+1> ... w<first+n-1>."
std::string sentence(int first, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? " w" : "w") + std::to_string(first + i);
  return s + ".";
}

TEST(RagChunker, RejectsBadOptions) {
  const auto doc = markdown("text");
  EXPECT_THROW(chunk_document(doc, {.max_tokens = 0, .overlap_tokens = 0}, count_words),
               std::invalid_argument);
  EXPECT_THROW(chunk_document(doc, {.max_tokens = 10, .overlap_tokens = 10}, count_words),
               std::invalid_argument);
  EXPECT_THROW(chunk_document(doc, {.max_tokens = 10, .overlap_tokens = 2}, TokenCounter{}),
               std::invalid_argument);
  EXPECT_NO_THROW(chunk_document(doc, {.max_tokens = 1, .overlap_tokens = 0}, count_words));
}

TEST(RagChunker, SmallBlocksOfASectionArePackedIntoOneChunk) {
  const auto doc = markdown("# Title\n\nOne two three.\n\n- four\n- five\n\n```\nsix seven\n```\n");
  const auto chunks = chunk_checked(doc, {.max_tokens = 50, .overlap_tokens = 5});
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].text, "One two three.\n\nfour\n\nfive\n\nsix seven");
  EXPECT_EQ(chunks[0].heading_path, "Title");  // the h1 is the title: not repeated
  EXPECT_EQ(chunks[0].tokens, 7u);
}

TEST(RagChunker, HeadingsStartChunksAndBuildThePath) {
  const auto doc = markdown(
      "Preamble text.\n\n# Guide\n\nIntro.\n\n## Install\n\nRun it.\n\n### Linux\n\nUse apt.\n\n"
      "## Usage\n\n### Flags\n\n#### Verbose\n\nSay more.\n");
  const auto chunks = chunk_checked(doc, {.max_tokens = 100, .overlap_tokens = 10});
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& c : chunks) got.emplace_back(c.heading_path, c.text);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"Guide", "Preamble text."},        {"Guide", "Intro."},
      {"Guide > Install", "Run it."},     {"Guide > Install > Linux", "Use apt."},
      {"Guide > Usage", "Usage"},  // no body of its own: the heading is the chunk
      {"Guide > Usage > Flags", "Flags"}, {"Guide > Usage > Flags > Verbose", "Say more."},
  };
  EXPECT_EQ(got, expected);
}

TEST(RagChunker, LongParagraphSplitsAtSentenceEndsWithinBudget) {
  std::string para;
  for (int s = 0; s < 12; ++s) para += sentence(s * 10, 7) + " ";
  const auto doc = markdown(para);
  const auto chunks = chunk_checked(doc, {.max_tokens = 20, .overlap_tokens = 0});
  ASSERT_EQ(chunks.size(), 6u);  // two 7-word sentences fit, three do not
  for (const auto& c : chunks) {
    EXPECT_EQ(c.tokens, 14u);
    EXPECT_EQ(c.text.back(), '.');
    EXPECT_EQ(c.text.front(), 'w');
    EXPECT_EQ(doc.text[c.begin - (c.begin ? 1 : 0)], c.begin ? ' ' : 'w');
  }
}

TEST(RagChunker, ConsecutiveChunksOverlapAtWordStarts) {
  std::string para;
  for (int s = 0; s < 20; ++s) para += sentence(s * 10, 6) + " ";
  const auto doc = markdown(para);
  const ChunkOptions options{.max_tokens = 30, .overlap_tokens = 8};
  const auto chunks = chunk_checked(doc, options);
  ASSERT_GT(chunks.size(), 3u);
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    SCOPED_TRACE("chunk " + std::to_string(i));
    const auto& prev = chunks[i - 1];
    const auto& next = chunks[i];
    ASSERT_LT(next.begin, prev.end) << "no overlap";
    EXPECT_GT(next.begin, prev.begin);
    EXPECT_EQ(doc.text[next.begin - 1], ' ') << "overlap starts inside a word";
    const std::size_t shared =
        count_words(std::string_view(doc.text).substr(next.begin, prev.end - next.begin));
    EXPECT_GE(shared, 1u);
    EXPECT_LE(shared, options.overlap_tokens);
    EXPECT_LE(next.tokens, options.max_tokens);
  }
  // The overlap takes all the room it is given when a whole sentence follows it.
  EXPECT_EQ(count_words(std::string_view(doc.text).substr(chunks[1].begin, chunks[0].end - chunks[1].begin)),
            8u);
}

TEST(RagChunker, OverlapNeverCrossesASection) {
  std::string md = "# A\n\n";
  for (int s = 0; s < 6; ++s) md += sentence(s * 10, 8) + " ";
  md += "\n\n## B\n\n" + sentence(100, 5) + "\n";
  const auto doc = markdown(md);
  const auto chunks = chunk_checked(doc, {.max_tokens = 20, .overlap_tokens = 10});
  ASSERT_GE(chunks.size(), 2u);
  EXPECT_EQ(chunks.back().heading_path, "A > B");
  EXPECT_EQ(chunks.back().text, sentence(100, 5));
}

TEST(RagChunker, CodeStaysWholeWhenItFitsAndSplitsAtLinesOtherwise) {
  std::string code = "```\n";
  for (int i = 0; i < 6; ++i) code += "    call(a" + std::to_string(i) + ", b) + c\n";  // 4 words a line
  code += "```\n";
  const auto doc = markdown(sentence(0, 10) + "\n\n" + code + "\n" + sentence(50, 10) + "\n");
  const Block& code_block = doc.blocks[1];
  ASSERT_EQ(code_block.kind, BlockKind::kCode);

  // 24 words of code fit a 30-token chunk: some chunk holds the whole block.
  const auto whole = chunk_checked(doc, {.max_tokens = 30, .overlap_tokens = 4});
  bool found = false;
  for (const auto& c : whole) found = found || (c.begin <= code_block.begin && c.end >= code_block.end);
  EXPECT_TRUE(found);

  // At 10 tokens it splits, only at line ends, each piece keeping its indentation.
  const auto split = chunk_checked(doc, {.max_tokens = 10, .overlap_tokens = 0});
  std::size_t code_chunks = 0;
  for (const auto& c : split) {
    if (c.begin < code_block.begin || c.end > code_block.end) continue;
    ++code_chunks;
    EXPECT_EQ(c.text.rfind("    call(a", 0), 0u) << c.text;
    EXPECT_EQ(c.text.substr(c.text.size() - 3), "+ c") << c.text;
  }
  EXPECT_EQ(code_chunks, 3u);  // two 4-word lines per chunk
}

TEST(RagChunker, OverlongWordIsCutBetweenCharactersNeverInside) {
  // One "word" of 300 two- and three-byte characters, counted per character.
  std::string word;
  for (int i = 0; i < 150; ++i) word += "\xC3\xA9\xE2\x82\xAC";  // é€
  const auto doc = extract_document(DocumentFormat::kText, "start " + word + " end");
  const auto count_chars = [](std::string_view s) {
    std::size_t n = 0;
    for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 && !testing::ascii_space(c);
    return n;
  };
  const auto chunks = chunk_checked(doc, {.max_tokens = 64, .overlap_tokens = 0}, count_chars);
  ASSERT_GE(chunks.size(), 5u);
  std::string joined;
  for (const auto& c : chunks) {
    EXPECT_TRUE(testing::valid_utf8(c.text));
    for (const char ch : c.text) {
      if (ch != ' ') joined.push_back(ch);
    }
  }
  EXPECT_EQ(joined, "start" + word + "end");
}

TEST(RagChunker, NonAdditiveCounterStillRespectsTheBudget) {
  // Counts more for longer text than the sum of its parts: the packer's sums are too low, the final
  // count per chunk must catch it.
  const TokenCounter greedy = [](std::string_view s) {
    const std::size_t words = count_words(s);
    return words + words / 4;
  };
  std::string md = "# T\n\n";
  for (int p = 0; p < 8; ++p) md += sentence(p * 10, 5) + " " + sentence(p * 10 + 5, 4) + "\n\n";
  const auto doc = markdown(md);
  const auto chunks = chunk_checked(doc, {.max_tokens = 24, .overlap_tokens = 6}, greedy);
  EXPECT_GT(chunks.size(), 2u);
}

TEST(RagChunker, CountsEachByteAFewTimesNotQuadratically) {
  std::string md;
  for (int section = 0; section < 20; ++section) {
    md += "## Section " + std::to_string(section) + "\n\n";
    for (int p = 0; p < 10; ++p) {
      for (int s = 0; s < 8; ++s) md += sentence(s * 12, 12) + " ";
      md += "\n\n";
    }
  }
  const auto doc = markdown(md);
  std::size_t counted = 0;
  std::size_t calls = 0;
  const TokenCounter metered = [&](std::string_view s) {
    counted += s.size();
    ++calls;
    return count_words(s);
  };
  const auto chunks = chunk_checked(doc, {.max_tokens = 64, .overlap_tokens = 16}, metered);
  counted = 0;
  calls = 0;
  (void)chunk_document(doc, {.max_tokens = 64, .overlap_tokens = 16}, metered);
  // Blocks (once), their sentences (once), overlap words, and each chunk once.
  EXPECT_LT(counted, 5 * doc.text.size()) << calls << " calls";
  EXPECT_GT(chunks.size(), 100u);
}

}  // namespace
}  // namespace plinth::rag
