// The RocksDB engine: open and recovery, the commit sequencer, the watermarks, the
// group-commit syncer and the oplog truncator. See engine.h for the contract.

#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "bson/builder.h"
#include "storage/engine_internal.h"

namespace brook::storage {

namespace {

constexpr const char* kFamilyNames[] = {"catalog", "records", "index",
                                        "oplog",   "preimages", "sessions"};
static_assert(std::size(kFamilyNames) == static_cast<size_t>(Family::kCount));

void AppendBE64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void AppendBE32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t ReadBE64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

}  // namespace

std::string EncodeOplogKey(bson::Timestamp ts) {
  std::string out;
  out.reserve(8);
  AppendBE64(&out, ts.AsUint64());
  return out;
}

bson::Timestamp DecodeOplogKey(std::string_view key) {
  if (key.size() != 8) return {};
  return bson::Timestamp::FromUint64(ReadBE64(key.data()));
}

std::string EncodePreimageKey(const CollectionUuid& uuid, bson::Timestamp ts, uint32_t op_index) {
  std::string out = PreimageKeyPrefix(uuid);
  out.reserve(28);
  AppendBE64(&out, ts.AsUint64());
  AppendBE32(&out, op_index);
  return out;
}

std::string PreimageKeyPrefix(const CollectionUuid& uuid) {
  return std::string(reinterpret_cast<const char*>(uuid.data()), uuid.size());
}

StatusWith<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  auto engine = std::make_unique<internal::EngineImpl>(options);
  Status s = engine->OpenDb();
  if (!s.ok()) return s;
  return std::unique_ptr<Engine>(std::move(engine));
}

namespace internal {

namespace {
// With prompt sync on (change streams wait for every commit): the shortest time between
// the starts of two unrequested syncs. A commit after a quiet spell is synced at once;
// under a steady stream of commits one fsync covers this long's worth of them, which
// bounds the fsyncs (each costs CPU: on a VM the disk kick is an exit) to 1,000/s.
constexpr std::chrono::microseconds kPromptSyncInterval{1000};
}  // namespace

EngineImpl::EngineImpl(EngineOptions options) : options_(std::move(options)) {}

Status EngineImpl::OpenDb() {
  std::error_code ec;
  std::filesystem::create_directories(options_.dbpath, ec);
  if (ec) {
    return Status(ErrorCodes::kInternalError,
                  "cannot create dbpath " + options_.dbpath + ": " + ec.message());
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // Group commit does the fsyncs; RocksDB must not add its own per-write ones. Each
  // commit writes its WAL record to the file (no fsync) before it is acknowledged, so a
  // w:1 write survives a process crash, as issue 2 asks ("w:1 returns after the WAL
  // write"); the syncer's FlushWAL(true) then fsyncs for j:true and the durable watermark.
  // manual_wal_flush would save that write() per commit (~7% of an insert's CPU) but
  // would let a killed process lose acknowledged w:1 writes.
  db_options.manual_wal_flush = false;
  db_options.max_background_jobs = 2;
  if (options_.rocksdb_env) db_options.env = static_cast<rocksdb::Env*>(options_.rocksdb_env);

  // Most point reads on the write path miss (the _id probe of an insert, the retryable
  // write lookup, the commit's conflict check): bloom filters in the memtables and the
  // tables let a miss skip the skip-list search and the table index/data blocks.
  rocksdb::BlockBasedTableOptions table_options;
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table_options.block_cache = rocksdb::NewLRUCache(64 << 20);
  auto table_factory =
      std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(table_options));
  auto tune = [&](rocksdb::ColumnFamilyOptions* o, bool point_reads) {
    o->table_factory = table_factory;
    // Levels 0 and 1 hold the newest data for a short while and are rewritten soonest:
    // compressing them spent the flush and the first compaction's CPU (snappy was 3.4%
    // of the server's samples under 16 inserting clients) to save space only briefly.
    o->compression_per_level = {rocksdb::kNoCompression, rocksdb::kNoCompression,
                                rocksdb::kSnappyCompression, rocksdb::kSnappyCompression,
                                rocksdb::kSnappyCompression, rocksdb::kSnappyCompression,
                                rocksdb::kSnappyCompression};
    if (point_reads) {
      o->memtable_prefix_bloom_size_ratio = 0.05;
      o->memtable_whole_key_filtering = true;
    }
  };

  rocksdb::ColumnFamilyOptions tracked;
  tune(&tracked, true);
  rocksdb::ColumnFamilyOptions untracked;  // oplog, pre-images: append-only, never probed
  tune(&untracked, false);

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, untracked);
  for (int i = 0; i < static_cast<int>(Family::kCount); ++i) {
    Family f = static_cast<Family>(i);
    bool is_log = f == Family::kOplog || f == Family::kPreimages;
    descriptors.emplace_back(kFamilyNames[i], is_log ? untracked : tracked);
  }

  // A plain DB: conflicts are detected by the group commit (conflict_table.h), not by
  // RocksDB's optimistic transactions, so that one batch can carry many units.
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options_.dbpath, descriptors, &handles_, &db_);
  if (!s.ok()) {
    db_ = nullptr;
    return Status(ErrorCodes::kInternalError,
                  "cannot open storage at " + options_.dbpath + ": " + s.ToString());
  }
  for (int i = 0; i < static_cast<int>(Family::kCount); ++i) cfs_[i] = handles_[i + 1];
  for (auto* h : handles_) {
    if (cf_by_id_.size() <= h->GetID()) cf_by_id_.resize(h->GetID() + 1, nullptr);
    cf_by_id_[h->GetID()] = h;
  }

  BROOK_RETURN_IF_ERROR(Recover());
  syncer_ = std::thread([this] { SyncerLoop(); });
  committer_ = std::thread([this] { CommitterLoop(); });
  truncator_ = std::thread([this] { TruncatorLoop(); });
  return Status::OK();
}

Status EngineImpl::Recover() {
  // RocksDB's WAL replay restores whole batches, so the last oplog key is the last
  // commit that survived; everything at or below it is both visible and durable.
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(Family::kOplog)));
  uint64_t bytes = 0;
  it->SeekToFirst();
  if (it->Valid()) oldest_ = DecodeOplogKey(std::string_view(it->key().data(), it->key().size())).AsUint64();
  // One pass sums the sizes the truncator needs; bounded by the oplog cap.
  for (; it->Valid(); it->Next()) bytes += it->key().size() + it->value().size();
  BROOK_RETURN_IF_ERROR(FromRocks(it->status(), "oplog recovery scan"));
  it->SeekToLast();
  if (it->Valid()) {
    last_ts_ = DecodeOplogKey(std::string_view(it->key().data(), it->key().size()));
  }
  BROOK_RETURN_IF_ERROR(FromRocks(it->status(), "oplog recovery"));
  visible_ = durable_ = last_ts_.AsUint64();
  oplog_bytes_ = bytes;

  // Distinct collection UUIDs in the pre-image family: jump from prefix to prefix.
  std::unique_ptr<rocksdb::Iterator> pit(db_->NewIterator(ro, cf(Family::kPreimages)));
  pit->SeekToFirst();
  while (pit->Valid() && pit->key().size() >= 16) {
    CollectionUuid uuid;
    std::memcpy(uuid.data(), pit->key().data(), 16);
    preimage_uuids_.insert(uuid);
    std::string next = PreimageKeyPrefix(uuid);
    next.append(13, '\xff');  // past every (ts, op index) of this uuid
    pit->Seek(next);
  }
  return FromRocks(pit->status(), "pre-image recovery");
}

EngineImpl::~EngineImpl() {
  if (db_ == nullptr) return;
  {
    // The committer finishes any group handed to it first (CommitterLoop).
    std::lock_guard<std::mutex> l(queue_mu_);
    committer_stopping_ = true;
  }
  committer_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  {
    std::lock_guard<std::mutex> l(sync_mu_);
    stopping_ = true;
  }
  sync_cv_.notify_all();
  durable_cv_.notify_all();
  {
    std::lock_guard<std::mutex> l(trunc_mu_);
    trunc_stopping_ = true;
  }
  trunc_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  if (truncator_.joinable()) truncator_.join();
  // A clean shutdown leaves every commit durable.
  if (!HasStickyError()) db_->FlushWAL(/*sync=*/true).PermitUncheckedError();
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  delete db_;
}

std::unique_ptr<Snapshot> EngineImpl::GetSnapshot() { return std::make_unique<SnapshotImpl>(this); }

std::unique_ptr<WriteUnit> EngineImpl::BeginWriteUnit() {
  return std::make_unique<WriteUnitImpl>(this);
}

Status EngineImpl::background_error() const {
  if (!HasStickyError()) return Status::OK();
  std::lock_guard<std::mutex> l(error_mu_);
  return sticky_error_;
}

void EngineImpl::SetStickyError(const Status& s) {
  {
    std::lock_guard<std::mutex> l(error_mu_);
    if (has_error_.load()) return;  // the first failure is the one reported forever
    sticky_error_ = Status(ErrorCodes::kInternalError,
                           "storage engine stopped after a failed WAL write or sync; "
                           "durability of later writes is unknown: " +
                               s.reason());
    has_error_.store(true, std::memory_order_release);
  }
  // Wake durability waiters so they fail now instead of timing out.
  { std::lock_guard<std::mutex> l(sync_mu_); }
  durable_cv_.notify_all();
  NotifyWatermarkMoved();
}

int64_t EngineImpl::NowMillis() const {
  if (options_.wall_clock_millis) return options_.wall_clock_millis();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void EngineImpl::LinkUnit(WriteUnitImpl* unit) {
  std::lock_guard<std::mutex> l(units_mu_);
  // Taken under the lock so the list stays in snapshot order.
  unit->snapshot_ = db_->GetSnapshot();
  unit->snapshot_seq_ = unit->snapshot_->GetSequenceNumber();
  unit->prev_ = units_tail_;
  unit->next_ = nullptr;
  (units_tail_ ? units_tail_->next_ : units_head_) = unit;
  units_tail_ = unit;
}

void EngineImpl::UnlinkUnit(WriteUnitImpl* unit) {
  {
    std::lock_guard<std::mutex> l(units_mu_);
    (unit->prev_ ? unit->prev_->next_ : units_head_) = unit->next_;
    (unit->next_ ? unit->next_->prev_ : units_tail_) = unit->prev_;
  }
  db_->ReleaseSnapshot(unit->snapshot_);
}

uint64_t EngineImpl::OldestUnitSeq() {
  {
    std::lock_guard<std::mutex> l(units_mu_);
    if (units_head_) return units_head_->snapshot_seq_;
  }
  // No live unit: a unit that starts now snapshots at or above every published write.
  return db_->GetLatestSequenceNumber();
}

size_t EngineImpl::queue_length_for_test() {
  std::lock_guard<std::mutex> l(queue_mu_);
  return queue_.size();
}

size_t EngineImpl::conflict_history_for_test() {
  std::lock_guard<std::mutex> l(queue_mu_);  // no leader runs while the queue is empty
  return queue_.empty() ? conflicts_.size() : 0;
}

Status EngineImpl::AdmitUnit(WriteUnitImpl& unit) {
  if (unit.engine_ != this) {
    return Status(ErrorCodes::kInternalError, "write unit belongs to another engine");
  }
  if (unit.finished_) {
    return Status(ErrorCodes::kInternalError, "write unit was already committed or failed");
  }
  unit.finished_ = true;
  if (!unit.first_error_.ok()) return FromRocks(unit.first_error_, "write unit");
  if (HasStickyError()) return background_error();
  return Status::OK();
}

StatusWith<CommitResult> EngineImpl::Commit(WriteUnit& unit_base) {
  auto& unit = static_cast<WriteUnitImpl&>(unit_base);
  BROOK_RETURN_IF_ERROR(AdmitUnit(unit));

  CommitRequest req(&unit);
  std::vector<CommitRequest*> completed;
  {
    std::unique_lock<std::mutex> l(queue_mu_);
    queue_.push_back(&req);
    req.cv.wait(l, [&] { return req.done || queue_.front() == &req; });
    if (!req.done) LeadGroup(l, &req, &completed);
  }
  Complete(&completed);
  if (!req.status.ok()) return req.status;
  return req.result;
}

void EngineImpl::CommitAsync(std::unique_ptr<WriteUnit> unit_base, CommitCallback done) {
  auto& unit = static_cast<WriteUnitImpl&>(*unit_base);
  Status admitted = AdmitUnit(unit);
  if (!admitted.ok()) {
    done(admitted);
    return;
  }
  auto* req = new CommitRequest(&unit);
  req->owned = std::move(unit_base);
  req->callback = std::move(done);
  std::vector<CommitRequest*> completed;
  {
    std::unique_lock<std::mutex> l(queue_mu_);
    ++async_pending_;
    queue_.push_back(req);
    // Alone in the queue: nobody leads, so this thread does, as a synchronous committer
    // would (no hand-off to the committer thread when there is no contention). Otherwise
    // the current leader's group, or the next, takes it.
    if (queue_.size() == 1) LeadGroup(l, req, &completed);
  }
  Complete(&completed);
}

void EngineImpl::WaitForAsyncCommits() {
  std::unique_lock<std::mutex> l(queue_mu_);
  async_idle_cv_.wait(l, [this] { return async_pending_ == 0; });
}

void EngineImpl::LeadGroup(std::unique_lock<std::mutex>& l, const CommitRequest* self,
                           std::vector<CommitRequest*>* completed) {
  // Take what is queued, up to a size that keeps the copy into one batch (and the
  // followers' wait) bounded.
  constexpr size_t kMaxGroupBytes = 4 << 20;
  std::vector<CommitRequest*> group;
  size_t bytes = 0;
  for (CommitRequest* r : queue_) {
    size_t size = r->unit->approximate_size();
    if (!group.empty() && bytes + size > kMaxGroupBytes) break;
    group.push_back(r);
    bytes += size;
  }
  l.unlock();
  CommitGroup(group);
  l.lock();
  for (CommitRequest* r : group) {
    queue_.pop_front();
    if (r->async()) {
      completed->push_back(r);
    } else if (r != self) {
      r->done = true;
      r->cv.notify_one();  // under the lock: the request dies as soon as its thread sees done
    }
  }
  if (queue_.empty()) return;
  if (queue_.front()->async()) {
    // Its thread went on serving others; the committer thread leads for it.
    committer_lead_ = true;
    committer_cv_.notify_one();
  } else {
    queue_.front()->cv.notify_one();
  }
}

void EngineImpl::Complete(std::vector<CommitRequest*>* completed) {
  if (completed->empty()) return;
  for (CommitRequest* r : *completed) {
    if (r->status.ok()) {
      r->callback(r->result);
    } else {
      r->callback(r->status);
    }
    delete r;  // and its unit
  }
  size_t n = completed->size();
  completed->clear();
  std::lock_guard<std::mutex> l(queue_mu_);
  async_pending_ -= n;
  if (async_pending_ == 0) async_idle_cv_.notify_all();
}

void EngineImpl::CommitterLoop() {
  std::vector<CommitRequest*> completed;
  std::unique_lock<std::mutex> l(queue_mu_);
  for (;;) {
    committer_cv_.wait(l, [this] { return committer_lead_ || committer_stopping_; });
    if (!committer_lead_) return;  // stopping, and nothing was handed to us
    committer_lead_ = false;
    LeadGroup(l, nullptr, &completed);
    l.unlock();
    Complete(&completed);
    l.lock();
  }
}

namespace {

// Copies a unit's puts and deletes into the group's batch. Units only ever Put and
// Delete; anything else fails the group as an internal error.
class CopyInto final : public rocksdb::WriteBatch::Handler {
 public:
  CopyInto(rocksdb::WriteBatch* dst, const std::vector<rocksdb::ColumnFamilyHandle*>* cfs)
      : dst_(dst), cfs_(cfs) {}
  rocksdb::Status PutCF(uint32_t id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    return id < cfs_->size() ? dst_->Put((*cfs_)[id], key, value)
                             : rocksdb::Status::Corruption("unknown column family");
  }
  rocksdb::Status DeleteCF(uint32_t id, const rocksdb::Slice& key) override {
    return id < cfs_->size() ? dst_->Delete((*cfs_)[id], key)
                             : rocksdb::Status::Corruption("unknown column family");
  }

 private:
  rocksdb::WriteBatch* dst_;
  const std::vector<rocksdb::ColumnFamilyHandle*>* cfs_;
};

}  // namespace

void EngineImpl::CommitGroup(const std::vector<CommitRequest*>& group) {
  if (options_.group_commit_hook) options_.group_commit_hook(group.size());
  if (HasStickyError()) {
    for (CommitRequest* r : group) r->status = background_error();
    return;
  }

  // Validate in queue order. A unit that passes marks its writes pending, so a later
  // unit of this group that touched the same keys loses, as it would to a committed one.
  std::vector<CommitRequest*> accepted;
  accepted.reserve(group.size());
  for (CommitRequest* r : group) {
    WriteUnitImpl& u = *r->unit;
    bool conflict = false;
    for (ConflictTable::KeyHash k : u.written_keys_) {
      if ((conflict = conflicts_.Conflicts(k, u.snapshot_seq_))) break;
    }
    for (size_t i = 0; !conflict && i < u.locked_reads_.size(); ++i) {
      conflict = conflicts_.Conflicts(u.locked_reads_[i], u.snapshot_seq_);
    }
    if (conflict) {
      r->status = WriteConflictStatus();
      continue;
    }
    for (ConflictTable::KeyHash k : u.written_keys_) conflicts_.MarkPending(k);
    accepted.push_back(r);
  }
  if (accepted.empty()) return;

  // One batch in queue order; each unit's oplog entries get the next timestamps, so the
  // group's timestamps are consecutive and follow the order units appear in the batch.
  rocksdb::ColumnFamilyHandle* oplog_cf = cf(Family::kOplog);
  rocksdb::ColumnFamilyHandle* pre_cf = cf(Family::kPreimages);
  const int64_t wall = NowMillis();
  const uint32_t now_secs = static_cast<uint32_t>(std::max<int64_t>(wall / 1000, 0));
  bson::Timestamp ts = last_ts_;
  bson::Timestamp first_ts;
  uint64_t oplog_bytes = 0;  // what the oplog family grows by: keys and entries
  rocksdb::WriteBatch* batch = &group_batch_;
  batch->Clear();
  rocksdb::Status s;
  std::string key;
  if (accepted.size() == 1) {
    // Alone: write the unit's own batch and skip the copy. Its index is no longer needed.
    batch = accepted[0]->unit->batch_.GetWriteBatch();
  }
  for (CommitRequest* r : accepted) {
    WriteUnitImpl& u = *r->unit;
    if (batch != u.batch_.GetWriteBatch()) {
      CopyInto copy(batch, &cf_by_id_);
      s = u.batch_.GetWriteBatch()->Iterate(&copy);
      if (!s.ok()) break;
    }
    for (size_t i = 0; i < u.oplog_.size() && s.ok(); ++i) {
      PendingOplog& p = u.oplog_[i];
      ts = NextTimestamp(ts, now_secs);
      if (i == 0) r->result.first_ts = ts;
      r->result.last_ts = ts;
      if (first_ts.IsNull()) first_ts = ts;
      PatchOplogEntry(&p.entry, ts, wall);
      key = EncodeOplogKey(ts);
      oplog_bytes += key.size() + p.entry.size();
      s = batch->Put(oplog_cf, ToSlice(key), ToSlice(p.entry));
      if (s.ok() && p.preimage) {
        {
          // Registered before the write so the truncator can never miss this collection.
          std::lock_guard<std::mutex> l(preimage_mu_);
          preimage_uuids_.insert(p.uuid);
        }
        std::string pkey = EncodePreimageKey(p.uuid, ts, p.op_index);
        s = batch->Put(pre_cf, ToSlice(pkey), ToSlice(*p.preimage));
      }
      for (size_t j = 0; j < p.op_preimages.size() && s.ok(); ++j) {
        const PendingOplog::Extra& extra = p.op_preimages[j];
        {
          std::lock_guard<std::mutex> l(preimage_mu_);
          preimage_uuids_.insert(extra.uuid);
        }
        std::string pkey = EncodePreimageKey(extra.uuid, ts, extra.op_index);
        s = batch->Put(pre_cf, ToSlice(pkey), ToSlice(extra.doc));
      }
    }
    if (!s.ok()) break;
  }

  if (s.ok() && batch->Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = false;  // durability comes from the syncer; the WAL record is written now
    s = db_->Write(wo, batch);
  }
  if (!s.ok()) {
    // A failed WAL write (or a batch that could not be built) leaves durability unknown:
    // stop for good. The pending conflict marks stay; no unit commits after this anyway.
    SetStickyError(FromRocks(s, "commit"));
    for (CommitRequest* r : accepted) r->status = background_error();
    return;
  }

  conflicts_.Publish(db_->GetLatestSequenceNumber());
  conflicts_.Prune(OldestUnitSeq());
  if (first_ts.IsNull()) return;  // only units without oplog entries: no timestamp moved

  last_ts_ = ts;
  // The first entry ever written (or after everything was truncated) is the oldest.
  if (oldest_.load(std::memory_order_relaxed) == 0) {
    oldest_.store(first_ts.AsUint64(), std::memory_order_release);
  }
  visible_.store(ts.AsUint64());  // seq_cst: see syncer_idle_

  const uint64_t total = oplog_bytes_.fetch_add(oplog_bytes) + oplog_bytes;
  // Only an idle syncer needs the wake-up; a busy one finds this commit when it next
  // compares visible with durable. (Pairs with the seq_cst store/load in SyncerLoop.)
  // Listeners are not told: nothing waits on `visible`, and `durable` did not move.
  if (syncer_idle_.load()) WakeSyncer(false);
  if (total > options_.oplog_size_bytes) {
    { std::lock_guard<std::mutex> l(trunc_mu_); }
    trunc_cv_.notify_one();
  }
}

void EngineImpl::NotifyWatermarkMoved() {
  std::function<void()>* listener = listener_.load(std::memory_order_acquire);
  if (listener && *listener) (*listener)();
}

void EngineImpl::SetWatermarkListener(std::function<void()> listener) {
  auto owned = std::make_unique<std::function<void()>>(std::move(listener));
  std::lock_guard<std::mutex> l(listeners_mu_);
  listener_.store(owned.get(), std::memory_order_release);
  listeners_.push_back(std::move(owned));
}

void EngineImpl::WakeSyncer(bool request) {
  {
    // Taking the lock orders this wake-up after the syncer's predicate check.
    std::lock_guard<std::mutex> l(sync_mu_);
    if (request) sync_requested_ = true;
  }
  sync_cv_.notify_one();
}

void EngineImpl::RequestSync() { WakeSyncer(true); }

void EngineImpl::SetPromptSync(bool on) {
  bool was = prompt_sync_.exchange(on, std::memory_order_relaxed);
  // The first stream must not wait out a background delay that began before it.
  if (on && !was) WakeSyncer(true);
}

void EngineImpl::SyncerLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> l(sync_mu_);
      sync_cv_.wait(l, [this] {
        // Idle is announced before `visible` is read (both seq_cst), so a commit either
        // is seen here or sees the flag and wakes us.
        syncer_idle_.store(true);
        return stopping_ || (!HasStickyError() &&
                             (sync_requested_ || visible_.load() > durable_.load()));
      });
      syncer_idle_.store(false);
      if (stopping_) return;
      if (!sync_requested_) {
        // Nobody asked for this sync: let more commits gather so one fsync covers many
        // j:false writes, instead of one fsync (and CPU) per commit. A j:true writer's
        // request cuts the delay short. With prompt sync on (change streams wait for
        // every commit) the delay only keeps kPromptSyncInterval between syncs.
        auto until = prompt_sync_.load(std::memory_order_relaxed)
                         ? last_sync_start_ + kPromptSyncInterval
                         : std::chrono::steady_clock::now() + options_.background_sync_delay;
        sync_cv_.wait_until(l, until, [this] { return stopping_ || sync_requested_; });
        if (stopping_) return;
      }
      sync_requested_ = false;
      last_sync_start_ = std::chrono::steady_clock::now();
    }
    // Every commit up to `target` has appended its WAL record, so one flush+sync covers them
    // all; commits arriving during the sync wait for the next round.
    const uint64_t target = visible_.load(std::memory_order_acquire);
    rocksdb::Status s = db_->FlushWAL(/*sync=*/true);
    if (!s.ok()) {
      SetStickyError(FromRocks(s, "WAL sync"));
      continue;
    }
    if (target > durable_.load()) {
      std::lock_guard<std::mutex> l(sync_mu_);
      durable_.store(target, std::memory_order_release);
    }
    durable_cv_.notify_all();
    NotifyWatermarkMoved();
    // The truncator may have been waiting for `durable` to pass old entries.
    if (oplog_bytes_.load() > options_.oplog_size_bytes) trunc_cv_.notify_one();
  }
}

Status EngineImpl::WaitForDurable(bson::Timestamp ts, std::chrono::milliseconds timeout) {
  const uint64_t want = ts.AsUint64();
  if (durable_.load(std::memory_order_acquire) >= want) return Status::OK();
  if (HasStickyError()) return background_error();
  WakeSyncer(true);
  std::unique_lock<std::mutex> l(sync_mu_);
  bool done = durable_cv_.wait_for(l, timeout, [&] {
    return durable_.load() >= want || HasStickyError() || stopping_;
  });
  l.unlock();
  if (durable_.load() >= want) return Status::OK();
  if (HasStickyError()) return background_error();
  if (done) return Status(ErrorCodes::kShutdownInProgress, "storage engine is shutting down");
  return Status(ErrorCodes::kExceededTimeLimit, "timed out waiting for the write to be journaled");
}

bson::Timestamp EngineImpl::ClusterTime() const {
  uint64_t v = visible_.load(std::memory_order_acquire);
  if (v != 0) return bson::Timestamp::FromUint64(v);
  // Nothing was ever written: quote "now" with inc 0, below any real entry of this second.
  return bson::Timestamp{static_cast<uint32_t>(std::max<int64_t>(NowMillis() / 1000, 0)), 0};
}

StatusWith<bson::Timestamp> EngineImpl::WriteNoop(std::string_view msg) {
  bson::Builder b;
  b.AppendString("op", "n");
  b.AppendString("ns", "");
  b.OpenDocument("o").AppendString("msg", msg).Close();
  OplogDraft draft;
  draft.body = b.Done();
  std::unique_ptr<WriteUnit> unit = BeginWriteUnit();
  unit->AddOplog(std::move(draft));
  StatusWith<CommitResult> r = Commit(*unit);
  if (!r.ok()) return r.status();
  return r.value().first_ts;
}

std::unique_ptr<Iterator> EngineImpl::NewOplogIterator(bson::Timestamp start, bool durable_only) {
  // Read the watermark before the iterator pins its view, so everything up to it is seen.
  const uint64_t mark = (durable_only ? durable_ : visible_).load(std::memory_order_acquire);
  std::string lower = EncodeOplogKey(start);
  std::string upper = EncodeOplogKey(bson::Timestamp::FromUint64(mark + 1));
  auto* db = db_;
  auto* oplog_cf = cf(Family::kOplog);
  return std::make_unique<BoundedIterator>(
      std::move(lower), std::move(upper), rocksdb::ReadOptions(),
      [db, oplog_cf](const rocksdb::ReadOptions& o) { return db->NewIterator(o, oplog_cf); });
}

uint64_t EngineImpl::ApproximateSize(Family f, std::string_view lower, std::string_view upper) {
  std::string hi(upper);
  if (hi.empty()) {
    // "To the end": one past the family's last key.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(f)));
    it->SeekToLast();
    if (!it->Valid()) return 0;
    hi = it->key().ToString();
    hi.push_back('\0');
  }
  rocksdb::Range range(ToSlice(lower), ToSlice(hi));
  rocksdb::SizeApproximationOptions opts;
  opts.include_memtables = true;
  opts.include_files = true;
  uint64_t size = 0;
  db_->GetApproximateSizes(opts, cf(f), &range, 1, &size).PermitUncheckedError();
  return size;
}

// ---------------------------------------------------------------- oplog truncation

void EngineImpl::TruncatorLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> l(trunc_mu_);
      trunc_cv_.wait_for(l, std::chrono::seconds(1), [this] {
        return trunc_stopping_ || oplog_bytes_.load() > options_.oplog_size_bytes;
      });
      if (trunc_stopping_) return;
    }
    if (oplog_bytes_.load() <= options_.oplog_size_bytes || HasStickyError()) continue;
    if (!TruncateOnce()) {
      // Everything over the cap is newer than `durable`; the syncer wakes us when it
      // moves, and the short sleep bounds the spin if it does not.
      std::unique_lock<std::mutex> l(trunc_mu_);
      trunc_cv_.wait_for(l, std::chrono::milliseconds(20), [this] { return trunc_stopping_; });
    }
  }
}

bool EngineImpl::TruncateOnce() {
  const uint64_t total = oplog_bytes_.load();
  if (total <= options_.oplog_size_bytes) return true;
  const uint64_t excess = total - options_.oplog_size_bytes;
  // Only entries strictly below `durable` go: a crash can still take back anything
  // above it, and the newest durable entry stays so recovery always finds the last
  // timestamp (and ClusterTime never goes back).
  const uint64_t limit = durable_.load(std::memory_order_acquire);
  const uint64_t first = oldest_.load(std::memory_order_acquire);
  if (limit <= first) return false;

  std::string lower = EncodeOplogKey(bson::Timestamp::FromUint64(first));
  std::string upper = EncodeOplogKey(bson::Timestamp::FromUint64(limit));
  rocksdb::Slice lower_s(lower), upper_s(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_s;
  ro.iterate_upper_bound = &upper_s;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(Family::kOplog)));
  uint64_t freed = 0;
  std::string delete_from;
  it->Seek(lower_s);
  if (it->Valid()) delete_from = it->key().ToString();
  for (; it->Valid() && freed < excess; it->Next()) {
    freed += it->key().size() + it->value().size();
  }
  if (!it->status().ok() || delete_from.empty() || freed == 0) return false;
  // The first entry kept: the iterator's position, or `limit` itself.
  std::string keep_from = it->Valid() ? it->key().ToString() : upper;

  // Readers check oldest_oplog_ts() before seeking; publishing it first means a reader
  // that sees the old value created its iterator (and so its view) before the delete.
  oldest_.store(DecodeOplogKey(keep_from).AsUint64(), std::memory_order_release);

  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.DeleteRange(cf(Family::kOplog), delete_from, keep_from);
  std::vector<CollectionUuid> uuids;
  {
    std::lock_guard<std::mutex> l(preimage_mu_);
    uuids.assign(preimage_uuids_.begin(), preimage_uuids_.end());
  }
  for (const CollectionUuid& u : uuids) {
    if (!s.ok()) break;
    // Pre-images live exactly as long as the oplog entries that reference them.
    std::string from = PreimageKeyPrefix(u);
    std::string to = from + keep_from;  // (uuid, first kept ts, op index 0)
    s = batch.DeleteRange(cf(Family::kPreimages), from, to);
  }
  // Straight to the DB, beside the group commit: no unit writes or reads these keys for
  // update, so they need no conflict history.
  if (s.ok()) s = db_->Write(rocksdb::WriteOptions(), &batch);
  if (!s.ok()) {
    // A failed WAL write is fatal as everywhere; anything else is retried later.
    if (s.IsIOError()) SetStickyError(FromRocks(s, "oplog truncation"));
    return false;
  }
  oplog_bytes_.fetch_sub(std::min(freed, oplog_bytes_.load()));
  return true;
}

}  // namespace internal
}  // namespace brook::storage
