#include "server/connection.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>

#include "bson/builder.h"
#include "commands/server_options.h"
#include "commands/server_stats.h"
#include "server/logging.h"
#include "server/server.h"
#include "server/tls_context.h"
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
    : socket_(std::move(socket)),
      executor_(socket_.get_executor()),
      deadline_(executor_),
      server_(server) {
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

asio::ip::tcp::socket::lowest_layer_type& Connection::Lowest() {
  return tls_ ? tls_->lowest_layer() : socket_.lowest_layer();
}

void Connection::CloseSocket() {
  std::error_code ec;
  Lowest().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  Lowest().close(ec);
}

void Connection::Close() {
  auto self = shared_from_this();
  asio::post(executor_, [self] {
    // Serve() closes the socket itself once the reply in flight is sent.
    if (self->handling_) return;
    self->CloseSocket();
  });
}

void Connection::ArmDeadline() {
  if (deadline_armed_) return;
  deadline_armed_ = true;
  const commands::ServerOptions* opts = server_.service().options;
  const int64_t ms = opts ? opts->parameters->GetInt(commands::kParamMessageReceiveTimeoutMillis) : 60000;
  deadline_.expires_after(std::chrono::milliseconds(ms));
  const uint64_t generation = ++deadline_generation_;
  deadline_.async_wait([self = shared_from_this(), generation, ms](const std::error_code& ec) {
    if (ec || !self->deadline_armed_ || generation != self->deadline_generation_) return;
    bson::Builder attr;
    attr.AppendString("remote", self->client_.remote);
    attr.AppendInt64("messageReceiveTimeoutMillis", ms);
    attr.AppendInt64("bytesReceived", static_cast<int64_t>(self->have_));
    Log('W', "NETWORK", 8999001, self->ctx(),
        "A message did not arrive in full within messageReceiveTimeoutMillis; ending the connection",
        attr.Done());
    // Closing makes the pending read fail, which ends Serve().
    self->CloseSocket();
  });
}

void Connection::DisarmDeadline() {
  if (!deadline_armed_) return;
  deadline_armed_ = false;
  ++deadline_generation_;
  deadline_.cancel();
}

asio::awaitable<size_t> Connection::ReadSome(char* data, size_t size, std::error_code& ec) {
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  if (tls_) co_return co_await tls_->async_read_some(asio::buffer(data, size), token);
  co_return co_await socket_.async_read_some(asio::buffer(data, size), token);
}

asio::awaitable<bool> Connection::Send(std::string bytes) {
  std::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  if (tls_) {
    co_await asio::async_write(*tls_, asio::buffer(bytes), token);
  } else {
    co_await asio::async_write(socket_, asio::buffer(bytes), token);
  }
  if (ec) co_return false;
  if (auto* stats = server_.service().stats) {
    stats->bytes_out.fetch_add(static_cast<int64_t>(bytes.size()), std::memory_order_relaxed);
  }
  co_return true;
}

asio::awaitable<bool> Connection::SendError(const wire::MessageHeader& header, const Status& status) {
  bson::Doc reply = server_.dispatcher().ErrorReply(status);
  if (header.op_code == static_cast<int32_t>(wire::OpCode::kQuery)) {
    co_return co_await Send(wire::BuildOpReply(server_.NextRequestId(), header.request_id, reply));
  }
  co_return co_await Send(wire::BuildOpMsg(server_.NextRequestId(), header.request_id, 0, reply));
}

asio::awaitable<void> Connection::Run(std::shared_ptr<Connection> self) {
  co_await self->Serve();
}

asio::awaitable<bool> Connection::StartSession() {
  const commands::ServerOptions* opts = server_.service().options;
  asio::ssl::context* tls_context = server_.tls_context();
  if (!opts || !opts->tls.enabled() || !tls_context) co_return true;
  // The first 16 bytes decide (IsTlsClientHello); both a ClientHello and a message
  // header are at least that long. They are read, not peeked, so a client that stalls
  // part-way hits the receive deadline, and the TLS handshake is handed the bytes
  // already read.
  if (!co_await Fill(wire::kHeaderSize)) co_return false;
  if (!IsTlsClientHello(std::string_view(buf_.get(), have_))) {
    // Plain: fine unless TLS is required, in which case the first request gets an
    // answer that says why, instead of a bare reset the user has to guess about.
    refuse_plain_ = opts->tls.mode == commands::TlsMode::kRequireTls;
    co_return true;
  }
  tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(std::move(socket_), *tls_context);
  std::error_code ec;
  co_await tls_->async_handshake(asio::ssl::stream_base::server, asio::buffer(buf_.get(), have_),
                                 asio::redirect_error(asio::use_awaitable, ec));
  have_ = 0;
  DisarmDeadline();
  if (ec) {
    bson::Builder attr;
    attr.AppendString("remote", client_.remote);
    attr.AppendString("error", ec.message());
    Log('W', "NETWORK", 22988, ctx(), "TLS handshake failed; ending the connection", attr.Done());
    co_return false;
  }
  bson::Builder attr;
  attr.AppendString("remote", client_.remote);
  attr.AppendString("protocol", SSL_get_version(tls_->native_handle()));
  std::string subject = PeerCertificateSubject(tls_->native_handle());
  if (!subject.empty()) attr.AppendString("peerSubject", subject);
  Log('I', "NETWORK", 8999003, ctx(), "TLS connection established", attr.Done());
  co_return true;
}

asio::awaitable<bool> Connection::Fill(size_t need) {
  // Grow by doubling as bytes arrive, never to the announced length at once: a header
  // that claims a large body costs memory only once the body is really sent.
  while (have_ < need) {
    if (have_ == cap_) {
      size_t new_cap = std::min(need, std::max(kReadChunk, 2 * cap_));
      auto bigger = std::make_unique_for_overwrite<char[]>(new_cap);
      if (have_) std::memcpy(bigger.get(), buf_.get(), have_);
      buf_ = std::move(bigger);
      cap_ = new_cap;
    }
    // Waiting for the rest of a message that has begun: its clock runs. A message that
    // arrives whole in one read (the usual case) never touches the timer.
    if (have_ > 0) ArmDeadline();
    std::error_code ec;
    size_t n = co_await ReadSome(buf_.get() + have_, cap_ - have_, ec);
    if (ec) co_return false;
    have_ += n;
  }
  co_return true;
}

asio::awaitable<bool> Connection::RefuseOversized(const wire::MessageHeader& header) {
  const commands::ServerOptions* opts = server_.service().options;
  const int64_t limit = opts ? opts->max_message_size_bytes : wire::kMaxMessageSizeBytes;
  bson::Builder attr;
  attr.AppendString("remote", client_.remote);
  attr.AppendInt64("messageLength", header.message_length);
  attr.AppendInt64("maxMessageSizeBytes", limit);
  Log('W', "NETWORK", 8999002, ctx(), "Refused a message larger than maxMessageSizeBytes", attr.Done());
  // A fire-and-forget message (moreToCome) cannot be answered: end the connection.
  if (!co_await Fill(wire::kHeaderSize + 4)) co_return false;
  if (header.op_code == static_cast<int32_t>(wire::OpCode::kMsg) &&
      (wire::ReadLE32(buf_.get() + wire::kHeaderSize) & wire::kMoreToCome)) {
    co_return false;
  }
  Status st(ErrorCodes::kBSONObjectTooLarge,
            "message of " + std::to_string(header.message_length) + " bytes exceeds this server's maxMessageSizeBytes (" +
                std::to_string(limit) + ")");
  if (!co_await SendError(header, st)) co_return false;
  // Skip the body without keeping it, under the receive deadline; the connection then
  // goes on serving.
  size_t left = static_cast<size_t>(header.message_length);
  for (;;) {
    size_t drop = std::min(left, have_);
    have_ -= drop;
    if (have_) std::memmove(buf_.get(), buf_.get() + drop, have_);
    left -= drop;
    if (left == 0) break;
    if (!co_await Fill(std::min(left, cap_ ? cap_ : kReadChunk))) co_return false;
  }
  DisarmDeadline();
  co_return true;
}

asio::awaitable<void> Connection::Serve() {
  commands::ServerStats* stats = server_.service().stats;
  const commands::ServerOptions* opts = server_.service().options;
  const size_t max_message = opts ? static_cast<size_t>(opts->max_message_size_bytes) : wire::kMaxMessageSizeBytes;
  // Reading whatever is available (rather than the 16-byte header, then the body) takes
  // one recv per request instead of two; a pipelined client's next frames simply stay in
  // the buffer. The buffer is never zero-filled, so an idle connection only holds the
  // pages a request touched.
  bool ok = co_await StartSession();
  while (ok) {
    if (!co_await Fill(wire::kHeaderSize)) break;
    auto header = wire::ParseHeader(std::string_view(buf_.get(), wire::kHeaderSize));
    if (!header.ok()) {
      bson::Builder attr;
      attr.AppendString("remote", client_.remote);
      attr.AppendString("error", header.status().reason());
      const bool tls_hello = IsTlsClientHello(std::string_view(buf_.get(), wire::kHeaderSize));
      Log('W', "NETWORK", 22988, ctx(),
          tls_hello ? "TLS handshake received but the server runs with --tlsMode disabled. Ending connection"
                    : "Error receiving request from client. Ending connection from remote",
          attr.Done());
      break;
    }
    const size_t length = static_cast<size_t>(header.value().message_length);
    if (length > max_message) {
      if (!co_await RefuseOversized(header.value())) break;
      continue;
    }
    if (!co_await Fill(length)) break;
    DisarmDeadline();
    std::string frame(buf_.get(), length);
    have_ -= length;
    if (have_) std::memmove(buf_.get(), buf_.get() + length, have_);
    if (cap_ > kMaxIdleBuffer && have_ <= kReadChunk) {
      // A large message passed: do not keep its buffer for the life of the connection.
      auto smaller = std::make_unique_for_overwrite<char[]>(kReadChunk);
      if (have_) std::memcpy(smaller.get(), buf_.get(), have_);
      buf_ = std::move(smaller);
      cap_ = kReadChunk;
    }
    if (stats) {
      stats->bytes_in.fetch_add(static_cast<int64_t>(frame.size()), std::memory_order_relaxed);
      stats->requests.fetch_add(1, std::memory_order_relaxed);
    }
    if (refuse_plain_) {
      bson::Builder attr;
      attr.AppendString("remote", client_.remote);
      Log('W', "NETWORK", 22988, ctx(), "Refused a connection without TLS: the server runs with --tlsMode requireTLS",
          attr.Done());
      co_await SendError(header.value(), Status(ErrorCodes::kProtocolError,
                                                "this server requires TLS (--tlsMode requireTLS): "
                                                "connect with tls=true"));
      break;
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
  DisarmDeadline();
  CloseSocket();
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
