#include "server/connection.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "bson/builder.h"
#include "commands/server_stats.h"
#include "server/logging.h"
#include "server/server.h"
#include "wire/compression.h"

namespace brook::server {
namespace {

constexpr size_t kReadChunk = 8 * 1024;
constexpr size_t kMaxIdleBuffer = 64 * 1024;

std::string Endpoint(const asio::ip::tcp::endpoint& ep) {
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

bool ReplyOk(bson::View reply) {
  auto ok = reply["ok"];
  return ok.IsNumber() && ok.NumberDouble() == 1.0;
}

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, Server& server, int64_t id)
    : socket_(std::move(socket)), server_(server) {
  client_.connection_id = id;
  std::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  if (!ec) {
    client_.remote = Endpoint(remote);
    client_.is_loopback = remote.address().is_loopback();
  }
  auto local = socket_.local_endpoint(ec);
  if (!ec) client_.local = Endpoint(local);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

Connection::~Connection() = default;

void Connection::Close() {
  auto self = shared_from_this();
  asio::post(socket_.get_executor(), [self] {
    // Serve() closes the socket itself once the reply in flight is sent.
    if (self->handling_) return;
    std::error_code ec;
    self->socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    self->socket_.close(ec);
  });
}

asio::awaitable<bool> Connection::Send(std::string bytes) {
  std::error_code ec;
  co_await asio::async_write(socket_, asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  if (auto* stats = server_.service().stats) {
    stats->bytes_out.fetch_add(static_cast<int64_t>(bytes.size()), std::memory_order_relaxed);
  }
  co_return true;
}

asio::awaitable<void> Connection::Run(std::shared_ptr<Connection> self) {
  co_await self->Serve();
}

asio::awaitable<void> Connection::Serve() {
  commands::ServerStats* stats = server_.service().stats;
  // Received bytes not handled yet are [0, have) of `buf`. Reading whatever is available
  // (rather than the 16-byte header, then the body) takes one recv per request instead
  // of two; a pipelined client's next frames simply stay in the buffer. The buffer is
  // never zero-filled, so an idle connection only holds the pages a request touched.
  std::unique_ptr<char[]> buf;
  size_t cap = 0;
  size_t have = 0;
  auto fill = [&](size_t need) -> asio::awaitable<bool> {
    if (cap < need) {
      size_t new_cap = std::max(need, kReadChunk);
      auto bigger = std::make_unique_for_overwrite<char[]>(new_cap);
      if (have) std::memcpy(bigger.get(), buf.get(), have);
      buf = std::move(bigger);
      cap = new_cap;
    }
    while (have < need) {
      std::error_code ec;
      size_t n = co_await socket_.async_read_some(asio::buffer(buf.get() + have, cap - have),
                                                  asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
      have += n;
    }
    co_return true;
  };
  for (;;) {
    if (!co_await fill(wire::kHeaderSize)) break;
    auto header = wire::ParseHeader(std::string_view(buf.get(), wire::kHeaderSize));
    if (!header.ok()) {
      bson::Builder attr;
      attr.AppendString("remote", client_.remote);
      attr.AppendString("error", header.status().reason());
      Log('W', "NETWORK", 22988, ctx(), "Error receiving request from client. Ending connection from remote",
          attr.Done());
      break;
    }
    const size_t length = static_cast<size_t>(header.value().message_length);
    if (!co_await fill(length)) break;
    std::string frame(buf.get(), length);
    have -= length;
    if (have) std::memmove(buf.get(), buf.get() + length, have);
    if (cap > kMaxIdleBuffer && have <= kReadChunk) {
      // A large message passed: do not keep its buffer for the life of the connection.
      auto smaller = std::make_unique_for_overwrite<char[]>(kReadChunk);
      if (have) std::memcpy(smaller.get(), buf.get(), have);
      buf = std::move(smaller);
      cap = kReadChunk;
    }
    if (stats) {
      stats->bytes_in.fetch_add(static_cast<int64_t>(frame.size()), std::memory_order_relaxed);
      stats->requests.fetch_add(1, std::memory_order_relaxed);
    }
    bool keep = false;
    try {
      handling_ = true;
      keep = co_await HandleFrame(std::move(frame), header.value());
      handling_ = false;
    } catch (const std::exception& e) {
      bson::Builder attr;
      attr.AppendString("error", e.what());
      Log('E', "NETWORK", 23077, ctx(), "Unexpected error on connection; closing it", attr.Done());
      handling_ = false;
      keep = false;
    }
    if (!keep || server_.shutting_down()) break;
  }
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  server_.Forget(client_.connection_id);
}

asio::awaitable<bool> Connection::HandleFrame(std::string frame, wire::MessageHeader header) {
  int compressor_id = -1;
  if (header.op_code == static_cast<int32_t>(wire::OpCode::kCompressed)) {
    auto inflated = wire::DecompressMessage(frame);
    if (!inflated.ok()) {
      bson::Builder attr;
      attr.AppendString("remote", client_.remote);
      attr.AppendString("error", inflated.status().reason());
      Log('W', "NETWORK", 22988, ctx(), "Error decompressing message. Ending connection", attr.Done());
      co_return false;
    }
    compressor_id = static_cast<uint8_t>(frame[wire::kHeaderSize + 8]);
    frame = std::move(inflated.value());
    header.op_code = wire::ReadLE32(frame.data() + 12);
    header.message_length = static_cast<int32_t>(frame.size());
  }
  switch (static_cast<wire::OpCode>(header.op_code)) {
    case wire::OpCode::kMsg:
      co_return co_await HandleMsg(frame, header, compressor_id);
    case wire::OpCode::kQuery:
      co_return co_await HandleQuery(frame, header);
    default: {
      bson::Builder attr;
      attr.AppendInt32("opCode", header.op_code);
      Log('W', "NETWORK", 22988, ctx(), "Unsupported opCode inside OP_COMPRESSED. Ending connection",
          attr.Done());
      co_return false;
    }
  }
}

asio::awaitable<bool> Connection::HandleMsg(const std::string& frame,
                                            const wire::MessageHeader& header, int compressor_id) {
  auto msg = wire::ParseOpMsg(frame);
  if (!msg.ok()) {
    if (wire::PeekOpMsgFlags(frame) & wire::kMoreToCome) co_return false;  // cannot answer
    bson::Doc reply = server_.dispatcher().ErrorReply(msg.status());
    co_return co_await Send(wire::BuildOpMsg(server_.NextRequestId(), header.request_id, 0, reply));
  }
  const bool more_to_come = msg.value().more_to_come();
  const bool checksum = msg.value().checksum_present();
  const bool exhaust_allowed = msg.value().exhaust_allowed();
  bson::View body = msg.value().body;
  int32_t response_to = header.request_id;
  for (;;) {
    DispatchResult r = co_await server_.dispatcher().Dispatch(client_, body);
    if (r.close_connection) co_return false;
    if (more_to_come) co_return true;  // w:0 and friends: no reply at all

    bool exhaust = exhaust_allowed && !server_.shutting_down() && ReplyOk(r.reply) &&
                   ((r.command == "hello" && r.awaited_hello) ||
                    (r.command == "getMore" && r.cursor_id != 0));
    uint32_t flags = (checksum ? wire::kChecksumPresent : 0) | (exhaust ? wire::kMoreToCome : 0);
    int32_t reply_id = server_.NextRequestId();
    std::string out = wire::BuildOpMsg(reply_id, response_to, flags, r.reply);

    // Reply with the request's compressor, else the one negotiated in hello; never
    // compress hello or authentication replies.
    if (r.compressible) {
      std::optional<wire::Compressor> c;
      if (compressor_id >= 0) {
        c = static_cast<wire::Compressor>(compressor_id);
      } else if (!client_.compressor.empty()) {
        c = wire::CompressorFromName(client_.compressor);
      }
      if (c) {
        auto packed = wire::CompressMessage(out, *c);
        if (packed.ok()) out = std::move(packed.value());
      }
    }
    if (!co_await Send(std::move(out))) co_return false;
    if (!exhaust) co_return true;
    response_to = reply_id;
  }
}

asio::awaitable<bool> Connection::HandleQuery(const std::string& frame,
                                              const wire::MessageHeader& header) {
  auto reply_with = [&](const bson::Doc& doc) {
    return Send(wire::BuildOpReply(server_.NextRequestId(), header.request_id, doc));
  };
  auto q = wire::ParseOpQuery(frame);
  if (!q.ok()) co_return co_await reply_with(server_.dispatcher().ErrorReply(q.status()));

  const std::string& ns = q.value().full_collection_name;
  bson::View query = q.value().query;
  // Legacy drivers wrap the command as {$query: {...}, $readPreference: ...}.
  if (auto wrapped = query["$query"]; wrapped.IsObject()) query = wrapped.Obj();
  std::string_view name = query.empty() ? std::string_view() : query.first().key();
  const bool is_cmd_ns = ns.size() > 5 && ns.compare(ns.size() - 5, 5, ".$cmd") == 0;
  if (!is_cmd_ns || !(name == "hello" || name == "isMaster" || name == "ismaster")) {
    std::string what = is_cmd_ns ? std::string(name) : "find";
    Status st(ErrorCodes::kUnsupportedOpQueryCommand,
              "Unsupported OP_QUERY command: " + what +
                  ". The client driver may require an upgrade. For more details see "
                  "https://dochub.mongodb.org/core/legacy-opcode-removal");
    co_return co_await reply_with(server_.dispatcher().ErrorReply(st));
  }
  std::string db = ns.substr(0, ns.find('.'));
  bson::Builder body;
  for (const auto& e : query) {
    if (e.key() != "$db") body.Append(e);
  }
  body.AppendString("$db", db);
  bson::Doc cmd = body.Done();
  DispatchResult r = co_await server_.dispatcher().Dispatch(client_, cmd);
  if (r.close_connection) co_return false;
  co_return co_await reply_with(r.reply);
}

}  // namespace brook::server
