// Pre-image retention against a real storage::Engine whose wall clock the test sets, so
// cluster-time seconds (and so pre-image ages) are chosen by the test.

#include "changestream/pre_image_retention.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>

#include "bson/builder.h"
#include "bson/json.h"
#include "changestream/host.h"
#include "storage/engine.h"

namespace brook::changestream {
namespace {

bson::Doc J(std::string_view json) { return std::move(bson::FromJson(json).value()); }

StatusWith<ChangeStreamOptions> ParseJson(std::string_view json) {
  bson::Doc d = J(std::string("{\"v\": ") + std::string(json) + "}");
  return ParseChangeStreamOptions(d["v"]);
}

TEST(ChangeStreamOptionsTest, ParsesMongoDBsAcceptedValues) {
  auto n = ParseJson(R"({"preAndPostImages": {"expireAfterSeconds": 10}})");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n.value().expire_after_seconds, 10);
  auto l = ParseJson(R"({"preAndPostImages": {"expireAfterSeconds": {"$numberLong": "3600"}}})");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l.value().expire_after_seconds, 3600);
  auto off = ParseJson(R"({"preAndPostImages": {"expireAfterSeconds": "off"}})");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off.value().expire_after_seconds.has_value());
}

TEST(ChangeStreamOptionsTest, RejectsWhatMongoDBRejectsWithBadValue) {
  for (const char* bad : {"{}", R"({"preAndPostImages": {}})",
                          R"({"preAndPostImages": {"expireAfterSeconds": "unknown"}})",
                          R"({"preAndPostImages": {"expireAfterSeconds": -1}})",
                          R"({"preAndPostImages": {"expireAfterSeconds": 0}})",
                          R"({"preAndPostImages": {"expireAfterSeconds": 1.5}})",
                          R"({"preAndPostImages": {"expireAfterSeconds": true}})",
                          R"({"preAndPostImages": {"expireAfterSeconds": 5, "x": 1}})",
                          R"({"other": 1})", "5", R"({"preAndPostImages": 5})"}) {
    auto r = ParseJson(bad);
    EXPECT_EQ(r.status().code(), 2) << bad;
  }
}

TEST(ChangeStreamOptionsTest, ReplyShape) {
  ChangeStreamOptions o;
  bson::Doc off = ChangeStreamOptionsToBson(o);
  EXPECT_EQ(off["_id"].Str(), "changeStreamOptions");
  EXPECT_EQ(off["clusterParameterTime"].type(), bson::Type::kTimestamp);
  EXPECT_EQ(off.view().GetPath("preAndPostImages.expireAfterSeconds").Str(), "off");
  o.expire_after_seconds = 10;
  bson::Doc on = ChangeStreamOptionsToBson(o);
  EXPECT_EQ(on.view().GetPath("preAndPostImages.expireAfterSeconds").type(), bson::Type::kInt64);
  EXPECT_EQ(on.view().GetPath("preAndPostImages.expireAfterSeconds").NumberInt64(), 10);
}

class PreImageRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("brook_preimage_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    Open();
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(path_);
  }
  void Open() {
    storage::EngineOptions o;
    o.dbpath = path_.string();
    o.wall_clock_millis = [this] { return clock_secs_.load() * 1000; };
    auto e = storage::Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }

  // A delete with its pre-image, written at wall-clock second `secs`.
  bson::Timestamp WriteWithPreImage(const CollectionUuid& uuid, int64_t secs, int id) {
    clock_secs_ = secs;
    bson::Builder b;
    b.AppendString("op", "d");
    b.AppendString("ns", "t.c");
    b.AppendBinary("ui", 4, std::string_view(reinterpret_cast<const char*>(uuid.data()), 16));
    bson::Builder key;
    key.AppendInt32("_id", id);
    b.AppendDocument("o", key.Done());
    storage::OplogDraft d;
    d.body = b.Done();
    d.collection_uuid = uuid;
    bson::Builder pre;
    pre.AppendInt32("_id", id);
    pre.AppendString("v", "before");
    d.preimage = pre.Done();
    auto unit = engine_->BeginWriteUnit();
    unit->AddOplog(std::move(d));
    auto r = engine_->Commit(*unit);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.value().first_ts;
  }

  bool Has(const CollectionUuid& uuid, bson::Timestamp ts) {
    auto r = ReadPreImageFromEngine(engine_.get(), uuid, ts, 0);
    EXPECT_TRUE(r.ok());
    return r.ok() && r.value().has_value();
  }

  std::filesystem::path path_;
  std::atomic<int64_t> clock_secs_{1'700'000'000};
  std::unique_ptr<storage::Engine> engine_;
};

const CollectionUuid kA{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xAA};
const CollectionUuid kB{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBB};

TEST_F(PreImageRetentionTest, OptionsSurviveReopen) {
  auto none = LoadChangeStreamOptions(engine_.get());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value().expire_after_seconds.has_value());
  ChangeStreamOptions o;
  o.expire_after_seconds = 42;
  o.cluster_parameter_time = bson::Timestamp{1'700'000'000, 7};
  auto saved = SaveChangeStreamOptions(engine_.get(), o);
  ASSERT_TRUE(saved.ok());
  ASSERT_TRUE(engine_->WaitForDurable(saved.value(), std::chrono::seconds(10)).ok());
  engine_.reset();
  Open();
  auto back = LoadChangeStreamOptions(engine_.get());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value().expire_after_seconds, 42);
  EXPECT_EQ(back.value().cluster_parameter_time, (bson::Timestamp{1'700'000'000, 7}));
}

TEST_F(PreImageRetentionTest, RemovesOnlyPreImagesOlderThanTheCutoffInEveryCollection) {
  bson::Timestamp a_old = WriteWithPreImage(kA, 1'700'000'000, 1);
  bson::Timestamp b_old = WriteWithPreImage(kB, 1'700'000'010, 2);
  bson::Timestamp a_new = WriteWithPreImage(kA, 1'700'000'100, 3);
  bson::Timestamp b_new = WriteWithPreImage(kB, 1'700'000'200, 4);
  auto removed = RemovePreImagesBefore(engine_.get(), bson::Timestamp{1'700'000'050, 0});
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(removed.value(), 2u);
  EXPECT_FALSE(Has(kA, a_old));
  EXPECT_FALSE(Has(kB, b_old));
  EXPECT_TRUE(Has(kA, a_new));
  EXPECT_TRUE(Has(kB, b_new));
  // Idempotent.
  EXPECT_EQ(RemovePreImagesBefore(engine_.get(), bson::Timestamp{1'700'000'050, 0}).value(), 0u);
}

TEST_F(PreImageRetentionTest, ExpiryFollowsTheClusterParameter) {
  bson::Timestamp old_ts = WriteWithPreImage(kA, 1'700'000'000, 1);
  bson::Timestamp new_ts = WriteWithPreImage(kA, 1'700'000'090, 2);
  // "off" (the default): nothing expires, however old.
  EXPECT_EQ(ExpirePreImages(engine_.get(), 1'800'000'000).value(), 0u);
  EXPECT_TRUE(Has(kA, old_ts));
  ChangeStreamOptions o;
  o.expire_after_seconds = 60;
  ASSERT_TRUE(SaveChangeStreamOptions(engine_.get(), o).ok());
  // At second +100 the first is 100 s old, the second 10 s.
  auto removed = ExpirePreImages(engine_.get(), 1'700'000'100);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed.value(), 1u);
  EXPECT_FALSE(Has(kA, old_ts));
  EXPECT_TRUE(Has(kA, new_ts));
}

TEST_F(PreImageRetentionTest, RemovesManyAcrossSeveralUnits) {
  std::vector<bson::Timestamp> written;
  for (int i = 0; i < 2500; ++i) written.push_back(WriteWithPreImage(kA, 1'700'000'000, i));
  auto removed = RemovePreImagesBefore(engine_.get(), bson::Timestamp{1'700'000'001, 0});
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed.value(), 2500u);
  EXPECT_FALSE(Has(kA, written.front()));
  EXPECT_FALSE(Has(kA, written.back()));
}

}  // namespace
}  // namespace brook::changestream
