#pragma once
// Helpers for the `brook watch` end-to-end tests: run build/bin/brook as a child process
// (kill -9 it, SIGTERM it, restart it), talk to brookd through the C driver, read the
// server's own change stream as the reference sequence, and compare outputs.
// Thread-safety: one test thread, except Writer which runs its own thread.

#include <bson/bson.h>
#include <mongoc/mongoc.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http_receiver.h"

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

// `brook watch ARGS...` as a child; stdout to `out_path` (else /dev/null), stderr to
// `log_path`, no other descriptor of the test inherited (a leftover child must not hold
// the test runner's pipe or a receiver's socket). The child never outlives its test: it
// is SIGKILLed and reaped on destruction and at any failed assertion (a gtest listener),
// and dies with the test process itself (PR_SET_PDEATHSIG), should that crash.
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

// Kills (SIGKILL) and reaps every running WatchProcess child; the failure listener's action.
void KillAllWatchProcesses();

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

// The receiver policy of the HTTP sink tests: HttpReceiver::Flaky() (503s and dropped
// connections from the first request on), and at each request a check that the checkpoint
// file does not cover any event not yet acknowledged; sets *ahead when it does.
HttpReceiver::Policy FlakyCheckingCheckpoint(std::string ckpt_path, std::atomic<bool>* ahead);

// Waits until `pred` holds or `ms` elapse; returns pred().
bool WaitFor(const std::function<bool()>& pred, int ms);

int64_t EnvInt(const char* name, int64_t fallback);

}  // namespace brook::testing
