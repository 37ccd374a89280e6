// Catalog: names that cannot leave the root, collections per tenant, shares and visibility, resolve's
// single not-found answer, and drop removing the files.
#include "plinth/rag/catalog.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "store_test_support.hpp"

namespace plinth::rag {
namespace {

using test::document;

constexpr std::size_t kDim = 4;
const std::string kModel = "embedder";

class CatalogTest : public ::testing::Test {
 protected:
  CatalogTest() : catalog_(Catalog::open(root())) {}

  std::filesystem::path root() const { return dir_.path() / "rag"; }

  static std::vector<std::string> refs(const std::vector<CollectionInfo>& infos) {
    std::vector<std::string> out;
    for (const auto& i : infos) out.push_back(i.ref());
    return out;
  }

  // The CatalogError `fn` throws (kind and message), or a failure.
  template <typename Fn>
  static std::pair<CatalogError::Kind, std::string> error_of(Fn&& fn) {
    try {
      fn();
    } catch (const CatalogError& e) {
      return {e.kind(), e.what()};
    }
    ADD_FAILURE() << "no CatalogError";
    return {CatalogError::Kind::invalid_argument, ""};
  }

  test::TempDir dir_;
  Catalog catalog_;
};

TEST(CatalogNameTest, OnlyNamesThatStayInTheirDirectoryAreValid) {
  for (const std::string& name :
       std::vector<std::string>{"a", "Acme", "acme-1", "a.b_c", "0day", std::string(64, 'x')}) {
    EXPECT_TRUE(is_valid_name(name)) << name;
  }
  for (const std::string& name :
       std::vector<std::string>{"", "..", "../x", "a/b", "a\\b", "a..b", ".hidden", "-x", "_x", "a b", "über",
                                "x\n", std::string(65, 'x'), std::string("a\0b", 3)}) {
    EXPECT_FALSE(is_valid_name(name)) << name;
  }
}

TEST_F(CatalogTest, OpenCreatesTheRootAndTheCatalog) {
  EXPECT_TRUE(std::filesystem::exists(root() / "catalog.sqlite"));
  EXPECT_EQ(catalog_.root(), root());
  EXPECT_TRUE(catalog_.visible_to("acme").empty());
}

TEST_F(CatalogTest, BadNamesAreRejectedAndNothingIsWritten) {
  for (const std::string& bad : std::vector<std::string>{"../x", "a/b", "", std::string(65, 'n'), ".."}) {
    EXPECT_EQ(error_of([&] { catalog_.create(bad, "docs", kDim, kModel); }).first,
              CatalogError::Kind::invalid_name)
        << bad;
    EXPECT_EQ(error_of([&] { catalog_.create("acme", bad, kDim, kModel); }).first,
              CatalogError::Kind::invalid_name)
        << bad;
  }
  const auto [kind, message] = error_of([&] { catalog_.create("acme", "../../escape", kDim, kModel); });
  EXPECT_NE(message.find("collection name '../../escape' is not allowed"), std::string::npos) << message;
  EXPECT_EQ(error_of([&] { catalog_.create("catalog.sqlite", "docs", kDim, kModel); }).first,
            CatalogError::Kind::invalid_name)
      << "a tenant directory may not be the catalog's file";
  EXPECT_EQ(std::vector<std::filesystem::path>(std::filesystem::directory_iterator(dir_.path()), {}),
            std::vector<std::filesystem::path>{root()});
  EXPECT_TRUE(catalog_.visible_to("acme").empty());
}

TEST_F(CatalogTest, CreateRegistersTheCollectionAndItsEmptyStore) {
  const auto info = catalog_.create("acme", "docs", kDim, kModel);
  EXPECT_EQ(info.owner, "acme");
  EXPECT_EQ(info.name, "docs");
  EXPECT_EQ(info.ref(), "acme/docs");
  EXPECT_EQ(info.dim, kDim);
  EXPECT_EQ(info.embedding_model, kModel);
  EXPECT_FALSE(info.created_at.empty());
  EXPECT_EQ(info.store_path, root() / "acme" / "docs.sqlite");
  EXPECT_TRUE(std::filesystem::exists(info.store_path));

  auto store = catalog_.open_store(info);
  EXPECT_EQ(store.dim(), kDim);
  EXPECT_EQ(store.embedding_model(), kModel);
  EXPECT_EQ(store.document_count(), 0);

  EXPECT_EQ(error_of([&] { catalog_.create("acme", "docs", kDim, kModel); }).first,
            CatalogError::Kind::already_exists);
  EXPECT_EQ(error_of([&] { catalog_.create("acme", "zero", 0, kModel); }).first,
            CatalogError::Kind::invalid_argument);
  EXPECT_EQ(error_of([&] { catalog_.create("acme", "nomodel", kDim, ""); }).first,
            CatalogError::Kind::invalid_argument);
  EXPECT_EQ(refs(catalog_.visible_to("acme")), std::vector<std::string>{"acme/docs"});
}

TEST_F(CatalogTest, TwoTenantsWithTheSameCollectionNameAreDistinct) {
  const auto acme = catalog_.create("acme", "docs", kDim, kModel);
  const auto bob = catalog_.create("bob", "docs", 8, "other");
  EXPECT_NE(acme.store_path, bob.store_path);
  catalog_.open_store(acme).put_document(document("secret.txt", {"acme's secret"}, kDim));

  EXPECT_EQ(catalog_.open_store(bob).document_count(), 0);
  EXPECT_EQ(catalog_.resolve("bob", "docs").owner, "bob");
  EXPECT_EQ(catalog_.resolve("bob", "docs").dim, 8u);
  EXPECT_EQ(catalog_.resolve("acme", "docs").owner, "acme");
  EXPECT_EQ(catalog_.resolve("acme", "acme/docs").store_path, acme.store_path);
  EXPECT_EQ(error_of([&] { catalog_.resolve("bob", "acme/docs"); }).first, CatalogError::Kind::not_found);
}

TEST_F(CatalogTest, SharesMakeACollectionVisibleToAnotherTenant) {
  catalog_.create("acme", "docs", kDim, kModel);
  catalog_.create("bob", "notes", kDim, kModel);
  catalog_.create("zed", "wiki", kDim, kModel);
  EXPECT_EQ(refs(catalog_.visible_to("bob")), std::vector<std::string>{"bob/notes"});

  EXPECT_TRUE(catalog_.share("acme", "docs", "bob"));
  EXPECT_FALSE(catalog_.share("acme", "docs", "bob"));
  EXPECT_TRUE(catalog_.share("zed", "wiki", "bob"));
  EXPECT_TRUE(catalog_.share("acme", "docs", "carol"));
  EXPECT_EQ(catalog_.shares("acme", "docs"), (std::vector<std::string>{"bob", "carol"}));
  // Own first, then shared ones by owner.
  EXPECT_EQ(refs(catalog_.visible_to("bob")),
            (std::vector<std::string>{"bob/notes", "acme/docs", "zed/wiki"}));
  EXPECT_EQ(refs(catalog_.visible_to("acme")), std::vector<std::string>{"acme/docs"});
  EXPECT_EQ(catalog_.resolve("bob", "acme/docs").ref(), "acme/docs");
  EXPECT_EQ(error_of([&] { catalog_.resolve("bob", "docs"); }).first, CatalogError::Kind::not_found)
      << "a bare name is the tenant's own collection";

  EXPECT_TRUE(catalog_.unshare("acme", "docs", "bob"));
  EXPECT_FALSE(catalog_.unshare("acme", "docs", "bob"));
  EXPECT_EQ(error_of([&] { catalog_.resolve("bob", "acme/docs"); }).first, CatalogError::Kind::not_found);
  EXPECT_EQ(refs(catalog_.visible_to("bob")), (std::vector<std::string>{"bob/notes", "zed/wiki"}));
  EXPECT_EQ(catalog_.shares("acme", "docs"), std::vector<std::string>{"carol"});
}

TEST_F(CatalogTest, OnlyTheOwnerCanShareAndNotWithItself) {
  catalog_.create("acme", "docs", kDim, kModel);
  catalog_.share("acme", "docs", "bob");
  EXPECT_EQ(error_of([&] { catalog_.share("bob", "docs", "carol"); }).first, CatalogError::Kind::not_found);
  EXPECT_EQ(error_of([&] { catalog_.share("acme", "docs", "acme"); }).first,
            CatalogError::Kind::invalid_argument);
  EXPECT_EQ(error_of([&] { catalog_.share("acme", "docs", "../x"); }).first,
            CatalogError::Kind::invalid_name);
  EXPECT_EQ(error_of([&] { catalog_.drop("bob", "docs"); }).first, CatalogError::Kind::not_found);
  EXPECT_EQ(error_of([&] { catalog_.shares("bob", "docs"); }).first, CatalogError::Kind::not_found);
  EXPECT_EQ(refs(catalog_.visible_to("carol")), std::vector<std::string>{});
}

TEST_F(CatalogTest, NotVisibleAndNonexistentAreTheSameAnswer) {
  catalog_.create("acme", "secret", kDim, kModel);
  const auto hidden = error_of([&] { catalog_.resolve("carol", "acme/secret"); });
  const auto missing = error_of([&] { catalog_.resolve("carol", "acme/absent"); });
  const auto no_tenant = error_of([&] { catalog_.resolve("carol", "nobody/secret"); });
  EXPECT_EQ(hidden.first, CatalogError::Kind::not_found);
  EXPECT_EQ(missing.first, CatalogError::Kind::not_found);
  EXPECT_EQ(no_tenant.first, CatalogError::Kind::not_found);
  // The messages differ only by the reference asked for.
  EXPECT_EQ(hidden.second, "collection 'acme/secret' not found");
  EXPECT_EQ(missing.second, "collection 'acme/absent' not found");
  EXPECT_EQ(no_tenant.second, "collection 'nobody/secret' not found");

  for (const std::string bad : {"a/b/c", "/x", "x/", "", "../secret", "acme/..", "acme/../acme/secret"}) {
    EXPECT_EQ(error_of([&] { catalog_.resolve("carol", bad); }).first, CatalogError::Kind::invalid_name)
        << bad;
  }
}

TEST_F(CatalogTest, DropRemovesTheRowTheSharesAndTheFiles) {
  const auto info = catalog_.create("acme", "docs", kDim, kModel);
  catalog_.share("acme", "docs", "bob");
  {
    auto store = catalog_.open_store(info);
    store.put_document(document("a.txt", {"alpha"}, kDim));
    EXPECT_TRUE(std::filesystem::exists(info.store_path.string() + "-wal"));
  }
  catalog_.drop("acme", "docs");
  for (const std::string suffix : {"", "-wal", "-shm"}) {
    EXPECT_FALSE(std::filesystem::exists(info.store_path.string() + suffix)) << suffix;
  }
  EXPECT_TRUE(std::filesystem::is_directory(root() / "acme"))
      << "the tenant's directory may be a mount point";
  EXPECT_EQ(error_of([&] { catalog_.resolve("acme", "docs"); }).first, CatalogError::Kind::not_found);
  EXPECT_EQ(error_of([&] { catalog_.drop("acme", "docs"); }).first, CatalogError::Kind::not_found);
  EXPECT_TRUE(catalog_.visible_to("bob").empty());

  // The same name again is a new, empty collection with no shares.
  const auto again = catalog_.create("acme", "docs", kDim, kModel);
  EXPECT_EQ(catalog_.open_store(again).document_count(), 0);
  EXPECT_TRUE(catalog_.shares("acme", "docs").empty());
}

TEST_F(CatalogTest, AnOrphanStoreFileIsReplacedNotAdopted) {
  // A crash between a drop's commit and the file's removal leaves a store no row refers to.
  const auto orphan = root() / "acme" / "docs.sqlite";
  {
    auto store = CollectionStore::open(orphan, {.dim = kDim, .embedding_model = kModel});
    store.put_document(document("old.txt", {"old data"}, kDim));
  }
  const auto info = catalog_.create("acme", "docs", kDim, kModel);
  EXPECT_EQ(catalog_.open_store(info).document_count(), 0);

  std::filesystem::create_directories(root() / "bob");
  std::ofstream(root() / "bob" / "junk.sqlite") << "not a database";
  const auto junk = catalog_.create("bob", "junk", kDim, kModel);
  EXPECT_TRUE(catalog_.open_store(junk).integrity_ok());
}

TEST_F(CatalogTest, TheCatalogPersistsAcrossOpens) {
  catalog_.create("acme", "docs", kDim, kModel);
  catalog_.share("acme", "docs", "bob");
  const auto reopened = Catalog::open(root());
  EXPECT_EQ(refs(reopened.visible_to("bob")), std::vector<std::string>{"acme/docs"});
  EXPECT_EQ(reopened.resolve("acme", "docs").dim, kDim);
}

TEST_F(CatalogTest, AStoreIsNotACatalog) {
  CollectionStore::open(dir_.path() / "other" / "catalog.sqlite", {.dim = kDim, .embedding_model = kModel});
  EXPECT_THROW(Catalog::open(dir_.path() / "other"), StoreError);
}

}  // namespace
}  // namespace plinth::rag
