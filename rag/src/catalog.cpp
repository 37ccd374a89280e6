#include "plinth/rag/catalog.hpp"

#include <array>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "sqlite.hpp"

namespace plinth::rag {
namespace {

// PRAGMA application_id of a catalog: "PLCT".
constexpr std::int32_t kCatalogApplicationId = 0x504C4354;

// Version 1. AUTOINCREMENT: a share row can never come to mean a later collection of the same id.
constexpr std::string_view kCatalogSchemaV1 = R"sql(
CREATE TABLE collections (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  owner           TEXT NOT NULL,
  name            TEXT NOT NULL,
  dim             INTEGER NOT NULL CHECK (dim > 0),
  embedding_model TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  UNIQUE (owner, name)
);

CREATE TABLE shares (
  collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  tenant        TEXT NOT NULL,
  PRIMARY KEY (collection_id, tenant)
) WITHOUT ROWID;
CREATE INDEX shares_by_tenant ON shares (tenant);
)sql";

constexpr std::array<std::string_view, 1> kCatalogSteps = {kCatalogSchemaV1};
constexpr sqlite::Schema kCatalogSchema{"catalog", kCatalogApplicationId, kCatalogSteps};

constexpr std::size_t kMaxNameLength = 64;
// The files SQLite keeps beside a database.
constexpr std::array<std::string_view, 4> kDatabaseFileSuffixes = {"", "-wal", "-shm", "-journal"};

void require_name(std::string_view what, std::string_view name) {
  if (!is_valid_name(name)) {
    throw CatalogError(
        CatalogError::Kind::invalid_name,
        std::string(what) + " name '" + std::string(name) +
            "' is not allowed: 1-64 characters from A-Z a-z 0-9 _ . - starting with a letter or "
            "digit, without '..'");
  }
}

void require_tenant(std::string_view tenant) {
  require_name("tenant", tenant);
  // root/<tenant>/ must not be the catalog's own file.
  for (const auto suffix : kDatabaseFileSuffixes) {
    if (tenant == std::string(Catalog::kFileName) + std::string(suffix)) {
      throw CatalogError(CatalogError::Kind::invalid_name,
                         "tenant name '" + std::string(tenant) + "' is reserved for the catalog's file");
    }
  }
}

std::string not_found(std::string_view ref) { return "collection '" + std::string(ref) + "' not found"; }

// Removes the store file and SQLite's files beside it (those absent are fine); the first failure.
std::error_code remove_store_files(const std::filesystem::path& path) {
  std::error_code first;
  for (const auto suffix : kDatabaseFileSuffixes) {
    std::filesystem::path file = path;
    file += std::string(suffix);
    std::error_code ec;
    std::filesystem::remove(file, ec);
    if (ec && !first) first = ec;
  }
  return first;
}

void remove_store_files_or_throw(const std::filesystem::path& path, std::string_view operation) {
  if (const auto ec = remove_store_files(path)) {
    throw StoreError(path, std::string(operation), "cannot remove the store's files: " + ec.message());
  }
}

}  // namespace

bool is_valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  const auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front())) return false;
  for (char c : name) {
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return name.find("..") == std::string_view::npos;
}

struct Catalog::Impl {
  std::filesystem::path root;
  sqlite::Connection db;

  std::filesystem::path store_path(std::string_view owner, std::string_view name) const {
    return root / std::string(owner) / (std::string(name) + ".sqlite");
  }

  static constexpr std::string_view kColumns = "c.owner, c.name, c.dim, c.embedding_model, c.created_at";

  CollectionInfo read(const sqlite::Statement& row) const {
    CollectionInfo info;
    info.owner = row.column_text(0);
    info.name = row.column_text(1);
    info.dim = static_cast<std::size_t>(row.column_int(2));
    info.embedding_model = row.column_text(3);
    info.created_at = row.column_text(4);
    info.store_path = store_path(info.owner, info.name);
    return info;
  }

  std::optional<std::int64_t> find_id(std::string_view owner, std::string_view name,
                                      std::string_view operation) const {
    auto stmt = db.prepare("SELECT id FROM collections WHERE owner = ? AND name = ?", operation);
    stmt.bind(1, owner).bind(2, name);
    if (!stmt.step()) return std::nullopt;
    return stmt.column_int(0);
  }

  // Runs `sql` (collection id, tenant) on the share of `owner`'s collection with `tenant`; whether it
  // changed a row.
  bool change_share(std::string_view verb, std::string_view sql, std::string_view owner,
                    std::string_view name, std::string_view tenant) {
    const std::string operation = std::string(verb) + " collection '" + std::string(owner) + "/" +
                                  std::string(name) + "' with '" + std::string(tenant) + "'";
    require_tenant(tenant);
    sqlite::Transaction tx(db, operation);
    const std::int64_t id = owned_id(owner, name, operation);
    auto stmt = db.prepare(sql, operation);
    stmt.bind(1, id).bind(2, tenant).run();
    const bool changed = db.changes() > 0;
    tx.commit();
    return changed;
  }

  // The id of `owner`'s collection `name`; CatalogError not_found when there is none.
  std::int64_t owned_id(std::string_view owner, std::string_view name, std::string_view operation) const {
    require_tenant(owner);
    require_name("collection", name);
    const auto id = find_id(owner, name, operation);
    if (!id) {
      throw CatalogError(CatalogError::Kind::not_found,
                         not_found(std::string(owner) + "/" + std::string(name)));
    }
    return *id;
  }
};

Catalog::Catalog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Catalog::Catalog(Catalog&&) noexcept = default;
Catalog& Catalog::operator=(Catalog&&) noexcept = default;
Catalog::~Catalog() = default;

Catalog Catalog::open(const std::filesystem::path& root) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) throw StoreError(root, "create the catalog's root", ec.message());
  const auto file = root / std::string(kFileName);
  auto db = sqlite::Connection::open(file, kDefaultBusyTimeout);
  sqlite::apply_schema(db, kCatalogSchema, [](std::int32_t) {});
  return Catalog(std::make_unique<Impl>(Impl{root, std::move(db)}));
}

const std::filesystem::path& Catalog::root() const noexcept { return impl_->root; }

CollectionInfo Catalog::create(std::string_view owner, std::string_view name, std::size_t dim,
                               std::string_view embedding_model) {
  require_tenant(owner);
  require_name("collection", name);
  const std::string ref = std::string(owner) + "/" + std::string(name);
  if (dim == 0) {
    throw CatalogError(CatalogError::Kind::invalid_argument, "collection '" + ref + "': the dimension is 0");
  }
  if (embedding_model.empty()) {
    throw CatalogError(CatalogError::Kind::invalid_argument, "collection '" + ref + "': no embedding model");
  }
  const auto& db = impl_->db;
  const std::string operation = "create collection '" + ref + "'";
  sqlite::Transaction tx(db, operation);
  if (impl_->find_id(owner, name, operation)) {
    throw CatalogError(CatalogError::Kind::already_exists, "collection '" + ref + "' already exists");
  }
  auto insert = db.prepare(
      "INSERT INTO collections (owner, name, dim, embedding_model, created_at)"
      " VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
      " RETURNING owner, name, dim, embedding_model, created_at",
      operation);
  insert.bind(1, owner).bind(2, name).bind(3, static_cast<std::int64_t>(dim)).bind(4, embedding_model);
  if (!insert.step()) throw StoreError(db.path(), operation, "the insert returned no row");
  CollectionInfo info = impl_->read(insert);
  insert.run();  // finish the statement before COMMIT

  // No row existed, so a file there is an orphan: the new collection starts empty, never with it.
  remove_store_files_or_throw(info.store_path, operation);
  try {
    CollectionStore::open(info.store_path, {.dim = dim, .embedding_model = info.embedding_model});
    tx.commit();
  } catch (...) {
    remove_store_files(info.store_path);  // best effort: an orphan left here is replaced by the next create
    throw;
  }
  return info;
}

void Catalog::drop(std::string_view owner, std::string_view name) {
  const auto& db = impl_->db;
  const std::string operation = "drop collection '" + std::string(owner) + "/" + std::string(name) + "'";
  sqlite::Transaction tx(db, operation);
  const std::int64_t id = impl_->owned_id(owner, name, operation);
  auto del = db.prepare("DELETE FROM collections WHERE id = ?", operation);  // shares by cascade
  del.bind(1, id).run();
  tx.commit();
  // After the commit: a crash in between leaves an orphan file, which create() replaces.
  remove_store_files_or_throw(impl_->store_path(owner, name), operation);
}

bool Catalog::share(std::string_view owner, std::string_view name, std::string_view tenant) {
  if (tenant == owner) {
    throw CatalogError(CatalogError::Kind::invalid_argument,
                       "collection '" + std::string(owner) + "/" + std::string(name) +
                           "' cannot be shared with its owner, who always sees it");
  }
  return impl_->change_share("share", "INSERT OR IGNORE INTO shares (collection_id, tenant) VALUES (?, ?)",
                             owner, name, tenant);
}

bool Catalog::unshare(std::string_view owner, std::string_view name, std::string_view tenant) {
  return impl_->change_share("unshare", "DELETE FROM shares WHERE collection_id = ? AND tenant = ?", owner,
                             name, tenant);
}

std::vector<std::string> Catalog::shares(std::string_view owner, std::string_view name) const {
  const std::string operation = "list shares";
  sqlite::Transaction snapshot(impl_->db, operation, sqlite::Lock::read);
  const std::int64_t id = impl_->owned_id(owner, name, operation);
  auto stmt =
      impl_->db.prepare("SELECT tenant FROM shares WHERE collection_id = ? ORDER BY tenant", operation);
  stmt.bind(1, id);
  std::vector<std::string> tenants;
  while (stmt.step()) tenants.push_back(stmt.column_text(0));
  return tenants;
}

std::vector<CollectionInfo> Catalog::visible_to(std::string_view tenant) const {
  require_tenant(tenant);
  auto stmt = impl_->db.prepare("SELECT " + std::string(Impl::kColumns) +
                                    " FROM collections AS c WHERE c.owner = ?1"
                                    " OR c.id IN (SELECT collection_id FROM shares WHERE tenant = ?1)"
                                    " ORDER BY c.owner <> ?1, c.owner, c.name",
                                "list collections");
  stmt.bind(1, tenant);
  std::vector<CollectionInfo> infos;
  while (stmt.step()) infos.push_back(impl_->read(stmt));
  return infos;
}

CollectionInfo Catalog::resolve(std::string_view tenant, std::string_view ref) const {
  require_tenant(tenant);
  std::string_view owner = tenant;
  std::string_view name = ref;
  if (const auto slash = ref.find('/'); slash != std::string_view::npos) {
    owner = ref.substr(0, slash);
    name = ref.substr(slash + 1);
  }
  if (!is_valid_name(owner) || !is_valid_name(name)) {
    throw CatalogError(CatalogError::Kind::invalid_name,
                       "collection reference '" + std::string(ref) + "' is not 'name' or 'owner/name'");
  }
  // Existence and visibility in one query: both misses are the same empty answer.
  auto stmt = impl_->db.prepare(
      "SELECT " + std::string(Impl::kColumns) +
          " FROM collections AS c WHERE c.owner = ?1 AND c.name = ?2 AND (c.owner = ?3"
          " OR EXISTS (SELECT 1 FROM shares AS s WHERE s.collection_id = c.id AND s.tenant = ?3))",
      "resolve collection");
  stmt.bind(1, owner).bind(2, name).bind(3, tenant);
  if (!stmt.step()) throw CatalogError(CatalogError::Kind::not_found, not_found(ref));
  return impl_->read(stmt);
}

CollectionStore Catalog::open_store(const CollectionInfo& info) const {
  return CollectionStore::open(info.store_path, {.dim = info.dim, .embedding_model = info.embedding_model});
}

}  // namespace plinth::rag
