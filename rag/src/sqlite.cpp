#include "sqlite.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <climits>
#include <string>
#include <system_error>
#include <utility>

namespace plinth::rag::sqlite {
namespace {

std::filesystem::path file_of(sqlite3* db) {
  const char* name = db ? sqlite3_db_filename(db, "main") : nullptr;
  return name ? std::filesystem::path(name) : std::filesystem::path();
}

int checked_length(sqlite3* db, std::size_t size, std::string_view operation) {
  if (size > static_cast<std::size_t>(INT_MAX)) {
    throw StoreError(file_of(db), std::string(operation),
                     "value of " + std::to_string(size) + " bytes is too large for SQLite", SQLITE_TOOBIG);
  }
  return static_cast<int>(size);
}

}  // namespace

void fail(sqlite3* db, std::string_view operation) {
  const int code = sqlite3_extended_errcode(db);
  throw StoreError(file_of(db), std::string(operation), sqlite3_errmsg(db), code);
}

void Connection::Close::operator()(sqlite3* db) const noexcept {
  // v2: a statement still alive (there is none by construction) would defer the close, not leak it.
  sqlite3_close_v2(db);
}

Connection Connection::open(const std::filesystem::path& file, std::chrono::milliseconds busy_timeout) {
  sqlite3* raw = nullptr;
  // NOMUTEX: a Connection is used from one thread at a time (documented on the stores), so SQLite's
  // per-connection mutex would only cost. EXRESCODE: extended codes from every call.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
  std::unique_ptr<sqlite3, Close> db(raw);
  if (rc != SQLITE_OK) {
    const std::string message = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    throw StoreError(file, "open", message, rc);
  }
  Connection conn(std::move(db), file);
  sqlite3_extended_result_codes(conn.handle(), 1);
  // The busy timeout first: switching to WAL needs a lock another process may hold.
  const auto ms = std::clamp<std::chrono::milliseconds::rep>(busy_timeout.count(), 0, INT_MAX);
  sqlite3_busy_timeout(conn.handle(), static_cast<int>(ms));
  conn.exec("PRAGMA foreign_keys = ON", "enable foreign keys");
  // WAL: readers and the writer never block each other, and a crashed writer leaves the last
  // committed state. journal_mode answers the mode it ended in; anything else (a file system without
  // shared memory) would silently lose that, so it is an error.
  auto mode = conn.prepare("PRAGMA journal_mode = WAL", "enable WAL");
  if (!mode.step() || mode.column_text(0) != "wal") {
    throw StoreError(file, "enable WAL", "the database cannot use write-ahead logging");
  }
  // NORMAL is enough in WAL mode: a commit is durable against a process crash as soon as it is in
  // the WAL (the OS has it), and a power loss can lose at most the last transactions, never the
  // database's integrity (the WAL is synced at checkpoints). FULL would sync on every commit.
  conn.exec("PRAGMA synchronous = NORMAL", "set synchronous");
  return conn;
}

void Connection::exec(std::string_view sql, std::string_view operation) const {
  // sqlite3_exec wants a terminated string; the SQL is short and this is never a hot path.
  const std::string text(sql);
  if (sqlite3_exec(handle(), text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(handle(), operation);
}

Statement Connection::prepare(std::string_view sql, std::string_view operation) const {
  sqlite3_stmt* stmt = nullptr;
  const int length = checked_length(handle(), sql.size(), operation);
  if (sqlite3_prepare_v2(handle(), sql.data(), length, &stmt, nullptr) != SQLITE_OK)
    fail(handle(), operation);
  return Statement(handle(), stmt, operation);
}

std::int64_t Connection::query_int(std::string_view sql, std::string_view operation) const {
  auto stmt = prepare(sql, operation);
  if (!stmt.step()) {
    throw StoreError(path_, std::string(operation), "the query returned no row");
  }
  return stmt.column_int(0);
}

std::int64_t Connection::last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(handle()); }
std::int64_t Connection::changes() const noexcept { return sqlite3_changes64(handle()); }

void Statement::Finalize::operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, std::string_view operation)
    : db_(db), stmt_(stmt), operation_(operation) {}

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_.get(), index, value) != SQLITE_OK) fail(db_, operation_);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  if (sqlite3_bind_double(stmt_.get(), index, value) != SQLITE_OK) fail(db_, operation_);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  const int length = checked_length(db_, value.size(), operation_);
  // A non-null pointer even for "": a null one would bind NULL, not the empty string.
  const char* data = value.data() ? value.data() : "";
  if (sqlite3_bind_text(stmt_.get(), index, data, length, SQLITE_TRANSIENT) != SQLITE_OK)
    fail(db_, operation_);
  return *this;
}

Statement& Statement::bind_blob(int index, std::span<const std::byte> value) {
  const int length = checked_length(db_, value.size(), operation_);
  // sqlite3_bind_blob binds NULL for a null pointer; zeroblob keeps an empty blob a blob.
  const int rc = value.empty()
                     ? sqlite3_bind_zeroblob(stmt_.get(), index, 0)
                     : sqlite3_bind_blob(stmt_.get(), index, value.data(), length, SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_, operation_);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, operation_);
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() noexcept {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::int64_t Statement::column_int(int column) const { return sqlite3_column_int64(stmt_.get(), column); }
double Statement::column_double(int column) const { return sqlite3_column_double(stmt_.get(), column); }

std::string Statement::column_text(int column) const {
  const auto* text = sqlite3_column_text(stmt_.get(), column);
  const int size = sqlite3_column_bytes(stmt_.get(), column);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size))
              : std::string();
}

std::span<const std::byte> Statement::column_blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_.get(), column);
  const int size = sqlite3_column_bytes(stmt_.get(), column);
  if (!data) return {};
  return {static_cast<const std::byte*>(data), static_cast<std::size_t>(size)};
}

Transaction::Transaction(const Connection& db, std::string_view operation, Lock lock)
    : db_(db), operation_(operation) {
  db_.exec(lock == Lock::write ? "BEGIN IMMEDIATE" : "BEGIN", operation_);
}

Transaction::~Transaction() {
  // After a failed statement SQLite may already have rolled back; ROLLBACK then fails harmlessly.
  if (open_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT", operation_);
  open_ = false;
}

std::int32_t apply_schema(const Connection& db, const Schema& schema,
                          const std::function<void(std::int32_t from)>& after_migration) {
  const auto check = [&](std::int64_t version) {
    const std::int64_t app = db.query_int("PRAGMA application_id", "read application id");
    const std::string what(schema.what);
    if (version > schema.latest()) {
      throw StoreError(db.path(), "open",
                       "the " + what + " has schema version " + std::to_string(version) +
                           ", newer than this version of Plinth knows (" + std::to_string(schema.latest()) +
                           "); open it with a newer Plinth");
    }
    if (version == 0) {
      // Version 0 is a new database: it must be empty, or it is someone else's file.
      const std::int64_t objects = db.query_int("SELECT count(*) FROM sqlite_schema", "read schema");
      if (objects != 0 || (app != 0 && app != schema.application_id)) {
        throw StoreError(db.path(), "open",
                         "not a Plinth " + what + " (it has tables but no schema version)");
      }
    } else if (app != schema.application_id) {
      throw StoreError(db.path(), "open",
                       "not a Plinth " + what + " (application id " + std::to_string(app) + ")");
    }
  };

  const std::int64_t found = db.query_int("PRAGMA user_version", "read schema version");
  check(found);
  if (found == schema.latest()) return static_cast<std::int32_t>(found);

  Transaction tx(db, "migrate schema");
  // Another connection may have migrated between the read above and the write lock.
  const std::int64_t from = db.query_int("PRAGMA user_version", "read schema version");
  check(from);
  for (auto v = from; v < schema.latest(); ++v) {
    db.exec(schema.steps[static_cast<std::size_t>(v)],
            "migrate schema " + std::to_string(v) + " -> " + std::to_string(v + 1));
  }
  if (from < schema.latest()) {
    db.exec("PRAGMA application_id = " + std::to_string(schema.application_id), "set application id");
    db.exec("PRAGMA user_version = " + std::to_string(schema.latest()), "set schema version");
    after_migration(static_cast<std::int32_t>(from));
  }
  tx.commit();
  return static_cast<std::int32_t>(from);
}

}  // namespace plinth::rag::sqlite
