#pragma once
// The catalog: databases, collections (name, UUID, numeric id, options) and index
// definitions, persisted in the `catalog` column family and cached in memory.
//
// Owns: collection metadata and every catalog change (create, drop, rename,
// dropDatabase, createIndexes, dropIndexes, collMod), each written in ONE WriteUnit
// together with its `c` oplog entry in MongoDB's shape (ns "db.$cmd", ui = UUID).
// Document and index maintenance lives in record_store.h.
//
// On-disk facts (do not change):
//  - catalog family key "coll/" + db + '\0' + coll  ->  BSON
//    {db, name, uuid: BinData(4), id: int64, options: {...}, indexes: [{id, spec}]}.
//    Keys outside the "coll/" prefix belong to others (the engine's counters).
//  - a collection's numeric id prefixes its record keys; index ids prefix index keys.
//    Ids come from one counter (max id on disk + 1) and are never reused while data with
//    that id exists (a drop deletes the data in the same unit).
//
// Consistency: the storage is the truth inside a WriteUnit; the cache serves readers.
// A document write registers a read of its collection's catalog key (GetForUpdate), so a
// concurrent drop/collMod/createIndexes makes it fail with WriteConflict and retry
// against the new definition. DDL is serialised by one mutex and updates the cache
// after its commit; it counts as in flight until then. A unit that has written nothing
// takes its collection from the cache when no DDL is in flight (the cache is then at
// least as new as the unit's snapshot) and only registers the key (TrackForUpdate).
// Thread-safety: Catalog is thread-safe. CollectionInfo is immutable once published.

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bson/builder.h"
#include "bson/document.h"
#include "bson/types.h"
#include "catalog/index_keys.h"
#include "catalog/namespace.h"
#include "util/status.h"

namespace brook::storage {
class Engine;
class WriteUnit;
class Snapshot;
}  // namespace brook::storage

namespace brook::catalog {

using Uuid = std::array<uint8_t, 16>;
Uuid GenerateUuid();  // random, version 4
void AppendUuid(bson::Builder* b, std::string_view key, const Uuid& uuid);  // BinData 4
std::optional<Uuid> UuidFromElement(const bson::Element& e);
std::string UuidToString(const Uuid& uuid);  // 8-4-4-4-12 hex

// A predicate over documents, used for partial indexes. The catalog cannot depend on the
// query layer, so the command layer installs a compiler at start-up (SetPredicateCompiler).
class DocPredicate {
 public:
  virtual ~DocPredicate() = default;
  virtual bool Matches(bson::View doc) const = 0;
};
using PredicateCompiler = StatusWith<std::shared_ptr<const DocPredicate>> (*)(bson::View filter);
void SetPredicateCompiler(PredicateCompiler compiler);
PredicateCompiler GetPredicateCompiler();

inline constexpr std::string_view kIdIndexName = "_id_";

struct IndexInfo {
  uint64_t id = 0;
  std::string name;
  bson::Doc key;          // the key pattern as given
  KeyPattern pattern;
  bool unique = false;
  bool sparse = false;
  bool hidden = false;
  std::optional<bson::Doc> partial_filter;
  std::shared_ptr<const DocPredicate> partial;  // compiled partial_filter (may be null)
  bson::Doc spec;         // {v: 2, key, name, ...options}: what listIndexes prints

  bool IsIdIndex() const { return name == kIdIndexName; }
  // Whether `doc` belongs in this index (partial filter).
  bool Covers(bson::View doc) const { return !partial || partial->Matches(doc); }
};

struct CollectionInfo {
  Namespace ns;
  Uuid uuid{};
  uint64_t id = 0;
  bson::Doc options;               // create options, as listCollections prints them
  std::vector<IndexInfo> indexes;  // "_id_" first
  std::string raw;                 // the stored bytes (identity of this version)

  bool pre_post_images() const;
  const IndexInfo* FindIndex(std::string_view name) const;
  const IndexInfo* FindIndexByKey(bson::View key) const;
  bson::Doc IdIndexSpec() const;
};
using CollectionPtr = std::shared_ptr<const CollectionInfo>;

struct WriteTarget {
  CollectionPtr coll;
  bool created = false;  // the unit stages an implicit creation: Publish() after commit
};

// DDL inside a multi-document transaction: staged in the transaction's unit instead of
// committed on its own (no timestamp). `staged` receives the new definition, which the
// transaction's statements see and which the caller publishes after the commit.
struct TxnDdl {
  storage::WriteUnit* unit = nullptr;
  std::shared_ptr<const CollectionInfo> staged;
};

struct CreateIndexesResult {
  int num_indexes_before = 0;
  int num_indexes_after = 0;
  bool created_collection = false;
  bool all_existed = false;
  bson::Timestamp ts;  // null when nothing was written
};

struct DropIndexesResult {
  int num_indexes_was = 0;
  bson::Timestamp ts;
};

struct CollModResult {
  bson::Doc reply_fields;  // e.g. {hidden_old, hidden_new}
  bson::Timestamp ts;
};

class Catalog {
 public:
  static StatusWith<std::unique_ptr<Catalog>> Open(storage::Engine* engine);
  explicit Catalog(storage::Engine* engine) : engine_(engine) {}

  storage::Engine* engine() const { return engine_; }

  // ---- Readers (cache). ----
  CollectionPtr Lookup(const Namespace& ns) const;
  CollectionPtr LookupByUuid(const Uuid& uuid) const;
  std::vector<CollectionPtr> ListCollections(std::string_view db) const;
  std::vector<std::string> ListDatabaseNames() const;  // databases holding collections
  bool DatabaseExists(std::string_view db) const;

  // ---- The document write path (see the header comment). ----
  // NamespaceNotFound (26) when absent and !create_if_missing; InvalidNamespace for bad
  // names; IllegalOperation for writes to local.oplog.rs.
  StatusWith<WriteTarget> PrepareWrite(storage::WriteUnit& unit, const Namespace& ns,
                                       bool create_if_missing);
  // After the unit holding an implicit creation committed: makes it visible to readers.
  void Publish(const CollectionPtr& coll);

  // ---- DDL: each runs in its own WriteUnit, retried on WriteConflict. ----
  // `options` holds the create command's option fields (capped, size,
  // changeStreamPreAndPostImages, validator, ...). NamespaceExists (48) when present.
  StatusWith<bson::Timestamp> CreateCollection(const Namespace& ns, bson::View options,
                                               TxnDdl* txn = nullptr);
  // NamespaceNotFound (26) when absent.
  StatusWith<bson::Timestamp> DropCollection(const Namespace& ns);
  // Null timestamp when the database had no collections.
  StatusWith<bson::Timestamp> DropDatabase(std::string_view db);
  // NamespaceNotFound (26) for a missing source, NamespaceExists (48) for an existing
  // target without drop_target.
  StatusWith<bson::Timestamp> RenameCollection(const Namespace& from, const Namespace& to,
                                               bool drop_target);
  // Each spec is {key, name, unique?, sparse?, partialFilterExpression?, ...}; the
  // collection is created when missing.
  StatusWith<CreateIndexesResult> CreateIndexes(const Namespace& ns,
                                                const std::vector<bson::Doc>& specs,
                                                TxnDdl* txn = nullptr);
  // Names must exist (IndexNotFound 27) and not be "_id_" (InvalidOptions 72).
  StatusWith<DropIndexesResult> DropIndexes(const Namespace& ns,
                                            const std::vector<std::string>& names);
  // `changes`: option fields to set (changeStreamPreAndPostImages, validator,
  // validationLevel, validationAction). `index`: {name|keyPattern, hidden?,
  // expireAfterSeconds?} or empty.
  StatusWith<CollModResult> CollMod(const Namespace& ns, bson::View changes, bson::View index);

 private:
  struct Staged;
  StatusWith<CollectionPtr> LoadFromUnit(storage::Snapshot& snap, const Namespace& ns);
  CollectionPtr NewCollection(const Namespace& ns, bson::View options);
  StatusWith<CollectionPtr> Decode(std::string raw) const;
  std::string Encode(const CollectionInfo& info) const;
  void StageCreate(storage::WriteUnit& unit, const CollectionInfo& info);
  Status StageDropData(storage::WriteUnit& unit, const CollectionInfo& info);
  uint64_t NextId() { return next_id_.fetch_add(1); }
  void CacheSet(const CollectionPtr& coll);
  void CacheErase(const Namespace& ns);
  // Runs `body` in fresh units until it commits without WriteConflict.
  template <typename Body>
  StatusWith<bson::Timestamp> RunDdl(Body body, TxnDdl* txn = nullptr);

  storage::Engine* engine_;
  std::atomic<uint64_t> next_id_{1};
  std::mutex ddl_mu_;
  // DDL units between their start and their cache update (see PrepareWrite).
  std::atomic<int> ddl_in_flight_{0};
  mutable std::shared_mutex mu_;
  std::map<std::string, CollectionPtr> by_key_;  // catalog key -> collection
};

// The catalog-family key of a collection, and the prefix of a database's collections.
std::string CatalogKey(const Namespace& ns);
std::string CatalogDbPrefix(std::string_view db);

// The smallest string greater than every string starting with `prefix` ("" if none).
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace brook::catalog
