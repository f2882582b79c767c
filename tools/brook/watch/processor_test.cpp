// The processor loop against a scripted change stream, sink and checkpoint store.
#include "watch/processor.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

namespace brook::watch {
namespace {

// Token for "after the first p events" (event tokens end in 01, high-water marks in 00).
BsonDoc Tok(int64_t p, bool event) {
  char hex[40];
  std::snprintf(hex, sizeof hex, "8200000064%08X%s", static_cast<unsigned>(p), event ? "01" : "00");
  BsonDoc t = BsonDoc::New();
  BSON_APPEND_UTF8(t.mut(), "_data", hex);
  return t;
}
int64_t PosOf(const bson_t* tok) {
  auto d = GetString(tok, "_data");
  return static_cast<int64_t>(std::stoul(d->substr(10, 8), nullptr, 16));
}

// The "server": an oplog of events, where a stream opened "now" starts, and faults.
struct FakeServer {
  std::mutex mu;
  int64_t events = 0;        // events 0..events-1 exist
  int64_t now_pos = 0;       // where a "now" stream starts
  int64_t batch = 3;         // events per batch
  int64_t invalidate_at = -1;
  std::set<int64_t> resumable_error_at_call;  // NextEvent call numbers that fail resumably
  std::set<int64_t> fatal_error_at_call;
  std::set<int64_t> lost_error_at_call;
  int64_t calls = 0;
  std::vector<std::string> opens;  // StartPoint::Describe() of each Open
};

class FakeSource : public ChangeSource {
 public:
  explicit FakeSource(FakeServer* s) : s_(s) {}
  bool Open(const StartPoint& start) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->opens.push_back(start.Describe());
    switch (start.kind) {
      case StartPoint::Kind::kNow:
        pos_ = s_->now_pos;
        break;
      case StartPoint::Kind::kResumeAfter:
      case StartPoint::Kind::kStartAfter:
        pos_ = PosOf(start.token.get());
        break;
      case StartPoint::Kind::kStartAtOperationTime:
        pos_ = start.time.i;
        break;
    }
    token_ = Tok(pos_, false);  // the aggregate's postBatchResumeToken
    in_batch_ = 0;
    return true;
  }
  Next NextEvent(const bson_t** event) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    int64_t call = s_->calls++;
    auto fail = [&](ErrorClass cls, int code) {
      error_ = StreamError();
      bson_set_error(&error_.error, MONGOC_ERROR_SERVER, static_cast<uint32_t>(code), "injected %d", code);
      error_.cls = cls;
      return Next::kError;
    };
    if (s_->resumable_error_at_call.count(call)) return fail(ErrorClass::kResumable, 6);
    if (s_->fatal_error_at_call.count(call)) return fail(ErrorClass::kFatal, 2);
    if (s_->lost_error_at_call.count(call)) return fail(ErrorClass::kHistoryLost, 286);
    if (pos_ >= s_->events || in_batch_ >= s_->batch) {
      in_batch_ = 0;
      token_ = Tok(pos_, false);
      return Next::kEmptyBatch;
    }
    ev_ = BsonDoc::New();
    BSON_APPEND_DOCUMENT(ev_.mut(), "_id", Tok(pos_ + 1, true).get());
    BSON_APPEND_UTF8(ev_.mut(), "operationType", pos_ == s_->invalidate_at ? "invalidate" : "insert");
    BSON_APPEND_TIMESTAMP(ev_.mut(), "clusterTime", 100, static_cast<uint32_t>(pos_ + 1));
    BSON_APPEND_INT64(ev_.mut(), "n", pos_);
    ++pos_;
    ++in_batch_;
    token_ = Tok(pos_, true);
    *event = ev_.get();
    return Next::kEvent;
  }
  const bson_t* ResumeToken() override { return token_.get(); }
  const StreamError& error() const override { return error_; }
  void Close() override {}
  std::optional<ClusterTime> ServerTime() override { return ClusterTime{100, 0}; }

 private:
  FakeServer* s_;
  int64_t pos_ = 0;
  int64_t in_batch_ = 0;
  BsonDoc token_;
  BsonDoc ev_;
  StreamError error_;
};

// Records deliveries; fails the Deliver calls listed in fail_calls (retryable).
class FakeSink : public Sink {
 public:
  std::mutex mu;
  std::vector<std::string> lines;
  std::set<int> fail_calls;
  int calls = 0;
  Status Open(std::optional<int64_t>) override { return Status::OK(); }
  Status Deliver(const std::vector<std::string>& batch, size_t* acked) override {
    std::lock_guard<std::mutex> lock(mu);
    *acked = 0;
    if (fail_calls.count(calls++)) {
      // Acknowledge half, then fail.
      *acked = batch.size() / 2;
      lines.insert(lines.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(*acked));
      return Status(ErrorCodes::kOperationFailed, "receiver said 503");
    }
    lines.insert(lines.end(), batch.begin(), batch.end());
    *acked = batch.size();
    return Status::OK();
  }
  bool RetryOnError() const override { return true; }
  std::string Describe() const override { return "fake"; }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu);
    return lines.size();
  }
};

// Remembers every save and checks, at each, that it is not ahead of the sink.
class FakeStore : public CheckpointStore {
 public:
  explicit FakeStore(FakeSink* sink) : sink_(sink) {}
  std::mutex mu;
  std::optional<Checkpoint> saved;
  std::vector<std::string> history;
  int64_t ahead_violations = 0;
  StatusWith<std::optional<Checkpoint>> Load() override {
    std::lock_guard<std::mutex> lock(mu);
    return saved;
  }
  Status Save(const Checkpoint& cp) override {
    std::lock_guard<std::mutex> lock(mu);
    if (!cp.token.IsEmpty() && base_ >= 0 && PosOf(cp.token.get()) - base_ > static_cast<int64_t>(sink_->Count()))
      ++ahead_violations;
    saved = cp;
    history.push_back(cp.Describe());
    return Status::OK();
  }
  std::string Describe() const override { return "memory"; }
  int64_t Pos() {
    std::lock_guard<std::mutex> lock(mu);
    return saved && !saved->token.IsEmpty() ? PosOf(saved->token.get()) : -1;
  }
  void set_base(int64_t b) { base_ = b; }

 private:
  FakeSink* sink_;
  int64_t base_ = -1;
};

class ProcessorTest : public ::testing::Test {
 protected:
  ProcessorTest() : store_(&sink_), reporter_(StatusReporter::Mode::kOff, std::chrono::milliseconds(1000), stderr) {
    WatchFlags f;
    f.uri = "mongodb://127.0.0.1:1";
    f.db = "d";
    f.coll = "c";
    f.checkpoint = "file:/unused";
    f.sink = "stdout";
    f.retry_initial_ms = 1;
    f.retry_max_ms = 4;
    options_ = ValidateWatchFlags(f).value();
  }

  // Runs the processor until `until()` holds, then stops it; returns the exit code.
  int RunUntil(const std::function<bool()>& until, InitialSyncRunner* sync = nullptr) {
    ProcessorDeps deps;
    deps.make_source = [this] { return std::make_unique<FakeSource>(&server_); };
    deps.sink = &sink_;
    deps.store = &store_;
    deps.reporter = &reporter_;
    deps.initial_sync = sync;
    deps.stop = &stop_;
    Processor p(options_, std::move(deps));
    int rc = -1;
    std::atomic<bool> done{false};
    std::thread t([&] {
      rc = p.Run();
      done = true;
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!until() && std::chrono::steady_clock::now() < deadline && !done)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stop_ = true;
    t.join();
    return rc;
  }

  std::vector<int64_t> Delivered() {
    std::vector<int64_t> out;
    for (const auto& l : sink_.lines) {
      std::string err;
      BsonDoc d = BsonDoc::FromJson(l, &err);
      out.push_back(GetInt(d.get(), "n").value_or(-1));
    }
    return out;
  }
  static std::vector<int64_t> Range(int64_t from, int64_t to) {
    std::vector<int64_t> v;
    for (int64_t i = from; i < to; ++i) v.push_back(i);
    return v;
  }

  FakeServer server_;
  FakeSink sink_;
  FakeStore store_;
  StatusReporter reporter_;
  WatchOptions options_;
  std::atomic<bool> stop_{false};
};

TEST_F(ProcessorTest, FreshStartCheckpointsTheStartThenEveryBatch) {
  server_.events = 20;
  server_.now_pos = 5;  // events 0..4 happened before "now"
  store_.set_base(5);
  int rc = RunUntil([&] { return store_.Pos() == 20; });
  EXPECT_EQ(rc, kExitOk);
  EXPECT_EQ(Delivered(), Range(5, 20));
  ASSERT_FALSE(store_.history.empty());
  // The first save is the starting point itself, before any event.
  EXPECT_NE(store_.history.front().find("8200000064000000050"), std::string::npos) << store_.history.front();
  EXPECT_EQ(store_.ahead_violations, 0);
  EXPECT_EQ(server_.opens, std::vector<std::string>{"now"});
}

TEST_F(ProcessorTest, IdleStreamKeepsCheckpointAtTheHead) {
  server_.events = 0;
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard<std::mutex> lock(server_.mu);
    server_.events = 2;
  });
  int rc = RunUntil([&] { return store_.Pos() == 2 && sink_.Count() == 2; });
  writer.join();
  EXPECT_EQ(rc, kExitOk);
  EXPECT_EQ(Delivered(), Range(0, 2));
}

TEST_F(ProcessorTest, ResumesFromASavedCheckpoint) {
  server_.events = 10;
  Checkpoint cp;
  cp.token = Tok(4, true);
  store_.saved = cp;
  store_.set_base(4);
  int rc = RunUntil([&] { return store_.Pos() == 10; });
  EXPECT_EQ(rc, kExitOk);
  EXPECT_EQ(Delivered(), Range(4, 10));
  ASSERT_FALSE(server_.opens.empty());
  EXPECT_EQ(server_.opens.front().rfind("resumeAfter 820000006400000004", 0), 0u) << server_.opens.front();
}

TEST_F(ProcessorTest, ResumableErrorsReopenAfterTheLastTokenWithoutLossOrDuplicates) {
  server_.events = 30;
  server_.resumable_error_at_call = {2, 7, 8, 9, 15};
  store_.set_base(0);
  int rc = RunUntil([&] { return store_.Pos() == 30; });
  EXPECT_EQ(rc, kExitOk);
  EXPECT_EQ(Delivered(), Range(0, 30));
  EXPECT_GE(server_.opens.size(), 5u);
  EXPECT_EQ(store_.ahead_violations, 0);
}

TEST_F(ProcessorTest, NonResumableErrorExitsWithTheCheckpointAtTheLastDelivered) {
  server_.events = 30;
  server_.fatal_error_at_call = {6};
  int rc = RunUntil([] { return false; });
  EXPECT_EQ(rc, kExitError);
  EXPECT_EQ(static_cast<int64_t>(sink_.Count()), store_.Pos());
}

TEST_F(ProcessorTest, HistoryLostFailsWithExitCode3) {
  server_.events = 10;
  server_.lost_error_at_call = {0};
  int rc = RunUntil([] { return false; });
  EXPECT_EQ(rc, kExitHistoryLost);
  EXPECT_EQ(sink_.Count(), 0u);
}

class FakeSync : public InitialSyncRunner {
 public:
  int runs = 0;
  StatusWith<Result> Run(Checkpoint, Delivery* delivery) override {
    ++runs;
    Checkpoint done;
    done.operation_time = ClusterTime{100, 7};
    BROOK_RETURN_IF_ERROR(delivery->DeliverAndSave({"{\"snapshot\": 1}\n"}, done));
    return Result{false, ClusterTime{100, 7}};
  }
};

TEST_F(ProcessorTest, HistoryLostResyncCopiesThenStreamsFromTheCopyTime) {
  server_.events = 12;
  server_.lost_error_at_call = {0};
  options_.on_history_lost = OnHistoryLost::kResync;
  FakeSync sync;
  int rc = RunUntil([&] { return store_.Pos() == 12; }, &sync);
  EXPECT_EQ(rc, kExitOk);
  EXPECT_EQ(sync.runs, 1);
  std::vector<int64_t> want = {-1};  // the snapshot line has no "n"
  for (int64_t i = 7; i < 12; ++i) want.push_back(i);
  EXPECT_EQ(Delivered(), want);
  EXPECT_EQ(server_.opens.back(), "startAtOperationTime 100:7");
}

TEST_F(ProcessorTest, InitialSyncRunsFirstWhenAsked) {
  server_.events = 9;
  options_.initial_sync = true;
  FakeSync sync;
  int rc = RunUntil([&] { return store_.Pos() == 9; }, &sync);
  EXPECT_EQ(rc, kExitOk);
  EXPECT_EQ(sync.runs, 1);
  EXPECT_EQ(Delivered().size(), 3u);  // snapshot + events 7, 8
}

TEST_F(ProcessorTest, FailingSinkIsRetriedAndTheCheckpointNeverRunsAhead) {
  server_.events = 40;
  server_.batch = 7;
  sink_.fail_calls = {0, 1, 3, 4, 5, 9};
  store_.set_base(0);
  int rc = RunUntil([&] { return store_.Pos() == 40; });
  EXPECT_EQ(rc, kExitOk);
  EXPECT_EQ(Delivered(), Range(0, 40));  // half-acknowledged batches are not resent
  EXPECT_EQ(store_.ahead_violations, 0);
}

TEST_F(ProcessorTest, StartAfterIsCheckpointedFirstAndUsedToOpen) {
  server_.events = 6;
  options_.start_after = Tok(2, true);
  store_.set_base(2);
  int rc = RunUntil([&] { return store_.Pos() == 6; });
  EXPECT_EQ(rc, kExitOk);
  EXPECT_EQ(Delivered(), Range(2, 6));
  EXPECT_EQ(store_.history.front().rfind("startAfter 820000006400000002", 0), 0u) << store_.history.front();
  EXPECT_EQ(server_.opens.front().rfind("startAfter", 0), 0u);
}

TEST_F(ProcessorTest, StartAtOperationTimeIsCheckpointedFirst) {
  server_.events = 6;
  options_.start_at_operation_time = ClusterTime{100, 3};
  int rc = RunUntil([&] { return store_.Pos() == 6; });
  EXPECT_EQ(rc, kExitOk);
  EXPECT_EQ(Delivered(), Range(3, 6));
  EXPECT_EQ(store_.history.front(), "startAtOperationTime 100:3");
}

TEST_F(ProcessorTest, InvalidateEndsTheStreamWithAStartAfterCheckpoint) {
  server_.events = 10;
  server_.invalidate_at = 4;
  int rc = RunUntil([] { return false; });
  EXPECT_EQ(rc, kExitOk);
  EXPECT_EQ(Delivered(), Range(0, 5));
  ASSERT_TRUE(store_.saved);
  EXPECT_TRUE(store_.saved->start_after);
  EXPECT_EQ(PosOf(store_.saved->token.get()), 5);
}

}  // namespace
}  // namespace brook::watch
