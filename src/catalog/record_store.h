#pragma once
// Documents of a collection and their index entries.
//
// Owns: the `records` and `index` families' contents for user collections:
//  - records: RecordKey(collection id, _id) -> the document's BSON;
//  - index:   IndexKeyPrefix(index id) + key fields + (non-unique only) KeyStringOf(_id)
//             -> BSON {_id: <id>} (so a scan can fetch the record without decoding keys).
// Writes stage changes in a WriteUnit (record and every index together); the caller adds
// the oplog entry and commits. Unique probes use GetForUpdate so two concurrent writers of
// the same key conflict (WriteConflict) instead of both succeeding.
// Errors: DuplicateKey 11000 (MongoDB's message + {keyPattern, keyValue} extra info),
// CannotIndexParallelArrays 171, BSONObjectTooLarge 10334, Overflow 15 (nesting depth).
// Thread-safety: cursors belong to one thread at a time; functions are reentrant.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "bson/document.h"
#include "catalog/catalog.h"
#include "util/status.h"

namespace brook::storage {
class Iterator;
}

namespace brook::catalog {

inline constexpr size_t kMaxUserDocumentBytes = 16 * 1024 * 1024;
inline constexpr int kMaxUserDocumentDepth = 180;  // MongoDB: maxBSONDepth(200) - 20

// Size and depth checks for a document about to be stored.
Status CheckStorable(bson::View doc);

// `doc` must carry an _id. DuplicateKey on _id or any unique index.
Status InsertRecord(storage::WriteUnit& unit, const CollectionInfo& coll, bson::View doc);
// Replaces `old_doc` (same _id) by `new_doc`, updating only the index keys that changed.
Status UpdateRecord(storage::WriteUnit& unit, const CollectionInfo& coll, bson::View old_doc,
                    bson::View new_doc);
Status DeleteRecord(storage::WriteUnit& unit, const CollectionInfo& coll, bson::View old_doc);

// Point lookup by _id; nullopt when absent.
StatusWith<std::optional<bson::Doc>> FindById(storage::Snapshot& snap, const CollectionInfo& coll,
                                              const bson::Element& id);

// Adds the keys of every existing document to a new index (createIndexes).
Status BuildIndex(storage::WriteUnit& unit, const CollectionInfo& coll, const IndexInfo& index);
// Deletes every entry of an index.
Status DropIndexData(storage::WriteUnit& unit, const IndexInfo& index);
// Number and total bytes of the collection's documents (a scan; for stats).
struct CollectionSizes {
  int64_t count = 0;
  int64_t data_bytes = 0;
};
StatusWith<CollectionSizes> MeasureCollection(storage::Snapshot& snap, const CollectionInfo& coll);

// Full scan in record key (= _id) order, forwards or backwards.
class RecordCursor {
 public:
  RecordCursor(std::shared_ptr<storage::Snapshot> snap, uint64_t collection_id, bool forward);
  ~RecordCursor();
  // Next document into *doc; false at the end.
  StatusWith<bool> Next(bson::Doc* doc);
  int64_t docs_examined() const { return docs_examined_; }

 private:
  std::shared_ptr<storage::Snapshot> snap_;
  std::unique_ptr<storage::Iterator> it_;
  std::string lower_, upper_;
  bool forward_;
  bool started_ = false;
  int64_t docs_examined_ = 0;
};

// One interval of absolute index-family keys: [lower, upper) (upper empty: unbounded).
struct KeyInterval {
  std::string lower;
  std::string upper;
};

// Walks index intervals (in the given order, each forwards or backwards) and fetches
// each entry's document; a document reached twice (multikey) is returned once.
class IndexCursor {
 public:
  IndexCursor(std::shared_ptr<storage::Snapshot> snap, const CollectionInfo& coll,
              const IndexInfo& index, std::vector<KeyInterval> intervals, bool forward);
  ~IndexCursor();
  StatusWith<bool> Next(bson::Doc* doc);
  int64_t keys_examined() const { return keys_examined_; }
  int64_t docs_examined() const { return docs_examined_; }

 private:
  bool PositionInterval();
  std::shared_ptr<storage::Snapshot> snap_;
  uint64_t collection_id_;
  std::vector<KeyInterval> intervals_;
  bool forward_;
  size_t next_interval_ = 0;
  std::unique_ptr<storage::Iterator> it_;
  std::unordered_set<std::string> seen_;
  int64_t keys_examined_ = 0;
  int64_t docs_examined_ = 0;
};

// MongoDB's shell-like rendering of a key for DuplicateKey messages: { name: "x" }.
std::string FormatKeyForMessage(bson::View key_value);

}  // namespace brook::catalog
