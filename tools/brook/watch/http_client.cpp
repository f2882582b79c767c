#include "watch/http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace brook::watch {
namespace {

Status NetError(const std::string& what) { return Status(ErrorCodes::kHostUnreachable, what); }

// The queued OpenSSL errors as one line (and the queue cleared), or `fallback`.
std::string OpensslErrors(const std::string& fallback) {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? fallback : out;
}

bool IsIpLiteral(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return ::inet_pton(AF_INET, host.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// OpenSSL writes to the socket with write(), which raises SIGPIPE when the receiver has
// hung up: blocked for the call, and a pending one consumed, so a process that does not
// ignore SIGPIPE (the unit tests) gets EPIPE as an error instead of dying.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SigpipeBlocked() {
    timespec zero{0, 0};
    while (sigtimedwait(&set_, nullptr, &zero) >= 0 || errno == EINTR) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t set_, old_;
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

StatusWith<HttpUrl> HttpUrl::Parse(const std::string& url) {
  HttpUrl u;
  std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0) {
    scheme = "https://";
    u.tls = true;
    u.port = "443";
  } else if (url.rfind(scheme, 0) != 0) {
    return Status(ErrorCodes::kBadValue, "not an http:// or https:// URL: " + url);
  }
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) u.path = rest.substr(slash);
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return Status(ErrorCodes::kBadValue, "unclosed [ in URL: " + url);
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') u.port = authority.substr(close + 2);
  } else {
    auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) u.port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return Status(ErrorCodes::kBadValue, "no host in URL: " + url);
  if (u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos || std::stoul(u.port) > 65535)
    return Status(ErrorCodes::kBadValue, "bad port in URL: " + url);
  return u;
}

HttpClient::~HttpClient() {
  Disconnect();
  if (ssl_ctx_) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
}

Status HttpClient::Prepare() {
  if (!url_.tls || ssl_ctx_) return Status::OK();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return Status(ErrorCodes::kInternalError, OpensslErrors("cannot create a TLS context"));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // A receiver that closes without close_notify ends a response like a plain close: the
  // HTTP framing (Content-Length, chunks) already tells a complete answer from a cut one.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  int ok = tls_.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                                : SSL_CTX_load_verify_locations(ctx, tls_.ca_file.c_str(), nullptr);
  if (ok != 1) {
    SSL_CTX_free(ctx);
    std::string what = tls_.ca_file.empty() ? "the system's CA certificates" : "CA file " + tls_.ca_file;
    return Status(ErrorCodes::kBadValue, "cannot load " + what + ": " + OpensslErrors("no certificate found"));
  }
  ssl_ctx_ = ctx;
  return Status::OK();
}

Status HttpClient::StartTls() {
  BROOK_RETURN_IF_ERROR(Prepare());
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
  if (!ssl) return NetError(OpensslErrors("cannot create a TLS connection"));
  SSL_set_fd(ssl, fd_);
  SSL_set_mode(ssl, SSL_MODE_AUTO_RETRY);
  // The certificate must name the host of the URL: its IP address for an IP literal,
  // else its DNS name (also sent as SNI).
  if (IsIpLiteral(url_.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url_.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, url_.host.c_str());
    SSL_set1_host(ssl, url_.host.c_str());
  }
  int rc;
  {
    SigpipeBlocked guard;
    rc = SSL_connect(ssl);
  }
  if (rc != 1) {
    long verify = SSL_get_verify_result(ssl);
    std::string why = verify != X509_V_OK
                          ? std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify) +
                                (tls_.ca_file.empty() ? " (for a private CA, pass its certificate with --sink-ca-file)"
                                                      : " (checked against --sink-ca-file " + tls_.ca_file + ")")
                          : OpensslErrors(std::string("the connection closed: ") + std::strerror(errno));
    ERR_clear_error();
    SSL_free(ssl);
    return NetError("TLS handshake with " + url_.host + ":" + url_.port + " failed: " + why);
  }
  ssl_ = ssl;
  return Status::OK();
}

void HttpClient::Disconnect() {
  if (ssl_) {
    // No close_notify round trip: the connection is dropped either way.
    SSL_free(static_cast<SSL*>(ssl_));
    ssl_ = nullptr;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

Status HttpClient::Connect() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(url_.host.c_str(), url_.port.c_str(), &hints, &res);
  if (rc != 0) return NetError("cannot resolve " + url_.host + ": " + gai_strerror(rc));
  std::string last_error = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      fd_ = fd;
      break;
    }
    last_error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) return NetError("cannot connect to " + url_.host + ":" + url_.port + ": " + last_error);
  if (url_.tls) {
    Status s = StartTls();
    if (!s.ok()) {
      Disconnect();
      return s;
    }
  }
  return Status::OK();
}

Status HttpClient::SendAll(const std::string& data) {
  size_t done = 0;
  if (ssl_) {
    SigpipeBlocked guard;
    while (done < data.size()) {
      int n = SSL_write(static_cast<SSL*>(ssl_), data.data() + done, static_cast<int>(std::min<size_t>(data.size() - done, 1 << 30)));
      if (n <= 0) return NetError("TLS send failed: " + OpensslErrors(std::strerror(errno)));
      done += static_cast<size_t>(n);
    }
    return Status::OK();
  }
  while (done < data.size()) {
    ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return NetError(std::string("send failed: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

Status HttpClient::ReadMore() {
  char tmp[16384];
  if (ssl_) {
    int n;
    {
      SigpipeBlocked guard;  // TLS may write while reading (alerts, key updates)
      n = SSL_read(static_cast<SSL*>(ssl_), tmp, sizeof tmp);
    }
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return Status::OK();
    }
    int err = SSL_get_error(static_cast<SSL*>(ssl_), n);
    if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0)) {
      ERR_clear_error();
      return NetError("connection closed by the receiver");
    }
    return NetError("TLS receive failed: " + OpensslErrors(std::strerror(errno)));
  }
  for (;;) {
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return NetError(std::string("receive failed: ") + std::strerror(errno));
    if (n == 0) return NetError("connection closed by the receiver");
    buf_.append(tmp, static_cast<size_t>(n));
    return Status::OK();
  }
}

StatusWith<int> HttpClient::ReadResponse(bool* keep_alive) {
  size_t header_end;
  while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (buf_.size() > 64 * 1024) return NetError("response headers larger than 64 KiB");
    BROOK_RETURN_IF_ERROR(ReadMore());
  }
  std::string head = buf_.substr(0, header_end);
  buf_.erase(0, header_end + 4);
  // Status line: HTTP/1.x NNN reason
  if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12)
    return NetError("not an HTTP/1.x response: " + head.substr(0, 40));
  int code = std::atoi(head.c_str() + 9);
  bool http10 = head[7] == '0';
  *keep_alive = !http10;
  long long content_length = -1;
  bool chunked = false;
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos) {
    size_t next = head.find("\r\n", pos + 2);
    std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = Lower(line.substr(0, colon));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      if (name == "content-length") content_length = std::atoll(value.c_str());
      if (name == "transfer-encoding" && Lower(value).find("chunked") != std::string::npos) chunked = true;
      if (name == "connection") *keep_alive = Lower(value).find("close") == std::string::npos;
    }
    pos = next;
  }
  if (chunked) {
    for (;;) {
      size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos) BROOK_RETURN_IF_ERROR(ReadMore());
      long long size = std::strtoll(buf_.substr(0, eol).c_str(), nullptr, 16);
      buf_.erase(0, eol + 2);
      if (size == 0) {
        // Trailers end with an empty line.
        while ((eol = buf_.find("\r\n")) == std::string::npos) BROOK_RETURN_IF_ERROR(ReadMore());
        while (eol != 0) {
          buf_.erase(0, eol + 2);
          while ((eol = buf_.find("\r\n")) == std::string::npos) BROOK_RETURN_IF_ERROR(ReadMore());
        }
        buf_.erase(0, 2);
        break;
      }
      while (buf_.size() < static_cast<size_t>(size) + 2) BROOK_RETURN_IF_ERROR(ReadMore());
      buf_.erase(0, static_cast<size_t>(size) + 2);
    }
  } else if (content_length >= 0) {
    while (buf_.size() < static_cast<size_t>(content_length)) BROOK_RETURN_IF_ERROR(ReadMore());
    buf_.erase(0, static_cast<size_t>(content_length));
  } else if (code >= 200 && code != 204 && code != 304) {
    // No length: the body runs until the receiver closes.
    while (ReadMore().ok()) buf_.clear();
    *keep_alive = false;
  }
  return code;
}

StatusWith<int> HttpClient::Post(const std::string& body, const std::string& content_type) {
  // A kept-alive connection may have been closed by the receiver meanwhile: one fresh
  // reconnect is tried when sending on the old one fails before any response.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = fd_ < 0;
    if (fresh) BROOK_RETURN_IF_ERROR(Connect());
    std::string req = "POST " + url_.path + " HTTP/1.1\r\nHost: " + url_.host + ":" + url_.port +
                      "\r\nUser-Agent: brook-watch\r\nContent-Type: " + content_type +
                      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: keep-alive\r\n\r\n";
    Status s = SendAll(req);
    if (s.ok()) s = SendAll(body);
    if (!s.ok()) {
      Disconnect();
      if (!fresh) continue;
      return s;
    }
    bool keep_alive = true;
    auto code = ReadResponse(&keep_alive);
    if (!code.ok()) {
      Disconnect();
      if (!fresh && buf_.empty()) continue;
      return code.status();
    }
    if (!keep_alive) Disconnect();
    return code;
  }
  return NetError("connection to " + url_.host + ":" + url_.port + " failed twice");
}

}  // namespace brook::watch
