#include "watch/http_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace brook::watch {
namespace {

Status NetError(const std::string& what) { return Status(ErrorCodes::kHostUnreachable, what); }

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

StatusWith<HttpUrl> HttpUrl::Parse(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return Status(ErrorCodes::kBadValue, "not an http:// URL: " + url);
  std::string rest = url.substr(scheme.size());
  HttpUrl u;
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

HttpClient::~HttpClient() { Disconnect(); }

void HttpClient::Disconnect() {
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
  return Status::OK();
}

Status HttpClient::SendAll(const std::string& data) {
  size_t done = 0;
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
    for (;;) {
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) break;
    }
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
