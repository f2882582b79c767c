#include "catalog/catalog.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <functional>
#include <random>
#include <thread>

#include "bson/compare.h"
#include "catalog/index_spec.h"
#include "catalog/record_store.h"
#include "storage/engine.h"
#include "storage/key_string.h"

namespace brook::catalog {
namespace {

using storage::Family;

constexpr std::string_view kKeyPrefix = "coll/";
constexpr int kMaxDdlAttempts = 100;

std::atomic<PredicateCompiler> g_predicate_compiler{nullptr};

bool IsNoSuchKey(const Status& s) { return s.code() == static_cast<int32_t>(ErrorCodes::kNoSuchKey); }

bson::Doc OplogCommand(const CollectionInfo& info, bool with_ui, bson::View o,
                       std::optional<bson::View> o2 = std::nullopt) {
  bson::Builder b;
  b.AppendString("op", "c");
  b.AppendString("ns", info.ns.CommandNs());
  if (with_ui) AppendUuid(&b, "ui", info.uuid);
  b.AppendDocument("o", o);
  if (o2) b.AppendDocument("o2", *o2);
  return b.Done();
}

void AddCommandOplog(storage::WriteUnit& unit, const CollectionInfo& info, bool with_ui,
                     bson::View o, std::optional<bson::View> o2 = std::nullopt) {
  storage::OplogDraft draft;
  draft.body = OplogCommand(info, with_ui, o, o2);
  if (with_ui) draft.collection_uuid = info.uuid;
  unit.AddOplog(std::move(draft));
}

}  // namespace

// ---- Small helpers ----

Uuid GenerateUuid() {
  static thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd() ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }());
  Uuid u;
  uint64_t a = rng(), b = rng();
  for (int i = 0; i < 8; ++i) {
    u[i] = static_cast<uint8_t>(a >> (8 * i));
    u[8 + i] = static_cast<uint8_t>(b >> (8 * i));
  }
  u[6] = static_cast<uint8_t>((u[6] & 0x0f) | 0x40);
  u[8] = static_cast<uint8_t>((u[8] & 0x3f) | 0x80);
  return u;
}

void AppendUuid(bson::Builder* b, std::string_view key, const Uuid& uuid) {
  b->AppendBinary(key, 4, std::string_view(reinterpret_cast<const char*>(uuid.data()), uuid.size()));
}

std::optional<Uuid> UuidFromElement(const bson::Element& e) {
  if (e.type() != bson::Type::kBinary) return std::nullopt;
  auto bin = e.Bin();
  if (bin.subtype != 4 || bin.bytes.size() != 16) return std::nullopt;
  Uuid u;
  std::memcpy(u.data(), bin.bytes.data(), 16);
  return u;
}

std::string UuidToString(const Uuid& uuid) {
  char buf[40];
  int pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) buf[pos++] = '-';
    std::snprintf(buf + pos, 3, "%02x", uuid[i]);
    pos += 2;
  }
  return std::string(buf, pos);
}

void SetPredicateCompiler(PredicateCompiler compiler) { g_predicate_compiler.store(compiler); }
PredicateCompiler GetPredicateCompiler() { return g_predicate_compiler.load(); }

std::string CatalogKey(const Namespace& ns) {
  std::string k(kKeyPrefix);
  k += ns.db;
  k.push_back('\0');
  k += ns.coll;
  return k;
}

std::string CatalogDbPrefix(std::string_view db) {
  std::string k(kKeyPrefix);
  k += db;
  k.push_back('\0');
  return k;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(s.back());
    if (c != 0xff) {
      ++c;
      return s;
    }
    s.pop_back();
  }
  return s;
}

// ---- CollectionInfo ----

bool CollectionInfo::pre_post_images() const {
  auto e = options["changeStreamPreAndPostImages"];
  return e.IsObject() && e.Obj()["enabled"].Truthy();
}

const IndexInfo* CollectionInfo::FindIndex(std::string_view name) const {
  for (const auto& i : indexes) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

const IndexInfo* CollectionInfo::FindIndexByKey(bson::View key) const {
  for (const auto& i : indexes) {
    if (bson::CompareDocs(i.key, key) == 0) return &i;
  }
  return nullptr;
}

bson::Doc CollectionInfo::IdIndexSpec() const {
  if (const auto* id = FindIndex(kIdIndexName)) return id->spec;
  return MakeIdIndexSpec();
}

// ---- Encoding ----

std::string Catalog::Encode(const CollectionInfo& info) const {
  bson::Builder b;
  b.AppendString("db", info.ns.db);
  b.AppendString("name", info.ns.coll);
  AppendUuid(&b, "uuid", info.uuid);
  b.AppendInt64("id", static_cast<int64_t>(info.id));
  b.AppendDocument("options", info.options);
  b.OpenArray("indexes");
  std::string scratch;
  for (size_t i = 0; i < info.indexes.size(); ++i) {
    b.OpenDocument(bson::ArrayKey(i, &scratch));
    b.AppendInt64("id", static_cast<int64_t>(info.indexes[i].id));
    b.AppendDocument("spec", info.indexes[i].spec);
    b.Close();
  }
  b.Close();
  return b.Done().Release();
}

StatusWith<CollectionPtr> Catalog::Decode(std::string raw) const {
  bson::View v(raw.data());
  auto info = std::make_shared<CollectionInfo>();
  info->ns.db = std::string(v["db"].Str());
  info->ns.coll = std::string(v["name"].Str());
  auto uuid = UuidFromElement(v["uuid"]);
  if (!uuid) return Status(ErrorCodes::kInternalError, "catalog entry without uuid: " + info->ns.ns());
  info->uuid = *uuid;
  info->id = static_cast<uint64_t>(v["id"].NumberInt64());
  info->options = bson::Doc::CopyOf(v["options"].Obj());
  for (const auto& e : v["indexes"].Obj()) {
    bson::View idx = e.Obj();
    auto parsed = IndexFromSpec(idx["spec"].Obj(), static_cast<uint64_t>(idx["id"].NumberInt64()));
    if (!parsed.ok()) return parsed.status();
    info->indexes.push_back(std::move(parsed).value());
  }
  info->raw = std::move(raw);
  return CollectionPtr(std::move(info));
}

// ---- Open and cache ----

StatusWith<std::unique_ptr<Catalog>> Catalog::Open(storage::Engine* engine) {
  auto catalog = std::make_unique<Catalog>(engine);
  auto snap = engine->GetSnapshot();
  std::string lower(kKeyPrefix);
  std::string upper = PrefixSuccessor(lower);
  auto it = snap->NewIterator(Family::kCatalog, lower, upper);
  uint64_t max_id = 0;
  for (it->Seek(lower); it->Valid(); it->Next()) {
    if (it->key() >= upper) break;
    auto decoded = catalog->Decode(std::string(it->value()));
    if (!decoded.ok()) return decoded.status();
    const auto& coll = decoded.value();
    max_id = std::max(max_id, coll->id);
    for (const auto& idx : coll->indexes) max_id = std::max(max_id, idx.id);
    catalog->by_key_[CatalogKey(coll->ns)] = coll;
  }
  BROOK_RETURN_IF_ERROR(it->status());
  catalog->next_id_.store(max_id + 1);
  return catalog;
}

CollectionPtr Catalog::Lookup(const Namespace& ns) const {
  std::shared_lock lock(mu_);
  auto it = by_key_.find(CatalogKey(ns));
  return it == by_key_.end() ? nullptr : it->second;
}

CollectionPtr Catalog::LookupByUuid(const Uuid& uuid) const {
  std::shared_lock lock(mu_);
  for (const auto& [key, coll] : by_key_) {
    if (coll->uuid == uuid) return coll;
  }
  return nullptr;
}

std::vector<CollectionPtr> Catalog::ListCollections(std::string_view db) const {
  std::vector<CollectionPtr> out;
  std::string prefix = CatalogDbPrefix(db);
  std::shared_lock lock(mu_);
  for (auto it = by_key_.lower_bound(prefix); it != by_key_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    out.push_back(it->second);
  }
  return out;
}

std::vector<std::string> Catalog::ListDatabaseNames() const {
  std::vector<std::string> out;
  std::shared_lock lock(mu_);
  for (const auto& [key, coll] : by_key_) {
    if (out.empty() || out.back() != coll->ns.db) out.push_back(coll->ns.db);
  }
  return out;
}

bool Catalog::DatabaseExists(std::string_view db) const { return !ListCollections(db).empty(); }

void Catalog::CacheSet(const CollectionPtr& coll) {
  std::unique_lock lock(mu_);
  by_key_[CatalogKey(coll->ns)] = coll;
}

void Catalog::CacheErase(const Namespace& ns) {
  std::unique_lock lock(mu_);
  by_key_.erase(CatalogKey(ns));
}

StatusWith<CollectionPtr> Catalog::LoadFromUnit(storage::Snapshot& snap, const Namespace& ns) {
  std::string key = CatalogKey(ns);
  StatusWith<std::string> r = [&]() -> StatusWith<std::string> {
    if (auto* unit = dynamic_cast<storage::WriteUnit*>(&snap)) {
      return unit->GetForUpdate(Family::kCatalog, key);
    }
    return snap.Get(Family::kCatalog, key);
  }();
  if (!r.ok()) {
    if (IsNoSuchKey(r.status())) return CollectionPtr();
    return r.status();
  }
  if (auto cached = Lookup(ns); cached && cached->raw == r.value()) return cached;
  return Decode(std::move(r).value());
}

CollectionPtr Catalog::NewCollection(const Namespace& ns, bson::View options) {
  auto info = std::make_shared<CollectionInfo>();
  info->ns = ns;
  info->uuid = GenerateUuid();
  info->id = NextId();
  info->options = bson::Doc::CopyOf(options);
  IndexInfo id_index = IndexFromSpec(MakeIdIndexSpec(), NextId()).value();
  info->indexes.push_back(std::move(id_index));
  info->raw = Encode(*info);
  return info;
}

void Catalog::StageCreate(storage::WriteUnit& unit, const CollectionInfo& info) {
  unit.Put(Family::kCatalog, CatalogKey(info.ns), info.raw);
  bson::Builder o;
  o.AppendString("create", info.ns.coll);
  o.AppendAll(info.options);
  o.AppendDocument("idIndex", info.IdIndexSpec());
  AddCommandOplog(unit, info, true, o.Done());
}

Status Catalog::StageDropData(storage::WriteUnit& unit, const CollectionInfo& info) {
  std::string prefix = storage::RecordKeyPrefix(info.id);
  std::string upper = PrefixSuccessor(prefix);
  std::vector<std::string> keys;
  {
    auto it = unit.NewIterator(Family::kRecords, prefix, upper);
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      if (!upper.empty() && it->key() >= upper) break;
      keys.emplace_back(it->key());
    }
    BROOK_RETURN_IF_ERROR(it->status());
  }
  for (const auto& k : keys) unit.Delete(Family::kRecords, k);
  for (const auto& idx : info.indexes) {
    if (idx.IsIdIndex()) continue;
    BROOK_RETURN_IF_ERROR(DropIndexData(unit, idx));
  }
  return Status::OK();
}

// ---- The document write path ----

StatusWith<WriteTarget> Catalog::PrepareWrite(storage::WriteUnit& unit, const Namespace& ns,
                                              bool create_if_missing) {
  if (ns.IsOplog()) {
    return Status(ErrorCodes::kIllegalOperation, "cannot write to '" + ns.ns() + "'");
  }
  // Most writes skip the catalog read. With no DDL in flight, every DDL committed before
  // now has updated the cache, so a cached definition is at least as new as this unit's
  // snapshot (taken earlier); one committed after the snapshot makes the unit's commit
  // conflict through the registered key, as the read would. A miss (e.g. a collection
  // created implicitly but not yet published) and a unit with writes of its own (which
  // may include this collection's creation) take the read.
  if (!unit.has_writes() && ddl_in_flight_.load() == 0) {
    if (CollectionPtr cached = Lookup(ns)) {
      unit.TrackForUpdate(Family::kCatalog, CatalogKey(ns));
      return WriteTarget{std::move(cached), false};
    }
  }
  auto loaded = LoadFromUnit(unit, ns);
  if (!loaded.ok()) return loaded.status();
  if (loaded.value()) return WriteTarget{loaded.value(), false};
  if (!create_if_missing) {
    return Status(ErrorCodes::kNamespaceNotFound, "ns not found: " + ns.ns());
  }
  BROOK_RETURN_IF_ERROR(ValidateCollectionName(ns));
  auto info = NewCollection(ns, bson::View());
  StageCreate(unit, *info);
  return WriteTarget{info, true};
}

void Catalog::Publish(const CollectionPtr& coll) {
  std::lock_guard ddl(ddl_mu_);
  auto snap = engine_->GetSnapshot();
  auto r = snap->Get(Family::kCatalog, CatalogKey(coll->ns));
  if (!r.ok()) {
    if (IsNoSuchKey(r.status())) CacheErase(coll->ns);
    return;
  }
  if (r.value() == coll->raw) {
    CacheSet(coll);
    return;
  }
  auto decoded = Decode(std::move(r).value());
  if (decoded.ok()) CacheSet(decoded.value());
}

// ---- DDL ----

struct Catalog::Staged {
  std::vector<std::function<void()>> after_commit;
  bool skip_commit = false;
};

template <typename Body>
StatusWith<bson::Timestamp> Catalog::RunDdl(Body body, TxnDdl* txn) {
  if (txn) {
    // Staged in the transaction's unit; its commit makes it durable and the caller then
    // publishes it (after_commit does not run: the cache must not see it before).
    Staged staged;
    BROOK_RETURN_IF_ERROR(body(*txn->unit, &staged));
    return bson::Timestamp{};
  }
  // In flight from before the unit's commit until after the cache update (after_commit).
  struct InFlight {
    std::atomic<int>& n;
    explicit InFlight(std::atomic<int>& c) : n(c) { n.fetch_add(1); }
    ~InFlight() { n.fetch_sub(1); }
  } in_flight(ddl_in_flight_);
  for (int attempt = 0;; ++attempt) {
    auto unit = engine_->BeginWriteUnit();
    Staged staged;
    Status s = body(*unit, &staged);
    if (!s.ok()) return s;
    if (staged.skip_commit) return bson::Timestamp{};
    auto committed = engine_->Commit(*unit);
    if (!committed.ok()) {
      if (committed.status() == ErrorCodes::kWriteConflict && attempt < kMaxDdlAttempts) {
        std::this_thread::sleep_for(std::chrono::microseconds(100 * (1 + attempt)));
        continue;
      }
      return committed.status();
    }
    for (auto& f : staged.after_commit) f();
    return committed.value().last_ts;
  }
}

StatusWith<bson::Timestamp> Catalog::CreateCollection(const Namespace& ns, bson::View options,
                                                      TxnDdl* txn) {
  BROOK_RETURN_IF_ERROR(ValidateCollectionName(ns));
  if (ns.IsOplog()) {
    return Status(ErrorCodes::kNamespaceExists, "Collection " + ns.ns() + " already exists.");
  }
  std::lock_guard ddl(ddl_mu_);
  return RunDdl([&](storage::WriteUnit& unit, Staged* staged) -> Status {
    auto existing = LoadFromUnit(unit, ns);
    if (!existing.ok()) return existing.status();
    if (existing.value()) {
      return Status(ErrorCodes::kNamespaceExists, "Collection " + ns.ns() + " already exists.");
    }
    auto info = NewCollection(ns, options);
    StageCreate(unit, *info);
    staged->after_commit.push_back([this, info] { CacheSet(info); });
    if (txn) txn->staged = info;
    return Status::OK();
  }, txn);
}

StatusWith<bson::Timestamp> Catalog::DropCollection(const Namespace& ns) {
  std::lock_guard ddl(ddl_mu_);
  return RunDdl([&](storage::WriteUnit& unit, Staged* staged) -> Status {
    auto existing = LoadFromUnit(unit, ns);
    if (!existing.ok()) return existing.status();
    if (!existing.value()) return Status(ErrorCodes::kNamespaceNotFound, "ns not found");
    const auto& info = *existing.value();
    BROOK_RETURN_IF_ERROR(StageDropData(unit, info));
    unit.Delete(Family::kCatalog, CatalogKey(ns));
    bson::Builder o;
    o.AppendString("drop", ns.coll);
    AddCommandOplog(unit, info, true, o.Done());
    staged->after_commit.push_back([this, ns] { CacheErase(ns); });
    return Status::OK();
  });
}

StatusWith<bson::Timestamp> Catalog::DropDatabase(std::string_view db) {
  BROOK_RETURN_IF_ERROR(ValidateDbName(db));
  std::lock_guard ddl(ddl_mu_);
  std::string db_name(db);
  return RunDdl([&](storage::WriteUnit& unit, Staged* staged) -> Status {
    std::string prefix = CatalogDbPrefix(db_name);
    std::string upper = PrefixSuccessor(prefix);
    std::vector<std::string> raws;
    {
      auto it = unit.NewIterator(Family::kCatalog, prefix, upper);
      for (it->Seek(prefix); it->Valid(); it->Next()) {
        if (it->key() >= upper) break;
        raws.emplace_back(it->value());
      }
      BROOK_RETURN_IF_ERROR(it->status());
    }
    if (raws.empty()) {
      staged->skip_commit = true;
      return Status::OK();
    }
    CollectionPtr last;
    for (auto& raw : raws) {
      auto decoded = Decode(std::move(raw));
      if (!decoded.ok()) return decoded.status();
      const auto& info = *decoded.value();
      BROOK_RETURN_IF_ERROR(StageDropData(unit, info));
      unit.Delete(Family::kCatalog, CatalogKey(info.ns));
      bson::Builder o;
      o.AppendString("drop", info.ns.coll);
      AddCommandOplog(unit, info, true, o.Done());
      Namespace ns = info.ns;
      staged->after_commit.push_back([this, ns] { CacheErase(ns); });
      last = decoded.value();
    }
    bson::Builder o;
    o.AppendInt32("dropDatabase", 1);
    AddCommandOplog(unit, *last, false, o.Done());
    return Status::OK();
  });
}

StatusWith<bson::Timestamp> Catalog::RenameCollection(const Namespace& from, const Namespace& to,
                                                      bool drop_target) {
  BROOK_RETURN_IF_ERROR(ValidateCollectionName(to));
  if (from.IsOplog() || to.IsOplog()) {
    return Status(ErrorCodes::kIllegalOperation, "can't rename the oplog");
  }
  if (from == to) {
    return Status(ErrorCodes::kIllegalOperation, "Can't rename a collection to itself");
  }
  std::lock_guard ddl(ddl_mu_);
  return RunDdl([&](storage::WriteUnit& unit, Staged* staged) -> Status {
    auto src = LoadFromUnit(unit, from);
    if (!src.ok()) return src.status();
    if (!src.value()) {
      return Status(ErrorCodes::kNamespaceNotFound,
                    "Source collection " + from.ns() + " does not exist");
    }
    auto tgt = LoadFromUnit(unit, to);
    if (!tgt.ok()) return tgt.status();
    if (tgt.value()) {
      if (!drop_target) return Status(ErrorCodes::kNamespaceExists, "target namespace exists");
      BROOK_RETURN_IF_ERROR(StageDropData(unit, *tgt.value()));
    }
    auto renamed = std::make_shared<CollectionInfo>(*src.value());
    renamed->ns = to;
    // Across databases MongoDB copies into a new collection, so the target gets a new
    // UUID; the records stay where they are (they are keyed by the internal id).
    if (from.db != to.db) renamed->uuid = GenerateUuid();
    renamed->raw = Encode(*renamed);
    unit.Delete(Family::kCatalog, CatalogKey(from));
    unit.Put(Family::kCatalog, CatalogKey(to), renamed->raw);
    bson::Builder o;
    o.AppendString("renameCollection", from.ns());
    o.AppendString("to", to.ns());
    o.AppendBool("stayTemp", false);
    if (tgt.value()) AppendUuid(&o, "dropTarget", tgt.value()->uuid);
    AddCommandOplog(unit, *src.value(), true, o.Done());
    CollectionPtr published = renamed;
    staged->after_commit.push_back([this, from, published] {
      CacheErase(from);
      CacheSet(published);
    });
    return Status::OK();
  });
}

StatusWith<CreateIndexesResult> Catalog::CreateIndexes(const Namespace& ns,
                                                       const std::vector<bson::Doc>& specs,
                                                       TxnDdl* txn) {
  BROOK_RETURN_IF_ERROR(ValidateCollectionName(ns));
  if (ns.IsOplog()) return Status(ErrorCodes::kIllegalOperation, "cannot index the oplog");
  std::lock_guard ddl(ddl_mu_);
  CreateIndexesResult result;
  auto ts = RunDdl([&](storage::WriteUnit& unit, Staged* staged) -> Status {
    result = CreateIndexesResult{};
    auto existing = LoadFromUnit(unit, ns);
    if (!existing.ok()) return existing.status();
    CollectionPtr base = existing.value();
    if (!base) {
      base = NewCollection(ns, bson::View());
      result.created_collection = true;
    }
    auto info = std::make_shared<CollectionInfo>(*base);
    result.num_indexes_before = static_cast<int>(base->indexes.size());
    for (const auto& spec : specs) {
      auto normalized = NormalizeIndexSpec(spec);
      if (!normalized.ok()) return normalized.status();
      auto candidate = IndexFromSpec(normalized.value(), 0);
      if (!candidate.ok()) return candidate.status();
      bool exists = false;
      for (const auto& have : info->indexes) {
        auto conflict = CheckIndexConflict(have, candidate.value(), &exists);
        if (!conflict.ok()) return conflict;
        if (exists) break;
      }
      if (exists) continue;
      candidate.value().id = NextId();
      info->indexes.push_back(std::move(candidate).value());
    }
    result.num_indexes_after = static_cast<int>(info->indexes.size());
    if (result.num_indexes_after == result.num_indexes_before && !result.created_collection) {
      result.all_existed = true;
      staged->skip_commit = true;
      return Status::OK();
    }
    if (result.created_collection) StageCreate(unit, *base);
    for (size_t i = base->indexes.size(); i < info->indexes.size(); ++i) {
      const auto& idx = info->indexes[i];
      if (!result.created_collection) BROOK_RETURN_IF_ERROR(BuildIndex(unit, *info, idx));
      bson::Builder o;
      o.AppendString("createIndexes", ns.coll);
      o.AppendAll(idx.spec);
      AddCommandOplog(unit, *info, true, o.Done());
    }
    info->raw = Encode(*info);
    unit.Put(Family::kCatalog, CatalogKey(ns), info->raw);
    CollectionPtr published = info;
    staged->after_commit.push_back([this, published] { CacheSet(published); });
    if (txn) txn->staged = published;
    return Status::OK();
  }, txn);
  if (!ts.ok()) return ts.status();
  result.ts = ts.value();
  return result;
}

StatusWith<DropIndexesResult> Catalog::DropIndexes(const Namespace& ns,
                                                   const std::vector<std::string>& names) {
  std::lock_guard ddl(ddl_mu_);
  DropIndexesResult result;
  auto ts = RunDdl([&](storage::WriteUnit& unit, Staged* staged) -> Status {
    auto existing = LoadFromUnit(unit, ns);
    if (!existing.ok()) return existing.status();
    if (!existing.value()) {
      return Status(ErrorCodes::kNamespaceNotFound, "ns not found " + ns.ns());
    }
    auto info = std::make_shared<CollectionInfo>(*existing.value());
    result.num_indexes_was = static_cast<int>(info->indexes.size());
    for (const auto& name : names) {
      if (name == kIdIndexName) {
        return Status(ErrorCodes::kInvalidOptions, "cannot drop _id index");
      }
      auto it = std::find_if(info->indexes.begin(), info->indexes.end(),
                             [&](const IndexInfo& i) { return i.name == name; });
      if (it == info->indexes.end()) {
        return Status(ErrorCodes::kIndexNotFound, "index not found with name [" + name + "]");
      }
      BROOK_RETURN_IF_ERROR(DropIndexData(unit, *it));
      bson::Builder o;
      o.AppendString("dropIndexes", ns.coll);
      o.AppendString("index", name);
      AddCommandOplog(unit, *info, true, o.Done(), it->spec.view());
      info->indexes.erase(it);
    }
    if (names.empty()) {
      staged->skip_commit = true;
      return Status::OK();
    }
    info->raw = Encode(*info);
    unit.Put(Family::kCatalog, CatalogKey(ns), info->raw);
    CollectionPtr published = info;
    staged->after_commit.push_back([this, published] { CacheSet(published); });
    return Status::OK();
  });
  if (!ts.ok()) return ts.status();
  result.ts = ts.value();
  return result;
}

StatusWith<CollModResult> Catalog::CollMod(const Namespace& ns, bson::View changes,
                                           bson::View index) {
  std::lock_guard ddl(ddl_mu_);
  CollModResult result;
  auto ts = RunDdl([&](storage::WriteUnit& unit, Staged* staged) -> Status {
    auto existing = LoadFromUnit(unit, ns);
    if (!existing.ok()) return existing.status();
    if (!existing.value()) return Status(ErrorCodes::kNamespaceNotFound, "ns does not exist");
    auto info = std::make_shared<CollectionInfo>(*existing.value());
    // New options: the old ones with changed fields replaced in place, new ones appended;
    // changeStreamPreAndPostImages {enabled: false} removes the option, as MongoDB does.
    bson::Builder opts;
    for (const auto& e : info->options) {
      auto changed = changes[e.key()];
      if (changed.missing()) {
        opts.Append(e);
      } else if (!(e.key() == "changeStreamPreAndPostImages" && changed.IsObject() &&
                   !changed.Obj()["enabled"].Truthy())) {
        opts.Append(changed);
      }
    }
    for (const auto& c : changes) {
      if (!info->options.view().HasField(c.key()) &&
          !(c.key() == "changeStreamPreAndPostImages" && c.IsObject() &&
            !c.Obj()["enabled"].Truthy())) {
        opts.Append(c);
      }
    }
    bson::Doc old_options = info->options;
    info->options = opts.Done();
    bson::Builder reply;
    if (!index.empty()) {
      IndexInfo* target = nullptr;
      for (auto& i : info->indexes) {
        if ((index["name"].type() == bson::Type::kString && i.name == index["name"].Str()) ||
            (index["keyPattern"].IsObject() && bson::CompareDocs(i.key, index["keyPattern"].Obj()) == 0)) {
          target = &i;
        }
      }
      if (!target) {
        return Status(ErrorCodes::kIndexNotFound, "cannot find index " + index.ToString() +
                                                      " for ns " + ns.ns());
      }
      auto modified = ModifyIndexSpec(*target, index, &reply);
      if (!modified.ok()) return modified.status();
      *target = std::move(modified).value();
    }
    result.reply_fields = reply.Done();
    info->raw = Encode(*info);
    unit.Put(Family::kCatalog, CatalogKey(ns), info->raw);
    bson::Builder o;
    o.AppendString("collMod", ns.coll);
    o.AppendAll(changes);
    if (!index.empty()) o.AppendDocument("index", index);
    bson::Builder o2;
    o2.AppendDocument("collectionOptions_old", old_options);
    AddCommandOplog(unit, *info, true, o.Done(), o2.Done().view());
    CollectionPtr published = info;
    staged->after_commit.push_back([this, published] { CacheSet(published); });
    return Status::OK();
  });
  if (!ts.ok()) return ts.status();
  result.ts = ts.value();
  return result;
}

}  // namespace brook::catalog
