// Hybrid retrieval over real stores and a dense index on the cpu plugin: each method's contribution,
// the filter inside both searches, several collections, and the index following the store.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "plinth/rag/retriever.hpp"
#include "device_runtime.hpp"
#include "store_test_support.hpp"

namespace plinth::rag {
namespace {

constexpr std::size_t kDim = 4;

// Unit axis vectors: a chunk's "meaning" is its axis, so dense search finds by axis alone.
std::vector<float> axis(int i) {
  std::vector<float> v(kDim, 0.0f);
  v[static_cast<std::size_t>(i)] = 1.0f;
  return v;
}

DocumentInput doc(const std::string& source, const std::vector<std::pair<std::string, int>>& chunks,
                  MetadataPairs metadata = {}) {
  DocumentInput d;
  d.source = source;
  d.content_hash = "h-" + source;
  d.title = source;
  d.format = "text";
  d.metadata = std::move(metadata);
  int64_t at = 0;
  for (const auto& [text, ax] : chunks) {
    ChunkInput c;
    c.text = text;
    c.begin = at;
    c.end = at + static_cast<int64_t>(text.size());
    at = c.end + 2;
    c.embedding = axis(ax);
    d.chunks.push_back(std::move(c));
  }
  d.bytes = at;
  return d;
}

class RetrieverTest : public testing::Test {
 protected:
  void SetUp() override {
    runtime_ = test::runtime_with(PLINTH_CPU_PLUGIN_PATH);
    if (runtime_->devices().empty()) GTEST_SKIP() << "the cpu plugin opened no device";
    device_ = runtime_->devices()[0];
  }
  CollectionStore open(const std::string& name) {
    return CollectionStore::open(dir_.path() / (name + ".sqlite"), {.dim = kDim, .embedding_model = "axes"});
  }
  static std::vector<std::string> texts(const std::vector<RetrievedChunk>& hits) {
    std::vector<std::string> out;
    for (const auto& h : hits) out.push_back(h.chunk.text);
    return out;
  }

  test::TempDir dir_;
  std::unique_ptr<Runtime> runtime_;
  Device* device_ = nullptr;
};

TEST_F(RetrieverTest, HybridCombinesWhatEachMethodAloneFinds) {
  CollectionStore store = open("docs");
  store.put_document(doc("a.txt", {{"the walrus operator assigns inside expressions", 0},
                                   {"lists are mutable sequences", 1},
                                   {"binding a name while testing a condition", 2}}));
  CollectionIndex index("docs", std::move(store), *device_);
  CollectionIndex* cols[] = {&index};
  const auto query_vec = axis(2);  // "means" the third chunk, which shares no word with the query

  RetrievalOptions opt;
  opt.limit = 3;
  opt.mode = RetrievalMode::bm25;
  EXPECT_EQ(texts(retrieve(cols, "walrus operator", query_vec, opt)),
            std::vector<std::string>{"the walrus operator assigns inside expressions"});
  opt.mode = RetrievalMode::dense;
  const auto dense = retrieve(cols, "walrus operator", query_vec, opt);
  ASSERT_FALSE(dense.empty());
  EXPECT_EQ(dense[0].chunk.text, "binding a name while testing a condition");
  EXPECT_EQ(dense[0].rank.dense_rank, 1);
  EXPECT_EQ(dense[0].rank.bm25_rank, 0);
  opt.mode = RetrievalMode::hybrid;
  const auto hybrid = retrieve(cols, "walrus operator", query_vec, opt);
  ASSERT_GE(hybrid.size(), 2u);
  // Both first-ranked chunks lead; each carries its method's rank, and the records are whole.
  const auto top2 = std::vector<std::string>{texts(hybrid)[0], texts(hybrid)[1]};
  EXPECT_NE(std::find(top2.begin(), top2.end(), "the walrus operator assigns inside expressions"), top2.end());
  EXPECT_NE(std::find(top2.begin(), top2.end(), "binding a name while testing a condition"), top2.end());
  for (const auto& h : hybrid) {
    EXPECT_EQ(h.collection, "docs");
    EXPECT_EQ(h.chunk.source, "a.txt");
    EXPECT_EQ(h.rank.id, h.chunk.id);
  }
  EXPECT_THROW(retrieve(cols, "x", std::vector<float>(kDim + 1), opt), std::invalid_argument);
}

TEST_F(RetrieverTest, TheFilterAppliesInsideBothSearches) {
  CollectionStore store = open("docs");
  store.put_document(doc("public.txt", {{"deploy the service with the manifest", 0}}, {{"team", "ops"}}));
  store.put_document(doc("secret.txt", {{"deploy the service secretly with the manifest", 0}}, {{"team", "red"}}));
  CollectionIndex index("docs", std::move(store), *device_);
  CollectionIndex* cols[] = {&index};
  RetrievalOptions opt;
  opt.limit = 1;
  opt.depth = 1;  // a post-filter of one candidate per method would find nothing
  opt.filter.must_have = {{"team", "ops"}};
  for (const auto mode : {RetrievalMode::bm25, RetrievalMode::dense, RetrievalMode::hybrid}) {
    opt.mode = mode;
    const auto hits = retrieve(cols, "deploy secretly manifest", axis(0), opt);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].chunk.source, "public.txt");
  }
}

TEST_F(RetrieverTest, SeveralCollectionsMergeAndTheIndexFollowsTheStore) {
  CollectionIndex one("one", open("one"), *device_);
  CollectionIndex two("two", open("two"), *device_);
  one.store().put_document(doc("x.txt", {{"alpha beta", 0}, {"gamma", 1}}));
  two.store().put_document(doc("x.txt", {{"alpha", 1}}));  // same source and chunk ids, other collection
  CollectionIndex* cols[] = {&one, &two};
  RetrievalOptions opt;
  opt.limit = 10;
  opt.mode = RetrievalMode::dense;
  auto hits = retrieve(cols, "", axis(1), opt);  // synced on the way: both stores' new chunks count
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].rank.dense_score, 1.0f);
  EXPECT_EQ(hits[1].rank.dense_score, 1.0f);
  EXPECT_NE(hits[0].collection, hits[1].collection);
  opt.mode = RetrievalMode::bm25;
  hits = retrieve(cols, "alpha", {}, opt);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_NE(hits[0].collection, hits[1].collection);

  ASSERT_TRUE(two.store().delete_document("x.txt"));
  opt.mode = RetrievalMode::dense;
  hits = retrieve(cols, "", axis(1), opt);
  ASSERT_EQ(hits.size(), 2u);
  for (const auto& h : hits) EXPECT_EQ(h.collection, "one");
  EXPECT_EQ(two.dense().size(), 0);
}

}  // namespace
}  // namespace plinth::rag
