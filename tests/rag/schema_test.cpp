// The private SQLite layer under the stores: versioned migrations (several steps, one transaction),
// the transaction guard, and the errors.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <array>
#include <string>
#include <vector>

#include "sqlite.hpp"
#include "store_test_support.hpp"

namespace plinth::rag::sqlite {
namespace {

using test::raw_int;
using test::raw_open;

constexpr std::int32_t kAppId = 0x54455354;  // "TEST"
constexpr std::array<std::string_view, 2> kTwoSteps = {
    "CREATE TABLE items (x INTEGER)",
    "ALTER TABLE items ADD COLUMN y TEXT; CREATE TABLE more (z)",
};
constexpr Schema kV1{"test database", kAppId, std::span(kTwoSteps).first(1)};
constexpr Schema kV2{"test database", kAppId, kTwoSteps};

class SchemaTest : public ::testing::Test {
 protected:
  Connection connect() const {
    return Connection::open(dir_.path() / "db.sqlite", std::chrono::milliseconds(100));
  }

  // apply_schema, recording the versions after_migration saw.
  std::int32_t apply(const Connection& db, const Schema& schema) {
    return apply_schema(db, schema, [&](std::int32_t from) { migrated_from_.push_back(from); });
  }

  test::TempDir dir_;
  std::vector<std::int32_t> migrated_from_;
};

TEST_F(SchemaTest, ANewDatabaseRunsEveryStepOnce) {
  const auto db = connect();
  EXPECT_EQ(apply(db, kV2), 0);
  EXPECT_EQ(db.query_int("PRAGMA user_version", "test"), 2);
  EXPECT_EQ(db.query_int("PRAGMA application_id", "test"), kAppId);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM sqlite_schema WHERE name IN ('items', 'more')", "test"), 2);
  EXPECT_EQ(apply(db, kV2), 2) << "already current";
  EXPECT_EQ(migrated_from_, std::vector<std::int32_t>{0});
}

TEST_F(SchemaTest, AnOlderDatabaseRunsOnlyTheMissingSteps) {
  {
    const auto db = connect();
    EXPECT_EQ(apply(db, kV1), 0);
    db.exec("INSERT INTO items (x) VALUES (7)", "test");
  }
  const auto db = connect();
  EXPECT_EQ(apply(db, kV2), 1);
  EXPECT_EQ(db.query_int("PRAGMA user_version", "test"), 2);
  EXPECT_EQ(db.query_int("SELECT x FROM items WHERE y IS NULL", "test"), 7) << "data survives the migration";
  EXPECT_EQ(migrated_from_, (std::vector<std::int32_t>{0, 1}));
}

TEST_F(SchemaTest, AFailedMigrationLeavesTheDatabaseAsItWas) {
  constexpr std::array<std::string_view, 2> broken = {"CREATE TABLE items (x)", "CREATE TABLE items (x)"};
  const auto db = connect();
  EXPECT_THROW(apply(db, Schema{"test database", kAppId, broken}), StoreError);
  EXPECT_EQ(db.query_int("PRAGMA user_version", "test"), 0);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM sqlite_schema", "test"), 0) << "step 1 was not rolled back";

  // A failing after_migration rolls the steps back too.
  EXPECT_THROW(apply_schema(db, kV2, [](std::int32_t) { throw std::runtime_error("no"); }),
               std::runtime_error);
  EXPECT_EQ(db.query_int("PRAGMA user_version", "test"), 0);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM sqlite_schema", "test"), 0);
}

TEST_F(SchemaTest, ANewerOrForeignDatabaseIsRefused) {
  {
    const auto db = connect();
    apply(db, kV2);
  }
  try {
    apply(connect(), kV1);
    FAIL() << "a newer database was accepted";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("the test database has schema version 2, newer than this version of "
                                         "Plinth knows (1)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(apply(connect(), Schema{"other database", kAppId + 1, kTwoSteps}), StoreError);
}

TEST_F(SchemaTest, TheTransactionGuardRollsBackUnlessCommitted) {
  const auto db = connect();
  apply(db, kV2);
  {
    Transaction tx(db, "test");
    db.exec("INSERT INTO items (x) VALUES (1)", "test");
  }
  EXPECT_EQ(db.query_int("SELECT count(*) FROM items", "test"), 0);
  {
    Transaction tx(db, "test");
    db.exec("INSERT INTO items (x) VALUES (2)", "test");
    tx.commit();
  }
  EXPECT_EQ(db.query_int("SELECT count(*) FROM items", "test"), 1);
  auto raw = raw_open(dir_.path() / "db.sqlite");
  EXPECT_EQ(raw_int(raw.get(), "SELECT x FROM items"), 2) << "another connection sees the commit";
}

TEST_F(SchemaTest, AWriterWaitsForTheBusyTimeoutThenFailsWithSqliteBusy) {
  const auto first = connect();
  const auto second = connect();
  apply(first, kV2);
  Transaction holding(first, "hold the write lock");
  try {
    Transaction blocked(second, "second writer");
    FAIL() << "two writers at once";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.sqlite_code() & 0xff, SQLITE_BUSY);
    EXPECT_EQ(e.operation(), "second writer");
  }
  // Readers are not blocked by the writer (WAL).
  EXPECT_EQ(second.query_int("SELECT count(*) FROM items", "read while writing"), 0);
}

TEST_F(SchemaTest, ErrorsNameTheFileTheOperationAndSqlitesMessage) {
  const auto db = connect();
  try {
    db.prepare("SELECT * FROM no_such_table", "read the missing table");
    FAIL() << "prepared a statement on a missing table";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.file().filename(), "db.sqlite");
    EXPECT_EQ(e.operation(), "read the missing table");
    EXPECT_EQ(e.sqlite_code(), SQLITE_ERROR);
    EXPECT_NE(std::string(e.what()).find("db.sqlite: read the missing table: no such table: no_such_table"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace plinth::rag::sqlite
