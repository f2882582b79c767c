// End-to-end change streams through the official C driver (libmongoc): collection,
// database and client watch, resumeAfter / startAfter, fullDocument: updateLookup, the
// resume token, and a server error surfacing through mongoc_change_stream_error_document.
#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <chrono>
#include <string>
#include <vector>

#include "brookd_process.h"
#include "test_bson.h"

namespace brook::testing {
namespace {

std::string Str(const bson_t* doc, const char* dotted) {
  bson_iter_t it;
  if (!bson_iter_init(&it, doc) || !bson_iter_find_descendant(&it, dotted, &it)) return "<missing>";
  if (BSON_ITER_HOLDS_UTF8(&it)) return bson_iter_utf8(&it, nullptr);
  if (BSON_ITER_HOLDS_INT32(&it)) return std::to_string(bson_iter_int32(&it));
  if (BSON_ITER_HOLDS_NULL(&it)) return "null";
  return "<other>";
}

// An owned mongoc_change_stream_t.
class Stream {
 public:
  explicit Stream(mongoc_change_stream_t* s) : s_(s) {}
  ~Stream() { mongoc_change_stream_destroy(s_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  mongoc_change_stream_t* get() const { return s_; }

  // The next `n` events (each copied), waiting up to 10 s; fewer on error or timeout.
  std::vector<BsonPtr> Next(size_t n) {
    std::vector<BsonPtr> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    const bson_t* doc;
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      if (mongoc_change_stream_next(s_, &doc)) {
        out.emplace_back(bson_copy(doc));
      } else if (HasError()) {
        break;
      }
    }
    return out;
  }
  bool HasError() const {
    bson_error_t error;
    const bson_t* reply;
    return mongoc_change_stream_error_document(s_, &error, &reply);
  }
  // The error's code (0 without one).
  uint32_t ErrorCode() const {
    bson_error_t error;
    const bson_t* reply;
    return mongoc_change_stream_error_document(s_, &error, &reply) ? error.code : 0;
  }

 private:
  mongoc_change_stream_t* s_;
};

class ChangeStreamCTest : public ::testing::Test {
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
    db_ = mongoc_client_get_database(client_, "c_driver_cs");
    coll_ = mongoc_client_get_collection(client_, "c_driver_cs", info->name());
  }
  void TearDown() override {
    mongoc_collection_destroy(coll_);
    mongoc_database_destroy(db_);
    mongoc_client_destroy(client_);
  }

  void Insert(mongoc_collection_t* coll, const std::string& doc) {
    bson_error_t error;
    ASSERT_TRUE(mongoc_collection_insert_one(coll, J(doc).get(), nullptr, nullptr, &error)) << error.message;
  }

  static BrookdProcess* server_;
  mongoc_client_t* client_ = nullptr;
  mongoc_database_t* db_ = nullptr;
  mongoc_collection_t* coll_ = nullptr;
};

BrookdProcess* ChangeStreamCTest::server_ = nullptr;

constexpr const char* kOpts = R"({"maxAwaitTimeMS": 200})";

TEST_F(ChangeStreamCTest, CollectionEventsAndResumeToken) {
  Stream cs(mongoc_collection_watch(coll_, J("{}").get(), J(kOpts).get()));
  ASSERT_FALSE(cs.HasError());
  const bson_t* none;
  EXPECT_FALSE(mongoc_change_stream_next(cs.get(), &none));
  ASSERT_NE(mongoc_change_stream_get_resume_token(cs.get()), nullptr) << "postBatchResumeToken before any event";
  Insert(coll_, R"({"_id": 1, "v": "a"})");
  bson_error_t error;
  ASSERT_TRUE(mongoc_collection_update_one(coll_, J(R"({"_id": 1})").get(), J(R"({"$set": {"v": "b"}})").get(),
                                           nullptr, nullptr, &error)) << error.message;
  ASSERT_TRUE(mongoc_collection_delete_one(coll_, J(R"({"_id": 1})").get(), nullptr, nullptr, &error)) << error.message;
  auto events = cs.Next(3);
  ASSERT_EQ(events.size(), 3u) << cs.ErrorCode();
  EXPECT_EQ(Str(events[0].get(), "operationType"), "insert");
  EXPECT_EQ(Str(events[0].get(), "fullDocument.v"), "a");
  EXPECT_EQ(Str(events[1].get(), "operationType"), "update");
  EXPECT_EQ(Str(events[1].get(), "updateDescription.updatedFields.v"), "b");
  EXPECT_EQ(Str(events[2].get(), "operationType"), "delete");
  EXPECT_EQ(Str(events[2].get(), "ns.coll"), mongoc_collection_get_name(coll_));
  // The resume token is the last event's _id (or a later high-water mark).
  const bson_t* token = mongoc_change_stream_get_resume_token(cs.get());
  ASSERT_NE(token, nullptr);
  EXPECT_GE(Str(token, "_data"), Str(events[2].get(), "_id._data"));
}

TEST_F(ChangeStreamCTest, ResumeAfterYieldsTheRest) {
  BsonPtr token(nullptr);
  {
    Stream cs(mongoc_collection_watch(coll_, J("{}").get(), J(kOpts).get()));
    for (int i = 0; i < 6; ++i) Insert(coll_, "{\"_id\": " + std::to_string(i) + "}");
    auto first = cs.Next(3);
    ASSERT_EQ(first.size(), 3u);
    bson_iter_t it;
    ASSERT_TRUE(bson_iter_init_find(&it, first[2].get(), "_id"));
    uint32_t len;
    const uint8_t* data;
    bson_iter_document(&it, &len, &data);
    token = BsonPtr(bson_new_from_data(data, len));
  }
  bson_t opts = BSON_INITIALIZER;
  BSON_APPEND_INT64(&opts, "maxAwaitTimeMS", 200);
  BSON_APPEND_DOCUMENT(&opts, "resumeAfter", token.get());
  Stream cs(mongoc_collection_watch(coll_, J("{}").get(), &opts));
  bson_destroy(&opts);
  auto rest = cs.Next(3);
  ASSERT_EQ(rest.size(), 3u) << cs.ErrorCode();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Str(rest[i].get(), "documentKey._id"), std::to_string(i + 3));
  const bson_t* more;
  EXPECT_FALSE(mongoc_change_stream_next(cs.get(), &more));
  EXPECT_FALSE(cs.HasError());
}

TEST_F(ChangeStreamCTest, UpdateLookupReturnsTheCurrentDocument) {
  Insert(coll_, R"({"_id": 1, "n": 0})");
  Stream cs(mongoc_collection_watch(coll_, J("{}").get(),
                                    J(R"({"maxAwaitTimeMS": 200, "fullDocument": "updateLookup"})").get()));
  bson_error_t error;
  ASSERT_TRUE(mongoc_collection_update_one(coll_, J(R"({"_id": 1})").get(), J(R"({"$inc": {"n": 1}})").get(),
                                           nullptr, nullptr, &error)) << error.message;
  auto events = cs.Next(1);
  ASSERT_EQ(events.size(), 1u) << cs.ErrorCode();
  EXPECT_EQ(ToJson(events[0].get()).find(R"("fullDocument" : { "_id" : 1, "n" : 1 })") != std::string::npos, true)
      << ToJson(events[0].get());
}

TEST_F(ChangeStreamCTest, DatabaseAndClientStreams) {
  Stream dbs(mongoc_database_watch(db_, J("{}").get(), J(kOpts).get()));
  Stream cls(mongoc_client_watch(client_, J("{}").get(), J(kOpts).get()));
  Insert(coll_, R"({"_id": "here"})");
  mongoc_collection_t* other = mongoc_client_get_collection(client_, "c_driver_cs_other", "c");
  Insert(other, R"({"_id": "there"})");
  mongoc_collection_destroy(other);
  auto db_events = dbs.Next(1);
  ASSERT_EQ(db_events.size(), 1u);
  EXPECT_EQ(Str(db_events[0].get(), "documentKey._id"), "here");
  const bson_t* none;
  EXPECT_FALSE(mongoc_change_stream_next(dbs.get(), &none)) << "the database stream sees only its database";
  auto cl_events = cls.Next(2);
  ASSERT_EQ(cl_events.size(), 2u);
  EXPECT_EQ(Str(cl_events[0].get(), "ns.db"), "c_driver_cs");
  EXPECT_EQ(Str(cl_events[1].get(), "ns.db"), "c_driver_cs_other");
}

TEST_F(ChangeStreamCTest, StartAfterInvalidateAndErrors) {
  Stream cs(mongoc_collection_watch(coll_, J("{}").get(), J(kOpts).get()));
  Insert(coll_, R"({"_id": 1})");
  bson_error_t error;
  ASSERT_TRUE(mongoc_collection_drop(coll_, &error)) << error.message;
  auto events = cs.Next(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(Str(events[2].get(), "operationType"), "invalidate");
  bson_iter_t it;
  ASSERT_TRUE(bson_iter_init_find(&it, events[2].get(), "_id"));
  uint32_t len;
  const uint8_t* data;
  bson_iter_document(&it, &len, &data);
  BsonPtr token(bson_new_from_data(data, len));

  Insert(coll_, R"({"_id": 2})");
  bson_t opts = BSON_INITIALIZER;
  BSON_APPEND_INT64(&opts, "maxAwaitTimeMS", 200);
  BSON_APPEND_DOCUMENT(&opts, "startAfter", token.get());
  Stream after(mongoc_collection_watch(coll_, J("{}").get(), &opts));
  bson_destroy(&opts);
  auto next = after.Next(1);
  ASSERT_EQ(next.size(), 1u) << after.ErrorCode();
  EXPECT_EQ(Str(next[0].get(), "documentKey._id"), "2");

  // resumeAfter an invalidate: InvalidResumeToken (260); a forbidden stage: 20.
  bson_t bad = BSON_INITIALIZER;
  BSON_APPEND_DOCUMENT(&bad, "resumeAfter", token.get());
  Stream invalid(mongoc_collection_watch(coll_, J("{}").get(), &bad));
  bson_destroy(&bad);
  EXPECT_EQ(invalid.ErrorCode(), 260u);
  Stream forbidden(mongoc_collection_watch(coll_, J(R"({"pipeline": [{"$out": "x"}]})").get(), nullptr));
  EXPECT_EQ(forbidden.ErrorCode(), 20u);
}

}  // namespace
}  // namespace brook::testing
