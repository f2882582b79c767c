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

#include "watch/http_client.h"

namespace brook::watch {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
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

// A tiny HTTP receiver on loopback: answers each request with the next scripted status
// (then 200), recording the bodies it acknowledged. Keeps connections alive unless told.
class Receiver {
 public:
  explicit Receiver(std::vector<int> statuses, bool chunked = false, bool close_each = false)
      : statuses_(std::move(statuses)), chunked_(chunked), close_each_(close_each) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t l = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &l);
    port_ = ntohs(a.sin_port);
    listen(fd_, 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Receiver() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::string acked;  // bodies answered 2xx, concatenated
  int requests = 0;

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string buf;
      for (;;) {
        size_t he;
        while ((he = buf.find("\r\n\r\n")) == std::string::npos) {
          char tmp[4096];
          ssize_t n = recv(c, tmp, sizeof tmp, 0);
          if (n <= 0) goto done;
          buf.append(tmp, static_cast<size_t>(n));
        }
        std::string head = buf.substr(0, he);
        size_t cl = std::stoul(head.substr(head.find("Content-Length: ") + 16));
        buf.erase(0, he + 4);
        while (buf.size() < cl) {
          char tmp[4096];
          ssize_t n = recv(c, tmp, sizeof tmp, 0);
          if (n <= 0) goto done;
          buf.append(tmp, static_cast<size_t>(n));
        }
        std::string body = buf.substr(0, cl);
        buf.erase(0, cl);
        int status = requests < static_cast<int>(statuses_.size()) ? statuses_[static_cast<size_t>(requests)] : 200;
        ++requests;
        if (status == 0) goto done;  // drop the connection without answering
        if (status / 100 == 2) acked += body;
        std::string reply = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
        if (close_each_) reply += "Connection: close\r\n";
        if (chunked_) {
          reply += "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        } else {
          reply += "Content-Length: 2\r\n\r\nok";
        }
        send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        if (close_each_) break;
      }
    done:
      close(c);
    }
  }

  std::vector<int> statuses_;
  bool chunked_, close_each_;
  int fd_;
  int port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(HttpSink, PostsABatchAsJsonLinesAndReusesTheConnection) {
  Receiver r({});
  auto sink = MakeHttpSink(r.url());
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  size_t acked = 0;
  ASSERT_TRUE(sink->Deliver({"{\"a\":1}\n", "{\"a\":2}\n"}, &acked).ok());
  ASSERT_TRUE(sink->Deliver({"{\"a\":3}\n"}, &acked).ok());
  EXPECT_EQ(acked, 1u);
  EXPECT_EQ(r.acked, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
  EXPECT_EQ(r.requests, 2);
}

TEST(HttpSink, Non2xxAndDroppedConnectionsAreRetryableErrors) {
  Receiver r({503, 0, 0});  // a stale kept-alive connection is retried once, so drop twice
  auto sink = MakeHttpSink(r.url());
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  size_t acked = 9;
  Status s = sink->Deliver({"x\n"}, &acked);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(acked, 0u);
  EXPECT_NE(s.reason().find("answered HTTP 503"), std::string::npos) << s.reason();
  EXPECT_TRUE(sink->RetryOnError());
  s = sink->Deliver({"x\n"}, &acked);  // the receiver hangs up without answering
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(sink->Deliver({"x\n"}, &acked).ok());
  EXPECT_EQ(r.acked, "x\n");
}

TEST(HttpSink, ChunkedAndConnectionCloseResponses) {
  Receiver chunked({}, /*chunked=*/true);
  auto sink = MakeHttpSink(chunked.url());
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  size_t acked = 0;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sink->Deliver({"c\n"}, &acked).ok());
  EXPECT_EQ(chunked.acked, "c\nc\nc\n");

  Receiver closing({}, false, /*close_each=*/true);
  auto sink2 = MakeHttpSink(closing.url());
  ASSERT_TRUE(sink2->Open(std::nullopt).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sink2->Deliver({"d\n"}, &acked).ok());
  EXPECT_EQ(closing.acked, "d\nd\nd\n");
}

TEST(HttpSink, NothingListeningIsAnError) {
  auto sink = MakeHttpSink("http://127.0.0.1:1/x");
  ASSERT_TRUE(sink->Open(std::nullopt).ok());
  size_t acked = 0;
  Status s = sink->Deliver({"x\n"}, &acked);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.reason().find("cannot connect to 127.0.0.1:1"), std::string::npos) << s.reason();
}

}  // namespace
}  // namespace brook::watch
