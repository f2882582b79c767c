// CommitAsync: the group commit for callers that must not block. A unit queued behind a
// leader is committed by the engine's committer thread in the same groups, order and
// timestamps as synchronous ones; alone, it is committed inside the call.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "bson/builder.h"
#include "storage/engine.h"
#include "storage/engine_internal.h"
#include "storage/storage_test_util.h"

namespace brook::storage {
namespace {

using bson::Timestamp;
using testing::TempDir;

constexpr int64_t kFixedMillis = 2'000'000'000'000;  // one second: incs count commits

// Opened with a clock stuck in one second: timestamps count commits (inc 1, 2, ...).
std::unique_ptr<Engine> OpenFixedClock(EngineOptions o) {
  o.wall_clock_millis = [] { return kFixedMillis; };
  return testing::OpenOrDie(o);
}

internal::EngineImpl& Impl(Engine& e) { return static_cast<internal::EngineImpl&>(e); }

OplogDraft Draft(int64_t unit) {
  bson::Builder b;
  b.AppendString("op", "i");
  b.AppendString("ns", "db.c");
  b.OpenDocument("o").AppendInt64("unit", unit).Close();
  OplogDraft d;
  d.body = b.Done();
  return d;
}

std::unique_ptr<WriteUnit> Unit(Engine& e, const std::string& key, int64_t id) {
  auto u = e.BeginWriteUnit();
  u->Put(Family::kRecords, key, std::to_string(id));
  u->AddOplog(Draft(id));
  return u;
}

// What one CommitAsync call reported: its result and the thread its callback ran on.
struct Outcome {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  StatusWith<CommitResult> result = Status(ErrorCodes::kInternalError, "unset");
  std::thread::id thread;

  Engine::CommitCallback Callback() {
    return [this](StatusWith<CommitResult> r) {
      std::lock_guard<std::mutex> l(mu);
      result = std::move(r);
      thread = std::this_thread::get_id();
      done = true;
      cv.notify_all();
    };
  }
  void Wait() {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [this] { return done; });
  }
};

TEST(CommitAsyncTest, AloneItCommitsInsideTheCall) {
  TempDir dir;
  auto e = OpenFixedClock({.dbpath = dir.path()});
  Outcome out;
  e->CommitAsync(Unit(*e, "k", 1), out.Callback());
  ASSERT_TRUE(out.done) << "nothing was queued, so the caller led its own group";
  EXPECT_EQ(out.thread, std::this_thread::get_id());
  ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
  EXPECT_EQ(out.result.value().first_ts, (Timestamp{2'000'000'000, 1}));
  EXPECT_EQ(e->visible(), out.result.value().last_ts);
  EXPECT_EQ(e->GetSnapshot()->Get(Family::kRecords, "k").value(), "1");
  e->WaitForAsyncCommits();
}

TEST(CommitAsyncTest, QueuedBehindALeaderTheCommitterThreadCommitsThemAsOneGroup) {
  TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<size_t> groups;
  EngineOptions o{.dbpath = dir.path()};
  o.group_commit_hook = [&](size_t n) {
    std::unique_lock<std::mutex> l(mu);
    groups.push_back(n);
    if (groups.size() == 1) cv.wait(l, [&] { return release; });  // hold the first leader
  };
  auto e = OpenFixedClock(o);

  auto first = Unit(*e, "a", 0);
  StatusWith<CommitResult> first_result = Status(ErrorCodes::kInternalError, "unset");
  std::thread::id leader_id;
  std::thread leader([&] {
    leader_id = std::this_thread::get_id();
    first_result = e->Commit(*first);
  });
  while (Impl(*e).queue_length_for_test() < 1) std::this_thread::yield();

  constexpr int kQueued = 5;
  Outcome outs[kQueued];
  for (int i = 0; i < kQueued; ++i) {
    e->CommitAsync(Unit(*e, "k" + std::to_string(i), i + 1), outs[i].Callback());
    EXPECT_FALSE(outs[i].done) << "a leader is busy: the call must return without waiting";
  }
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  leader.join();
  for (auto& out : outs) out.Wait();
  e->WaitForAsyncCommits();

  ASSERT_TRUE(first_result.ok());
  EXPECT_EQ(groups, (std::vector<size_t>{1, kQueued}));
  for (int i = 0; i < kQueued; ++i) {
    ASSERT_TRUE(outs[i].result.ok()) << outs[i].result.status().ToString();
    // Queue order is timestamp order.
    EXPECT_EQ(outs[i].result.value().first_ts, (Timestamp{2'000'000'000, static_cast<uint32_t>(i + 2)}));
    EXPECT_NE(outs[i].thread, std::this_thread::get_id());
    EXPECT_NE(outs[i].thread, leader_id) << "a synchronous leader hands an asynchronous front on";
  }
  EXPECT_EQ(e->visible(), (Timestamp{2'000'000'000, kQueued + 1}));
}

TEST(CommitAsyncTest, ALosingUnitHearsWriteConflictAndWritesNothing) {
  TempDir dir;
  auto e = OpenFixedClock({.dbpath = dir.path()});
  auto winner = Unit(*e, "x", 1);
  auto loser = e->BeginWriteUnit();  // snapshot before the winner commits
  loser->Put(Family::kRecords, "x", "loser");
  loser->Put(Family::kRecords, "loser-only", "1");
  loser->AddOplog(Draft(2));
  ASSERT_TRUE(e->Commit(*winner).ok());
  Outcome out;
  e->CommitAsync(std::move(loser), out.Callback());
  out.Wait();
  EXPECT_EQ(out.result.status().code(), 112);
  EXPECT_EQ(e->GetSnapshot()->Get(Family::kRecords, "x").value(), "1");
  EXPECT_FALSE(e->GetSnapshot()->Get(Family::kRecords, "loser-only").ok());
}

TEST(CommitAsyncTest, AUnitCommittedTwiceIsRefusedThroughTheCallback) {
  TempDir dir;
  auto e = OpenFixedClock({.dbpath = dir.path()});
  auto u = Unit(*e, "k", 1);
  ASSERT_TRUE(e->Commit(*u).ok());
  Outcome out;
  e->CommitAsync(std::move(u), out.Callback());
  ASSERT_TRUE(out.done);
  EXPECT_EQ(out.result.status(), ErrorCodes::kInternalError);
  e->WaitForAsyncCommits();
}

TEST(CommitAsyncTest, MixedWithSynchronousCommitsEveryUnitGetsItsOwnConsecutiveTimestamp) {
  TempDir dir;
  auto e = OpenFixedClock({.dbpath = dir.path()});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::mutex mu;
  std::map<int64_t, Timestamp> by_unit;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t id = t * 100000 + i;
        auto u = Unit(*e, "k" + std::to_string(id), id);
        StatusWith<CommitResult> r = Status(ErrorCodes::kInternalError, "unset");
        if ((t + i) % 2 == 0) {
          r = e->Commit(*u);
        } else {
          Outcome out;
          e->CommitAsync(std::move(u), out.Callback());
          out.Wait();
          r = std::move(out.result);
        }
        if (!r.ok()) {
          failures++;
          continue;
        }
        std::lock_guard<std::mutex> l(mu);
        by_unit[id] = r.value().first_ts;
      }
    });
  }
  for (auto& t : threads) t.join();
  e->WaitForAsyncCommits();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(by_unit.size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<uint32_t> incs;
  auto snap = e->GetSnapshot();
  for (auto& [id, ts] : by_unit) {
    EXPECT_TRUE(incs.insert(ts.inc).second) << "inc " << ts.inc << " given twice";
    auto entry = snap->Get(Family::kOplog, EncodeOplogKey(ts));
    ASSERT_TRUE(entry.ok());
    EXPECT_EQ(bson::Doc(std::move(entry).value())["o"].Obj()["unit"].Int64(), id);
  }
  EXPECT_EQ(*incs.begin(), 1u);
  EXPECT_EQ(*incs.rbegin(), static_cast<uint32_t>(kThreads * kPerThread));
  EXPECT_EQ(e->visible(), (Timestamp{2'000'000'000, kThreads * kPerThread}));
}

}  // namespace
}  // namespace brook::storage
