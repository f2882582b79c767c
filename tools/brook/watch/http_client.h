#pragma once
// A minimal HTTP/1.1 client for the http(s):// sink: POST a body, read the status and
// the response (Content-Length, chunked, or until close), keep the connection alive
// between requests. No redirects.
//
// https:// is TLS (OpenSSL) with the server's certificate verified by default: against
// the system's trusted CAs, or only against `ca_file` (PEM) when one is given, and its
// name (DNS, or IP address for an IP literal) checked against the URL's host. A failed
// verification is a connection error naming the reason.
// Thread-safety: one client per thread.

#include <string>

#include "util/status.h"

namespace brook::watch {

struct HttpUrl {
  bool tls = false;
  std::string host;
  std::string port = "80";
  std::string path = "/";
  // Parses http(s)://host[:port][/path]; IPv6 hosts in brackets; port 80 or 443 by default.
  static StatusWith<HttpUrl> Parse(const std::string& url);
};

struct TlsOptions {
  std::string ca_file;  // PEM CA certificates to trust instead of the system's; "" = system
};

class HttpClient {
 public:
  explicit HttpClient(HttpUrl url, TlsOptions tls = {}, int timeout_ms = 30000)
      : url_(std::move(url)), tls_(std::move(tls)), timeout_ms_(timeout_ms) {}
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Loads the TLS trust (the CA file) for an https:// URL; an error is not retryable.
  // Post calls it too.
  Status Prepare();

  // Sends one POST; returns the response status code (any code), or a network error.
  StatusWith<int> Post(const std::string& body, const std::string& content_type);

 private:
  Status Connect();
  Status StartTls();  // after Connect, for https://
  void Disconnect();
  Status SendAll(const std::string& data);
  StatusWith<int> ReadResponse(bool* keep_alive);
  Status ReadMore();  // appends to buf_; error on EOF or timeout

  HttpUrl url_;
  TlsOptions tls_;
  int timeout_ms_;
  int fd_ = -1;
  void* ssl_ctx_ = nullptr;  // SSL_CTX*, made on the first https connection
  void* ssl_ = nullptr;      // SSL* of the open connection
  std::string buf_;
};

}  // namespace brook::watch
