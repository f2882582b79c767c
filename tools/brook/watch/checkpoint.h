#pragma once
// Checkpoints of `brook watch`: where a stream resumes, and how far the sink got.
//
// Owns: the Checkpoint value, its document form, and the CheckpointStore interface with
// its file implementation (the mongodb: one is in mongo_checkpoint.h).
// On-disk fact (saved checkpoints must stay readable; only add optional fields):
//   {v: 1, name: <stream name>, token: {_data: ...} | absent, startAfter: bool,
//    operationTime: Timestamp | absent, sinkOffset: int64 | absent,
//    initialSync: {atClusterTime: Timestamp, ns: "db.coll", lastId: {_id: <value>} | absent,
//                  consistent: bool} | absent}
// A file checkpoint holds that document as canonical Extended JSON plus a newline, and is
// replaced atomically: write PATH.tmp, fsync it, rename over PATH, fsync the directory.
// Thread-safety: a store is used by one thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "util/status.h"
#include "watch/bson_util.h"

namespace brook::watch {

struct Checkpoint {
  // Resume point, most specific first: a token (resumeAfter, or startAfter when
  // start_after is set: the user's --start-after token or an invalidate event's token),
  // else an operation time (startAtOperationTime).
  BsonDoc token;
  bool start_after = false;
  std::optional<ClusterTime> operation_time;
  // File sinks: the sink file's length once the events up to `token` were fsynced.
  std::optional<int64_t> sink_offset;
  // An initial copy in progress: the snapshot time, the namespace being copied and the
  // last _id written (documents are copied in _id order per namespace, namespaces in
  // name order). `consistent` is false when the server refused snapshot reads.
  struct InitialSync {
    ClusterTime at_cluster_time;
    std::string ns;
    BsonDoc last_id;  // {_id: value}, or nothing before the first document of ns
    bool consistent = true;
  };
  std::optional<InitialSync> initial_sync;

  BsonDoc ToBson(const std::string& stream_name) const;
  static StatusWith<Checkpoint> FromBson(const bson_t* doc);
  std::string Describe() const;  // for logs: "token 8264...(t=..), offset N"
};

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // The saved checkpoint, or nullopt when none exists yet.
  virtual StatusWith<std::optional<Checkpoint>> Load() = 0;
  // Durably replaces the saved checkpoint; returns only once it would survive a crash.
  virtual Status Save(const Checkpoint& cp) = 0;
  virtual std::string Describe() const = 0;
};

// The file-system calls a file checkpoint makes, so tests can observe their order and
// inject failures. The default implementation is POSIX.
class FileOps {
 public:
  virtual ~FileOps() = default;
  virtual Status WriteFile(const std::string& path, const std::string& data) = 0;  // create/truncate + write
  virtual Status FsyncFile(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status FsyncDir(const std::string& dir) = 0;
  virtual StatusWith<std::optional<std::string>> ReadFile(const std::string& path) = 0;  // nullopt: absent
  static FileOps* Posix();
};

class FileCheckpointStore : public CheckpointStore {
 public:
  FileCheckpointStore(std::string path, std::string stream_name, FileOps* ops = FileOps::Posix());
  StatusWith<std::optional<Checkpoint>> Load() override;
  Status Save(const Checkpoint& cp) override;
  std::string Describe() const override { return "file:" + path_; }

 private:
  std::string path_;
  std::string stream_name_;
  FileOps* ops_;
};

}  // namespace brook::watch
