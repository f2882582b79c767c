#include "changestream/spec.h"

#include <gtest/gtest.h>

#include "bson/builder.h"
#include "bson/json.h"

namespace brook::changestream {
namespace {

bson::Doc J(std::string_view json) { return std::move(bson::FromJson(json).value()); }

// Parses {$changeStream: <json>} for db[.coll].
StatusWith<ChangeStreamSpec> Parse(std::string_view arg_json, std::string_view db = "test",
                                   std::optional<std::string_view> coll = "c") {
  bson::Doc stage = J(std::string("{\"$changeStream\": ") + std::string(arg_json) + "}");
  return ParseChangeStreamSpec(stage.view().first(), db, coll);
}

std::string EventTokenHex(bool from_invalidate, bool with_uuid = true) {
  ResumeTokenData d;
  d.cluster_time = {100, 1};
  d.from_invalidate = from_invalidate;
  if (with_uuid) d.uuid = CollectionUuid{1, 2, 3};
  d.event_identifier = J(R"({"operationType": "drop"})");
  return ResumeToken::FromData(d).Hex();
}

TEST(SpecTest, DefaultsAndScopes) {
  auto coll = Parse("{}");
  ASSERT_TRUE(coll.ok()) << coll.status().ToString();
  EXPECT_EQ(coll.value().scope.kind, Scope::Kind::kCollection);
  EXPECT_EQ(coll.value().scope.ns(), "test.c");
  EXPECT_EQ(coll.value().full_document, FullDocumentMode::kDefault);
  EXPECT_EQ(coll.value().full_document_before_change, FullDocumentBeforeChangeMode::kOff);
  EXPECT_FALSE(coll.value().show_expanded_events);

  auto db = Parse("{}", "test", std::nullopt);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db.value().scope.kind, Scope::Kind::kDatabase);
  EXPECT_EQ(db.value().scope.db, "test");

  auto cluster = Parse(R"({"allChangesForCluster": true})", "admin", std::nullopt);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  EXPECT_EQ(cluster.value().scope.kind, Scope::Kind::kCluster);
}

TEST(SpecTest, ReadsEveryOption) {
  auto s = Parse(R"({"fullDocument": "updateLookup", "fullDocumentBeforeChange": "required",
                     "showExpandedEvents": true, "startAtOperationTime": {"$timestamp": {"t": 5, "i": 2}},
                     "allowToRunOnSystemNS": false, "allowToRunOnConfigDB": false, "showSystemEvents": false})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s.value().full_document, FullDocumentMode::kUpdateLookup);
  EXPECT_EQ(s.value().full_document_before_change, FullDocumentBeforeChangeMode::kRequired);
  EXPECT_TRUE(s.value().show_expanded_events);
  EXPECT_EQ(*s.value().start_at_operation_time, (bson::Timestamp{5, 2}));
  for (auto mode : {"whenAvailable", "required", "default"}) {
    EXPECT_TRUE(Parse(std::string(R"({"fullDocument": ")") + mode + "\"}").ok()) << mode;
  }
}

TEST(SpecTest, ShapeErrorsAreIdlStyle) {
  bson::Builder b;
  b.AppendInt32("$changeStream", 1);
  bson::Doc not_object = b.Done();
  EXPECT_EQ(ParseChangeStreamSpec(not_object.view().first(), "test", "c").status().code(), 50808);

  auto unknown = Parse(R"({"foo": 1})");
  EXPECT_EQ(unknown.status().code(), 40415);
  EXPECT_EQ(unknown.status().reason(), "BSON field '$changeStream.foo' is an unknown field.");

  auto wrong = Parse(R"({"fullDocument": 1})");
  EXPECT_EQ(wrong.status().code(), static_cast<int32_t>(ErrorCodes::kTypeMismatch));
  EXPECT_EQ(wrong.status().reason(),
            "BSON field '$changeStream.fullDocument' is the wrong type 'int', expected type 'string'");

  auto bad_enum = Parse(R"({"fullDocumentBeforeChange": "sometimes"})");
  EXPECT_EQ(bad_enum.status().code(), static_cast<int32_t>(ErrorCodes::kBadValue));
  EXPECT_EQ(bad_enum.status().reason(),
            "Enumeration value 'sometimes' for field '$changeStream.fullDocumentBeforeChange' is not a valid value.");

  EXPECT_EQ(Parse(R"({"showExpandedEvents": 1})").status().code(), 14);
  EXPECT_EQ(Parse(R"({"startAtOperationTime": 1})").status().code(), 14);
  EXPECT_EQ(Parse(R"({"resumeAfter": "x"})").status().code(), 14);
  EXPECT_EQ(Parse(R"({"resumeAfter": {"x": 1}})").status().code(), 40647);
  EXPECT_EQ(Parse(R"({"fullDocument": "default", "fullDocument": "default"})").status().code(), 40413);
}

TEST(SpecTest, NamespaceRules) {
  auto admin = Parse("{}", "admin", std::nullopt);
  EXPECT_EQ(admin.status().code(), static_cast<int32_t>(ErrorCodes::kInvalidNamespace));
  EXPECT_EQ(admin.status().reason(), "$changeStream may not be opened on the internal admin database");
  EXPECT_EQ(Parse("{}", "admin", "c").status().code(), 73);
  EXPECT_EQ(Parse("{}", "local", "oplog.rs").status().code(), 73);
  EXPECT_EQ(Parse("{}", "config", std::nullopt).status().code(), 73);
  EXPECT_TRUE(Parse(R"({"allowToRunOnConfigDB": true})", "config", "shards").ok());

  auto cluster_on_db = Parse(R"({"allChangesForCluster": true})", "test", std::nullopt);
  EXPECT_EQ(cluster_on_db.status().code(), static_cast<int32_t>(ErrorCodes::kInvalidOptions));
  EXPECT_EQ(cluster_on_db.status().reason(),
            "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database, and "
            "with no collection name; found test.$cmd.aggregate");
  EXPECT_EQ(Parse(R"({"allChangesForCluster": true})", "admin", "c").status().code(), 72);

  auto system = Parse("{}", "test", "system.views");
  EXPECT_EQ(system.status().code(), 73);
  EXPECT_EQ(system.status().reason(), "$changeStream may not be opened on the internal test.system.views collection");
  EXPECT_TRUE(Parse(R"({"allowToRunOnSystemNS": true})", "test", "system.views").ok());
}

TEST(SpecTest, ResumeOptionRules) {
  std::string token = R"({"_data": ")" + EventTokenHex(false) + "\"}";
  auto resume = Parse(R"({"resumeAfter": )" + token + "}");
  ASSERT_TRUE(resume.ok()) << resume.status().ToString();
  ASSERT_TRUE(resume.value().resume_token.has_value());
  EXPECT_EQ(resume.value().resume_token->cluster_time, (bson::Timestamp{100, 1}));

  EXPECT_EQ(Parse(R"({"resumeAfter": )" + token + R"(, "startAfter": )" + token + "}").status().code(), 50865);
  auto multiple = Parse(R"({"resumeAfter": )" + token + R"(, "startAtOperationTime": {"$timestamp": {"t": 1, "i": 1}}})");
  EXPECT_EQ(multiple.status().code(), 40674);
  EXPECT_EQ(multiple.status().reason(), "Only one type of resume option is allowed, but multiple were found");

  std::string invalidate = R"({"_data": ")" + EventTokenHex(true) + "\"}";
  auto resume_inv = Parse(R"({"resumeAfter": )" + invalidate + "}");
  EXPECT_EQ(resume_inv.status().code(), static_cast<int32_t>(ErrorCodes::kInvalidResumeToken));
  EXPECT_EQ(resume_inv.status().reason(),
            "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate "
            "notification");
  EXPECT_TRUE(Parse(R"({"startAfter": )" + invalidate + "}").ok());

  std::string no_uuid = R"({"_data": ")" + EventTokenHex(false, false) + "\"}";
  EXPECT_EQ(Parse(R"({"resumeAfter": )" + no_uuid + "}").status().code(), 260);
  EXPECT_TRUE(Parse(R"({"resumeAfter": )" + no_uuid + "}", "test", std::nullopt).ok());
  std::string hwm = R"({"_data": ")" + ResumeToken::HighWaterMark({5, 0}).Hex() + "\"}";
  EXPECT_TRUE(Parse(R"({"resumeAfter": )" + hwm + "}").ok());
  EXPECT_EQ(Parse(R"({"resumeAfter": {"_data": "zz"}})").status().code(), 9);
}

}  // namespace
}  // namespace brook::changestream
