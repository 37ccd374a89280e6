#include "plinth/rag/store.hpp"

#include <sqlite3.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <system_error>
#include <utility>

#include "sqlite.hpp"

namespace plinth::rag {
namespace {

// PRAGMA application_id of a collection store: "PLRC".
constexpr std::int32_t kStoreApplicationId = 0x504C5243;

// Version 1. Notes on the design:
// - AUTOINCREMENT on documents and chunks: ids are never reused, so the dense index, or a citation,
//   holding an id of a deleted chunk finds nothing rather than an unrelated chunk.
// - document_meta's key is (doc_id, key, value): a key may carry several values (tags); the
//   (key, value) index serves the filters.
// - chunks.embedding: dim little-endian IEEE f32; its length is checked by the code (dim lives in
//   meta, a CHECK cannot see it). UNIQUE (doc_id, ordinal) also indexes the ON DELETE CASCADE.
// - chunks_fts is an external-content FTS5 table over chunks: the text is stored once; the triggers
//   keep the index in the same transaction as the rows, so it can never disagree with them.
//   Deleting a document deletes its chunks by cascade, which fires the delete trigger.
constexpr std::string_view kStoreSchemaV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value NOT NULL
) WITHOUT ROWID;

CREATE TABLE documents (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  source       TEXT NOT NULL UNIQUE,
  content_hash TEXT NOT NULL,
  title        TEXT NOT NULL,
  format       TEXT NOT NULL,
  bytes        INTEGER NOT NULL CHECK (bytes >= 0),
  chunk_count  INTEGER NOT NULL CHECK (chunk_count >= 0),
  ingested_at  TEXT NOT NULL
);

CREATE TABLE document_meta (
  doc_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (doc_id, key, value)
) WITHOUT ROWID;
CREATE INDEX document_meta_by_pair ON document_meta (key, value);

CREATE TABLE chunks (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  doc_id       INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  ordinal      INTEGER NOT NULL CHECK (ordinal >= 0),
  text         TEXT NOT NULL,
  heading_path TEXT NOT NULL,
  span_begin   INTEGER NOT NULL,
  span_end     INTEGER NOT NULL,
  tokens       INTEGER NOT NULL CHECK (tokens >= 0),
  embedding    BLOB NOT NULL,
  UNIQUE (doc_id, ordinal),
  CHECK (0 <= span_begin AND span_begin <= span_end)
);

CREATE VIRTUAL TABLE chunks_fts USING fts5 (
  text, heading_path,
  content = 'chunks', content_rowid = 'id',
  tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER chunks_fts_after_insert AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts (rowid, text, heading_path) VALUES (new.id, new.text, new.heading_path);
END;
CREATE TRIGGER chunks_fts_after_delete AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts (chunks_fts, rowid, text, heading_path)
    VALUES ('delete', old.id, old.text, old.heading_path);
END;
CREATE TRIGGER chunks_fts_after_update AFTER UPDATE ON chunks BEGIN
  INSERT INTO chunks_fts (chunks_fts, rowid, text, heading_path)
    VALUES ('delete', old.id, old.text, old.heading_path);
  INSERT INTO chunks_fts (rowid, text, heading_path) VALUES (new.id, new.text, new.heading_path);
END;
)sql";

constexpr std::array<std::string_view, 1> kStoreSteps = {kStoreSchemaV1};
constexpr sqlite::Schema kStoreSchema{"collection store", kStoreApplicationId, kStoreSteps};

constexpr std::string_view kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4,
              "embeddings are stored as IEEE f32");

// The stored form of an embedding: little-endian f32, whatever the host. On a little-endian host
// the floats' own bytes; `scratch` holds the swapped copy elsewhere.
std::span<const std::byte> embedding_bytes(std::span<const float> values, std::vector<std::byte>& scratch) {
  if constexpr (std::endian::native == std::endian::little) {
    return std::as_bytes(values);
  } else {
    scratch.resize(values.size() * 4);
    for (std::size_t i = 0; i < values.size(); ++i) {
      const auto bits = std::bit_cast<std::uint32_t>(values[i]);
      for (int b = 0; b < 4; ++b) scratch[i * 4 + b] = static_cast<std::byte>(bits >> (8 * b));
    }
    return scratch;
  }
}

void decode_embedding(std::span<const std::byte> bytes, std::span<float> out) {
  if constexpr (std::endian::native == std::endian::little) {
    // memcpy, not a cast: SQLite's blob memory has no alignment promise.
    std::memcpy(out.data(), bytes.data(), out.size_bytes());
  } else {
    for (std::size_t i = 0; i < out.size(); ++i) {
      std::uint32_t bits = 0;
      for (int b = 0; b < 4; ++b) bits |= std::to_integer<std::uint32_t>(bytes[i * 4 + b]) << (8 * b);
      out[i] = std::bit_cast<float>(bits);
    }
  }
}

// Letters, digits and private-use characters are what unicode61 keeps in a token (its default
// categories "L* N* Co"); combining marks stay with their letter (remove_diacritics strips them).
bool is_word_char(utf8proc_int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_CO: return true;
    default: return false;
  }
}

// The filter's conditions on `c` (chunks) and `d` (documents), appended to a WHERE clause, with
// their parameters bound in order after the statement's own.
class FilterClause {
 public:
  // SQLite's default limit on parameters is 32766; a filter stays well below it.
  static constexpr std::size_t kMaxParameters = 30000;

  explicit FilterClause(const MetadataFilter& filter) : filter_(filter) {
    const std::size_t sources = filter.sources ? filter.sources->size() : 0;
    if (filter.must_have.size() * 2 + sources > kMaxParameters) {
      throw std::invalid_argument("metadata filter: more than " + std::to_string(kMaxParameters) +
                                  " values (pairs count twice)");
    }
    for (std::size_t i = 0; i < filter.must_have.size(); ++i) {
      sql_ +=
          " AND EXISTS (SELECT 1 FROM document_meta AS m WHERE m.doc_id = d.id AND m.key = ? AND m.value = "
          "?)";
    }
    if (filter.sources) {
      if (filter.sources->empty()) {
        sql_ += " AND 0";
      } else {
        sql_ += " AND d.source IN (?";
        for (std::size_t i = 1; i < sources; ++i) sql_ += ", ?";
        sql_ += ")";
      }
    }
  }

  const std::string& sql() const noexcept { return sql_; }

  void bind(sqlite::Statement& stmt, int& next) const {
    for (const auto& [key, value] : filter_.must_have) {
      stmt.bind(next++, std::string_view(key));
      stmt.bind(next++, std::string_view(value));
    }
    if (filter_.sources) {
      for (const auto& source : *filter_.sources) stmt.bind(next++, std::string_view(source));
    }
  }

 private:
  const MetadataFilter& filter_;
  std::string sql_;
};

void validate(const DocumentInput& doc, std::size_t dim) {
  const std::string where = "document '" + doc.source + "'";
  if (doc.source.empty()) throw DocumentError("document: the source is empty");
  if (doc.bytes < 0) throw DocumentError(where + ": bytes is negative (" + std::to_string(doc.bytes) + ")");
  for (const auto& [key, value] : doc.metadata) {
    if (key.empty()) throw DocumentError(where + ": a metadata key is empty");
  }
  for (std::size_t i = 0; i < doc.chunks.size(); ++i) {
    const ChunkInput& chunk = doc.chunks[i];
    const std::string at = where + ": chunk " + std::to_string(i) + ": ";
    if (chunk.embedding.size() != dim) {
      throw DocumentError(at + "the embedding has " + std::to_string(chunk.embedding.size()) +
                          " values, the collection's dimension is " + std::to_string(dim));
    }
    const auto bad = std::find_if(chunk.embedding.begin(), chunk.embedding.end(),
                                  [](float v) { return !std::isfinite(v); });
    if (bad != chunk.embedding.end()) {
      throw DocumentError(at + "the embedding's value " + std::to_string(bad - chunk.embedding.begin()) +
                          " is not finite");
    }
    if (chunk.begin < 0 || chunk.begin > chunk.end) {
      throw DocumentError(at + "the span [" + std::to_string(chunk.begin) + ", " + std::to_string(chunk.end) +
                          ") is not 0 <= begin <= end");
    }
    if (chunk.tokens < 0)
      throw DocumentError(at + "tokens is negative (" + std::to_string(chunk.tokens) + ")");
  }
}

constexpr std::string_view kDocumentColumns =
    "id, source, content_hash, title, format, bytes, chunk_count, ingested_at";

DocumentInfo read_document(const sqlite::Statement& row) {
  DocumentInfo info;
  info.id = row.column_int(0);
  info.source = row.column_text(1);
  info.content_hash = row.column_text(2);
  info.title = row.column_text(3);
  info.format = row.column_text(4);
  info.bytes = row.column_int(5);
  info.chunk_count = row.column_int(6);
  info.ingested_at = row.column_text(7);
  return info;
}

}  // namespace

StoreError::StoreError(std::filesystem::path file, std::string operation, const std::string& message,
                       int sqlite_code)
    : std::runtime_error(file.string() + ": " + operation + ": " + message),
      file_(std::move(file)),
      operation_(std::move(operation)),
      sqlite_code_(sqlite_code) {}

namespace {

// The query's words, each an FTS5 string ("..." with quotes doubled): inside one, nothing is syntax
// (no AND, OR, NEAR, column filter, prefix *), so the user's text can only ever be words to match.
std::vector<std::string> fts5_terms(std::string_view user_query) {
  std::vector<std::string> words;
  std::string word;
  const auto flush = [&] {
    if (!word.empty() && words.size() < kMaxQueryTerms &&
        std::find(words.begin(), words.end(), word) == words.end()) {
      words.push_back(word);
    }
    word.clear();
  };
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(user_query.data());
  std::size_t i = 0;
  while (i < user_query.size()) {
    utf8proc_int32_t cp = 0;
    const auto n = utf8proc_iterate(bytes + i, static_cast<utf8proc_ssize_t>(user_query.size() - i), &cp);
    if (n <= 0) {  // not UTF-8: a separator, one byte at a time
      flush();
      ++i;
      continue;
    }
    const auto length = static_cast<std::size_t>(n);
    if (is_word_char(cp)) {
      word.append(user_query.substr(i, length));
    } else {
      flush();
    }
    i += length;
  }
  flush();

  std::vector<std::string> terms;
  for (const auto& w : words) {
    std::string term = "\"";
    for (char c : w) term += c == '"' ? std::string("\"\"") : std::string(1, c);
    terms.push_back(term + '"');
  }
  return terms;
}

std::string any_of_terms(const std::vector<std::string>& terms) {
  std::string query;
  for (const auto& t : terms) query += (query.empty() ? "" : " OR ") + t;
  return query;
}

}  // namespace

std::string fts5_query(std::string_view user_query) { return any_of_terms(fts5_terms(user_query)); }

struct CollectionStore::Impl {
  sqlite::Connection db;
  std::size_t dim = 0;
  std::string embedding_model;

  // `terms` without the words that occur in more than half the chunks (all but the rarest when every
  // word does). BM25's inverse document frequency of such a word is about zero (FTS5 floors it at
  // 1e-6), so it cannot lift a chunk above one that matches a rarer word; yet it makes nearly every
  // chunk a match to score, the whole cost of a query of common words. The top k are unchanged
  // whenever k chunks match the remaining words (bm25() checks, and asks again with every word).
  std::vector<std::string> informative_terms(const std::vector<std::string>& terms) const {
    auto count = db.prepare("SELECT count(*) FROM chunks", "bm25 search");
    count.step();
    const std::int64_t chunks = count.column_int(0);
    auto df = db.prepare("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", "bm25 search");
    std::vector<std::pair<std::int64_t, std::string>> by_df;
    for (const auto& t : terms) {
      df.reset();
      df.bind(1, std::string_view(t));
      df.step();
      by_df.emplace_back(df.column_int(0), t);
    }
    std::vector<std::string> kept;
    for (auto& [n, t] : by_df) {
      if (2 * n <= chunks) kept.push_back(t);
    }
    if (kept.empty()) {
      kept.push_back(std::min_element(by_df.begin(), by_df.end())->second);
    }
    return kept;
  }

  std::optional<std::int64_t> find_id(std::string_view source, std::string_view operation) const {
    auto stmt = db.prepare("SELECT id FROM documents WHERE source = ?", operation);
    stmt.bind(1, source);
    if (!stmt.step()) return std::nullopt;
    return stmt.column_int(0);
  }

  // Loads the metadata of `docs` (all of them, or the one document) into them.
  void load_metadata(std::vector<DocumentInfo>& docs, std::optional<std::int64_t> only) const {
    std::map<std::int64_t, DocumentInfo*> by_id;
    for (auto& d : docs) by_id[d.id] = &d;
    auto stmt =
        db.prepare(only ? "SELECT doc_id, key, value FROM document_meta WHERE doc_id = ? ORDER BY key, value"
                        : "SELECT doc_id, key, value FROM document_meta ORDER BY doc_id, key, value",
                   "read document metadata");
    if (only) stmt.bind(1, *only);
    while (stmt.step()) {
      const auto it = by_id.find(stmt.column_int(0));
      if (it != by_id.end()) it->second->metadata.emplace_back(stmt.column_text(1), stmt.column_text(2));
    }
  }
};

int CollectionStore::latest_schema_version() noexcept { return kStoreSchema.latest(); }

CollectionStore::CollectionStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CollectionStore::CollectionStore(CollectionStore&&) noexcept = default;
CollectionStore& CollectionStore::operator=(CollectionStore&&) noexcept = default;
CollectionStore::~CollectionStore() = default;

CollectionStore CollectionStore::open(const std::filesystem::path& file, const StoreOptions& opts) {
  const auto require_creation_options = [&] {
    if (opts.dim == 0) {
      throw std::invalid_argument(file.string() +
                                  ": creating a collection store needs the embedding dimension");
    }
    if (opts.embedding_model.empty()) {
      throw std::invalid_argument(file.string() + ": creating a collection store needs the embedding model");
    }
  };
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    require_creation_options();  // before anything is created
    if (file.has_parent_path()) {
      std::filesystem::create_directories(file.parent_path(), ec);
      if (ec) throw StoreError(file, "create directory " + file.parent_path().string(), ec.message());
    }
  }

  auto db = sqlite::Connection::open(file, opts.busy_timeout);
  sqlite::apply_schema(db, kStoreSchema, [&](std::int32_t from) {
    if (from != 0) return;
    require_creation_options();
    auto put = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)", "write collection metadata");
    put.bind(1, std::string_view("dim")).bind(2, static_cast<std::int64_t>(opts.dim)).run();
    put.reset();
    put.bind(1, std::string_view("embedding_model")).bind(2, std::string_view(opts.embedding_model)).run();
    put.reset();
    put.bind(1, std::string_view("revision")).bind(2, std::int64_t{0}).run();
    db.exec("INSERT INTO meta (key, value) VALUES ('created_at', " + std::string(kNow) + ")",
            "write collection metadata");
  });

  auto impl = std::make_unique<Impl>(Impl{std::move(db), 0, {}});
  const auto& conn = impl->db;
  auto read = conn.prepare("SELECT key, value FROM meta WHERE key IN ('dim', 'embedding_model')",
                           "read collection metadata");
  bool have_dim = false, have_model = false;
  while (read.step()) {
    if (read.column_text(0) == "dim") {
      const std::int64_t dim = read.column_int(1);
      if (dim <= 0) throw StoreError(file, "open", "the stored embedding dimension is not positive");
      impl->dim = static_cast<std::size_t>(dim);
      have_dim = true;
    } else {
      impl->embedding_model = read.column_text(1);
      have_model = true;
    }
  }
  if (!have_dim || !have_model) {
    throw StoreError(file, "open", "the collection's metadata has no embedding dimension or model");
  }
  if (opts.dim != 0 && opts.dim != impl->dim) {
    throw StoreError(file, "open",
                     "the collection's embedding dimension is " + std::to_string(impl->dim) + ", not " +
                         std::to_string(opts.dim));
  }
  if (!opts.embedding_model.empty() && opts.embedding_model != impl->embedding_model) {
    throw StoreError(file, "open",
                     "the collection's embedding model is '" + impl->embedding_model + "', not '" +
                         opts.embedding_model + "'");
  }
  return CollectionStore(std::move(impl));
}

const std::filesystem::path& CollectionStore::path() const noexcept { return impl_->db.path(); }
std::size_t CollectionStore::dim() const noexcept { return impl_->dim; }
const std::string& CollectionStore::embedding_model() const noexcept { return impl_->embedding_model; }

int CollectionStore::schema_version() const {
  return static_cast<int>(impl_->db.query_int("PRAGMA user_version", "read schema version"));
}

std::optional<DocumentInfo> CollectionStore::document(std::string_view source) const {
  sqlite::Transaction snapshot(impl_->db, "read document", sqlite::Lock::read);
  auto stmt = impl_->db.prepare(
      "SELECT " + std::string(kDocumentColumns) + " FROM documents WHERE source = ?", "read document");
  stmt.bind(1, source);
  if (!stmt.step()) return std::nullopt;
  std::vector<DocumentInfo> docs{read_document(stmt)};
  impl_->load_metadata(docs, docs.front().id);
  return std::move(docs.front());
}

bool CollectionStore::unchanged(std::string_view source, std::string_view content_hash) const {
  auto stmt =
      impl_->db.prepare("SELECT 1 FROM documents WHERE source = ? AND content_hash = ?", "read document");
  stmt.bind(1, source).bind(2, content_hash);
  return stmt.step();
}

PutResult CollectionStore::put_document(const DocumentInput& doc) {
  validate(doc, impl_->dim);
  const auto& db = impl_->db;
  const std::string operation = "put document '" + doc.source + "'";
  sqlite::Transaction tx(db, operation);

  const auto existing = impl_->find_id(doc.source, operation);
  if (existing) {
    for (const char* sql :
         {"DELETE FROM chunks WHERE doc_id = ?", "DELETE FROM document_meta WHERE doc_id = ?"}) {
      auto del = db.prepare(sql, operation);
      del.bind(1, *existing).run();
    }
  }
  // An upsert keeps a replaced document's id.
  auto upsert = db.prepare(
      "INSERT INTO documents (source, content_hash, title, format, bytes, chunk_count, ingested_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, " +
          std::string(kNow) +
          ") ON CONFLICT (source) DO UPDATE SET"
          " content_hash = ?2, title = ?3, format = ?4, bytes = ?5, chunk_count = ?6, ingested_at = " +
          std::string(kNow) + " RETURNING id",
      operation);
  upsert.bind(1, std::string_view(doc.source))
      .bind(2, std::string_view(doc.content_hash))
      .bind(3, std::string_view(doc.title))
      .bind(4, std::string_view(doc.format))
      .bind(5, doc.bytes)
      .bind(6, static_cast<std::int64_t>(doc.chunks.size()));
  if (!upsert.step()) throw StoreError(path(), operation, "the document's row was not written");
  const PutResult result{upsert.column_int(0), existing ? PutOutcome::replaced : PutOutcome::inserted};
  upsert.run();  // finish the statement before COMMIT

  // OR IGNORE: a pair given twice is one pair.
  auto meta =
      db.prepare("INSERT OR IGNORE INTO document_meta (doc_id, key, value) VALUES (?, ?, ?)", operation);
  for (const auto& [key, value] : doc.metadata) {
    meta.bind(1, result.doc_id).bind(2, std::string_view(key)).bind(3, std::string_view(value)).run();
    meta.reset();
  }

  auto chunk = db.prepare(
      "INSERT INTO chunks (doc_id, ordinal, text, heading_path, span_begin, span_end, tokens, "
      "embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      operation);
  std::vector<std::byte> scratch;
  for (std::size_t i = 0; i < doc.chunks.size(); ++i) {
    const ChunkInput& c = doc.chunks[i];
    chunk.bind(1, result.doc_id)
        .bind(2, static_cast<std::int64_t>(i))
        .bind(3, std::string_view(c.text))
        .bind(4, std::string_view(c.heading_path))
        .bind(5, c.begin)
        .bind(6, c.end)
        .bind(7, c.tokens)
        .bind_blob(8, embedding_bytes(c.embedding, scratch))
        .run();
    chunk.reset();
  }
  db.exec("UPDATE meta SET value = value + 1 WHERE key = 'revision'", operation);
  tx.commit();
  return result;
}

bool CollectionStore::delete_document(std::string_view source) {
  const auto& db = impl_->db;
  const std::string operation = "delete document '" + std::string(source) + "'";
  sqlite::Transaction tx(db, operation);
  auto del = db.prepare("DELETE FROM documents WHERE source = ?", operation);
  del.bind(1, source).run();
  const bool deleted = db.changes() > 0;
  if (deleted) db.exec("UPDATE meta SET value = value + 1 WHERE key = 'revision'", operation);
  tx.commit();
  return deleted;
}

std::vector<DocumentInfo> CollectionStore::documents() const {
  sqlite::Transaction snapshot(impl_->db, "list documents", sqlite::Lock::read);
  auto stmt = impl_->db.prepare("SELECT " + std::string(kDocumentColumns) + " FROM documents ORDER BY source",
                                "list documents");
  std::vector<DocumentInfo> docs;
  while (stmt.step()) docs.push_back(read_document(stmt));
  impl_->load_metadata(docs, std::nullopt);
  return docs;
}

std::int64_t CollectionStore::document_count() const {
  return impl_->db.query_int("SELECT count(*) FROM documents", "count documents");
}

std::int64_t CollectionStore::chunk_count() const {
  return impl_->db.query_int("SELECT count(*) FROM chunks", "count chunks");
}

std::int64_t CollectionStore::revision() const {
  return impl_->db.query_int("SELECT value FROM meta WHERE key = 'revision'", "read revision");
}

std::vector<Bm25Hit> CollectionStore::bm25(std::string_view query, const MetadataFilter& filter,
                                           std::size_t limit, const Bm25Weights& weights) const {
  for (double w : {weights.text, weights.heading_path}) {
    if (!std::isfinite(w) || w < 0)
      throw std::invalid_argument("bm25: column weights must be finite and >= 0");
  }
  const std::vector<std::string> terms = fts5_terms(query);
  if (terms.empty() || limit == 0) return {};
  const FilterClause clause(filter);
  // The filter is part of the WHERE clause, so ORDER BY and LIMIT rank only admitted chunks. Without
  // one the index ranks alone: joining every match to its chunk and document row would cost a lookup
  // per match, and a query of common words matches most of a collection.
  auto stmt = impl_->db.prepare(
      clause.sql().empty()
          ? std::string("SELECT rowid, -bm25(chunks_fts, ?, ?) AS score FROM chunks_fts"
                        " WHERE chunks_fts MATCH ? ORDER BY score DESC, rowid LIMIT ?")
          : "SELECT c.id, -bm25(chunks_fts, ?, ?) AS score FROM chunks_fts"
            " JOIN chunks AS c ON c.id = chunks_fts.rowid JOIN documents AS d ON d.id = c.doc_id"
            " WHERE chunks_fts MATCH ?" +
                clause.sql() + " ORDER BY score DESC, c.id LIMIT ?",
      "bm25 search");
  const auto run = [&](const std::vector<std::string>& words) {
    stmt.reset();
    stmt.bind(1, weights.text).bind(2, weights.heading_path).bind(3, std::string_view(any_of_terms(words)));
    int next = 4;
    clause.bind(stmt, next);
    const auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    stmt.bind(next, static_cast<std::int64_t>(std::min(limit, max)));
    std::vector<Bm25Hit> hits;
    while (stmt.step()) hits.push_back({stmt.column_int(0), stmt.column_double(1)});
    return hits;
  };
  // First without the words in most chunks (informative_terms); that is exact when it fills the
  // limit. Fewer hits (a filter, or few chunks with the rarer words): every word, as asked.
  if (terms.size() > 1) {
    const std::vector<std::string> informative = impl_->informative_terms(terms);
    if (informative.size() < terms.size()) {
      std::vector<Bm25Hit> hits = run(informative);
      if (hits.size() >= limit) return hits;
    }
  }
  return run(terms);
}

void CollectionStore::for_each_vector(
    const std::function<void(std::int64_t chunk_id, std::span<const float>)>& fn) const {
  auto stmt = impl_->db.prepare("SELECT id, embedding FROM chunks ORDER BY id", "read embeddings");
  std::vector<float> values(impl_->dim);
  while (stmt.step()) {
    const std::int64_t id = stmt.column_int(0);
    const auto bytes = stmt.column_blob(1);
    if (bytes.size() != values.size() * sizeof(float)) {
      throw StoreError(path(), "read embeddings",
                       "chunk " + std::to_string(id) + " has an embedding of " +
                           std::to_string(bytes.size()) + " bytes, not " +
                           std::to_string(values.size() * sizeof(float)));
    }
    decode_embedding(bytes, values);
    fn(id, values);
  }
}

std::vector<std::int64_t> CollectionStore::chunk_ids_matching(const MetadataFilter& filter) const {
  const FilterClause clause(filter);
  auto stmt =
      impl_->db.prepare("SELECT c.id FROM chunks AS c JOIN documents AS d ON d.id = c.doc_id WHERE 1" +
                            clause.sql() + " ORDER BY c.id",
                        "filter chunks");
  int next = 1;
  clause.bind(stmt, next);
  std::vector<std::int64_t> ids;
  while (stmt.step()) ids.push_back(stmt.column_int(0));
  return ids;
}

std::vector<ChunkRecord> CollectionStore::chunks(std::span<const std::int64_t> ids) const {
  sqlite::Transaction snapshot(impl_->db, "read chunks", sqlite::Lock::read);
  auto stmt = impl_->db.prepare(
      "SELECT c.id, c.doc_id, d.source, d.title, c.ordinal, c.text, c.heading_path, c.span_begin, c.span_end,"
      " c.tokens FROM chunks AS c JOIN documents AS d ON d.id = c.doc_id WHERE c.id = ?",
      "read chunks");
  std::vector<ChunkRecord> records;
  records.reserve(ids.size());
  for (const std::int64_t id : ids) {
    stmt.bind(1, id);
    if (stmt.step()) {
      records.push_back({stmt.column_int(0), stmt.column_int(1), stmt.column_text(2), stmt.column_text(3),
                         stmt.column_int(4), stmt.column_text(5), stmt.column_text(6), stmt.column_int(7),
                         stmt.column_int(8), stmt.column_int(9)});
    }
    stmt.reset();
  }
  return records;
}

bool CollectionStore::integrity_ok() const {
  try {
    auto check = impl_->db.prepare("PRAGMA integrity_check", "check integrity");
    if (!check.step() || check.column_text(0) != "ok" || check.step()) return false;
    // The FTS5 index, and (rank = 1) the index against the chunks table: integrity_check does not
    // look inside a virtual table. It fails with SQLITE_CORRUPT_VTAB when they disagree.
    impl_->db.exec("INSERT INTO chunks_fts (chunks_fts, rank) VALUES ('integrity-check', 1)",
                   "check the FTS index");
    return true;
  } catch (const StoreError& e) {
    const int primary = e.sqlite_code() & 0xff;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return false;
    throw;
  }
}

}  // namespace plinth::rag
