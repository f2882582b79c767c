#include "mock_server.h"

#include <arpa/inet.h>
#include <bson/bson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace brook::testing {
namespace {

constexpr int32_t kOpReply = 1, kOpQuery = 2004, kOpMsg = 2013;

std::string TokenHex(int64_t pos, bool event) {
  char hex[40];
  std::snprintf(hex, sizeof hex, "8200000064%08X%s", static_cast<unsigned>(pos), event ? "01" : "00");
  return hex;
}

int64_t PosOfToken(const bson_t* tok) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, tok, "_data") || !BSON_ITER_HOLDS_UTF8(&it)) return 0;
  std::string d = bson_iter_utf8(&it, nullptr);
  return d.size() >= 18 ? static_cast<int64_t>(std::stoul(d.substr(10, 8), nullptr, 16)) : 0;
}

void AppendToken(bson_t* b, const char* key, int64_t pos, bool event) {
  bson_t t;
  BSON_APPEND_DOCUMENT_BEGIN(b, key, &t);
  BSON_APPEND_UTF8(&t, "_data", TokenHex(pos, event).c_str());
  bson_append_document_end(b, &t);
}

void AppendEvent(bson_t* b, const char* key, int64_t i, int pad) {
  bson_t ev, ns, dk, fd;
  BSON_APPEND_DOCUMENT_BEGIN(b, key, &ev);
  AppendToken(&ev, "_id", i + 1, true);
  BSON_APPEND_UTF8(&ev, "operationType", "insert");
  BSON_APPEND_TIMESTAMP(&ev, "clusterTime", 100, static_cast<uint32_t>(i + 1));
  BSON_APPEND_DOCUMENT_BEGIN(&ev, "ns", &ns);
  BSON_APPEND_UTF8(&ns, "db", "mock");
  BSON_APPEND_UTF8(&ns, "coll", "c");
  bson_append_document_end(&ev, &ns);
  BSON_APPEND_DOCUMENT_BEGIN(&ev, "documentKey", &dk);
  BSON_APPEND_INT64(&dk, "_id", i);
  bson_append_document_end(&ev, &dk);
  BSON_APPEND_DOCUMENT_BEGIN(&ev, "fullDocument", &fd);
  BSON_APPEND_INT64(&fd, "_id", i);
  std::string p(static_cast<size_t>(pad), static_cast<char>('a' + i % 26));
  BSON_APPEND_UTF8(&fd, "pad", p.c_str());
  bson_append_document_end(&ev, &fd);
  bson_append_document_end(b, &ev);
}

bool ReadFull(int fd, char* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = recv(fd, buf + done, n - done, 0);
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

void WriteFull(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t r = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (r <= 0) return;
    done += static_cast<size_t>(r);
  }
}

void PutI32(std::string* s, int32_t v) { s->append(reinterpret_cast<const char*>(&v), 4); }

std::string Frame(int32_t request_id, int32_t response_to, int32_t op, const std::string& body) {
  std::string out;
  PutI32(&out, static_cast<int32_t>(16 + body.size()));
  PutI32(&out, request_id);
  PutI32(&out, response_to);
  PutI32(&out, op);
  return out + body;
}

}  // namespace

MockChangeStreamServer::MockChangeStreamServer(int pad_bytes) : pad_bytes_(pad_bytes) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t l = sizeof a;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &l);
  port_ = ntohs(a.sin_port);
  listen(listen_fd_, 64);
  acceptor_ = std::thread([this] { Accept(); });
}

MockChangeStreamServer::~MockChangeStreamServer() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  close(listen_fd_);
  acceptor_.join();
  cv_.notify_all();
  {
    std::lock_guard<std::mutex> lock(conn_mu_);
    for (int fd : conn_fds_) shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : conns_) t.join();
}

std::string MockChangeStreamServer::uri() const {
  return "mongodb://127.0.0.1:" + std::to_string(port_) + "/?directConnection=true";
}

void MockChangeStreamServer::AddEvents(int64_t n) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    total_ += n;
  }
  cv_.notify_all();
}

int64_t MockChangeStreamServer::total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

std::string MockChangeStreamServer::EventJson(int64_t i) const {
  bson_t wrap = BSON_INITIALIZER;
  AppendEvent(&wrap, "e", i, pad_bytes_);
  bson_iter_t it;
  bson_iter_init_find(&it, &wrap, "e");
  uint32_t len;
  const uint8_t* data;
  bson_iter_document(&it, &len, &data);
  bson_t ev;
  bson_init_static(&ev, data, len);
  char* s = bson_as_relaxed_extended_json(&ev, nullptr);
  std::string out = s;
  bson_free(s);
  bson_destroy(&wrap);
  return out;
}

void MockChangeStreamServer::FailGetMores(int n, int code, bool resumable) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_left_ = n;
  fail_code_ = code;
  fail_resumable_ = resumable;
}

void MockChangeStreamServer::Accept() {
  while (!stopping_) {
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(conn_mu_);
    conn_fds_.push_back(fd);
    conns_.emplace_back([this, fd] { Serve(fd); });
  }
}

void MockChangeStreamServer::Serve(int fd) {
  int32_t next_id = 1;
  for (;;) {
    int32_t header[4];
    if (!ReadFull(fd, reinterpret_cast<char*>(header), 16)) break;
    int32_t len = header[0];
    if (len < 16 || len > 48 * 1024 * 1024) break;
    std::string body(static_cast<size_t>(len - 16), '\0');
    if (!ReadFull(fd, body.data(), body.size())) break;
    bool close_conn = false;
    if (header[3] == kOpQuery) {
      // flags, cstring collection, skip, return, query
      size_t p = 4;
      p = body.find('\0', p) + 1 + 8;
      std::string reply = Handle(body.substr(p), &close_conn, {});
      std::string rb;
      PutI32(&rb, 0);
      int64_t cursor = 0;
      rb.append(reinterpret_cast<const char*>(&cursor), 8);
      PutI32(&rb, 0);
      PutI32(&rb, 1);
      rb += reply;
      WriteFull(fd, Frame(next_id++, header[1], kOpReply, rb));
    } else if (header[3] == kOpMsg) {
      // flagBits, then sections; only kind 0 (the command) matters here.
      size_t p = 4;
      std::string cmd;
      std::vector<std::string> seq;  // kind-1 document sequence (e.g. an update's "updates")
      while (p < body.size()) {
        char kind = body[p++];
        int32_t size;
        std::memcpy(&size, body.data() + p, 4);
        if (kind == 0 && cmd.empty()) cmd = body.substr(p, static_cast<size_t>(size));
        if (kind == 1) {
          size_t q = body.find('\0', p + 4) + 1;
          size_t end = p + static_cast<size_t>(size);
          while (q + 4 <= end) {
            int32_t dlen;
            std::memcpy(&dlen, body.data() + q, 4);
            seq.push_back(body.substr(q, static_cast<size_t>(dlen)));
            q += static_cast<size_t>(dlen);
          }
        }
        p += static_cast<size_t>(size);
      }
      std::string reply = Handle(cmd, &close_conn, seq);
      if (close_conn) break;
      std::string rb;
      PutI32(&rb, 0);
      rb.push_back('\0');
      rb += reply;
      WriteFull(fd, Frame(next_id++, header[1], kOpMsg, rb));
    } else {
      break;
    }
  }
  close(fd);
}

std::string MockChangeStreamServer::Handle(const std::string& cmd_bytes, bool* close_conn,
                                           const std::vector<std::string>& seq) {
  bson_t cmd;
  bson_t reply = BSON_INITIALIZER;
  if (!bson_init_static(&cmd, reinterpret_cast<const uint8_t*>(cmd_bytes.data()), cmd_bytes.size())) {
    *close_conn = true;
    return "";
  }
  bson_iter_t it;
  bson_iter_init(&it, &cmd);
  bson_iter_next(&it);
  std::string name = bson_iter_key(&it);
  std::unique_lock<std::mutex> lock(mu_);
  auto op_time = [&] { BSON_APPEND_TIMESTAMP(&reply, "operationTime", 100, static_cast<uint32_t>(total_)); };
  auto fill_batch = [&](bson_t* target, Cursor* c, const char* key, int32_t limit) {
    bson_t arr;
    BSON_APPEND_ARRAY_BEGIN(target, key, &arr);
    int32_t n = 0;
    while (c->pos < total_ && n < limit) {
      std::string k = std::to_string(n++);
      AppendEvent(&arr, k.c_str(), c->pos++, pad_bytes_);
    }
    bson_append_array_end(target, &arr);
    return n;
  };
  if (name == "hello" || name == "isMaster" || name == "ismaster") {
    std::string host = "127.0.0.1:" + std::to_string(port_);
    BSON_APPEND_BOOL(&reply, "helloOk", true);
    BSON_APPEND_BOOL(&reply, "ismaster", true);
    BSON_APPEND_BOOL(&reply, "isWritablePrimary", true);
    BSON_APPEND_UTF8(&reply, "setName", "mock");
    BSON_APPEND_UTF8(&reply, "me", host.c_str());
    BSON_APPEND_UTF8(&reply, "primary", host.c_str());
    bson_t hosts;
    BSON_APPEND_ARRAY_BEGIN(&reply, "hosts", &hosts);
    BSON_APPEND_UTF8(&hosts, "0", host.c_str());
    bson_append_array_end(&reply, &hosts);
    BSON_APPEND_INT32(&reply, "maxBsonObjectSize", 16 * 1024 * 1024);
    BSON_APPEND_INT32(&reply, "maxMessageSizeBytes", 48000000);
    BSON_APPEND_INT32(&reply, "maxWriteBatchSize", 100000);
    BSON_APPEND_INT32(&reply, "minWireVersion", 0);
    BSON_APPEND_INT32(&reply, "maxWireVersion", 17);
    BSON_APPEND_INT32(&reply, "logicalSessionTimeoutMinutes", 30);
    BSON_APPEND_INT32(&reply, "connectionId", 1);
    BSON_APPEND_DOUBLE(&reply, "ok", 1);
  } else if (name == "aggregate" && fail_left_ > 0 && fail_code_ != 0) {
    // Failing the driver's own resume too makes brook's resume (with backoff) run.
    --fail_left_;
    BSON_APPEND_DOUBLE(&reply, "ok", 0);
    BSON_APPEND_INT32(&reply, "code", fail_code_);
    BSON_APPEND_UTF8(&reply, "codeName", "Injected");
    BSON_APPEND_UTF8(&reply, "errmsg", "injected by the mock");
    bson_t labels;
    BSON_APPEND_ARRAY_BEGIN(&reply, "errorLabels", &labels);
    if (fail_resumable_) BSON_APPEND_UTF8(&labels, "0", "ResumableChangeStreamError");
    bson_append_array_end(&reply, &labels);
  } else if (name == "aggregate") {
    ++aggregates_;
    Cursor c{next_cursor_++, total_, 100};
    bson_iter_t f;
    bson_t stage;
    bool found_stage = false;
    if (bson_iter_init(&f, &cmd) && bson_iter_find_descendant(&f, "pipeline.0.$changeStream", &f) &&
        BSON_ITER_HOLDS_DOCUMENT(&f)) {
      uint32_t len;
      const uint8_t* data;
      bson_iter_document(&f, &len, &data);
      bson_init_static(&stage, data, len);
      found_stage = true;
    }
    if (found_stage) {
      bson_iter_t o;
      for (const char* key : {"resumeAfter", "startAfter"}) {
        if (bson_iter_init_find(&o, &stage, key) && BSON_ITER_HOLDS_DOCUMENT(&o)) {
          uint32_t len;
          const uint8_t* data;
          bson_iter_document(&o, &len, &data);
          bson_t tok;
          bson_init_static(&tok, data, len);
          c.pos = PosOfToken(&tok);
        }
      }
      if (bson_iter_init_find(&o, &stage, "startAtOperationTime") && BSON_ITER_HOLDS_TIMESTAMP(&o)) {
        uint32_t t, i;
        bson_iter_timestamp(&o, &t, &i);
        c.pos = i > 0 ? i - 1 : 0;
      }
    }
    if (bson_iter_init(&f, &cmd) && bson_iter_find_descendant(&f, "cursor.batchSize", &f))
      c.batch = static_cast<int32_t>(bson_iter_as_int64(&f));
    bson_t cur = BSON_INITIALIZER;
    fill_batch(&cur, &c, "firstBatch", c.batch);
    AppendToken(&cur, "postBatchResumeToken", c.pos, false);
    BSON_APPEND_INT64(&cur, "id", c.id);
    BSON_APPEND_UTF8(&cur, "ns", "mock.c");
    BSON_APPEND_DOCUMENT(&reply, "cursor", &cur);
    bson_destroy(&cur);
    if (c.batch == 0) c.batch = 100;
    cursors_.push_back(c);
    op_time();
    BSON_APPEND_DOUBLE(&reply, "ok", 1);
  } else if (name == "getMore") {
    ++getmores_;
    int64_t id = bson_iter_as_int64(&it);
    Cursor* c = nullptr;
    for (auto& x : cursors_)
      if (x.id == id) c = &x;
    if (fail_left_ > 0) {
      --fail_left_;
      if (fail_code_ == 0) {
        *close_conn = true;
        bson_destroy(&reply);
        return "";
      }
      BSON_APPEND_DOUBLE(&reply, "ok", 0);
      BSON_APPEND_INT32(&reply, "code", fail_code_);
      BSON_APPEND_UTF8(&reply, "codeName", fail_code_ == 286 ? "ChangeStreamHistoryLost" : "Injected");
      BSON_APPEND_UTF8(&reply, "errmsg", "injected by the mock");
      bson_t labels;
      BSON_APPEND_ARRAY_BEGIN(&reply, "errorLabels", &labels);
      if (fail_resumable_) BSON_APPEND_UTF8(&labels, "0", "ResumableChangeStreamError");
      bson_append_array_end(&reply, &labels);
    } else if (!c) {
      BSON_APPEND_DOUBLE(&reply, "ok", 0);
      BSON_APPEND_INT32(&reply, "code", 43);
      BSON_APPEND_UTF8(&reply, "codeName", "CursorNotFound");
      BSON_APPEND_UTF8(&reply, "errmsg", "cursor id not found");
      bson_t labels;
      BSON_APPEND_ARRAY_BEGIN(&reply, "errorLabels", &labels);
      BSON_APPEND_UTF8(&labels, "0", "ResumableChangeStreamError");
      bson_append_array_end(&reply, &labels);
    } else {
      int32_t limit = c->batch;
      bson_iter_t f;
      if (bson_iter_init_find(&f, &cmd, "batchSize")) limit = static_cast<int32_t>(bson_iter_as_int64(&f));
      if (limit <= 0) limit = 100;
      int64_t wait_ms = 200;
      if (bson_iter_init_find(&f, &cmd, "maxTimeMS")) wait_ms = std::min<int64_t>(bson_iter_as_int64(&f), 200);
      cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stopping_ || total_ > c->pos; });
      bson_t cur = BSON_INITIALIZER;
      int32_t n = fill_batch(&cur, c, "nextBatch", limit);
      // A full batch ends at its last event's token; an exhausted one at the head.
      AppendToken(&cur, "postBatchResumeToken", c->pos, n == limit && c->pos < total_);
      BSON_APPEND_INT64(&cur, "id", c->id);
      BSON_APPEND_UTF8(&cur, "ns", "mock.c");
      BSON_APPEND_DOCUMENT(&reply, "cursor", &cur);
      bson_destroy(&cur);
      op_time();
      BSON_APPEND_DOUBLE(&reply, "ok", 1);
    }
  } else if (name == "update") {
    // A replace-by-_id with upsert (the mongodb: checkpoint store): keep the document.
    bson_iter_t f;
    std::string upd;
    if (!seq.empty()) {
      upd = seq.front();
    } else if (bson_iter_init(&f, &cmd) && bson_iter_find_descendant(&f, "updates.0", &f) &&
               BSON_ITER_HOLDS_DOCUMENT(&f)) {
      uint32_t len;
      const uint8_t* data;
      bson_iter_document(&f, &len, &data);
      upd.assign(reinterpret_cast<const char*>(data), len);
    }
    bson_t u;
    if (!upd.empty() && bson_init_static(&u, reinterpret_cast<const uint8_t*>(upd.data()), upd.size())) {
      bson_iter_t q, id, doc;
      if (bson_iter_init(&q, &u) && bson_iter_find_descendant(&q, "q._id", &id) && BSON_ITER_HOLDS_UTF8(&id) &&
          bson_iter_init_find(&doc, &u, "u") && BSON_ITER_HOLDS_DOCUMENT(&doc)) {
        uint32_t len;
        const uint8_t* data;
        bson_iter_document(&doc, &len, &data);
        docs_[bson_iter_utf8(&id, nullptr)] = std::string(reinterpret_cast<const char*>(data), len);
      }
    }
    BSON_APPEND_INT32(&reply, "n", 1);
    BSON_APPEND_INT32(&reply, "nModified", 1);
    BSON_APPEND_DOUBLE(&reply, "ok", 1);
  } else if (name == "find") {
    bson_iter_t f;
    bson_t cur = BSON_INITIALIZER, arr;
    BSON_APPEND_ARRAY_BEGIN(&cur, "firstBatch", &arr);
    if (bson_iter_init(&f, &cmd) && bson_iter_find_descendant(&f, "filter._id", &f) && BSON_ITER_HOLDS_UTF8(&f)) {
      auto found = docs_.find(bson_iter_utf8(&f, nullptr));
      if (found != docs_.end()) {
        bson_t d;
        bson_init_static(&d, reinterpret_cast<const uint8_t*>(found->second.data()), found->second.size());
        BSON_APPEND_DOCUMENT(&arr, "0", &d);
      }
    }
    bson_append_array_end(&cur, &arr);
    BSON_APPEND_INT64(&cur, "id", 0);
    BSON_APPEND_UTF8(&cur, "ns", "mock.checkpoints");
    BSON_APPEND_DOCUMENT(&reply, "cursor", &cur);
    bson_destroy(&cur);
    op_time();
    BSON_APPEND_DOUBLE(&reply, "ok", 1);
  } else {
    // ping, killCursors, endSessions, ...: acknowledge.
    op_time();
    BSON_APPEND_DOUBLE(&reply, "ok", 1);
  }
  std::string out(reinterpret_cast<const char*>(bson_get_data(&reply)), reply.len);
  bson_destroy(&reply);
  return out;
}

}  // namespace brook::testing
