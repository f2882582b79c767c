// The cursor against a real storage::Engine in a temp dir. Oplog entries are written
// through WriteUnit::AddOplog in the CRUD layer's shapes (write_ops.cpp, catalog.cpp).
// Every test runs twice (STYLE.md 12): cursors reading the oplog themselves, and cursors
// fed by a shared OplogTailer (polled after each commit); both must give the same events.

#include "changestream/cursor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "bson/builder.h"
#include "bson/json.h"
#include "changestream/host.h"
#include "storage/engine.h"
#include "storage/storage_test_util.h"

namespace brook::changestream {
namespace {

bson::Doc J(std::string_view json) { return std::move(bson::FromJson(json).value()); }

using storage::testing::TempDir;

class CursorTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { OpenEngine(1024ull << 20); }
  void TearDown() override { tailer_.reset(); }

  // With the tailer on, a fresh one over the current engine.
  void MakeTailer() {
    tailer_.reset();
    if (GetParam()) tailer_ = std::make_unique<OplogTailer>(engine_.get());
  }

  void OpenEngine(uint64_t oplog_bytes) {
    storage::EngineOptions o;
    o.dbpath = dir_.path();
    o.oplog_size_bytes = oplog_bytes;
    auto e = storage::Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    host_ = std::make_unique<MemoryHost>(engine_.get());
    MakeTailer();
  }

  CollectionUuid Uuid(const std::string& ns) {
    auto it = uuids_.find(ns);
    if (it != uuids_.end()) return it->second;
    CollectionUuid u{};
    u[0] = static_cast<uint8_t>(uuids_.size() + 1);
    u[15] = 0x77;
    uuids_[ns] = u;
    return u;
  }

  storage::OplogDraft Draft(std::string_view op, const std::string& ns, bson::View o,
                            std::optional<bson::View> o2, std::optional<CollectionUuid> uuid) {
    bson::Builder b;
    b.AppendString("op", op);
    b.AppendString("ns", ns);
    if (uuid) b.AppendBinary("ui", 4, std::string_view(reinterpret_cast<const char*>(uuid->data()), 16));
    b.AppendDocument("o", o);
    if (o2) b.AppendDocument("o2", *o2);
    storage::OplogDraft d;
    d.body = b.Done();
    if (uuid) d.collection_uuid = *uuid;
    return d;
  }

  bson::Timestamp Commit(std::vector<storage::OplogDraft> drafts) {
    auto unit = engine_->BeginWriteUnit();
    for (auto& d : drafts) unit->AddOplog(std::move(d));
    auto r = engine_->Commit(*unit);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(engine_->WaitForDurable(r.value().last_ts, std::chrono::seconds(10)).ok());
    if (tailer_) tailer_->Poll();
    return r.value().first_ts;
  }

  bson::Timestamp Insert(const std::string& ns, int id, std::string_view extra = "") {
    bson::Doc doc = J("{\"_id\": " + std::to_string(id) + (extra.empty() ? "" : ", ") + std::string(extra) + "}");
    bson::Doc key = J("{\"_id\": " + std::to_string(id) + "}");
    std::vector<storage::OplogDraft> v;
    v.push_back(Draft("i", ns, doc, key.view(), Uuid(ns)));
    return Commit(std::move(v));
  }

  bson::Timestamp Update(const std::string& ns, int id, std::string_view desc_json,
                         std::optional<std::string> pre_image = std::nullopt) {
    bson::Builder o;
    o.AppendInt32("$v", 2);
    o.AppendDocument("updateDescription", J(desc_json));
    bson::Doc o_doc = o.Done();
    bson::Doc key = J("{\"_id\": " + std::to_string(id) + "}");
    std::vector<storage::OplogDraft> v;
    v.push_back(Draft("u", ns, o_doc, key.view(), Uuid(ns)));
    if (pre_image) v.back().preimage = J(*pre_image);
    return Commit(std::move(v));
  }

  bson::Timestamp Command(const std::string& db, std::string_view o_json, std::optional<std::string> coll_ns) {
    std::vector<storage::OplogDraft> v;
    std::optional<CollectionUuid> uuid;
    if (coll_ns) uuid = Uuid(*coll_ns);
    v.push_back(Draft("c", db + ".$cmd", J(o_json), std::nullopt, uuid));
    return Commit(std::move(v));
  }

  std::shared_ptr<const ChangeStreamPlan> Plan(std::string_view pipeline_json, std::optional<std::string> coll = "c",
                                               std::string db = "test", PlanContext ctx = {}) {
    bson::Doc holder = J(std::string("{\"p\": ") + std::string(pipeline_json) + "}");
    ctx.db = db;
    ctx.coll = coll;
    auto plan = BuildChangeStreamPlan(holder["p"].Obj(), ctx);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    return plan.ok() ? plan.value() : nullptr;
  }

  std::unique_ptr<ChangeStreamCursor> Open(std::string_view pipeline_json, std::optional<std::string> coll = "c",
                                           std::string db = "test", PlanContext ctx = {}) {
    auto c = ChangeStreamCursor::Open(Plan(pipeline_json, coll, db, ctx), host_.get(), engine_.get(), tailer_.get());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  static ChangeStreamBatch Next(ChangeStreamCursor* c, size_t max_events = 100) {
    auto b = c->NextBatch(max_events, 16 * 1024 * 1024);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(b).value() : ChangeStreamBatch{};
  }

  static std::string Types(const ChangeStreamBatch& b) {
    std::string out;
    for (const auto& e : b.events) {
      if (!out.empty()) out += ",";
      out += std::string(e["operationType"].Str());
    }
    return out;
  }

  static std::string TokenJson(const bson::Doc& event) {
    return "{\"resumeAfter\": " + bson::ToRelaxedJson(event["_id"].Obj()) + "}";
  }

  static ResumeToken Token(bson::View token_doc) { return ResumeToken::Parse(token_doc).value(); }

  TempDir dir_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<MemoryHost> host_;
  std::unique_ptr<OplogTailer> tailer_;  // after engine_: goes first
  std::map<std::string, CollectionUuid> uuids_;
};

TEST_P(CursorTest, NewStreamReportsOnlyLaterWritesOfItsCollection) {
  Insert("test.c", 1);
  auto c = Open(R"([{"$changeStream": {}}])");
  ResumeToken initial = c->post_batch_resume_token();
  EXPECT_EQ(initial.Decode().value().type, ResumeTokenData::Type::kHighWaterMark);
  Insert("test.c", 2);
  Insert("test.other", 3);
  Insert("other.c", 4);
  Insert("test.c", 5);
  auto b = Next(c.get());
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[0].view().GetPath("documentKey._id").Int32(), 2);
  EXPECT_EQ(b.events[1].view().GetPath("documentKey._id").Int32(), 5);
  EXPECT_EQ(b.events[1].view().GetPath("ns.db").Str(), "test");
  EXPECT_LT(Token(b.events[0]["_id"].Obj()).Compare(Token(b.events[1]["_id"].Obj())), 0);
  EXPECT_GE(Token(b.post_batch_resume_token).Compare(Token(b.events[1]["_id"].Obj())), 0);
  EXPECT_FALSE(b.invalidated);
}

TEST_P(CursorTest, HighWaterMarkMovesForwardOnEmptyBatches) {
  auto c = Open(R"([{"$changeStream": {}}])");
  ResumeToken first = Token(Next(c.get()).post_batch_resume_token);
  Insert("test.other", 1);
  auto b1 = Next(c.get());
  EXPECT_TRUE(b1.events.empty());
  ResumeToken second = Token(b1.post_batch_resume_token);
  EXPECT_GT(second.Compare(first), 0);
  EXPECT_EQ(second.Decode().value().type, ResumeTokenData::Type::kHighWaterMark);
  Insert("test.other", 2);
  ResumeToken third = Token(Next(c.get()).post_batch_resume_token);
  EXPECT_GT(third.Compare(second), 0);
  // Resuming from a high-water mark reports what came after it, and nothing before.
  Insert("test.c", 3);
  auto resumed = Open(std::string(R"([{"$changeStream": {"resumeAfter": )") +
                      bson::ToRelaxedJson(third.ToDocument()) + "}}]");
  auto rb = Next(resumed.get());
  ASSERT_EQ(rb.events.size(), 1u);
  EXPECT_EQ(rb.events[0].view().GetPath("documentKey._id").Int32(), 3);
}

TEST_P(CursorTest, ZeroBatchOnlyPositions) {
  auto c = Open(R"([{"$changeStream": {}}])");
  Insert("test.c", 1);
  auto b0 = Next(c.get(), 0);
  EXPECT_TRUE(b0.events.empty());
  auto b1 = Next(c.get());
  EXPECT_EQ(b1.events.size(), 1u);
}

TEST_P(CursorTest, ResumesAfterAToken) {
  auto c = Open(R"([{"$changeStream": {}}])");
  Insert("test.c", 1);
  Insert("test.c", 2);
  Insert("test.c", 3);
  auto all = Next(c.get());
  ASSERT_EQ(all.events.size(), 3u);
  auto resumed = Open("[{\"$changeStream\": " + TokenJson(all.events[0]) + "}]");
  auto first_batch = Next(resumed.get(), 0);
  EXPECT_EQ(Token(first_batch.post_batch_resume_token), Token(all.events[0]["_id"].Obj()));
  auto rb = Next(resumed.get());
  ASSERT_EQ(rb.events.size(), 2u);
  EXPECT_TRUE(bson::BinaryEqual(rb.events[0], all.events[1]));
  EXPECT_TRUE(bson::BinaryEqual(rb.events[1], all.events[2]));
  // startAfter an ordinary event behaves the same.
  auto started = Open("[{\"$changeStream\": {\"startAfter\": " + bson::ToRelaxedJson(all.events[1]["_id"].Obj()) + "}}]");
  auto sb = Next(started.get());
  ASSERT_EQ(sb.events.size(), 1u);
  EXPECT_TRUE(bson::BinaryEqual(sb.events[0], all.events[2]));
}

TEST_P(CursorTest, StartAtOperationTime) {
  Insert("test.c", 1);
  bson::Timestamp second = Insert("test.c", 2);
  Insert("test.c", 3);
  bson::Builder b;
  b.OpenDocument("$changeStream").AppendTimestamp("startAtOperationTime", second).Close();
  bson::Doc stage = b.Done();
  auto c = Open("[" + bson::ToCanonicalJson(stage) + "]");
  auto batch = Next(c.get());
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[0].view().GetPath("documentKey._id").Int32(), 2);
}

TEST_P(CursorTest, MissingResumeTokenIsFatal) {
  bson::Timestamp ts = Insert("test.c", 1);
  Insert("test.c", 2);
  ResumeTokenData d;
  d.cluster_time = ts;
  d.uuid = Uuid("test.c");
  d.event_identifier = J(R"({"operationType": "insert", "documentKey": {"_id": 42}})");
  auto c = Open(std::string(R"([{"$changeStream": {"resumeAfter": )") +
                bson::ToRelaxedJson(ResumeToken::FromData(d).ToDocument()) + "}}]");
  auto b = c->NextBatch(100, 1 << 20);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), 280);
  EXPECT_TRUE(b.status().HasLabel("NonResumableChangeStreamError"));
  EXPECT_EQ(b.status().reason().rfind("cannot resume stream; the resume token was not found. ", 0), 0u);
  EXPECT_EQ(c->NextBatch(100, 1 << 20).status().code(), 280) << "errors are sticky";
}

TEST_P(CursorTest, HistoryLostAfterTruncation) {
  tailer_.reset();
  engine_.reset();
  TempDir small_dir;
  storage::EngineOptions o;
  o.dbpath = small_dir.path();
  o.oplog_size_bytes = 32 * 1024;
  engine_ = std::move(storage::Engine::Open(o).value());
  host_ = std::make_unique<MemoryHost>(engine_.get());
  MakeTailer();
  auto c = Open(R"([{"$changeStream": {}}])");
  bson::Timestamp first = Insert("test.c", 0);
  auto b = Next(c.get());
  ASSERT_EQ(b.events.size(), 1u);
  std::string pad(300, 'p');
  for (int i = 1; i < 400; ++i) Insert("test.c", i, "\"pad\": \"" + pad + "\"");
  for (int i = 0; i < 500 && engine_->oldest_oplog_ts() <= first; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(engine_->oldest_oplog_ts(), first);
  auto resumed = ChangeStreamCursor::Open(Plan("[{\"$changeStream\": " + TokenJson(b.events[0]) + "}]"), host_.get(),
                                          engine_.get(), tailer_.get());
  ASSERT_FALSE(resumed.ok());
  EXPECT_EQ(resumed.status().code(), 286);
  EXPECT_EQ(resumed.status().code_name(), "ChangeStreamHistoryLost");
  EXPECT_EQ(resumed.status().reason(),
            "Resume of change stream was not possible, as the resume point may no longer be in the oplog.");
  c.reset();
  tailer_.reset();
  engine_.reset();
}

TEST_P(CursorTest, DropInvalidatesAndEndsTheStream) {
  auto c = Open(R"([{"$changeStream": {}}])");
  Insert("test.c", 1);
  Command("test", R"({"drop": "c"})", "test.c");
  Insert("test.c", 2);  // re-created: not seen by this stream
  auto b = Next(c.get());
  EXPECT_EQ(Types(b), "insert,drop,invalidate");
  EXPECT_TRUE(b.invalidated);
  EXPECT_TRUE(c->invalidated());
  EXPECT_EQ(Token(b.post_batch_resume_token), Token(b.events[2]["_id"].Obj()));
  EXPECT_TRUE(Token(b.post_batch_resume_token).Decode().value().from_invalidate);

  // resumeAfter the drop: the invalidate again. startAfter the invalidate: the new collection.
  auto again = Open("[{\"$changeStream\": " + TokenJson(b.events[1]) + "}]");
  EXPECT_EQ(Types(Next(again.get())), "invalidate");
  auto after = Open(std::string(R"([{"$changeStream": {"startAfter": )") +
                    bson::ToRelaxedJson(b.events[2]["_id"].Obj()) + "}}]");
  Command("test", R"({"drop": "c"})", "test.c");
  auto ab = Next(after.get());
  EXPECT_EQ(Types(ab), "insert,drop,invalidate");
  EXPECT_EQ(ab.events[0].view().GetPath("documentKey._id").Int32(), 2);
  // resumeAfter an invalidate is refused.
  bson::Doc holder = J(std::string(R"({"p": [{"$changeStream": {"resumeAfter": )") +
                       bson::ToRelaxedJson(b.events[2]["_id"].Obj()) + "}}]}");
  PlanContext ctx;
  ctx.db = "test";
  ctx.coll = "c";
  EXPECT_EQ(BuildChangeStreamPlan(holder["p"].Obj(), ctx).status().code(), 260);
}

TEST_P(CursorTest, RenameInvalidatesWithTo) {
  auto c = Open(R"([{"$changeStream": {}}])");
  Command("test", R"({"renameCollection": "test.c", "to": "test.d", "stayTemp": false})", "test.c");
  auto b = Next(c.get());
  ASSERT_EQ(Types(b), "rename,invalidate");
  EXPECT_EQ(b.events[0].view().GetPath("to.coll").Str(), "d");
  EXPECT_EQ(b.events[0].view().first().key(), "to");
  EXPECT_TRUE(b.invalidated);
}

TEST_P(CursorTest, DropDatabaseSequenceForADatabaseStream) {
  auto c = Open(R"([{"$changeStream": {}}])", std::nullopt);
  Insert("test.a", 1);
  std::vector<storage::OplogDraft> drafts;
  drafts.push_back(Draft("c", "test.$cmd", J(R"({"drop": "a"})"), std::nullopt, Uuid("test.a")));
  drafts.push_back(Draft("c", "test.$cmd", J(R"({"drop": "b"})"), std::nullopt, Uuid("test.b")));
  drafts.push_back(Draft("c", "test.$cmd", J(R"({"dropDatabase": 1})"), std::nullopt, std::nullopt));
  Commit(std::move(drafts));
  auto b = Next(c.get());
  EXPECT_EQ(Types(b), "insert,drop,drop,dropDatabase,invalidate");
  EXPECT_EQ(b.events[3].view().GetPath("ns.db").Str(), "test");
  EXPECT_FALSE(b.events[3].view().GetPath("ns").Obj().HasField("coll"));
  EXPECT_TRUE(b.invalidated);

  // A cluster stream sees the same sequence without an invalidate.
  auto cluster = Open(R"([{"$changeStream": {"allChangesForCluster": true}}])", std::nullopt, "admin");
  Insert("test.a", 2);
  Insert("admin.x", 3);
  auto cb = Next(cluster.get());
  EXPECT_EQ(Types(cb), "insert");
  EXPECT_FALSE(cb.invalidated);
}

TEST_P(CursorTest, BatchesAreLimitedAndTokensIncrease) {
  auto c = Open(R"([{"$changeStream": {}}])");
  for (int i = 0; i < 5; ++i) Insert("test.c", i);
  std::vector<bson::Doc> seen;
  ResumeToken last = c->post_batch_resume_token();
  for (int round = 0; round < 10 && seen.size() < 5; ++round) {
    auto b = Next(c.get(), 2);
    EXPECT_LE(b.events.size(), 2u);
    for (auto& e : b.events) {
      ResumeToken t = Token(e["_id"].Obj());
      EXPECT_GT(t.Compare(last), 0);
      last = t;
      seen.push_back(std::move(e));
    }
    // The last event's token, or a high-water mark past it once the scan caught up.
    EXPECT_GE(Token(b.post_batch_resume_token).Compare(last), 0);
  }
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[4].view().GetPath("documentKey._id").Int32(), 4);
}

TEST_P(CursorTest, PreAndPostImagesFromStorage) {
  auto c = Open(R"([{"$changeStream": {"fullDocumentBeforeChange": "whenAvailable", "fullDocument": "whenAvailable"}}])");
  Update("test.c", 1, R"({"updatedFields": {"x": 2}, "removedFields": [], "truncatedArrays": []})",
         R"({"_id": 1, "x": 1})");
  Update("test.c", 1, R"({"updatedFields": {"x": 3}, "removedFields": [], "truncatedArrays": []})");
  auto b = Next(c.get());
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[0].view().GetPath("fullDocumentBeforeChange.x").Int32(), 1);
  EXPECT_EQ(b.events[0].view().GetPath("fullDocument.x").Int32(), 2);
  EXPECT_EQ(b.events[1]["fullDocumentBeforeChange"].type(), bson::Type::kNull);
  EXPECT_EQ(b.events[1]["fullDocument"].type(), bson::Type::kNull);

  auto required = Open(R"([{"$changeStream": {"fullDocumentBeforeChange": "required"}}])");
  Update("test.c", 1, R"({"updatedFields": {"x": 4}, "removedFields": [], "truncatedArrays": []})");
  auto err = required->NextBatch(10, 1 << 20);
  EXPECT_EQ(err.status().code(), 47);
}

TEST_P(CursorTest, RedactAfterChangeStreamPrunesEventsAndSubdocuments) {
  // Prune whole events whose document is secret; descend elsewhere, dropping any
  // embedded document that carries `secret` (the _id and ns have none, so they stay).
  auto c = Open(R"([{"$changeStream": {}}, {"$redact": {"$cond": [
      {"$eq": ["$fullDocument.secret", true]}, "$$PRUNE",
      {"$cond": [{"$eq": ["$secret", true]}, "$$PRUNE", "$$DESCEND"]}]}}])");
  Insert("test.c", 1, R"("open": {"a": 1}, "hidden": {"secret": true, "b": 2})");
  Insert("test.c", 2, R"("secret": true)");
  Insert("test.c", 3);
  auto b = Next(c.get());
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[0].view().GetPath("fullDocument._id").Int32(), 1);
  EXPECT_EQ(b.events[0].view().GetPath("fullDocument.open.a").Int32(), 1);
  EXPECT_TRUE(b.events[0].view().GetPath("fullDocument.hidden").missing());
  EXPECT_EQ(b.events[1].view().GetPath("fullDocument._id").Int32(), 3);

  // A $redact that prunes the resume token's enclosing event is fine; one that returns
  // something else is 17053.
  auto bad = Open(R"([{"$changeStream": {}}, {"$redact": "nope"}])");
  Insert("test.c", 4);
  auto err = bad->NextBatch(10, 1 << 20);
  EXPECT_EQ(err.status().code(), 17053);
}

TEST_P(CursorTest, ViewDefinitionWritesAreViewEventsForExpandedDatabaseStreams) {
  auto expanded = Open(R"([{"$changeStream": {"showExpandedEvents": true}}])", std::nullopt);
  auto classic = Open(R"([{"$changeStream": {}}])", std::nullopt);
  auto coll = Open(R"([{"$changeStream": {"showExpandedEvents": true}}])", "v");
  bson::Doc def = J(R"({"_id": "test.v", "viewOn": "c", "pipeline": [{"$match": {"x": 1}}]})");
  bson::Doc def2 = J(R"({"_id": "test.v", "viewOn": "c", "pipeline": []})");
  bson::Doc key = J(R"({"_id": "test.v"})");
  std::vector<storage::OplogDraft> create;
  create.push_back(Draft("i", "test.system.views", def, key.view(), Uuid("test.system.views")));
  Commit(std::move(create));
  std::vector<storage::OplogDraft> modify;
  modify.push_back(Draft("u", "test.system.views", def2, key.view(), Uuid("test.system.views")));
  Commit(std::move(modify));
  std::vector<storage::OplogDraft> drop;
  drop.push_back(Draft("d", "test.system.views", key, std::nullopt, Uuid("test.system.views")));
  Commit(std::move(drop));
  Insert("test.c", 1);

  auto b = Next(expanded.get());
  EXPECT_EQ(Types(b), "create,modify,drop,insert");
  ASSERT_EQ(b.events.size(), 4u);
  EXPECT_EQ(b.events[0].view().GetPath("ns.coll").Str(), "v");
  EXPECT_EQ(b.events[0].view().GetPath("operationDescription.viewOn").Str(), "c");
  EXPECT_TRUE(b.events[0]["collectionUUID"].missing());
  EXPECT_EQ(b.events[1].view().GetPath("operationDescription.pipeline").type(), bson::Type::kArray);
  EXPECT_TRUE(b.events[2]["operationDescription"].missing());
  // The stream lives on after a view's drop (it is not a collection drop).
  EXPECT_FALSE(b.invalidated);
  // Each event resumes: the token after the create leads to modify.
  auto resumed = ChangeStreamCursor::Open(
      Plan("[{\"$changeStream\": {\"showExpandedEvents\": true, \"resumeAfter\": " +
               bson::ToRelaxedJson(b.events[0]["_id"].Obj()) + "}}]",
           std::nullopt),
      host_.get(), engine_.get(), tailer_.get());
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(Types(Next(resumed.value().get())), "modify,drop,insert");

  EXPECT_EQ(Types(Next(classic.get())), "insert");
  EXPECT_EQ(Types(Next(coll.get())), "");
}

TEST_P(CursorTest, PipelineThatModifiesIdFails) {
  auto c = Open(R"([{"$changeStream": {}}, {"$project": {"_id": 0}}])");
  Insert("test.c", 1);
  auto b = c->NextBatch(10, 1 << 20);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), 280);
  EXPECT_TRUE(b.status().HasLabel("NonResumableChangeStreamError"));
}

TEST_P(CursorTest, SplitEventsResumeFromAFragment) {
  PlanContext ctx;
  ctx.max_event_bytes = 2000;
  ctx.max_fragment_bytes = 3500;
  std::string pipeline = R"([{"$changeStream": {"fullDocumentBeforeChange": "whenAvailable"}},
                              {"$changeStreamSplitLargeEvent": {}}])";
  auto c = Open(pipeline, "c", "test", ctx);
  std::string big(2500, 'b');
  Update("test.c", 1, R"({"updatedFields": {"v": ")" + big + R"("}, "removedFields": [], "truncatedArrays": []})",
         R"({"_id": 1, "v": ")" + big + R"("})");
  auto b = Next(c.get());
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[0].view().GetPath("splitEvent.of").Int32(), 2);
  auto resumed = Open(R"([{"$changeStream": {"fullDocumentBeforeChange": "whenAvailable", "resumeAfter": )" +
                          bson::ToRelaxedJson(b.events[0]["_id"].Obj()) + R"(}}, {"$changeStreamSplitLargeEvent": {}}])",
                      "c", "test", ctx);
  auto rb = Next(resumed.get());
  ASSERT_EQ(rb.events.size(), 1u);
  EXPECT_TRUE(bson::BinaryEqual(rb.events[0], b.events[1]));

  PlanContext no_split = ctx;
  auto refuse = Open(R"([{"$changeStream": {"fullDocumentBeforeChange": "whenAvailable"}}])", "c", "test", no_split);
  Update("test.c", 1, R"({"updatedFields": {"v": ")" + big + R"("}, "removedFields": [], "truncatedArrays": []})",
         R"({"_id": 1, "v": ")" + big + R"("})");
  EXPECT_EQ(refuse->NextBatch(10, 1 << 20).status().code(), 10334);
}

TEST_P(CursorTest, TransactionOperationsGetTxnOpIndexes) {
  auto c = Open(R"([{"$changeStream": {}}])");
  bson::Builder b;
  b.AppendString("op", "c");
  b.AppendString("ns", "admin.$cmd");
  CollectionUuid u = Uuid("test.c");
  std::string uuid_bytes(reinterpret_cast<const char*>(u.data()), 16);
  b.OpenDocument("o").OpenArray("applyOps");
  b.OpenDocument("0").AppendString("op", "i").AppendString("ns", "test.c").AppendBinary("ui", 4, uuid_bytes);
  b.OpenDocument("o").AppendInt32("_id", 1).Close().Close();
  b.OpenDocument("1").AppendString("op", "i").AppendString("ns", "test.c").AppendBinary("ui", 4, uuid_bytes);
  b.OpenDocument("o").AppendInt32("_id", 2).Close().Close();
  b.Close().Close();
  b.AppendDocument("lsid", J(R"({"id": 7})"));
  b.AppendInt64("txnNumber", 3);
  storage::OplogDraft d;
  d.body = b.Done();
  std::vector<storage::OplogDraft> v;
  v.push_back(std::move(d));
  Commit(std::move(v));
  auto batch = Next(c.get());
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[0].view().first().key(), "txnNumber");
  EXPECT_EQ(Token(batch.events[1]["_id"].Obj()).Decode().value().txn_op_index, 1);
  EXPECT_LT(Token(batch.events[0]["_id"].Obj()).Compare(Token(batch.events[1]["_id"].Obj())), 0);
}

INSTANTIATE_TEST_SUITE_P(OwnReaderOrSharedTailer, CursorTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Tailer" : "OwnReader"; });

// ---- The shared tailer's own behaviour ----

class TailerCursorTest : public CursorTest {
 protected:
  static bool Raised(const ChangeStreamCursor& c) {
    auto s = c.wake_signal();
    return s && s->load();
  }
};

TEST_P(TailerCursorTest, WakesOnlyStreamsWhoseMatchMayAcceptTheEvent) {
  auto by_field = Open(R"([{"$changeStream": {}}, {"$match": {"fullDocument.x": 1}}])");
  auto deletes = Open(R"([{"$changeStream": {}}, {"$match": {"operationType": "delete"}}])");
  auto all = Open(R"([{"$changeStream": {}}])");
  for (auto* c : {by_field.get(), deletes.get(), all.get()}) {
    EXPECT_TRUE(Next(c).events.empty());
    ASSERT_TRUE(c->wake_signal()) << "at the head the cursor is armed";
    EXPECT_FALSE(Raised(*c));
  }
  Insert("test.c", 1, R"("x": 2)");
  EXPECT_FALSE(Raised(*by_field));
  EXPECT_FALSE(Raised(*deletes));
  EXPECT_TRUE(Raised(*all));
  bson::Timestamp second = Insert("test.c", 2, R"("x": 1.0)");  // 1.0 equals 1, as in $match
  EXPECT_TRUE(Raised(*by_field));
  EXPECT_FALSE(Raised(*deletes));
  auto b = Next(by_field.get());
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(b.events[0].view().GetPath("documentKey._id").Int32(), 2);
  EXPECT_EQ(Next(all.get()).events.size(), 2u);
  // The stream never woken still moves its high-water mark past both writes.
  auto none = Next(deletes.get());
  EXPECT_TRUE(none.events.empty());
  EXPECT_GT(Token(none.post_batch_resume_token).Decode().value().cluster_time, second);
}

TEST_P(TailerCursorTest, DdlReachesEveryStreamSoInvalidationIsKept) {
  auto inserts = Open(R"([{"$changeStream": {}}, {"$match": {"operationType": "insert"}}])");
  EXPECT_TRUE(Next(inserts.get()).events.empty());
  Command("test", R"({"drop": "c"})", "test.c");
  EXPECT_TRUE(Raised(*inserts));
  auto b = Next(inserts.get());
  EXPECT_TRUE(b.events.empty()) << "the user's $match drops both drop and invalidate";
  EXPECT_TRUE(b.invalidated) << "but the stream still ends there";
}

TEST_P(TailerCursorTest, StreamBehindTheWindowReadsTheOplogThenSwitches) {
  tailer_ = std::make_unique<OplogTailer>(engine_.get(), OplogTailer::kDefaultMaxBytes, /*max_entries=*/4);
  auto keeper = Open(R"([{"$changeStream": {}}])");  // something to decode for
  EXPECT_TRUE(Next(keeper.get()).events.empty());
  bson::Timestamp first = Insert("test.c", 0);
  for (int i = 1; i < 20; ++i) Insert("test.c", i);
  EXPECT_EQ(tailer_->window_entries(), 4u);
  EXPECT_GT(tailer_->covered_from(), first);
  auto behind = Open("[{\"$changeStream\": {\"startAtOperationTime\": {\"$timestamp\": {\"t\": " +
                     std::to_string(first.secs) + ", \"i\": " + std::to_string(first.inc) + "}}}}]");
  auto b = Next(behind.get(), 1000);
  ASSERT_EQ(b.events.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(b.events[i].view().GetPath("documentKey._id").Int32(), i);
  EXPECT_TRUE(behind->wake_signal()) << "caught up: armed at the head";
  Insert("test.c", 20);
  auto more = Next(behind.get());
  ASSERT_EQ(more.events.size(), 1u);
  EXPECT_EQ(more.events[0].view().GetPath("documentKey._id").Int32(), 20);
}

TEST_P(TailerCursorTest, OverflowingQueueDisarmsWithoutLosingEvents) {
  auto slow = Open(R"([{"$changeStream": {}}])");
  EXPECT_TRUE(Next(slow.get()).events.empty());
  const int n = static_cast<int>(OplogTailer::kMaxQueued) + 10;
  for (int i = 0; i < n; ++i) Insert("test.c", i);
  EXPECT_TRUE(Raised(*slow));
  auto b = Next(slow.get(), 10000);
  ASSERT_EQ(b.events.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) ASSERT_EQ(b.events[i].view().GetPath("documentKey._id").Int32(), i);
}

TEST_P(TailerCursorTest, ResumingWithAFilterStillFindsTheResumePoint) {
  auto c = Open(R"([{"$changeStream": {}}])");
  Insert("test.c", 1, R"("x": 1)");
  Insert("test.c", 2, R"("x": 2)");
  auto all = Next(c.get());
  ASSERT_EQ(all.events.size(), 2u);
  // The resumed-from event does not pass the new stream's filter: stage 8 must still see
  // it rather than the tailer skipping it.
  std::string resume = bson::ToRelaxedJson(all.events[0]["_id"].Obj());
  auto resumed = Open("[{\"$changeStream\": {\"resumeAfter\": " + resume + "}}, {\"$match\": {\"fullDocument.x\": 3}}]");
  auto b = Next(resumed.get());
  EXPECT_TRUE(b.events.empty());
  Insert("test.c", 3, R"("x": 3)");
  auto later = Next(resumed.get());
  ASSERT_EQ(later.events.size(), 1u);
  EXPECT_EQ(later.events[0].view().GetPath("documentKey._id").Int32(), 3);
}

TEST_P(TailerCursorTest, DecodesOnlyWhileSomeStreamIsOpen) {
  Insert("test.c", 1);
  EXPECT_EQ(tailer_->window_entries(), 0u) << "no stream: nothing decoded";
  auto c = Open(R"([{"$changeStream": {}}])");
  EXPECT_TRUE(Next(c.get()).events.empty());
  Insert("test.c", 2);
  EXPECT_EQ(tailer_->window_entries(), 1u);
  EXPECT_EQ(tailer_->streams(), 1u);
  c.reset();
  EXPECT_EQ(tailer_->streams(), 0u);
  EXPECT_EQ(tailer_->window_entries(), 0u) << "the last stream gone, the window is given back";
  EXPECT_EQ(tailer_->window_bytes(), 0u);
}

INSTANTIATE_TEST_SUITE_P(SharedTailer, TailerCursorTest, ::testing::Values(true),
                         [](const ::testing::TestParamInfo<bool>&) { return std::string("Tailer"); });

TEST(ErrorLabelsTest, LabelsFollowMongoDB) {
  EXPECT_TRUE(AddChangeStreamErrorLabels(Status(ErrorCodes::kChangeStreamHistoryLost, "x"), false)
                  .HasLabel("NonResumableChangeStreamError"));
  EXPECT_TRUE(AddChangeStreamErrorLabels(Status(ErrorCodes::kHostUnreachable, "x"), true)
                  .HasLabel("ResumableChangeStreamError"));
  EXPECT_FALSE(AddChangeStreamErrorLabels(Status(ErrorCodes::kHostUnreachable, "x"), false)
                   .HasLabel("ResumableChangeStreamError"));
  EXPECT_FALSE(AddChangeStreamErrorLabels(Status(ErrorCodes::kBadValue, "x"), true)
                   .HasLabel("ResumableChangeStreamError"));
}

}  // namespace
}  // namespace brook::changestream
