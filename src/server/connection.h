#pragma once
// One client connection: reads frames, unwraps OP_COMPRESSED, answers OP_MSG through
// the Dispatcher and the legacy OP_QUERY handshake with OP_REPLY, streams exhaust
// replies, and compresses replies with the negotiated compressor.
//
// Framing errors (a header whose length or opcode is wrong, a compressed frame that
// does not inflate) end the connection: the byte stream can no longer be trusted.
// A well-framed message with bad content gets an error reply and the connection stays.
//
// Limits that keep one client from exhausting the server: a message longer than
// --maxMessageSizeBytes is answered with an error and its body discarded unread; a
// message that has begun but is not complete within messageReceiveTimeoutMillis (the
// TLS handshake counts as a message) ends the connection. Between messages a
// connection may stay idle as long as it likes.
//
// TLS: with --tlsMode allowTLS/preferTLS the first 16 bytes tell a TLS ClientHello from
// a plain wire-protocol header (IsTlsClientHello); with requireTLS a plain client's
// first request is answered with an error saying TLS is required, then the connection
// ends.
// Thread-safety: all work happens on the connection's I/O thread; Close() may be called from
// any thread (it posts onto that thread).

#include <cstdint>
#include <memory>
#include <string>

#include <asio/ssl.hpp>

#include "commands/operation_context.h"
#include "server/asio_fwd.h"
#include "util/status.h"
#include "wire/message.h"

namespace brook::server {

class Server;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::ip::tcp::socket socket, Server& server, int64_t id);
  ~Connection();

  // Serves until the client leaves or the server shuts down. `self` keeps the
  // connection alive for the coroutine's lifetime; spawn it on socket_executor().
  static asio::awaitable<void> Run(std::shared_ptr<Connection> self);
  asio::any_io_executor socket_executor() { return executor_; }
  // Closes the socket, unless a request is being handled: then the connection sends that
  // reply (a waiting getMore answers InterruptedAtShutdown) and ends after it.
  void Close();
  int64_t id() const { return client_.connection_id; }

 private:
  // Each returns false when the connection must end.
  asio::awaitable<void> Serve();
  // Chooses TLS or plain from the first 16 bytes and runs the TLS handshake.
  asio::awaitable<bool> StartSession();
  // Reads until `need` bytes are buffered; false when the client left or timed out.
  asio::awaitable<bool> Fill(size_t need);
  // Answers a message over --maxMessageSizeBytes, then skips its body unread.
  asio::awaitable<bool> RefuseOversized(const wire::MessageHeader& header);
  asio::awaitable<bool> SendError(const wire::MessageHeader& header, const Status& status);
  asio::awaitable<size_t> ReadSome(char* data, size_t size, std::error_code& ec);
  asio::ip::tcp::socket::lowest_layer_type& Lowest();
  void CloseSocket();
  // The receive deadline: armed while waiting for the rest of a begun message (or TLS
  // handshake), disarmed when it is complete.
  void ArmDeadline();
  void DisarmDeadline();
  asio::awaitable<bool> HandleFrame(std::string frame, wire::MessageHeader header);
  asio::awaitable<bool> HandleMsg(const std::string& frame, const wire::MessageHeader& header,
                                  int compressor_id);
  asio::awaitable<bool> HandleQuery(const std::string& frame, const wire::MessageHeader& header);
  asio::awaitable<bool> Send(std::string bytes);
  std::string ctx() const { return "conn" + std::to_string(client_.connection_id); }

  asio::ip::tcp::socket socket_;  // moved into tls_ when the client speaks TLS
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> tls_;
  asio::any_io_executor executor_;  // the connection's I/O thread
  asio::steady_timer deadline_;
  uint64_t deadline_generation_ = 0;
  bool deadline_armed_ = false;
  bool refuse_plain_ = false;  // requireTLS and the client spoke plain
  // Received bytes not handled yet are [0, have_) of buf_ (capacity cap_).
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t have_ = 0;
  Server& server_;
  commands::ClientInfo client_;
  bool handling_ = false;  // a request is in HandleFrame; touched only on the socket's I/O thread
};

}  // namespace brook::server
