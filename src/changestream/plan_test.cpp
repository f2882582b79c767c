#include "changestream/plan.h"

#include <gtest/gtest.h>

#include "bson/builder.h"
#include "bson/json.h"

namespace brook::changestream {
namespace {

bson::Doc J(std::string_view json) { return std::move(bson::FromJson(json).value()); }

// `stages_json` is a JSON array; wrapped in {p: [...]} to get a BSON array.
StatusWith<std::shared_ptr<const ChangeStreamPlan>> Build(std::string_view stages_json,
                                                          std::optional<std::string> coll = "c",
                                                          std::string db = "test") {
  bson::Doc holder = J(std::string("{\"p\": ") + std::string(stages_json) + "}");
  PlanContext ctx;
  ctx.db = db;
  ctx.coll = coll;
  return BuildChangeStreamPlan(holder["p"].Obj(), ctx);
}

std::string StageNames(const ChangeStreamPlan& plan) {
  std::string out;
  bson::Doc explain = plan.Explain();
  for (const auto& s : explain["stages"].Obj()) {
    bson::Element first = s.Obj().first();
    if (!out.empty()) out += ",";
    if (first.key() == "$changeStream") {
      out += std::string(first.Obj()["stage"].Str());
    } else {
      out += std::string(first.key());
    }
  }
  return out;
}

OplogEntry Op(std::string_view op, std::string_view ns, bson::View o) {
  OplogEntry e;
  e.op = op;
  e.ns = ns;
  e.o = o;
  return e;
}

TEST(PlanTest, DefaultPlanHasMongoDBsStagesInOrder) {
  auto plan = Build(R"([{"$changeStream": {}}])");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan.value()->start.kind, StartPoint::Kind::kNow);
  EXPECT_EQ(StageNames(*plan.value()),
            "internalOplogMatch,internalUnwindTransaction,internalTransform,internalCheckInvalidate,"
            "internalCheckResumability,$match,userStages,internalEventSizeCheck");
}

TEST(PlanTest, OptionsAddTheirStages) {
  ResumeTokenData d;
  d.cluster_time = {10, 1};
  d.uuid = CollectionUuid{9};
  d.event_identifier = J(R"({"operationType": "insert", "documentKey": {"_id": 1}})");
  std::string token = ResumeToken::FromData(d).Hex();
  auto plan = Build(R"([{"$changeStream": {"fullDocument": "updateLookup", "fullDocumentBeforeChange": "whenAvailable",
                        "showExpandedEvents": true, "resumeAfter": {"_data": ")" + token + R"("}}},
                        {"$match": {"operationType": "insert"}}, {"$changeStreamSplitLargeEvent": {}}])");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const auto& p = *plan.value();
  EXPECT_EQ(p.start.kind, StartPoint::Kind::kResumeAfter);
  EXPECT_EQ(p.start.at, (bson::Timestamp{10, 1}));
  EXPECT_TRUE(p.split_large_events);
  ASSERT_TRUE(p.user_pipeline != nullptr);
  EXPECT_EQ(StageNames(p),
            "internalOplogMatch,internalUnwindTransaction,internalTransform,internalCheckInvalidate,"
            "internalCheckResumability,internalAddPreImage,internalAddPostImage,"
            "internalEnsureResumeTokenPresent,userStages,$changeStreamSplitLargeEvent");
  bson::Doc explain = p.Explain();
  EXPECT_EQ(explain.view().GetPath("changeStream.startPoint.kind").Str(), "resumeAfter");
  EXPECT_EQ(explain.view().GetPath("oplogFilter.ns").Str(), "test.c");
}

TEST(PlanTest, StartAtOperationTime) {
  auto plan = Build(R"([{"$changeStream": {"startAtOperationTime": {"$timestamp": {"t": 7, "i": 3}}}}])");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan.value()->start.kind, StartPoint::Kind::kOperationTime);
  EXPECT_EQ(plan.value()->start.at, (bson::Timestamp{7, 3}));
  EXPECT_FALSE(plan.value()->start.from_event_token());
}

TEST(PlanTest, UserStageErrors) {
  auto unknown = Build(R"([{"$changeStream": {}}, {"$unsupported": "foo"}])");
  EXPECT_EQ(unknown.status().code(), 40324);
  auto group = Build(R"([{"$changeStream": {}}, {"$group": {"_id": null}}])");
  EXPECT_EQ(group.status().code(), static_cast<int32_t>(ErrorCodes::kIllegalOperation));
  EXPECT_EQ(group.status().reason(), "$group is not permitted in a $changeStream pipeline");
  EXPECT_EQ(Build(R"([{"$changeStream": {}}, {"$lookup": {}}])").status().code(), 20);
  EXPECT_EQ(Build(R"([{"$changeStream": {}}, {"$changeStream": {}}])").status().code(), 40602);
  EXPECT_EQ(Build(R"([{"$changeStream": {}}, {"$changeStreamSplitLargeEvent": {}}, {"$match": {}}])").status().code(),
            7182802);
  EXPECT_EQ(Build(R"([{"$changeStream": {}}, {"$changeStreamSplitLargeEvent": {"a": 1}}])").status().code(), 7182800);
  EXPECT_EQ(Build(R"([{"$changeStream": {}}, {"$match": {"$bogus": 1}}])").status().ok(), false);
  EXPECT_EQ(Build(R"([{"$changeStream": {}}, {"$match": {}, "$project": {}}])").status().code(), 40323);
  // Spec errors come before user stage errors.
  EXPECT_EQ(Build(R"([{"$changeStream": {"foo": 1}}, {"$group": {}}])").status().code(), 40415);
  // Resuming from a fragment needs the split stage.
  ResumeTokenData d;
  d.cluster_time = {10, 1};
  d.uuid = CollectionUuid{9};
  d.event_identifier = J(R"({"operationType": "insert", "documentKey": {"_id": 1}})");
  d.fragment_num = 1;
  std::string frag = ResumeToken::FromData(d).Hex();
  EXPECT_EQ(Build(R"([{"$changeStream": {"resumeAfter": {"_data": ")" + frag + R"("}}}])").status().code(), 280);
  EXPECT_TRUE(Build(R"([{"$changeStream": {"resumeAfter": {"_data": ")" + frag +
                    R"("}}}, {"$changeStreamSplitLargeEvent": {}}])")
                  .ok());
}

TEST(PlanTest, AllowedStagesParse) {
  auto plan = Build(R"([{"$changeStream": {}}, {"$match": {"x": 1}}, {"$project": {"ns": 1}},
                        {"$addFields": {"a": 1}}, {"$set": {"b": 2}}, {"$unset": "b"},
                        {"$replaceWith": "$$ROOT"}, {"$replaceRoot": {"newRoot": "$$ROOT"}}])");
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
}

TEST(PlanTest, CollectionPredicate) {
  OplogPredicate p(Scope{Scope::Kind::kCollection, "test", "c"}, false);
  bson::Doc doc = J(R"({"_id": 1})");
  EXPECT_TRUE(p.MatchesEntry(Op("i", "test.c", doc)));
  EXPECT_TRUE(p.MatchesEntry(Op("u", "test.c", doc)));
  EXPECT_FALSE(p.MatchesEntry(Op("i", "test.c2", doc)));
  EXPECT_FALSE(p.MatchesEntry(Op("i", "other.c", doc)));
  EXPECT_FALSE(p.MatchesEntry(Op("n", "test.c", doc)));
  bson::Doc drop = J(R"({"drop": "c"})"), drop_other = J(R"({"drop": "d"})");
  EXPECT_TRUE(p.MatchesEntry(Op("c", "test.$cmd", drop)));
  EXPECT_FALSE(p.MatchesEntry(Op("c", "test.$cmd", drop_other)));
  bson::Doc rename_from = J(R"({"renameCollection": "test.c", "to": "test.d"})");
  bson::Doc rename_to = J(R"({"renameCollection": "test.x", "to": "test.c"})");
  EXPECT_TRUE(p.MatchesEntry(Op("c", "test.$cmd", rename_from)));
  EXPECT_TRUE(p.MatchesEntry(Op("c", "test.$cmd", rename_to)));
  bson::Doc drop_db = J(R"({"dropDatabase": 1})");
  EXPECT_TRUE(p.MatchesEntry(Op("c", "test.$cmd", drop_db)));
  EXPECT_FALSE(p.MatchesEntry(Op("c", "other.$cmd", drop_db)));
  bson::Doc create = J(R"({"create": "c"})");
  EXPECT_FALSE(p.MatchesEntry(Op("c", "test.$cmd", create)));
  EXPECT_TRUE(OplogPredicate(Scope{Scope::Kind::kCollection, "test", "c"}, true)
                  .MatchesEntry(Op("c", "test.$cmd", create)));
}

TEST(PlanTest, DatabaseAndClusterPredicates) {
  bson::Doc doc = J(R"({"_id": 1})");
  OplogPredicate db(Scope{Scope::Kind::kDatabase, "test", ""}, false);
  EXPECT_TRUE(db.MatchesEntry(Op("i", "test.a", doc)));
  EXPECT_TRUE(db.MatchesEntry(Op("i", "test.b", doc)));
  EXPECT_FALSE(db.MatchesEntry(Op("i", "test.system.views", doc)));
  EXPECT_FALSE(db.MatchesEntry(Op("i", "other.a", doc)));
  OplogPredicate cluster(Scope{Scope::Kind::kCluster, "", ""}, false);
  EXPECT_TRUE(cluster.MatchesEntry(Op("i", "test.a", doc)));
  EXPECT_TRUE(cluster.MatchesEntry(Op("i", "other.a", doc)));
  EXPECT_FALSE(cluster.MatchesEntry(Op("i", "admin.a", doc)));
  EXPECT_FALSE(cluster.MatchesEntry(Op("i", "config.a", doc)));
  EXPECT_FALSE(cluster.MatchesEntry(Op("i", "local.oplog.rs", doc)));
  bson::Doc drop_db = J(R"({"dropDatabase": 1})");
  EXPECT_TRUE(cluster.MatchesEntry(Op("c", "other.$cmd", drop_db)));
  bson::Doc apply_ops = J(R"({"applyOps": []})");
  EXPECT_TRUE(db.MatchesEntry(Op("c", "admin.$cmd", apply_ops)));
}

TEST(PlanTest, ViewDefinitionWritesOnlyForExpandedDatabaseAndClusterStreams) {
  bson::Doc def = J(R"({"_id": "test.v", "viewOn": "c", "pipeline": []})");
  bson::Doc key = J(R"({"_id": "test.v"})");
  bson::Doc op_update = J(R"({"$v": 2, "diff": {"u": {"viewOn": "d"}}})");
  OplogPredicate db(Scope{Scope::Kind::kDatabase, "test", ""}, true);
  EXPECT_TRUE(db.MatchesEntry(Op("i", "test.system.views", def)));
  EXPECT_TRUE(db.MatchesEntry(Op("u", "test.system.views", def)));
  EXPECT_TRUE(db.MatchesEntry(Op("d", "test.system.views", key)));
  // A modifier update cannot become a modify event (MongoDB matches replacements only).
  EXPECT_FALSE(db.MatchesEntry(Op("u", "test.system.views", op_update)));
  EXPECT_FALSE(db.MatchesEntry(Op("i", "other.system.views", def)));
  EXPECT_FALSE(db.MatchesEntry(Op("i", "test.system.js", def)));
  OplogPredicate cluster(Scope{Scope::Kind::kCluster, "", ""}, true);
  EXPECT_TRUE(cluster.MatchesEntry(Op("i", "other.system.views", def)));
  EXPECT_FALSE(cluster.MatchesEntry(Op("i", "admin.system.views", def)));
  // Without showExpandedEvents, and for collection streams, none of them.
  EXPECT_FALSE(OplogPredicate(Scope{Scope::Kind::kDatabase, "test", ""}, false)
                   .MatchesEntry(Op("i", "test.system.views", def)));
  EXPECT_FALSE(OplogPredicate(Scope{Scope::Kind::kCollection, "test", "v"}, true)
                   .MatchesEntry(Op("i", "test.system.views", def)));
  // A stream opened on system.views itself (allowToRunOnSystemNS) sees its raw CRUD.
  EXPECT_TRUE(OplogPredicate(Scope{Scope::Kind::kCollection, "test", "system.views"}, true)
                  .MatchesEntry(Op("d", "test.system.views", key)));
}

}  // namespace
}  // namespace brook::changestream
