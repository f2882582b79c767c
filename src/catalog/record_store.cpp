#include "catalog/record_store.h"

#include <cmath>
#include <cstdio>

#include "bson/builder.h"
#include "bson/compare.h"
#include "storage/engine.h"
#include "storage/key_string.h"

namespace brook::catalog {
namespace {

using storage::Family;

bool IsNoSuchKey(const Status& s) { return s.code() == static_cast<int32_t>(ErrorCodes::kNoSuchKey); }

Status CheckDepth(bson::View obj, int level) {
  for (const auto& e : obj) {
    if ((e.IsObject() || e.IsArray()) && !e.Obj().empty()) {
      if (level >= kMaxUserDocumentDepth) {
        return Status(ErrorCodes::kOverflow, "cannot insert document because it exceeds " +
                                                 std::to_string(kMaxUserDocumentDepth) +
                                                 " levels of nesting");
      }
      BROOK_RETURN_IF_ERROR(CheckDepth(e.Obj(), level + 1));
    }
  }
  return Status::OK();
}

void FormatValue(const bson::Element& e, std::string* out);

void FormatFields(bson::View obj, bool array, std::string* out) {
  if (obj.empty()) {
    out->append(array ? "[]" : "{}");
    return;
  }
  out->append(array ? "[ " : "{ ");
  bool first = true;
  for (const auto& e : obj) {
    if (!first) out->append(", ");
    first = false;
    if (!array) {
      out->append(e.key());
      out->append(": ");
    }
    FormatValue(e, out);
  }
  out->append(array ? " ]" : " }");
}

void FormatValue(const bson::Element& e, std::string* out) {
  char buf[64];
  switch (e.type()) {
    case bson::Type::kString:
    case bson::Type::kSymbol:
      out->push_back('"');
      out->append(e.Str());
      out->push_back('"');
      return;
    case bson::Type::kInt32:
      out->append(std::to_string(e.Int32()));
      return;
    case bson::Type::kInt64:
      out->append(std::to_string(e.Int64()));
      return;
    case bson::Type::kDouble: {
      double d = e.Double();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
        std::snprintf(buf, sizeof(buf), "%.1f", d);
      } else {
        std::snprintf(buf, sizeof(buf), "%.17g", d);
      }
      out->append(buf);
      return;
    }
    case bson::Type::kObjectId:
      out->append("ObjectId('" + e.Oid().ToHex() + "')");
      return;
    case bson::Type::kBool:
      out->append(e.Bool() ? "true" : "false");
      return;
    case bson::Type::kNull:
      out->append("null");
      return;
    case bson::Type::kUndefined:
      out->append("undefined");
      return;
    case bson::Type::kDate:
      out->append("new Date(" + std::to_string(e.DateMillis()) + ")");
      return;
    case bson::Type::kObject:
      FormatFields(e.Obj(), false, out);
      return;
    case bson::Type::kArray:
      FormatFields(e.Obj(), true, out);
      return;
    default:
      out->append(e.ToString());
  }
}

Status DuplicateKeyError(const CollectionInfo& coll, std::string_view index_name,
                         bson::View key_pattern, bson::View key_value) {
  std::string msg = "E11000 duplicate key error collection: " + coll.ns.ns() +
                    " index: " + std::string(index_name) +
                    " dup key: " + FormatKeyForMessage(key_value);
  bson::Builder extra;
  extra.AppendDocument("keyPattern", key_pattern);
  extra.AppendDocument("keyValue", key_value);
  return Status(ErrorCodes::kDuplicateKey, std::move(msg)).WithExtraInfo(extra.Done().Release());
}

bson::Doc IdValueDoc(const bson::Element& id) {
  bson::Builder b;
  b.AppendAs("_id", id);
  return b.Done();
}

const bson::Doc& IdKeyPattern() {
  static const bson::Doc* d = [] {
    bson::Builder b;
    b.AppendInt32("_id", 1);
    return new bson::Doc(b.Done());
  }();
  return *d;
}

std::string EntryKey(const IndexInfo& index, const GeneratedKey& key, const bson::Element& id) {
  std::string k = storage::IndexKeyPrefix(index.id);
  k += key.encoded;
  storage::AppendKeyStringEnd(&k);
  if (!index.unique) storage::AppendKeyString(id, false, &k);
  return k;
}

StatusWith<std::vector<GeneratedKey>> KeysOf(const IndexInfo& index, bson::View doc) {
  std::vector<GeneratedKey> keys;
  if (!index.Covers(doc)) return keys;
  BROOK_RETURN_IF_ERROR(GenerateKeys(index.pattern, doc, index.sparse, &keys));
  return keys;
}

Status AddKey(storage::WriteUnit& unit, const CollectionInfo& coll, const IndexInfo& index,
              const GeneratedKey& key, const bson::Element& id, const std::string& id_value) {
  std::string k = EntryKey(index, key, id);
  if (index.unique) {
    auto existing = unit.GetForUpdate(Family::kIndex, k);
    if (existing.ok()) {
      bson::View other(existing.value().data());
      if (!bson::ValuesEqual(other["_id"], id)) {
        return DuplicateKeyError(coll, index.name, index.key, KeyValueDoc(index.pattern, key));
      }
    } else if (!IsNoSuchKey(existing.status())) {
      return existing.status();
    }
  }
  unit.Put(Family::kIndex, k, id_value);
  return Status::OK();
}

}  // namespace

std::string FormatKeyForMessage(bson::View key_value) {
  std::string out;
  FormatFields(key_value, false, &out);
  return out;
}

Status CheckStorable(bson::View doc) {
  if (doc.size() > kMaxUserDocumentBytes) {
    return Status(ErrorCodes::kBSONObjectTooLarge,
                  "object to insert too large. size in bytes: " + std::to_string(doc.size()) +
                      ", max size: " + std::to_string(kMaxUserDocumentBytes));
  }
  return CheckDepth(doc, 1);
}

Status InsertRecord(storage::WriteUnit& unit, const CollectionInfo& coll, bson::View doc) {
  BROOK_RETURN_IF_ERROR(CheckStorable(doc));
  auto id = doc["_id"];
  if (id.missing()) return Status(ErrorCodes::kInternalError, "document to insert has no _id");
  std::string rk = storage::RecordKey(coll.id, id);
  auto existing = unit.GetForUpdate(Family::kRecords, rk);
  if (existing.ok()) {
    return DuplicateKeyError(coll, kIdIndexName, IdKeyPattern(), IdValueDoc(id));
  }
  if (!IsNoSuchKey(existing.status())) return existing.status();
  unit.Put(Family::kRecords, rk, doc.bytes());
  std::string id_value;  // built for the first secondary index, if any
  for (const auto& index : coll.indexes) {
    if (index.IsIdIndex()) continue;
    if (id_value.empty()) id_value = IdValueDoc(id).Release();
    auto keys = KeysOf(index, doc);
    if (!keys.ok()) return keys.status();
    for (const auto& key : keys.value()) {
      BROOK_RETURN_IF_ERROR(AddKey(unit, coll, index, key, id, id_value));
    }
  }
  return Status::OK();
}

Status UpdateRecord(storage::WriteUnit& unit, const CollectionInfo& coll, bson::View old_doc,
                    bson::View new_doc) {
  BROOK_RETURN_IF_ERROR(CheckStorable(new_doc));
  auto id = new_doc["_id"];
  if (id.missing()) return Status(ErrorCodes::kInternalError, "updated document has no _id");
  std::string rk = storage::RecordKey(coll.id, id);
  // Registers the record for conflict detection: two updates of one document conflict.
  auto current = unit.GetForUpdate(Family::kRecords, rk);
  if (!current.ok()) return current.status();
  unit.Put(Family::kRecords, rk, new_doc.bytes());
  std::string id_value = IdValueDoc(id).Release();
  for (const auto& index : coll.indexes) {
    if (index.IsIdIndex()) continue;
    auto old_keys = KeysOf(index, old_doc);
    if (!old_keys.ok()) return old_keys.status();
    auto new_keys = KeysOf(index, new_doc);
    if (!new_keys.ok()) return new_keys.status();
    const auto& o = old_keys.value();
    const auto& n = new_keys.value();
    // Both lists are sorted by encoding: a merge finds removed and added keys.
    size_t i = 0, j = 0;
    while (i < o.size() || j < n.size()) {
      if (j == n.size() || (i < o.size() && o[i].encoded < n[j].encoded)) {
        unit.Delete(Family::kIndex, EntryKey(index, o[i], id));
        ++i;
      } else if (i == o.size() || n[j].encoded < o[i].encoded) {
        BROOK_RETURN_IF_ERROR(AddKey(unit, coll, index, n[j], id, id_value));
        ++j;
      } else {
        ++i;
        ++j;
      }
    }
  }
  return Status::OK();
}

Status DeleteRecord(storage::WriteUnit& unit, const CollectionInfo& coll, bson::View old_doc) {
  auto id = old_doc["_id"];
  std::string rk = storage::RecordKey(coll.id, id);
  auto current = unit.GetForUpdate(Family::kRecords, rk);
  if (!current.ok()) return current.status();
  unit.Delete(Family::kRecords, rk);
  for (const auto& index : coll.indexes) {
    if (index.IsIdIndex()) continue;
    auto keys = KeysOf(index, old_doc);
    if (!keys.ok()) return keys.status();
    for (const auto& key : keys.value()) unit.Delete(Family::kIndex, EntryKey(index, key, id));
  }
  return Status::OK();
}

StatusWith<std::optional<bson::Doc>> FindById(storage::Snapshot& snap, const CollectionInfo& coll,
                                              const bson::Element& id) {
  auto r = snap.Get(Family::kRecords, storage::RecordKey(coll.id, id));
  if (!r.ok()) {
    if (IsNoSuchKey(r.status())) return std::optional<bson::Doc>();
    return r.status();
  }
  return std::optional<bson::Doc>(bson::Doc(std::move(r).value()));
}

Status BuildIndex(storage::WriteUnit& unit, const CollectionInfo& coll, const IndexInfo& index) {
  std::string prefix = storage::RecordKeyPrefix(coll.id);
  std::string upper = PrefixSuccessor(prefix);
  auto it = unit.NewIterator(Family::kRecords, prefix, upper);
  std::vector<std::pair<std::string, std::string>> docs;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (it->key() >= upper && !upper.empty()) break;
    docs.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  BROOK_RETURN_IF_ERROR(it->status());
  it.reset();
  for (const auto& [key, bytes] : docs) {
    bson::View doc(bytes.data());
    auto id = doc["_id"];
    std::string id_value = IdValueDoc(id).Release();
    auto keys = KeysOf(index, doc);
    if (!keys.ok()) return keys.status();
    for (const auto& k : keys.value()) {
      BROOK_RETURN_IF_ERROR(AddKey(unit, coll, index, k, id, id_value));
    }
  }
  return Status::OK();
}

Status DropIndexData(storage::WriteUnit& unit, const IndexInfo& index) {
  std::string prefix = storage::IndexKeyPrefix(index.id);
  std::string upper = PrefixSuccessor(prefix);
  auto it = unit.NewIterator(Family::kIndex, prefix, upper);
  std::vector<std::string> keys;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (!upper.empty() && it->key() >= upper) break;
    keys.emplace_back(it->key());
  }
  BROOK_RETURN_IF_ERROR(it->status());
  it.reset();
  for (const auto& k : keys) unit.Delete(Family::kIndex, k);
  return Status::OK();
}

StatusWith<CollectionSizes> MeasureCollection(storage::Snapshot& snap, const CollectionInfo& coll) {
  CollectionSizes sizes;
  std::string prefix = storage::RecordKeyPrefix(coll.id);
  std::string upper = PrefixSuccessor(prefix);
  auto it = snap.NewIterator(Family::kRecords, prefix, upper);
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (!upper.empty() && it->key() >= upper) break;
    ++sizes.count;
    sizes.data_bytes += static_cast<int64_t>(it->value().size());
  }
  BROOK_RETURN_IF_ERROR(it->status());
  return sizes;
}

// ---- RecordCursor ----

RecordCursor::RecordCursor(std::shared_ptr<storage::Snapshot> snap, uint64_t collection_id,
                           bool forward)
    : snap_(std::move(snap)), forward_(forward) {
  lower_ = storage::RecordKeyPrefix(collection_id);
  upper_ = PrefixSuccessor(lower_);
  it_ = snap_->NewIterator(Family::kRecords, lower_, upper_);
}

RecordCursor::~RecordCursor() = default;

StatusWith<bool> RecordCursor::Next(bson::Doc* doc) {
  if (!started_) {
    started_ = true;
    if (forward_) {
      it_->Seek(lower_);
    } else if (upper_.empty()) {
      it_->SeekToLast();
    } else {
      it_->SeekForPrev(upper_);
      if (it_->Valid() && it_->key() >= upper_) it_->Prev();
    }
  } else if (it_->Valid()) {
    if (forward_) {
      it_->Next();
    } else {
      it_->Prev();
    }
  }
  if (!it_->Valid()) {
    BROOK_RETURN_IF_ERROR(it_->status());
    return false;
  }
  auto key = it_->key();
  if (key < lower_ || (!upper_.empty() && key >= upper_)) return false;
  *doc = bson::Doc(std::string(it_->value()));
  ++docs_examined_;
  return true;
}

// ---- IndexCursor ----

IndexCursor::IndexCursor(std::shared_ptr<storage::Snapshot> snap, const CollectionInfo& coll,
                         const IndexInfo& index, std::vector<KeyInterval> intervals, bool forward)
    : snap_(std::move(snap)),
      collection_id_(coll.id),
      intervals_(std::move(intervals)),
      forward_(forward) {
  std::string prefix = storage::IndexKeyPrefix(index.id);
  it_ = snap_->NewIterator(Family::kIndex, prefix, PrefixSuccessor(prefix));
}

IndexCursor::~IndexCursor() = default;

bool IndexCursor::PositionInterval() {
  while (next_interval_ < intervals_.size()) {
    const auto& iv = intervals_[next_interval_++];
    if (forward_) {
      it_->Seek(iv.lower);
    } else if (iv.upper.empty()) {
      it_->SeekToLast();
    } else {
      it_->SeekForPrev(iv.upper);
      if (it_->Valid() && it_->key() >= iv.upper) it_->Prev();
    }
    if (it_->Valid() && it_->key() >= iv.lower && (iv.upper.empty() || it_->key() < iv.upper)) {
      return true;
    }
  }
  return false;
}

StatusWith<bool> IndexCursor::Next(bson::Doc* doc) {
  while (true) {
    bool positioned = false;
    if (next_interval_ == 0) {
      positioned = PositionInterval();
    } else if (it_->Valid()) {
      const auto& iv = intervals_[next_interval_ - 1];
      if (forward_) {
        it_->Next();
      } else {
        it_->Prev();
      }
      positioned = it_->Valid() && it_->key() >= iv.lower &&
                   (iv.upper.empty() || it_->key() < iv.upper);
      if (!positioned) positioned = PositionInterval();
    } else {
      positioned = PositionInterval();
    }
    if (!positioned) {
      BROOK_RETURN_IF_ERROR(it_->status());
      return false;
    }
    ++keys_examined_;
    bson::View entry(it_->value().data());
    auto id = entry["_id"];
    std::string rk = storage::RecordKey(collection_id_, id);
    if (!seen_.insert(rk).second) continue;
    auto r = snap_->Get(Family::kRecords, rk);
    if (!r.ok()) {
      if (IsNoSuchKey(r.status())) continue;
      return r.status();
    }
    ++docs_examined_;
    *doc = bson::Doc(std::move(r).value());
    return true;
  }
}

}  // namespace brook::catalog
