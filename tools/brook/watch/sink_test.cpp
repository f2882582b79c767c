#include "watch/sink.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "http_receiver.h"
#include "watch/http_client.h"

namespace brook::watch {
namespace {

using ::brook::testing::HttpReceiver;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Delivers one line through a sink that must refuse it; returns why. A refused batch
// acknowledges nothing.
Status DeliverRefused(Sink& sink) {
  size_t acked = 9;
  Status s = sink.Deliver({"x\n"}, &acked);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(acked, 0u);
  return s;
}

class SinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/brook-sink-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(SinkTest, FileSinkAppendsAndReportsTheDurableOffset) {
  std::string path = dir_ + "/out.jsonl";
  auto sink = MakeFileSink(path);
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  EXPECT_EQ(sink->Offset(), 0);
  size_t acked = 0;
  ASSERT_TRUE(sink->Deliver({"{\"a\":1}\n", "{\"b\":2}\n"}, &acked).ok());
  EXPECT_EQ(acked, 2u);
  EXPECT_EQ(sink->Offset(), 16);
  EXPECT_EQ(Slurp(path), "{\"a\":1}\n{\"b\":2}\n");
  EXPECT_FALSE(sink->RetryOnError());
}

TEST_F(SinkTest, FileSinkTruncatesBackToTheCheckpointedOffset) {
  std::string path = dir_ + "/out.jsonl";
  { std::ofstream(path) << "one\ntwo\nthree-not-checkpointed\n"; }
  auto sink = MakeFileSink(path);
  ASSERT_TRUE(sink->Open(8).ok());  // the checkpoint covered "one\ntwo\n"
  EXPECT_EQ(Slurp(path), "one\ntwo\n");
  EXPECT_NE(sink->OpenNote().find("truncated from 31 to 8 bytes"), std::string::npos) << sink->OpenNote();
  size_t acked = 0;
  ASSERT_TRUE(sink->Deliver({"three\n"}, &acked).ok());
  EXPECT_EQ(Slurp(path), "one\ntwo\nthree\n");
  EXPECT_EQ(sink->Offset(), 14);
}

TEST_F(SinkTest, FileSinkWithoutCheckpointKeepsExistingContent) {
  std::string path = dir_ + "/out.jsonl";
  { std::ofstream(path) << "old\n"; }
  auto sink = MakeFileSink(path);
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  EXPECT_EQ(sink->Offset(), 4);
  size_t acked = 0;
  ASSERT_TRUE(sink->Deliver({"new\n"}, &acked).ok());
  EXPECT_EQ(Slurp(path), "old\nnew\n");
}

TEST_F(SinkTest, FileSinkRefusesAFileShorterThanTheCheckpoint) {
  std::string path = dir_ + "/out.jsonl";
  { std::ofstream(path) << "abc\n"; }
  auto sink = MakeFileSink(path);
  Status s = sink->Open(100);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.reason().find("holds 4 bytes but the checkpoint says 100"), std::string::npos) << s.reason();
  EXPECT_EQ(Slurp(path), "abc\n");  // untouched
}

TEST_F(SinkTest, FileSinkManyLinesCrossWritevLimits) {
  std::string path = dir_ + "/big.jsonl";
  auto sink = MakeFileSink(path);
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  std::vector<std::string> lines;
  std::string expect;
  for (int i = 0; i < 3000; ++i) {
    lines.push_back(std::string(static_cast<size_t>(i % 700), 'x') + std::to_string(i) + "\n");
    expect += lines.back();
  }
  size_t acked = 0;
  ASSERT_TRUE(sink->Deliver(lines, &acked).ok());
  EXPECT_EQ(Slurp(path), expect);
  EXPECT_EQ(sink->Offset(), static_cast<int64_t>(expect.size()));
}

TEST_F(SinkTest, StdoutSinkWritesToItsFd) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  auto sink = MakeStdoutSink(fds[1]);
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  size_t acked = 0;
  ASSERT_TRUE(sink->Deliver({"x\n", "y\n"}, &acked).ok());
  close(fds[1]);
  char buf[16] = {};
  EXPECT_EQ(read(fds[0], buf, sizeof buf), 4);
  EXPECT_STREQ(buf, "x\ny\n");
  close(fds[0]);
  EXPECT_FALSE(sink->Offset());
}

TEST_F(SinkTest, ExecSinkRunsTheCommandPerEventWithItOnStdin) {
  std::string out = dir_ + "/exec.out";
  auto sink = MakeExecSink("cat >> '" + out + "'");
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  size_t acked = 0;
  ASSERT_TRUE(sink->Deliver({"{\"n\":1}\n", "{\"n\":2}\n"}, &acked).ok());
  EXPECT_EQ(acked, 2u);
  EXPECT_EQ(Slurp(out), "{\"n\":1}\n{\"n\":2}\n");
  EXPECT_TRUE(sink->RetryOnError());
}

TEST_F(SinkTest, ExecSinkStopsAtTheFirstFailingEvent) {
  // Fails on the event containing "bad"; the events before it are acknowledged.
  auto sink = MakeExecSink("! grep -q bad");
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  size_t acked = 0;
  Status s = sink->Deliver({"ok1\n", "ok2\n", "bad\n", "ok3\n"}, &acked);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(acked, 2u);
  EXPECT_NE(s.reason().find("exited with status 1"), std::string::npos) << s.reason();
  // A command that ignores stdin still counts by its exit status.
  auto quiet = MakeExecSink("exit 0");
  ASSERT_TRUE(quiet->Open(std::nullopt).ok());
  EXPECT_TRUE(quiet->Deliver({std::string(1 << 20, 'z') + "\n"}, &acked).ok());
}

TEST(HttpUrl, Parses) {
  auto u = HttpUrl::Parse("http://127.0.0.1:8080/events?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value().host, "127.0.0.1");
  EXPECT_EQ(u.value().port, "8080");
  EXPECT_EQ(u.value().path, "/events?x=1");
  u = HttpUrl::Parse("http://example.test");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value().port, "80");
  EXPECT_EQ(u.value().path, "/");
  u = HttpUrl::Parse("http://[::1]:9/p");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value().host, "::1");
  EXPECT_EQ(u.value().port, "9");
  EXPECT_FALSE(HttpUrl::Parse("http://h:99999/").ok());
  EXPECT_FALSE(HttpUrl::Parse("http://:80/").ok());
  EXPECT_FALSE(HttpUrl::Parse("ftp://h/").ok());
}

TEST(HttpSink, PostsABatchAsJsonLinesAndReusesTheConnection) {
  HttpReceiver r(HttpReceiver::Scripted({}));
  auto sink = MakeHttpSink(r.url());
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  size_t acked = 0;
  ASSERT_TRUE(sink->Deliver({"{\"a\":1}\n", "{\"a\":2}\n"}, &acked).ok());
  ASSERT_TRUE(sink->Deliver({"{\"a\":3}\n"}, &acked).ok());
  EXPECT_EQ(acked, 1u);
  EXPECT_EQ(r.AckedBodies(), "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
  EXPECT_EQ(r.requests(), 2);
}

TEST(HttpSink, Non2xxAndDroppedConnectionsAreRetryableErrors) {
  HttpReceiver r(HttpReceiver::Scripted({503, 0, 0}));  // a stale kept-alive connection is retried once, so drop twice
  auto sink = MakeHttpSink(r.url());
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  Status s = DeliverRefused(*sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.reason().find("answered HTTP 503"), std::string::npos) << s.reason();
  EXPECT_TRUE(sink->RetryOnError());
  s = DeliverRefused(*sink);  // the receiver hangs up without answering
  EXPECT_FALSE(s.ok());
  size_t acked = 0;
  EXPECT_TRUE(sink->Deliver({"x\n"}, &acked).ok());
  EXPECT_EQ(r.AckedBodies(), "x\n");
}

TEST(HttpSink, ChunkedAndConnectionCloseResponses) {
  HttpReceiver chunked(HttpReceiver::Scripted({}, /*chunked=*/true));
  auto sink = MakeHttpSink(chunked.url());
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  size_t acked = 0;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sink->Deliver({"c\n"}, &acked).ok());
  EXPECT_EQ(chunked.AckedBodies(), "c\nc\nc\n");

  HttpReceiver closing(HttpReceiver::Scripted({}, false, /*close_each=*/true));
  auto sink2 = MakeHttpSink(closing.url());
  ASSERT_TRUE(sink2->Open(std::nullopt).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sink2->Deliver({"d\n"}, &acked).ok());
  EXPECT_EQ(closing.AckedBodies(), "d\nd\nd\n");
}

TEST(HttpSink, NothingListeningIsAnError) {
  auto sink = MakeHttpSink("http://127.0.0.1:1/x");
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  size_t acked = 0;
  Status s = sink->Deliver({"x\n"}, &acked);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.reason().find("cannot connect to 127.0.0.1:1"), std::string::npos) << s.reason();
}

// https:// against a TLS receiver whose certificate this test makes with the openssl CLI:
// self-signed, so it is its own CA, for 127.0.0.1 (and localhost) only.
class HttpsSinkTest : public SinkTest {
 protected:
  void SetUp() override {
    SinkTest::SetUp();
    brook::testing::MakeTestCertificate(dir_);
  }
  HttpReceiver::Tls Tls() const { return {dir_ + "/cert.pem", dir_ + "/key.pem"}; }
};

TEST_F(HttpsSinkTest, DeliversWhenTheCaFileVouchesForTheReceiver) {
  HttpReceiver r(HttpReceiver::Scripted({503}), Tls());
  ASSERT_EQ(r.url().rfind("https://127.0.0.1:", 0), 0u);
  auto sink = MakeHttpSink(r.url(), dir_ + "/cert.pem");
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  size_t acked = 0;
  Status s = sink->Deliver({"{\"a\":1}\n"}, &acked);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.reason().find("answered HTTP 503"), std::string::npos) << s.reason();
  s = sink->Deliver({"{\"a\":1}\n", "{\"a\":2}\n"}, &acked);
  ASSERT_TRUE(s.ok()) << s.reason();
  ASSERT_TRUE(sink->Deliver({"{\"a\":3}\n"}, &acked).ok());
  EXPECT_EQ(r.AckedBodies(), "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
  EXPECT_EQ(r.failed_handshakes(), 0);
}

TEST_F(HttpsSinkTest, VerifiesByDefaultAgainstTheSystemCas) {
  HttpReceiver r(HttpReceiver::Scripted({}), Tls());
  auto sink = MakeHttpSink(r.url());
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  Status s = DeliverRefused(*sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.reason().find("certificate verify failed: self-signed certificate"), std::string::npos) << s.reason();
  EXPECT_NE(s.reason().find("--sink-ca-file"), std::string::npos) << s.reason();
  EXPECT_TRUE(sink->RetryOnError());
  EXPECT_EQ(r.AckedBodies(), "");
  // The receiver sees the refused handshake fail too (shortly after the client does).
  for (int i = 0; i < 200 && r.failed_handshakes() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(r.failed_handshakes(), 1);
}

TEST_F(HttpsSinkTest, TheCertificateMustNameTheHost) {
  std::string other = dir_ + "/other";
  std::filesystem::create_directories(other);
  brook::testing::MakeTestCertificate(other, "DNS:receiver.example");
  HttpReceiver r(HttpReceiver::Scripted({}), {other + "/cert.pem", other + "/key.pem"});
  size_t acked = 0;
  // Trusted, but issued for another name: refused, by IP literal and by DNS name.
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto sink = MakeHttpSink(r.url("/e", host), other + "/cert.pem");
    ASSERT_TRUE(sink->Open(std::nullopt).ok());
    Status s = sink->Deliver({"x\n"}, &acked);
    ASSERT_FALSE(s.ok()) << host;
    EXPECT_NE(s.reason().find("certificate verify failed"), std::string::npos) << s.reason();
    EXPECT_NE(s.reason().find("mismatch"), std::string::npos) << s.reason();
  }
  EXPECT_EQ(r.AckedBodies(), "");
}

TEST_F(HttpsSinkTest, AnUnreadableCaFileFailsAtOpen) {
  std::ofstream(dir_ + "/junk.pem") << "not a certificate\n";
  auto sink = MakeHttpSink("https://127.0.0.1:1/x", dir_ + "/junk.pem");
  Status s = sink->Open(std::nullopt);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.reason().find("--sink-ca-file"), std::string::npos) << s.reason();
  EXPECT_NE(s.reason().find("junk.pem"), std::string::npos) << s.reason();
}

}  // namespace
}  // namespace brook::watch
