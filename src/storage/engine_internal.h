#pragma once
// Private pieces of the RocksDB engine, shared by engine.cpp (sequencer, watermarks,
// background threads) and units.cpp (snapshots, write units, iterators).
//
// Owns: the RocksDB handles and every mutable engine field. Only storage/*.cpp include
// this header; other layers see engine.h alone.
//
// Thread-safety: EngineImpl is thread-safe; see the comment on each field group for the
// lock that guards it. SnapshotImpl, WriteUnitImpl and BoundedIterator belong to one
// thread at a time and must not outlive the Engine that made them.

#include <rocksdb/db.h>
#include <rocksdb/utilities/write_batch_with_index.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "storage/conflict_table.h"
#include "storage/engine.h"

namespace brook::storage::internal {

// MongoDB's exact WriteConflict reason; drivers and tests match on the code only, but
// users see this text.
inline constexpr std::string_view kWriteConflictReason =
    "WriteConflict error: this operation conflicted with another operation. Please retry "
    "your operation or multi-document transaction.";

// The WriteConflict (112) status a losing unit gets.
Status WriteConflictStatus();

// Maps a RocksDB status to Brook's: Busy/TryAgain become WriteConflict; NotFound becomes
// NoSuchKey.
Status FromRocks(const rocksdb::Status& s, std::string_view context);

// An iterator confined to [lower, upper) whatever the underlying RocksDB iterator does:
// a transaction's iterator merges its own writes, and that delta part does not honour
// ReadOptions bounds in every RocksDB version, so the bounds are enforced here too.
class BoundedIterator final : public Iterator {
 public:
  // `make` receives ReadOptions whose bound slices point into this object.
  BoundedIterator(std::string lower, std::string upper, rocksdb::ReadOptions options,
                  const std::function<rocksdb::Iterator*(const rocksdb::ReadOptions&)>& make);

  void Seek(std::string_view key) override;
  void SeekForPrev(std::string_view key) override;
  void SeekToFirst() override;
  void SeekToLast() override;
  bool Valid() const override;
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  std::string_view key() const override;
  std::string_view value() const override;
  Status status() const override;

 private:
  std::string lower_;
  std::string upper_;  // empty: unbounded
  rocksdb::Slice lower_slice_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

class EngineImpl;

class SnapshotImpl final : public Snapshot {
 public:
  explicit SnapshotImpl(EngineImpl* engine);
  ~SnapshotImpl() override;
  StatusWith<std::string> Get(Family f, std::string_view key) override;
  std::unique_ptr<Iterator> NewIterator(Family f, std::string_view lower,
                                        std::string_view upper) override;

 private:
  EngineImpl* engine_;
  const rocksdb::Snapshot* snapshot_;
};

// One oplog entry prepared outside the sequencer lock: the final BSON bytes with
// placeholder ts and wall values that Commit patches in place.
struct PendingOplog {
  std::string entry;
  std::optional<std::string> preimage;
  CollectionUuid uuid{};
  uint32_t op_index = 0;
  struct Extra {
    CollectionUuid uuid{};
    uint32_t op_index = 0;
    std::string doc;
  };
  std::vector<Extra> op_preimages;  // OplogDraft::op_preimages
};

// A unit reads its RocksDB snapshot merged with its own writes (a WriteBatchWithIndex)
// and records the keys the commit must check for conflicts. Live units are linked into
// the engine's list (oldest snapshot first) so conflict history is kept exactly as long
// as a unit may need it.
class WriteUnitImpl final : public WriteUnit {
 public:
  explicit WriteUnitImpl(EngineImpl* engine);
  ~WriteUnitImpl() override;

  StatusWith<std::string> Get(Family f, std::string_view key) override;
  std::unique_ptr<Iterator> NewIterator(Family f, std::string_view lower,
                                        std::string_view upper) override;
  void Put(Family f, std::string_view key, std::string_view value) override;
  void Delete(Family f, std::string_view key) override;
  StatusWith<std::string> GetForUpdate(Family f, std::string_view key) override;
  void TrackForUpdate(Family f, std::string_view key) override { Track(&locked_reads_, f, key); }
  bool has_writes() const override { return !written_keys_.empty() || !oplog_.empty(); }
  void AddOplog(OplogDraft draft) override;
  size_t oplog_count() const override { return oplog_.size(); }
  size_t approximate_size() const override;

 private:
  friend class EngineImpl;
  void Track(std::vector<ConflictTable::KeyHash>* keys, Family f, std::string_view key);

  EngineImpl* engine_;
  const rocksdb::Snapshot* snapshot_;  // set while linked (EngineImpl::LinkUnit)
  uint64_t snapshot_seq_ = 0;
  WriteUnitImpl* prev_ = nullptr;  // the engine's live-unit list, guarded by units_mu_
  WriteUnitImpl* next_ = nullptr;
  rocksdb::ReadOptions read_options_;  // pinned to snapshot_
  rocksdb::WriteBatchWithIndex batch_;
  // Conflict keys (family byte + key): what this unit wrote, and what it only read
  // with GetForUpdate.
  // Fingerprints (ConflictTable::HashKey) of the keys written and GetForUpdate-read.
  std::vector<ConflictTable::KeyHash> written_keys_;
  std::vector<ConflictTable::KeyHash> locked_reads_;
  std::vector<PendingOplog> oplog_;
  size_t oplog_bytes_ = 0;
  rocksdb::Status first_error_;  // a failed Put/Delete fails the commit
  bool finished_ = false;        // committed, or failed a commit
};

// One unit waiting in the group-commit queue. A synchronous one (Commit) lives on its
// committing thread's stack; the leader fills in the result, then sets `done` under the
// queue lock. An asynchronous one (CommitAsync) is on the heap, owns its unit, and is
// completed by whoever led its group: its callback runs, then it is deleted.
struct CommitRequest {
  explicit CommitRequest(WriteUnitImpl* u) : unit(u) {}
  WriteUnitImpl* unit;
  Status status;
  CommitResult result;
  bool done = false;
  std::condition_variable cv;        // synchronous only
  std::unique_ptr<WriteUnit> owned;  // asynchronous only: `unit`, owned
  Engine::CommitCallback callback;   // asynchronous only
  bool async() const { return static_cast<bool>(callback); }
};

// Byte offsets of the fields Commit patches in an oplog entry built by BuildOplogEntry:
// {ts: Timestamp, t: Int64, v: Int64, wall: Date, ...}. Fixed because the first four
// fields are always those, with those names.
inline constexpr size_t kOplogTsValueOffset = 4 + 1 + 3;                  // "ts\0"
inline constexpr size_t kOplogWallValueOffset = 4 + 12 + 11 + 11 + 1 + 5;  // "wall\0"

// Builds {ts: <placeholder>, t, v: 2, wall: <placeholder>, ...body minus those four}.
std::string BuildOplogEntry(const bson::View& body, int64_t term);
void PatchOplogEntry(std::string* entry, bson::Timestamp ts, int64_t wall_millis);

// The next cluster time after `last` at wall-clock second `now_secs`: a new second
// starts at inc 1; a clock that went backwards keeps counting on `last`.
bson::Timestamp NextTimestamp(bson::Timestamp last, uint32_t now_secs);

class EngineImpl final : public Engine {
 public:
  explicit EngineImpl(EngineOptions options);
  ~EngineImpl() override;

  Status OpenDb();  // called once by Engine::Open

  std::unique_ptr<Snapshot> GetSnapshot() override;
  std::unique_ptr<WriteUnit> BeginWriteUnit() override;
  StatusWith<CommitResult> Commit(WriteUnit& unit) override;
  void CommitAsync(std::unique_ptr<WriteUnit> unit, CommitCallback done) override;
  void WaitForAsyncCommits() override;
  Status background_error() const override;

  bson::Timestamp visible() const override {
    return bson::Timestamp::FromUint64(visible_.load(std::memory_order_acquire));
  }
  bson::Timestamp durable() const override {
    return bson::Timestamp::FromUint64(durable_.load(std::memory_order_acquire));
  }
  void RequestSync() override;
  void SetPromptSync(bool on) override;
  Status WaitForDurable(bson::Timestamp ts, std::chrono::milliseconds timeout) override;
  void SetWatermarkListener(std::function<void()> listener) override;

  bson::Timestamp oldest_oplog_ts() const override {
    return bson::Timestamp::FromUint64(oldest_.load(std::memory_order_acquire));
  }
  bson::Timestamp ClusterTime() const override;
  StatusWith<bson::Timestamp> WriteNoop(std::string_view msg) override;
  std::unique_ptr<Iterator> NewOplogIterator(bson::Timestamp start, bool durable_only) override;
  uint64_t ApproximateSize(Family f, std::string_view lower, std::string_view upper) override;

  // For units.cpp.
  rocksdb::DB* db() { return db_; }
  rocksdb::ColumnFamilyHandle* cf(Family f) { return cfs_[static_cast<int>(f)]; }
  int64_t term() const { return options_.term; }

  // Test-only introspection (engine_test.cpp).
  uint64_t oplog_bytes_for_test() const { return oplog_bytes_.load(); }
  size_t conflict_history_for_test();
  size_t queue_length_for_test();

  // The live-unit list: a unit takes its snapshot and joins the tail under units_mu_, so
  // the head has the oldest snapshot.
  void LinkUnit(WriteUnitImpl* unit);
  void UnlinkUnit(WriteUnitImpl* unit);

 private:
  // Checks a unit about to be queued (right engine, not committed before, no sticky
  // error) and marks it finished.
  Status AdmitUnit(WriteUnitImpl& unit);
  // The leader's turn, entered with queue_mu_ held by the thread whose request is at the
  // front (or by the committer thread for an asynchronous front): takes a group from the
  // front, commits it with the lock released, pops it, marks the synchronous requests
  // done, moves the asynchronous ones to *completed (their callbacks are run by
  // Complete, after the lock is released), and hands the lead to the new front. Returns
  // with the lock held.
  void LeadGroup(std::unique_lock<std::mutex>& l, const CommitRequest* self,
                 std::vector<CommitRequest*>* completed);
  // Runs the callbacks of finished asynchronous requests and deletes them; no lock held.
  void Complete(std::vector<CommitRequest*>* completed);
  // The committer thread: leads the groups whose front request is asynchronous (their
  // threads do not wait to be told to lead).
  void CommitterLoop();
  // Runs one group as its leader: conflict checks, timestamps, one batch, watermarks.
  // Fills every request's status/result; does not set `done`.
  void CommitGroup(const std::vector<CommitRequest*>& group);
  // The oldest live unit's snapshot sequence, or the latest sequence with no live unit.
  uint64_t OldestUnitSeq();
  void SetStickyError(const Status& s);
  bool HasStickyError() const { return has_error_.load(std::memory_order_acquire); }
  int64_t NowMillis() const;
  void NotifyWatermarkMoved();
  void WakeSyncer(bool request);
  void SyncerLoop();
  void TruncatorLoop();
  // Deletes the oldest oplog entries (and their pre-images) while the oplog is over its
  // cap; returns false when nothing could be deleted yet (everything is too new).
  bool TruncateOnce();
  Status Recover();

  EngineOptions options_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // as returned by Open, incl. default
  std::array<rocksdb::ColumnFamilyHandle*, static_cast<int>(Family::kCount)> cfs_{};

  // The sequencer, a leader/follower group commit (LevelDB's writer queue): committing
  // threads queue their units; the front one is the leader, takes a group from the front,
  // commits it with the queue unlocked, then wakes the group and the next leader. Only
  // the leader touches the fields below the queue, so they need no lock of their own;
  // one leader at a time applies groups in timestamp order, so `visible` has no holes.
  std::mutex queue_mu_;
  std::deque<CommitRequest*> queue_;  // guarded by queue_mu_
  // The lead was handed to an asynchronous front request: the committer thread takes
  // it. Guarded by queue_mu_, as is committer_stopping_.
  bool committer_lead_ = false;
  bool committer_stopping_ = false;
  std::condition_variable committer_cv_;
  std::thread committer_;
  // CommitAsync requests whose callback has not run yet (guarded by queue_mu_).
  size_t async_pending_ = 0;
  std::condition_variable async_idle_cv_;
  bson::Timestamp last_ts_;           // leader only (and Recover, before serving)
  ConflictTable conflicts_;           // leader only
  rocksdb::WriteBatch group_batch_;   // leader only; reused to keep its buffer
  std::vector<rocksdb::ColumnFamilyHandle*> cf_by_id_;  // RocksDB family id -> handle

  // Live write units, oldest snapshot first.
  std::mutex units_mu_;
  WriteUnitImpl* units_head_ = nullptr;
  WriteUnitImpl* units_tail_ = nullptr;

  // Watermarks and the oplog's extent, readable without a lock.
  std::atomic<uint64_t> visible_{0};
  std::atomic<uint64_t> durable_{0};
  std::atomic<uint64_t> oldest_{0};
  std::atomic<uint64_t> oplog_bytes_{0};

  // Sticky error: written once under error_mu_, flagged by has_error_.
  mutable std::mutex error_mu_;
  Status sticky_error_;
  std::atomic<bool> has_error_{false};

  // Syncer state, guarded by sync_mu_. durable_cv_ wakes WaitForDurable callers.
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::condition_variable durable_cv_;
  bool sync_requested_ = false;
  bool stopping_ = false;
  std::atomic<bool> prompt_sync_{false};  // SetPromptSync: no gathering delay
  std::chrono::steady_clock::time_point last_sync_start_;  // syncer thread only
  // True while the syncer waits with nothing to do; commits wake it only then.
  std::atomic<bool> syncer_idle_{false};
  std::thread syncer_;

  // Truncator state, guarded by trunc_mu_.
  std::mutex trunc_mu_;
  std::condition_variable trunc_cv_;
  bool trunc_stopping_ = false;
  std::thread truncator_;

  // Collections that have pre-images, so truncation can range-delete per collection.
  std::mutex preimage_mu_;
  std::set<CollectionUuid> preimage_uuids_;

  // The listener is swapped atomically; replaced ones are kept until destruction so a
  // thread still calling one never sees it freed.
  std::atomic<std::function<void()>*> listener_{nullptr};
  std::mutex listeners_mu_;
  std::vector<std::unique_ptr<std::function<void()>>> listeners_;
};

}  // namespace brook::storage::internal
