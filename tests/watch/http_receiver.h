#pragma once
// HttpReceiver: the loopback HTTP/1.1 (or HTTPS) receiver that the http sink's tests post
// to, shared by the unit tests (tools/brook/watch/sink_test.cpp) and the end-to-end tests
// (tests/watch). It reads each request (Content-Length bodies only, which is all the
// sink sends), asks a policy how to answer, and records the bodies it answered 2xx.
//
// TLS: with a certificate and key (PEM files, e.g. from MakeTestCertificate), every
// connection is TLS; the receiver does not ask for client certificates.
// Thread-safety: one serving thread, connections one at a time (the sink keeps one);
// the accessors lock, so tests may read while the sink posts.

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace brook::testing {

class HttpReceiver {
 public:
  struct Answer {
    int status = 200;      // 0: close the connection without answering
    bool chunked = false;  // a chunked response body instead of Content-Length
    bool close = false;    // "Connection: close", then close
  };
  // Called for every request in order (n counts from 1), with its body; runs on the
  // serving thread before the answer is sent.
  using Policy = std::function<Answer(int n, const std::string& body)>;

  struct Tls {
    std::string cert_file;  // PEM chain of the server certificate
    std::string key_file;   // PEM private key
  };

  explicit HttpReceiver(Policy policy, Tls tls = {});
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  // http(s)://HOST:PORT/PATH of this receiver (HOST defaults to 127.0.0.1).
  std::string url(const std::string& path = "/events", const std::string& host = "127.0.0.1") const;
  int port() const { return port_; }

  std::string AckedBodies() const;               // 2xx-answered bodies, concatenated
  std::vector<std::string> AckedLines() const;   // the same, split into lines
  int requests() const;
  // TLS handshakes that failed (e.g. the client refused the certificate).
  int failed_handshakes() const;

  // Policies used by several tests.
  // Answers the scripted statuses in order, then 200.
  static Policy Scripted(std::vector<int> statuses, bool chunked = false, bool close_each = false);
  // Answers the first request 503 and drops the second's connection unanswered; then
  // fails every third request with 503 and drops every seventh.
  static Policy Flaky();

 private:
  class Conn;
  void Serve();
  void ServeConnection(Conn* conn);

  Policy policy_;
  void* ssl_ctx_ = nullptr;  // SSL_CTX*, kept out of the header
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::string acked_;
  int requests_ = 0;
  int failed_handshakes_ = 0;
  int active_fd_ = -1;
  bool stopping_ = false;
};

// Writes a fresh self-signed certificate (its own CA) and key for `names` (each "DNS:x"
// or "IP:x") into DIR/cert.pem and DIR/key.pem with the openssl CLI; throws on failure.
void MakeTestCertificate(const std::string& dir, const std::string& names = "DNS:localhost,IP:127.0.0.1");

}  // namespace brook::testing
