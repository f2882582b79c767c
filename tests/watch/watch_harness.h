#pragma once
// Helpers for the `brook watch` end-to-end tests: run build/bin/brook as a child process
// (kill -9 it, SIGTERM it, restart it), talk to brookd through the C driver, read the
// server's own change stream as the reference sequence, and compare outputs.
// Thread-safety: one test thread, except Writer which runs its own thread.

#include <bson/bson.h>
#include <mongoc/mongoc.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace brook::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `brook watch ARGS...` as a child; stdout to `out_path` (if not empty), stderr to `log_path`.
class WatchProcess {
 public:
  WatchProcess(std::vector<std::string> args, std::string log_path, std::string out_path = "");
  ~WatchProcess();
  void Start();
  void Kill9();
  // Waits until the child logged its first line (its signal handlers are then in place),
  // sends SIGTERM, and returns the exit code (-signal if killed by one).
  int Term();
  // Waits up to `ms` for the child to exit: its exit code, or -1000 on timeout.
  int Wait(int ms);
  bool Running();
  std::string Log() const;  // the stderr log so far

 private:
  std::vector<std::string> args_;
  std::string log_path_, out_path_;
  pid_t pid_ = -1;
  size_t log_size_at_start_ = 0;
  int last_exit_ = -1000;  // exit code of the last run once reaped
};

// Owns a client (error API 2) on `uri`.
class Client {
 public:
  explicit Client(const std::string& uri);
  ~Client();
  mongoc_client_t* get() const { return c_; }
  // Runs a command given as JSON on `db`; returns the reply as relaxed JSON ("" + *error on failure).
  std::string Command(const std::string& db, const std::string& json, std::string* error = nullptr);
  // The server's operationTime from a ping (for --start-at-operation-time).
  std::pair<uint32_t, uint32_t> OperationTime();
  // All documents of db.coll sorted by _id, as relaxed JSON.
  std::vector<std::string> FindAll(const std::string& db, const std::string& coll);

 private:
  mongoc_client_t* c_;
};

std::vector<std::string> ReadLines(const std::string& path);
std::string Slurp(const std::string& path);

// The server's own change stream on db.coll from startAtOperationTime (t, i), read with
// mongoc until `count` events, `timeout_ms`, or 1.5 s without a new event; each as a relaxed Extended JSON line
// exactly as brook watch writes it.
std::vector<std::string> ReferenceEvents(const std::string& uri, const std::string& db, const std::string& coll,
                                         std::pair<uint32_t, uint32_t> start, size_t count, int timeout_ms,
                                         const std::string& opts_json = "{}");

// Writes `total` changes to db.coll from its own thread: a mix of inserts, updates and
// deletes over 500 keys (updates upsert), each carrying its sequence number. Retries a failed
// write (server restarts) until it is acknowledged.
class Writer {
 public:
  Writer(std::string uri, std::string db, std::string coll, int64_t total, int64_t pause_every = 0);
  ~Writer();
  void Start();
  void Join();
  int64_t done() const { return done_.load(); }

 private:
  void Run();
  std::string uri_, db_, coll_;
  int64_t total_, pause_every_;
  std::atomic<int64_t> done_{0};
  std::thread thread_;
};

// brookd with extra flags (e.g. --oplogSizeMB 1), for the tests BrookdProcess cannot start.
class BrookdWithArgs {
 public:
  explicit BrookdWithArgs(std::vector<std::string> extra);
  ~BrookdWithArgs();
  std::string uri() const;

 private:
  int port_ = 0;
  pid_t pid_ = -1;
  std::string dbpath_;
};

// A loopback HTTP receiver: fails every third request with 503, drops every seventh
// connection without answering; records acknowledged events and checks, at each request,
// that the checkpoint file does not cover any event not yet acknowledged.
class FlakyReceiver {
 public:
  explicit FlakyReceiver(std::string ckpt_path) : ckpt_path_(std::move(ckpt_path)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t l = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &l);
    port_ = ntohs(a.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FlakyReceiver() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/events"; }
  std::vector<std::string> Acked() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  bool checkpoint_ahead = false;

 private:
  void Serve() {
    for (;;) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string buf;
      for (;;) {
        size_t he;
        while ((he = buf.find("\r\n\r\n")) == std::string::npos) {
          char tmp[65536];
          ssize_t r = recv(c, tmp, sizeof tmp, 0);
          if (r <= 0) goto done;
          buf.append(tmp, static_cast<size_t>(r));
        }
        size_t cl = std::stoul(buf.substr(buf.find("Content-Length: ") + 16));
        std::string body;
        buf.erase(0, he + 4);
        while (buf.size() < cl) {
          char tmp[65536];
          ssize_t r = recv(c, tmp, sizeof tmp, 0);
          if (r <= 0) goto done;
          buf.append(tmp, static_cast<size_t>(r));
        }
        body = buf.substr(0, cl);
        buf.erase(0, cl);
        ++requests_;
        CheckCheckpoint(body);
        if (requests_ % 7 == 0) goto done;
        int status = requests_ % 3 == 0 ? 503 : 200;
        if (status == 200) {
          std::lock_guard<std::mutex> lock(mu_);
          size_t p = 0, q;
          while ((q = body.find('\n', p)) != std::string::npos) {
            acked_.push_back(body.substr(p, q - p));
            p = q + 1;
          }
        }
        std::string reply = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\n\r\n";
        send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      }
    done:
      close(c);
    }
  }
  // Every event at or before the checkpoint must have been acknowledged: so the
  // checkpoint must sort before the first (not yet acknowledged) event of this request.
  // Tokens order as their uppercase _data hex strings do (KeyString bytes, memcmp).
  void CheckCheckpoint(const std::string& body) {
    std::string ck = Slurp(ckpt_path_);
    auto pos = ck.find("\"_data\" : \"");
    auto first = body.find("\"_data\" : \"");
    if (pos == std::string::npos || first == std::string::npos) return;
    std::string data = ck.substr(pos + 11, ck.find('"', pos + 11) - pos - 11);
    std::string first_data = body.substr(first + 11, body.find('"', first + 11) - first - 11);
    if (data >= first_data) checkpoint_ahead = true;
  }

  std::string ckpt_path_;
  int fd_, port_;
  int requests_ = 0;
  std::mutex mu_;
  std::vector<std::string> acked_;
  std::thread thread_;
};

// Waits until `pred` holds or `ms` elapse; returns pred().
bool WaitFor(const std::function<bool()>& pred, int ms);

int64_t EnvInt(const char* name, int64_t fallback);

}  // namespace brook::testing
