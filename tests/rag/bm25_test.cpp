// CollectionStore::bm25 and fts5_query: ranking, stemming, column weights, the metadata filter inside
// the query, and user text that looks like FTS5 syntax.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "plinth/rag/store.hpp"
#include "store_test_support.hpp"

namespace plinth::rag {
namespace {

using test::document;

constexpr std::size_t kDim = 3;

class Bm25Test : public ::testing::Test {
 protected:
  Bm25Test()
      : store_(CollectionStore::open(dir_.path() / "c.sqlite", {.dim = kDim, .embedding_model = "m"})) {}

  // Documents that match none of the tests' queries, so the query words are rare in the collection
  // (BM25's idf is positive) as in a real one.
  void add_unrelated(int n) {
    for (int i = 0; i < n; ++i) {
      store_.put_document(document("unrelated-" + std::to_string(i), {"lorem ipsum dolor sit amet"}, kDim));
    }
  }

  // The id of the only chunk of `source`.
  std::int64_t chunk_of(const std::string& source) const {
    const auto ids = store_.chunk_ids_matching({.sources = std::vector<std::string>{source}});
    EXPECT_EQ(ids.size(), 1u) << source;
    return ids.empty() ? -1 : ids.front();
  }

  static std::vector<std::int64_t> ids_of(const std::vector<Bm25Hit>& hits) {
    std::vector<std::int64_t> ids;
    for (const auto& h : hits) ids.push_back(h.chunk_id);
    return ids;
  }

  test::TempDir dir_;
  CollectionStore store_;
};

TEST(Fts5QueryTest, EachWordIsQuotedAndTheWordsAreOred) {
  EXPECT_EQ(fts5_query("hello, world"), R"("hello" OR "world")");
  EXPECT_EQ(fts5_query("don't"), R"("don" OR "t")");
  EXPECT_EQ(fts5_query("NEAR(a b)"), R"("NEAR" OR "a" OR "b")");
  EXPECT_EQ(fts5_query("col:term*"), R"("col" OR "term")");
  EXPECT_EQ(fts5_query("a a A"), R"("a" OR "A")");
  EXPECT_EQ(fts5_query("naïve café, 東京 2024"), R"("naïve" OR "café" OR "東京" OR "2024")");
  const std::string invalid_utf8 = std::string("ab\xff\xfe") + "cd";
  EXPECT_EQ(fts5_query(invalid_utf8), R"("ab" OR "cd")") << "invalid UTF-8 separates words";
  EXPECT_EQ(fts5_query(""), "");
  EXPECT_EQ(fts5_query("\"' ) * -- ;"), "");
}

TEST(Fts5QueryTest, TheNumberOfTermsIsBounded) {
  std::string many;
  for (int i = 0; i < 200; ++i) many += "w" + std::to_string(i) + " ";
  const std::string query = fts5_query(many);
  std::size_t terms = 0;
  for (std::size_t at = 0; (at = query.find(" OR ", at)) != std::string::npos; at += 4) ++terms;
  EXPECT_EQ(terms + 1, kMaxQueryTerms);
  EXPECT_EQ(query.rfind("\"w63\""), query.size() - 5) << "the first words are kept";
}

TEST_F(Bm25Test, MoreOccurrencesInAShorterChunkRankHigher) {
  store_.put_document(document("mat", {"the cat sat on the mat near the door of the old house"}, kDim));
  store_.put_document(document("cats", {"cat cat cat feline cat"}, kDim));
  store_.put_document(document("dogs", {"dogs bark loudly at night"}, kDim));
  add_unrelated(5);

  const auto hits = store_.bm25("cat", {}, 10);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].chunk_id, chunk_of("cats"));
  EXPECT_EQ(hits[1].chunk_id, chunk_of("mat"));
  EXPECT_GT(hits[0].score, hits[1].score);
  EXPECT_GT(hits[1].score, 0.0) << "higher is better: bm25() is negated";

  EXPECT_EQ(ids_of(store_.bm25("cat", {}, 1)), std::vector<std::int64_t>{chunk_of("cats")});
  EXPECT_EQ(store_.bm25("loudly cat", {}, 10).size(), 3u) << "any word may match";
}

TEST_F(Bm25Test, PorterStemmingAndDiacriticsMatchVariants) {
  store_.put_document(document("run", {"I run every morning"}, kDim));
  store_.put_document(document("cafe", {"coffee at the café"}, kDim));
  EXPECT_EQ(ids_of(store_.bm25("running", {}, 10)), std::vector<std::int64_t>{chunk_of("run")});
  EXPECT_EQ(ids_of(store_.bm25("runs", {}, 10)), std::vector<std::int64_t>{chunk_of("run")});
  EXPECT_EQ(ids_of(store_.bm25("CAFE", {}, 10)), std::vector<std::int64_t>{chunk_of("cafe")});
}

TEST_F(Bm25Test, TheHeadingPathWeighsMoreByDefault) {
  auto in_heading = document("heading", {"steps to follow for the tool"}, kDim);
  in_heading.chunks[0].heading_path = "Install";
  auto in_text = document("text", {"steps to install the tool"}, kDim);
  in_text.chunks[0].heading_path = "Usage";
  store_.put_document(in_heading);
  store_.put_document(in_text);
  add_unrelated(5);

  EXPECT_EQ(ids_of(store_.bm25("install", {}, 10)),
            (std::vector<std::int64_t>{chunk_of("heading"), chunk_of("text")}));
  EXPECT_EQ(ids_of(store_.bm25("install", {}, 10, {.text = 1.0, .heading_path = 0.1})),
            (std::vector<std::int64_t>{chunk_of("text"), chunk_of("heading")}));
  EXPECT_THROW(store_.bm25("install", {}, 10, {.text = -1.0}), std::invalid_argument);
}

TEST_F(Bm25Test, NoWordsOrNoLimitGiveNoHits) {
  store_.put_document(document("a", {"anything at all"}, kDim));
  EXPECT_TRUE(store_.bm25("", {}, 10).empty());
  EXPECT_TRUE(store_.bm25("  ?! ", {}, 10).empty());
  EXPECT_TRUE(store_.bm25("anything", {}, 0).empty());
  EXPECT_EQ(store_.bm25("anything", {}, static_cast<std::size_t>(-1)).size(), 1u);
}

TEST_F(Bm25Test, QueryTextIsNeverFts5Syntax) {
  store_.put_document(document("a", {"a term near the river"}, kDim));
  store_.put_document(document("b", {"drop the table or the chairs"}, kDim));
  const auto chunks_before = store_.chunk_count();

  const std::vector<std::string> queries = {
      "\"",
      "\"\"",
      "NEAR(a b)",
      "a OR",
      "OR",
      "AND NOT",
      "*",
      "col:term",
      ")",
      "(",
      "^a",
      "a + b",
      "'; DROP TABLE chunks; --",
      "text:river",
      "{text heading_path}: river",
      "NEAR(\"a\" \"b\", 2)",
      "\xff\xfe",
      "-river",
      "river*",
      "rank MATCH 'x'",
  };
  for (const auto& q : queries) {
    EXPECT_NO_THROW(store_.bm25(q, {}, 10)) << q;
  }
  EXPECT_EQ(ids_of(store_.bm25("col:term", {}, 10)), std::vector<std::int64_t>{chunk_of("a")});
  EXPECT_EQ(ids_of(store_.bm25("'; DROP TABLE chunks; --", {}, 10)),
            std::vector<std::int64_t>{chunk_of("b")});
  auto either = ids_of(store_.bm25("a OR", {}, 10));
  std::sort(either.begin(), either.end());
  EXPECT_EQ(either, (std::vector<std::int64_t>{chunk_of("a"), chunk_of("b")}))
      << "'OR' is a word here, and b has it";
  EXPECT_TRUE(store_.bm25("*", {}, 10).empty());
  EXPECT_EQ(store_.chunk_count(), chunks_before);
  EXPECT_TRUE(store_.integrity_ok());
}

TEST_F(Bm25Test, TheFilterAppliesBeforeTheLimit) {
  // The English chunk is the better match; with limit 1 it must not push out the German one.
  store_.put_document(document("en", {"apple apple apple"}, kDim, {{"lang", "en"}, {"team", "x"}}));
  store_.put_document(document("de", {"apple pie with cream and a long tail of other words"}, kDim,
                               {{"lang", "de"}, {"team", "x"}}));
  ASSERT_EQ(ids_of(store_.bm25("apple", {}, 1)), std::vector<std::int64_t>{chunk_of("en")});

  EXPECT_EQ(ids_of(store_.bm25("apple", {.must_have = {{"lang", "de"}}}, 1)),
            std::vector<std::int64_t>{chunk_of("de")});
  EXPECT_EQ(ids_of(store_.bm25("apple", {.sources = std::vector<std::string>{"de"}}, 1)),
            std::vector<std::int64_t>{chunk_of("de")});
  EXPECT_EQ(ids_of(store_.bm25("apple", {.must_have = {{"team", "x"}, {"lang", "de"}}}, 1)),
            std::vector<std::int64_t>{chunk_of("de")});
  EXPECT_TRUE(store_.bm25("apple", {.must_have = {{"team", "y"}}}, 10).empty());
  EXPECT_TRUE(
      store_.bm25("apple", {.must_have = {{"lang", "de"}}, .sources = std::vector<std::string>{"en"}}, 10)
          .empty());
  EXPECT_TRUE(store_.bm25("apple", {.sources = std::vector<std::string>{}}, 10).empty());
}

// A word in more than half the chunks is left out of a query with rarer words when that still fills
// the limit (it cannot reorder the chunks they match); otherwise every word is searched. Either way
// the hits are those of the whole query.
TEST_F(Bm25Test, WordsInMostChunksAreLeftOutOnlyWhereTheResultIsTheSame) {
  for (int i = 0; i < 8; ++i) {
    store_.put_document(document("common-" + std::to_string(i), {"the service restarts nightly"}, kDim));
  }
  store_.put_document(document("rare-a", {"the service drains replicas before restarts"}, kDim));
  store_.put_document(document("rare-b", {"replicas replicas replicas restart slowly"}, kDim));
  const auto rare = store_.bm25("replicas", {}, 10);
  ASSERT_EQ(rare.size(), 2u);
  // The limit filled by the rare word: its hits, in its order.
  EXPECT_EQ(ids_of(store_.bm25("the service replicas restarts", {}, 2)), ids_of(rare));
  // A larger limit: every word, the rare word's chunks first.
  const auto all = store_.bm25("the service replicas restarts", {}, 10);
  ASSERT_EQ(all.size(), 10u);
  const std::vector<std::int64_t> all_ids = ids_of(all);
  EXPECT_EQ(std::vector<std::int64_t>(all_ids.begin(), all_ids.begin() + 2), ids_of(rare));
  // Only common words: the rarest fills a small limit; a larger one gets every word's matches.
  const auto few = store_.bm25("the service nightly", {}, 5);
  ASSERT_EQ(few.size(), 5u);
  for (const auto& h : few) EXPECT_LT(h.chunk_id, chunk_of("rare-a")) << "a chunk without nightly";
  EXPECT_EQ(store_.bm25("the service nightly", {}, 20).size(), 9u);
  // A filter that leaves the rare word fewer chunks than the limit: every word.
  const auto filtered = store_.bm25("the replicas service", {.sources = std::vector<std::string>{"common-0"}}, 1);
  ASSERT_EQ(filtered.size(), 1u);
  EXPECT_EQ(filtered.front().chunk_id, chunk_of("common-0"));
}

}  // namespace
}  // namespace plinth::rag
