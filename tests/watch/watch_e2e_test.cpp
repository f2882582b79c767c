// End-to-end tests of `brook watch` against a real brookd: exactly-once delivery into a
// file under repeated kill -9, the HTTP(S) sink against a receiver that fails requests,
// checkpoints in a collection, initial sync with concurrent writes and with mixed-type
// _ids interrupted mid-copy, SIGTERM.
// Part of the default ctest run (label watch_e2e; see CMakeLists.txt).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "brookd_process.h"
#include "watch_harness.h"

namespace brook::testing {
namespace {

class Env : public ::testing::Environment {
 public:
  void SetUp() override { mongoc_init(); }
  void TearDown() override { mongoc_cleanup(); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new Env);

std::string Ts(std::pair<uint32_t, uint32_t> t) { return std::to_string(t.first) + ":" + std::to_string(t.second); }

// True once the receiver has acknowledged every line of `reference`. One copy of the
// acknowledged lines: iterators of two separate copies must never be mixed (that read
// freed memory, and once crashed this test in libc).
bool AckedAll(const HttpReceiver& receiver, const std::vector<std::string>& reference) {
  auto acked = receiver.AckedLines();
  std::set<std::string> got(acked.begin(), acked.end());
  for (const auto& r : reference)
    if (!got.count(r)) return false;
  return true;
}

// Parses a JSON line with libbson (for field checks).
struct Json {
  explicit Json(const std::string& s) {
    bson_error_t err;
    b = bson_new_from_json(reinterpret_cast<const uint8_t*>(s.data()), static_cast<ssize_t>(s.size()), &err);
  }
  ~Json() {
    if (b) bson_destroy(b);
  }
  std::string Str(const char* path) const {
    bson_iter_t it, f;
    if (!b || !bson_iter_init(&it, b) || !bson_iter_find_descendant(&it, path, &f) || !BSON_ITER_HOLDS_UTF8(&f))
      return "";
    return bson_iter_utf8(&f, nullptr);
  }
  bool Has(const char* path) const {
    bson_iter_t it, f;
    return b && bson_iter_init(&it, b) && bson_iter_find_descendant(&it, path, &f);
  }
  bson_t* b = nullptr;
};

class WatchE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new BrookdProcess(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  std::string Coll() const { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }
  std::vector<std::string> BaseArgs(const std::string& coll) const {
    return {"--uri", server_->uri(), "--db", "e2e", "--coll", coll, "--status", "json", "--status-interval-ms", "500",
            "--max-await-ms", "200", "--retry-initial-ms", "20", "--retry-max-ms", "500"};
  }
  static BrookdProcess* server_;
  TempDir dir_;
};
BrookdProcess* WatchE2E::server_ = nullptr;

TEST_F(WatchE2E, ExactlyOnceIntoAFileUnderRepeatedKill9) {
  const int64_t n = EnvInt("WATCH_E2E_EVENTS", 20000);
  const int64_t kills = EnvInt("WATCH_E2E_KILLS", 50);
  std::string coll = Coll();
  Client client(server_->uri());
  auto t0 = client.OperationTime();
  auto args = BaseArgs(coll);
  std::string out = dir_.File("events.jsonl");
  args.insert(args.end(), {"--checkpoint", "file:" + dir_.File("w.ckpt"), "--sink", "file:" + out,
                           "--start-at-operation-time", Ts(t0), "--batch-size", "200"});
  WatchProcess watch(args, dir_.File("watch.log"));
  Writer writer(server_->uri(), "e2e", coll, n, /*pause_every=*/20);
  watch.Start();
  writer.Start();
  std::mt19937 rng(static_cast<uint32_t>(EnvInt("WATCH_E2E_SEED", 12345)));
  for (int64_t k = 0; k < kills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 250)(rng)));
    watch.Kill9();
    watch.Start();
  }
  writer.Join();
  auto reference = ReferenceEvents(server_->uri(), "e2e", coll, t0, SIZE_MAX, 120000);
  ASSERT_GE(reference.size(), static_cast<size_t>(n) * 9 / 10) << "the server's own stream is short";
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= reference.size(); }, 120000)) << watch.Log();
  EXPECT_EQ(watch.Term(), 0) << watch.Log();
  auto lines = ReadLines(out);
  ASSERT_EQ(lines.size(), reference.size());
  for (size_t i = 0; i < lines.size(); ++i) ASSERT_EQ(lines[i], reference[i]) << "first difference at event " << i;
}

TEST_F(WatchE2E, SigtermFinishesTheBatchSavesAndExitsZero) {
  std::string coll = Coll();
  auto args = BaseArgs(coll);
  std::string out = dir_.File("out.jsonl");
  args.insert(args.end(), {"--checkpoint", "file:" + dir_.File("c.ckpt"), "--sink", "file:" + out});
  WatchProcess watch(args, dir_.File("watch.log"));
  watch.Start();
  ASSERT_TRUE(WaitFor([&] { return !Slurp(dir_.File("c.ckpt")).empty(); }, 10000)) << watch.Log();
  Writer writer(server_->uri(), "e2e", coll, 300);
  writer.Start();
  writer.Join();
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= 300; }, 20000)) << watch.Log();
  EXPECT_EQ(watch.Term(), 0);
  std::string log = watch.Log();
  EXPECT_NE(log.find("stopped; checkpoint saved"), std::string::npos) << log;
  EXPECT_NE(log.find(R"({"status":)"), std::string::npos) << log;  // JSON status when not a terminal
  // A restart resumes after the last event: nothing repeated.
  watch.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(watch.Term(), 0);
  EXPECT_EQ(ReadLines(out).size(), 300u);
}

TEST_F(WatchE2E, HttpSinkDeliversEverythingAndTheCheckpointFollowsAcks) {
  std::string coll = Coll();
  Client client(server_->uri());
  auto t0 = client.OperationTime();
  std::string ckpt = dir_.File("h.ckpt");
  std::atomic<bool> checkpoint_ahead{false};
  HttpReceiver receiver(FlakyCheckingCheckpoint(ckpt, &checkpoint_ahead));
  auto args = BaseArgs(coll);
  args.insert(args.end(), {"--checkpoint", "file:" + ckpt, "--sink", receiver.url(), "--start-at-operation-time",
                           Ts(t0), "--batch-size", "50"});
  WatchProcess watch(args, dir_.File("watch.log"));
  watch.Start();
  Writer writer(server_->uri(), "e2e", coll, 2000);
  writer.Start();
  writer.Join();
  auto reference = ReferenceEvents(server_->uri(), "e2e", coll, t0, SIZE_MAX, 60000);
  ASSERT_FALSE(reference.empty());
  ASSERT_TRUE(WaitFor([&] { return AckedAll(receiver, reference); }, 60000)) << watch.Log();
  EXPECT_EQ(watch.Term(), 0) << watch.Log();
  EXPECT_FALSE(checkpoint_ahead.load());
  EXPECT_NE(watch.Log().find("answered HTTP 503"), std::string::npos);
}

// https:// with the receiver's certificate (made now by the openssl CLI) trusted through
// --sink-ca-file: every event arrives; without the flag the same receiver is refused
// (verification is on by default) and nothing is acknowledged.
TEST_F(WatchE2E, HttpsSinkVerifiesTheReceiverAndDeliversEverything) {
  std::string coll = Coll();
  Client client(server_->uri());
  auto t0 = client.OperationTime();
  MakeTestCertificate(dir_.path());
  HttpReceiver receiver(HttpReceiver::Flaky(), {dir_.File("cert.pem"), dir_.File("key.pem")});
  Writer writer(server_->uri(), "e2e", coll, 500);
  writer.Start();
  writer.Join();
  auto reference = ReferenceEvents(server_->uri(), "e2e", coll, t0, SIZE_MAX, 30000);
  ASSERT_EQ(reference.size(), 500u);

  auto args = BaseArgs(coll);
  args.insert(args.end(), {"--sink", receiver.url(), "--start-at-operation-time", Ts(t0), "--batch-size", "50"});
  auto untrusted = args;
  untrusted.insert(untrusted.end(), {"--checkpoint", "file:" + dir_.File("u.ckpt")});
  WatchProcess refused(untrusted, dir_.File("refused.log"));
  refused.Start();
  ASSERT_TRUE(WaitFor([&] { return refused.Log().find("certificate verify failed") != std::string::npos; }, 20000))
      << refused.Log();
  EXPECT_EQ(refused.Term(), 0) << refused.Log();
  EXPECT_NE(refused.Log().find("--sink-ca-file"), std::string::npos) << refused.Log();
  EXPECT_TRUE(receiver.AckedLines().empty());

  args.insert(args.end(), {"--checkpoint", "file:" + dir_.File("h.ckpt"), "--sink-ca-file", dir_.File("cert.pem")});
  WatchProcess watch(args, dir_.File("watch.log"));
  watch.Start();
  ASSERT_TRUE(WaitFor([&] { return AckedAll(receiver, reference); }, 60000)) << watch.Log();
  EXPECT_EQ(watch.Term(), 0) << watch.Log();
}

TEST_F(WatchE2E, CheckpointInACollectionRestartsFromTheStoredToken) {
  std::string coll = Coll();
  auto args = BaseArgs(coll);
  std::string out = dir_.File("out.jsonl");
  args.insert(args.end(), {"--checkpoint", "mongodb:brook.checkpoints", "--name", "orders-stream", "--sink",
                           "file:" + out});
  WatchProcess watch(args, dir_.File("watch.log"));
  watch.Start();
  Client client(server_->uri());
  ASSERT_TRUE(WaitFor(
      [&] {
        return client.Command("brook", R"({"find": "checkpoints", "filter": {"_id": "orders-stream"}})")
                   .find("\"token\"") != std::string::npos;
      },
      10000))
      << watch.Log();
  Writer first(server_->uri(), "e2e", coll, 100);
  first.Start();
  first.Join();
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= 100; }, 20000)) << watch.Log();
  EXPECT_EQ(watch.Term(), 0);
  // Written while the watcher is down: picked up from the stored token on restart. (Its
  // first 100 inserts hit existing keys and change nothing: 200 new events.)
  Writer second(server_->uri(), "e2e", coll, 300);
  second.Start();
  second.Join();
  watch.Start();
  ASSERT_TRUE(WaitFor([&] { return ReadLines(out).size() >= 300; }, 20000)) << watch.Log();
  EXPECT_EQ(watch.Term(), 0);
  EXPECT_EQ(ReadLines(out).size(), 300u);
  std::string stored = client.Command("brook", R"({"find": "checkpoints", "filter": {"_id": "orders-stream"}})");
  EXPECT_NE(stored.find("updatedAt"), std::string::npos) << stored;
}

using Fields = std::map<std::string, std::string>;

// Each top-level field of the document under `path` of `b` (or of b itself when path is
// empty), as relaxed JSON of {v: value}.
void ReadFields(const bson_t* b, const char* path, Fields* out) {
  bson_iter_t it, f, child;
  if (!bson_iter_init(&it, b)) return;
  if (*path) {
    if (!bson_iter_find_descendant(&it, path, &f) || !bson_iter_recurse(&f, &child)) return;
  } else {
    child = it;
  }
  while (bson_iter_next(&child)) {
    bson_t one = BSON_INITIALIZER;
    bson_append_iter(&one, "v", -1, &child);
    char* s = bson_as_relaxed_extended_json(&one, nullptr);
    (*out)[bson_iter_key(&child)] = s;
    bson_free(s);
    bson_destroy(&one);
  }
}

std::vector<std::string> Render(const std::map<int64_t, Fields>& state) {
  std::vector<std::string> out;
  for (const auto& [id, fields] : state) {
    std::string s = std::to_string(id) + ":";
    for (const auto& [k, v] : fields) s += k + "=" + v + ";";
    out.push_back(s);
  }
  return out;
}

// Replays events in order onto _id -> fields (inserts and replaces set the whole
// document, updates their updatedFields, deletes remove it): the state they lead to.
std::vector<std::string> Replay(const std::vector<std::string>& lines) {
  std::map<int64_t, Fields> state;
  for (const auto& l : lines) {
    Json e(l);
    if (!e.b) continue;
    bson_iter_t it, f;
    std::string op = e.Str("operationType");
    int64_t id = 0;
    if (bson_iter_init(&it, e.b) && bson_iter_find_descendant(&it, "documentKey._id", &f)) id = bson_iter_as_int64(&f);
    if (op == "delete") {
      state.erase(id);
    } else if (op == "update") {
      ReadFields(e.b, "updateDescription.updatedFields", &state[id]);
    } else {
      state[id].clear();
      ReadFields(e.b, "fullDocument", &state[id]);
    }
  }
  return Render(state);
}

std::vector<std::string> StateOf(const std::vector<std::string>& docs) {
  std::map<int64_t, Fields> state;
  for (const auto& d : docs) {
    Json j(d);
    bson_iter_t it;
    if (!j.b || !bson_iter_init_find(&it, j.b, "_id")) continue;
    ReadFields(j.b, "", &state[bson_iter_as_int64(&it)]);
  }
  return Render(state);
}

TEST_F(WatchE2E, InitialSyncWithConcurrentWritesReplaysToTheFinalState) {
  std::string coll = Coll();
  Writer before(server_->uri(), "e2e", coll, 3000);
  before.Start();
  before.Join();
  auto args = BaseArgs(coll);
  std::string out = dir_.File("out.jsonl");
  args.insert(args.end(), {"--checkpoint", "file:" + dir_.File("s.ckpt"), "--sink", "file:" + out, "--initial-sync"});
  WatchProcess watch(args, dir_.File("watch.log"));
  Writer during(server_->uri(), "e2e", coll, 4000);
  watch.Start();
  during.Start();
  // Interrupt the copy/stream once to exercise resuming.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  watch.Kill9();
  watch.Start();
  during.Join();
  Client client(server_->uri());
  auto final_docs = client.FindAll("e2e", coll);
  auto want = StateOf(final_docs);
  ASSERT_TRUE(WaitFor([&] { return Replay(ReadLines(out)) == want; }, 60000)) << watch.Log();
  EXPECT_EQ(watch.Term(), 0);
  auto lines = ReadLines(out);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.front().find(R"("brookSnapshot" : true)"), std::string::npos) << lines.front();
}

// The documents' _ids of every type an _id can have, in random insertion order.
void InsertMixedTypeIds(const std::string& uri, const std::string& coll) {
  Client client(uri);
  mongoc_collection_t* c = mongoc_client_get_collection(client.get(), "e2e", coll.c_str());
  // void*: a container of bson_t* trips -Werror=ignored-attributes (bson_t is aligned).
  std::vector<const void*> docs;
  auto add = [&](auto append_id) {
    bson_t* d = bson_new();
    append_id(d);
    BSON_APPEND_INT32(d, "n", static_cast<int32_t>(docs.size()));
    docs.push_back(d);
  };
  add([](bson_t* d) { BSON_APPEND_MINKEY(d, "_id"); });
  add([](bson_t* d) { BSON_APPEND_MAXKEY(d, "_id"); });
  add([](bson_t* d) { BSON_APPEND_NULL(d, "_id"); });
  add([](bson_t* d) { BSON_APPEND_BOOL(d, "_id", true); });
  add([](bson_t* d) { BSON_APPEND_BOOL(d, "_id", false); });
  for (int i = 0; i < 150; ++i) {
    add([i](bson_t* d) { BSON_APPEND_INT32(d, "_id", i * 2); });
    add([i](bson_t* d) { BSON_APPEND_DOUBLE(d, "_id", i * 2 + 0.5); });
    add([i](bson_t* d) { BSON_APPEND_INT64(d, "_id", int64_t{1} << 40 | i); });
    add([i](bson_t* d) { BSON_APPEND_UTF8(d, "_id", ("s" + std::to_string(1000 + i)).c_str()); });
    add([i](bson_t* d) {
      bson_t sub;
      BSON_APPEND_DOCUMENT_BEGIN(d, "_id", &sub);
      BSON_APPEND_INT32(&sub, "k", i);
      bson_append_document_end(d, &sub);
    });
    add([i](bson_t* d) {
      uint8_t bytes[4] = {static_cast<uint8_t>(i), 1, 2, 3};
      BSON_APPEND_BINARY(d, "_id", BSON_SUBTYPE_BINARY, bytes, 4);
    });
    add([](bson_t* d) {
      bson_oid_t oid;
      bson_oid_init(&oid, nullptr);
      BSON_APPEND_OID(d, "_id", &oid);
    });
    add([i](bson_t* d) { BSON_APPEND_DATE_TIME(d, "_id", 1700000000000 + i); });
    add([i](bson_t* d) { BSON_APPEND_TIMESTAMP(d, "_id", 1700000000, static_cast<uint32_t>(i + 1)); });
  }
  std::mt19937 rng(7);
  std::shuffle(docs.begin(), docs.end(), rng);
  bson_error_t err;
  bool ok = mongoc_collection_insert_many(c, reinterpret_cast<const bson_t**>(docs.data()), docs.size(), nullptr,
                                          nullptr, &err);
  EXPECT_TRUE(ok) << err.message;
  for (const void* d : docs) bson_destroy(static_cast<bson_t*>(const_cast<void*>(d)));
  mongoc_collection_destroy(c);
}

// The fullDocument of each snapshot event, as relaxed JSON.
std::vector<std::string> SnapshotDocuments(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    if (l.find(R"("brookSnapshot" : true)") == std::string::npos) continue;
    Json e(l);
    bson_iter_t it;
    const uint8_t* data = nullptr;
    uint32_t len = 0;
    if (!e.b || !bson_iter_init_find(&it, e.b, "fullDocument") || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
      out.push_back("unparsable: " + l);
      continue;
    }
    bson_iter_document(&it, &len, &data);
    bson_t doc;
    bson_init_static(&doc, data, len);
    char* s = bson_as_relaxed_extended_json(&doc, nullptr);
    out.emplace_back(s);
    bson_free(s);
  }
  return out;
}

// The copy resumes by _id after each interruption. _ids of mixed types sort by type
// first (MinKey, null, numbers, strings, objects, binary, ObjectId, bool, date,
// timestamp, MaxKey), which an {_id: {$gt: last}} continuation would cut short at
// last's type: the output must hold every document exactly once, in the server's order.
TEST_F(WatchE2E, InitialSyncOfMixedTypeIdsInterruptedMidCopyLosesNothing) {
  std::string coll = Coll();
  InsertMixedTypeIds(server_->uri(), coll);
  Client client(server_->uri());
  auto want = client.FindAll("e2e", coll);  // sorted by _id: the server's order
  ASSERT_EQ(want.size(), 1355u);
  auto args = BaseArgs(coll);
  std::string out = dir_.File("out.jsonl"), ckpt = dir_.File("m.ckpt");
  // Small batches: many checkpoints to be interrupted between.
  args.insert(args.end(), {"--checkpoint", "file:" + ckpt, "--sink", "file:" + out, "--initial-sync",
                           "--batch-size", "2"});
  WatchProcess watch(args, dir_.File("watch.log"));
  std::set<std::string> interrupted_after;
  auto last_id = [](const std::string& c, size_t at) { return c.substr(at, c.find('}', at) - at); };
  auto lines = [&] {
    std::string o = Slurp(out);
    return static_cast<size_t>(std::count(o.begin(), o.end(), '\n'));
  };
  for (int kill = 0; kill < 6; ++kill) {
    watch.Start();
    // Kill -9 right after a copy checkpoint past the next eighth of the copy: the
    // interruptions are placed by progress, not by time (a quiet machine copies
    // everything in well under a second), so they land in different type brackets.
    const size_t past = (kill + 1) * want.size() / 8;
    std::string seen;
    size_t at = std::string::npos;
    bool done = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      seen = Slurp(ckpt);
      at = seen.find("\"lastId\"");
      done = !seen.empty() && seen.find("initialSync") == std::string::npos;
      if (done) break;
      if (at != std::string::npos && lines() >= past && !interrupted_after.count(last_id(seen, at))) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (done || at == std::string::npos) break;  // the copy finished
    watch.Kill9();
    interrupted_after.insert(last_id(seen, at));
  }
  if (!watch.Running()) watch.Start();
  // The copy is done when the checkpoint moves on to streaming.
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string c = Slurp(ckpt);
        return !c.empty() && c.find("initialSync") == std::string::npos;
      },
      60000))
      << watch.Log();
  EXPECT_EQ(watch.Term(), 0) << watch.Log();
  EXPECT_GE(interrupted_after.size(), 2u) << "the copy was not interrupted: " << watch.Log();
  EXPECT_NE(watch.Log().find("initial sync: continuing"), std::string::npos) << watch.Log();
  auto got = SnapshotDocuments(ReadLines(out));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "first difference at document " << i;
}

}  // namespace
}  // namespace brook::testing
