// The ingest pipeline over real files, a real store, and an embedder whose vectors are a function of
// the words (so the tests can tell what was embedded) and which can be told to fail.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "plinth/rag/ingest.hpp"
#include "store_test_support.hpp"

namespace plinth::rag {
namespace {

constexpr std::size_t kDim = 8;

class WordEmbedder final : public Embedder {
 public:
  std::size_t dim() const override { return kDim; }
  std::size_t count_tokens(std::string_view text) const override {
    std::size_t n = 0;
    bool in_word = false;
    for (const char c : text) {
      const bool space = c == ' ' || c == '\n' || c == '\t';
      if (!space && !in_word) ++n;
      in_word = !space;
    }
    return n;
  }
  std::future<std::vector<float>> embed(std::vector<std::string> texts) override {
    ++calls;
    embedded_texts += texts.size();
    std::promise<std::vector<float>> p;
    for (const auto& t : texts) {
      if (!fail_on.empty() && t.find(fail_on) != std::string::npos) {
        p.set_exception(std::make_exception_ptr(std::runtime_error("embedding error: device lost")));
        return p.get_future();
      }
    }
    std::vector<float> out;
    for (const auto& t : texts) {
      std::vector<float> v(kDim, 0.0f);
      for (std::size_t i = 0; i < t.size(); ++i) v[static_cast<unsigned char>(t[i]) % kDim] += 1.0f;
      float norm = 0.0f;
      for (const float x : v) norm += x * x;
      for (float& x : v) x /= std::sqrt(norm);
      out.insert(out.end(), v.begin(), v.end());
    }
    p.set_value(std::move(out));
    return p.get_future();
  }
  std::atomic<int> calls{0};
  std::atomic<std::size_t> embedded_texts{0};
  std::string fail_on;
};

class IngestTest : public testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& content) {
    const auto p = dir_.path() / "in" / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  CollectionStore open() {
    return CollectionStore::open(dir_.path() / "c.sqlite", {.dim = kDim, .embedding_model = "words"});
  }
  test::TempDir dir_;
  WordEmbedder embedder_;
};

TEST_F(IngestTest, FilesOfEveryKindAreIngestedAndBadOnesReportedWithoutStoppingTheRest) {
  std::vector<SourceFile> files{
      {"guide.md", write("guide.md", "# Guide\n\nInstall it with apt.\n\n## Use\n\nRun it daily.\n")},
      {"bad.pdf", write("bad.pdf", "%PDF-1.4 this is not really a PDF")},
      {"page.html", write("page.html", "<html><head><title>Page</title></head><body><h1>Page</h1><p>Hello "
                                       "there.</p></body></html>")},
      {"notes.txt", write("notes.txt", "First paragraph.\n\nSecond paragraph.\n")},
      {"image.png", write("image.png", "\x89PNG")},
      {"missing.txt", dir_.path() / "in" / "missing.txt"},
      {"empty.txt", write("empty.txt", "   \n\n  ")},
  };
  CollectionStore store = open();
  std::vector<std::string> seen;
  const IngestSummary s = ingest_files(store, embedder_, files, {.chunking = {.max_tokens = 50, .overlap_tokens = 5}},
                                       [&](const IngestProgress& p, const FileReport& r) {
                                         seen.push_back(r.source);
                                         EXPECT_EQ(p.files_done, seen.size());
                                         EXPECT_EQ(p.files_total, files.size());
                                       });
  ASSERT_EQ(s.files.size(), files.size());
  EXPECT_EQ(s.inserted, 3u);
  EXPECT_EQ(s.failed, 4u);
  EXPECT_EQ(seen, (std::vector<std::string>{"guide.md", "bad.pdf", "page.html", "notes.txt", "image.png",
                                            "missing.txt", "empty.txt"}));  // input order
  EXPECT_EQ(s.files[1].outcome, FileOutcome::failed);
  EXPECT_FALSE(s.files[1].error.empty());
  EXPECT_NE(s.files[4].error.find("unsupported format"), std::string::npos);
  EXPECT_NE(s.files[5].error.find("cannot read"), std::string::npos);
  EXPECT_EQ(store.document_count(), 3);
  EXPECT_EQ(static_cast<std::size_t>(store.chunk_count()), s.chunks);
  const auto guide = store.document("guide.md");
  ASSERT_TRUE(guide);
  EXPECT_EQ(guide->title, "Guide");
  EXPECT_EQ(guide->format, "markdown");
  EXPECT_EQ(guide->content_hash.size(), 64u);
  // The heading path went into what was embedded and into the FTS index.
  const auto hits = store.bm25("daily", {}, 5);
  ASSERT_EQ(hits.size(), 1u);
  const auto rec = store.chunks(std::vector<int64_t>{hits[0].chunk_id});
  EXPECT_EQ(rec[0].heading_path, "Guide > Use");
  EXPECT_EQ(rec[0].source, "guide.md");
}

TEST_F(IngestTest, UnchangedDocumentsCostNothingAndChangedOnesAreReplaced) {
  std::vector<SourceFile> files{{"a.txt", write("a.txt", "alpha one.\n\nalpha two.\n")},
                                {"b.txt", write("b.txt", "beta.\n")}};
  CollectionStore store = open();
  ASSERT_EQ(ingest_files(store, embedder_, files, {}).inserted, 2u);
  const std::size_t embedded = embedder_.embedded_texts;
  const IngestSummary again = ingest_files(store, embedder_, files, {});
  EXPECT_EQ(again.unchanged, 2u);
  EXPECT_EQ(embedder_.embedded_texts, embedded);  // no embedding work at all
  EXPECT_EQ(again.files[0].chunks, static_cast<std::size_t>(store.document("a.txt")->chunk_count));

  write("a.txt", "gamma only.\n");
  const IngestSummary changed = ingest_files(store, embedder_, files, {});
  EXPECT_EQ(changed.replaced, 1u);
  EXPECT_EQ(changed.unchanged, 1u);
  EXPECT_TRUE(store.bm25("alpha", {}, 5).empty());
  EXPECT_EQ(store.bm25("gamma", {}, 5).size(), 1u);
  EXPECT_EQ(ingest_files(store, embedder_, files, {.force = true}).replaced, 2u);
}

TEST_F(IngestTest, AnEmbeddingFailureFailsItsDocumentAlone) {
  std::vector<SourceFile> files{{"ok1.txt", write("ok1.txt", "fine words.\n")},
                                {"poison.txt", write("poison.txt", "poison pill.\n")},
                                {"ok2.txt", write("ok2.txt", "more fine words.\n")}};
  embedder_.fail_on = "poison";
  CollectionStore store = open();
  const IngestSummary s = ingest_files(store, embedder_, files, {.max_pending = 1});
  EXPECT_EQ(s.inserted, 2u);
  ASSERT_EQ(s.files[1].outcome, FileOutcome::failed);
  EXPECT_NE(s.files[1].error.find("device lost"), std::string::npos);
  EXPECT_FALSE(store.document("poison.txt"));
  // Metadata given to the ingest lands on every document, beside the format.
  const IngestSummary tagged = ingest_files(store, embedder_, std::span(files).first(1),
                                            {.force = true, .metadata = {{"team", "docs"}}});
  EXPECT_EQ(tagged.replaced, 1u);
  EXPECT_EQ(store.bm25("fine", {.must_have = {{"team", "docs"}}}, 5).size(), 1u);
}

TEST(ContentHash, IsSha256Hex) {
  EXPECT_EQ(content_hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(content_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace plinth::rag
