// `brook watch` end to end through the real C driver against MockChangeStreamServer:
// runs now, before brookd serves change streams (part of the default ctest run).
// Covers: exactly once into a file under 50 kill -9s, resume after resumable errors and
// dropped connections, exit codes for non-resumable errors and lost history, an idle
// stream's checkpoint following the head, and processor throughput with 1 KB events.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <set>

#include "mock_server.h"
#include "watch_harness.h"

namespace brook::testing {
namespace {

class Env : public ::testing::Environment {
 public:
  void SetUp() override { mongoc_init(); }
  void TearDown() override { mongoc_cleanup(); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new Env);

std::vector<std::string> Args(const MockChangeStreamServer& m, const TempDir& dir, const std::string& out) {
  return {"--uri", m.uri(), "--db", "mock", "--coll", "c", "--status", "json", "--status-interval-ms", "500",
          "--max-await-ms", "100", "--retry-initial-ms", "10", "--retry-max-ms", "200",
          "--checkpoint", "file:" + dir.File("m.ckpt"), "--sink", "file:" + out};
}

void ExpectExactly(const MockChangeStreamServer& m, const std::vector<std::string>& lines, int64_t n) {
  ASSERT_EQ(static_cast<int64_t>(lines.size()), n);
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(lines[static_cast<size_t>(i)], m.EventJson(i)) << "first difference at event " << i;
}

TEST(WatchMockE2E, ExactlyOnceIntoAFileUnder50Kill9s) {
  const int64_t n = EnvInt("WATCH_E2E_EVENTS", 20000);
  const int64_t kills = EnvInt("WATCH_E2E_KILLS", 50);
  MockChangeStreamServer mock(1000);
  TempDir dir;
  std::string out = dir.File("events.jsonl");
  auto args = Args(mock, dir, out);
  args.insert(args.end(), {"--start-at-operation-time", "100:1", "--batch-size", "150"});
  WatchProcess watch(args, dir.File("watch.log"));
  watch.Start();
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    // ~8 s of events, so the kills land while the stream is busy.
    for (int64_t done = 0; done < n; done += 25) {
      mock.AddEvents(std::min<int64_t>(25, n - done));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    writing = false;
  });
  std::mt19937 rng(static_cast<uint32_t>(EnvInt("WATCH_E2E_SEED", 4242)));
  for (int64_t k = 0; k < kills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 250)(rng)));
    watch.Kill9();
    watch.Start();
  }
  writer.join();
  ASSERT_TRUE(WaitFor([&] { return static_cast<int64_t>(ReadLines(out).size()) >= n; }, 120000)) << watch.Log();
  EXPECT_EQ(watch.Term(), 0) << watch.Log();
  ExpectExactly(mock, ReadLines(out), n);
  std::string log = watch.Log();
  size_t truncations = 0;
  for (size_t p = log.find("truncated from"); p != std::string::npos; p = log.find("truncated from", p + 1)) ++truncations;
  std::printf("%lld kill -9s; %zu restarts truncated events written after their checkpoint\n",
              static_cast<long long>(kills), truncations);
}

TEST(WatchMockE2E, ResumableErrorsAndDroppedConnectionsResumeWithoutLossOrRepeats) {
  MockChangeStreamServer mock;
  TempDir dir;
  std::string out = dir.File("events.jsonl");
  auto args = Args(mock, dir, out);
  args.insert(args.end(), {"--start-at-operation-time", "100:1", "--batch-size", "40"});
  WatchProcess watch(args, dir.File("watch.log"));
  mock.AddEvents(500);
  watch.Start();
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= 100; }, 20000)) << watch.Log();
  mock.FailGetMores(4, 6, /*resumable=*/true);  // more than the driver's one own retry
  mock.AddEvents(500);
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= 1000; }, 20000)) << watch.Log();
  mock.FailGetMores(3, 0, true);  // connections closed without a reply
  mock.AddEvents(500);
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= 1500; }, 20000)) << watch.Log();
  EXPECT_TRUE(watch.Running()) << watch.Log();
  EXPECT_EQ(watch.Term(), 0);
  ExpectExactly(mock, ReadLines(out), 1500);
  std::string log = watch.Log();
  EXPECT_NE(log.find("resumable error: Injected (6): injected by the mock [labels: ResumableChangeStreamError]"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("resumeAfter 82000000640000"), std::string::npos) << log;
}

TEST(WatchMockE2E, NonResumableErrorExits1NamingIt) {
  MockChangeStreamServer mock;
  TempDir dir;
  std::string out = dir.File("events.jsonl");
  WatchProcess watch(Args(mock, dir, out), dir.File("watch.log"));
  watch.Start();
  ASSERT_TRUE(WaitFor([&] { return !Slurp(dir.File("m.ckpt")).empty(); }, 10000)) << watch.Log();
  mock.FailGetMores(1, 2, /*resumable=*/false);
  EXPECT_EQ(watch.Wait(20000), 1) << watch.Log();
  EXPECT_NE(watch.Log().find("error: the change stream failed with a non-resumable error: Injected (2)"),
            std::string::npos)
      << watch.Log();
}

TEST(WatchMockE2E, HistoryLostExits3AndExplains) {
  MockChangeStreamServer mock;
  TempDir dir;
  std::string out = dir.File("events.jsonl");
  WatchProcess watch(Args(mock, dir, out), dir.File("watch.log"));
  watch.Start();
  ASSERT_TRUE(WaitFor([&] { return !Slurp(dir.File("m.ckpt")).empty(); }, 10000)) << watch.Log();
  mock.FailGetMores(1, 286, /*resumable=*/false);
  EXPECT_EQ(watch.Wait(20000), 3) << watch.Log();
  std::string log = watch.Log();
  EXPECT_NE(log.find("is no longer in the server's oplog (ChangeStreamHistoryLost, 286)"), std::string::npos) << log;
  EXPECT_NE(log.find("--on-history-lost resync"), std::string::npos) << log;
}

TEST(WatchMockE2E, IdleStreamCheckpointFollowsTheHeadAndStartsNow) {
  MockChangeStreamServer mock;
  mock.AddEvents(30);  // before "now": never delivered
  TempDir dir;
  std::string out = dir.File("events.jsonl");
  WatchProcess watch(Args(mock, dir, out), dir.File("watch.log"));
  watch.Start();
  // The starting point (the aggregate's postBatchResumeToken at the head) is saved first.
  ASSERT_TRUE(WaitFor([&] { return Slurp(dir.File("m.ckpt")).find("82000000640000001E00") != std::string::npos; },
                      10000))
      << watch.Log() << Slurp(dir.File("m.ckpt"));
  mock.AddEvents(10);
  ASSERT_TRUE(WaitFor([&] { return Slurp(dir.File("m.ckpt")).find("820000006400000028") != std::string::npos; },
                      10000))
      << watch.Log() << Slurp(dir.File("m.ckpt"));
  EXPECT_EQ(watch.Term(), 0);
  auto lines = ReadLines(out);
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(lines.front(), mock.EventJson(30));
  EXPECT_NE(Slurp(dir.File("m.ckpt")).find("\"sinkOffset\""), std::string::npos);
}

TEST(WatchMockE2E, CheckpointInACollectionRestartsFromTheStoredToken) {
  MockChangeStreamServer mock;
  TempDir dir;
  std::string out = dir.File("events.jsonl");
  auto args = Args(mock, dir, out);
  for (auto& a : args)
    if (a.rfind("file:", 0) == 0 && a.find("m.ckpt") != std::string::npos) a = "mongodb:brook.checkpoints";
  args.insert(args.end(), {"--name", "mock-stream", "--start-at-operation-time", "100:1"});
  WatchProcess watch(args, dir.File("watch.log"));
  mock.AddEvents(100);
  watch.Start();
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= 100; }, 20000)) << watch.Log();
  EXPECT_EQ(watch.Term(), 0);
  {
    Client client(mock.uri());
    std::string stored = client.Command("brook", R"({"find": "checkpoints", "filter": {"_id": "mock-stream"}})");
    EXPECT_NE(stored.find("\"_data\" : \"820000006400000064"), std::string::npos) << stored;
    EXPECT_NE(stored.find("updatedAt"), std::string::npos) << stored;
  }
  mock.AddEvents(50);  // while the watcher is down
  watch.Start();
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= 150; }, 20000)) << watch.Log();
  EXPECT_EQ(watch.Term(), 0);
  ExpectExactly(mock, ReadLines(out), 150);
  EXPECT_NE(watch.Log().find("resuming from checkpoint mongodb:brook.checkpoints (_id \"mock-stream\")"),
            std::string::npos)
      << watch.Log();
}

TEST(WatchMockE2E, HttpSinkDeliversEverythingAndTheCheckpointFollowsAcks) {
  MockChangeStreamServer mock;
  TempDir dir;
  std::atomic<bool> checkpoint_ahead{false};
  HttpReceiver receiver(FlakyCheckingCheckpoint(dir.File("m.ckpt"), &checkpoint_ahead));
  auto args = Args(mock, dir, "unused");
  for (auto& a : args)
    if (a == "file:unused") a = receiver.url();
  args.insert(args.end(), {"--start-at-operation-time", "100:1", "--batch-size", "50"});
  WatchProcess watch(args, dir.File("watch.log"));
  mock.AddEvents(1000);
  watch.Start();
  std::thread more([&] {
    for (int k = 0; k < 10; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      mock.AddEvents(100);
    }
  });
  more.join();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto acked = receiver.AckedLines();
        std::set<std::string> got(acked.begin(), acked.end());
        for (int64_t i = 0; i < 2000; ++i)
          if (!got.count(mock.EventJson(i))) return false;
        return true;
      },
      30000))
      << watch.Log();
  EXPECT_EQ(watch.Term(), 0);
  EXPECT_FALSE(checkpoint_ahead.load());
  EXPECT_NE(watch.Log().find("answered HTTP 503"), std::string::npos) << watch.Log();
}

TEST(WatchMockE2E, ThroughputWith1KBEvents) {
  const int64_t n = EnvInt("WATCH_MOCK_BENCH_EVENTS", 100000);
  MockChangeStreamServer mock(1000);
  mock.AddEvents(n);
  TempDir dir;
  std::string out = dir.File("events.jsonl");
  auto args = Args(mock, dir, out);
  args.insert(args.end(), {"--start-at-operation-time", "100:1", "--batch-size", "1000"});
  WatchProcess watch(args, dir.File("watch.log"));
  // Poll the file's size, not its lines: re-reading 100 MB would cost the watcher CPU.
  uintmax_t bytes = 0;
  for (int64_t i = 0; i < n; ++i) bytes += mock.EventJson(i).size() + 1;
  auto t0 = std::chrono::steady_clock::now();
  watch.Start();
  ASSERT_TRUE(WaitFor(
      [&] {
        std::error_code ec;
        uintmax_t size = std::filesystem::file_size(out, ec);
        return !ec && size >= bytes;
      },
      120000))
      << watch.Log();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(watch.Term(), 0);
  std::printf("brook watch from the mock server into a file: %lld events of ~1 KB in %.2f s = %.0f events/s\n",
              static_cast<long long>(n), secs, static_cast<double>(n) / secs);
  RecordProperty("events_per_sec", static_cast<int>(static_cast<double>(n) / secs));
}

}  // namespace
}  // namespace brook::testing
