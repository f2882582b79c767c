#include "server/server.h"

#include <algorithm>
#include <chrono>
#include <csignal>

#include "bson/builder.h"
#include "changestream/pre_image_retention.h"
#include "changestream/tailer.h"
#include "commands/cursor_registry.h"
#include "commands/server_options.h"
#include "commands/server_stats.h"
#include "server/connection.h"
#include "server/logging.h"
#include "storage/engine.h"

namespace brook::server {
namespace {

std::vector<std::unique_ptr<asio::io_context>> MakeIoContexts(const commands::ServiceContext& service) {
  int threads = service.options ? service.options->io_threads : 0;
  // One per core, at least 2. Single-statement writes wait for the group commit with
  // their coroutine suspended, so a thread is rarely held; more threads than cores
  // only sleep and wake more often (docs/performance.md, "The network threads").
  if (threads <= 0) threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  std::vector<std::unique_ptr<asio::io_context>> ios;
  // Concurrency hint 1: each context is run by exactly one thread (other threads still
  // post to it, e.g. Close() and the Waiters' wake-ups, which stays safe).
  for (int i = 0; i < threads; ++i) ios.push_back(std::make_unique<asio::io_context>(1));
  return ios;
}

}  // namespace

Server::Server(commands::ServiceContext& service)
    : service_(service),
      ios_(MakeIoContexts(service)),
      waiters_([&service] {
        return service.engine ? service.engine->durable() : bson::Timestamp{};
      }),
      dispatcher_(service, waiters_),
      signals_(listener_io_, SIGINT, SIGTERM) {
  // The tailer decodes the new durable entries on its own thread, then runs the wake pass
  // again for the change streams it routed them to.
  changestream::OplogTailer* tailer = service_.change_stream_tailer;
  if (service_.engine) {
    service_.engine->SetWatermarkListener([this, tailer] {
      waiters_.OnWatermarksMoved();
      if (tailer) tailer->Notify();
    });
  }
  if (tailer) {
    tailer->SetRoutedListener(
        [this](const std::vector<const std::atomic<bool>*>& signals) { waiters_.OnSignalsRaised(signals); });
  }
  // killCursors ends the awaitData wait of a getMore on the killed cursor (CursorKilled).
  if (service_.cursors) service_.cursors->SetKillListener([this](int64_t id) { waiters_.Interrupt(id); });
}

Server::~Server() {
  // The engine and registry outlive us; detach so they never call into a dead Waiters.
  if (service_.engine) service_.engine->SetWatermarkListener([] {});
  if (service_.change_stream_tailer) service_.change_stream_tailer->SetRoutedListener(nullptr);
  if (service_.cursors) service_.cursors->SetKillListener(nullptr);
}

Status Server::Listen() {
  const commands::ServerOptions* opts = service_.options;
  if (opts && opts->tls.enabled()) {
    auto ctx = MakeTlsContext(opts->tls);
    if (!ctx.ok()) return ctx.status();
    tls_context_ = std::move(ctx.value());
  }
  auto addresses = commands::SplitBindIp(opts ? opts->bind_ip : "127.0.0.1");
  if (addresses.empty()) return Status(ErrorCodes::kBadValue, "--bind_ip names no address");
  int port = opts ? opts->port : 27017;
  for (const auto& ip : addresses) {
    std::error_code ec;
    auto address = asio::ip::make_address(ip == "localhost" ? "127.0.0.1" : ip, ec);
    if (ec) {
      return Status(ErrorCodes::kBadValue,
                    "invalid --bind_ip address '" + ip + "' (an IP address or localhost): " + ec.message());
    }
    // Port 0 asks the first bind for a free port; the others then take the same one.
    asio::ip::tcp::endpoint ep(address, static_cast<uint16_t>(bound_port_ ? bound_port_ : port));
    auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(listener_io_);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec && address.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status(ErrorCodes::kHostUnreachable,
                    "Failed to listen on " + ip + ":" + std::to_string(ep.port()) + ": " + ec.message());
    }
    bound_port_ = acceptor->local_endpoint(ec).port();
    acceptors_.push_back(std::move(acceptor));
  }
  return Status::OK();
}

asio::io_context& Server::NextIoContext() {
  return *ios_[next_io_.fetch_add(1, std::memory_order_relaxed) % ios_.size()];
}

asio::awaitable<void> Server::AcceptLoop(asio::ip::tcp::acceptor& acceptor) {
  commands::ServerStats* stats = service_.stats;
  const int64_t max_conns = service_.options ? service_.options->max_conns : 10000;
  bool accept_failing = false;
  for (;;) {
    std::error_code ec;
    asio::ip::tcp::socket socket = co_await acceptor.async_accept(
        NextIoContext(), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (shutting_down_.load() || ec == asio::error::operation_aborted) co_return;
      // E.g. EMFILE: keep serving the connections we have. The refused connection stays
      // in the backlog, so accepting again at once would fail at once, in a loop that
      // burns a core; pause instead, and say why once per episode.
      if (!accept_failing) {
        bson::Builder attr;
        attr.AppendString("error", ec.message());
        Log('W', "NETWORK", 23024, "listener", "Error accepting new connection; pausing new connections",
            attr.Done());
      }
      accept_failing = true;
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      std::error_code wait_ec;
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
      continue;
    }
    accept_failing = false;
    std::string remote;
    {
      std::error_code rec;
      auto ep = socket.remote_endpoint(rec);
      if (!rec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    // Take the slot first, then check: with one accept loop per --bind_ip address, a
    // check-then-increment could let two loops both take the last slot.
    int64_t current = stats ? stats->connections_current.fetch_add(1) + 1 : 0;
    if (current > max_conns) {
      stats->connections_current.fetch_sub(1);
      bson::Builder attr;
      attr.AppendString("remote", remote);
      attr.AppendInt64("connectionCount", current - 1);
      Log('I', "NETWORK", 22942, "listener",
          "Connection refused because there are too many open connections", attr.Done());
      std::error_code cec;
      socket.close(cec);
      continue;
    }
    int64_t id = next_connection_id_.fetch_add(1);
    if (stats) stats->connections_total_created.fetch_add(1);
    bson::Builder attr;
    attr.AppendString("remote", remote);
    attr.AppendInt64("connectionId", id);
    attr.AppendInt64("connectionCount", current);
    Log('I', "NETWORK", 22943, "listener", "Connection accepted", attr.Done());

    auto conn = std::make_shared<Connection>(std::move(socket), *this, id);
    {
      std::lock_guard lock(mu_);
      connections_[id] = conn;
    }
    // On the socket's own I/O thread, so socket operations, Close() and the connection's
    // Waiters timers all share one executor run by one thread.
    asio::co_spawn(conn->socket_executor(), Connection::Run(conn), asio::detached);
    if (shutting_down_.load()) conn->Close();
  }
}

void Server::Forget(int64_t connection_id) {
  int64_t remaining = 0;
  if (auto* stats = service_.stats) remaining = stats->connections_current.fetch_sub(1) - 1;
  {
    std::lock_guard lock(mu_);
    connections_.erase(connection_id);
  }
  bson::Builder attr;
  attr.AppendInt64("connectionId", connection_id);
  attr.AppendInt64("connectionCount", remaining);
  Log('I', "NETWORK", 22944, "conn" + std::to_string(connection_id), "Connection ended", attr.Done());
  cv_.notify_all();
}

void Server::ExpirePreImages() {
  // MongoDB's pre-image remover, on the same beat as the cursor reaper: removes
  // pre-images older than changeStreamOptions.preAndPostImages.expireAfterSeconds.
  if (!service_.engine) return;
  int64_t now_secs = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  auto removed = changestream::ExpirePreImages(service_.engine, now_secs);
  if (!removed.ok()) {
    bson::Builder attr;
    attr.AppendString("error", removed.status().ToString());
    Log('W', "STORAGE", 6278600, "PreImageRemover", "Failed to remove expired pre-images", attr.Done());
  }
}

void Server::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stop_requested_) return;
    stop_requested_ = true;
  }
  cv_.notify_all();
}

void Server::Run() {
  signals_.async_wait([this](const std::error_code& ec, int signo) {
    if (ec) return;
    bson::Builder attr;
    attr.AppendInt32("signal", signo);
    Log('I', "CONTROL", 23377, "signalProcessing", "Received signal", attr.Done());
    Shutdown();
  });
  for (auto& acceptor : acceptors_) asio::co_spawn(acceptor->get_executor(), AcceptLoop(*acceptor), asio::detached);

  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> pool;
  guards.push_back(asio::make_work_guard(listener_io_));
  pool.emplace_back([this] { listener_io_.run(); });
  for (auto& io : ios_) {
    guards.push_back(asio::make_work_guard(*io));
    pool.emplace_back([io = io.get()] { io->run(); });
  }

  std::unique_lock lock(mu_);
  // Meanwhile this thread reaps idle cursors, as MongoDB's clientCursorMonitor does every
  // clientCursorMonitorFrequencySecs (4 s); cursorTimeoutMillis is re-read each round so
  // setParameter takes effect.
  const auto reap_every = std::chrono::seconds(
      service_.options ? service_.options->parameters->GetInt(commands::kParamClientCursorMonitorFrequencySecs) : 4);
  while (!cv_.wait_for(lock, reap_every, [this] { return stop_requested_; })) {
    lock.unlock();
    if (auto* cursors = service_.cursors) {
      if (service_.options) {
        cursors->set_idle_timeout(std::chrono::milliseconds(
            service_.options->parameters->GetInt(commands::kParamCursorTimeoutMillis)));
      }
      cursors->ReapIdle(std::chrono::steady_clock::now());
    }
    ExpirePreImages();
    lock.lock();
  }

  Log('I', "CONTROL", 4784901, "signalProcessing", "Shutting down the network listener");
  shutting_down_.store(true);
  for (auto& acceptor : acceptors_) {
    asio::post(acceptor->get_executor(), [a = acceptor.get()] {
      std::error_code ec;
      a->close(ec);
    });
  }
  signals_.cancel();
  waiters_.Shutdown();
  for (auto& [id, weak] : connections_) {
    if (auto conn = weak.lock()) conn->Close();
  }
  // Let in-flight replies finish, but never hang on a stuck client.
  cv_.wait_for(lock, std::chrono::seconds(3), [this] { return connections_.empty(); });
  lock.unlock();
  for (auto& g : guards) g.reset();
  listener_io_.stop();
  for (auto& io : ios_) io->stop();
  for (auto& t : pool) t.join();
  // A commit the engine still completes posts its reply's resumption to one of ios_,
  // which must outlive that post (server/await_commit.h).
  if (service_.engine) service_.engine->WaitForAsyncCommits();
  Log('I', "NETWORK", 4784905, "signalProcessing", "Shutting down the global connection pool");
}

}  // namespace brook::server
