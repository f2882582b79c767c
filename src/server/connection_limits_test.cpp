// The per-connection limits over a real socket: an oversized message is answered and
// skipped (the connection survives, pipelined requests behind it are served), a
// fire-and-forget oversized message closes, a half-sent message times out while an idle
// connection does not. Also the TLS context's refusals of bad settings.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "bson/json.h"
#include "commands/server_options.h"
#include "server/socket_test_server.h"
#include "server/tls_context.h"
#include "wire/message.h"

namespace brook::server {
namespace {

bson::Doc J(std::string_view json) { return bson::FromJson(json).value(); }

class ConnectionLimitsTest : public ::testing::Test {
 protected:
  ConnectionLimitsTest()
      : server_([](commands::ServerOptions& options, commands::ServiceContext&) {
          options.max_message_size_bytes = 4096;
          EXPECT_TRUE(options.parameters
                          ->SetFromString(commands::kParamMessageReceiveTimeoutMillis, "300")
                          .ok());
        }) {
    EXPECT_TRUE(server_.listened().ok());
  }
  asio::ip::tcp::socket Connect() { return server_.Connect(); }
  // One reply body; empty on EOF.
  static bson::Doc ReadBody(asio::ip::tcp::socket& s) {
    std::string frame = testing::SocketTestServer::ReadFrame(s);
    if (frame.empty()) return bson::Doc();
    auto msg = wire::ParseOpMsg(frame);
    return msg.ok() ? msg.value().body : bson::Doc();
  }
  // Whether the server closes `s` (EOF or reset) within `wait`.
  static bool ClosedWithin(asio::ip::tcp::socket& s, std::chrono::milliseconds wait) {
    timeval tv{static_cast<time_t>(wait.count() / 1000), static_cast<suseconds_t>((wait.count() % 1000) * 1000)};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char c;
    ssize_t n = recv(s.native_handle(), &c, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  static std::string Ping(int32_t id) { return wire::BuildOpMsg(id, 0, 0, J(R"({"ping": 1, "$db": "admin"})")); }
  static std::string Padded(int32_t id, size_t pad, uint32_t flags = 0) {
    bson::Builder b;
    b.AppendInt32("ping", 1);
    b.AppendString("pad", std::string(pad, 'x'));
    b.AppendString("$db", "admin");
    return wire::BuildOpMsg(id, 0, flags, b.Done());
  }

  testing::SocketTestServer server_;
};

TEST_F(ConnectionLimitsTest, OversizedMessageIsAnsweredAndSkipped) {
  auto s = Connect();
  // The oversized request and a ping behind it in one write: the ping must still be read
  // as its own message once the oversized body is skipped.
  std::string bytes = Padded(7, 20000) + Ping(8);
  asio::write(s, asio::buffer(bytes));
  bson::Doc refused = ReadBody(s);
  ASSERT_FALSE(refused.empty());
  EXPECT_EQ(refused.view()["ok"].NumberDouble(), 0.0);
  EXPECT_EQ(refused.view()["code"].NumberInt64(), 10334);
  EXPECT_NE(std::string(refused.view()["errmsg"].Str()).find("maxMessageSizeBytes (4096)"), std::string::npos);
  bson::Doc pong = ReadBody(s);
  ASSERT_FALSE(pong.empty());
  EXPECT_EQ(pong.view()["ok"].NumberDouble(), 1.0);
}

TEST_F(ConnectionLimitsTest, MessageAtTheLimitIsServed) {
  auto s = Connect();
  std::string msg = Padded(9, 3900);
  ASSERT_LE(msg.size(), 4096u);
  asio::write(s, asio::buffer(msg));
  bson::Doc pong = ReadBody(s);
  ASSERT_FALSE(pong.empty());
  EXPECT_EQ(pong.view()["ok"].NumberDouble(), 1.0);
}

TEST_F(ConnectionLimitsTest, OversizedFireAndForgetCloses) {
  auto s = Connect();
  asio::write(s, asio::buffer(Padded(10, 20000, wire::kMoreToCome)));
  EXPECT_TRUE(ClosedWithin(s, std::chrono::milliseconds(5000)));
}

TEST_F(ConnectionLimitsTest, HalfSentMessageTimesOutIdleDoesNot) {
  auto idle = Connect();
  auto slow = Connect();
  std::string ping = Ping(11);
  asio::write(slow, asio::buffer(ping.data(), ping.size() - 2));  // never finished
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(ClosedWithin(slow, std::chrono::milliseconds(5000)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(200));
  // The idle connection outlived the timeout and is served.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  asio::write(idle, asio::buffer(Ping(12)));
  bson::Doc pong = ReadBody(idle);
  ASSERT_FALSE(pong.empty());
  EXPECT_EQ(pong.view()["ok"].NumberDouble(), 1.0);
}

TEST_F(ConnectionLimitsTest, SlowButSteadyMessageUnderTheTimeoutIsServed) {
  auto s = Connect();
  std::string ping = Ping(13);
  // Two halves 100 ms apart: well within the 300 ms allowed for the whole message.
  asio::write(s, asio::buffer(ping.data(), 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  asio::write(s, asio::buffer(ping.data() + 10, ping.size() - 10));
  bson::Doc pong = ReadBody(s);
  ASSERT_FALSE(pong.empty());
  EXPECT_EQ(pong.view()["ok"].NumberDouble(), 1.0);
}

TEST(TlsContext, TellsAClientHelloFromAMessageThatStartsLikeOne) {
  // A ClientHello's first 16 bytes: record header (handshake, TLS 1.0 record version,
  // length), handshake header (ClientHello, length), client version, random.
  const unsigned char hello[16] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01,
                                   0xfc, 0x03, 0x03, 0x5a, 0x17, 0x9e, 0x44, 0x21};
  EXPECT_TRUE(IsTlsClientHello(std::string_view(reinterpret_cast<const char*>(hello), 16)));
  EXPECT_FALSE(IsTlsClientHello(std::string_view(reinterpret_cast<const char*>(hello), 15)));
  // Messages of 278 and 790 bytes start with 0x16 and 0x16 0x03: their opcode says
  // they are messages.
  for (int32_t length : {278, 790}) {
    for (auto op : {wire::OpCode::kMsg, wire::OpCode::kQuery, wire::OpCode::kCompressed}) {
      char header[16];
      wire::WriteHeader(wire::MessageHeader{length, 0x0316, 0, static_cast<int32_t>(op)}, header);
      EXPECT_FALSE(IsTlsClientHello(std::string_view(header, 16))) << length;
    }
  }
}

TEST(TlsContext, RefusesMissingFilesAndImpossibleProtocols) {
  commands::TlsOptions tls;
  tls.mode = commands::TlsMode::kRequireTls;
  tls.certificate_key_file = "/nonexistent/server.pem";
  auto ctx = MakeTlsContext(tls);
  ASSERT_FALSE(ctx.ok());
  EXPECT_NE(ctx.status().reason().find("/nonexistent/server.pem"), std::string::npos);

  tls.disabled_protocols = "TLS1_0,TLS1_1,TLS1_2,TLS1_3";
  ctx = MakeTlsContext(tls);
  ASSERT_FALSE(ctx.ok());
  EXPECT_NE(ctx.status().reason().find("every TLS version"), std::string::npos);
}

}  // namespace
}  // namespace brook::server
