// Handler-level tests of the CRUD, cursor and catalog command families against a real
// storage engine in a temporary directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "bson/builder.h"
#include "bson/json.h"
#include "catalog/catalog.h"
#include "commands/cursor_registry.h"
#include "commands/failpoints.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/server_stats.h"
#include "commands/sessions.h"
#include "storage/engine.h"
#include "commands/test_service.h"

namespace brook::commands {
namespace {

using testsupport::J;

class CrudTest : public testsupport::ServiceFixture {
 protected:
  // Runs a handler; returns the reply (with ok) or the error as {ok: 0, code, errmsg}.
  bson::Doc Run(Handler h, std::string_view json, std::optional<bson::Doc> lsid = std::nullopt,
                std::optional<int64_t> txn = std::nullopt) {
    bson::Doc body = J(json);
    OperationContext op(service_, client_);
    op.db = "test";
    op.lsid = std::move(lsid);
    op.txn_number = txn;
    CommandRequest req{body.view().first().key(), "test", body};
    bson::Builder reply;
    Status st = h(op, req, &reply);
    last_ts_ = op.operation_time;
    last_closed_ = op.close_connection;
    if (!st.ok()) return testsupport::ErrorDoc(st);
    reply.AppendDouble("ok", 1);
    return reply.Done();
  }

  std::vector<bson::Doc> Find(std::string_view json) {
    auto r = Run(HandleFind, json);
    EXPECT_EQ(r.view()["ok"].NumberDouble(), 1) << r.ToString();
    std::vector<bson::Doc> out;
    if (!r.view()["cursor"].IsObject()) return out;
    for (const auto& e : r.view()["cursor"].Obj()["firstBatch"].Obj()) out.push_back(bson::Doc::CopyOf(e.Obj()));
    return out;
  }

  std::vector<bson::Doc> Oplog() {
    std::vector<bson::Doc> out;
    auto it = engine_->NewOplogIterator(bson::Timestamp{}, false);
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(std::string(it->value()));
    return out;
  }

  bson::Timestamp last_ts_;
  bool last_closed_ = false;
};

TEST_F(CrudTest, InsertFindAndOplogShape) {
  auto r = Run(HandleInsert, R"({"insert": "c", "documents": [{"a": 1}, {"_id": 7, "a": 2}, {"b": 3, "_id": "x"}]})");
  EXPECT_EQ(r.view()["n"].NumberInt64(), 3) << r.ToString();
  EXPECT_FALSE(last_ts_.IsNull());
  auto docs = Find(R"({"find": "c", "filter": {"a": {"$gte": 1}}})");
  ASSERT_EQ(docs.size(), 2u);
  // _id is generated and placed first; an _id given later is moved first.
  auto all = Find(R"({"find": "c", "filter": {"_id": "x"}})");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].view().first().key(), "_id");
  auto oplog = Oplog();
  ASSERT_EQ(oplog.size(), 4u);  // create + 3 inserts
  bson::View ins = oplog[1];
  EXPECT_EQ(ins["op"].Str(), "i");
  EXPECT_EQ(ins["ns"].Str(), "test.c");
  EXPECT_EQ(ins["o2"].Obj()["_id"].type(), bson::Type::kObjectId);
  EXPECT_EQ(ins["ui"].Bin().subtype, 4);
}

TEST_F(CrudTest, InsertErrorsOrderedAndUnordered) {
  auto r = Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 1}, {"_id": 2}]})");
  EXPECT_EQ(r.view()["n"].NumberInt64(), 1);
  auto errs = r.view()["writeErrors"].Obj();
  ASSERT_EQ(errs.CountFields(), 1u);
  EXPECT_EQ(errs.first().Obj()["index"].NumberInt64(), 1);
  EXPECT_EQ(errs.first().Obj()["code"].NumberInt64(), 11000);
  EXPECT_EQ(errs.first().Obj()["keyValue"].Obj()["_id"].NumberInt64(), 1);
  r = Run(HandleInsert, R"({"insert": "c", "ordered": false, "documents": [{"_id": 1}, {"_id": [1]}, {"_id": 3}]})");
  EXPECT_EQ(r.view()["n"].NumberInt64(), 1);
  EXPECT_EQ(r.view()["writeErrors"].Obj().CountFields(), 2u);
  std::string scratch;
  EXPECT_EQ(r.view()["writeErrors"].Obj()["1"].Obj()["code"].NumberInt64(), 53);
}

TEST_F(CrudTest, CursorsBatchesGetMoreKill) {
  std::string docs;
  for (int i = 0; i < 250; ++i) docs += (i ? "," : "") + std::string("{\"_id\": ") + std::to_string(i) + "}";
  Run(HandleInsert, R"({"insert": "c", "documents": [)" + docs + "]}");
  auto r = Run(HandleFind, R"({"find": "c"})");
  auto cursor = r.view()["cursor"].Obj();
  EXPECT_EQ(cursor["firstBatch"].Obj().CountFields(), 101u);
  int64_t id = cursor["id"].Int64();
  EXPECT_GT(id, 0);
  EXPECT_EQ(cursor["ns"].Str(), "test.c");
  EXPECT_EQ(stats_.cursors_open.load(), 1);
  r = Run(HandleGetMore, R"({"getMore": {"$numberLong": ")" + std::to_string(id) + R"("}, "collection": "c", "batchSize": 100})");
  EXPECT_EQ(r.view()["cursor"].Obj()["nextBatch"].Obj().CountFields(), 100u) << r.ToString();
  EXPECT_EQ(r.view()["cursor"].Obj()["id"].Int64(), id);
  auto wrong = Run(HandleGetMore, R"({"getMore": {"$numberLong": ")" + std::to_string(id) + R"("}, "collection": "d"})");
  EXPECT_EQ(wrong.view()["code"].NumberInt64(), 13);
  r = Run(HandleGetMore, R"({"getMore": {"$numberLong": ")" + std::to_string(id) + R"("}, "collection": "c"})");
  EXPECT_EQ(r.view()["cursor"].Obj()["nextBatch"].Obj().CountFields(), 49u);
  EXPECT_EQ(r.view()["cursor"].Obj()["id"].Int64(), 0);
  auto gone = Run(HandleGetMore, R"({"getMore": {"$numberLong": ")" + std::to_string(id) + R"("}, "collection": "c"})");
  EXPECT_EQ(gone.view()["code"].NumberInt64(), 43);
  EXPECT_EQ(gone.view()["errmsg"].Str(), "cursor id " + std::to_string(id) + " not found");

  r = Run(HandleFind, R"({"find": "c", "batchSize": 2})");
  id = r.view()["cursor"].Obj()["id"].Int64();
  r = Run(HandleKillCursors, R"({"killCursors": "c", "cursors": [{"$numberLong": ")" + std::to_string(id) + R"("}, {"$numberLong": "5"}]})");
  EXPECT_EQ(r.view()["cursorsKilled"].Obj().CountFields(), 1u);
  EXPECT_EQ(r.view()["cursorsNotFound"].Obj().CountFields(), 1u);
  EXPECT_EQ(stats_.cursors_open.load(), 0);

  // limit closes the cursor; negative limit means a single batch.
  r = Run(HandleFind, R"({"find": "c", "limit": 3, "sort": {"_id": -1}})");
  EXPECT_EQ(r.view()["cursor"].Obj()["id"].Int64(), 0);
  EXPECT_EQ(r.view()["cursor"].Obj()["firstBatch"].Obj().first().Obj()["_id"].NumberInt64(), 249);
  r = Run(HandleFind, R"({"find": "c", "skip": 10, "limit": 2, "projection": {"_id": 1}})");
  EXPECT_EQ(r.view()["cursor"].Obj()["firstBatch"].Obj().first().Obj()["_id"].NumberInt64(), 10);
}

TEST_F(CrudTest, UpdateUpsertMultiAndOplog) {
  Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1, "a": 1}, {"_id": 2, "a": 1}, {"_id": 3, "a": 2}]})");
  auto r = Run(HandleUpdate, R"({"update": "c", "updates": [{"q": {"a": 1}, "u": {"$set": {"b": 5}}, "multi": true}]})");
  EXPECT_EQ(r.view()["n"].NumberInt64(), 2) << r.ToString();
  EXPECT_EQ(r.view()["nModified"].NumberInt64(), 2);
  auto oplog = Oplog();
  bson::View u = oplog.back();
  EXPECT_EQ(u["op"].Str(), "u");
  EXPECT_EQ(u["o"].Obj()["$v"].NumberInt64(), 2);
  EXPECT_EQ(u["o"].Obj()["updateDescription"].Obj()["updatedFields"].Obj()["b"].NumberInt64(), 5);
  EXPECT_EQ(u["o2"].Obj()["_id"].NumberInt64(), 2);

  // No-op update: matched, not modified, no oplog entry.
  size_t before = Oplog().size();
  r = Run(HandleUpdate, R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"b": 5}}}]})");
  EXPECT_EQ(r.view()["n"].NumberInt64(), 1);
  EXPECT_EQ(r.view()["nModified"].NumberInt64(), 0);
  EXPECT_EQ(Oplog().size(), before);

  r = Run(HandleUpdate, R"({"update": "c", "updates": [{"q": {"_id": 9}, "u": {"$set": {"z": 1}}, "upsert": true}]})");
  EXPECT_EQ(r.view()["n"].NumberInt64(), 1);
  EXPECT_EQ(r.view()["upserted"].Obj().first().Obj()["_id"].NumberInt64(), 9);
  EXPECT_EQ(Find(R"({"find": "c", "filter": {"_id": 9}})")[0].view()["z"].NumberInt64(), 1);

  // Replacement: whole document in the oplog.
  r = Run(HandleUpdate, R"({"update": "c", "updates": [{"q": {"_id": 3}, "u": {"x": 1}}]})");
  EXPECT_EQ(r.view()["nModified"].NumberInt64(), 1);
  EXPECT_EQ(Oplog().back().view()["o"].Obj()["x"].NumberInt64(), 1);
  r = Run(HandleUpdate, R"({"update": "c", "updates": [{"q": {}, "u": {"x": 1}, "multi": true}]})");
  EXPECT_EQ(r.view()["writeErrors"].Obj().first().Obj()["code"].NumberInt64(), 9);
  r = Run(HandleUpdate, R"({"update": "c", "updates": [{"q": {"_id": 3}, "u": {"$set": {"_id": 4}}}]})");
  EXPECT_EQ(r.view()["writeErrors"].Obj().first().Obj()["code"].NumberInt64(), 66);
}

TEST_F(CrudTest, DeleteCountDistinct) {
  Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1, "a": [1, 2]}, {"_id": 2, "a": 2}, {"_id": 3, "a": 1.0}, {"_id": 4}]})");
  auto r = Run(HandleDistinct, R"({"distinct": "c", "key": "a"})");
  EXPECT_EQ(r.view()["values"].Obj().CountFields(), 2u) << r.ToString();
  r = Run(HandleCount, R"({"count": "c", "query": {"a": 2}})");
  EXPECT_EQ(r.view()["n"].NumberInt64(), 2);
  r = Run(HandleCount, R"({"count": "c", "skip": 1, "limit": 2})");
  EXPECT_EQ(r.view()["n"].NumberInt64(), 2);
  r = Run(HandleDelete, R"({"delete": "c", "deletes": [{"q": {"a": 2}, "limit": 1}]})");
  EXPECT_EQ(r.view()["n"].NumberInt64(), 1);
  EXPECT_EQ(Oplog().back().view()["op"].Str(), "d");
  r = Run(HandleDelete, R"({"delete": "c", "deletes": [{"q": {}, "limit": 0}]})");
  EXPECT_EQ(r.view()["n"].NumberInt64(), 3);
  r = Run(HandleCount, R"({"count": "missing"})");
  EXPECT_EQ(r.view()["n"].NumberInt64(), 0);
}

TEST_F(CrudTest, FindAndModify) {
  Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1, "n": 5}, {"_id": 2, "n": 3}]})");
  auto r = Run(HandleFindAndModify, R"({"findAndModify": "c", "query": {}, "sort": {"n": 1}, "update": {"$inc": {"n": 1}}, "new": true})");
  EXPECT_EQ(r.view()["value"].Obj()["_id"].NumberInt64(), 2) << r.ToString();
  EXPECT_EQ(r.view()["value"].Obj()["n"].NumberInt64(), 4);
  EXPECT_TRUE(r.view()["lastErrorObject"].Obj()["updatedExisting"].Bool());
  r = Run(HandleFindAndModify, R"({"findAndModify": "c", "query": {"_id": 5}, "update": {"$set": {"n": 0}}, "upsert": true})");
  EXPECT_TRUE(r.view()["value"].IsNullish());
  EXPECT_EQ(r.view()["lastErrorObject"].Obj()["upserted"].NumberInt64(), 5);
  r = Run(HandleFindAndModify, R"({"findAndModify": "c", "query": {"_id": 1}, "remove": true, "fields": {"n": 0}})");
  EXPECT_EQ(r.view()["value"].Obj()["_id"].NumberInt64(), 1);
  EXPECT_TRUE(r.view()["value"].Obj()["n"].missing());
  r = Run(HandleFindAndModify, R"({"findAndModify": "c", "remove": true, "update": {}})");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 9);
}

TEST_F(CrudTest, IndexesPlannerAndExplain) {
  Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1, "a": 5}, {"_id": 2, "a": [7, 1]}, {"_id": 3, "a": "s"}, {"_id": 4}]})");
  auto r = Run(HandleCreateIndexes, R"({"createIndexes": "c", "indexes": [{"key": {"a": 1}, "name": "a_1"}]})");
  EXPECT_EQ(r.view()["numIndexesAfter"].NumberInt64(), 2) << r.ToString();
  r = Run(HandleCreateIndexes, R"({"createIndexes": "c", "indexes": [{"key": {"a": 1}, "name": "a_1"}]})");
  EXPECT_EQ(r.view()["note"].Str(), "all indexes already exist");

  auto docs = Find(R"({"find": "c", "filter": {"a": {"$gt": 4}}})");
  ASSERT_EQ(docs.size(), 2u);
  docs = Find(R"({"find": "c", "filter": {"a": {"$in": [1, "s"]}}})");
  ASSERT_EQ(docs.size(), 2u);
  docs = Find(R"({"find": "c", "filter": {"a": null}})");
  ASSERT_EQ(docs.size(), 1u);
  docs = Find(R"({"find": "c", "sort": {"a": -1}, "hint": "a_1"})");
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0].view()["_id"].NumberInt64(), 3);  // strings sort above numbers

  r = Run(HandleExplain, R"({"explain": {"find": "c", "filter": {"a": 5}}, "verbosity": "executionStats"})");
  auto wp = r.view()["queryPlanner"].Obj()["winningPlan"].Obj();
  EXPECT_EQ(wp["stage"].Str(), "FETCH") << r.ToString();
  EXPECT_EQ(wp["inputStage"].Obj()["stage"].Str(), "IXSCAN");
  EXPECT_EQ(wp["inputStage"].Obj()["indexName"].Str(), "a_1");
  EXPECT_EQ(r.view()["executionStats"].Obj()["nReturned"].NumberInt64(), 1);
  r = Run(HandleExplain, R"({"explain": {"find": "c", "filter": {"_id": 5}}})");
  EXPECT_EQ(r.view()["queryPlanner"].Obj()["winningPlan"].Obj()["stage"].Str(), "IDHACK");
  r = Run(HandleExplain, R"({"explain": {"find": "c", "filter": {"b": 5}}})");
  EXPECT_EQ(r.view()["queryPlanner"].Obj()["winningPlan"].Obj()["stage"].Str(), "COLLSCAN");

  r = Run(HandleFind, R"({"find": "c", "hint": "nope"})");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 2);

  r = Run(HandleListIndexes, R"({"listIndexes": "c"})");
  EXPECT_EQ(r.view()["cursor"].Obj()["firstBatch"].Obj().CountFields(), 2u);
  r = Run(HandleDropIndexes, R"({"dropIndexes": "c", "index": {"a": 1}})");
  EXPECT_EQ(r.view()["nIndexesWas"].NumberInt64(), 2) << r.ToString();
  r = Run(HandleDropIndexes, R"({"dropIndexes": "c", "index": "_id_"})");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 72);
  r = Run(HandleListIndexes, R"({"listIndexes": "nope"})");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 26);
}

TEST_F(CrudTest, RetryableWritesReplayAndSurviveRestart) {
  bson::Builder lb;
  catalog::AppendUuid(&lb, "id", catalog::GenerateUuid());
  bson::Doc lsid = lb.Done();
  auto r = Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1}]})", lsid, 5);
  EXPECT_EQ(r.view()["n"].NumberInt64(), 1) << r.ToString();
  CloseService();
  OpenService();
  // The same statement again after a restart: replayed, not applied twice.
  r = Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1}]})", lsid, 5);
  EXPECT_EQ(r.view()["n"].NumberInt64(), 1) << r.ToString();
  EXPECT_TRUE(r.view()["writeErrors"].missing());

  r = Run(HandleUpdate, R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"x": 1}}}]})", lsid, 6);
  EXPECT_EQ(r.view()["nModified"].NumberInt64(), 1);
  auto u = Oplog().back();
  EXPECT_EQ(u.view()["txnNumber"].NumberInt64(), 6);
  EXPECT_EQ(u.view()["stmtId"].NumberInt64(), 0);
  r = Run(HandleUpdate, R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"x": 1}}}]})", lsid, 6);
  EXPECT_EQ(r.view()["nModified"].NumberInt64(), 1);
  EXPECT_EQ(Find(R"({"find": "c"})")[0].view()["x"].NumberInt64(), 1);
  r = Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 2}]})", lsid, 4);
  EXPECT_EQ(r.view()["code"].NumberInt64(), 225);
}

TEST_F(CrudTest, OnPrimaryTransactionalWriteFailsOrDropsTheReply) {
  FailPoints fps;
  service_.failpoints = &fps;
  bson::Builder lb;
  catalog::AppendUuid(&lb, "id", catalog::GenerateUuid());
  bson::Doc lsid = lb.Done();
  auto configure = [&](std::string_view data) {
    bson::Doc mode = J(R"({"m": {"times": 1}})");
    ASSERT_TRUE(fps.Configure(kOnPrimaryTransactionalWrite, mode.view().first(), J(data).view()).ok());
  };
  // Fails before the commit: nothing written, and the connection is to be closed.
  configure(R"({"failBeforeCommitExceptionCode": 1})");
  auto r = Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1}]})", lsid, 1);
  EXPECT_TRUE(last_closed_);
  EXPECT_EQ(r.view()["writeErrors"].Obj().first().Obj()["code"].NumberInt64(), 1) << r.ToString();
  EXPECT_TRUE(Find(R"({"find": "c"})").empty());
  // Commits, then the connection is closed: the retry finds the statement's record.
  configure("{}");
  r = Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1}]})", lsid, 1);
  EXPECT_TRUE(last_closed_);
  r = Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1}]})", lsid, 1);
  EXPECT_FALSE(last_closed_);
  EXPECT_EQ(r.view()["n"].NumberInt64(), 1) << r.ToString();
  EXPECT_EQ(Find(R"({"find": "c"})").size(), 1u);
  // Writes outside a retryable write never consult it.
  configure(R"({"failBeforeCommitExceptionCode": 1})");
  r = Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 2}]})");
  EXPECT_FALSE(last_closed_);
  EXPECT_EQ(r.view()["n"].NumberInt64(), 1);
  service_.failpoints = nullptr;
}

TEST_F(CrudTest, ConcurrentAttemptsOfOneRetryableWriteApplyOnce) {
  // A driver's retry can race the original attempt. The first attempt of a new
  // txnNumber skips the record lookup; the write conflict on the shared record key
  // must still make the loser find the winner's record instead of applying again.
  Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1, "x": 0}]})");
  bson::Builder lb;
  catalog::AppendUuid(&lb, "id", catalog::GenerateUuid());
  bson::Doc lsid = lb.Done();
  bson::Doc body = J(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"x": 1}}}]})");
  constexpr int kRounds = 60;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> attempts;
    std::vector<int64_t> modified(2, -1);
    for (int a = 0; a < 2; ++a) {
      attempts.emplace_back([&, a] {
        ClientInfo client;
        OperationContext op(service_, client);
        op.db = "test";
        op.lsid = bson::Doc::CopyOf(lsid.view());
        op.txn_number = 100 + round;
        CommandRequest req{"update", "test", body};
        bson::Builder reply;
        Status st = HandleUpdate(op, req, &reply);
        ASSERT_TRUE(st.ok()) << st.ToString();
        modified[a] = reply.Done().view()["nModified"].NumberInt64();
      });
    }
    for (auto& t : attempts) t.join();
    EXPECT_EQ(modified, (std::vector<int64_t>{1, 1})) << "round " << round;
  }
  EXPECT_EQ(Find(R"({"find": "c"})")[0].view()["x"].NumberInt64(), kRounds);
}

TEST_F(CrudTest, CatalogCommands) {
  auto r = Run(HandleCreate, R"({"create": "c", "changeStreamPreAndPostImages": {"enabled": true}})");
  EXPECT_EQ(r.view()["ok"].NumberDouble(), 1) << r.ToString();
  r = Run(HandleCreate, R"({"create": "c"})");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 48);
  EXPECT_EQ(r.view()["errmsg"].Str(), "Collection test.c already exists.");
  r = Run(HandleCreate, R"({"create": "d", "bogus": 1})");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 40415);
  r = Run(HandleListCollections, R"({"listCollections": 1, "filter": {"name": "c"}})");
  auto batch = r.view()["cursor"].Obj()["firstBatch"].Obj();
  ASSERT_EQ(batch.CountFields(), 1u) << r.ToString();
  EXPECT_TRUE(batch.first().Obj()["options"].Obj()["changeStreamPreAndPostImages"].IsObject());
  EXPECT_EQ(batch.first().Obj()["info"].Obj()["uuid"].Bin().subtype, 4);
  EXPECT_EQ(r.view()["cursor"].Obj()["ns"].Str(), "test.$cmd.listCollections");

  // Pre-images are attached to update oplog drafts when enabled.
  Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1, "v": 1}]})");
  Run(HandleUpdate, R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"v": 2}}}]})");

  r = Run(HandleCollStats, R"({"collStats": "c"})");
  EXPECT_EQ(r.view()["count"].NumberInt64(), 1) << r.ToString();
  EXPECT_EQ(r.view()["nindexes"].NumberInt64(), 1);
  r = Run(HandleDbStats, R"({"dbStats": 1})");
  EXPECT_EQ(r.view()["collections"].NumberInt64(), 1);
  r = Run(HandleListDatabases, R"({"listDatabases": 1, "nameOnly": true})");
  EXPECT_GE(r.view()["databases"].Obj().CountFields(), 2u);

  r = Run(HandleRenameCollection, R"({"renameCollection": "test.c", "to": "test.e"})");
  EXPECT_EQ(r.view()["ok"].NumberDouble(), 1) << r.ToString();
  r = Run(HandleRenameCollection, R"({"renameCollection": "test.c", "to": "test.f"})");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 26);
  r = Run(HandleDrop, R"({"drop": "e"})");
  EXPECT_EQ(r.view()["ok"].NumberDouble(), 1);
  r = Run(HandleDrop, R"({"drop": "e"})");
  EXPECT_EQ(r.view()["ok"].NumberDouble(), 1);  // 7.0: dropping a missing collection succeeds
  r = Run(HandleCollMod, R"({"collMod": "nope", "changeStreamPreAndPostImages": {"enabled": true}})");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 26);
  Run(HandleInsert, R"({"insert": "g", "documents": [{}]})");
  r = Run(HandleDropDatabase, R"({"dropDatabase": 1})");
  EXPECT_EQ(r.view()["ok"].NumberDouble(), 1);
  EXPECT_TRUE(catalog_->ListCollections("test").empty());
}

TEST_F(CrudTest, AggregateAndOplogView) {
  Run(HandleInsert, R"({"insert": "c", "documents": [{"_id": 1, "g": "a"}, {"_id": 2, "g": "b"}, {"_id": 3, "g": "a"}]})");
  auto r = Run(HandleAggregate, R"({"aggregate": "c", "pipeline": [{"$match": {"g": "a"}}, {"$count": "n"}], "cursor": {}})");
  auto batch = r.view()["cursor"].Obj()["firstBatch"].Obj();
  ASSERT_EQ(batch.CountFields(), 1u) << r.ToString();
  EXPECT_EQ(batch.first().Obj()["n"].NumberInt64(), 2);
  r = Run(HandleAggregate, R"({"aggregate": "c", "pipeline": [{"$collStats": {"count": {}}}], "cursor": {}})");
  EXPECT_EQ(r.view()["cursor"].Obj()["firstBatch"].Obj().first().Obj()["count"].NumberInt64(), 3) << r.ToString();
  // A change stream opens a cursor (change_stream_cmd_test.cpp tests the rest).
  r = Run(HandleAggregate, R"({"aggregate": "c", "pipeline": [{"$changeStream": {}}], "cursor": {}})");
  EXPECT_TRUE(r.view()["cursor"].Obj()["postBatchResumeToken"].IsObject()) << r.ToString();
  r = Run(HandleAggregate, R"({"aggregate": "c", "pipeline": []})");
  EXPECT_EQ(r.view()["code"].NumberInt64(), 9);
  r = Run(HandleAggregate, R"({"aggregate": "c", "pipeline": [{"$match": {"g": "b"}}, {"$out": "o"}], "cursor": {}})");
  EXPECT_EQ(r.view()["ok"].NumberDouble(), 1) << r.ToString();
  EXPECT_EQ(Find(R"({"find": "o"})").size(), 1u);

  // local.oplog.rs: entries in ts order; $natural: -1 gives the newest first.
  bson::Doc body = J(R"({"find": "oplog.rs", "filter": {"op": "i"}, "sort": {"$natural": -1}})");
  OperationContext op(service_, client_);
  CommandRequest req{"find", "local", body};
  bson::Builder reply;
  ASSERT_TRUE(HandleFind(op, req, &reply).ok());
  auto out = reply.Done();
  auto entries = out.view()["cursor"].Obj()["firstBatch"].Obj();
  ASSERT_EQ(entries.CountFields(), 4u) << out.ToString();  // 3 inserts + 1 from $out
  EXPECT_EQ(entries.first().Obj()["ns"].Str(), "test.o");
}

}  // namespace
}  // namespace brook::commands
