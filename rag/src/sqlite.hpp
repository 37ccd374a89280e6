// A thin RAII layer over SQLite's C API for the RAG stores: a connection, a prepared statement and a
// transaction guard. Every failing call throws StoreError naming the database file, the operation
// and sqlite3_errmsg. Private to plinth_rag_store.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "plinth/rag/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace plinth::rag::sqlite {

// Throws StoreError for the database `db` (its file name, the operation, sqlite3_errmsg and the
// extended result code).
[[noreturn]] void fail(sqlite3* db, std::string_view operation);

class Statement;

// One open database file in WAL mode. Move-only; closing happens in the destructor.
class Connection {
 public:
  // Opens (creating if absent) `file` read-write and sets the pragmas every Plinth database uses:
  // journal_mode=WAL, synchronous=NORMAL, foreign_keys=ON, and `busy_timeout`: how long a write
  // waits for another connection's lock before failing with SQLITE_BUSY.
  static Connection open(const std::filesystem::path& file, std::chrono::milliseconds busy_timeout);

  // Runs one or more statements without results (DDL, pragmas, BEGIN/COMMIT).
  void exec(std::string_view sql, std::string_view operation) const;
  Statement prepare(std::string_view sql, std::string_view operation) const;
  // The integer a single-row query answers (e.g. PRAGMA user_version).
  std::int64_t query_int(std::string_view sql, std::string_view operation) const;

  std::int64_t last_insert_rowid() const noexcept;
  // Rows changed by the most recent INSERT, UPDATE or DELETE.
  std::int64_t changes() const noexcept;
  const std::filesystem::path& path() const noexcept { return path_; }
  sqlite3* handle() const noexcept { return db_.get(); }

 private:
  struct Close {
    void operator()(sqlite3* db) const noexcept;
  };
  Connection(std::unique_ptr<sqlite3, Close> db, std::filesystem::path path)
      : db_(std::move(db)), path_(std::move(path)) {}

  std::unique_ptr<sqlite3, Close> db_;
  std::filesystem::path path_;
};

// A prepared statement. Parameters are 1-based as in SQLite; columns 0-based. Text and blob
// parameters are copied by SQLite (SQLITE_TRANSIENT), so the caller's buffers need not outlive it.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string_view operation);

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind_blob(int index, std::span<const std::byte> value);

  // Advances: true while a row is available, false once done. Errors throw.
  bool step();
  // Runs a statement that returns no rows.
  void run();
  // Makes the statement runnable again with new bindings (the old ones are cleared).
  void reset() noexcept;

  std::int64_t column_int(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;
  // Valid until the next step() or reset().
  std::span<const std::byte> column_blob(int column) const;

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const noexcept;
  };
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
  std::string operation_;
};

enum class Lock {
  // BEGIN (deferred): a consistent snapshot for several reads; WAL never blocks it.
  read,
  // BEGIN IMMEDIATE: the write lock up front, so two writers never deadlock upgrading read locks
  // (one waits for the other within the busy timeout).
  write,
};

// A transaction: begun on construction, rolled back in the destructor unless commit() ran, so a
// write that throws half-way leaves the database exactly as it was.
class Transaction {
 public:
  Transaction(const Connection& db, std::string_view operation, Lock lock = Lock::write);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  const Connection& db_;
  std::string operation_;
  bool open_ = true;
};

// A versioned schema: step i (0-based) migrates user_version i to i + 1. Steps are append-only: a
// released step is never edited, a change of schema is a new step.
struct Schema {
  std::string_view what;        // "collection store", "catalog": for messages
  std::int32_t application_id;  // PRAGMA application_id: marks the file as ours
  std::span<const std::string_view> steps;
  std::int32_t latest() const noexcept { return static_cast<std::int32_t>(steps.size()); }
};

// Checks that `db` is a database of `schema` (or a new, empty one) and brings it to
// schema.latest(); returns the version found. The steps run in one IMMEDIATE transaction, together
// with `after_migration(from)`, so a new database gets its first rows atomically with its tables and
// a failed migration leaves the file as it was. Throws StoreError for a database newer than the code
// (naming both versions), one marked by another application, and a non-empty database without a
// version.
std::int32_t apply_schema(const Connection& db, const Schema& schema,
                          const std::function<void(std::int32_t from)>& after_migration);

}  // namespace plinth::rag::sqlite
