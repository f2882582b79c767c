#include "changestream/stages.h"

#include <gtest/gtest.h>

#include "bson/builder.h"
#include "bson/json.h"
#include "changestream/host.h"

namespace brook::changestream {
namespace {

bson::Doc J(std::string_view json) { return std::move(bson::FromJson(json).value()); }

const CollectionUuid kUuid{0xA5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

bson::Doc Entry(bson::Timestamp ts, std::string_view op, std::string_view ns, std::string_view o,
                std::string_view o2 = "", bool with_uuid = true) {
  bson::Builder b;
  b.AppendTimestamp("ts", ts);
  b.AppendInt64("t", 1);
  b.AppendInt64("v", 2);
  b.AppendDate("wall", 1700000000000);
  b.AppendString("op", op);
  b.AppendString("ns", ns);
  if (with_uuid) b.AppendBinary("ui", 4, std::string_view(reinterpret_cast<const char*>(kUuid.data()), 16));
  b.AppendDocument("o", J(o));
  if (!o2.empty()) b.AppendDocument("o2", J(o2));
  return b.Done();
}

std::string Keys(bson::View doc) {
  std::string out;
  for (const auto& e : doc) {
    if (!out.empty()) out += ",";
    out += std::string(e.key());
  }
  return out;
}

ChangeStreamSpec Spec(std::string_view json = "{}", std::optional<std::string_view> coll = "c") {
  bson::Doc stage = J(std::string("{\"s\": ") + std::string(json) + "}");
  return std::move(ParseChangeStreamSpec(stage["s"], "test", coll).value());
}

ChangeEvent Transform(const ChangeStreamSpec& spec, const bson::Doc& entry_doc) {
  auto entry = ParseOplogEntry(entry_doc);
  EXPECT_TRUE(entry.ok()) << entry.status().ToString();
  auto ev = TransformStage(&spec).Transform(entry.value());
  EXPECT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_TRUE(ev.value().has_value());
  return std::move(*ev.value());
}

TEST(TransformTest, InsertHasMongoDBsFieldsInOrder) {
  ChangeStreamSpec spec = Spec();
  ChangeEvent ev = Transform(spec, Entry({100, 1}, "i", "test.c", R"({"_id": 1, "x": 2})", R"({"_id": 1})"));
  bson::Doc doc = ev.ToBson(false);
  EXPECT_EQ(Keys(doc), "_id,operationType,clusterTime,wallTime,fullDocument,ns,documentKey");
  EXPECT_EQ(doc["operationType"].Str(), "insert");
  EXPECT_EQ(doc.view().GetPath("ns.coll").Str(), "c");
  EXPECT_EQ(doc.view().GetPath("fullDocument.x").Int32(), 2);
  EXPECT_EQ(Keys(ev.ToBson(true)), "_id,operationType,clusterTime,collectionUUID,wallTime,fullDocument,ns,documentKey");
  // The token decodes to the event: clusterTime, uuid, {operationType, documentKey}.
  auto data = ResumeToken::Parse(doc["_id"].Obj()).value().Decode();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data.value().cluster_time, (bson::Timestamp{100, 1}));
  EXPECT_EQ(data.value().uuid, kUuid);
  EXPECT_EQ(Keys(*data.value().event_identifier), "operationType,documentKey");
}

TEST(TransformTest, UpdateReplaceDelete) {
  ChangeStreamSpec spec = Spec();
  ChangeEvent up = Transform(spec, Entry({100, 2}, "u", "test.c",
                                         R"({"$v": 2, "updateDescription": {"updatedFields": {"x": 3},
                                             "removedFields": ["y"], "truncatedArrays": []}})",
                                         R"({"_id": 1})"));
  bson::Doc doc = up.ToBson(false);
  EXPECT_EQ(Keys(doc), "_id,operationType,clusterTime,wallTime,ns,documentKey,updateDescription");
  EXPECT_EQ(Keys(doc["updateDescription"].Obj()), "updatedFields,removedFields,truncatedArrays");
  EXPECT_TRUE(up.pre_image_id.has_value());
  ChangeStreamSpec expanded = Spec(R"({"showExpandedEvents": true})");
  bson::Doc exp_doc = Transform(expanded, Entry({100, 2}, "u", "test.c",
                                                R"({"$v": 2, "updateDescription": {"updatedFields": {"a.1": 2},
                                                    "removedFields": [], "truncatedArrays": [],
                                                    "disambiguatedPaths": {"a.1": ["a", "1"]}}})",
                                                R"({"_id": 1})"))
                          .ToBson(true);
  EXPECT_EQ(Keys(exp_doc["updateDescription"].Obj()), "updatedFields,removedFields,truncatedArrays,disambiguatedPaths");
  EXPECT_EQ(exp_doc.view().GetPath("updateDescription.disambiguatedPaths").Obj().CountFields(), 1u);

  bson::Doc rep = Transform(spec, Entry({100, 3}, "u", "test.c", R"({"_id": 1, "z": 1})", R"({"_id": 1})")).ToBson(false);
  EXPECT_EQ(rep["operationType"].Str(), "replace");
  EXPECT_EQ(Keys(rep), "_id,operationType,clusterTime,wallTime,fullDocument,ns,documentKey");

  bson::Doc del = Transform(spec, Entry({100, 4}, "d", "test.c", R"({"_id": 1})")).ToBson(false);
  EXPECT_EQ(del["operationType"].Str(), "delete");
  EXPECT_EQ(Keys(del), "_id,operationType,clusterTime,wallTime,ns,documentKey");

  bson::Doc bad_doc = Entry({1, 1}, "u", "test.c", R"({"$v": 1, "x": 1})", R"({"_id": 1})");
  auto bad = ParseOplogEntry(bad_doc);
  EXPECT_EQ(TransformStage(&spec).Transform(bad.value()).status().code(), 6741200);
}

TEST(TransformTest, DdlEvents) {
  ChangeStreamSpec spec = Spec(R"({"showExpandedEvents": true})");
  ChangeEvent rename = Transform(
      spec, Entry({100, 5}, "c", "test.$cmd", R"({"renameCollection": "test.c", "to": "test.d", "stayTemp": false})"));
  bson::Doc r = rename.ToBson(false);
  EXPECT_EQ(Keys(r), "to,_id,operationType,clusterTime,wallTime,ns");
  EXPECT_EQ(r.view().GetPath("to.coll").Str(), "d");
  EXPECT_EQ(r.view().GetPath("ns.coll").Str(), "c");
  bson::Doc re = rename.ToBson(true);
  EXPECT_EQ(Keys(re), "to,_id,operationType,clusterTime,collectionUUID,wallTime,ns,operationDescription");
  EXPECT_EQ(Keys(re["operationDescription"].Obj()), "to");
  EXPECT_EQ(Keys(*rename.token_data.event_identifier), "operationType,operationDescription");

  bson::Doc drop = Transform(spec, Entry({100, 6}, "c", "test.$cmd", R"({"drop": "c"})")).ToBson(false);
  EXPECT_EQ(Keys(drop), "_id,operationType,clusterTime,wallTime,ns");

  ChangeEvent dropdb = Transform(spec, Entry({100, 7}, "c", "test.$cmd", R"({"dropDatabase": 1})", "", false));
  bson::Doc ddb = dropdb.ToBson(true);
  EXPECT_EQ(Keys(ddb), "_id,operationType,clusterTime,wallTime,ns");
  EXPECT_EQ(Keys(ddb["ns"].Obj()), "db");
  EXPECT_FALSE(dropdb.token_data.uuid.has_value());

  bson::Doc create = Transform(spec, Entry({100, 8}, "c", "test.$cmd",
                                           R"({"create": "c", "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"}})"))
                         .ToBson(true);
  EXPECT_EQ(create["operationType"].Str(), "create");
  EXPECT_EQ(Keys(create["operationDescription"].Obj()), "idIndex");

  bson::Doc ci = Transform(spec, Entry({100, 9}, "c", "test.$cmd",
                                       R"({"createIndexes": "c", "v": 2, "key": {"x": 1}, "name": "x_1"})"))
                     .ToBson(true);
  EXPECT_EQ(ci["operationType"].Str(), "createIndexes");
  EXPECT_EQ(ci.view().GetPath("operationDescription.indexes.0.name").Str(), "x_1");

  bson::Doc di = Transform(spec, Entry({100, 10}, "c", "test.$cmd", R"({"dropIndexes": "c", "index": "x_1"})",
                                       R"({"v": 2, "key": {"x": 1}, "name": "x_1"})"))
                     .ToBson(true);
  EXPECT_EQ(di["operationType"].Str(), "dropIndexes");
  EXPECT_EQ(di.view().GetPath("operationDescription.indexes.0.name").Str(), "x_1");

  bson::Doc mod = Transform(spec, Entry({100, 11}, "c", "test.$cmd", R"({"collMod": "c", "validationLevel": "off"})",
                                        R"({"collectionOptions_old": {"validationLevel": "strict"}})"))
                      .ToBson(true);
  EXPECT_EQ(mod["operationType"].Str(), "modify");
  EXPECT_EQ(mod.view().GetPath("stateBeforeChange.collectionOptions.validationLevel").Str(), "strict");
}

TEST(TransformTest, ViewDefinitionWritesBecomeViewDdlEvents) {
  ChangeStreamSpec spec = Spec(R"({"showExpandedEvents": true})", std::nullopt);
  ChangeEvent create = Transform(spec, Entry({100, 12}, "i", "test.system.views",
                                             R"({"_id": "test.v", "viewOn": "c", "pipeline": [{"$match": {"x": 1}}]})"));
  bson::Doc c = create.ToBson(true);
  EXPECT_EQ(Keys(c), "_id,operationType,clusterTime,wallTime,ns,operationDescription");
  EXPECT_EQ(c["operationType"].Str(), "create");
  EXPECT_EQ(c.view().GetPath("ns.db").Str(), "test");
  EXPECT_EQ(c.view().GetPath("ns.coll").Str(), "v");
  EXPECT_EQ(Keys(c["operationDescription"].Obj()), "viewOn,pipeline");
  EXPECT_EQ(c.view().GetPath("operationDescription.viewOn").Str(), "c");
  // The token keeps system.views' UUID and identifies the event by its description.
  EXPECT_EQ(create.token_data.uuid, kUuid);
  EXPECT_EQ(Keys(*create.token_data.event_identifier), "operationType,operationDescription");
  EXPECT_FALSE(create.pre_image_id.has_value());

  bson::Doc modify = Transform(spec, Entry({100, 13}, "u", "test.system.views",
                                           R"({"_id": "test.v", "viewOn": "d", "pipeline": []})",
                                           R"({"_id": "test.v"})"))
                         .ToBson(true);
  EXPECT_EQ(Keys(modify), "_id,operationType,clusterTime,wallTime,ns,operationDescription");
  EXPECT_EQ(modify["operationType"].Str(), "modify");
  EXPECT_EQ(modify.view().GetPath("operationDescription.viewOn").Str(), "d");

  ChangeEvent drop = Transform(spec, Entry({100, 14}, "d", "test.system.views", R"({"_id": "test.v"})"));
  bson::Doc d = drop.ToBson(true);
  EXPECT_EQ(Keys(d), "_id,operationType,clusterTime,wallTime,ns");
  EXPECT_EQ(d["operationType"].Str(), "drop");
  EXPECT_EQ(d.view().GetPath("ns.coll").Str(), "v");
  EXPECT_EQ(Keys(*drop.token_data.event_identifier), "operationType");
  EXPECT_FALSE(drop.pre_image_id.has_value());

  // A definition without a string _id is a corrupt oplog, not a crash.
  // (The entry's document must outlive the parsed entry, which points into it: the ASan
  // lane caught this test reading a destroyed temporary.)
  bson::Doc bad_doc = Entry({100, 15}, "i", "test.system.views", R"({"_id": 1})");
  auto bad = ParseOplogEntry(bad_doc);
  EXPECT_EQ(TransformStage(&spec).Transform(bad.value()).status().code(), 40532);
}

TEST(TransformTest, UnwindsApplyOpsWithTransactionFields) {
  ChangeStreamSpec spec = Spec();
  OplogPredicate pred(spec.scope, false);
  bson::Builder b;
  b.AppendTimestamp("ts", {200, 1});
  b.AppendDate("wall", 1);
  b.AppendString("op", "c");
  b.AppendString("ns", "admin.$cmd");
  b.AppendDocument("o", J(R"({"applyOps": [{"op": "i", "ns": "test.other", "o": {"_id": 0}},
                                            {"op": "i", "ns": "test.c", "o": {"_id": 1}, "o2": {"_id": 1}},
                                            {"op": "d", "ns": "test.c", "o": {"_id": 2}}]})"));
  b.AppendDocument("lsid", J(R"({"id": 1})"));
  b.AppendInt64("txnNumber", 5);
  bson::Doc entry_doc = b.Done();
  auto entry = ParseOplogEntry(entry_doc);
  ASSERT_TRUE(OplogMatchStage(&pred).Matches(entry.value()));
  std::vector<OplogEntry> ops;
  ASSERT_TRUE(UnwindTransactionStage(&pred).Unwind(entry.value(), &ops).ok());
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(*ops[0].txn_op_index, 1);
  EXPECT_EQ(*ops[1].txn_op_index, 2);
  auto ev = TransformStage(&spec).Transform(ops[0]);
  bson::Doc doc = ev.value()->ToBson(false);
  EXPECT_EQ(Keys(doc), "txnNumber,lsid,_id,operationType,clusterTime,wallTime,fullDocument,ns,documentKey");
  EXPECT_EQ(ev.value()->token_data.txn_op_index, 1);
}

TEST(ResumeCompareTest, FollowsMongoDBsOrder) {
  ResumeTokenData client;
  client.cluster_time = {10, 1};
  client.uuid = kUuid;
  client.event_identifier = J(R"({"operationType": "insert", "documentKey": {"_id": 5}})");
  ResumeTokenData ev = client;
  EXPECT_EQ(CompareAgainstClientToken(ev, client), ResumeStatus::kFoundToken);
  ev.event_identifier = J(R"({"operationType": "insert", "documentKey": {"_id": 5.0}})");
  EXPECT_EQ(CompareAgainstClientToken(ev, client), ResumeStatus::kFoundToken);  // numbers by value
  ev.event_identifier = J(R"({"operationType": "insert", "documentKey": {"_id": 4}})");
  EXPECT_EQ(CompareAgainstClientToken(ev, client), ResumeStatus::kCheckNextDoc);
  ev.event_identifier = J(R"({"operationType": "insert", "documentKey": {"_id": 6}})");
  EXPECT_EQ(CompareAgainstClientToken(ev, client), ResumeStatus::kSurpassedToken);
  ev = client;
  ev.cluster_time = {10, 2};
  EXPECT_EQ(CompareAgainstClientToken(ev, client), ResumeStatus::kSurpassedToken);
  ev = client;
  ev.from_invalidate = true;
  EXPECT_EQ(CompareAgainstClientToken(ev, client), ResumeStatus::kSurpassedToken);
  ResumeTokenData frag = client;
  frag.fragment_num = 1;
  EXPECT_EQ(CompareAgainstClientToken(client, frag), ResumeStatus::kNeedsSplit);
  ResumeTokenData hwm;
  hwm.cluster_time = {10, 1};
  hwm.type = ResumeTokenData::Type::kHighWaterMark;
  EXPECT_EQ(CompareAgainstClientToken(client, hwm), ResumeStatus::kSurpassedToken);
}

// Runs an event through 4..11 of a plan built from `pipeline_json`.
struct Harness {
  explicit Harness(std::string_view pipeline_json, std::optional<std::string> coll = "c", PlanContext ctx = {}) {
    bson::Doc holder = J(std::string("{\"p\": ") + std::string(pipeline_json) + "}");
    ctx.db = "test";
    ctx.coll = coll;
    auto built = BuildChangeStreamPlan(holder["p"].Obj(), ctx);
    EXPECT_TRUE(built.ok()) << built.status().ToString();
    plan = built.value();
    stages = BuildEventStages(*plan, &host);
  }
  Status Run(const bson::Doc& entry_doc, std::vector<StreamItem>* out) {
    auto entry = ParseOplogEntry(entry_doc);
    if (!entry.ok()) return entry.status();
    auto ev = TransformStage(&plan->spec).Transform(entry.value());
    if (!ev.ok()) return ev.status();
    StreamItem item;
    item.event = std::move(*ev.value());
    return RunEventStages(stages, 0, std::move(item), out);
  }
  MemoryHost host;
  std::shared_ptr<const ChangeStreamPlan> plan;
  std::vector<std::unique_ptr<EventStage>> stages;
};

TEST(EventStagesTest, DropInvalidatesCollectionStream) {
  Harness h(R"([{"$changeStream": {}}])");
  std::vector<StreamItem> out;
  ASSERT_TRUE(h.Run(Entry({100, 6}, "c", "test.$cmd", R"({"drop": "c"})"), &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ((*out[0].doc)["operationType"].Str(), "drop");
  EXPECT_FALSE(out[0].event.ends_stream);
  EXPECT_EQ(Keys(*out[1].doc), "_id,operationType,clusterTime,wallTime");
  EXPECT_EQ((*out[1].doc)["operationType"].Str(), "invalidate");
  EXPECT_TRUE(out[1].event.ends_stream);
  EXPECT_TRUE(out[1].event.token_data.from_invalidate);
  EXPECT_LT(out[0].token().Compare(out[1].token()), 0);

  // A database stream sees the drop but is not invalidated by it.
  Harness db(R"([{"$changeStream": {}}])", std::nullopt);
  out.clear();
  ASSERT_TRUE(db.Run(Entry({100, 6}, "c", "test.$cmd", R"({"drop": "c"})"), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  out.clear();
  ASSERT_TRUE(db.Run(Entry({100, 7}, "c", "test.$cmd", R"({"dropDatabase": 1})", "", false), &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ((*out[1].doc)["operationType"].Str(), "invalidate");
}

TEST(EventStagesTest, ExpandedEventsAreHiddenByDefault) {
  Harness h(R"([{"$changeStream": {}}])");
  std::vector<StreamItem> out;
  ASSERT_TRUE(h.Run(Entry({100, 8}, "c", "test.$cmd", R"({"create": "c"})"), &out).ok());
  EXPECT_TRUE(out.empty());
  Harness e(R"([{"$changeStream": {"showExpandedEvents": true}}])");
  ASSERT_TRUE(e.Run(Entry({100, 8}, "c", "test.$cmd", R"({"create": "c"})"), &out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(EventStagesTest, UserStagesMayNotChangeTheToken) {
  bson::Doc insert = Entry({100, 1}, "i", "test.c", R"({"_id": 1, "x": 2})", R"({"_id": 1})");
  Harness project(R"([{"$changeStream": {}}, {"$project": {"_id": 0}}])");
  std::vector<StreamItem> out;
  Status s = project.Run(insert, &out);
  EXPECT_EQ(s.code(), 280);
  EXPECT_EQ(s.code_name(), "ChangeStreamFatalError");
  EXPECT_TRUE(s.HasLabel("NonResumableChangeStreamError"));
  EXPECT_NE(s.reason().find("Encountered an event whose _id field, which contains the resume token, was "
                            "modified by the pipeline."),
            std::string::npos);

  Harness set_id(R"([{"$changeStream": {}}, {"$set": {"_id": "x"}}])");
  EXPECT_EQ(set_id.Run(insert, &out).code(), 280);

  Harness keep(R"([{"$changeStream": {}}, {"$project": {"optype": "$operationType", "ns": 1}}])");
  out.clear();
  ASSERT_TRUE(keep.Run(insert, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Keys(*out[0].doc), "_id,ns,optype");

  Harness filter(R"([{"$changeStream": {}}, {"$match": {"operationType": "delete"}}])");
  out.clear();
  ASSERT_TRUE(filter.Run(insert, &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(EventStagesTest, FilteredInvalidateStillEndsTheStream) {
  Harness h(R"([{"$changeStream": {}}, {"$match": {"operationType": "insert"}}])");
  std::vector<StreamItem> out;
  ASSERT_TRUE(h.Run(Entry({100, 6}, "c", "test.$cmd", R"({"drop": "c"})"), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].doc.has_value());
  EXPECT_TRUE(out[0].event.ends_stream);
}

TEST(EventStagesTest, PreImages) {
  bson::Doc update = Entry({100, 2}, "u", "test.c",
                           R"({"$v": 2, "updateDescription": {"updatedFields": {"x": 3}, "removedFields": [],
                               "truncatedArrays": []}})",
                           R"({"_id": 1})");
  Harness when(R"([{"$changeStream": {"fullDocumentBeforeChange": "whenAvailable"}}])");
  std::vector<StreamItem> out;
  ASSERT_TRUE(when.Run(update, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Keys(*out[0].doc), "_id,operationType,clusterTime,wallTime,ns,documentKey,updateDescription,"
                               "fullDocumentBeforeChange");
  EXPECT_EQ((*out[0].doc)["fullDocumentBeforeChange"].type(), bson::Type::kNull);

  when.host.SetPreImage(kUuid, {100, 2}, 0, J(R"({"_id": 1, "x": 1})"));
  out.clear();
  ASSERT_TRUE(when.Run(update, &out).ok());
  EXPECT_EQ(out[0].doc->view().GetPath("fullDocumentBeforeChange.x").Int32(), 1);

  Harness required(R"([{"$changeStream": {"fullDocumentBeforeChange": "required"}}])");
  Status s = required.Run(update, &out);
  EXPECT_EQ(s.code(), 47);
  EXPECT_EQ(s.code_name(), "NoMatchingDocument");
  EXPECT_NE(s.reason().find("Change stream was configured to require a pre-image for all update, delete and "
                            "replace events, but the pre-image was not found for event: "),
            std::string::npos);
  // Inserts need no pre-image.
  out.clear();
  EXPECT_TRUE(required.Run(Entry({100, 1}, "i", "test.c", R"({"_id": 1})", R"({"_id": 1})"), &out).ok());
}

TEST(EventStagesTest, PostImages) {
  bson::Doc update = Entry({100, 2}, "u", "test.c",
                           R"({"$v": 2, "updateDescription": {"updatedFields": {"x": 3, "n.m": 1}, "removedFields": ["y"],
                               "truncatedArrays": [{"field": "arr", "newSize": 1}]}})",
                           R"({"_id": 1})");
  Harness lookup(R"([{"$changeStream": {"fullDocument": "updateLookup"}}])");
  std::vector<StreamItem> out;
  ASSERT_TRUE(lookup.Run(update, &out).ok());
  EXPECT_EQ((*out[0].doc)["fullDocument"].type(), bson::Type::kNull);
  EXPECT_EQ(Keys(*out[0].doc), "_id,operationType,clusterTime,wallTime,fullDocument,ns,documentKey,updateDescription");
  lookup.host.SetDocument("test.c", J(R"({"_id": 1})"), J(R"({"_id": 1, "x": 99})"));
  out.clear();
  ASSERT_TRUE(lookup.Run(update, &out).ok());
  EXPECT_EQ(out[0].doc->view().GetPath("fullDocument.x").Int32(), 99);

  Harness when(R"([{"$changeStream": {"fullDocument": "whenAvailable"}}])");
  when.host.SetPreImage(kUuid, {100, 2}, 0, J(R"({"_id": 1, "x": 1, "y": 2, "arr": [1, 2, 3]})"));
  out.clear();
  ASSERT_TRUE(when.Run(update, &out).ok());
  EXPECT_EQ(bson::ToRelaxedJson(out[0].doc->view()["fullDocument"].Obj()),
            bson::ToRelaxedJson(J(R"({"_id": 1, "x": 3, "arr": [1], "n": {"m": 1}})")));

  Harness required(R"([{"$changeStream": {"fullDocument": "required"}}])");
  Status s = required.Run(update, &out);
  EXPECT_EQ(s.code(), 47);
  EXPECT_NE(s.reason().find("require a post-image for all update events"), std::string::npos);
}

TEST(ApplyUpdateDescriptionTest, ArraysAndNesting) {
  auto post = ApplyUpdateDescription(
      J(R"({"_id": 1, "a": {"1": 1}, "arr": ["foo", {"a": "bar"}, 1, 2, 3], "list": [1]})"),
      J(R"({"updatedFields": {"a.1": 2, "arr.1.b": 3, "list.3": 7, "new": {"k": 1}}, "removedFields": [],
            "truncatedArrays": [{"field": "arr", "newSize": 2}]})"));
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(bson::ToRelaxedJson(post.value()),
            bson::ToRelaxedJson(J(R"({"_id": 1, "a": {"1": 2}, "arr": ["foo", {"a": "bar", "b": 3}],
                                     "list": [1, null, null, 7], "new": {"k": 1}})")));
}

TEST(EventStagesTest, SplitsLargeEventsAndRefusesThemOtherwise) {
  std::string big(3000, 'x');
  bson::Doc insert = Entry({100, 1}, "i", "test.c", R"({"_id": 1, "big": ")" + big + R"("})", R"({"_id": 1})");
  PlanContext small;
  small.max_event_bytes = 2000;
  small.max_fragment_bytes = 2500;
  Harness refuse(R"([{"$changeStream": {}}])", "c", small);
  std::vector<StreamItem> out;
  Status s = refuse.Run(insert, &out);
  EXPECT_EQ(s.code(), 10334);
  EXPECT_EQ(s.code_name(), "BSONObjectTooLarge");

  PlanContext split_ctx;
  split_ctx.max_event_bytes = 2000;
  split_ctx.max_fragment_bytes = 3500;
  Harness split(R"([{"$changeStream": {}}, {"$changeStreamSplitLargeEvent": {}}])", "c", split_ctx);
  out.clear();
  ASSERT_TRUE(split.Run(insert, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  for (size_t i = 0; i < out.size(); ++i) {
    const bson::Doc& frag = *out[i].doc;
    EXPECT_EQ(frag.view().GetPath("splitEvent.fragment").Int32(), static_cast<int32_t>(i + 1));
    EXPECT_EQ(frag.view().GetPath("splitEvent.of").Int32(), 2);
    EXPECT_EQ(*out[i].event.token_data.fragment_num, static_cast<int32_t>(i));
    EXPECT_LE(frag.size(), 3500u);
  }
  EXPECT_LT(out[0].token().Compare(out[1].token()), 0);
  // The small fields come first; the big fullDocument fills the last fragment.
  EXPECT_TRUE(out[0].doc->view().HasField("operationType"));
  EXPECT_TRUE(out[1].doc->view().HasField("fullDocument"));
}

}  // namespace
}  // namespace brook::changestream
