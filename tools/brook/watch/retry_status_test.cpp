#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <algorithm>
#include <set>

#include "watch/bson_util.h"
#include "watch/retry_policy.h"
#include "watch/status_reporter.h"

namespace brook::watch {
namespace {

TEST(Backoff, GrowsExponentiallyWithinJitterAndCaps) {
  BackoffConfig c;
  c.initial = std::chrono::milliseconds(100);
  c.max = std::chrono::milliseconds(1000);
  c.jitter = 0.5;
  Backoff b(c, 42);
  int64_t bases[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t base : bases) {
    auto d = b.Next().count();
    EXPECT_GE(d, base / 2);
    EXPECT_LE(d, base);
  }
  EXPECT_EQ(b.attempts(), 7);
  b.Reset();
  EXPECT_LE(b.Next().count(), 100);
}

TEST(Backoff, JitterSpreadsDelaysAndSeedsReplay) {
  BackoffConfig c;
  c.initial = std::chrono::milliseconds(1000);
  c.multiplier = 1.0;
  Backoff a(c, 1), b(c, 1), other(c, 2);
  std::set<int64_t> seen;
  bool differs = false;
  for (int i = 0; i < 50; ++i) {
    auto x = a.Next().count();
    EXPECT_EQ(x, b.Next().count());
    differs |= x != other.Next().count();
    seen.insert(x);
  }
  EXPECT_GT(seen.size(), 10u);
  EXPECT_TRUE(differs);
}

TEST(Backoff, NoJitterIsExactAndMaxAttemptsExhausts) {
  BackoffConfig c;
  c.jitter = 0;
  c.max_attempts = 3;
  Backoff b(c, 7);
  EXPECT_EQ(b.Next().count(), 100);
  EXPECT_EQ(b.Next().count(), 200);
  EXPECT_FALSE(b.Exhausted());
  EXPECT_EQ(b.Next().count(), 400);
  EXPECT_TRUE(b.Exhausted());
  EXPECT_EQ(b.Base(40).count(), 30000);  // capped, no overflow
}

bson_error_t Err(uint32_t domain, uint32_t code) {
  bson_error_t e{};
  e.domain = domain;
  e.code = code;
  return e;
}

TEST(Classify, NetworkErrorsAreResumable) {
  EXPECT_EQ(ClassifyStreamError(Err(MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET), nullptr), ErrorClass::kResumable);
  EXPECT_EQ(ClassifyStreamError(Err(MONGOC_ERROR_SERVER_SELECTION, MONGOC_ERROR_SERVER_SELECTION_FAILURE), nullptr),
            ErrorClass::kResumable);
}

TEST(Classify, LabelsDecideOnModernServers) {
  std::string e;
  BsonDoc labelled = BsonDoc::FromJson(R"({"ok": 0, "code": 1234, "errorLabels": ["ResumableChangeStreamError"]})", &e);
  EXPECT_EQ(ClassifyStreamError(Err(MONGOC_ERROR_SERVER, 1234), labelled.get()), ErrorClass::kResumable);
  // A labelled reply without the resumable label is not resumable, even for a listed code.
  BsonDoc other = BsonDoc::FromJson(R"({"ok": 0, "code": 6, "errorLabels": ["TransientTransactionError"]})", &e);
  EXPECT_EQ(ClassifyStreamError(Err(MONGOC_ERROR_SERVER, 6), other.get()), ErrorClass::kFatal);
  // Unlabelled (pre-4.4): the spec's code list.
  BsonDoc old = BsonDoc::FromJson(R"({"ok": 0, "code": 91})", &e);
  EXPECT_EQ(ClassifyStreamError(Err(MONGOC_ERROR_SERVER, 91), old.get()), ErrorClass::kResumable);
  BsonDoc bad = BsonDoc::FromJson(R"({"ok": 0, "code": 2, "codeName": "BadValue"})", &e);
  EXPECT_EQ(ClassifyStreamError(Err(MONGOC_ERROR_SERVER, 2), bad.get()), ErrorClass::kFatal);
}

TEST(Classify, HistoryLostAndFatal) {
  std::string e;
  BsonDoc lost = BsonDoc::FromJson(R"({"ok": 0, "code": 286, "codeName": "ChangeStreamHistoryLost"})", &e);
  EXPECT_EQ(ClassifyStreamError(Err(MONGOC_ERROR_SERVER, 286), lost.get()), ErrorClass::kHistoryLost);
  EXPECT_EQ(ClassifyStreamError(Err(MONGOC_ERROR_SERVER, 286), nullptr), ErrorClass::kHistoryLost);
  BsonDoc fatal = BsonDoc::FromJson(R"({"ok": 0, "code": 280, "errorLabels": ["ResumableChangeStreamError"]})", &e);
  EXPECT_EQ(ClassifyStreamError(Err(MONGOC_ERROR_SERVER, 280), fatal.get()), ErrorClass::kFatal);
}

TEST(StatusLine, TtyRendering) {
  StatusSnapshot s;
  s.state = "streaming";
  s.total_events = 1234567;
  s.events_per_sec = 51234.4;
  s.lag_secs = 2;
  EXPECT_EQ(RenderTtyLine(s), "brook watch: streaming | 1,234,567 events | 51234 ev/s | lag 2s");
  s.lag_secs.reset();
  s.events_per_sec = 0.5;
  s.total_events = 7;
  EXPECT_EQ(RenderTtyLine(s), "brook watch: streaming | 7 events | 0.5 ev/s | lag ?");
}

TEST(StatusLine, JsonRendering) {
  StatusSnapshot s;
  s.state = "resuming \"x\"";
  s.total_events = 10;
  s.events_per_sec = 2.25;
  s.checkpoint = "resumeAfter 82";
  auto when = std::chrono::system_clock::from_time_t(1700000000);
  EXPECT_EQ(RenderJsonLine(s, when),
            R"({"status":"resuming \"x\"","events":10,"eventsPerSec":2.2,"lagSecs":null,)"
            R"("checkpoint":"resumeAfter 82","time":"2023-11-14T22:13:20Z"})");
}

TEST(StatusReporter, RateLagAndPeriod) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&buf, &len);
  StatusReporter r(StatusReporter::Mode::kJson, std::chrono::milliseconds(1000), out);
  auto t0 = StatusReporter::Clock::now();
  r.SetState("streaming");
  r.OnEvents(500, 1000);
  r.OnServerTime(1003);
  EXPECT_FALSE(r.MaybeReport(t0));  // period not over
  EXPECT_TRUE(r.MaybeReport(t0 + std::chrono::milliseconds(2000)));
  EXPECT_EQ(r.snapshot().lag_secs, 3.0);
  EXPECT_GT(r.snapshot().events_per_sec, 200.0);
  r.OnIdle();
  r.Finish(t0 + std::chrono::milliseconds(3000));
  EXPECT_EQ(r.snapshot().lag_secs, 0.0);
  EXPECT_EQ(r.snapshot().events_per_sec, 0.0);
  std::fclose(out);
  std::string text(buf, len);
  std::free(buf);
  EXPECT_NE(text.find(R"("events":500)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("lagSecs":3)"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST(StatusReporter, TtyLineIsRedrawnAndLogsClearIt) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&buf, &len);
  StatusReporter r(StatusReporter::Mode::kTty, std::chrono::milliseconds(10), out);
  r.SetState("streaming");
  r.MaybeReport(StatusReporter::Clock::now() + std::chrono::seconds(1));
  r.Log("resumable error");
  r.Finish(StatusReporter::Clock::now() + std::chrono::seconds(2));
  std::fclose(out);
  std::string text(buf, len);
  std::free(buf);
  EXPECT_EQ(text.rfind("\rbrook watch: streaming", 0), 0u) << text;
  EXPECT_NE(text.find("\r\x1b[Kbrook watch: resumable error\n"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace brook::watch
