#pragma once
// The network server: an Asio listener, one coroutine per connection, one io_context per
// I/O thread, and graceful shutdown.
//
// Owns: the acceptor, the live connections, the Dispatcher and the Waiters. A new
// connection is pinned to one I/O thread (round robin) and lives there: its handlers run
// on that thread only, so they never run concurrently, and no request is handed from the
// thread that saw the socket ready to another one (a shared io_context run by a pool
// costs futex wake-ups and context switches on every request). Handlers are synchronous
// and short; anything that waits goes through Waiters and never holds a thread. The only
// blocking a handler does is a synchronous group commit (DDL, transactions, multi-
// statement writes); single-statement CRUD writes commit through server/await_commit.h
// and leave the thread free while their group is written.
// Shutdown (SIGINT/SIGTERM or Shutdown()): stop accepting, wake every waiter, close
// every connection, let in-flight replies finish for a short grace period, stop the
// io threads. The caller then closes the storage engine.
// Thread-safety: Shutdown() and the accessors are thread-safe; Listen and Run are called
// once, from the main thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "commands/operation_context.h"
#include "server/asio_fwd.h"
#include "server/dispatcher.h"
#include "server/tls_context.h"
#include "server/waiters.h"
#include "util/status.h"

namespace brook::server {

class Connection;

class Server {
 public:
  // `service` must outlive the server; its engine (if any) gets the watermark listener.
  explicit Server(commands::ServiceContext& service);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS certificates (when TLS is on), then binds every address of the bind_ip
  // list (IP literals, or localhost) to the port from the service options (port 0 picks
  // a free port, shared by all the addresses).
  Status Listen();
  // Serves until Shutdown() or a SIGINT/SIGTERM; returns after the io threads stopped.
  void Run();
  void Shutdown();

  int port() const { return bound_port_; }
  bool shutting_down() const { return shutting_down_.load(); }
  int32_t NextRequestId() { return next_request_id_.fetch_add(1, std::memory_order_relaxed); }
  Dispatcher& dispatcher() { return dispatcher_; }
  Waiters& waiters() { return waiters_; }
  // The TLS context when --tlsMode is not disabled (built by Listen), else null.
  asio::ssl::context* tls_context() { return tls_context_.get(); }
  commands::ServiceContext& service() { return service_; }
  void Forget(int64_t connection_id);

 private:
  // One pass of the time-based pre-image removal (changestream/pre_image_retention.h).
  void ExpirePreImages();
  asio::awaitable<void> AcceptLoop(asio::ip::tcp::acceptor& acceptor);
  // The I/O thread the next accepted connection is pinned to.
  asio::io_context& NextIoContext();

  commands::ServiceContext& service_;
  // One per I/O thread.
  std::vector<std::unique_ptr<asio::io_context>> ios_;
  // The acceptors and the signal set, on a thread of their own so that a long request on
  // an I/O thread never delays accepting new connections. Declared after ios_, so it is
  // destroyed first: a pending accept holds a socket made for one of ios_, whose socket
  // service must outlive that operation.
  asio::io_context listener_io_{1};
  std::atomic<size_t> next_io_{0};
  std::unique_ptr<asio::ssl::context> tls_context_;
  Waiters waiters_;
  Dispatcher dispatcher_;
  // One per --bind_ip address, all on the same port, all on the listener thread.
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
  asio::signal_set signals_;
  int bound_port_ = 0;
  std::atomic<bool> shutting_down_{false};
  std::atomic<int32_t> next_request_id_{1};
  std::atomic<int64_t> next_connection_id_{1};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  std::unordered_map<int64_t, std::weak_ptr<Connection>> connections_;
};

}  // namespace brook::server
