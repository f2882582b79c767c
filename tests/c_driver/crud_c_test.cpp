// End-to-end CRUD through the official C driver (libmongoc) against a real brookd.
#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <memory>
#include <string>
#include <vector>

#include "brookd_process.h"
#include "test_bson.h"

namespace brook::testing {
namespace {

class CrudCTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mongoc_init();
    server_ = new BrookdProcess();
  }
  static void TearDownTestSuite() {
    delete server_;
    mongoc_cleanup();
  }

  void SetUp() override {
    client_ = mongoc_client_new(server_->uri().c_str());
    mongoc_client_set_error_api(client_, MONGOC_ERROR_API_VERSION_2);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    coll_ = mongoc_client_get_collection(client_, "c_driver_test", info->name());
  }
  void TearDown() override {
    mongoc_collection_destroy(coll_);
    mongoc_client_destroy(client_);
  }

  std::vector<std::string> FindAll(const std::string& filter, const std::string& opts = "{}") {
    BsonPtr f = J(filter), o = J(opts);
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll_, f.get(), o.get(), nullptr);
    std::vector<std::string> out;
    const bson_t* doc;
    while (mongoc_cursor_next(cursor, &doc)) out.push_back(ToJson(doc));
    bson_error_t error;
    EXPECT_FALSE(mongoc_cursor_error(cursor, &error)) << error.message;
    mongoc_cursor_destroy(cursor);
    return out;
  }

  static BrookdProcess* server_;
  mongoc_client_t* client_ = nullptr;
  mongoc_collection_t* coll_ = nullptr;
};

BrookdProcess* CrudCTest::server_ = nullptr;

TEST_F(CrudCTest, InsertThenFind) {
  bson_error_t error;
  ASSERT_TRUE(mongoc_collection_insert_one(coll_, J(R"({"_id": 1, "x": "a"})").get(), nullptr, nullptr, &error)) << error.message;
  ASSERT_TRUE(mongoc_collection_insert_one(coll_, J(R"({"_id": 2, "x": "b"})").get(), nullptr, nullptr, &error)) << error.message;
  auto docs = FindAll(R"({"x": "b"})");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0], R"({ "_id" : 2, "x" : "b" })");
}

TEST_F(CrudCTest, UpdateReplaceDelete) {
  bson_error_t error;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(mongoc_collection_insert_one(coll_, J("{\"_id\": " + std::to_string(i) + ", \"n\": 0}").get(), nullptr, nullptr, &error));
  }
  bson_t reply;
  ASSERT_TRUE(mongoc_collection_update_many(coll_, J(R"({"_id": {"$gte": 3}})").get(), J(R"({"$inc": {"n": 5}})").get(), nullptr, &reply, &error)) << error.message;
  EXPECT_NE(ToJson(&reply).find(R"("modifiedCount" : 2)"), std::string::npos) << ToJson(&reply);
  bson_destroy(&reply);
  ASSERT_TRUE(mongoc_collection_replace_one(coll_, J(R"({"_id": 0})").get(), J(R"({"r": true})").get(), nullptr, nullptr, &error));
  ASSERT_TRUE(mongoc_collection_delete_one(coll_, J(R"({"_id": 1})").get(), nullptr, nullptr, &error));
  auto docs = FindAll("{}", R"({"sort": {"_id": 1}})");
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0], R"({ "_id" : 0, "r" : true })");
  EXPECT_EQ(docs[2], R"({ "_id" : 3, "n" : 5 })");
  int64_t n = mongoc_collection_count_documents(coll_, J(R"({"n": 5})").get(), nullptr, nullptr, nullptr, &error);
  EXPECT_EQ(n, 2);
}

TEST_F(CrudCTest, UniqueIndexRejectsDuplicatesWithCode11000) {
  bson_error_t error;
  BsonPtr cmd = J(std::string(R"({"createIndexes": ")") + mongoc_collection_get_name(coll_) +
                  R"(", "indexes": [{"key": {"email": 1}, "name": "email_1", "unique": true}]})");
  ASSERT_TRUE(mongoc_collection_write_command_with_opts(coll_, cmd.get(), nullptr, nullptr, &error)) << error.message;
  ASSERT_TRUE(mongoc_collection_insert_one(coll_, J(R"({"email": "a@x"})").get(), nullptr, nullptr, &error));
  EXPECT_FALSE(mongoc_collection_insert_one(coll_, J(R"({"email": "a@x"})").get(), nullptr, nullptr, &error));
  EXPECT_EQ(error.code, 11000u) << error.message;
}

TEST_F(CrudCTest, AggregateGroupsAndSorts) {
  bson_error_t error;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(mongoc_collection_insert_one(coll_, J("{\"k\": " + std::to_string(i % 3) + ", \"v\": " + std::to_string(i) + "}").get(), nullptr, nullptr, &error));
  }
  BsonPtr pipeline = J(R"({"pipeline": [{"$group": {"_id": "$k", "total": {"$sum": "$v"}}}, {"$sort": {"_id": 1}}]})");
  mongoc_cursor_t* cursor = mongoc_collection_aggregate(coll_, MONGOC_QUERY_NONE, pipeline.get(), nullptr, nullptr);
  std::vector<std::string> out;
  const bson_t* doc;
  while (mongoc_cursor_next(cursor, &doc)) out.push_back(ToJson(doc));
  EXPECT_FALSE(mongoc_cursor_error(cursor, &error)) << error.message;
  mongoc_cursor_destroy(cursor);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], R"({ "_id" : 0, "total" : 18 })");
  EXPECT_EQ(out[1], R"({ "_id" : 1, "total" : 12 })");
  EXPECT_EQ(out[2], R"({ "_id" : 2, "total" : 15 })");
}

TEST_F(CrudCTest, FindAndModifyReturnsTheNewDocument) {
  bson_error_t error;
  ASSERT_TRUE(mongoc_collection_insert_one(coll_, J(R"({"_id": "c", "n": 1})").get(), nullptr, nullptr, &error));
  bson_t reply;
  ASSERT_TRUE(mongoc_collection_find_and_modify(coll_, J(R"({"_id": "c"})").get(), nullptr, J(R"({"$inc": {"n": 1}})").get(), nullptr, false, false, true, &reply, &error)) << error.message;
  bson_iter_t it;
  ASSERT_TRUE(bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "value.n", &it));
  EXPECT_EQ(bson_iter_as_int64(&it), 2);
  bson_destroy(&reply);
}

TEST_F(CrudCTest, ManyDocumentsComeBackThroughGetMore) {
  bson_error_t error;
  std::vector<BsonPtr> owned;
  const bson_t* docs[1000];
  for (int i = 0; i < 1000; ++i) {
    owned.push_back(J("{\"_id\": " + std::to_string(i) + "}"));
    docs[i] = owned.back().get();
  }
  ASSERT_TRUE(mongoc_collection_insert_many(coll_, docs, 1000, nullptr, nullptr, &error)) << error.message;
  auto found = FindAll("{}", R"({"batchSize": 7})");
  EXPECT_EQ(found.size(), 1000u);
}

TEST_F(CrudCTest, DataSurvivesRestart) {
  bson_error_t error;
  BsonPtr opts = J(R"({"writeConcern": {"w": 1, "j": true}})");
  ASSERT_TRUE(mongoc_collection_insert_one(coll_, J(R"({"_id": "durable"})").get(), opts.get(), nullptr, &error)) << error.message;
  server_->Kill9();
  server_->Start();
  mongoc_collection_destroy(coll_);
  mongoc_client_destroy(client_);
  SetUp();
  EXPECT_EQ(FindAll(R"({"_id": "durable"})").size(), 1u);
}

// w:1 acknowledges after the WAL write (not the fsync): a killed process loses nothing
// acknowledged, only a machine crash could.
TEST_F(CrudCTest, AcknowledgedW1WritesSurviveSigkill) {
  bson_error_t error;
  BsonPtr opts = J(R"({"writeConcern": {"w": 1}})");
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(mongoc_collection_insert_one(coll_, J("{\"_id\": " + std::to_string(i) + "}").get(), opts.get(), nullptr, &error)) << error.message;
  }
  server_->Kill9();
  server_->Start();
  mongoc_collection_destroy(coll_);
  mongoc_client_destroy(client_);
  SetUp();
  EXPECT_EQ(FindAll("{}").size(), 50u);
}

}  // namespace
}  // namespace brook::testing
