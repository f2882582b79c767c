#include "storage/engine.h"

#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "bson/builder.h"
#include "storage/engine_internal.h"
#include "storage/storage_test_util.h"
#include "storage/fault_fs.h"
#include "storage/key_string.h"

namespace brook::storage {
namespace {

using bson::Timestamp;
using testing::OpenOrDie;
using testing::TempDir;

OplogDraft InsertDraft(std::string_view ns, int64_t id, std::string_view pad = "") {
  bson::Builder b;
  b.AppendString("op", "i");
  b.AppendString("ns", ns);
  b.OpenDocument("o").AppendInt64("_id", id).AppendString("pad", pad).Close();
  OplogDraft d;
  d.body = b.Done();
  return d;
}

// Commits one insert: a record and its oplog entry.
StatusWith<CommitResult> CommitInsert(Engine& e, int64_t id, std::string_view pad = "") {
  auto unit = e.BeginWriteUnit();
  std::string key = "rec" + std::to_string(id);
  unit->Put(Family::kRecords, key, "v" + std::to_string(id));
  unit->AddOplog(InsertDraft("db.c", id, pad));
  return e.Commit(*unit);
}

bson::Doc DocOf(std::string_view bytes) { return bson::Doc(std::string(bytes)); }

std::vector<std::pair<Timestamp, bson::Doc>> ReadOplog(Engine& e, Timestamp from = {}) {
  std::vector<std::pair<Timestamp, bson::Doc>> out;
  auto it = e.NewOplogIterator(from, /*durable_only=*/false);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(DecodeOplogKey(it->key()), DocOf(it->value()));
  }
  EXPECT_TRUE(it->status().ok());
  return out;
}

TEST(EngineTest, OpensEmpty) {
  TempDir dir;
  auto e = OpenOrDie({.dbpath = dir.path()});
  EXPECT_TRUE(e->visible().IsNull());
  EXPECT_TRUE(e->durable().IsNull());
  EXPECT_TRUE(e->oldest_oplog_ts().IsNull());
  Timestamp ct = e->ClusterTime();
  EXPECT_EQ(ct.inc, 0u);
  EXPECT_GT(ct.secs, 1600000000u);
  EXPECT_TRUE(e->background_error().ok());
}

TEST(EngineTest, OplogKeysRoundTripAndSortByTimestamp) {
  Timestamp a{5, 7}, b{5, 8}, c{6, 0};
  EXPECT_EQ(DecodeOplogKey(EncodeOplogKey(a)), a);
  EXPECT_LT(EncodeOplogKey(a), EncodeOplogKey(b));
  EXPECT_LT(EncodeOplogKey(b), EncodeOplogKey(c));
  EXPECT_TRUE(DecodeOplogKey("short").IsNull());
  CollectionUuid u{};
  u[0] = 1;
  std::string k = EncodePreimageKey(u, a, 3);
  ASSERT_EQ(k.size(), 28u);
  EXPECT_EQ(k.substr(0, 16), PreimageKeyPrefix(u));
  EXPECT_EQ(k.substr(16, 8), EncodeOplogKey(a));
  EXPECT_EQ(k.substr(24), std::string("\0\0\0\3", 4));
}

TEST(EngineTest, UnitReadsOwnWritesOverItsSnapshot) {
  TempDir dir;
  auto e = OpenOrDie({.dbpath = dir.path()});
  {
    auto u = e->BeginWriteUnit();
    u->Put(Family::kRecords, "a", "1");
    u->Put(Family::kRecords, "c", "3");
    ASSERT_TRUE(e->Commit(*u).ok());
  }
  auto old_snapshot = e->GetSnapshot();
  auto u = e->BeginWriteUnit();
  u->Put(Family::kRecords, "b", "2");
  u->Delete(Family::kRecords, "c");
  {
    // Committed by someone else after u began: u must not see it.
    auto other = e->BeginWriteUnit();
    other->Put(Family::kRecords, "z", "26");
    ASSERT_TRUE(e->Commit(*other).ok());
  }
  EXPECT_EQ(u->Get(Family::kRecords, "b").value(), "2");
  EXPECT_EQ(u->Get(Family::kRecords, "c").status().code(), static_cast<int>(ErrorCodes::kNoSuchKey));
  EXPECT_EQ(u->Get(Family::kRecords, "z").status().code(), static_cast<int>(ErrorCodes::kNoSuchKey));

  std::vector<std::string> keys;
  auto it = u->NewIterator(Family::kRecords, "a", "y");
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.emplace_back(it->key());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));
  it->SeekToLast();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");
  it->SeekForPrev("zz");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");

  ASSERT_TRUE(e->Commit(*u).ok());
  EXPECT_EQ(old_snapshot->Get(Family::kRecords, "c").value(), "3");
  EXPECT_FALSE(old_snapshot->Get(Family::kRecords, "b").ok());
  auto now = e->GetSnapshot();
  EXPECT_EQ(now->Get(Family::kRecords, "b").value(), "2");
  EXPECT_FALSE(now->Get(Family::kRecords, "c").ok());
}

TEST(EngineTest, UnitWithoutOplogCommitsWithoutTimestampAndOnlyOnce) {
  TempDir dir;
  auto e = OpenOrDie({.dbpath = dir.path()});
  auto u = e->BeginWriteUnit();
  u->Put(Family::kCatalog, "k", "v");
  auto r = e->Commit(*u);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value().first_ts.IsNull());
  EXPECT_TRUE(r.value().last_ts.IsNull());
  EXPECT_TRUE(e->visible().IsNull());
  EXPECT_FALSE(e->Commit(*u).ok());
}

TEST(EngineTest, WriteWriteConflictIs112) {
  TempDir dir;
  auto e = OpenOrDie({.dbpath = dir.path()});
  auto a = e->BeginWriteUnit();
  auto b = e->BeginWriteUnit();
  a->Put(Family::kRecords, "k", "a");
  b->Put(Family::kRecords, "k", "b");
  b->AddOplog(InsertDraft("db.c", 1));
  ASSERT_TRUE(e->Commit(*a).ok());
  Timestamp before = e->visible();
  auto r = e->Commit(*b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 112);
  EXPECT_EQ(r.status().code_name(), "WriteConflict");
  EXPECT_NE(r.status().reason().find("WriteConflict error"), std::string::npos);
  EXPECT_EQ(e->visible(), before) << "a failed commit must not move the watermark";
  EXPECT_TRUE(ReadOplog(*e).empty());
  EXPECT_EQ(e->GetSnapshot()->Get(Family::kRecords, "k").value(), "a");
  EXPECT_TRUE(e->background_error().ok()) << "a conflict is not a sticky error";
}

TEST(EngineTest, GetForUpdateConflictsOnReadKey) {
  TempDir dir;
  auto e = OpenOrDie({.dbpath = dir.path()});
  auto probe = e->BeginWriteUnit();
  // A unique-index probe that finds nothing, then writes elsewhere.
  EXPECT_FALSE(probe->GetForUpdate(Family::kIndex, "uniq").ok());
  probe->Put(Family::kRecords, "doc1", "x");
  auto other = e->BeginWriteUnit();
  other->Put(Family::kIndex, "uniq", "doc2");
  ASSERT_TRUE(e->Commit(*other).ok());
  auto r = e->Commit(*probe);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 112);
}

TEST(EngineTest, OplogEntryHasFinalShape) {
  TempDir dir;
  auto e = OpenOrDie({.dbpath = dir.path(), .term = 7});
  CollectionUuid uuid{};
  uuid[15] = 9;
  auto u = e->BeginWriteUnit();
  bson::Builder body;
  body.AppendString("op", "u").AppendString("ns", "db.c");
  body.OpenDocument("o").AppendInt32("x", 1).Close();
  body.OpenDocument("o2").AppendInt32("_id", 1).Close();
  OplogDraft d;
  d.body = body.Done();
  bson::Builder pre;
  pre.AppendInt32("_id", 1).AppendInt32("x", 0);
  d.preimage = pre.Done();
  d.collection_uuid = uuid;
  d.op_index = 0;
  u->AddOplog(std::move(d));
  u->AddOplog(InsertDraft("db.c", 2));
  EXPECT_EQ(u->oplog_count(), 2u);
  EXPECT_GT(u->approximate_size(), 0u);
  auto r = e->Commit(*u);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(r.value().first_ts, r.value().last_ts);
  EXPECT_EQ(e->visible(), r.value().last_ts);

  auto entries = ReadOplog(*e);
  ASSERT_EQ(entries.size(), 2u);
  const bson::Doc& entry = entries[0].second;
  std::vector<std::string> names;
  for (const auto& el : entry) names.emplace_back(el.key());
  EXPECT_EQ(names, (std::vector<std::string>{"ts", "t", "v", "wall", "op", "ns", "o", "o2"}));
  EXPECT_EQ(entry["ts"].type(), bson::Type::kTimestamp);
  EXPECT_EQ(entry["ts"].Ts(), r.value().first_ts);
  EXPECT_EQ(entries[0].first, r.value().first_ts);
  EXPECT_EQ(entry["t"].type(), bson::Type::kInt64);
  EXPECT_EQ(entry["t"].Int64(), 7);
  EXPECT_EQ(entry["v"].type(), bson::Type::kInt64);
  EXPECT_EQ(entry["v"].Int64(), 2);
  EXPECT_EQ(entry["wall"].type(), bson::Type::kDate);
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(entry["wall"].DateMillis()), static_cast<double>(now_ms), 60000.0);
  EXPECT_EQ(entry["ts"].Ts().secs, static_cast<uint32_t>(entry["wall"].DateMillis() / 1000));
  EXPECT_EQ(entry["op"].Str(), "u");
  EXPECT_EQ(entries[1].second["ts"].Ts(), r.value().last_ts);

  auto snap = e->GetSnapshot();
  auto p = snap->Get(Family::kPreimages, EncodePreimageKey(uuid, r.value().first_ts, 0));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(DocOf(p.value())["x"].Int32(), 0);
}

TEST(EngineTest, OneEntryKeepsThePreImagesOfEachOfItsOperations) {
  // A transaction's applyOps entry: two updates of one collection share the entry's ts,
  // so each pre-image is keyed by the operation's index in the entry.
  TempDir dir;
  auto e = OpenOrDie({.dbpath = dir.path()});
  CollectionUuid uuid{};
  uuid[0] = 4;
  auto u = e->BeginWriteUnit();
  OplogDraft d;
  bson::Builder body;
  body.AppendString("op", "c").AppendString("ns", "admin.$cmd");
  body.OpenDocument("o").OpenArray("applyOps").Close().Close();
  d.body = body.Done();
  for (uint32_t i : {1u, 3u}) {
    bson::Builder pre;
    pre.AppendInt32("_id", 1).AppendInt32("seen", static_cast<int32_t>(i));
    d.op_preimages.push_back(OplogDraft::OpPreimage{uuid, i, pre.Done()});
  }
  u->AddOplog(std::move(d));
  auto r = e->Commit(*u);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto snap = e->GetSnapshot();
  for (uint32_t i : {1u, 3u}) {
    auto p = snap->Get(Family::kPreimages, EncodePreimageKey(uuid, r.value().first_ts, i));
    ASSERT_TRUE(p.ok()) << i;
    EXPECT_EQ(DocOf(p.value())["seen"].Int32(), static_cast<int32_t>(i));
  }
  EXPECT_FALSE(snap->Get(Family::kPreimages, EncodePreimageKey(uuid, r.value().first_ts, 0)).ok());
}

TEST(EngineTest, ConcurrentCommitsGetStrictlyIncreasingTimestampsWithoutHoles) {
  TempDir dir;
  auto e = OpenOrDie({.dbpath = dir.path()});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 400;
  std::atomic<bool> done{false};
  std::mutex mu;
  std::vector<Timestamp> all;

  // While writers run, sample the visible watermark and what the oplog shows up to it;
  // later nothing at or below a sampled watermark may appear (that would be a hole).
  // The iterator bounds itself by `visible` as of its creation, which commits may move
  // between the two reads: `before` bounds what must be seen, `after` what may be.
  std::vector<std::pair<Timestamp, std::set<uint64_t>>> samples;
  std::thread sampler([&] {
    while (!done.load()) {
      Timestamp before = e->visible();
      std::set<uint64_t> seen;
      auto it = e->NewOplogIterator(Timestamp{}, false);
      Timestamp after = e->visible();
      for (it->SeekToFirst(); it->Valid(); it->Next()) seen.insert(DecodeOplogKey(it->key()).AsUint64());
      for (uint64_t t : seen) EXPECT_LE(t, after.AsUint64());
      seen.erase(seen.upper_bound(before.AsUint64()), seen.end());
      samples.emplace_back(before, std::move(seen));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      std::vector<Timestamp> mine;
      for (int i = 0; i < kPerThread; ++i) {
        auto r = CommitInsert(*e, t * 100000 + i);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        if (!mine.empty()) {
          EXPECT_LT(mine.back(), r.value().first_ts);
        }
        EXPECT_LE(r.value().first_ts, e->visible());
        mine.push_back(r.value().first_ts);
      }
      std::lock_guard<std::mutex> l(mu);
      all.insert(all.end(), mine.begin(), mine.end());
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  sampler.join();

  std::set<Timestamp> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(e->visible(), *unique.rbegin());

  auto entries = ReadOplog(*e);
  ASSERT_EQ(entries.size(), unique.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].second["ts"].Ts(), entries[i].first);
    if (i > 0) {
      EXPECT_LT(entries[i - 1].first, entries[i].first);
    }
  }
  std::set<uint64_t> final_keys;
  for (auto& [ts, doc] : entries) final_keys.insert(ts.AsUint64());
  ASSERT_FALSE(samples.empty());
  for (auto& [v, seen] : samples) {
    std::set<uint64_t> expected(final_keys.begin(), final_keys.upper_bound(v.AsUint64()));
    EXPECT_EQ(seen, expected) << "hole below visible " << v.secs << "," << v.inc;
  }
}

TEST(EngineTest, TimestampsIncreaseWhenTheClockGoesBack) {
  TempDir dir;
  std::atomic<int64_t> clock{2'000'000'000'000};
  EngineOptions o{.dbpath = dir.path()};
  o.wall_clock_millis = [&] { return clock.load(); };
  auto e = OpenOrDie(o);
  auto r1 = CommitInsert(*e, 1);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1.value().first_ts, (Timestamp{2'000'000'000, 1}));
  clock = 1'000'000'000'000;  // back in time
  auto r2 = CommitInsert(*e, 2);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2.value().first_ts, (Timestamp{2'000'000'000, 2}));
  clock = 2'000'000'001'500;  // a new second starts at inc 1
  auto r3 = CommitInsert(*e, 3);
  EXPECT_EQ(r3.value().first_ts, (Timestamp{2'000'000'001, 1}));
  EXPECT_EQ(internal::NextTimestamp({5, UINT32_MAX}, 5), (Timestamp{6, 1}));
}

TEST(EngineTest, WaitForDurableReturnsAfterSync) {
  TempDir dir;
  auto e = OpenOrDie({.dbpath = dir.path()});
  std::atomic<int> notified{0};
  e->SetWatermarkListener([&] { notified++; });
  auto r = CommitInsert(*e, 1);
  ASSERT_TRUE(r.ok());
  Status s = e->WaitForDurable(r.value().last_ts, std::chrono::seconds(10));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(e->durable(), r.value().last_ts);
  EXPECT_LE(e->durable(), e->visible());
  // The listener runs on the syncer thread after waiters are released, so it may lag.
  for (int i = 0; i < 500 && notified.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(notified.load(), 1);
  // A timestamp nobody wrote never becomes durable.
  Status late = e->WaitForDurable(Timestamp{UINT32_MAX, 1}, std::chrono::milliseconds(50));
  EXPECT_EQ(late.code(), static_cast<int>(ErrorCodes::kExceededTimeLimit));
  // Durable-only iteration stops at the durable watermark.
  auto it = e->NewOplogIterator(Timestamp{}, true);
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    EXPECT_LE(DecodeOplogKey(it->key()), e->durable());
    ++n;
  }
  EXPECT_EQ(n, 1);
}

TEST(EngineTest, ManyWritersWaitingForDurabilityShareSyncs) {
  TempDir dir;
  auto e = OpenOrDie({.dbpath = dir.path()});
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto r = CommitInsert(*e, t * 1000 + i);
        ASSERT_TRUE(r.ok());
        ASSERT_TRUE(e->WaitForDurable(r.value().last_ts, std::chrono::seconds(10)).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(e->durable(), e->visible());
}

// A j:false commit nobody waits for is synced only after the background delay; the
// first change stream (prompt sync turned on) must not wait that delay out.
TEST(EngineTest, TurningPromptSyncOnSyncsAtOnce) {
  TempDir dir;
  EngineOptions o{.dbpath = dir.path()};
  o.background_sync_delay = std::chrono::hours(1);
  auto e = OpenOrDie(o);
  auto r = CommitInsert(*e, 1);
  ASSERT_TRUE(r.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_LT(e->durable(), r.value().last_ts) << "an unrequested sync did not wait";
  e->SetPromptSync(true);
  for (int i = 0; i < 1000 && e->durable() < r.value().last_ts; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(e->durable(), r.value().last_ts);
}

TEST(EngineTest, NoopEntryMovesClusterTime) {
  TempDir dir;
  auto e = OpenOrDie({.dbpath = dir.path()});
  auto r = e->WriteNoop("periodic noop");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(e->ClusterTime(), r.value());
  auto entries = ReadOplog(*e);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].second["op"].Str(), "n");
  EXPECT_EQ(entries[0].second["ns"].Str(), "");
  EXPECT_EQ(entries[0].second["o"].Obj()["msg"].Str(), "periodic noop");
  EXPECT_EQ(e->oldest_oplog_ts(), r.value());
}

TEST(EngineTest, TruncationKeepsTheOplogUnderItsCap) {
  TempDir dir;
  constexpr uint64_t kCap = 64 * 1024;
  auto e = OpenOrDie({.dbpath = dir.path(), .oplog_size_bytes = kCap});
  CollectionUuid uuid{};
  uuid[0] = 0x42;
  std::string pad(200, 'x');
  Timestamp first, last;
  for (int i = 0; i < 2000; ++i) {
    auto u = e->BeginWriteUnit();
    OplogDraft d = InsertDraft("db.c", i, pad);
    bson::Builder pre;
    pre.AppendInt32("_id", i);
    d.preimage = pre.Done();
    d.collection_uuid = uuid;
    u->AddOplog(std::move(d));
    auto r = e->Commit(*u);
    ASSERT_TRUE(r.ok()) << i << " " << r.status().ToString();
    if (i == 0) first = r.value().first_ts;
    last = r.value().last_ts;
  }
  ASSERT_TRUE(e->WaitForDurable(last, std::chrono::seconds(10)).ok());
  auto* impl = static_cast<internal::EngineImpl*>(e.get());
  for (int i = 0; i < 500 && impl->oplog_bytes_for_test() > kCap; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_LE(impl->oplog_bytes_for_test(), kCap);
  EXPECT_GT(e->oldest_oplog_ts(), first);

  auto entries = ReadOplog(*e);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.front().first, e->oldest_oplog_ts());
  EXPECT_EQ(entries.back().first, last) << "the newest entry is never truncated";
  uint64_t bytes = 0;
  for (auto& [ts, doc] : entries) bytes += 8 + doc.size();
  EXPECT_LE(bytes, kCap);
  EXPECT_EQ(bytes, impl->oplog_bytes_for_test());

  auto snap = e->GetSnapshot();
  EXPECT_FALSE(snap->Get(Family::kPreimages, EncodePreimageKey(uuid, first, 0)).ok());
  EXPECT_TRUE(snap->Get(Family::kPreimages, EncodePreimageKey(uuid, last, 0)).ok());
  // Pre-images left are exactly those of the entries left.
  std::string lo = PreimageKeyPrefix(uuid);
  std::string hi = lo;
  hi.back() = static_cast<char>(hi.back() + 1);
  auto it = snap->NewIterator(Family::kPreimages, lo, hi);
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  EXPECT_EQ(n, entries.size());
}

TEST(EngineTest, ReopenRecoversLastTimestampAndData) {
  TempDir dir;
  Timestamp last;
  uint64_t oldest;
  {
    auto e = OpenOrDie({.dbpath = dir.path()});
    for (int i = 0; i < 10; ++i) {
      auto r = CommitInsert(*e, i);
      ASSERT_TRUE(r.ok());
      last = r.value().last_ts;
    }
    oldest = ReadOplog(*e).front().first.AsUint64();
  }
  auto e = OpenOrDie({.dbpath = dir.path()});
  EXPECT_EQ(e->visible(), last);
  EXPECT_EQ(e->durable(), last);
  EXPECT_EQ(e->oldest_oplog_ts().AsUint64(), oldest);
  EXPECT_EQ(e->GetSnapshot()->Get(Family::kRecords, "rec9").value(), "v9");
  auto r = CommitInsert(*e, 10);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r.value().first_ts, last);
  EXPECT_EQ(ReadOplog(*e).size(), 11u);
}

class FaultEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<testing::FaultFs>(rocksdb::FileSystem::Default());
    env_ = rocksdb::NewCompositeEnv(fs_);
    options_.dbpath = dir_.path();
    options_.rocksdb_env = env_.get();
  }
  TempDir dir_;
  std::shared_ptr<testing::FaultFs> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  EngineOptions options_;
};

TEST_F(FaultEngineTest, FailedSyncIsStickyAndStopsDurable) {
  auto e = OpenOrDie(options_);
  auto r1 = CommitInsert(*e, 1);
  ASSERT_TRUE(r1.ok());
  ASSERT_TRUE(e->WaitForDurable(r1.value().last_ts, std::chrono::seconds(10)).ok());
  Timestamp durable_before = e->durable();

  fs_->SetFailSync(true);
  auto r2 = CommitInsert(*e, 2);
  ASSERT_TRUE(r2.ok());  // the WAL write itself succeeded; its sync will not
  Status w = e->WaitForDurable(r2.value().last_ts, std::chrono::seconds(10));
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.code(), static_cast<int>(ErrorCodes::kExceededTimeLimit)) << w.ToString();
  EXPECT_FALSE(e->background_error().ok());
  EXPECT_EQ(e->durable(), durable_before);

  fs_->SetFailSync(false);  // even if the disk recovers, the engine does not pretend
  auto r3 = CommitInsert(*e, 3);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.status().reason(), e->background_error().reason());
  auto plain = e->BeginWriteUnit();
  plain->Put(Family::kCatalog, "x", "y");
  EXPECT_FALSE(e->Commit(*plain).ok());
  EXPECT_FALSE(e->WaitForDurable(r2.value().last_ts, std::chrono::milliseconds(10)).ok());
  EXPECT_EQ(e->durable(), durable_before);
}

TEST_F(FaultEngineTest, PowerCutKeepsEverythingDurableAndBatchesWhole) {
  Timestamp durable_at_crash;
  {
    auto e = OpenOrDie(options_);
    for (int i = 0; i < 200; ++i) {
      auto r = CommitInsert(*e, i);
      ASSERT_TRUE(r.ok());
      if (i == 100) {
        ASSERT_TRUE(e->WaitForDurable(r.value().last_ts, std::chrono::seconds(10)).ok());
      }
    }
    durable_at_crash = e->durable();
    fs_->Crash();
  }
  fs_->DropUnsyncedData();
  auto e = OpenOrDie(options_);
  EXPECT_GE(e->durable(), durable_at_crash) << "an acknowledged durable write was lost";
  EXPECT_EQ(e->durable(), e->visible());
  auto entries = ReadOplog(*e);
  ASSERT_GE(entries.size(), 101u);
  auto snap = e->GetSnapshot();
  // Each commit is all or nothing: the record exists exactly for surviving entries.
  for (size_t i = 0; i < 200; ++i) {
    bool has_record = snap->Get(Family::kRecords, "rec" + std::to_string(i)).ok();
    EXPECT_EQ(has_record, i < entries.size()) << i;
  }
  auto r = CommitInsert(*e, 1000);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r.value().first_ts, entries.back().first);
}

TEST(EngineTest, ApproximateSizeCountsMemtables) {
  TempDir dir;
  auto e = OpenOrDie({.dbpath = dir.path()});
  EXPECT_EQ(e->ApproximateSize(Family::kRecords, "", ""), 0u);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(CommitInsert(*e, i, std::string(100, 'p')).ok());
  EXPECT_GT(e->ApproximateSize(Family::kOplog, "", ""), 0u);
}

}  // namespace
}  // namespace brook::storage
