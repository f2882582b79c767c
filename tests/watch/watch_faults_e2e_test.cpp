// End-to-end fault tests of `brook watch` against a real brookd: the server killed and
// restarted mid-stream, failCommand failpoints on getMore (resumable: the watcher
// resumes; not resumable: it exits 1 naming the error), and a shrunken oplog losing the
// stream's history (--on-history-lost fail and resync).
// Part of the default ctest run (label watch_e2e; see CMakeLists.txt).
#include <gtest/gtest.h>

#include "brookd_process.h"
#include "watch_harness.h"

namespace brook::testing {
namespace {

std::string Ts(std::pair<uint32_t, uint32_t> t) { return std::to_string(t.first) + ":" + std::to_string(t.second); }

std::vector<std::string> Args(const std::string& uri, const std::string& coll, const TempDir& dir,
                              const std::string& out) {
  return {"--uri", uri, "--db", "faults", "--coll", coll, "--status", "json", "--max-await-ms", "200",
          "--retry-initial-ms", "20", "--retry-max-ms", "1000", "--checkpoint", "file:" + dir.File("f.ckpt"),
          "--sink", "file:" + out};
}

class WatchFaultsE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { mongoc_init(); }
  std::string Coll() const { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }
  TempDir dir_;
};

TEST_F(WatchFaultsE2E, ServerKilledAndRestartedMidStreamLosesAndRepeatsNothing) {
  BrookdProcess server;
  std::string coll = Coll();
  Client client(server.uri());
  auto t0 = client.OperationTime();
  std::string out = dir_.File("out.jsonl");
  auto args = Args(server.uri(), coll, dir_, out);
  args.insert(args.end(), {"--start-at-operation-time", Ts(t0)});
  WatchProcess watch(args, dir_.File("watch.log"));
  watch.Start();
  Writer writer(server.uri(), "faults", coll, 3000, /*pause_every=*/10);
  writer.Start();
  for (int k = 0; k < 3; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    server.Kill9();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server.Start();
  }
  writer.Join();
  auto reference = ReferenceEvents(server.uri(), "faults", coll, t0, SIZE_MAX, 60000);
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= reference.size(); }, 60000)) << watch.Log();
  EXPECT_TRUE(watch.Running()) << "the watcher must survive server restarts: " << watch.Log();
  EXPECT_EQ(watch.Term(), 0);
  EXPECT_EQ(ReadLines(out), reference);
  EXPECT_NE(watch.Log().find("resumable error"), std::string::npos) << watch.Log();
}

TEST_F(WatchFaultsE2E, FailCommandOnGetMoreCausesAResumeNotAnExit) {
  BrookdProcess server;
  std::string coll = Coll();
  Client client(server.uri());
  auto t0 = client.OperationTime();
  std::string out = dir_.File("out.jsonl");
  auto args = Args(server.uri(), coll, dir_, out);
  args.insert(args.end(), {"--start-at-operation-time", Ts(t0)});
  WatchProcess watch(args, dir_.File("watch.log"));
  watch.Start();
  Writer first(server.uri(), "faults", coll, 200);
  first.Start();
  first.Join();
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= 200; }, 20000)) << watch.Log();
  std::string err;
  // The driver resumes a failed getMore once by itself; failing its resume aggregate too
  // makes the error reach brook, whose own resume (with backoff) must then recover.
  client.Command("admin",
                 R"({"configureFailPoint": "failCommand", "mode": {"times": 4}, "data": {"failCommands":
                     ["getMore", "aggregate"], "errorCode": 6, "errorLabels": ["ResumableChangeStreamError"]}})",
                 &err);
  ASSERT_EQ(err, "");
  // Keys 0..199 exist: the first 200 inserts change nothing, the next 200 are new events.
  Writer second(server.uri(), "faults", coll, 400);
  second.Start();
  second.Join();
  ASSERT_TRUE(WaitFor([&] { return watch.Log().find("resumable error") != std::string::npos; }, 20000))
      << watch.Log();
  client.Command("admin", R"({"configureFailPoint": "failCommand", "mode": "off"})");
  auto reference = ReferenceEvents(server.uri(), "faults", coll, t0, SIZE_MAX, 30000);
  ASSERT_EQ(reference.size(), 400u);
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= reference.size(); }, 30000)) << watch.Log();
  EXPECT_TRUE(watch.Running()) << watch.Log();
  EXPECT_EQ(watch.Term(), 0);
  EXPECT_EQ(ReadLines(out), reference);
}

TEST_F(WatchFaultsE2E, NonResumableErrorExitsNonZeroNamingTheError) {
  BrookdProcess server;
  std::string coll = Coll();
  Client client(server.uri());
  std::string out = dir_.File("out.jsonl");
  WatchProcess watch(Args(server.uri(), coll, dir_, out), dir_.File("watch.log"));
  watch.Start();
  ASSERT_TRUE(WaitFor([&] { return !Slurp(dir_.File("f.ckpt")).empty(); }, 10000)) << watch.Log();
  client.Command("admin",
                 R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["getMore"],
                     "errorCode": 2, "errorLabels": ["NonResumableChangeStreamError"]}})");
  EXPECT_EQ(watch.Wait(20000), 1) << watch.Log();
  EXPECT_NE(watch.Log().find("non-resumable error"), std::string::npos) << watch.Log();
  EXPECT_NE(watch.Log().find("(2)"), std::string::npos) << watch.Log();
  client.Command("admin", R"({"configureFailPoint": "failCommand", "mode": "off"})");
}

TEST_F(WatchFaultsE2E, HistoryLostFailsByDefaultAndResyncsWhenAsked) {
  BrookdWithArgs server({"--oplogSizeMB", "1"});
  std::string coll = Coll();
  std::string out = dir_.File("out.jsonl");
  WatchProcess watch(Args(server.uri(), coll, dir_, out), dir_.File("watch.log"));
  watch.Start();
  // The stream starts "now": writes before its first checkpoint might precede it.
  ASSERT_TRUE(WaitFor([&] { return !Slurp(dir_.File("f.ckpt")).empty(); }, 10000)) << watch.Log();
  Writer first(server.uri(), "faults", coll, 50);
  first.Start();
  first.Join();
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= 50; }, 20000)) << watch.Log();
  ASSERT_EQ(watch.Term(), 0);
  // Far more than 1 MB of changes while the watcher is down: its resume point leaves the oplog.
  {
    Client client(server.uri());
    mongoc_collection_t* c = mongoc_client_get_collection(client.get(), "faults", coll.c_str());
    for (int i = 0; i < 2000; ++i) {
      // A new value each time: an update's oplog entry holds only what changed.
      std::string pad(4000, static_cast<char>('a' + i % 26));
      bson_t* sel = BCON_NEW("_id", BCON_INT64(i % 50));
      bson_t* upd = BCON_NEW("$set", "{", "pad", BCON_UTF8(pad.c_str()), "i", BCON_INT32(i), "}");
      mongoc_collection_update_one(c, sel, upd, nullptr, nullptr, nullptr);
      bson_destroy(sel);
      bson_destroy(upd);
    }
    mongoc_collection_destroy(c);
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let the oplog truncate
  watch.Start();
  EXPECT_EQ(watch.Wait(30000), 3) << watch.Log();
  EXPECT_NE(watch.Log().find("ChangeStreamHistoryLost"), std::string::npos) << watch.Log();
  EXPECT_NE(watch.Log().find("--on-history-lost resync"), std::string::npos) << watch.Log();
  EXPECT_EQ(ReadLines(out).size(), 50u);  // nothing written past the checkpoint

  auto args = Args(server.uri(), coll, dir_, out);
  args.insert(args.end(), {"--on-history-lost", "resync"});
  WatchProcess resync(args, dir_.File("resync.log"));
  resync.Start();
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= 100; }, 30000)) << resync.Log();
  EXPECT_TRUE(resync.Running()) << resync.Log();
  EXPECT_EQ(resync.Term(), 0);
  auto lines = ReadLines(out);
  size_t snapshots = 0;
  for (const auto& l : lines) snapshots += l.find(R"("brookSnapshot" : true)") != std::string::npos;
  EXPECT_EQ(snapshots, 50u);  // the 50 documents, copied again
}

}  // namespace
}  // namespace brook::testing
