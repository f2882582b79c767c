// Single-statement writes commit through AwaitCommit: while their group is being written
// the connection's coroutine is suspended and its I/O thread serves others; a write that
// loses a conflict at that commit runs again, synchronously, and answers as a retried
// write would.

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "commands/failpoints.h"
#include "commands/server_options.h"
#include "commands/test_service.h"
#include "server/dispatcher.h"
#include "server/waiters.h"
#include "storage/engine_internal.h"

namespace brook::server {
namespace {

using namespace std::chrono_literals;
using commands::testsupport::J;

class DeferredCommitTest : public commands::testsupport::ServiceFixture {
 protected:
  void SetUp() override {
    // Once armed (HoldALeader), the next group waits in the hook until Release(): a
    // leader busy writing.
    group_commit_hook_ = [this](size_t n) {
      std::unique_lock<std::mutex> l(mu_);
      groups_.push_back(n);
      if (!armed_) return;
      armed_ = false;
      cv_.wait(l, [this] { return released_; });
    };
    ServiceFixture::SetUp();
    service_.options = &options_;
    service_.failpoints = &failpoints_;
    waiters_ = std::make_unique<Waiters>([this] { return engine_->durable(); });
    dispatcher_ = std::make_unique<Dispatcher>(service_, *waiters_);
    // One I/O thread: a handler blocking in the commit would stop every other request.
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    Release();
    guard_.reset();
    io_.stop();
    thread_.join();
    engine_->WaitForAsyncCommits();
    dispatcher_.reset();
    waiters_.reset();
    ServiceFixture::TearDown();
  }

  std::future<DispatchResult> Start(std::string_view json) {
    auto body = std::make_shared<bson::Doc>(J(json));
    return asio::co_spawn(io_, [this, body]() -> asio::awaitable<DispatchResult> {
      co_return co_await dispatcher_->Dispatch(client_, body->view());
    }, asio::use_future);
  }
  size_t Queued() { return static_cast<storage::internal::EngineImpl&>(*engine_).queue_length_for_test(); }
  void WaitQueued(size_t n) {
    auto until = std::chrono::steady_clock::now() + 10s;
    while (Queued() < n && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    ASSERT_GE(Queued(), n);
  }
  // A synchronous commit on a thread of its own, held in the hook as the leader.
  void HoldALeader() {
    {
      std::lock_guard<std::mutex> l(mu_);
      armed_ = true;
      released_ = false;
    }
    holder_ = std::thread([this] {
      auto unit = engine_->BeginWriteUnit();
      unit->Put(storage::Family::kRecords, "unrelated", "1");
      EXPECT_TRUE(engine_->Commit(*unit).ok());
    });
    WaitQueued(1);
  }
  void Release() {
    {
      std::lock_guard<std::mutex> l(mu_);
      released_ = true;
    }
    cv_.notify_all();
    if (holder_.joinable()) holder_.join();
  }
  static bool Ok(const DispatchResult& r) { return r.reply.view()["ok"].NumberDouble() == 1.0; }

  commands::ServerOptions options_;
  commands::FailPoints failpoints_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::unique_ptr<Waiters> waiters_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::thread thread_;
  std::thread holder_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool released_ = false;
  std::vector<size_t> groups_;  // the size of every group committed, in order
  size_t UnitsCommittedSince(size_t mark) {
    std::lock_guard<std::mutex> l(mu_);
    size_t units = 0;
    for (size_t i = mark; i < groups_.size(); ++i) units += groups_[i];
    return units;
  }
  size_t Mark() {
    std::lock_guard<std::mutex> l(mu_);
    return groups_.size();
  }
  static std::string Docs(int from, int to) {
    std::string out;
    for (int i = from; i <= to; ++i) out += (out.empty() ? "" : ", ") + std::string("{\"_id\": ") + std::to_string(i) + "}";
    return out;
  }
};

TEST_F(DeferredCommitTest, AnInsertWaitingForItsGroupLeavesItsThreadFree) {
  HoldALeader();
  auto insert = Start(R"({"insert": "c", "documents": [{"_id": 1}], "$db": "test"})");
  WaitQueued(2);  // the insert's unit waits behind the held leader
  auto ping = Start(R"({"ping": 1, "$db": "admin"})");
  ASSERT_EQ(ping.wait_for(10s), std::future_status::ready) << "the insert holds the I/O thread";
  EXPECT_TRUE(Ok(ping.get()));
  EXPECT_EQ(insert.wait_for(50ms), std::future_status::timeout) << "answered before its commit";

  Release();
  ASSERT_EQ(insert.wait_for(10s), std::future_status::ready);
  auto r = insert.get();
  ASSERT_TRUE(Ok(r)) << r.reply.ToString();
  EXPECT_EQ(r.reply.view()["n"].NumberInt64(), 1);
  EXPECT_FALSE(r.reply.view()["operationTime"].Ts().IsNull());
  auto found = Start(R"({"find": "c", "filter": {"_id": 1}, "$db": "test"})").get();
  EXPECT_EQ(found.reply.view()["cursor"].Obj()["firstBatch"].Obj().CountFields(), 1) << found.reply.ToString();
}

TEST_F(DeferredCommitTest, ALoserAtTheDeferredCommitRunsAgainAndSeesTheWinner) {
  // Create the collection first, so the two inserts race on the _id alone.
  ASSERT_TRUE(Ok(Start(R"({"create": "c", "$db": "test"})").get()));
  HoldALeader();
  auto first = Start(R"({"insert": "c", "documents": [{"_id": 1, "v": 1}], "$db": "test"})");
  WaitQueued(2);
  auto second = Start(R"({"insert": "c", "documents": [{"_id": 1, "v": 2}], "$db": "test"})");
  WaitQueued(3);  // both read before either committed: they meet in one group
  Release();

  auto a = first.get();
  auto b = second.get();
  ASSERT_TRUE(Ok(a)) << a.reply.ToString();
  EXPECT_EQ(a.reply.view()["n"].NumberInt64(), 1);
  ASSERT_TRUE(Ok(b)) << b.reply.ToString();
  EXPECT_EQ(b.reply.view()["n"].NumberInt64(), 0);
  auto errors = b.reply.view()["writeErrors"];
  ASSERT_TRUE(errors.IsArray()) << b.reply.ToString();
  EXPECT_EQ(errors.Obj().first().Obj()["code"].NumberInt64(), 11000);
  auto found = Start(R"({"find": "c", "filter": {}, "$db": "test"})").get();
  auto batch = found.reply.view()["cursor"].Obj()["firstBatch"].Obj();
  ASSERT_EQ(batch.CountFields(), 1);
  EXPECT_EQ(batch.first().Obj()["v"].NumberInt64(), 1);
}

TEST_F(DeferredCommitTest, SingleUpdateDeleteAndFindAndModifyCommitThroughTheDispatcher) {
  ASSERT_TRUE(Ok(Start(R"({"insert": "c", "documents": [{"_id": 1, "v": 1}, {"_id": 2}], "$db": "test"})").get()));
  HoldALeader();
  auto update = Start(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"v": 1}}}], "$db": "test"})");
  WaitQueued(2);
  auto fam = Start(R"({"findAndModify": "c", "query": {"_id": 2}, "remove": true, "$db": "test"})");
  WaitQueued(3);
  auto ping = Start(R"({"ping": 1, "$db": "admin"})");
  ASSERT_EQ(ping.wait_for(10s), std::future_status::ready);
  Release();
  auto u = update.get();
  ASSERT_TRUE(Ok(u)) << u.reply.ToString();
  EXPECT_EQ(u.reply.view()["nModified"].NumberInt64(), 1);
  auto f = fam.get();
  ASSERT_TRUE(Ok(f)) << f.reply.ToString();
  EXPECT_EQ(f.reply.view()["value"].Obj()["_id"].NumberInt64(), 2);
  auto d = Start(R"({"delete": "c", "deletes": [{"q": {"_id": 1}, "limit": 1}], "$db": "test"})").get();
  EXPECT_EQ(d.reply.view()["n"].NumberInt64(), 1) << d.reply.ToString();
  auto count = Start(R"({"count": "c", "$db": "test"})").get();
  EXPECT_EQ(count.reply.view()["n"].NumberInt64(), 0) << count.reply.ToString();
}

TEST_F(DeferredCommitTest, AnInsertOfManyDocumentsCommitsThemAsOneUnitPerSixtyFour) {
  ASSERT_TRUE(Ok(Start(R"({"create": "c", "$db": "test"})").get()));
  size_t mark = Mark();
  auto r = Start(R"({"insert": "c", "documents": [)" + Docs(1, 3) + R"(], "$db": "test"})").get();
  ASSERT_TRUE(Ok(r)) << r.reply.ToString();
  EXPECT_EQ(r.reply.view()["n"].NumberInt64(), 3);
  EXPECT_EQ(UnitsCommittedSince(mark), 1u) << "three documents, one write unit";

  mark = Mark();
  r = Start(R"({"insert": "c", "documents": [)" + Docs(101, 230) + R"(], "$db": "test"})").get();
  ASSERT_TRUE(Ok(r)) << r.reply.ToString();
  EXPECT_EQ(r.reply.view()["n"].NumberInt64(), 130);
  EXPECT_EQ(UnitsCommittedSince(mark), 3u) << "64 + 64 + 2";

  // Each document still has its own oplog entry, and a group's are consecutive.
  auto count = Start(R"({"count": "c", "$db": "test"})").get();
  EXPECT_EQ(count.reply.view()["n"].NumberInt64(), 133);
  auto oplog = Start(R"({"find": "oplog.rs", "filter": {"op": "i", "ns": "test.c"}, "sort": {"$natural": 1}, "batchSize": 1000, "$db": "local"})").get();
  auto entries = oplog.reply.view()["cursor"].Obj()["firstBatch"].Obj();
  ASSERT_EQ(entries.CountFields(), 133) << oplog.reply.ToString();
  std::vector<bson::Timestamp> ts;
  for (const auto& e : entries) ts.push_back(e.Obj()["ts"].Ts());
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(ts[i].secs, ts[0].secs);
    EXPECT_EQ(ts[i].inc, ts[0].inc + i) << "the first insert's three entries are consecutive";
  }
}

TEST_F(DeferredCommitTest, AGroupWithAFailingDocumentFallsBackToOneByOne) {
  ASSERT_TRUE(Ok(Start(R"({"insert": "c", "documents": [{"_id": 3}], "$db": "test"})").get()));
  // Ordered: 1 and 2 go in, 3 is a duplicate, 4 is never tried.
  auto r = Start(R"({"insert": "c", "documents": [)" + Docs(1, 4) + R"(], "$db": "test"})").get();
  ASSERT_TRUE(Ok(r)) << r.reply.ToString();
  EXPECT_EQ(r.reply.view()["n"].NumberInt64(), 2);
  auto errors = r.reply.view()["writeErrors"].Obj();
  ASSERT_EQ(errors.CountFields(), 1) << r.reply.ToString();
  EXPECT_EQ(errors.first().Obj()["index"].NumberInt64(), 2);
  EXPECT_EQ(errors.first().Obj()["code"].NumberInt64(), 11000);
  // Unordered: everything but the duplicate.
  r = Start(R"({"insert": "c", "documents": [{"_id": 5}, {"_id": 1}, {"_id": 6}], "ordered": false, "$db": "test"})").get();
  ASSERT_TRUE(Ok(r)) << r.reply.ToString();
  EXPECT_EQ(r.reply.view()["n"].NumberInt64(), 2);
  EXPECT_EQ(r.reply.view()["writeErrors"].Obj().first().Obj()["index"].NumberInt64(), 1);
  auto count = Start(R"({"count": "c", "$db": "test"})").get();
  EXPECT_EQ(count.reply.view()["n"].NumberInt64(), 5);  // 1, 2, 3, 5, 6
}

TEST_F(DeferredCommitTest, ARetriedGroupedInsertIsAppliedOnce) {
  const std::string cmd = R"({"insert": "c", "documents": [)" + Docs(1, 3) +
                          R"(], "lsid": {"id": {"$binary": {"base64": "AAECAwQFBgcICQoLDA0ODw==", "subType": "04"}}},)"
                          R"( "txnNumber": {"$numberLong": "7"}, "$db": "test"})";
  auto first = Start(cmd).get();
  ASSERT_TRUE(Ok(first)) << first.reply.ToString();
  EXPECT_EQ(first.reply.view()["n"].NumberInt64(), 3);
  auto again = Start(cmd).get();
  ASSERT_TRUE(Ok(again)) << again.reply.ToString();
  EXPECT_EQ(again.reply.view()["n"].NumberInt64(), 3);
  EXPECT_TRUE(again.reply.view()["writeErrors"].missing()) << again.reply.ToString();
  auto count = Start(R"({"count": "c", "$db": "test"})").get();
  EXPECT_EQ(count.reply.view()["n"].NumberInt64(), 3);
}

}  // namespace
}  // namespace brook::server
