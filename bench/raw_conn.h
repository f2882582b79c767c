#pragma once
// A bare OP_MSG connection for the benchmarks: a blocking TCP socket that sends one
// command body (section kind 0, optionally one kind-1 sequence) and reads one whole reply.
//
// Why not the C driver: on a 2-core machine the load generator shares the CPU with the
// server. A driver call costs tens of microseconds of client CPU (server selection,
// session pool, command assembly, a thread per connection); a raw socket costs little
// more than the system calls, so what the table shows is the server's limit, not the
// client's. The commands sent are shaped like the drivers' (lsid, txnNumber,
// writeConcern, a kind-1 "documents" sequence), so the server does the same work.

#include <arpa/inet.h>
#include <bson/bson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace bench {

class RawConn {
 public:
  RawConn() = default;
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool Connect(const std::string& host, uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &addr.sin_addr) != 1) return false;
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return false;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return true;
  }
  int fd() const { return fd_; }

  // Sends `cmd` as the body; with `sequence_name`, `sequence` (concatenated BSON
  // documents) follows as one kind-1 section.
  bool Send(const bson_t* cmd, const char* sequence_name = nullptr, std::string_view sequence = {}) {
    out_.clear();
    out_.resize(16);
    uint32_t flags = 0;
    out_.append(reinterpret_cast<const char*>(&flags), 4);
    out_.push_back('\0');  // section kind 0: the body
    out_.append(reinterpret_cast<const char*>(bson_get_data(cmd)), cmd->len);
    if (sequence_name) {
      out_.push_back('\1');
      int32_t size = static_cast<int32_t>(4 + std::strlen(sequence_name) + 1 + sequence.size());
      out_.append(reinterpret_cast<const char*>(&size), 4);
      out_.append(sequence_name, std::strlen(sequence_name) + 1);
      out_.append(sequence);
    }
    int32_t header[4] = {static_cast<int32_t>(out_.size()), ++request_id_, 0, 2013};  // OP_MSG
    std::memcpy(out_.data(), header, 16);
    return WriteAll(out_.data(), out_.size());
  }
  // Blocks until one whole reply is read; its body into *reply, which points into this
  // connection's buffer and stays valid until the next Receive.
  bool Receive(bson_t* reply) {
    int32_t header[4];
    if (!ReadAll(header, 16)) return false;
    if (header[0] < 21) return false;
    in_.resize(static_cast<size_t>(header[0]) - 16);
    if (!ReadAll(in_.data(), in_.size())) return false;
    const uint8_t* doc = reinterpret_cast<const uint8_t*>(in_.data()) + 5;
    uint32_t len;
    std::memcpy(&len, doc, 4);
    if (len > in_.size() - 5) return false;
    return bson_init_static(reply, doc, len);
  }

 private:
  bool WriteAll(const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::send(fd_, p, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  bool ReadAll(void* out, size_t n) {
    char* p = static_cast<char*>(out);
    while (n > 0) {
      ssize_t r = ::recv(fd_, p, n, 0);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
  int32_t request_id_ = 0;
  std::string out_;
  std::string in_;
};

}  // namespace bench
