#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "bson/builder.h"
#include "bson/json.h"
#include "catalog/index_keys.h"
#include "catalog/record_store.h"
#include "storage/engine.h"
#include "storage/key_string.h"

namespace brook::catalog {
namespace {

bson::Doc J(std::string_view json) {
  auto d = bson::FromJson(json);
  EXPECT_TRUE(d.ok()) << json;
  return std::move(d).value();
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/brook_catalog_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    OpenAll();
  }
  void TearDown() override {
    catalog_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void OpenAll() {
    storage::EngineOptions opts;
    opts.dbpath = dir_;
    auto e = storage::Engine::Open(opts);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    auto c = Catalog::Open(engine_.get());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(c).value();
  }
  void Reopen() {
    catalog_.reset();
    engine_.reset();
    OpenAll();
  }

  Status Insert(const Namespace& ns, std::string_view json) {
    auto unit = engine_->BeginWriteUnit();
    auto target = catalog_->PrepareWrite(*unit, ns, true);
    if (!target.ok()) return target.status();
    BROOK_RETURN_IF_ERROR(InsertRecord(*unit, *target.value().coll, J(json)));
    auto r = engine_->Commit(*unit);
    if (!r.ok()) return r.status();
    if (target.value().created) catalog_->Publish(target.value().coll);
    return Status::OK();
  }

  std::vector<bson::Doc> Oplog() {
    std::vector<bson::Doc> out;
    auto it = engine_->NewOplogIterator(bson::Timestamp{}, false);
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(std::string(it->value()));
    return out;
  }

  std::vector<bson::Doc> ScanIndex(const Namespace& ns, std::string_view index) {
    auto coll = catalog_->Lookup(ns);
    const IndexInfo* idx = coll->FindIndex(index);
    std::shared_ptr<storage::Snapshot> snap = engine_->GetSnapshot();
    IndexCursor cursor(snap, *coll, *idx,
                       {KeyInterval{storage::IndexKeyPrefix(idx->id), storage::IndexKeyPrefixEnd(idx->id)}},
                       true);
    std::vector<bson::Doc> out;
    bson::Doc d;
    while (cursor.Next(&d).value()) out.push_back(d);
    return out;
  }

  std::string dir_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<Catalog> catalog_;
  Namespace ns_{"test", "c"};
};

TEST_F(CatalogTest, CreateListDropAndOplogShape) {
  auto ts = catalog_->CreateCollection(ns_, J(R"({"changeStreamPreAndPostImages": {"enabled": true}})"));
  ASSERT_TRUE(ts.ok()) << ts.status().ToString();
  auto coll = catalog_->Lookup(ns_);
  ASSERT_TRUE(coll);
  EXPECT_TRUE(coll->pre_post_images());
  EXPECT_EQ((coll->uuid[6] & 0xf0), 0x40);
  ASSERT_EQ(coll->indexes.size(), 1u);
  EXPECT_EQ(coll->indexes[0].name, "_id_");

  auto again = catalog_->CreateCollection(ns_, bson::View());
  EXPECT_EQ(again.status().code(), 48);
  EXPECT_EQ(again.status().reason(), "Collection test.c already exists.");

  auto oplog = Oplog();
  ASSERT_EQ(oplog.size(), 1u);
  bson::View e = oplog[0];
  EXPECT_EQ(e["op"].Str(), "c");
  EXPECT_EQ(e["ns"].Str(), "test.$cmd");
  EXPECT_EQ(e["ui"].Bin().subtype, 4);
  EXPECT_EQ(e["o"].Obj()["create"].Str(), "c");
  EXPECT_EQ(e["o"].Obj()["idIndex"].Obj()["name"].Str(), "_id_");
  EXPECT_TRUE(e["o"].Obj()["changeStreamPreAndPostImages"].IsObject());

  ASSERT_TRUE(Insert(ns_, R"({"_id": 1, "a": 1})").ok());
  ASSERT_TRUE(catalog_->DropCollection(ns_).ok());
  EXPECT_FALSE(catalog_->Lookup(ns_));
  EXPECT_EQ(catalog_->DropCollection(ns_).status().code(), 26);
  oplog = Oplog();
  EXPECT_EQ(oplog.back().view()["o"].Obj()["drop"].Str(), "c");
  // Data is gone: a re-created collection is empty.
  ASSERT_TRUE(Insert(ns_, R"({"_id": 2})").ok());
  auto c2 = catalog_->Lookup(ns_);
  std::shared_ptr<storage::Snapshot> snap = engine_->GetSnapshot();
  EXPECT_EQ(MeasureCollection(*snap, *c2).value().count, 1);
}

TEST_F(CatalogTest, ImplicitCreateIsAtomicWithFirstDocumentAndSurvivesRestart) {
  ASSERT_TRUE(Insert(ns_, R"({"_id": 1})").ok());
  auto oplog = Oplog();
  ASSERT_EQ(oplog.size(), 1u);  // the test inserts without an 'i' entry: only the create
  EXPECT_EQ(oplog[0].view()["o"].Obj()["create"].Str(), "c");
  auto uuid = catalog_->Lookup(ns_)->uuid;
  Reopen();
  auto coll = catalog_->Lookup(ns_);
  ASSERT_TRUE(coll);
  EXPECT_EQ(coll->uuid, uuid);
  // New ids do not collide with existing ones after a restart.
  ASSERT_TRUE(catalog_->CreateCollection(Namespace{"test", "d"}, bson::View()).ok());
  EXPECT_NE(catalog_->Lookup(Namespace{"test", "d"})->id, coll->id);
  EXPECT_EQ(catalog_->ListCollections("test").size(), 2u);
  EXPECT_EQ(catalog_->ListDatabaseNames(), std::vector<std::string>{"test"});
}

TEST_F(CatalogTest, DuplicateIdAndUniqueIndex) {
  ASSERT_TRUE(Insert(ns_, R"({"_id": 1, "name": "x"})").ok());
  auto dup = Insert(ns_, R"({"_id": 1})");
  EXPECT_EQ(dup.code(), 11000);
  EXPECT_EQ(dup.reason(), "E11000 duplicate key error collection: test.c index: _id_ dup key: { _id: 1 }");

  auto created = catalog_->CreateIndexes(ns_, {J(R"({"key": {"name": 1}, "name": "name_1", "unique": true})")});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created.value().num_indexes_before, 1);
  EXPECT_EQ(created.value().num_indexes_after, 2);
  auto st = Insert(ns_, R"({"_id": 2, "name": "x"})");
  EXPECT_EQ(st.code(), 11000);
  EXPECT_EQ(st.reason(),
            "E11000 duplicate key error collection: test.c index: name_1 dup key: { name: \"x\" }");
  bson::View extra(st.extra_info().data());
  EXPECT_EQ(extra["keyPattern"].Obj()["name"].NumberInt64(), 1);
  EXPECT_EQ(extra["keyValue"].Obj()["name"].Str(), "x");
  // Missing fields index as null: two documents without `name` collide.
  ASSERT_TRUE(Insert(ns_, R"({"_id": 3})").ok());
  EXPECT_EQ(Insert(ns_, R"({"_id": 4})").code(), 11000);

  // Building a unique index over duplicates fails and leaves nothing behind.
  Namespace other{"test", "other"};
  ASSERT_TRUE(Insert(other, R"({"_id": 5, "b": 7})").ok());
  ASSERT_TRUE(Insert(other, R"({"_id": 6, "b": 7})").ok());
  auto bad = catalog_->CreateIndexes(other, {J(R"({"key": {"b": 1}, "name": "b_1", "unique": true})")});
  EXPECT_EQ(bad.status().code(), 11000);
  EXPECT_EQ(catalog_->Lookup(other)->indexes.size(), 1u);
}

TEST_F(CatalogTest, WriteFromCachedDefinitionConflictsWithDdlAfterItsSnapshot) {
  ASSERT_TRUE(Insert(ns_, R"({"_id": 1, "a": 1})").ok());
  // A unit that began before an index build takes the (new) cached definition, and its
  // commit must still conflict: its snapshot predates the catalog change.
  auto early = engine_->BeginWriteUnit();
  ASSERT_TRUE(catalog_->CreateIndexes(ns_, {J(R"({"key": {"a": 1}, "name": "a_1"})")}).ok());
  auto target = catalog_->PrepareWrite(*early, ns_, false);
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  ASSERT_TRUE(InsertRecord(*early, *target.value().coll, J(R"({"_id": 2, "a": 2})")).ok());
  auto r = engine_->Commit(*early);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 112);

  // The same for a unit that reads nothing first and a collMod-like change: drop.
  auto before_drop = engine_->BeginWriteUnit();
  auto kept = catalog_->PrepareWrite(*before_drop, ns_, false);
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE(catalog_->DropCollection(ns_).ok());
  ASSERT_TRUE(InsertRecord(*before_drop, *kept.value().coll, J(R"({"_id": 3, "a": 3})")).ok());
  EXPECT_EQ(engine_->Commit(*before_drop).status().code(), 112);

  // A unit that begins after the DDL writes with the new definition: index maintained.
  ASSERT_TRUE(Insert(ns_, R"({"_id": 4, "a": 4})").ok());
  ASSERT_TRUE(catalog_->CreateIndexes(ns_, {J(R"({"key": {"a": 1}, "name": "a_1"})")}).ok());
  ASSERT_TRUE(Insert(ns_, R"({"_id": 5, "a": 5})").ok());
  auto keys = ScanIndex(ns_, "a_1");
  ASSERT_EQ(keys.size(), 2u);
}

TEST_F(CatalogTest, IndexSpecConflicts) {
  ASSERT_TRUE(catalog_->CreateIndexes(ns_, {J(R"({"key": {"a": 1}, "name": "a_1"})")}).ok());
  auto same = catalog_->CreateIndexes(ns_, {J(R"({"key": {"a": 1}, "name": "a_1"})")});
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same.value().all_existed);
  EXPECT_EQ(catalog_->CreateIndexes(ns_, {J(R"({"key": {"b": 1}, "name": "a_1"})")}).status().code(), 86);
  EXPECT_EQ(catalog_->CreateIndexes(ns_, {J(R"({"key": {"a": 1}, "name": "other"})")}).status().code(), 85);
  EXPECT_EQ(catalog_->CreateIndexes(ns_, {J(R"({"key": {"a": 1}, "name": "a_1", "unique": true})")}).status().code(), 85);
  EXPECT_EQ(catalog_->CreateIndexes(ns_, {J(R"({"key": {"a": 1}, "name": "x", "bogus": 1})")}).status().code(), 197);
  EXPECT_EQ(catalog_->CreateIndexes(ns_, {J(R"({"key": {"a": 1}})")}).status().code(), 9);

  EXPECT_EQ(catalog_->DropIndexes(ns_, {"_id_"}).status().code(), 72);
  auto nf = catalog_->DropIndexes(ns_, {"nope"});
  EXPECT_EQ(nf.status().code(), 27);
  EXPECT_EQ(nf.status().reason(), "index not found with name [nope]");
  auto dropped = catalog_->DropIndexes(ns_, {"a_1"});
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(dropped.value().num_indexes_was, 2);
  auto oplog = Oplog();
  bson::View last = oplog.back();
  EXPECT_EQ(last["o"].Obj()["dropIndexes"].Str(), "c");
  EXPECT_EQ(last["o"].Obj()["index"].Str(), "a_1");
  EXPECT_EQ(last["o2"].Obj()["name"].Str(), "a_1");
}

TEST_F(CatalogTest, MultikeyCompoundAndParallelArrays) {
  ASSERT_TRUE(catalog_->CreateIndexes(ns_, {J(R"({"key": {"a": 1, "b": -1}, "name": "ab"})")}).ok());
  ASSERT_TRUE(Insert(ns_, R"({"_id": 1, "a": [3, 1, 3], "b": 5})").ok());
  ASSERT_TRUE(Insert(ns_, R"({"_id": 2, "a": 2})").ok());
  auto st = Insert(ns_, R"({"_id": 3, "a": [1], "b": [2]})");
  EXPECT_EQ(st.code(), 171);
  EXPECT_EQ(st.reason(), "cannot index parallel arrays [b] [a]");
  // Keys in order: a=1 (doc 1), a=2 (doc 2, b missing -> null), a=3 (doc 1, deduplicated).
  auto docs = ScanIndex(ns_, "ab");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].view()["_id"].NumberInt64(), 1);
  EXPECT_EQ(docs[1].view()["_id"].NumberInt64(), 2);

  // Update maintains keys: doc 2 moves to a=0, ahead of doc 1.
  auto coll = catalog_->Lookup(ns_);
  auto unit = engine_->BeginWriteUnit();
  ASSERT_TRUE(UpdateRecord(*unit, *coll, J(R"({"_id": 2, "a": 2})"), J(R"({"_id": 2, "a": 0})")).ok());
  ASSERT_TRUE(engine_->Commit(*unit).ok());
  docs = ScanIndex(ns_, "ab");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].view()["_id"].NumberInt64(), 2);

  unit = engine_->BeginWriteUnit();
  ASSERT_TRUE(DeleteRecord(*unit, *coll, J(R"({"_id": 1, "a": [3, 1, 3], "b": 5})")).ok());
  ASSERT_TRUE(engine_->Commit(*unit).ok());
  EXPECT_EQ(ScanIndex(ns_, "ab").size(), 1u);
}

TEST_F(CatalogTest, KeyGeneration) {
  auto pattern = KeyPattern::Parse(J(R"({"a.b": 1})")).value();
  std::vector<GeneratedKey> keys;
  ASSERT_TRUE(GenerateKeys(pattern, J(R"({"a": [{"b": 1}, {"b": 2}, {"c": 3}]})"), false, &keys).ok());
  EXPECT_EQ(keys.size(), 3u);  // 1, 2 and null
  keys.clear();
  ASSERT_TRUE(GenerateKeys(pattern, J(R"({"x": 1})"), true, &keys).ok());
  EXPECT_TRUE(keys.empty());  // sparse skips
  keys.clear();
  auto a = KeyPattern::Parse(J(R"({"a": 1})")).value();
  ASSERT_TRUE(GenerateKeys(a, J(R"({"a": []})"), false, &keys).ok());
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].values[0].type(), bson::Type::kUndefined);
  EXPECT_EQ(KeyPattern::Parse(J(R"({"a": "text"})")).status().code(), 67);
}

TEST_F(CatalogTest, RenameAndDropDatabase) {
  ASSERT_TRUE(Insert(ns_, R"({"_id": 1})").ok());
  ASSERT_TRUE(Insert(Namespace{"test", "t"}, R"({"_id": 1})").ok());
  auto uuid = catalog_->Lookup(ns_)->uuid;
  EXPECT_EQ(catalog_->RenameCollection(ns_, Namespace{"test", "t"}, false).status().code(), 48);
  EXPECT_EQ(catalog_->RenameCollection(Namespace{"test", "zz"}, Namespace{"test", "y"}, false).status().code(), 26);
  ASSERT_TRUE(catalog_->RenameCollection(ns_, Namespace{"other", "t"}, false).ok());
  EXPECT_FALSE(catalog_->Lookup(ns_));
  // Across databases the collection is a new one, as MongoDB's copy makes it.
  auto moved_uuid = catalog_->Lookup(Namespace{"other", "t"})->uuid;
  EXPECT_FALSE(moved_uuid == uuid);
  auto last = Oplog().back();
  EXPECT_EQ(last.view()["o"].Obj()["renameCollection"].Str(), "test.c");
  EXPECT_EQ(last.view()["o"].Obj()["to"].Str(), "other.t");

  ASSERT_TRUE(catalog_->RenameCollection(Namespace{"other", "t"}, Namespace{"other", "t2"}, false).ok());
  EXPECT_TRUE(catalog_->Lookup(Namespace{"other", "t2"})->uuid == moved_uuid);  // same db: same collection
  ASSERT_TRUE(catalog_->RenameCollection(Namespace{"other", "t2"}, Namespace{"test", "t"}, true).ok());
  EXPECT_EQ(Insert(Namespace{"test", "t"}, R"({"_id": 1})").code(), 11000);  // the record moved with it

  ASSERT_TRUE(Insert(Namespace{"test", "u"}, R"({"_id": 1})").ok());
  size_t before = Oplog().size();
  ASSERT_TRUE(catalog_->DropDatabase("test").ok());
  auto oplog = Oplog();
  ASSERT_EQ(oplog.size(), before + 3);  // two drops, then dropDatabase
  EXPECT_EQ(oplog.back().view()["o"].Obj()["dropDatabase"].NumberInt64(), 1);
  EXPECT_TRUE(oplog.back().view()["ui"].missing());
  EXPECT_TRUE(catalog_->ListCollections("test").empty());
  EXPECT_TRUE(catalog_->DropDatabase("test").value().IsNull());
}

TEST_F(CatalogTest, CollModPreImagesAndHiddenIndex) {
  ASSERT_TRUE(catalog_->CreateIndexes(ns_, {J(R"({"key": {"a": 1}, "name": "a_1"})")}).ok());
  auto r = catalog_->CollMod(ns_, J(R"({"changeStreamPreAndPostImages": {"enabled": true}})"),
                             J(R"({"name": "a_1", "hidden": true})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto coll = catalog_->Lookup(ns_);
  EXPECT_TRUE(coll->pre_post_images());
  EXPECT_TRUE(coll->FindIndex("a_1")->hidden);
  EXPECT_TRUE(r.value().reply_fields.view()["hidden_new"].Bool());
  r = catalog_->CollMod(ns_, J(R"({"changeStreamPreAndPostImages": {"enabled": false}})"), bson::View());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(catalog_->Lookup(ns_)->pre_post_images());
  auto last = Oplog().back();
  EXPECT_EQ(last.view()["o"].Obj()["collMod"].Str(), "c");
  EXPECT_TRUE(last.view()["o2"].Obj()["collectionOptions_old"].IsObject());
}

TEST_F(CatalogTest, DocumentLimits) {
  std::string deep;
  for (int i = 0; i < 181; ++i) deep += "{\"a\": ";
  deep += "1";
  for (int i = 0; i < 181; ++i) deep += "}";
  auto d = bson::FromJson(deep);
  if (d.ok()) {
    EXPECT_EQ(CheckStorable(d.value()).code(), 15);
  }
  EXPECT_TRUE(CheckStorable(J(R"({"a": {"b": {}}})")).ok());
}

}  // namespace
}  // namespace brook::catalog
