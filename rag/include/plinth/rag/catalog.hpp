// Catalog: the RAG collections and who may see them, under one configured root directory.
//
//   root/catalog.sqlite           the catalog (WAL, versioned like the stores): each collection's
//                                 owner tenant, name, embedding dimension and model, and its shares
//   root/<owner>/<name>.sqlite    each collection's CollectionStore
//
// A tenant's data is all under root/<tenant>/, so a deployment can pin it to a volume (data
// residency) by mounting that directory. Tenant and collection names are 1-64 characters from
// A-Z a-z 0-9 _ . - starting with a letter or digit, without "..", so a name can never reach outside
// its directory.
//
// Visibility: a tenant sees its own collections and those shared with it; nothing else. resolve()
// answers a collection that does not exist and one that exists but is not visible with the same
// error, so a tenant cannot probe other tenants' collection names. The catalog trusts its caller for
// who the tenant is (the server's API key check); share() and drop() act as `owner`.
//
// The catalog is the truth: a store file without a catalog row is an orphan (left by a crash between
// a drop's commit and the file's removal, or during a create) and is replaced by the next create of
// that name, never adopted.
//
// A Catalog is one connection: use it from one thread at a time (open one per thread). Drop a
// collection only while no CollectionStore of it is open: an open one would go on writing to the
// removed file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/rag/store.hpp"

namespace plinth::rag {

class CatalogError : public std::runtime_error {
 public:
  enum class Kind {
    invalid_name,      // a tenant or collection name, or a reference, that is not allowed
    invalid_argument,  // dim 0, no model, sharing with the owner
    not_found,         // no such collection visible to the tenant (or owned by it, for changes)
    already_exists,    // create() of a name the owner already has
  };
  CatalogError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

// Whether `name` is a valid tenant or collection name (see above).
bool is_valid_name(std::string_view name) noexcept;

struct CollectionInfo {
  std::string owner, name;
  std::size_t dim = 0;
  std::string embedding_model;
  std::string created_at;  // UTC, ISO 8601
  std::filesystem::path store_path;

  // "owner/name": the reference that resolves it for any tenant that can see it.
  std::string ref() const { return owner + "/" + name; }
};

class Catalog {
 public:
  // The catalog file's name under the root; no tenant may be called like it or its WAL files.
  static constexpr std::string_view kFileName = "catalog.sqlite";

  // Opens root/catalog.sqlite, creating the root and the catalog when absent. StoreError when the
  // catalog cannot be opened or is newer than this code.
  static Catalog open(const std::filesystem::path& root);

  Catalog(Catalog&&) noexcept;
  Catalog& operator=(Catalog&&) noexcept;
  ~Catalog();

  const std::filesystem::path& root() const noexcept;

  // Registers the collection and creates its empty store. CatalogError: invalid_name, invalid_argument
  // (dim 0, empty model), already_exists.
  CollectionInfo create(std::string_view owner, std::string_view name, std::size_t dim,
                        std::string_view embedding_model);
  // Removes the collection, its shares and its store file (with -wal and -shm). not_found when
  // `owner` has no such collection. The tenant's directory stays (it may be a mount point).
  void drop(std::string_view owner, std::string_view name);
  // Makes `owner`'s collection visible to `tenant`; false if it already was. CatalogError:
  // not_found, invalid_name, invalid_argument (tenant == owner).
  bool share(std::string_view owner, std::string_view name, std::string_view tenant);
  // Withdraws a share; false if there was none. not_found when `owner` has no such collection.
  bool unshare(std::string_view owner, std::string_view name, std::string_view tenant);
  // The tenants `owner`'s collection is shared with, sorted. not_found as above.
  std::vector<std::string> shares(std::string_view owner, std::string_view name) const;

  // The collections `tenant` can see: its own (by name), then those shared with it (by owner, name).
  std::vector<CollectionInfo> visible_to(std::string_view tenant) const;
  // The collection `ref` names for `tenant`: "name" (the tenant's own) or "owner/name" (its own or
  // shared with it). CatalogError not_found, with the same message whether the collection does not
  // exist or is not visible; invalid_name for a malformed reference.
  CollectionInfo resolve(std::string_view tenant, std::string_view ref) const;
  // Opens the collection's store, checking its dimension and model against the catalog's.
  CollectionStore open_store(const CollectionInfo& info) const;

 private:
  struct Impl;
  explicit Catalog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth::rag
