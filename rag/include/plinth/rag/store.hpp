// CollectionStore: one RAG collection in one SQLite database file. It holds the collection's
// documents, their metadata, their chunks (text, heading path, span in the source, token count) with
// each chunk's embedding beside it, and an FTS5 index over the chunks for BM25 search. The dense
// index is built elsewhere from for_each_vector(); chunk ids are never reused (AUTOINCREMENT), so an
// id held by an index can at worst point at a deleted chunk, never at a different one.
//
// The file is in WAL mode: readers never block the writer nor each other, across processes too.
// Every write (put_document, delete_document) is one transaction: a reader, or a process opening the
// file after a crash, sees a document either whole with all its chunks or not at all.
//
// A CollectionStore is one connection: use it from one thread at a time (open one per thread; SQLite
// coordinates them, a writer waits up to StoreOptions::busy_timeout for another).
//
// Errors: every SQLite failure throws StoreError (file, operation, SQLite's message); a document that
// fails validation throws DocumentError before anything is written.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plinth::rag {

// A database failure. what(): "<file>: <operation>: <message>".
class StoreError : public std::runtime_error {
 public:
  // sqlite_code: SQLite's extended result code, 0 when the error is Plinth's own (a dimension or
  // model mismatch, an unknown schema version, a file that is not a collection).
  StoreError(std::filesystem::path file, std::string operation, const std::string& message,
             int sqlite_code = 0);

  const std::filesystem::path& file() const noexcept { return file_; }
  const std::string& operation() const noexcept { return operation_; }
  int sqlite_code() const noexcept { return sqlite_code_; }

 private:
  std::filesystem::path file_;
  std::string operation_;
  int sqlite_code_;
};

// A document put_document() refuses; nothing was written. what() names the source, the chunk index
// where one is at fault, and what is wrong.
class DocumentError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// How long a write waits for another connection's write lock before failing with SQLITE_BUSY.
inline constexpr std::chrono::milliseconds kDefaultBusyTimeout{5000};

struct StoreOptions {
  // The embedding dimension. Required (> 0) to create a store; on an existing store 0 accepts the
  // stored one and any other value must equal it.
  std::size_t dim = 0;
  // The model that produced the embeddings. Required (non-empty) to create a store; on an existing
  // store "" accepts the stored one and any other value must equal it, so vectors of two models never
  // share a store.
  std::string embedding_model;
  std::chrono::milliseconds busy_timeout = kDefaultBusyTimeout;
};

struct ChunkInput {
  std::string text;
  std::string heading_path;  // e.g. "Install > Debian"; searched with a higher weight than the text
  std::int64_t begin = 0;    // the chunk's byte span in the source text: 0 <= begin <= end
  std::int64_t end = 0;
  std::int64_t tokens = 0;       // >= 0
  std::vector<float> embedding;  // exactly dim finite values
};

using MetadataPairs = std::vector<std::pair<std::string, std::string>>;

struct DocumentInput {
  std::string source;  // the document's identity in the collection (a path, a URL); non-empty
  // Whatever decides the chunks (the content, and the chunking settings if they may change): a put of
  // the same source with the same hash is what unchanged() reports.
  std::string content_hash;
  std::string title;
  std::string format;      // "text", "markdown", "html", ...
  std::int64_t bytes = 0;  // >= 0
  // Free key/value pairs for filters; a key may repeat with different values (tags).
  MetadataPairs metadata;
  std::vector<ChunkInput> chunks;  // ordinal = index
};

struct DocumentInfo {
  std::int64_t id = 0;
  std::string source, content_hash, title, format;
  std::int64_t bytes = 0;
  std::int64_t chunk_count = 0;
  std::string ingested_at;  // UTC, ISO 8601 ("2024-05-01T12:00:00.000Z")
  MetadataPairs metadata;   // sorted by key, then value
};

enum class PutOutcome { inserted, replaced };

struct PutResult {
  std::int64_t doc_id = 0;  // stable across replacements of the same source
  PutOutcome outcome = PutOutcome::inserted;
};

// Which documents a search may return; applied inside the query (before ranking and the limit).
struct MetadataFilter {
  // Every pair must be among the document's metadata.
  MetadataPairs must_have = {};
  // When set, only documents whose source is in the list (an empty list matches nothing).
  std::optional<std::vector<std::string>> sources = std::nullopt;

  bool empty() const noexcept { return must_have.empty() && !sources; }
};

// BM25 column weights (FTS5's bm25()): a query word in a chunk's heading path says more about the
// chunk than the same word somewhere in its text. Finite and >= 0.
struct Bm25Weights {
  double text = 1.0;
  double heading_path = 2.0;
};

struct Bm25Hit {
  std::int64_t chunk_id = 0;
  double score = 0;  // higher is better (FTS5's bm25() negated)
};

struct ChunkRecord {
  std::int64_t id = 0;
  std::int64_t doc_id = 0;
  std::string source, title;  // the document's
  std::int64_t ordinal = 0;   // the chunk's index in its document
  std::string text, heading_path;
  std::int64_t begin = 0, end = 0, tokens = 0;
};

class CollectionStore {
 public:
  // The schema version this code writes (PRAGMA user_version).
  static int latest_schema_version() noexcept;

  // Opens `file`, creating it and its parent directories when absent, and migrates an older schema.
  // Throws StoreError when the file cannot be opened, is not a collection store, has a schema newer
  // than this code (naming both versions), or its dimension or embedding model differs from `opts`
  // (naming both); std::invalid_argument when creating without a dim or a model.
  static CollectionStore open(const std::filesystem::path& file, const StoreOptions& opts);

  CollectionStore(CollectionStore&&) noexcept;
  CollectionStore& operator=(CollectionStore&&) noexcept;
  ~CollectionStore();

  const std::filesystem::path& path() const noexcept;
  std::size_t dim() const noexcept;
  const std::string& embedding_model() const noexcept;
  int schema_version() const;

  // The document stored for `source`, if any.
  std::optional<DocumentInfo> document(std::string_view source) const;
  // True when `source` is stored with exactly this content hash: its re-ingestion can be skipped.
  bool unchanged(std::string_view source, std::string_view content_hash) const;
  // Inserts the document, or replaces the one with the same source (its chunks and metadata), in one
  // transaction. Every chunk is validated (embedding of dim finite values, 0 <= begin <= end,
  // tokens >= 0) before anything is written: DocumentError.
  PutResult put_document(const DocumentInput& doc);
  // Deletes the document and its chunks; false when there was none.
  bool delete_document(std::string_view source);
  // All documents, by source.
  std::vector<DocumentInfo> documents() const;
  std::int64_t document_count() const;
  std::int64_t chunk_count() const;
  // Increases with every committed write, by any connection: a cache of the vectors (the dense
  // index) is current while this is unchanged.
  std::int64_t revision() const;

  // The best `limit` chunks for `query` by BM25 among those `filter` admits, best first (ties by
  // chunk id). The query is words, never FTS5 syntax: it is split into runs of Unicode letters and
  // digits (as FTS5's unicode61 tokenizer splits text), each quoted, any of them may match. No words,
  // or limit 0: no hits.
  std::vector<Bm25Hit> bm25(std::string_view query, const MetadataFilter& filter, std::size_t limit,
                            const Bm25Weights& weights = {}) const;
  // Every chunk's embedding, in chunk id order. The span is valid only during the call.
  void for_each_vector(const std::function<void(std::int64_t chunk_id, std::span<const float>)>& fn) const;
  // The ids of the chunks `filter` admits, ascending: the dense search's mask for the same filter.
  std::vector<std::int64_t> chunk_ids_matching(const MetadataFilter& filter) const;
  // The chunks with these ids, in the order asked; ids not stored (deleted since) are left out.
  std::vector<ChunkRecord> chunks(std::span<const std::int64_t> ids) const;

  // PRAGMA integrity_check answers "ok" and the FTS5 index agrees with the chunks table (FTS5's check
  // is a write statement: it waits for another connection's write like put_document).
  bool integrity_ok() const;

 private:
  struct Impl;
  explicit CollectionStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The FTS5 query for a user's words: each run of Unicode letters and digits quoted as an FTS5
// string, joined with OR (at most kMaxQueryTerms distinct words, the first ones). "" when the query
// has no words. Public so the rule can be tested and reused; bm25() applies it.
inline constexpr std::size_t kMaxQueryTerms = 64;
std::string fts5_query(std::string_view user_query);

}  // namespace plinth::rag
