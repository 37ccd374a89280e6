// Helpers shared by the rag store tests: a scratch directory, documents and chunks of a given shape,
// and raw SQLite access for what the store's API deliberately does not offer.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "plinth/rag/store.hpp"

namespace plinth::rag::test {

// A fresh directory under the temporary directory, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "plinth-rag-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// An embedding of `dim` values derived from `seed`.
inline std::vector<float> embedding(std::size_t dim, float seed) {
  std::vector<float> v(dim);
  for (std::size_t i = 0; i < dim; ++i) v[i] = seed + 0.25f * static_cast<float>(i);
  return v;
}

inline ChunkInput chunk(std::string text, std::size_t dim, std::string heading = "", std::int64_t begin = 0) {
  ChunkInput c;
  c.begin = begin;
  c.end = begin + static_cast<std::int64_t>(text.size());
  c.tokens = static_cast<std::int64_t>(text.size() / 4);
  c.embedding = embedding(dim, static_cast<float>(text.size()));
  c.text = std::move(text);
  c.heading_path = std::move(heading);
  return c;
}

// A document whose chunks have the given texts, laid end to end.
inline DocumentInput document(std::string source, const std::vector<std::string>& texts, std::size_t dim,
                              MetadataPairs metadata = {}) {
  DocumentInput doc;
  doc.source = std::move(source);
  doc.content_hash = "hash-of-" + doc.source;
  doc.title = "Title of " + doc.source;
  doc.format = "text";
  doc.metadata = std::move(metadata);
  std::int64_t at = 0;
  for (const auto& t : texts) {
    doc.chunks.push_back(chunk(t, dim, "", at));
    at += static_cast<std::int64_t>(t.size());
  }
  doc.bytes = at;
  return doc;
}

// A raw connection to a database file, for tests that must look under the store's API.
struct SqliteClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using RawDb = std::unique_ptr<sqlite3, SqliteClose>;

inline RawDb raw_open(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open(file.c_str(), &db);
  RawDb owned(db);
  EXPECT_EQ(rc, SQLITE_OK) << file;
  return owned;
}

// Runs `sql`; "" on success, else SQLite's message.
inline std::string raw_exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return "";
  std::string message = error ? error : "error";
  sqlite3_free(error);
  return message;
}

// The single text `sql` answers ("" when no row).
inline std::string raw_text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string value;
  if (sqlite3_step(stmt) == SQLITE_ROW) value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  return value;
}

// The single integer `sql` answers.
inline std::int64_t raw_int(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::int64_t value = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return value;
}

}  // namespace plinth::rag::test
