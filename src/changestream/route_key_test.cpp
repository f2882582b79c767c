#include "changestream/route_key.h"

#include <gtest/gtest.h>

#include "bson/json.h"

namespace brook::changestream {
namespace {

bson::Doc J(std::string_view json) { return std::move(bson::FromJson(json).value()); }

RouteKey KeyOf(std::string_view stages_json, std::optional<std::string> coll = "c") {
  bson::Doc holder = J(std::string("{\"p\": ") + std::string(stages_json) + "}");
  PlanContext ctx;
  ctx.db = "test";
  ctx.coll = coll;
  auto plan = BuildChangeStreamPlan(holder["p"].Obj(), ctx);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return RouteKey::FromPlan(*plan.value());
}

ChangeEvent Event(std::string_view type, std::string_view coll, std::optional<std::string> full_doc,
                  std::string_view id_json = R"({"_id": 1})") {
  ChangeEvent ev;
  ev.operation_type = std::string(type);
  ev.db = "test";
  ev.coll = std::string(coll);
  ev.document_key = J(id_json);
  if (full_doc) ev.full_document = Image::Of(J(*full_doc));
  return ev;
}

TEST(RouteKeyTest, NoLeadingMatchPinsNothing) {
  RouteKey k = KeyOf(R"([{"$changeStream": {}}, {"$project": {"x": 1}}, {"$match": {"operationType": "insert"}}])");
  EXPECT_FALSE(k.operation_types);
  EXPECT_TRUE(k.full_document.empty());
  EXPECT_TRUE(k.MayMatch(Event("delete", "c", std::nullopt)));
}

TEST(RouteKeyTest, ReadsEqualitiesOfTheLeadingMatch) {
  RouteKey k = KeyOf(R"([{"$changeStream": {}}, {"$match": {"$and": [
      {"operationType": {"$in": ["insert", "replace"]}}, {"fullDocument.a.b": 5}],
      "documentKey._id": {"$eq": 1}, "ns.coll": "c"}}])");
  ASSERT_TRUE(k.operation_types);
  EXPECT_EQ(k.operation_types->size(), 2u);
  ASSERT_EQ(k.full_document.size(), 1u);
  EXPECT_EQ(k.full_document[0].path, "a.b");
  ASSERT_TRUE(k.document_ids);
  ASSERT_TRUE(k.ns_colls);
  EXPECT_TRUE(k.MayMatch(Event("insert", "c", R"({"_id": 1, "a": {"b": 5}})")));
  EXPECT_TRUE(k.MayMatch(Event("insert", "c", R"({"_id": 1, "a": {"b": {"$numberLong": "5"}}})")))
      << "numbers compare by value";
  EXPECT_FALSE(k.MayMatch(Event("insert", "c", R"({"_id": 1, "a": {"b": 6}})")));
  EXPECT_FALSE(k.MayMatch(Event("update", "c", std::nullopt)));
  EXPECT_FALSE(k.MayMatch(Event("insert", "c", R"({"_id": 2, "a": {"b": 5}})", R"({"_id": 2})")));
  EXPECT_FALSE(k.MayMatch(Event("insert", "d", R"({"_id": 1, "a": {"b": 5}})")));
  EXPECT_FALSE(k.MayMatch(Event("insert", "c", R"({"_id": 1})"))) << "missing never equals 5";
  // $match looks into arrays: a path through one is unknown, so it may match.
  EXPECT_TRUE(k.MayMatch(Event("insert", "c", R"({"_id": 1, "a": [{"b": 5}]})")));
  EXPECT_TRUE(k.MayMatch(Event("insert", "c", R"({"_id": 1, "a": {"b": [7, 5]}})")));
}

TEST(RouteKeyTest, ShapesItDoesNotKnowPinNothing) {
  for (const char* match : {R"({"operationType": {"$ne": "insert"}})", R"({"$or": [{"operationType": "insert"}]})",
                            R"({"fullDocument.x": null})", R"({"fullDocument.x": {"$in": [1, null]}})",
                            R"({"fullDocument.x": [1, 2]})", R"({"fullDocument.x": {"$regex": "^a"}})",
                            R"({"fullDocument.x": {"$eq": 1, "$ne": 2}})", R"({"operationType": 5})"}) {
    RouteKey k = KeyOf(std::string(R"([{"$changeStream": {}}, {"$match": )") + match + "}]");
    EXPECT_FALSE(k.operation_types) << match;
    EXPECT_TRUE(k.full_document.empty()) << match;
    EXPECT_TRUE(k.MayMatch(Event("insert", "c", R"({"_id": 1, "x": 3})"))) << match;
  }
}

TEST(RouteKeyTest, FullDocumentIsOnlyUsedWithoutPostImages) {
  // updateLookup fills fullDocument of updates after the tailer has routed them.
  RouteKey k = KeyOf(R"([{"$changeStream": {"fullDocument": "updateLookup"}}, {"$match": {"fullDocument.x": 1}}])");
  EXPECT_TRUE(k.full_document.empty());
  EXPECT_TRUE(k.MayMatch(Event("update", "c", std::nullopt)));
}

TEST(RouteKeyTest, DdlAndViewWritesAlwaysMayMatch) {
  RouteKey k = KeyOf(R"([{"$changeStream": {}}, {"$match": {"operationType": "insert", "fullDocument.x": 1}}])",
                     std::nullopt);
  EXPECT_TRUE(k.MayMatch(Event("drop", "c", std::nullopt)));
  EXPECT_TRUE(k.MayMatch(Event("dropDatabase", "", std::nullopt)));
  EXPECT_TRUE(k.MayMatch(Event("delete", "system.views", std::nullopt))) << "a view's drop event";
  EXPECT_FALSE(k.MayMatch(Event("delete", "c", std::nullopt)));
}

TEST(RouteKeyTest, CrudOutsideTheScopeNeverMatches) {
  RouteKey coll = KeyOf(R"([{"$changeStream": {}}])");
  EXPECT_TRUE(coll.MayMatch(Event("insert", "c", R"({"_id": 1})")));
  EXPECT_FALSE(coll.MayMatch(Event("insert", "d", R"({"_id": 1})")));
  RouteKey db = KeyOf(R"([{"$changeStream": {}}])", std::nullopt);
  EXPECT_TRUE(db.MayMatch(Event("insert", "d", R"({"_id": 1})")));
  ChangeEvent other = Event("insert", "c", R"({"_id": 1})");
  other.db = "elsewhere";
  EXPECT_FALSE(db.MayMatch(other));
  EXPECT_TRUE(coll.MayMatch(Event("drop", "d", std::nullopt))) << "DDL: stage 1 decides (rename targets)";
}

}  // namespace
}  // namespace brook::changestream
