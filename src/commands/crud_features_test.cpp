// Handler-level tests of collation, views, document validation, $merge,
// $listLocalSessions and session ends, against a real storage engine in a temporary
// directory.
#include <gtest/gtest.h>

#include <filesystem>

#include "bson/builder.h"
#include "bson/json.h"
#include "catalog/catalog.h"
#include "commands/cursor_registry.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/server_stats.h"
#include "commands/sessions.h"
#include "storage/engine.h"
#include "commands/test_service.h"

namespace brook::commands {
namespace {

using testsupport::J;

bson::Doc Lsid(uint8_t fill) {
  bson::Builder b;
  b.AppendBinary("id", 4, std::string(16, static_cast<char>(fill)));
  return b.Done();
}

class FeaturesTest : public testsupport::ServiceFixture {
 protected:
  // Runs a handler; returns the reply (with ok) or {ok: 0, code, errmsg, ...extra}.
  bson::Doc Run(Handler h, std::string_view json, std::optional<bson::Doc> lsid = std::nullopt,
                std::string read_concern = "") {
    bson::Doc body = J(json);
    OperationContext op(service_, client_);
    op.db = "test";
    op.lsid = std::move(lsid);
    op.read_concern.level = std::move(read_concern);
    CommandRequest req{body.view().first().key(), "test", body};
    bson::Builder reply;
    Status st = h(op, req, &reply);
    if (!st.ok()) return testsupport::ErrorDoc(st);
    reply.AppendDouble("ok", 1);
    return reply.Done();
  }

  void Ok(Handler h, std::string_view json) {
    auto r = Run(h, json);
    ASSERT_EQ(r.view()["ok"].NumberDouble(), 1) << json << " -> " << r.ToString();
    ASSERT_TRUE(r.view()["writeErrors"].missing()) << json << " -> " << r.ToString();
  }

  int Code(Handler h, std::string_view json) {
    auto r = Run(h, json);
    if (r.view()["ok"].NumberDouble() == 0) return static_cast<int>(r.view()["code"].NumberInt64());
    if (r.view()["writeErrors"].IsArray()) {
      return static_cast<int>(r.view()["writeErrors"].Obj().first().Obj()["code"].NumberInt64());
    }
    return 0;
  }

  std::vector<bson::Doc> Batch(Handler h, std::string_view json) {
    auto r = Run(h, json);
    EXPECT_EQ(r.view()["ok"].NumberDouble(), 1) << json << " -> " << r.ToString();
    std::vector<bson::Doc> out;
    if (!r.view()["cursor"].IsObject()) return out;
    for (const auto& e : r.view()["cursor"].Obj()["firstBatch"].Obj()) out.push_back(bson::Doc::CopyOf(e.Obj()));
    return out;
  }

  std::string Ids(const std::vector<bson::Doc>& docs) {
    std::string s;
    for (const auto& d : docs) s += d.view()["_id"].ToString() + " ";
    return s;
  }

};

// ---- Collation ----

TEST_F(FeaturesTest, CollationOnReadsAndWrites) {
  Ok(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1, "x": "ping"}, {"_id": 2, "x": "PING"},
                                                  {"_id": 3, "x": "pong"}, {"_id": 4, "x": "Péng"}]})");
  Ok(HandleCreateIndexes, R"({"createIndexes": "c", "indexes": [{"key": {"x": 1}, "name": "x_1"}]})");
  constexpr auto kS2 = R"("collation": {"locale": "en_US", "strength": 2})";
  EXPECT_EQ(Ids(Batch(HandleFind, std::string(R"({"find": "c", "filter": {"x": "PinG"}, )") + kS2 + "}")), "1 2 ");
  EXPECT_EQ(Ids(Batch(HandleFind, R"({"find": "c", "filter": {"x": "PinG"}})")), "");
  auto n = Run(HandleCount, std::string(R"({"count": "c", "query": {"x": "ping"}, )") + kS2 + "}");
  EXPECT_EQ(n.view()["n"].NumberInt64(), 2);
  auto d = Run(HandleDistinct, std::string(R"({"distinct": "c", "key": "x", )") + kS2 + "}");
  EXPECT_EQ(d.view()["values"].Obj().CountFields(), 3u) << d.ToString();
  // Sorted by the collation even though an index on x exists (its keys are binary).
  auto sorted = Batch(HandleFind, R"({"find": "c", "sort": {"x": 1, "_id": 1},
                                      "collation": {"locale": "en"}})");
  EXPECT_EQ(Ids(sorted), "4 1 2 3 ");
  auto u = Run(HandleUpdate, std::string(R"({"update": "c", "updates": [{"q": {"x": "PONG"},
               "u": {"$set": {"y": 1}}, "multi": true, )") + kS2 + "}]}");
  EXPECT_EQ(u.view()["nModified"].NumberInt64(), 1) << u.ToString();
  auto del = Run(HandleDelete, std::string(R"({"delete": "c", "deletes": [{"q": {"x": "peng"}, "limit": 0,
                 "collation": {"locale": "en", "strength": 1}}]})"));
  EXPECT_EQ(del.view()["n"].NumberInt64(), 1) << del.ToString();
  auto fam = Run(HandleFindAndModify, std::string(R"({"findAndModify": "c", "query": {"x": "PING"},
                 "sort": {"_id": -1}, "update": {"$set": {"z": 1}}, )") + kS2 + "}");
  EXPECT_EQ(fam.view()["value"].Obj()["_id"].NumberInt64(), 2) << fam.ToString();
  auto agg = Batch(HandleAggregate, std::string(R"({"aggregate": "c", "pipeline": [{"$match": {"x": "PING"}},
                   {"$group": {"_id": "$x", "n": {"$sum": 1}}}], "cursor": {}, )") + kS2 + "}");
  ASSERT_EQ(agg.size(), 1u);
  EXPECT_EQ(agg[0].view()["n"].NumberInt64(), 2);
  EXPECT_EQ(Code(HandleFind, R"({"find": "c", "collation": {"locale": "xx"}})"), 2);
  EXPECT_EQ(Code(HandleFind, R"({"find": "c", "collation": {"strength": 2}})"), 4);
}

TEST_F(FeaturesTest, CollectionDefaultCollation) {
  Ok(HandleCreate, R"({"create": "c", "collation": {"locale": "fr", "strength": 1}})");
  Ok(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1, "x": "côté"}, {"_id": 2, "x": "cote"}]})");
  EXPECT_EQ(Ids(Batch(HandleFind, R"({"find": "c", "filter": {"x": "COTE"}})")), "1 2 ");
  EXPECT_EQ(Ids(Batch(HandleFind, R"({"find": "c", "filter": {"x": "COTE"}, "collation": {"locale": "simple"}})")), "");
  auto list = Batch(HandleListCollections, R"({"listCollections": 1})");
  ASSERT_EQ(list.size(), 1u);
  bson::View coll = list[0].view()["options"].Obj()["collation"].Obj();
  EXPECT_EQ(coll["locale"].Str(), "fr");
  EXPECT_EQ(coll["strength"].NumberInt64(), 1);
  EXPECT_EQ(coll["caseFirst"].Str(), "off");
  EXPECT_EQ(coll["version"].Str(), "57.1");
  EXPECT_EQ(Code(HandleCreate, R"({"create": "d", "collation": {"locale": "fr", "bogus": 1}})"), 9);
}

// ---- Views ----

TEST_F(FeaturesTest, ViewsReadThroughTheirPipeline) {
  Ok(HandleInsert, R"({"insert": "base", "documents": [{"_id": 1, "a": 1}, {"_id": 2, "a": 2}, {"_id": 3, "a": 3}]})");
  Ok(HandleCreate, R"({"create": "v", "viewOn": "base", "pipeline": [{"$match": {"_id": {"$gt": 1}}}]})");
  Ok(HandleCreate, R"({"create": "vv", "viewOn": "v", "pipeline": [{"$project": {"a": 0}}]})");
  EXPECT_EQ(Ids(Batch(HandleFind, R"({"find": "v", "sort": {"_id": -1}})")), "3 2 ");
  auto vv = Batch(HandleFind, R"({"find": "vv", "filter": {"_id": 3}})");
  ASSERT_EQ(vv.size(), 1u);
  EXPECT_TRUE(vv[0].view()["a"].missing());
  EXPECT_EQ(Run(HandleCount, R"({"count": "v"})").view()["n"].NumberInt64(), 2);
  EXPECT_EQ(Run(HandleCount, R"({"count": "v", "query": {"a": 3}})").view()["n"].NumberInt64(), 1);
  EXPECT_EQ(Run(HandleDistinct, R"({"distinct": "v", "key": "a"})").view()["values"].Obj().CountFields(), 2u);
  auto agg = Batch(HandleAggregate, R"({"aggregate": "vv", "pipeline": [{"$count": "n"}], "cursor": {}})");
  ASSERT_EQ(agg.size(), 1u);
  EXPECT_EQ(agg[0].view()["n"].NumberInt64(), 2);
  auto lookup = Batch(HandleAggregate, R"({"aggregate": "base", "pipeline": [{"$match": {"_id": 1}},
      {"$lookup": {"from": "v", "pipeline": [], "as": "all"}}], "cursor": {}})");
  ASSERT_EQ(lookup.size(), 1u);
  EXPECT_EQ(lookup[0].view()["all"].Obj().CountFields(), 2u);

  // Writes fail; names are taken; definitions are checked.
  EXPECT_EQ(Code(HandleInsert, R"({"insert": "v", "documents": [{"a": 1}]})"), 166);
  EXPECT_EQ(Code(HandleUpdate, R"({"update": "v", "updates": [{"q": {}, "u": {"$set": {"a": 1}}}]})"), 166);
  EXPECT_EQ(Code(HandleDelete, R"({"delete": "v", "deletes": [{"q": {}, "limit": 0}]})"), 166);
  EXPECT_EQ(Code(HandleFindAndModify, R"({"findAndModify": "v", "remove": true})"), 166);
  EXPECT_EQ(Code(HandleCreateIndexes, R"({"createIndexes": "v", "indexes": [{"key": {"a": 1}, "name": "a"}]})"), 166);
  EXPECT_EQ(Code(HandleCreate, R"({"create": "v", "viewOn": "base"})"), 48);
  EXPECT_EQ(Code(HandleCreate, R"({"create": "v"})"), 48);
  EXPECT_EQ(Code(HandleCreate, R"({"create": "base", "viewOn": "v"})"), 48);
  EXPECT_EQ(Code(HandleCreate, R"({"create": "w", "viewOn": "base", "pipeline": [{"$out": "x"}]})"), 167);
  EXPECT_EQ(Code(HandleCreate, R"({"create": "w", "viewOn": "base", "pipeline": [{"$bogus": 1}]})"), 40324);
  EXPECT_EQ(Code(HandleCreate, R"({"create": "w", "viewOn": 5})"), 14);

  auto list = Batch(HandleListCollections, R"({"listCollections": 1, "filter": {"type": "view"}})");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].view()["options"].Obj()["viewOn"].Str(), "base");
  EXPECT_TRUE(list[0].view()["info"].Obj()["readOnly"].Bool());

  // collMod redefines a view; a cycle is refused.
  Ok(HandleCollMod, R"({"collMod": "v", "viewOn": "base", "pipeline": [{"$match": {"_id": {"$gt": 2}}}]})");
  EXPECT_EQ(Run(HandleCount, R"({"count": "v"})").view()["n"].NumberInt64(), 1);
  EXPECT_EQ(Code(HandleCollMod, R"({"collMod": "v", "viewOn": "vv", "pipeline": []})"), 165);
  EXPECT_EQ(Code(HandleCollMod, R"({"collMod": "v", "viewOn": "base"})"), 72);
  EXPECT_EQ(Run(HandleCount, R"({"count": "v"})").view()["n"].NumberInt64(), 1);

  Ok(HandleDrop, R"({"drop": "vv"})");
  EXPECT_EQ(Batch(HandleListCollections, R"({"listCollections": 1, "filter": {"type": "view"}})").size(), 1u);
  EXPECT_TRUE(Batch(HandleFind, R"({"find": "vv"})").empty());
}

TEST_F(FeaturesTest, ViewDefinitionsAreSystemViewsDocuments) {
  Ok(HandleCreate, R"({"create": "v", "viewOn": "base", "pipeline": [{"$match": {"a": 1}}]})");
  auto defs = Batch(HandleFind, R"({"find": "system.views"})");
  ASSERT_EQ(defs.size(), 1u);
  EXPECT_EQ(defs[0].view()["_id"].Str(), "test.v");
  EXPECT_EQ(defs[0].view()["viewOn"].Str(), "base");
  EXPECT_EQ(defs[0].view()["pipeline"].Obj().CountFields(), 1u);
  // A cycle made by hand is caught at read time.
  Ok(HandleUpdate, R"({"update": "system.views", "updates": [{"q": {"_id": "test.v"},
                       "u": {"$set": {"viewOn": "v"}}}]})");
  EXPECT_EQ(Code(HandleFind, R"({"find": "v"})"), 165);
}

// ---- Document validation ----

TEST_F(FeaturesTest, ValidatorOnInsertUpdateAndFindAndModify) {
  Ok(HandleCreate, R"({"create": "c", "validator": {"x": {"$type": "string"}}})");
  Ok(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1, "x": "a"}]})");
  auto r = Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 2, "x": 5}]})");
  ASSERT_TRUE(r.view()["writeErrors"].IsArray()) << r.ToString();
  bson::View err = r.view()["writeErrors"].Obj().first().Obj();
  EXPECT_EQ(err["code"].NumberInt64(), 121);
  EXPECT_EQ(err["errmsg"].Str(), "Document failed validation");
  EXPECT_EQ(err["errInfo"].Obj()["failingDocumentId"].NumberInt64(), 2);
  bson::View details = err["errInfo"].Obj()["details"].Obj();
  EXPECT_EQ(details["operatorName"].Str(), "$type");
  EXPECT_EQ(details["reason"].Str(), "type did not match");
  EXPECT_EQ(details["consideredType"].Str(), "int");
  EXPECT_EQ(Code(HandleUpdate, R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"x": 1}}}]})"), 121);
  EXPECT_EQ(Code(HandleUpdate, R"({"update": "c", "updates": [{"q": {"_id": 9}, "u": {"$set": {"x": 1}},
                                    "upsert": true}]})"), 121);
  auto fam = Run(HandleFindAndModify, R"({"findAndModify": "c", "query": {"_id": 1}, "update": {"$set": {"x": 1}}})");
  EXPECT_EQ(fam.view()["code"].NumberInt64(), 121) << fam.ToString();
  EXPECT_EQ(fam.view()["errInfo"].Obj()["failingDocumentId"].NumberInt64(), 1);
  // bypassDocumentValidation.
  Ok(HandleInsert, R"({"insert": "c", "documents": [{"_id": 3, "x": 5}], "bypassDocumentValidation": true})");
  // moderate: an invalid document may stay invalid; a valid one may not become invalid.
  Ok(HandleCollMod, R"({"collMod": "c", "validationLevel": "moderate"})");
  Ok(HandleUpdate, R"({"update": "c", "updates": [{"q": {"_id": 3}, "u": {"$set": {"y": 1}}}]})");
  EXPECT_EQ(Code(HandleUpdate, R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"x": 2}}}]})"), 121);
  // warn: written anyway.
  Ok(HandleCollMod, R"({"collMod": "c", "validationAction": "warn"})");
  Ok(HandleInsert, R"({"insert": "c", "documents": [{"_id": 4, "x": 5}]})");
  EXPECT_EQ(Code(HandleCollMod, R"({"collMod": "c", "validationLevel": "sometimes"})"), 2);
  EXPECT_EQ(Code(HandleCreate, R"({"create": "d", "validator": {"$jsonSchema": {}}})"), 2);
}

TEST_F(FeaturesTest, ValidatorWithSeveralClausesReportsTheFailingOnes) {
  Ok(HandleCreate, R"({"create": "c", "validator": {"a": {"$gt": 0}, "b": {"$exists": true}}})");
  auto r = Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1, "a": 5}]})");
  bson::View details = r.view()["writeErrors"].Obj().first().Obj()["errInfo"].Obj()["details"].Obj();
  EXPECT_EQ(details["operatorName"].Str(), "$and");
  bson::View failing = details["clausesNotSatisfied"].Obj();
  ASSERT_EQ(failing.CountFields(), 1u);
  EXPECT_EQ(failing.first().Obj()["index"].NumberInt64(), 1);
}

// ---- $merge ----

TEST_F(FeaturesTest, MergeModes) {
  Ok(HandleInsert, R"({"insert": "target", "documents": [{"_id": 1, "a": 1, "keep": true}, {"_id": 2, "a": 2}]})");
  auto merge = [&](const std::string& spec, const std::string& docs) {
    return Run(HandleAggregate, R"({"aggregate": 1, "pipeline": [{"$documents": )" + docs +
                                    R"(}, {"$merge": )" + spec + "}], \"cursor\": {}}");
  };
  // Default: merge + insert.
  auto r = merge(R"("target")", R"([{"_id": 1, "b": 1}, {"_id": 3, "b": 3}])");
  ASSERT_EQ(r.view()["ok"].NumberDouble(), 1) << r.ToString();
  EXPECT_EQ(r.view()["cursor"].Obj()["firstBatch"].Obj().CountFields(), 0u);
  auto docs = Batch(HandleFind, R"({"find": "target", "filter": {"_id": 1}})");
  EXPECT_EQ(docs[0].ToString(), J(R"({"_id": 1, "a": 1, "keep": true, "b": 1})").ToString());
  EXPECT_EQ(Batch(HandleFind, R"({"find": "target"})").size(), 3u);
  // replace
  r = merge(R"({"into": "target", "whenMatched": "replace"})", R"([{"_id": 1, "c": 1}])");
  ASSERT_EQ(r.view()["ok"].NumberDouble(), 1) << r.ToString();
  EXPECT_EQ(Batch(HandleFind, R"({"find": "target", "filter": {"_id": 1}})")[0].ToString(),
            J(R"({"_id": 1, "c": 1})").ToString());
  // keepExisting
  r = merge(R"({"into": "target", "whenMatched": "keepExisting"})", R"([{"_id": 1, "d": 1}])");
  EXPECT_TRUE(Batch(HandleFind, R"({"find": "target", "filter": {"_id": 1}})")[0].view()["d"].missing());
  // fail: a duplicate key error
  r = merge(R"({"into": "target", "whenMatched": "fail"})", R"([{"_id": 2}])");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 11000) << r.ToString();
  EXPECT_EQ(r.view()["keyPattern"].Obj()["_id"].NumberInt64(), 1) << r.ToString();
  // whenNotMatched discard / fail
  r = merge(R"({"into": "target", "whenNotMatched": "discard"})", R"([{"_id": 50}])");
  EXPECT_EQ(Batch(HandleFind, R"({"find": "target", "filter": {"_id": 50}})").size(), 0u);
  r = merge(R"({"into": "target", "whenNotMatched": "fail"})", R"([{"_id": 51}])");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 13113) << r.ToString();
  // pipeline with let and $$new
  r = merge(R"({"into": "target", "let": {"inc": "$n"}, "whenMatched": [{"$set": {"a": {"$add": ["$a", "$$inc"]}}}]})",
            R"([{"_id": 2, "n": 10}])");
  ASSERT_EQ(r.view()["ok"].NumberDouble(), 1) << r.ToString();
  EXPECT_EQ(Batch(HandleFind, R"({"find": "target", "filter": {"_id": 2}})")[0].view()["a"].NumberInt64(), 12);
  // Changing _id of a matched document is refused.
  Ok(HandleInsert, R"({"insert": "keyed", "documents": [{"_id": 1, "k": "x"}, {"_id": 2, "k": "y"}]})");
  Ok(HandleCreateIndexes, R"({"createIndexes": "keyed", "indexes": [{"key": {"k": 1}, "name": "k_1", "unique": true}]})");
  r = merge(R"({"into": "keyed", "on": "k", "whenMatched": "replace"})", R"([{"_id": 99, "k": "x"}])");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 66) << r.ToString();
  r = merge(R"({"into": "keyed", "on": "k"})", R"([{"k": "x", "m": 1}])");
  ASSERT_EQ(r.view()["ok"].NumberDouble(), 1) << r.ToString();
  EXPECT_EQ(Batch(HandleFind, R"({"find": "keyed", "filter": {"k": "x"}})")[0].view()["m"].NumberInt64(), 1);
  // `on` needs a unique index.
  r = merge(R"({"into": "target", "on": "a"})", R"([{"a": 1}])");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 51183) << r.ToString();
  r = merge(R"({"into": "newcoll", "on": "a"})", R"([{"a": 1}])");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 51183) << r.ToString();
  // Into a new collection, from a collection.
  r = Run(HandleAggregate, R"({"aggregate": "target", "pipeline": [{"$match": {"_id": {"$lte": 2}}},
                                {"$merge": {"into": {"db": "other", "coll": "copy"}}}], "cursor": {}})");
  ASSERT_EQ(r.view()["ok"].NumberDouble(), 1) << r.ToString();
  EXPECT_NE(catalog_->Lookup(catalog::Namespace{"other", "copy"}), nullptr);
}

TEST_F(FeaturesTest, LinearizableReadConcernRejectsWriteStages) {
  auto r = Run(HandleAggregate, R"({"aggregate": "c", "pipeline": [{"$out": "x"}], "cursor": {}})",
               std::nullopt, "linearizable");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 72) << r.ToString();
  EXPECT_EQ(r.view()["errmsg"].Str(), "$out cannot be used with a 'linearizable' read concern level");
  r = Run(HandleAggregate, R"({"aggregate": "c", "pipeline": [{"$merge": "x"}], "cursor": {}})",
          std::nullopt, "linearizable");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 72) << r.ToString();
  r = Run(HandleAggregate, R"({"aggregate": "c", "pipeline": [{"$match": {}}], "cursor": {}})",
          std::nullopt, "linearizable");
  EXPECT_EQ(r.view()["ok"].NumberDouble(), 1) << r.ToString();
}

// ---- Update statements, sessions ----

TEST_F(FeaturesTest, UnknownStatementFieldsFailTheCommand) {
  Ok(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1}]})");
  auto r = Run(HandleUpdate, R"({"update": "c", "updates": [{"q": {}, "u": {"$set": {"a": 1}}, "sort": {"_id": 1}}]})");
  EXPECT_EQ(r.view()["ok"].NumberDouble(), 0);
  EXPECT_EQ(r.view()["code"].NumberInt64(), 40415);
  EXPECT_EQ(r.view()["errmsg"].Str(), "BSON field 'update.updates.sort' is an unknown field.");
  EXPECT_EQ(Code(HandleDelete, R"({"delete": "c", "deletes": [{"q": {}, "limit": 0, "bogus": 1}]})"), 40415);
  EXPECT_TRUE(Batch(HandleFind, R"({"find": "c", "filter": {"a": 1}})").empty());
}

TEST_F(FeaturesTest, ListLocalSessionsAndEndSessions) {
  Ok(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}, {"_id": 3}]})");
  auto r = Run(HandleFind, R"({"find": "c", "batchSize": 1})", Lsid(7));
  int64_t cursor_id = r.view()["cursor"].Obj()["id"].NumberInt64();
  ASSERT_NE(cursor_id, 0);
  auto sessions = Batch(HandleAggregate, R"({"aggregate": 1, "pipeline": [{"$listLocalSessions": {}}], "cursor": {}})");
  ASSERT_EQ(sessions.size(), 1u);
  bson::View id = sessions[0].view()["_id"].Obj();
  EXPECT_EQ(id["id"].Bin().bytes, std::string(16, '\x07'));
  EXPECT_EQ(id["uid"].Bin().bytes.size(), 32u);
  EXPECT_EQ(sessions[0].view()["lastUse"].type(), bson::Type::kDate);
  EXPECT_EQ(Code(HandleAggregate, R"({"aggregate": "c", "pipeline": [{"$listLocalSessions": {}}], "cursor": {}})"), 73);

  bson::Builder end;
  end.OpenArray("endSessions").AppendDocument("0", Lsid(7)).Close();
  bson::Doc body = end.Done();
  OperationContext op(service_, client_);
  CommandRequest req{"endSessions", "admin", body};
  bson::Builder reply;
  ASSERT_TRUE(HandleEndSessions(op, req, &reply).ok());
  EXPECT_FALSE(cursors_->Exists(cursor_id));
  EXPECT_TRUE(sessions_->ListLocal().empty());
}

}  // namespace
}  // namespace brook::commands
