// CollectionStore: creation and reopening, documents in and out (atomic replace, validation before any
// write), vectors and citations, integrity, and the schema's versions.
#include "plinth/rag/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "store_test_support.hpp"

namespace plinth::rag {
namespace {

using test::document;
using test::raw_exec;
using test::raw_int;
using test::raw_open;
using test::raw_text;

constexpr std::size_t kDim = 4;
const std::string kModel = "test-embedder";

class StoreTest : public ::testing::Test {
 protected:
  std::filesystem::path file() const { return dir_.path() / "tenant" / "collection.sqlite"; }
  CollectionStore open_store() const {
    return CollectionStore::open(file(), {.dim = kDim, .embedding_model = kModel});
  }

  test::TempDir dir_;
};

TEST_F(StoreTest, CreatesTheFileAndItsDirectoriesInWalMode) {
  auto store = open_store();
  EXPECT_TRUE(std::filesystem::exists(file()));
  EXPECT_EQ(store.path(), file());
  EXPECT_EQ(store.dim(), kDim);
  EXPECT_EQ(store.embedding_model(), kModel);
  EXPECT_EQ(store.schema_version(), CollectionStore::latest_schema_version());
  EXPECT_EQ(store.schema_version(), 1);
  EXPECT_EQ(store.document_count(), 0);
  EXPECT_EQ(store.chunk_count(), 0);
  EXPECT_TRUE(store.integrity_ok());

  auto raw = raw_open(file());
  EXPECT_EQ(raw_text(raw.get(), "PRAGMA journal_mode"), "wal");
}

TEST_F(StoreTest, CreatingNeedsADimensionAndAModelAndWritesNothingWithout) {
  EXPECT_THROW(CollectionStore::open(file(), {.dim = 0, .embedding_model = kModel}), std::invalid_argument);
  EXPECT_THROW(CollectionStore::open(file(), {.dim = kDim, .embedding_model = ""}), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(file()));
  EXPECT_FALSE(std::filesystem::exists(file().parent_path()));
}

TEST_F(StoreTest, ReopeningChecksTheDimensionAndTheModel) {
  open_store().put_document(document("a.txt", {"alpha"}, kDim));

  try {
    CollectionStore::open(file(), {.dim = 8, .embedding_model = kModel});
    FAIL() << "a dimension mismatch was accepted";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.file(), file());
    EXPECT_NE(std::string(e.what()).find("dimension is 4, not 8"), std::string::npos) << e.what();
  }
  try {
    CollectionStore::open(file(), {.dim = kDim, .embedding_model = "other-model"});
    FAIL() << "a model mismatch was accepted";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("'test-embedder', not 'other-model'"), std::string::npos)
        << e.what();
  }
  // 0 and "" take the stored values.
  auto store = CollectionStore::open(file(), {});
  EXPECT_EQ(store.dim(), kDim);
  EXPECT_EQ(store.embedding_model(), kModel);
  EXPECT_EQ(store.document_count(), 1);
}

TEST_F(StoreTest, PutInsertsThenReplacesTheWholeDocument) {
  auto store = open_store();
  const auto first =
      store.put_document(document("guide.md", {"one", "two", "three"}, kDim, {{"lang", "en"}}));
  EXPECT_EQ(first.outcome, PutOutcome::inserted);
  EXPECT_EQ(store.chunk_count(), 3);
  const auto old_ids = store.chunk_ids_matching({});
  ASSERT_EQ(old_ids.size(), 3u);

  auto info = store.document("guide.md");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->id, first.doc_id);
  EXPECT_EQ(info->content_hash, "hash-of-guide.md");
  EXPECT_EQ(info->title, "Title of guide.md");
  EXPECT_EQ(info->format, "text");
  EXPECT_EQ(info->bytes, 11);
  EXPECT_EQ(info->chunk_count, 3);
  EXPECT_EQ(info->metadata, (MetadataPairs{{"lang", "en"}}));
  EXPECT_EQ(info->ingested_at.size(), std::string("2024-01-01T00:00:00.000Z").size()) << info->ingested_at;

  auto replacement = document("guide.md", {"four", "five"}, kDim, {{"lang", "de"}});
  replacement.content_hash = "new-hash";
  const auto second = store.put_document(replacement);
  EXPECT_EQ(second.outcome, PutOutcome::replaced);
  EXPECT_EQ(second.doc_id, first.doc_id);
  EXPECT_EQ(store.document_count(), 1);
  EXPECT_EQ(store.chunk_count(), 2);
  EXPECT_TRUE(store.chunks(old_ids).empty()) << "the old chunks survived the replacement";
  const auto new_ids = store.chunk_ids_matching({});
  ASSERT_EQ(new_ids.size(), 2u);
  EXPECT_GT(new_ids.front(), old_ids.back()) << "chunk ids were reused";
  info = store.document("guide.md");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->chunk_count, 2);
  EXPECT_EQ(info->content_hash, "new-hash");
  EXPECT_EQ(info->metadata, (MetadataPairs{{"lang", "de"}}));
  EXPECT_TRUE(store.bm25("three", {}, 10).empty()) << "the FTS index kept a replaced chunk";
  EXPECT_EQ(store.bm25("five", {}, 10).size(), 1u);
  EXPECT_TRUE(store.integrity_ok());
}

TEST_F(StoreTest, DeleteRemovesTheDocumentItsChunksAndItsIndexEntries) {
  auto store = open_store();
  store.put_document(document("a.txt", {"apples and pears"}, kDim));
  store.put_document(document("b.txt", {"bananas", "apples"}, kDim));
  EXPECT_EQ(store.bm25("apples", {}, 10).size(), 2u);

  EXPECT_TRUE(store.delete_document("b.txt"));
  EXPECT_FALSE(store.delete_document("b.txt"));
  EXPECT_FALSE(store.document("b.txt"));
  EXPECT_EQ(store.document_count(), 1);
  EXPECT_EQ(store.chunk_count(), 1);
  EXPECT_EQ(store.bm25("apples", {}, 10).size(), 1u);
  EXPECT_TRUE(store.bm25("bananas", {}, 10).empty());
  EXPECT_TRUE(store.integrity_ok());
}

TEST_F(StoreTest, UnchangedIsTheSameSourceWithTheSameHash) {
  auto store = open_store();
  store.put_document(document("a.txt", {"alpha"}, kDim));
  EXPECT_TRUE(store.unchanged("a.txt", "hash-of-a.txt"));
  EXPECT_FALSE(store.unchanged("a.txt", "another-hash"));
  EXPECT_FALSE(store.unchanged("b.txt", "hash-of-a.txt"));
}

TEST_F(StoreTest, AnInvalidDocumentIsRejectedBeforeAnythingIsWritten) {
  auto store = open_store();
  store.put_document(document("doc", {"kept one", "kept two"}, kDim));
  const auto revision = store.revision();

  const auto expect_rejected = [&](DocumentInput doc, const std::string& expected) {
    try {
      store.put_document(doc);
      ADD_FAILURE() << "accepted; expected: " << expected;
    } catch (const DocumentError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
    EXPECT_EQ(store.revision(), revision);
    EXPECT_EQ(store.chunk_count(), 2);
    const auto info = store.document("doc");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->chunk_count, 2);
    EXPECT_EQ(info->content_hash, "hash-of-doc");
  };

  // The bad chunk is the last one: nothing before it may have been written.
  auto doc = document("doc", {"new one", "new two", "new three"}, kDim);
  doc.chunks[2].embedding.pop_back();
  expect_rejected(doc, "chunk 2: the embedding has 3 values, the collection's dimension is 4");

  doc = document("doc", {"new one", "new two"}, kDim);
  doc.chunks[1].embedding[3] = std::numeric_limits<float>::quiet_NaN();
  expect_rejected(doc, "chunk 1: the embedding's value 3 is not finite");

  doc = document("doc", {"new one", "new two"}, kDim);
  doc.chunks[1].begin = doc.chunks[1].end + 1;
  expect_rejected(doc, "chunk 1: the span");

  doc = document("doc", {"new one"}, kDim);
  doc.chunks[0].begin = -1;
  expect_rejected(doc, "chunk 0: the span [-1,");

  doc = document("doc", {"new one"}, kDim);
  doc.chunks[0].tokens = -5;
  expect_rejected(doc, "chunk 0: tokens is negative");

  doc = document("doc", {"new one"}, kDim);
  doc.bytes = -1;
  expect_rejected(doc, "bytes is negative");

  doc = document("doc", {"new one"}, kDim, {{"", "x"}});
  expect_rejected(doc, "a metadata key is empty");

  doc = document("", {"new one"}, kDim);
  expect_rejected(doc, "the source is empty");
}

TEST_F(StoreTest, DocumentsAreListedBySourceWithSortedMetadata) {
  auto store = open_store();
  store.put_document(
      document("b.txt", {"b"}, kDim, {{"tag", "z"}, {"tag", "a"}, {"lang", "en"}, {"tag", "a"}}));
  store.put_document(document("a.txt", {"a"}, kDim));
  store.put_document(document("c.txt", {}, kDim));  // a document without chunks is still recorded

  const auto docs = store.documents();
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].source, "a.txt");
  EXPECT_EQ(docs[1].source, "b.txt");
  EXPECT_EQ(docs[2].source, "c.txt");
  EXPECT_TRUE(docs[0].metadata.empty());
  EXPECT_EQ(docs[1].metadata, (MetadataPairs{{"lang", "en"}, {"tag", "a"}, {"tag", "z"}}));
  EXPECT_EQ(docs[2].chunk_count, 0);
  EXPECT_TRUE(store.unchanged("c.txt", "hash-of-c.txt"));
}

TEST_F(StoreTest, ChunksRoundTripInTheOrderAsked) {
  auto store = open_store();
  auto doc = document("manual.md", {"Install the package.", "Run the server."}, kDim);
  doc.chunks[0].heading_path = "Manual > Install";
  doc.chunks[1].heading_path = "Manual > Run";
  doc.chunks[1].tokens = 7;
  const auto put = store.put_document(doc);
  const auto ids = store.chunk_ids_matching({});
  ASSERT_EQ(ids.size(), 2u);

  const std::vector<std::int64_t> asked = {ids[1], 999999, ids[0]};
  const auto records = store.chunks(asked);
  ASSERT_EQ(records.size(), 2u) << "an unknown id is left out";
  EXPECT_EQ(records[0].id, ids[1]);
  EXPECT_EQ(records[0].doc_id, put.doc_id);
  EXPECT_EQ(records[0].source, "manual.md");
  EXPECT_EQ(records[0].title, "Title of manual.md");
  EXPECT_EQ(records[0].ordinal, 1);
  EXPECT_EQ(records[0].text, "Run the server.");
  EXPECT_EQ(records[0].heading_path, "Manual > Run");
  EXPECT_EQ(records[0].begin, 20);
  EXPECT_EQ(records[0].end, 35);
  EXPECT_EQ(records[0].tokens, 7);
  EXPECT_EQ(records[1].id, ids[0]);
  EXPECT_EQ(records[1].ordinal, 0);
  EXPECT_EQ(records[1].text, "Install the package.");
  EXPECT_EQ(records[1].begin, 0);
  EXPECT_EQ(records[1].end, 20);
}

TEST_F(StoreTest, VectorsComeBackBitExactInChunkIdOrder) {
  auto store = open_store();
  auto doc = document("v", {"x", "y", "z"}, kDim);
  doc.chunks[0].embedding = {1.5f, -0.0f, 3.25e-20f, std::numeric_limits<float>::max()};
  doc.chunks[1].embedding = {std::numeric_limits<float>::denorm_min(), -7.0f, 0.1f, 1e30f};
  store.put_document(doc);
  store.put_document(document("w", {"q"}, kDim));

  std::vector<std::int64_t> ids;
  std::vector<std::vector<float>> vectors;
  store.for_each_vector([&](std::int64_t id, std::span<const float> v) {
    ids.push_back(id);
    vectors.emplace_back(v.begin(), v.end());
  });
  EXPECT_EQ(ids, store.chunk_ids_matching({}));
  ASSERT_EQ(vectors.size(), 4u);
  for (std::size_t c = 0; c < 3; ++c) {
    ASSERT_EQ(vectors[c].size(), kDim);
    EXPECT_EQ(std::memcmp(vectors[c].data(), doc.chunks[c].embedding.data(), kDim * sizeof(float)), 0)
        << "chunk " << c;
  }
}

TEST_F(StoreTest, EmbeddingsAreStoredAsLittleEndianF32) {
  {
    auto store = open_store();
    auto doc = document("v", {"x"}, kDim);
    doc.chunks[0].embedding = {1.0f, 2.0f, -1.0f, 0.5f};
    store.put_document(doc);
  }
  auto raw = raw_open(file());
  EXPECT_EQ(raw_text(raw.get(), "SELECT hex(embedding) FROM chunks"), "0000803F00000040000080BF0000003F");
}

TEST_F(StoreTest, ChunkIdsMatchingAppliesTheFilter) {
  auto store = open_store();
  store.put_document(document("en-1", {"a", "b"}, kDim, {{"lang", "en"}, {"team", "x"}}));
  store.put_document(document("en-2", {"c"}, kDim, {{"lang", "en"}, {"team", "y"}}));
  store.put_document(document("de-1", {"d"}, kDim, {{"lang", "de"}, {"team", "x"}}));
  const auto all = store.chunk_ids_matching({});
  ASSERT_EQ(all.size(), 4u);

  EXPECT_EQ(store.chunk_ids_matching({.must_have = {{"lang", "en"}}}),
            (std::vector<std::int64_t>{all[0], all[1], all[2]}));
  EXPECT_EQ(store.chunk_ids_matching({.must_have = {{"lang", "en"}, {"team", "x"}}}),
            (std::vector<std::int64_t>{all[0], all[1]}));
  EXPECT_EQ(store.chunk_ids_matching(
                {.must_have = {{"team", "x"}}, .sources = std::vector<std::string>{"de-1", "en-2"}}),
            (std::vector<std::int64_t>{all[3]}));
  EXPECT_TRUE(store.chunk_ids_matching({.sources = std::vector<std::string>{}}).empty());
  EXPECT_TRUE(store.chunk_ids_matching({.must_have = {{"lang", "fr"}}}).empty());
}

TEST_F(StoreTest, RevisionCountsCommittedWrites) {
  auto store = open_store();
  const auto r0 = store.revision();
  store.put_document(document("a", {"x"}, kDim));
  EXPECT_EQ(store.revision(), r0 + 1);
  store.put_document(document("a", {"y"}, kDim));
  EXPECT_EQ(store.revision(), r0 + 2);
  EXPECT_FALSE(store.delete_document("missing"));
  EXPECT_EQ(store.revision(), r0 + 2);
  EXPECT_TRUE(store.delete_document("a"));
  EXPECT_EQ(store.revision(), r0 + 3);
  // Another connection sees it too.
  EXPECT_EQ(CollectionStore::open(file(), {}).revision(), r0 + 3);
}

TEST_F(StoreTest, IntegrityCheckNoticesAnIndexThatDisagreesWithTheChunks) {
  open_store().put_document(document("a", {"apples", "pears"}, kDim));
  {
    // Change a chunk behind the index's back.
    auto raw = raw_open(file());
    ASSERT_EQ(raw_exec(raw.get(), "DROP TRIGGER chunks_fts_after_update; UPDATE chunks SET text = 'plums'"),
              "");
  }
  EXPECT_FALSE(open_store().integrity_ok());
}

TEST_F(StoreTest, AMovedStoreKeepsWorking) {
  auto store = open_store();
  CollectionStore moved = std::move(store);
  moved.put_document(document("a", {"x"}, kDim));
  EXPECT_EQ(moved.chunk_count(), 1);
}

TEST_F(StoreTest, SqliteFailuresNameTheFileAndTheOperation) {
  std::filesystem::create_directories(file());  // a directory where the database should be
  try {
    open_store();
    FAIL() << "opened a directory";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.file(), file());
    EXPECT_EQ(e.operation(), "open");
    EXPECT_NE(e.sqlite_code(), 0);
    EXPECT_EQ(std::string(e.what()).rfind(file().string() + ": open: ", 0), 0u) << e.what();
  }
}

// ---- schema versions ----

TEST_F(StoreTest, AnEmptyFileIsMigratedToTheLatestSchema) {
  std::filesystem::create_directories(file().parent_path());
  std::ofstream(file()).close();  // 0 bytes: an empty SQLite database, version 0
  auto store = open_store();
  EXPECT_EQ(store.schema_version(), CollectionStore::latest_schema_version());
  store.put_document(document("a", {"x"}, kDim));
  EXPECT_EQ(store.chunk_count(), 1);
}

TEST_F(StoreTest, AVersionZeroDatabaseWithoutTablesIsMigrated) {
  std::filesystem::create_directories(file().parent_path());
  {
    auto raw = raw_open(file());
    ASSERT_EQ(raw_exec(raw.get(), "PRAGMA page_size = 8192; VACUUM"), "");  // a real header, no tables
    ASSERT_EQ(raw_int(raw.get(), "PRAGMA user_version"), 0);
  }
  ASSERT_GT(std::filesystem::file_size(file()), 0u);
  EXPECT_EQ(open_store().schema_version(), 1);
}

TEST_F(StoreTest, ANewerSchemaIsRefusedNamingBothVersions) {
  open_store().put_document(document("a", {"x"}, kDim));
  const int newer = CollectionStore::latest_schema_version() + 1;
  {
    auto raw = raw_open(file());
    ASSERT_EQ(raw_exec(raw.get(), "PRAGMA user_version = " + std::to_string(newer)), "");
  }
  try {
    open_store();
    FAIL() << "a newer schema was opened";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("schema version " + std::to_string(newer)), std::string::npos) << what;
    EXPECT_NE(what.find("knows (" + std::to_string(CollectionStore::latest_schema_version()) + ")"),
              std::string::npos)
        << what;
  }
  auto raw = raw_open(file());
  EXPECT_EQ(raw_int(raw.get(), "SELECT count(*) FROM chunks"), 1) << "the refused file was changed";
}

TEST_F(StoreTest, ADatabaseOfAnotherApplicationIsRefused) {
  std::filesystem::create_directories(file().parent_path());
  {
    auto raw = raw_open(file());
    ASSERT_EQ(raw_exec(raw.get(), "CREATE TABLE notes (x)"), "");
  }
  try {
    open_store();
    FAIL() << "a foreign database was opened";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("not a Plinth collection store"), std::string::npos) << e.what();
  }
  {
    auto raw = raw_open(file());
    ASSERT_EQ(raw_exec(raw.get(), "PRAGMA user_version = 1"), "");  // a version, but not our mark
  }
  EXPECT_THROW(open_store(), StoreError);
}

}  // namespace
}  // namespace plinth::rag
