#pragma once
// A minimal HTTP/1.1 client over plain TCP for the http:// sink: POST a body, read the
// status and the response (Content-Length, chunked, or until close), keep the connection
// alive between requests. No TLS (https:// is refused by flag validation), no redirects.
//
// Thread-safety: one client per thread.

#include <string>

#include "util/status.h"

namespace brook::watch {

struct HttpUrl {
  std::string host;
  std::string port = "80";
  std::string path = "/";
  // Parses http://host[:port][/path]; IPv6 hosts in brackets.
  static StatusWith<HttpUrl> Parse(const std::string& url);
};

class HttpClient {
 public:
  explicit HttpClient(HttpUrl url, int timeout_ms = 30000) : url_(std::move(url)), timeout_ms_(timeout_ms) {}
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one POST; returns the response status code (any code), or a network error.
  StatusWith<int> Post(const std::string& body, const std::string& content_type);

 private:
  Status Connect();
  void Disconnect();
  Status SendAll(const std::string& data);
  StatusWith<int> ReadResponse(bool* keep_alive);
  Status ReadMore();  // appends to buf_; error on EOF or timeout

  HttpUrl url_;
  int timeout_ms_;
  int fd_ = -1;
  std::string buf_;
};

}  // namespace brook::watch
