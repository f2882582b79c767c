#include "watch/options.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "watch/watch_command.h"

namespace brook::watch {
namespace {

WatchFlags Base() {
  WatchFlags f;
  f.uri = "mongodb://127.0.0.1:27017";
  f.db = "shop";
  f.coll = "orders";
  f.checkpoint = "file:/tmp/o.ckpt";
  f.sink = "file:/tmp/o.jsonl";
  return f;
}

std::string ErrorOf(const WatchFlags& f) {
  auto r = ValidateWatchFlags(f);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().reason();
}

TEST(WatchOptions, ValidFlagsGiveTypedOptions) {
  WatchFlags f = Base();
  f.full_document = "updateLookup";
  f.full_document_before_change = "whenAvailable";
  f.batch_size = 500;
  f.format = "canonical";
  auto r = ValidateWatchFlags(f);
  ASSERT_TRUE(r.ok()) << r.status().reason();
  const WatchOptions& o = r.value();
  EXPECT_EQ(o.scope, Scope::kCollection);
  EXPECT_EQ(o.full_document, "updateLookup");
  EXPECT_EQ(o.full_document_before_change, "whenAvailable");
  EXPECT_EQ(o.batch_size, 500);
  EXPECT_EQ(o.format, JsonFormat::kCanonical);
  EXPECT_EQ(o.checkpoint.kind, CheckpointSpec::Kind::kFile);
  EXPECT_EQ(o.checkpoint.path, "/tmp/o.ckpt");
  EXPECT_EQ(o.sink.kind, SinkSpec::Kind::kFile);
  EXPECT_EQ(ToExtJson(o.pipeline.get(), JsonFormat::kRelaxed), R"({ "pipeline" : [  ] })");
}

TEST(WatchOptions, HttpsSinkTakesACaFile) {
  std::string ca = std::filesystem::temp_directory_path().string() + "/brook-options-test-ca.pem";
  std::ofstream(ca) << "not checked here: the sink loads it when it opens\n";
  WatchFlags f = Base();
  f.sink = "https://hooks.test/events";
  f.sink_ca_file = ca;
  auto o = ValidateWatchFlags(f);
  ASSERT_TRUE(o.ok()) << o.status().reason();
  EXPECT_EQ(o.value().sink.kind, SinkSpec::Kind::kHttp);
  EXPECT_EQ(o.value().sink.target, "https://hooks.test/events");
  EXPECT_EQ(o.value().sink.ca_file, ca);
  std::filesystem::remove(ca);
}

TEST(WatchOptions, ScopeFollowsDbAndColl) {
  WatchFlags f = Base();
  f.coll.clear();
  EXPECT_EQ(ValidateWatchFlags(f).value().scope, Scope::kDatabase);
  f.db.clear();
  EXPECT_EQ(ValidateWatchFlags(f).value().scope, Scope::kDeployment);
  f.coll = "orders";
  EXPECT_EQ(ErrorOf(f), "--coll: needs --db");
}

TEST(WatchOptions, DefaultsAreServerDefaults) {
  WatchFlags f = Base();
  f.full_document = "default";
  f.full_document_before_change = "off";
  auto o = ValidateWatchFlags(f).value();
  EXPECT_EQ(o.full_document, "");
  EXPECT_EQ(o.full_document_before_change, "");
  EXPECT_EQ(o.on_history_lost, OnHistoryLost::kFail);
  EXPECT_EQ(o.max_await_ms, 1000);
}

TEST(WatchOptions, ErrorsNameTheFlag) {
  WatchFlags f = Base();
  f.full_document = "always";
  EXPECT_EQ(ErrorOf(f), "--full-document: 'always' is not one of default|updateLookup|whenAvailable|required");
  f = Base();
  f.full_document_before_change = "updateLookup";
  EXPECT_EQ(ErrorOf(f), "--full-document-before-change: 'updateLookup' is not one of off|whenAvailable|required");
  f = Base();
  f.sink = "ftp://x";
  EXPECT_EQ(ErrorOf(f), "--sink: unknown sink 'ftp://x': use stdout, file:PATH, http(s)://URL or exec:CMD");
  f = Base();
  f.sink = "https://:99/x";
  EXPECT_NE(ErrorOf(f).find("--sink: no host in URL"), std::string::npos) << ErrorOf(f);
  f = Base();
  f.sink = "http://example.test/x";
  f.sink_ca_file = "/etc/hostname";
  EXPECT_EQ(ErrorOf(f), "--sink-ca-file: only applies to an https:// sink");
  f.sink = "https://example.test/x";
  f.sink_ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(ErrorOf(f), "--sink-ca-file: cannot read '/nonexistent/ca.pem'");
  f = Base();
  f.checkpoint = "mongodb:nodot";
  EXPECT_NE(ErrorOf(f).find("--checkpoint: mongodb: needs DB.COLL"), std::string::npos);
  f = Base();
  f.checkpoint = "redis:x";
  EXPECT_NE(ErrorOf(f).find("--checkpoint: unknown kind"), std::string::npos);
  f = Base();
  f.checkpoint.clear();
  EXPECT_NE(ErrorOf(f).find("--checkpoint: required"), std::string::npos);
  f = Base();
  f.format = "pretty";
  EXPECT_EQ(ErrorOf(f), "--format: 'pretty' is not relaxed or canonical");
  f = Base();
  f.batch_size = -1;
  EXPECT_NE(ErrorOf(f).find("--batch-size"), std::string::npos);
  f = Base();
  f.max_await_ms = 0;
  EXPECT_NE(ErrorOf(f).find("--max-await-ms"), std::string::npos);
  f = Base();
  f.on_history_lost = "ignore";
  EXPECT_EQ(ErrorOf(f), "--on-history-lost: 'ignore' is not fail or resync");
  f = Base();
  f.uri = "postgres://x";
  EXPECT_NE(ErrorOf(f).find("--uri: not a valid connection string"), std::string::npos);
  f = Base();
  f.sink = "file:/tmp/o.ckpt";
  EXPECT_EQ(ErrorOf(f), "--checkpoint: the checkpoint file cannot be the sink file");
  f = Base();
  f.checkpoint = "mongodb:shop.orders";
  EXPECT_EQ(ErrorOf(f), "--checkpoint: the checkpoint collection cannot be the watched collection");
  f = Base();
  f.retry_max_ms = 10;
  EXPECT_NE(ErrorOf(f).find("--retry-max-ms"), std::string::npos);
}

TEST(WatchOptions, StartPointsAreExclusive) {
  WatchFlags f = Base();
  f.start_at_operation_time = "100:2";
  f.start_after = "8263";
  EXPECT_NE(ErrorOf(f).find("--start-at-operation-time: cannot be combined with --start-after"), std::string::npos);
  f = Base();
  f.initial_sync = true;
  f.start_at_operation_time = "100";
  EXPECT_NE(ErrorOf(f).find("--initial-sync"), std::string::npos);
  f = Base();
  f.start_at_operation_time = "yesterday";
  EXPECT_NE(ErrorOf(f).find("--start-at-operation-time: 'yesterday'"), std::string::npos);
  f = Base();
  f.start_after = "82zz";
  EXPECT_NE(ErrorOf(f).find("--start-after: not a hex digit"), std::string::npos);
  f = Base();
  f.start_after = R"({"x": 1})";
  EXPECT_NE(ErrorOf(f).find("--start-after: a resume token is a document"), std::string::npos);
}

TEST(WatchOptions, StartAfterTakesHexOrJson) {
  WatchFlags f = Base();
  f.start_after = "8263AB";
  auto o = ValidateWatchFlags(f).value();
  EXPECT_EQ(GetString(o.start_after.get(), "_data").value(), "8263AB");
  f.start_after = R"({"_data": "8264"})";
  o = ValidateWatchFlags(f).value();
  EXPECT_EQ(GetString(o.start_after.get(), "_data").value(), "8264");
}

TEST(WatchOptions, OperationTimeForms) {
  EXPECT_EQ(ParseOperationTime("1700000000"), (ClusterTime{1700000000, 0}));
  EXPECT_EQ(ParseOperationTime("1700000000:7"), (ClusterTime{1700000000, 7}));
  EXPECT_EQ(ParseOperationTime("1700000000.7"), (ClusterTime{1700000000, 7}));
  EXPECT_EQ(ParseOperationTime(R"({"$timestamp": {"t": 5, "i": 6}})"), (ClusterTime{5, 6}));
  EXPECT_FALSE(ParseOperationTime("99999999999"));
  EXPECT_FALSE(ParseOperationTime("-1"));
  EXPECT_FALSE(ParseOperationTime("1:"));
  EXPECT_FALSE(ParseOperationTime(""));
}

TEST(WatchOptions, PipelineInlineOrFromFile) {
  WatchFlags f = Base();
  f.pipeline = R"([{"$match": {"operationType": "insert"}}])";
  auto o = ValidateWatchFlags(f).value();
  EXPECT_EQ(ToExtJson(o.pipeline.get(), JsonFormat::kRelaxed),
            R"({ "pipeline" : [ { "$match" : { "operationType" : "insert" } } ] })");

  std::string path = ::testing::TempDir() + "/brook_pipeline.json";
  {
    std::ofstream out(path);
    out << "[{\"$project\": {\"x\": 1}}]";
  }
  f.pipeline = "@" + path;
  o = ValidateWatchFlags(f).value();
  EXPECT_EQ(ToExtJson(o.pipeline.get(), JsonFormat::kRelaxed), R"({ "pipeline" : [ { "$project" : { "x" : 1 } } ] })");
  std::remove(path.c_str());

  f.pipeline = "@/nonexistent/p.json";
  EXPECT_EQ(ErrorOf(f), "--pipeline: cannot read file '/nonexistent/p.json'");
  f.pipeline = R"({"$match": {}})";
  EXPECT_NE(ErrorOf(f).find("--pipeline: expected a JSON array"), std::string::npos);
  f.pipeline = "[{]";
  EXPECT_NE(ErrorOf(f).find("--pipeline: not valid Extended JSON"), std::string::npos);
  f.pipeline = "[1]";
  EXPECT_EQ(ErrorOf(f), "--pipeline: stage 0 is not a document");
}

TEST(WatchOptions, DefaultStreamNameHidesCredentials) {
  EXPECT_EQ(DefaultStreamName("mongodb://u:secret@h:1/", "d", "c"), "mongodb://h:1/|d.c");
  EXPECT_EQ(DefaultStreamName("mongodb://h/", "", ""), "mongodb://h/|*.*");
  WatchFlags f = Base();
  f.name = "orders-to-s3";
  EXPECT_EQ(ValidateWatchFlags(f).value().name, "orders-to-s3");
}

TEST(WatchOptions, MongoCheckpointInScopeIsExcludedFromTheStream) {
  WatchFlags f = Base();
  f.coll.clear();
  f.checkpoint = "mongodb:shop.ckpt";
  f.pipeline = R"([{"$match": {"x": 1}}])";
  auto o = ValidateWatchFlags(f).value();
  ExcludeCheckpointNamespace(&o);
  EXPECT_EQ(ToExtJson(o.pipeline.get(), JsonFormat::kRelaxed),
            R"({ "pipeline" : [ { "$match" : { "$or" : [ { "ns.db" : { "$ne" : "shop" } }, )"
            R"({ "ns.coll" : { "$ne" : "ckpt" } } ] } }, { "$match" : { "x" : 1 } } ] })");
  // Another database's stream cannot see it: unchanged.
  f.checkpoint = "mongodb:other.ckpt";
  o = ValidateWatchFlags(f).value();
  ExcludeCheckpointNamespace(&o);
  EXPECT_EQ(ToExtJson(o.pipeline.get(), JsonFormat::kRelaxed), R"({ "pipeline" : [ { "$match" : { "x" : 1 } } ] })");
}

}  // namespace
}  // namespace brook::watch
