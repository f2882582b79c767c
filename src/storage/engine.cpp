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
// How long an unrequested sync waits for more commits. Bounds how far `durable` (and so
// change streams, which read only durable entries) lags a j:false write when nobody asks.
constexpr std::chrono::microseconds kBackgroundSyncDelay{2000};
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
    if (point_reads) {
      o->memtable_prefix_bloom_size_ratio = 0.05;
      o->memtable_whole_key_filtering = true;
    }
  };

  rocksdb::ColumnFamilyOptions tracked;
  tune(&tracked, true);
  // Optimistic conflict checks look up each written key's latest sequence number in the
  // memtables; once the memtable holding a commit newer than the unit's snapshot is
  // flushed, the check fails with TryAgain (reported as WriteConflict). Keeping flushed
  // memtables around gives long units room before that happens.
  tracked.max_write_buffer_size_to_maintain = 64ll << 20;  // one default memtable
  rocksdb::ColumnFamilyOptions untracked;  // oplog, pre-images: written untracked
  tune(&untracked, false);

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, untracked);
  for (int i = 0; i < static_cast<int>(Family::kCount); ++i) {
    Family f = static_cast<Family>(i);
    bool is_log = f == Family::kOplog || f == Family::kPreimages;
    descriptors.emplace_back(kFamilyNames[i], is_log ? untracked : tracked);
  }

  rocksdb::OptimisticTransactionDBOptions occ;
  occ.validate_policy = rocksdb::OccValidationPolicy::kValidateParallel;
  rocksdb::Status s = rocksdb::OptimisticTransactionDB::Open(db_options, occ, options_.dbpath,
                                                             descriptors, &handles_, &db_);
  if (!s.ok()) {
    db_ = nullptr;
    return Status(ErrorCodes::kInternalError,
                  "cannot open storage at " + options_.dbpath + ": " + s.ToString());
  }
  for (int i = 0; i < static_cast<int>(Family::kCount); ++i) cfs_[i] = handles_[i + 1];

  BROOK_RETURN_IF_ERROR(Recover());
  syncer_ = std::thread([this] { SyncerLoop(); });
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

StatusWith<CommitResult> EngineImpl::Commit(WriteUnit& unit_base) {
  auto& unit = static_cast<WriteUnitImpl&>(unit_base);
  if (unit.engine_ != this) {
    return Status(ErrorCodes::kInternalError, "write unit belongs to another engine");
  }
  if (unit.finished_) {
    return Status(ErrorCodes::kInternalError, "write unit was already committed or failed");
  }
  if (!unit.first_error_.ok()) {
    unit.finished_ = true;
    return FromRocks(unit.first_error_, "write unit");
  }
  if (HasStickyError()) {
    unit.finished_ = true;
    return background_error();
  }
  if (!unit.oplog_.empty()) return CommitWithOplog(unit);

  // No oplog entry: no timestamp, so no need to serialise with the sequencer.
  unit.finished_ = true;
  rocksdb::Status s = unit.txn_->Commit();
  if (!s.ok()) {
    if (s.IsBusy() || s.IsTryAgain()) return FromRocks(s, "commit");
    Status st = FromRocks(s, "commit");
    SetStickyError(st);
    return background_error();
  }
  return CommitResult{};
}

StatusWith<CommitResult> EngineImpl::CommitWithOplog(WriteUnitImpl& unit) {
  unit.finished_ = true;
  rocksdb::Transaction* txn = unit.txn_.get();
  rocksdb::ColumnFamilyHandle* oplog_cf = cf(Family::kOplog);
  rocksdb::ColumnFamilyHandle* pre_cf = cf(Family::kPreimages);

  uint64_t oplog_bytes = 0;  // what the oplog family grows by: keys and entries
  for (const PendingOplog& p : unit.oplog_) {
    oplog_bytes += 8 + p.entry.size();
    if (!p.preimage) continue;
    // Registered before the commit so the truncator can never miss this collection.
    std::lock_guard<std::mutex> l(preimage_mu_);
    preimage_uuids_.insert(p.uuid);
  }

  CommitResult result;
  rocksdb::Status s;
  {
    std::lock_guard<std::mutex> l(seq_mu_);
    if (HasStickyError()) return background_error();
    const int64_t wall = NowMillis();
    const uint32_t now_secs = static_cast<uint32_t>(std::max<int64_t>(wall / 1000, 0));
    bson::Timestamp ts = last_ts_;
    std::string key;
    for (size_t i = 0; i < unit.oplog_.size(); ++i) {
      PendingOplog& p = unit.oplog_[i];
      ts = NextTimestamp(ts, now_secs);
      if (i == 0) result.first_ts = ts;
      PatchOplogEntry(&p.entry, ts, wall);
      key = EncodeOplogKey(ts);
      // Untracked: nobody else can write this key, so no conflict bookkeeping needed.
      s = txn->PutUntracked(oplog_cf, ToSlice(key), ToSlice(p.entry));
      if (s.ok() && p.preimage) {
        std::string pkey = EncodePreimageKey(p.uuid, ts, p.op_index);
        s = txn->PutUntracked(pre_cf, ToSlice(pkey), ToSlice(*p.preimage));
      }
      if (!s.ok()) break;
    }
    result.last_ts = ts;
    if (s.ok()) s = txn->Commit();
    if (s.ok()) {
      last_ts_ = ts;
      // The first entry ever written (or after everything was truncated) is the oldest.
      if (oldest_.load(std::memory_order_relaxed) == 0) {
        oldest_.store(result.first_ts.AsUint64(), std::memory_order_release);
      }
      visible_.store(ts.AsUint64());  // seq_cst: see syncer_idle_
    }
  }

  if (!s.ok()) {
    if (s.IsBusy() || s.IsTryAgain()) return FromRocks(s, "commit");
    // Anything else (a WAL write error) leaves durability unknown: stop for good.
    SetStickyError(FromRocks(s, "commit"));
    return background_error();
  }

  const uint64_t total = oplog_bytes_.fetch_add(oplog_bytes) + oplog_bytes;
  // Only an idle syncer needs the wake-up; a busy one finds this commit when it next
  // compares visible with durable. (Pairs with the seq_cst store/load in SyncerLoop.)
  // Listeners are not told: nothing waits on `visible`, and `durable` did not move.
  if (syncer_idle_.load()) WakeSyncer(false);
  if (total > options_.oplog_size_bytes) {
    { std::lock_guard<std::mutex> l(trunc_mu_); }
    trunc_cv_.notify_one();
  }
  return result;
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
        // Nobody waits for this sync: let more commits gather so one fsync covers many
        // j:false writes, instead of one fsync (and CPU) per commit. A j:true writer's
        // request cuts the delay short.
        sync_cv_.wait_for(l, kBackgroundSyncDelay,
                          [this] { return stopping_ || sync_requested_; });
        if (stopping_) return;
      }
      sync_requested_ = false;
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
  // The base DB: OptimisticTransactionDB::Write replays a batch as a transaction, which
  // cannot hold range deletions. No unit tracks these keys, so bypassing it is safe.
  if (s.ok()) s = db_->GetBaseDB()->Write(rocksdb::WriteOptions(), &batch);
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
