// Snapshots, write units and bounded iterators over the RocksDB engine.

#include <rocksdb/utilities/write_batch_with_index.h>

#include <algorithm>

#include "bson/builder.h"
#include "storage/engine_internal.h"

namespace brook::storage::internal {

namespace {

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

}  // namespace

Status WriteConflictStatus() {
  return Status(ErrorCodes::kWriteConflict, std::string(kWriteConflictReason));
}

Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::OK();
  if (s.IsBusy() || s.IsTryAgain()) return WriteConflictStatus();
  if (s.IsNotFound()) {
    // Every insert's duplicate check ends here: one shared status, not an allocation each.
    static const Status* const not_found = new Status(ErrorCodes::kNoSuchKey, "key not found");
    return *not_found;
  }
  std::string reason(context);
  reason += ": ";
  reason += s.ToString();
  return Status(ErrorCodes::kInternalError, std::move(reason));
}

// ---------------------------------------------------------------- BoundedIterator

BoundedIterator::BoundedIterator(
    std::string lower, std::string upper, rocksdb::ReadOptions options,
    const std::function<rocksdb::Iterator*(const rocksdb::ReadOptions&)>& make)
    : lower_(std::move(lower)), upper_(std::move(upper)) {
  lower_slice_ = ToSlice(lower_);
  upper_slice_ = ToSlice(upper_);
  if (!lower_.empty()) options.iterate_lower_bound = &lower_slice_;
  if (!upper_.empty()) options.iterate_upper_bound = &upper_slice_;
  it_.reset(make(options));
}

void BoundedIterator::Seek(std::string_view key) {
  it_->Seek(ToSlice(key < std::string_view(lower_) ? std::string_view(lower_) : key));
}

void BoundedIterator::SeekForPrev(std::string_view key) {
  if (!upper_.empty() && key >= std::string_view(upper_)) {
    SeekToLast();
    return;
  }
  it_->SeekForPrev(ToSlice(key));
}

void BoundedIterator::SeekToFirst() {
  if (lower_.empty()) {
    it_->SeekToFirst();
  } else {
    it_->Seek(lower_slice_);
  }
}

void BoundedIterator::SeekToLast() {
  if (upper_.empty()) {
    it_->SeekToLast();
    return;
  }
  it_->SeekForPrev(upper_slice_);
  // SeekForPrev is inclusive; the upper bound itself is outside the range.
  if (it_->Valid() && ToView(it_->key()) >= std::string_view(upper_)) it_->Prev();
}

bool BoundedIterator::Valid() const {
  if (!it_->Valid()) return false;
  std::string_view k = ToView(it_->key());
  if (k < std::string_view(lower_)) return false;
  return upper_.empty() || k < std::string_view(upper_);
}

std::string_view BoundedIterator::key() const { return ToView(it_->key()); }
std::string_view BoundedIterator::value() const { return ToView(it_->value()); }
Status BoundedIterator::status() const { return FromRocks(it_->status(), "iterator"); }

// ---------------------------------------------------------------- SnapshotImpl

SnapshotImpl::SnapshotImpl(EngineImpl* engine)
    : engine_(engine), snapshot_(engine->db()->GetSnapshot()) {}

SnapshotImpl::~SnapshotImpl() { engine_->db()->ReleaseSnapshot(snapshot_); }

StatusWith<std::string> SnapshotImpl::Get(Family f, std::string_view key) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  std::string value;
  rocksdb::Status s = engine_->db()->Get(ro, engine_->cf(f), ToSlice(key), &value);
  if (!s.ok()) return FromRocks(s, "snapshot get");
  return value;
}

std::unique_ptr<Iterator> SnapshotImpl::NewIterator(Family f, std::string_view lower,
                                                    std::string_view upper) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  auto* db = engine_->db();
  auto* cf = engine_->cf(f);
  return std::make_unique<BoundedIterator>(
      std::string(lower), std::string(upper), ro,
      [db, cf](const rocksdb::ReadOptions& o) { return db->NewIterator(o, cf); });
}

// ---------------------------------------------------------------- WriteUnitImpl

WriteUnitImpl::WriteUnitImpl(EngineImpl* engine)
    : engine_(engine),
      // overwrite_key: a key written twice reads (and iterates) as its last write.
      batch_(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true) {
  engine->LinkUnit(this);  // takes snapshot_: conflicts are checked against commits after it
  read_options_.snapshot = snapshot_;
}

WriteUnitImpl::~WriteUnitImpl() { engine_->UnlinkUnit(this); }

void WriteUnitImpl::Track(std::vector<ConflictTable::KeyHash>* keys, Family f, std::string_view key) {
  keys->push_back(ConflictTable::HashKey(static_cast<int>(f), key));
}

StatusWith<std::string> WriteUnitImpl::Get(Family f, std::string_view key) {
  std::string value;
  rocksdb::Status s =
      batch_.GetFromBatchAndDB(engine_->db(), read_options_, engine_->cf(f), ToSlice(key), &value);
  if (!s.ok()) return FromRocks(s, "write unit get");
  return value;
}

StatusWith<std::string> WriteUnitImpl::GetForUpdate(Family f, std::string_view key) {
  Track(&locked_reads_, f, key);
  return Get(f, key);
}

std::unique_ptr<Iterator> WriteUnitImpl::NewIterator(Family f, std::string_view lower,
                                                     std::string_view upper) {
  rocksdb::WriteBatchWithIndex* batch = &batch_;
  rocksdb::DB* db = engine_->db();
  auto* cf = engine_->cf(f);
  // The base iterator gets the bounds too; the batch's delta part may ignore them, which
  // BoundedIterator covers.
  return std::make_unique<BoundedIterator>(
      std::string(lower), std::string(upper), read_options_,
      [batch, db, cf](const rocksdb::ReadOptions& o) {
        return batch->NewIteratorWithBase(cf, db->NewIterator(o, cf), &o);
      });
}

void WriteUnitImpl::Put(Family f, std::string_view key, std::string_view value) {
  rocksdb::Status s = batch_.Put(engine_->cf(f), ToSlice(key), ToSlice(value));
  if (!s.ok() && first_error_.ok()) first_error_ = s;
  Track(&written_keys_, f, key);
}

void WriteUnitImpl::Delete(Family f, std::string_view key) {
  rocksdb::Status s = batch_.Delete(engine_->cf(f), ToSlice(key));
  if (!s.ok() && first_error_.ok()) first_error_ = s;
  Track(&written_keys_, f, key);
}

void WriteUnitImpl::AddOplog(OplogDraft draft) {
  PendingOplog p;
  // Built here, outside the sequencer lock; Commit only patches ts and wall.
  p.entry = BuildOplogEntry(draft.body.view(), engine_->term());
  if (draft.preimage) p.preimage = std::move(*draft.preimage).Release();
  p.uuid = draft.collection_uuid;
  p.op_index = draft.op_index;
  oplog_bytes_ += p.entry.size() + (p.preimage ? p.preimage->size() : 0);
  for (auto& extra : draft.op_preimages) {
    std::string bytes = std::move(extra.doc).Release();
    oplog_bytes_ += bytes.size();
    p.op_preimages.push_back(PendingOplog::Extra{extra.uuid, extra.op_index, std::move(bytes)});
  }
  oplog_.push_back(std::move(p));
}

size_t WriteUnitImpl::approximate_size() const {
  return batch_.GetDataSize() + oplog_bytes_;
}

// ---------------------------------------------------------------- oplog entry bytes

std::string BuildOplogEntry(const bson::View& body, int64_t term) {
  bson::Builder b(body.size() + 64);
  b.AppendTimestamp("ts", bson::Timestamp{});
  b.AppendInt64("t", term);
  b.AppendInt64("v", 2);
  b.AppendDate("wall", 0);
  for (const bson::Element& e : body) {
    std::string_view k = e.key();
    if (k == "ts" || k == "t" || k == "v" || k == "wall") continue;  // the sequencer's
    b.Append(e);
  }
  return std::move(b.Done()).Release();
}

namespace {
void StoreLE64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
}  // namespace

void PatchOplogEntry(std::string* entry, bson::Timestamp ts, int64_t wall_millis) {
  // BSON Timestamp is stored as (inc, secs) little-endian, i.e. the uint64 LE.
  StoreLE64(entry->data() + kOplogTsValueOffset, ts.AsUint64());
  StoreLE64(entry->data() + kOplogWallValueOffset, static_cast<uint64_t>(wall_millis));
}

bson::Timestamp NextTimestamp(bson::Timestamp last, uint32_t now_secs) {
  if (now_secs > last.secs) return {now_secs, 1};
  if (last.inc == UINT32_MAX) return {last.secs + 1, 1};
  return {last.secs, last.inc + 1};
}

}  // namespace brook::storage::internal
