#pragma once
// MockChangeStreamServer: a tiny in-process server speaking just enough of MongoDB's
// wire protocol (OP_QUERY/OP_REPLY handshake, OP_MSG) for libmongoc's change streams:
// hello/isMaster, ping, aggregate with $changeStream, getMore, killCursors, endSessions,
// and update/find of documents by string _id (enough for the mongodb: checkpoint store).
// Its "oplog" is a list of insert events the test appends; tokens are KeyString-shaped
// ({_data: "82" + Timestamp(100, n) + "01"|"00"}) so brook's token decoding works.
//
// It exists so `brook watch` is tested end to end through the real C driver before
// brookd serves change streams: batches, postBatchResumeTokens, resume after errors and
// dropped connections, kill -9 of the watcher. Faults are injected per getMore.
// Thread-safety: one thread per connection; all state behind one mutex.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace brook::testing {

class MockChangeStreamServer {
 public:
  explicit MockChangeStreamServer(int pad_bytes = 100);
  ~MockChangeStreamServer();

  std::string uri() const;
  void AddEvents(int64_t n);
  int64_t total() const;
  // The relaxed Extended JSON of event i, exactly as libbson prints it.
  std::string EventJson(int64_t i) const;
  // The next `n` getMores (and, with a code, $changeStream aggregates: the driver's own
  // resume attempts) fail: with `code` (and the resumable label when `resumable`), or,
  // when code == 0, by closing the connection without a reply.
  void FailGetMores(int n, int code, bool resumable);
  int64_t getmores() const { return getmores_.load(); }
  int64_t aggregates() const { return aggregates_.load(); }

 private:
  void Accept();
  void Serve(int fd);
  std::string Handle(const std::string& cmd_bytes, bool* close_conn, const std::vector<std::string>& seq);

  int listen_fd_ = -1;
  int port_ = 0;
  int pad_bytes_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex conn_mu_;
  std::vector<std::thread> conns_;
  std::vector<int> conn_fds_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t total_ = 0;
  int64_t next_cursor_ = 1000;
  struct Cursor {
    int64_t id;
    int64_t pos;
    int32_t batch;
  };
  std::deque<Cursor> cursors_;  // deque: references stay valid while a getMore waits
  std::map<std::string, std::string> docs_;  // update/find by string _id (checkpoints)
  int fail_left_ = 0;
  int fail_code_ = 0;
  bool fail_resumable_ = true;
  std::atomic<int64_t> getmores_{0};
  std::atomic<int64_t> aggregates_{0};
};

}  // namespace brook::testing
