#include "server/dispatcher.h"

#include <gtest/gtest.h>

#include <thread>

#include "bson/json.h"
#include "commands/failpoints.h"
#include "commands/log_buffer.h"
#include "commands/server_options.h"
#include "commands/server_stats.h"
#include "server/waiters.h"

namespace brook::server {
namespace {

using namespace std::chrono_literals;

bson::Doc J(std::string_view json) {
  auto d = bson::FromJson(json);
  EXPECT_TRUE(d.ok()) << json << d.status().ToString();
  return std::move(d).value();
}

// The dispatcher with the admin/hello/test families; no storage engine (null), so
// cluster times are null timestamps.
class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : waiters_([] { return bson::Timestamp{}; }), dispatcher_(service_, waiters_) {
    service_.options = &options_;
    service_.stats = &stats_;
    service_.failpoints = &failpoints_;
    service_.log_buffer = &log_buffer_;
    service_.process_id = bson::ObjectId::Generate();
    service_.start_time = std::chrono::system_clock::now();
    client_.connection_id = 7;
    client_.remote = "127.0.0.1:5555";
    thread_ = std::thread([this] { io_.run(); });
  }
  ~DispatcherTest() override {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  DispatchResult Run(std::string_view json) {
    bson::Doc body = J(json);
    auto f = asio::co_spawn(asio::make_strand(io_), dispatcher_.Dispatch(client_, body), asio::use_future);
    return f.get();
  }
  static int Code(const DispatchResult& r) { return static_cast<int>(r.reply.view()["code"].NumberInt64()); }
  static bool Ok(const DispatchResult& r) { return r.reply.view()["ok"].NumberDouble() == 1.0; }

  commands::ServerOptions options_;
  commands::ServerStats stats_;
  commands::FailPoints failpoints_;
  commands::LogBuffer log_buffer_;
  commands::ServiceContext service_;
  commands::ClientInfo client_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  Waiters waiters_;
  Dispatcher dispatcher_;
  std::thread thread_;
};

TEST_F(DispatcherTest, PingEnvelope) {
  auto r = Run(R"({"ping": 1, "$db": "admin"})");
  ASSERT_TRUE(Ok(r)) << r.reply.ToString();
  auto v = r.reply.view();
  EXPECT_EQ(v["ok"].type(), bson::Type::kDouble);
  auto ct = v["$clusterTime"];
  ASSERT_TRUE(ct.IsObject());
  EXPECT_EQ(ct.Obj()["clusterTime"].type(), bson::Type::kTimestamp);
  auto sig = ct.Obj()["signature"].Obj();
  EXPECT_EQ(sig["hash"].Bin().bytes.size(), 20u);
  EXPECT_EQ(sig["keyId"].type(), bson::Type::kInt64);
  EXPECT_EQ(v["operationTime"].type(), bson::Type::kTimestamp);
  EXPECT_EQ(stats_.opcounters.command.load(), 1);
}

TEST_F(DispatcherTest, UnknownCommandsAndTestOnly) {
  auto r = Run(R"({"foo": 1, "$db": "admin"})");
  EXPECT_EQ(Code(r), 59);
  EXPECT_EQ(r.reply.view()["errmsg"].Str(), "no such command: 'foo'");
  EXPECT_EQ(r.reply.view()["codeName"].Str(), "CommandNotFound");
  EXPECT_FALSE(r.reply.view().HasField("errorLabels"));
  r = Run(R"({"configureFailPoint": "failCommand", "mode": "off", "$db": "admin"})");
  EXPECT_EQ(Code(r), 59);
  service_.test_commands_enabled = true;
  r = Run(R"({"configureFailPoint": "failCommand", "mode": "off", "$db": "admin"})");
  EXPECT_TRUE(Ok(r)) << r.reply.ToString();
  EXPECT_EQ(r.reply.view()["count"].type(), bson::Type::kInt64);
}

TEST_F(DispatcherTest, AdminOnlyAndGenericArgErrors) {
  auto r = Run(R"({"getParameter": "*", "$db": "test"})");
  EXPECT_EQ(Code(r), 13);
  EXPECT_EQ(r.reply.view()["errmsg"].Str(), "getParameter may only be run against the admin database.");
  r = Run(R"({"ping": 1})");
  EXPECT_EQ(Code(r), 40571);
  r = Run(R"({"buildInfo": 1, "$db": "admin", "apiVersion": "1", "apiStrict": true})");
  EXPECT_EQ(Code(r), 323);
  r = Run(R"({"ping": 1, "$db": "admin", "apiVersion": "1", "apiStrict": true})");
  EXPECT_TRUE(Ok(r));
}

TEST_F(DispatcherTest, HelloAndClientMetadata) {
  auto r = Run(R"({"hello": 1, "helloOk": true, "client": {"application": {"name": "a"}}, "compression": ["lz4", "zstd", "zlib"], "$db": "admin"})");
  ASSERT_TRUE(Ok(r)) << r.reply.ToString();
  auto v = r.reply.view();
  EXPECT_TRUE(v["isWritablePrimary"].Bool());
  EXPECT_TRUE(v["helloOk"].Bool());
  EXPECT_EQ(v["setName"].Str(), "rs0");
  EXPECT_EQ(v["maxWireVersion"].NumberInt64(), 21);
  EXPECT_EQ(v["me"].Str(), "127.0.0.1:27017");
  EXPECT_EQ(v["compression"].Obj().first().Str(), "zstd");
  EXPECT_EQ(client_.compressor, "zstd");
  EXPECT_EQ(v["connectionId"].NumberInt64(), 7);
  EXPECT_FALSE(r.compressible);
  EXPECT_EQ(v["electionId"].Oid().ToHex(), "7fffffff0000000000000001");
  EXPECT_EQ(v["topologyVersion"].Obj()["processId"].Oid(), service_.process_id);

  r = Run(R"({"isMaster": 1, "$db": "admin"})");
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(r.reply.view()["ismaster"].Bool());
  EXPECT_FALSE(r.reply.view().HasField("isWritablePrimary"));

  r = Run(R"({"hello": 1, "client": {"application": {"name": "b"}}, "$db": "admin"})");
  EXPECT_EQ(Code(r), 186);
}

TEST_F(DispatcherTest, AwaitableHelloWaits) {
  std::string pid = service_.process_id.ToHex();
  auto start = std::chrono::steady_clock::now();
  auto r = Run(R"({"hello": 1, "maxAwaitTimeMS": 80, "topologyVersion": {"processId": {"$oid": ")" + pid +
               R"("}, "counter": {"$numberLong": "0"}}, "$db": "admin"})");
  EXPECT_TRUE(Ok(r)) << r.reply.ToString();
  EXPECT_TRUE(r.awaited_hello);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 80ms);
  // Another process id: answer at once.
  r = Run(R"({"hello": 1, "maxAwaitTimeMS": 10000, "topologyVersion": {"processId": {"$oid": "000000000000000000000000"}, "counter": 0}, "$db": "admin"})");
  EXPECT_TRUE(Ok(r));
  EXPECT_FALSE(r.awaited_hello);
}

TEST_F(DispatcherTest, FailCommandErrorBlockClose) {
  service_.test_commands_enabled = true;
  auto r = Run(R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["ping"], "errorCode": 91, "errorLabels": ["X"]}, "$db": "admin"})");
  ASSERT_TRUE(Ok(r)) << r.reply.ToString();
  r = Run(R"({"ping": 1, "$db": "admin"})");
  EXPECT_EQ(Code(r), 91);
  EXPECT_EQ(r.reply.view()["codeName"].Str(), "ShutdownInProgress");
  EXPECT_EQ(r.reply.view()["errorLabels"].Obj().first().Str(), "X");
  EXPECT_TRUE(Ok(Run(R"({"ping": 1, "$db": "admin"})")));

  Run(R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["ping"], "blockConnection": true, "blockTimeMS": 60}, "$db": "admin"})");
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(Ok(Run(R"({"ping": 1, "$db": "admin"})")));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 60ms);

  Run(R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["ping"], "closeConnection": true}, "$db": "admin"})");
  EXPECT_TRUE(Run(R"({"ping": 1, "$db": "admin"})").close_connection);

  Run(R"({"configureFailPoint": "maxTimeAlwaysTimeOut", "mode": "alwaysOn", "$db": "admin"})");
  EXPECT_EQ(Code(Run(R"({"ping": 1, "maxTimeMS": 100, "$db": "admin"})")), 50);
  EXPECT_TRUE(Ok(Run(R"({"ping": 1, "$db": "admin"})")));
}

TEST_F(DispatcherTest, AdminCommands) {
  auto r = Run(R"({"buildInfo": 1, "$db": "admin"})");
  ASSERT_TRUE(Ok(r));
  EXPECT_EQ(r.reply.view()["version"].Str(), "7.0.0");
  r = Run(R"({"getParameter": 1, "featureCompatibilityVersion": 1, "$db": "admin"})");
  ASSERT_TRUE(Ok(r)) << r.reply.ToString();
  EXPECT_EQ(r.reply.view()["featureCompatibilityVersion"].Obj()["version"].Str(), "7.0");
  EXPECT_EQ(Code(Run(R"({"getParameter": 1, "nope": 1, "$db": "admin"})")), 72);
  r = Run(R"({"setParameter": 1, "cursorTimeoutMillis": 1000, "$db": "admin"})");
  ASSERT_TRUE(Ok(r)) << r.reply.ToString();
  EXPECT_EQ(r.reply.view()["was"].NumberInt64(), 600000);
  r = Run(R"({"serverStatus": 1, "$db": "admin"})");
  ASSERT_TRUE(Ok(r)) << r.reply.ToString();
  EXPECT_EQ(r.reply.view()["process"].Str(), "brookd");
  EXPECT_TRUE(r.reply.view()["opcounters"].IsObject());
  r = Run(R"({"listCommands": 1, "$db": "admin"})");
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(r.reply.view()["commands"].Obj()["isMaster"].IsObject());
  r = Run(R"({"whatsmyuri": 1, "$db": "admin"})");
  EXPECT_EQ(r.reply.view()["you"].Str(), "127.0.0.1:5555");
  r = Run(R"({"getLog": "*", "$db": "admin"})");
  ASSERT_TRUE(Ok(r));
  r = Run(R"({"getLog": "startupWarnings", "$db": "admin"})");
  ASSERT_TRUE(Ok(r)) << r.reply.ToString();
  r = Run(R"({"endSessions": [{"id": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAA==", "subType": "04"}}}], "$db": "admin"})");
  EXPECT_TRUE(Ok(r)) << r.reply.ToString();
  EXPECT_EQ(Code(Run(R"({"endSessions": 1, "$db": "admin"})")), 14);
  EXPECT_TRUE(Ok(Run(R"({"replSetGetStatus": 1, "$db": "admin"})")));
  EXPECT_TRUE(Ok(Run(R"({"hostInfo": 1, "$db": "admin"})")));
  EXPECT_TRUE(Ok(Run(R"({"getDefaultRWConcern": 1, "$db": "admin"})")));
  EXPECT_TRUE(Ok(Run(R"({"connectionStatus": 1, "$db": "admin"})")));
  EXPECT_TRUE(Ok(Run(R"({"getCmdLineOpts": 1, "$db": "admin"})")));
}

}  // namespace
}  // namespace brook::server
