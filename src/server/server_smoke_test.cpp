// End-to-end over a real socket: Server + Connection + Dispatcher with the admin and
// hello families (no storage engine), driven by hand-built wire messages.
#include <gtest/gtest.h>

#include <thread>

#include "bson/json.h"
#include "server/socket_test_server.h"
#include "wire/compression.h"
#include "wire/message.h"

namespace brook::server {
namespace {

bson::Doc J(std::string_view json) { return bson::FromJson(json).value(); }

class ServerSmokeTest : public ::testing::Test {
 protected:
  ServerSmokeTest()
      : server_([](commands::ServerOptions&, commands::ServiceContext& service) {
          service.test_commands_enabled = true;
        }) {
    EXPECT_TRUE(server_.listened().ok());
  }
  asio::ip::tcp::socket Connect() { return server_.Connect(); }
  // Reads one frame; empty on EOF.
  static std::string ReadFrame(asio::ip::tcp::socket& s) {
    return testing::SocketTestServer::ReadFrame(s);
  }
  static bson::Doc Body(const std::string& frame) {
    auto msg = wire::ParseOpMsg(frame);
    EXPECT_TRUE(msg.ok()) << msg.status().ToString();
    return msg.ok() ? msg.value().body : bson::Doc();
  }

  testing::SocketTestServer server_;
};

TEST_F(ServerSmokeTest, OpMsgPingWithChecksumAndSequence) {
  auto s = Connect();
  asio::write(s, asio::buffer(wire::BuildOpMsg(11, 0, wire::kChecksumPresent, J(R"({"ping": 1, "$db": "admin"})"))));
  std::string reply = ReadFrame(s);
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(wire::ReadLE32(reply.data() + 8), 11);  // responseTo
  auto msg = wire::ParseOpMsg(reply);
  ASSERT_TRUE(msg.ok());
  EXPECT_TRUE(msg.value().checksum_present());
  EXPECT_EQ(msg.value().body.view()["ok"].NumberDouble(), 1.0);

  // Malformed BSON inside a well-framed message: an error reply, connection kept.
  std::string bad = wire::BuildOpMsg(12, 0, 0, J(R"({"ping": 1, "$db": "admin"})"));
  bad[bad.size() - 1] = 'x';
  asio::write(s, asio::buffer(bad));
  auto err = Body(ReadFrame(s));
  EXPECT_EQ(err.view()["code"].NumberInt64(), 22);
  asio::write(s, asio::buffer(wire::BuildOpMsg(13, 0, 0, J(R"({"ping": 1, "$db": "admin"})"))));
  EXPECT_EQ(Body(ReadFrame(s)).view()["ok"].NumberDouble(), 1.0);

  // moreToCome: no reply; the next command's reply is the next frame.
  asio::write(s, asio::buffer(wire::BuildOpMsg(14, 0, wire::kMoreToCome, J(R"({"ping": 1, "$db": "admin"})"))));
  asio::write(s, asio::buffer(wire::BuildOpMsg(15, 0, 0, J(R"({"buildInfo": 1, "$db": "admin"})"))));
  std::string next = ReadFrame(s);
  EXPECT_EQ(wire::ReadLE32(next.data() + 8), 15);
}

TEST_F(ServerSmokeTest, LegacyHandshakeAndCompression) {
  auto s = Connect();
  asio::write(s, asio::buffer(wire::BuildOpQuery(
                     1, "admin.$cmd", J(R"({"isMaster": 1, "compression": ["zlib"], "client": {"application": {"name": "t"}}})"))));
  std::string reply = ReadFrame(s);
  auto doc = wire::ParseOpReply(reply);
  ASSERT_TRUE(doc.ok());
  EXPECT_TRUE(doc.value().view()["ismaster"].Bool());
  EXPECT_EQ(doc.value().view()["compression"].Obj().first().Str(), "zlib");

  // A compressed request gets a compressed reply; hello replies never are.
  std::string ping = wire::CompressMessage(wire::BuildOpMsg(2, 0, 0, J(R"({"ping": 1, "$db": "admin"})")),
                                           wire::Compressor::kZlib).value();
  asio::write(s, asio::buffer(ping));
  std::string packed = ReadFrame(s);
  EXPECT_EQ(wire::ReadLE32(packed.data() + 12), 2012);
  auto inflated = wire::DecompressMessage(packed);
  ASSERT_TRUE(inflated.ok());
  EXPECT_EQ(Body(inflated.value()).view()["ok"].NumberDouble(), 1.0);
  asio::write(s, asio::buffer(wire::BuildOpMsg(3, 0, 0, J(R"({"hello": 1, "$db": "admin"})"))));
  EXPECT_EQ(wire::ReadLE32(ReadFrame(s).data() + 12), 2013);

  // Legacy OP_QUERY for anything but the handshake is refused with 352.
  asio::write(s, asio::buffer(wire::BuildOpQuery(4, "test.coll", J(R"({"x": 1})"))));
  EXPECT_EQ(wire::ParseOpReply(ReadFrame(s)).value().view()["code"].NumberInt64(), 352);
}

TEST_F(ServerSmokeTest, BadFrameClosesConnection) {
  auto s = Connect();
  char h[16];
  wire::WriteHeader({5, 1, 0, 2013}, h);  // a length shorter than a header
  asio::write(s, asio::buffer(h, 16));
  EXPECT_TRUE(ReadFrame(s).empty());

  auto s2 = Connect();
  wire::WriteHeader({100, 1, 0, 2005}, h);  // OP_GET_MORE: removed opcode
  asio::write(s2, asio::buffer(h, 16));
  EXPECT_TRUE(ReadFrame(s2).empty());
}

TEST_F(ServerSmokeTest, ExhaustHelloStreams) {
  auto s = Connect();
  std::string pid = server_.service().process_id.ToHex();
  auto hello = J(R"({"hello": 1, "maxAwaitTimeMS": 20, "topologyVersion": {"processId": {"$oid": ")" + pid +
                 R"("}, "counter": {"$numberLong": "0"}}, "$db": "admin"})");
  asio::write(s, asio::buffer(wire::BuildOpMsg(7, 0, wire::kExhaustAllowed, hello)));
  int32_t previous_id = 7;
  for (int i = 0; i < 3; ++i) {
    std::string r = ReadFrame(s);
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(wire::ReadLE32(r.data() + 8), previous_id);
    auto msg = wire::ParseOpMsg(r);
    ASSERT_TRUE(msg.ok());
    EXPECT_TRUE(msg.value().more_to_come());
    previous_id = wire::ReadLE32(r.data() + 4);
  }
}

TEST_F(ServerSmokeTest, FailCommandCloseConnection) {
  auto s = Connect();
  asio::write(s, asio::buffer(wire::BuildOpMsg(1, 0, 0, J(R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["ping"], "closeConnection": true}, "$db": "admin"})"))));
  EXPECT_EQ(Body(ReadFrame(s)).view()["ok"].NumberDouble(), 1.0);
  asio::write(s, asio::buffer(wire::BuildOpMsg(2, 0, 0, J(R"({"ping": 1, "$db": "admin"})"))));
  EXPECT_TRUE(ReadFrame(s).empty());
}

}  // namespace
}  // namespace brook::server
