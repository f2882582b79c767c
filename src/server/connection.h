#pragma once
// One client connection: reads frames, unwraps OP_COMPRESSED, answers OP_MSG through
// the Dispatcher and the legacy OP_QUERY handshake with OP_REPLY, streams exhaust
// replies, and compresses replies with the negotiated compressor.
//
// Framing errors (a header whose length or opcode is wrong, a compressed frame that
// does not inflate) end the connection: the byte stream can no longer be trusted.
// A well-framed message with bad content gets an error reply and the connection stays.
// Thread-safety: all work happens on the connection's strand; Close() may be called from
// any thread (it posts onto the strand).

#include <cstdint>
#include <memory>
#include <string>

#include "commands/operation_context.h"
#include "server/asio_fwd.h"
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
  asio::any_io_executor socket_executor() { return socket_.get_executor(); }
  // Closes the socket, unless a request is being handled: then the connection sends that
  // reply (a waiting getMore answers InterruptedAtShutdown) and ends after it.
  void Close();
  int64_t id() const { return client_.connection_id; }

 private:
  // Each returns false when the connection must end.
  asio::awaitable<void> Serve();
  asio::awaitable<bool> HandleFrame(std::string frame, wire::MessageHeader header);
  asio::awaitable<bool> HandleMsg(const std::string& frame, const wire::MessageHeader& header,
                                  int compressor_id);
  asio::awaitable<bool> HandleQuery(const std::string& frame, const wire::MessageHeader& header);
  asio::awaitable<bool> Send(std::string bytes);
  std::string ctx() const { return "conn" + std::to_string(client_.connection_id); }

  asio::ip::tcp::socket socket_;
  Server& server_;
  commands::ClientInfo client_;
  bool handling_ = false;  // a request is in HandleFrame; touched only on the socket's strand
};

}  // namespace brook::server
