#pragma once
// The storage engine: RocksDB with Brook's column families, the commit sequencer,
// the oplog, and the visibility / durability watermarks.
//
// Owns: every byte on disk. Upper layers see column families as ordered key/value
// maps and write only through a WriteUnit committed by Engine::Commit.
//
// Write path (DESIGN.md "The write path"): a WriteUnit reads from its snapshot (plus its
// own writes) and collects puts/deletes. Commit() queues the unit for the group commit
// (CommitAsync() queues it without waiting and calls back when it is written):
// the thread at the front of the queue leads a group of queued units, checks each for
// write-write conflicts against commits since its snapshot (the loser alone gets
// WriteConflict, 112), gives each unit's oplog drafts the next cluster Timestamps in
// queue order (strictly increasing, consecutive), writes the whole group as ONE atomic
// RocksDB batch (document/index changes, oplog entries, pre-images, session records of
// every unit), advances the visible watermark once, and wakes the others with their own
// results. Groups are applied one at a time in timestamp order, so "visible" has no
// holes. When Commit returns OK the unit's WAL record is written (not fsynced): it
// survives a crash of the process. A group-commit syncer thread fsyncs the WAL and
// advances the durable watermark; one fsync serves every commit before it.
//
// On-disk facts: oplog keys are the 8-byte big-endian Timestamp (secs, inc); do not
// change. Pre-image keys are collection UUID (16 bytes) + Timestamp (8) + op index (4).
//
// Thread-safety: Engine is thread-safe. A WriteUnit, Snapshot or iterator belongs to one
// thread at a time.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bson/document.h"
#include "bson/types.h"
#include "util/status.h"

namespace brook::storage {

enum class Family : int {
  kCatalog = 0,  // catalog metadata and engine-internal counters
  kRecords,      // collection id + encoded _id -> BSON document
  kIndex,        // index id + encoded key + (non-unique: encoded _id) -> (unique: _id)
  kOplog,        // big-endian Timestamp -> BSON oplog entry
  kPreimages,    // collection UUID + Timestamp + op index -> BSON pre-image
  kSessions,     // lsid + txnNumber -> retryable-write record
  kCount
};

struct EngineOptions {
  std::string dbpath;
  uint64_t oplog_size_bytes = 1024ull << 20;  // --oplogSizeMB
  int64_t term = 1;                            // the oplog's `t`
  // Test hook: a RocksDB Env to run on (fault injection). Not owned; may be null.
  void* rocksdb_env = nullptr;
  // Test hook: wall clock in milliseconds since the epoch; null means the system clock.
  // Lets tests move the clock backwards to check that timestamps still increase.
  std::function<int64_t()> wall_clock_millis;
  // How long an unrequested WAL sync waits for more commits: how far `durable` lags a
  // j:false write that nobody waits for. MongoDB's journal commit interval is 100 ms;
  // 10 ms keeps the lag small and the fsyncs (each a disk kick, a VM exit here) to
  // 100/s. Tests set it long to see which syncs were asked for.
  std::chrono::microseconds background_sync_delay{10000};
  // Test hook: called by each group-commit leader, before conflict checks, with the
  // number of units in its group. Lets tests hold a leader so that a group forms.
  std::function<void(size_t group_size)> group_commit_hook;
};

// A consistent, read-only point-in-time view.
class Iterator {
 public:
  virtual ~Iterator() = default;
  virtual void Seek(std::string_view key) = 0;
  virtual void SeekForPrev(std::string_view key) = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual void Prev() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

class Snapshot {
 public:
  virtual ~Snapshot() = default;
  // NoSuchKey when absent.
  virtual StatusWith<std::string> Get(Family f, std::string_view key) = 0;
  // Iterates keys in [lower, upper); empty upper means "to the end of the family".
  virtual std::unique_ptr<Iterator> NewIterator(Family f, std::string_view lower,
                                                std::string_view upper) = 0;
};

// One oplog entry as the write path hands it to the sequencer: everything but the
// fields only the sequencer knows (ts, t, wall), which it puts first.
struct OplogDraft {
  bson::Doc body;  // {op, ns, ui, o, o2?, lsid?, txnNumber?, stmtId?, ...}
  // When set, stored in the preimages family under (collection_uuid, ts, op_index).
  std::optional<bson::Doc> preimage;
  std::array<uint8_t, 16> collection_uuid{};
  uint32_t op_index = 0;
  // A transaction's applyOps entry holds several operations, each of which may have a
  // pre-image: stored under (uuid, ts, index of the operation in applyOps), so two
  // updates of one transaction, which share the entry's ts, keep distinct pre-images.
  struct OpPreimage {
    std::array<uint8_t, 16> uuid{};
    uint32_t op_index = 0;
    bson::Doc doc;
  };
  std::vector<OpPreimage> op_preimages;
};

// A snapshot to read from plus a batch of changes, committed atomically by Engine.
class WriteUnit : public Snapshot {
 public:
  // Reads see this unit's own uncommitted writes over its snapshot.
  virtual void Put(Family f, std::string_view key, std::string_view value) = 0;
  virtual void Delete(Family f, std::string_view key) = 0;
  // Registers a read whose key must not change before commit (conflict detection on
  // keys that are read but not written, e.g. a unique-index probe that found nothing).
  virtual StatusWith<std::string> GetForUpdate(Family f, std::string_view key) = 0;
  // Registers `key` for conflict detection as GetForUpdate does, without reading it: for
  // a caller that knows the value from a cache at least as new as this unit's snapshot.
  virtual void TrackForUpdate(Family f, std::string_view key) = 0;
  // False until the first Put, Delete or AddOplog.
  virtual bool has_writes() const = 0;
  // Oplog entries to write at commit, each at its own consecutive Timestamp.
  virtual void AddOplog(OplogDraft draft) = 0;
  // Number of oplog drafts added so far.
  virtual size_t oplog_count() const = 0;
  virtual size_t approximate_size() const = 0;
};

struct CommitResult {
  bson::Timestamp first_ts;  // null when the unit had no oplog entries
  bson::Timestamp last_ts;
};

class Engine {
 public:
  static StatusWith<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  virtual ~Engine() = default;

  virtual std::unique_ptr<Snapshot> GetSnapshot() = 0;
  virtual std::unique_ptr<WriteUnit> BeginWriteUnit() = 0;

  // WriteConflict (112) when another commit changed a key this unit wrote or
  // GetForUpdate-read since its snapshot; the caller retries a single operation or
  // fails a transaction. After a failed WAL write or sync every later commit fails with
  // the same sticky error.
  // A unit commits at most once; a second Commit (or one after a failure) is an error.
  // A unit without oplog drafts commits without a timestamp (CommitResult all null).
  virtual StatusWith<CommitResult> Commit(WriteUnit& unit) = 0;

  // Commit for a caller that must not block its thread (the server's network threads):
  // queues the unit and returns. `done` runs exactly once with what Commit would have
  // returned, after the unit's group is written: inside this call when nothing was queued
  // before it (this thread then leads its own group), else on the thread that led the
  // group (the engine's committer thread, or a synchronous committer's). `done` must be
  // short and must not call back into Engine. The engine owns the unit until `done` has
  // run, and destroys it then.
  using CommitCallback = std::function<void(StatusWith<CommitResult>)>;
  virtual void CommitAsync(std::unique_ptr<WriteUnit> unit, CommitCallback done) = 0;
  // Blocks until every CommitAsync has run its callback (the server calls it before the
  // executors its callbacks post to go away).
  virtual void WaitForAsyncCommits() = 0;

  // The sticky storage error (STYLE.md 9): OK until a WAL write or sync fails, then that
  // error forever. For serverStatus and health checks.
  virtual Status background_error() const = 0;

  // Watermarks. visible: every commit <= it is readable, no holes. durable: every
  // commit <= it is fsynced to the WAL. durable <= visible.
  virtual bson::Timestamp visible() const = 0;
  virtual bson::Timestamp durable() const = 0;
  // Asks the syncer to fsync soon (a j:true writer is waiting); never blocks.
  virtual void RequestSync() = 0;
  // While on, someone (open change streams) waits for every commit to become durable:
  // instead of waiting a fixed delay after a commit to gather more, the syncer only
  // keeps a short interval (1 ms) between the starts of two syncs, so a commit after a
  // quiet spell is synced at once; turning it on syncs at once too. Off by default (an
  // unrequested sync then waits EngineOptions::background_sync_delay); never blocks.
  virtual void SetPromptSync(bool on) = 0;
  // Blocking wait (for tools and tests; the server waits asynchronously through its
  // waiters module, notified by the listener below).
  virtual Status WaitForDurable(bson::Timestamp ts, std::chrono::milliseconds timeout) = 0;
  // Called (from the syncing thread, or the thread that hit a sticky error) whenever the
  // durable watermark moves or the engine stops on an error; commits that only move
  // `visible` do not call it. Must be cheap and must not call back into Engine. One
  // listener; set before serving.
  virtual void SetWatermarkListener(std::function<void()> listener) = 0;

  // The oldest oplog entry still present (null Timestamp when the oplog is empty).
  virtual bson::Timestamp oldest_oplog_ts() const = 0;
  // Timestamp of the next cluster time a reader may quote when nothing was written:
  // the visible watermark, or {now seconds, 0} if nothing was ever written (inc 0 sorts
  // below the first real entry of that second, so it never claims an unwritten write).
  virtual bson::Timestamp ClusterTime() const = 0;
  // Writes a no-op ('n') oplog entry so the cluster time moves without user writes.
  virtual StatusWith<bson::Timestamp> WriteNoop(std::string_view msg) = 0;

  // Iterates the oplog from `start` (inclusive) up to the durable (or visible)
  // watermark as of the call. Cheap to create: a RocksDB seek.
  virtual std::unique_ptr<Iterator> NewOplogIterator(bson::Timestamp start,
                                                     bool durable_only) = 0;

  // Statistics for serverStatus / dbStats.
  virtual uint64_t ApproximateSize(Family f, std::string_view lower,
                                   std::string_view upper) = 0;
};

// Key helpers shared by every user of the oplog family.
std::string EncodeOplogKey(bson::Timestamp ts);
// Null Timestamp when `key` is not 8 bytes.
bson::Timestamp DecodeOplogKey(std::string_view key);

// Pre-image keys: uuid (16) + Timestamp (8, big-endian) + op index (4, big-endian).
using CollectionUuid = std::array<uint8_t, 16>;
std::string EncodePreimageKey(const CollectionUuid& uuid, bson::Timestamp ts, uint32_t op_index);
// All pre-images of one collection are in [PreimageKeyPrefix(uuid), its successor).
std::string PreimageKeyPrefix(const CollectionUuid& uuid);

}  // namespace brook::storage
