#pragma once
// For tests over a real socket: a Server with the admin and hello families (no storage
// engine) listening on a free port, run on its own thread, and the client side's
// helpers for hand-built wire messages.

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "bson/document.h"
#include "commands/failpoints.h"
#include "commands/log_buffer.h"
#include "commands/server_options.h"
#include "commands/server_stats.h"
#include "server/asio_fwd.h"
#include "server/server.h"
#include "wire/message.h"

namespace brook::server::testing {

class SocketTestServer {
 public:
  // `configure` adjusts the options and the service before the server starts.
  using Configure = std::function<void(commands::ServerOptions&, commands::ServiceContext&)>;

  explicit SocketTestServer(const Configure& configure = nullptr) {
    options_.port = 0;  // any free port
    options_.io_threads = 2;
    service_.options = &options_;
    service_.stats = &stats_;
    service_.failpoints = &failpoints_;
    service_.log_buffer = &log_buffer_;
    service_.process_id = bson::ObjectId::Generate();
    if (configure) configure(options_, service_);
    server_ = std::make_unique<Server>(service_);
    listened_ = server_->Listen();
    if (listened_.ok()) thread_ = std::thread([this] { server_->Run(); });
  }
  ~SocketTestServer() {
    server_->Shutdown();
    if (thread_.joinable()) thread_.join();
  }
  SocketTestServer(const SocketTestServer&) = delete;
  SocketTestServer& operator=(const SocketTestServer&) = delete;

  const Status& listened() const { return listened_; }
  const commands::ServiceContext& service() const { return service_; }

  asio::ip::tcp::socket Connect() {
    asio::ip::tcp::socket s(client_io_);
    s.connect({asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(server_->port())});
    return s;
  }

  // Reads one whole frame; empty on EOF or error.
  static std::string ReadFrame(asio::ip::tcp::socket& s) {
    char h[16];
    std::error_code ec;
    asio::read(s, asio::buffer(h, 16), ec);
    if (ec) return {};
    std::string frame(static_cast<size_t>(wire::ReadLE32(h)), '\0');
    std::memcpy(frame.data(), h, 16);
    asio::read(s, asio::buffer(frame.data() + 16, frame.size() - 16), ec);
    return ec ? std::string() : frame;
  }

 private:
  commands::ServerOptions options_;
  commands::ServerStats stats_;
  commands::FailPoints failpoints_;
  commands::LogBuffer log_buffer_;
  commands::ServiceContext service_;
  std::unique_ptr<Server> server_;
  Status listened_;
  std::thread thread_;
  asio::io_context client_io_;
};

}  // namespace brook::server::testing
