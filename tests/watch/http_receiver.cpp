#include "http_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace brook::testing {

// One accepted connection, plain or TLS.
class HttpReceiver::Conn {
 public:
  Conn(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~Conn() {
    if (ssl_) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
    close(fd_);
  }
  ssize_t Read(char* buf, size_t n) {
    if (ssl_) return SSL_read(ssl_, buf, static_cast<int>(n));
    return recv(fd_, buf, n, 0);
  }
  void Write(const std::string& s) {
    if (ssl_) {
      SSL_write(ssl_, s.data(), static_cast<int>(s.size()));
    } else {
      send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
    }
  }

 private:
  int fd_;
  SSL* ssl_;
};

HttpReceiver::HttpReceiver(Policy policy, Tls tls) : policy_(std::move(policy)) {
  if (!tls.cert_file.empty()) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      throw std::runtime_error("HttpReceiver: cannot load " + tls.cert_file + " / " + tls.key_file);
    ssl_ctx_ = ctx;
  }
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t l = sizeof a;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &l) != 0 || listen(fd_, 16) != 0)
    throw std::runtime_error("HttpReceiver: cannot listen on loopback");
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

HttpReceiver::~HttpReceiver() {
  {
    // Wakes the serving thread wherever it waits: in accept, or reading a kept-alive
    // connection.
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (active_fd_ >= 0) shutdown(active_fd_, SHUT_RDWR);
  }
  shutdown(fd_, SHUT_RDWR);
  close(fd_);
  thread_.join();
  if (ssl_ctx_) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
}

std::string HttpReceiver::url(const std::string& path, const std::string& host) const {
  return std::string(ssl_ctx_ ? "https://" : "http://") + host + ":" + std::to_string(port_) + path;
}

std::string HttpReceiver::AckedBodies() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acked_;
}

std::vector<std::string> HttpReceiver::AckedLines() const {
  std::string all = AckedBodies();
  std::vector<std::string> out;
  size_t p = 0, q;
  while ((q = all.find('\n', p)) != std::string::npos) {
    out.push_back(all.substr(p, q - p));
    p = q + 1;
  }
  return out;
}

int HttpReceiver::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int HttpReceiver::failed_handshakes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_handshakes_;
}

void HttpReceiver::Serve() {
  // Writing to a client that hung up (an answer, TLS's close_notify) raises SIGPIPE in
  // the writing thread; test binaries do not ignore it, so this thread blocks it and
  // gets EPIPE instead.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  for (;;) {
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;  // the listening socket was shut down
    // A client that stops talking must not wedge the receiver (or its destructor).
    timeval tv{10, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        close(c);
        return;
      }
      active_fd_ = c;
    }
    SSL* ssl = nullptr;
    if (ssl_ctx_) {
      ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) != 1) {
        ERR_clear_error();
        SSL_free(ssl);
        close(c);
        std::lock_guard<std::mutex> lock(mu_);
        active_fd_ = -1;
        ++failed_handshakes_;
        continue;
      }
    }
    Conn conn(c, ssl);
    ServeConnection(&conn);
    std::lock_guard<std::mutex> lock(mu_);
    active_fd_ = -1;  // before conn closes the descriptor, which may then be reused
  }
}

void HttpReceiver::ServeConnection(Conn* conn) {
  std::string buf;
  auto read_more = [&] {
    char tmp[65536];
    ssize_t r = conn->Read(tmp, sizeof tmp);
    if (r <= 0) return false;
    buf.append(tmp, static_cast<size_t>(r));
    return true;
  };
  for (;;) {
    size_t he;
    while ((he = buf.find("\r\n\r\n")) == std::string::npos)
      if (!read_more()) return;
    std::string head = buf.substr(0, he);
    size_t at = head.find("Content-Length: ");
    size_t cl = at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
    buf.erase(0, he + 4);
    while (buf.size() < cl)
      if (!read_more()) return;
    std::string body = buf.substr(0, cl);
    buf.erase(0, cl);
    int n;
    {
      std::lock_guard<std::mutex> lock(mu_);
      n = ++requests_;
    }
    Answer a = policy_(n, body);
    if (a.status == 0) return;  // hang up without answering
    if (a.status / 100 == 2) {
      std::lock_guard<std::mutex> lock(mu_);
      acked_ += body;
    }
    std::string reply = "HTTP/1.1 " + std::to_string(a.status) + " X\r\n";
    if (a.close) reply += "Connection: close\r\n";
    reply += a.chunked ? "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" : "Content-Length: 2\r\n\r\nok";
    conn->Write(reply);
    if (a.close) return;
  }
}

HttpReceiver::Policy HttpReceiver::Scripted(std::vector<int> statuses, bool chunked, bool close_each) {
  return [statuses = std::move(statuses), chunked, close_each](int n, const std::string&) {
    Answer a;
    a.status = n <= static_cast<int>(statuses.size()) ? statuses[static_cast<size_t>(n - 1)] : 200;
    a.chunked = chunked;
    a.close = close_each;
    return a;
  };
}

HttpReceiver::Policy HttpReceiver::Flaky() {
  return [](int n, const std::string&) {
    Answer a;
    // The first two requests fail (however few a fast sender needs), then the pattern.
    a.status = n == 1 ? 503 : n == 2 ? 0 : n % 7 == 0 ? 0 : n % 3 == 0 ? 503 : 200;
    return a;
  };
}

void MakeTestCertificate(const std::string& dir, const std::string& names) {
  // An EC key is quick to make; -x509 makes it self-signed, so it is its own CA file.
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "
                    "/CN=brook-test -addext 'subjectAltName=" +
                    names + "' -keyout '" + dir + "/key.pem' -out '" + dir + "/cert.pem' >/dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  if (rc != 0) throw std::runtime_error("openssl req failed (" + std::to_string(rc) + "): " + cmd);
}

}  // namespace brook::testing
