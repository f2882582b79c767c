// Handler-level tests of change streams as commands: aggregate {$changeStream}, getMore
// (awaitData, batches, invalidate), killCursors, error labels and the
// failGetMoreAfterCursorCheckout failpoint, against a real engine in a temporary directory.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "bson/builder.h"
#include "bson/compare.h"
#include "bson/json.h"
#include "catalog/catalog.h"
#include "commands/change_stream_cmd.h"
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

struct Result {
  bson::Doc reply;  // the handler's reply plus ok, or {ok: 0, code, errorLabels}
  std::optional<AwaitData> await_data;

  bson::View cursor() const { return reply.view()["cursor"].Obj(); }
  int64_t id() const { return cursor()["id"].NumberInt64(); }
  size_t batch_size(std::string_view field) const { return cursor()[field].Obj().CountFields(); }
  int32_t code() const { return static_cast<int32_t>(reply.view()["code"].NumberInt64()); }
  bool HasLabel(std::string_view label) const {
    for (const auto& l : reply.view()["errorLabels"].Obj()) {
      if (l.Str() == label) return true;
    }
    return false;
  }
};

class ChangeStreamCmdTest : public testsupport::ServiceFixture {
 protected:
  void SetUp() override {
    ServiceFixture::SetUp();
    service_.failpoints = &failpoints_;
  }

  Result Run(Handler h, std::string_view json, std::optional<int64_t> max_time_ms = std::nullopt) {
    bson::Doc body = J(json);
    OperationContext op(service_, client_);
    op.db = "test";
    op.max_time_ms = max_time_ms;
    CommandRequest req{body.view().first().key(), "test", body};
    bson::Builder reply;
    Status st = h(op, req, &reply);
    Result r;
    r.await_data = op.await_data;
    if (!st.ok()) {
      bson::Builder err;
      err.AppendDouble("ok", 0);
      err.AppendInt32("code", st.code());
      err.AppendString("errmsg", st.reason());
      err.OpenArray("errorLabels");
      std::string scratch;
      for (size_t i = 0; i < st.labels().size(); ++i) err.AppendString(bson::ArrayKey(i, &scratch), st.labels()[i]);
      err.Close();
      r.reply = err.Done();
      return r;
    }
    reply.AppendDouble("ok", 1);
    r.reply = reply.Done();
    return r;
  }

  // Inserts and waits until the write is durable (streams deliver durable events only).
  void InsertDurable(std::string_view json) {
    Run(HandleInsert, json);
    ASSERT_TRUE(engine_->WaitForDurable(engine_->visible(), std::chrono::seconds(5)).ok());
  }

  Result GetMore(int64_t id, std::string_view coll, std::string_view extra = "") {
    std::string json = "{\"getMore\": {\"$numberLong\": \"" + std::to_string(id) + "\"}, \"collection\": \"" +
                       std::string(coll) + "\"" + std::string(extra) + "}";
    return Run(HandleGetMore, json);
  }

  Result Open(std::string_view stage = "{}", std::string_view coll = "\"c\"") {
    return Run(HandleAggregate, "{\"aggregate\": " + std::string(coll) + ", \"pipeline\": [{\"$changeStream\": " +
                                    std::string(stage) + "}], \"cursor\": {}}");
  }

  FailPoints failpoints_;
};

TEST_F(ChangeStreamCmdTest, OpenReplyHasCursorAndPostBatchResumeToken) {
  auto r = Open();
  ASSERT_EQ(r.reply.view()["ok"].NumberDouble(), 1) << r.reply.ToString();
  EXPECT_NE(r.id(), 0);
  EXPECT_EQ(r.cursor()["ns"].Str(), "test.c");
  EXPECT_EQ(r.batch_size("firstBatch"), 0u);
  EXPECT_EQ(r.cursor()["postBatchResumeToken"].Obj()["_data"].type(), bson::Type::kString);
  EXPECT_FALSE(r.await_data) << "the aggregate never waits";

  auto db = Run(HandleAggregate, R"({"aggregate": 1, "pipeline": [{"$changeStream": {}}], "cursor": {}})");
  EXPECT_EQ(db.cursor()["ns"].Str(), "test.$cmd.aggregate");
  EXPECT_TRUE(IsChangeStreamPipeline(J(R"({"0": {"$changeStream": {}}})")));
  EXPECT_FALSE(IsChangeStreamPipeline(J(R"({"0": {"$match": {}}})")));
}

TEST_F(ChangeStreamCmdTest, EmptyGetMoreAsksToAwaitDataWithDefaultOneSecond) {
  auto open = Open();
  auto before = std::chrono::steady_clock::now();
  auto r = GetMore(open.id(), "c");
  ASSERT_EQ(r.reply.view()["ok"].NumberDouble(), 1) << r.reply.ToString();
  EXPECT_EQ(r.batch_size("nextBatch"), 0u);
  EXPECT_EQ(r.id(), open.id());
  EXPECT_TRUE(r.cursor()["postBatchResumeToken"].IsObject());
  ASSERT_TRUE(r.await_data);
  auto wait = r.await_data->deadline - before;
  EXPECT_GE(wait, std::chrono::milliseconds(900));
  EXPECT_LE(wait, std::chrono::milliseconds(1500));
  // What it waits for: durable past everything already read.
  EXPECT_GE(r.await_data->after, engine_->durable());

  auto timed = Run(HandleGetMore,
                   "{\"getMore\": {\"$numberLong\": \"" + std::to_string(open.id()) + "\"}, \"collection\": \"c\"}", 50);
  ASSERT_TRUE(timed.await_data);
  EXPECT_LE(timed.await_data->deadline - std::chrono::steady_clock::now(), std::chrono::milliseconds(60));
}

TEST_F(ChangeStreamCmdTest, GetMoreReturnsEventsInBatchesThenInvalidates) {
  auto open = Open();
  InsertDurable(R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}, {"_id": 3}]})");
  auto r = GetMore(open.id(), "c", R"(, "batchSize": 2)");
  ASSERT_EQ(r.batch_size("nextBatch"), 2u) << r.reply.ToString();
  EXPECT_FALSE(r.await_data);
  bson::View first = r.cursor()["nextBatch"].Obj().first().Obj();
  EXPECT_EQ(first["operationType"].Str(), "insert");
  EXPECT_EQ(first["documentKey"].Obj()["_id"].NumberInt64(), 1);
  // While events wait in the cursor the token is the last returned event's.
  bson::View second = r.cursor()["nextBatch"].Obj()["1"].Obj();
  EXPECT_TRUE(bson::ValuesEqual(r.cursor()["postBatchResumeToken"], second["_id"]));

  r = GetMore(open.id(), "c");
  ASSERT_EQ(r.batch_size("nextBatch"), 1u) << r.reply.ToString();

  Run(HandleDrop, R"({"drop": "c"})");
  ASSERT_TRUE(engine_->WaitForDurable(engine_->visible(), std::chrono::seconds(5)).ok());
  r = GetMore(open.id(), "c");
  ASSERT_EQ(r.batch_size("nextBatch"), 2u) << r.reply.ToString();
  EXPECT_EQ(r.cursor()["nextBatch"].Obj()["1"].Obj()["operationType"].Str(), "invalidate");
  EXPECT_EQ(r.id(), 0) << "an invalidated stream is closed";
  EXPECT_EQ(GetMore(open.id(), "c").code(), 43);
}

TEST_F(ChangeStreamCmdTest, KillCursorsClosesAStream) {
  auto open = Open();
  auto r = Run(HandleKillCursors,
               "{\"killCursors\": \"c\", \"cursors\": [{\"$numberLong\": \"" + std::to_string(open.id()) + "\"}]}");
  EXPECT_EQ(r.reply.view()["cursorsKilled"].Obj().CountFields(), 1u) << r.reply.ToString();
  EXPECT_EQ(GetMore(open.id(), "c").code(), 43);
}

TEST_F(ChangeStreamCmdTest, ErrorsCarryMongoDbsLabels) {
  // Bad options fail the aggregate, unlabelled as resumable.
  auto bad = Open(R"({"fullDocument": "nope"})");
  EXPECT_EQ(bad.code(), 2);
  EXPECT_FALSE(bad.HasLabel("ResumableChangeStreamError"));
  // Removing _id is fatal for the stream on getMore: 280, NonResumable, cursor closed.
  auto open = Run(HandleAggregate, R"({"aggregate": "c", "pipeline": [{"$changeStream": {}}, {"$project": {"_id": 0}}], "cursor": {}})");
  InsertDurable(R"({"insert": "c", "documents": [{"_id": 1}]})");
  auto r = GetMore(open.id(), "c");
  EXPECT_EQ(r.code(), 280) << r.reply.ToString();
  EXPECT_TRUE(r.HasLabel("NonResumableChangeStreamError"));
  EXPECT_FALSE(r.HasLabel("ResumableChangeStreamError"));
  EXPECT_EQ(GetMore(open.id(), "c").code(), 43);
}

TEST_F(ChangeStreamCmdTest, FailGetMoreAfterCursorCheckout) {
  ASSERT_TRUE(failpoints_.Configure(kFailGetMoreAfterCursorCheckout, J(R"({"m": {"times": 1}})").view()["m"],
                                    J(R"({"errorCode": 6})")).ok());
  auto open = Open();
  auto r = GetMore(open.id(), "c");
  EXPECT_EQ(r.code(), 6) << r.reply.ToString();
  EXPECT_TRUE(r.HasLabel("ResumableChangeStreamError"));
  EXPECT_EQ(GetMore(open.id(), "c").code(), 43) << "the failed getMore closed the cursor";

  // On a cursor that is not a change stream the error is not labelled resumable.
  Run(HandleInsert, R"({"insert": "f", "documents": [{"_id": 1}, {"_id": 2}, {"_id": 3}]})");
  auto find = Run(HandleFind, R"({"find": "f", "batchSize": 1})");
  ASSERT_NE(find.id(), 0);
  ASSERT_TRUE(failpoints_.Configure(kFailGetMoreAfterCursorCheckout, J(R"({"m": {"times": 1}})").view()["m"],
                                    J(R"({"errorCode": 6})")).ok());
  r = GetMore(find.id(), "f");
  EXPECT_EQ(r.code(), 6);
  EXPECT_FALSE(r.HasLabel("ResumableChangeStreamError"));
}

TEST_F(ChangeStreamCmdTest, ExplainPrintsThePlan) {
  auto r = Run(HandleAggregate, R"({"aggregate": "c", "pipeline": [{"$changeStream": {}}, {"$match": {"operationType": "insert"}}], "explain": true})");
  ASSERT_EQ(r.reply.view()["ok"].NumberDouble(), 1) << r.reply.ToString();
  EXPECT_TRUE(r.reply.view()["stages"].IsArray()) << r.reply.ToString();
  EXPECT_EQ(cursors_->size(), 0u);
}

TEST_F(ChangeStreamCmdTest, UpdatesLogDisambiguatedPathsAndUpdateLookupReadsTheCollection) {
  InsertDurable(R"({"insert": "c", "documents": [{"_id": 1, "a": {"0": 1}}]})");
  auto open = Open(R"({"showExpandedEvents": true, "fullDocument": "updateLookup"})");
  Run(HandleUpdate, R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"a.0": 2}}}]})");
  ASSERT_TRUE(engine_->WaitForDurable(engine_->visible(), std::chrono::seconds(5)).ok());
  auto r = GetMore(open.id(), "c");
  ASSERT_EQ(r.batch_size("nextBatch"), 1u) << r.reply.ToString();
  bson::View ev = r.cursor()["nextBatch"].Obj().first().Obj();
  EXPECT_EQ(ev["updateDescription"].Obj()["disambiguatedPaths"].Obj().CountFields(), 1u) << ev.ToString();
  EXPECT_EQ(ev["fullDocument"].Obj()["a"].Obj()["0"].NumberInt64(), 2) << ev.ToString();
}

TEST_F(ChangeStreamCmdTest, KillingTheCursorOfAWaitingGetMoreAnswersCursorKilled) {
  auto open = Open();
  int64_t id = open.id();
  std::vector<int64_t> notified;
  cursors_->SetKillListener([&](int64_t killed) { notified.push_back(killed); });
  bson::Doc body = J("{\"getMore\": {\"$numberLong\": \"" + std::to_string(id) + "\"}, \"collection\": \"c\"}");
  CommandRequest req{"getMore", "test", body};
  OperationContext op(service_, client_);
  op.db = "test";
  op.max_time_ms = 10000;
  bson::Builder first;
  ASSERT_TRUE(HandleGetMore(op, req, &first).ok());
  // Nothing to return: the dispatcher would wait, tagged with the cursor and its flag.
  ASSERT_TRUE(op.await_data.has_value());
  EXPECT_EQ(op.await_data->cursor_id, id);
  ASSERT_TRUE(op.await_data->cursor_killed);
  EXPECT_FALSE(op.await_data->cursor_killed->load());
  auto flag = op.await_data->cursor_killed;

  auto kill = Run(HandleKillCursors, "{\"killCursors\": \"c\", \"cursors\": [{\"$numberLong\": \"" +
                                         std::to_string(id) + "\"}]}");
  ASSERT_EQ(kill.reply.view()["ok"].NumberDouble(), 1) << kill.reply.ToString();
  EXPECT_TRUE(flag->load());
  EXPECT_EQ(notified, std::vector<int64_t>{id});

  // The dispatcher's re-run of the same getMore.
  op.await_data.reset();
  bson::Builder second;
  Status st = HandleGetMore(op, req, &second);
  EXPECT_EQ(st.code(), 237);
  EXPECT_EQ(st.code_name(), "CursorKilled");
  cursors_->SetKillListener(nullptr);

  // A fresh getMore on the dead id is the usual CursorNotFound.
  EXPECT_EQ(GetMore(id, "c").code(), 43);
}

TEST_F(ChangeStreamCmdTest, ViewCommandsAreViewEventsOfAnExpandedDatabaseStream) {
  Run(HandleCreate, R"({"create": "c"})");
  auto db = Run(HandleAggregate,
                R"({"aggregate": 1, "pipeline": [{"$changeStream": {"showExpandedEvents": true}}], "cursor": {}})");
  auto classic = Run(HandleAggregate, R"({"aggregate": 1, "pipeline": [{"$changeStream": {}}], "cursor": {}})");
  ASSERT_NE(db.id(), 0) << db.reply.ToString();
  auto created = Run(HandleCreate, R"({"create": "v", "viewOn": "c", "pipeline": [{"$match": {"x": 1}}]})");
  ASSERT_EQ(created.reply.view()["ok"].NumberDouble(), 1) << created.reply.ToString();
  auto modified = Run(HandleCollMod, R"({"collMod": "v", "viewOn": "c", "pipeline": []})");
  ASSERT_EQ(modified.reply.view()["ok"].NumberDouble(), 1) << modified.reply.ToString();
  auto dropped = Run(HandleDrop, R"({"drop": "v"})");
  ASSERT_EQ(dropped.reply.view()["ok"].NumberDouble(), 1) << dropped.reply.ToString();
  InsertDurable(R"({"insert": "c", "documents": [{"_id": 1}]})");

  auto r = GetMore(db.id(), "$cmd.aggregate");
  ASSERT_EQ(r.batch_size("nextBatch"), 4u) << r.reply.ToString();
  std::vector<std::string> types;
  for (const auto& e : r.cursor()["nextBatch"].Obj()) types.emplace_back(e.Obj()["operationType"].Str());
  EXPECT_EQ(types, (std::vector<std::string>{"create", "modify", "drop", "insert"}));
  bson::View create = r.cursor()["nextBatch"].Obj().first().Obj();
  EXPECT_EQ(create.GetPath("ns.coll").Str(), "v");
  EXPECT_EQ(create.GetPath("operationDescription.viewOn").Str(), "c");
  EXPECT_TRUE(create["collectionUUID"].missing()) << create.ToString();

  auto plain = GetMore(classic.id(), "$cmd.aggregate");
  ASSERT_EQ(plain.batch_size("nextBatch"), 1u) << plain.reply.ToString();
}

TEST_F(ChangeStreamCmdTest, ClusterParameterChangeStreamOptions) {
  auto get = Run(HandleGetClusterParameter, R"({"getClusterParameter": "changeStreamOptions"})");
  ASSERT_EQ(get.reply.view()["ok"].NumberDouble(), 1) << get.reply.ToString();
  EXPECT_EQ(get.reply.view().GetPath("clusterParameters.0._id").Str(), "changeStreamOptions");
  EXPECT_EQ(get.reply.view().GetPath("clusterParameters.0.preAndPostImages.expireAfterSeconds").Str(), "off");

  auto set = Run(HandleSetClusterParameter,
                 R"({"setClusterParameter": {"changeStreamOptions": {"preAndPostImages": {"expireAfterSeconds": 30}}}})");
  ASSERT_EQ(set.reply.view()["ok"].NumberDouble(), 1) << set.reply.ToString();
  get = Run(HandleGetClusterParameter, R"({"getClusterParameter": ["changeStreamOptions"]})");
  EXPECT_EQ(get.reply.view().GetPath("clusterParameters.0.preAndPostImages.expireAfterSeconds").NumberInt64(), 30);
  EXPECT_GT(get.reply.view().GetPath("clusterParameters.0.clusterParameterTime").Ts().secs, 0u);

  EXPECT_EQ(Run(HandleSetClusterParameter, R"({"setClusterParameter": {"changeStreamOptions": {}}})").code(), 2);
  EXPECT_EQ(Run(HandleSetClusterParameter,
                R"({"setClusterParameter": {"changeStreamOptions": {"preAndPostImages": {"expireAfterSeconds": 0}}}})")
                .code(),
            2);
  EXPECT_EQ(Run(HandleSetClusterParameter, R"({"setClusterParameter": {"nope": {}}})").code(), 4);
  EXPECT_EQ(Run(HandleSetClusterParameter, R"({"setClusterParameter": 5})").code(), 14);
  EXPECT_EQ(Run(HandleGetClusterParameter, R"({"getClusterParameter": "nope"})").code(), 4);
  EXPECT_EQ(Run(HandleGetClusterParameter, R"({"getClusterParameter": []})").code(), 2);
  EXPECT_EQ(Run(HandleGetClusterParameter, R"({"getClusterParameter": 1})").code(), 14);
  // A failed set changed nothing.
  get = Run(HandleGetClusterParameter, R"({"getClusterParameter": "*"})");
  EXPECT_EQ(get.reply.view().GetPath("clusterParameters.0.preAndPostImages.expireAfterSeconds").NumberInt64(), 30);
}

}  // namespace
}  // namespace brook::commands
