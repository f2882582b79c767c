// create, drop, dropDatabase, renameCollection, collMod, listDatabases, listCollections,
// dbStats and collStats.
#include "commands/transactions.h"
#include "commands/catalog_cmds.h"

#include <array>

#include "bson/builder.h"
#include "catalog/record_store.h"
#include "commands/auth_manager.h"
#include "commands/catalog_cmds_views.h"
#include "commands/crud_args.h"
#include "commands/cursor_registry.h"
#include "commands/generic_args.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/write_ops_validation.h"
#include "query/matcher.h"
#include "storage/engine.h"
#include "storage/key_string.h"

namespace brook::commands {
namespace {

catalog::Catalog& Cat(OperationContext& op) { return *op.service().catalog; }

void NoteTimestamp(OperationContext& op, bson::Timestamp ts) {
  if (ts.IsNull()) return;
  if (op.operation_time < ts) op.operation_time = ts;
  if (op.write_concern.NeedsDurability()) op.wait_for_durable = op.operation_time;
}

Status UnknownField(std::string_view cmd, std::string_view field) {
  return Status(40415, "BSON field '" + std::string(cmd) + "." + std::string(field) +
                           "' is an unknown field.");
}

template <size_t N>
Status CheckKnownFields(bson::View body, std::string_view cmd,
                        const std::array<std::string_view, N>& known) {
  bool first = true;
  for (const auto& e : body) {
    if (first) {
      first = false;
      continue;
    }
    if (IsGenericArgument(e.key())) continue;
    bool ok = false;
    for (auto k : known) ok = ok || k == e.key();
    if (!ok) return UnknownField(cmd, e.key());
  }
  return Status::OK();
}

Status CheckPrePostImages(const bson::Element& e, std::string_view cmd) {
  if (e.missing()) return Status::OK();
  if (!e.IsObject()) return WrongType(cmd, "changeStreamPreAndPostImages", e, "object");
  auto enabled = e.Obj()["enabled"];
  if (enabled.missing()) return MissingField("changeStreamPreAndPostImages", "enabled");
  if (enabled.type() != bson::Type::kBool) {
    return WrongType("changeStreamPreAndPostImages", "enabled", enabled, "bool");
  }
  return Status::OK();
}

// Matches `docs` against an optional filter (listDatabases/listCollections).
StatusWith<std::vector<bson::Doc>> FilterDocs(std::vector<bson::Doc> docs, std::optional<bson::View> filter) {
  if (!filter || filter->empty()) return docs;
  query::MatcherOptions opts;
  auto m = query::Matcher::Parse(*filter, opts);
  if (!m.ok()) return m.status();
  std::vector<bson::Doc> out;
  for (auto& d : docs) {
    if (m.value()->Matches(d)) out.push_back(std::move(d));
  }
  return out;
}

StatusWith<int64_t> ScaleOf(bson::View body) {
  auto s = body["scale"];
  if (s.missing()) return int64_t{1};
  if (!s.IsNumber() || s.NumberInt64() < 1) {
    return Status(ErrorCodes::kBadValue, "Scale factor must be a positive integer");
  }
  return s.NumberInt64();
}

}  // namespace

StatusWith<CollectionStats> ComputeCollectionStats(storage::Engine* engine,
                                                   const catalog::CollectionInfo& coll) {
  CollectionStats stats;
  auto snap = engine->GetSnapshot();
  auto sizes = catalog::MeasureCollection(*snap, coll);
  if (!sizes.ok()) return sizes.status();
  stats.count = sizes.value().count;
  stats.size = sizes.value().data_bytes;
  stats.storage_size = static_cast<int64_t>(engine->ApproximateSize(
      storage::Family::kRecords, storage::RecordKeyPrefix(coll.id), storage::RecordKeyPrefixEnd(coll.id)));
  if (stats.storage_size == 0 && stats.size > 0) stats.storage_size = stats.size;
  for (const auto& idx : coll.indexes) {
    int64_t s = 0;
    if (idx.IsIdIndex()) {
      s = stats.count * 16;
    } else {
      s = static_cast<int64_t>(engine->ApproximateSize(storage::Family::kIndex,
                                                       storage::IndexKeyPrefix(idx.id),
                                                       storage::IndexKeyPrefixEnd(idx.id)));
    }
    if (s == 0) s = 4096;
    stats.index_sizes.emplace_back(idx.name, s);
    stats.total_index_size += s;
  }
  return stats;
}

void AppendCollStats(const catalog::CollectionInfo& coll, const CollectionStats& stats,
                     int64_t scale, bson::Builder* b) {
  b->AppendString("ns", coll.ns.ns());
  b->AppendInt64("size", stats.size / scale);
  b->AppendInt64("count", stats.count);
  if (stats.count > 0) b->AppendInt64("avgObjSize", stats.size / stats.count);
  b->AppendInt64("storageSize", stats.storage_size / scale);
  b->AppendInt64("freeStorageSize", 0);
  b->AppendBool("capped", coll.options["capped"].Truthy());
  b->AppendInt64("nindexes", static_cast<int64_t>(coll.indexes.size()));
  b->OpenArray("indexBuilds").Close();
  b->AppendInt64("totalIndexSize", stats.total_index_size / scale);
  b->AppendInt64("totalSize", (stats.storage_size + stats.total_index_size) / scale);
  b->OpenDocument("indexSizes");
  for (const auto& [name, size] : stats.index_sizes) b->AppendInt64(name, size / scale);
  b->Close();
  b->AppendInt64("scaleFactor", scale);
}

Status HandleCreate(OperationContext& op, const CommandRequest& req, bson::Builder* /*reply*/) {
  auto ns = CollectionNs(req);
  if (!ns.ok()) return ns.status();
  static constexpr std::array<std::string_view, 20> kKnown = {
      "capped", "size", "max", "changeStreamPreAndPostImages", "validator", "validationLevel",
      "validationAction", "clusteredIndex", "collation", "timeseries", "viewOn", "pipeline",
      "expireAfterSeconds", "idIndex", "storageEngine", "indexOptionDefaults",
      "encryptedFields", "autoIndexId", "flags", "temp"};
  BROOK_RETURN_IF_ERROR(CheckKnownFields(req.body, "create", kKnown));
  bson::View body = req.body;
  BROOK_RETURN_IF_ERROR(catalog::ValidateCollectionName(ns.value()));
  if (!body["viewOn"].missing() || !body["pipeline"].missing()) {
    return CreateView(op, ns.value(), body);
  }
  {
    auto view = LookupView(op, ns.value());
    if (!view.ok()) return view.status();
    if (view.value()) {
      return Status(ErrorCodes::kNamespaceExists,
                    "Namespace already exists: " + ns.value().ns());
    }
  }
  // The collection's default collation is stored normalized (every field), as
  // listCollections prints it; {locale: "simple"} stores nothing.
  auto collation = ParseCollation(body, "create");
  if (!collation.ok()) return collation.status();
  if (!body["timeseries"].missing()) {
    return Status(ErrorCodes::kCommandNotSupported, "time-series collections are not supported by Brook");
  }
  BROOK_RETURN_IF_ERROR(CheckPrePostImages(body["changeStreamPreAndPostImages"], "create"));
  if (body["capped"].Truthy() && body["size"].missing()) {
    return Status(ErrorCodes::kInvalidOptions, "the 'size' field is required when 'capped' is true");
  }
  auto validator = body["validator"];
  if (!validator.missing() && !validator.IsObject()) {
    return WrongType("create", "validator", validator, "object");
  }
  BROOK_RETURN_IF_ERROR(CheckValidationOptions(body, "create"));
  bson::Builder options;
  bool first = true;
  for (const auto& e : body) {
    if (first) {
      first = false;
      continue;
    }
    if (IsGenericArgument(e.key()) || e.key() == "idIndex" || e.key() == "autoIndexId" ||
        e.key() == "flags" || e.key() == "temp") {
      continue;
    }
    if (e.key() == "changeStreamPreAndPostImages" && !e.Obj()["enabled"].Bool()) continue;
    if (e.key() == "collation") {
      if (collation.value().collator) {
        options.AppendDocument("collation", collation.value().collator->spec().ToBson());
      }
      continue;
    }
    options.Append(e);
  }
  if (op.txn) {
    // MongoDB 4.4+: created inside the transaction, visible to others at its commit.
    if (op.txn->LookupCreated(ns.value())) {
      return Status(ErrorCodes::kNamespaceExists, "Collection " + ns.value().ns() + " already exists.");
    }
    catalog::TxnDdl ddl{&op.txn->unit(), nullptr};
    auto staged = Cat(op).CreateCollection(ns.value(), options.Done(), &ddl);
    if (!staged.ok()) return staged.status();
    if (ddl.staged) op.txn->NoteCreated(ddl.staged);
    return op.txn->conflict();
  }
  auto ts = Cat(op).CreateCollection(ns.value(), options.Done());
  if (!ts.ok()) return ts.status();
  NoteTimestamp(op, ts.value());
  return Status::OK();
}

Status HandleDrop(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto ns = CollectionNs(req);
  if (!ns.ok()) return ns.status();
  if (ns.value().IsOplog()) {
    return Status(ErrorCodes::kIllegalOperation, "can't drop live oplog while replicating");
  }
  auto coll = Cat(op).Lookup(ns.value());
  if (!coll) {
    auto dropped_view = DropView(op, ns.value());
    if (!dropped_view.ok()) return dropped_view.status();
    if (dropped_view.value()) {
      reply->AppendString("ns", ns.value().ns());
      return Status::OK();
    }
  }
  auto ts = Cat(op).DropCollection(ns.value());
  if (!ts.ok()) {
    // MongoDB 7.0: dropping a collection that does not exist succeeds.
    if (ts.status() == ErrorCodes::kNamespaceNotFound) return Status::OK();
    return ts.status();
  }
  NoteTimestamp(op, ts.value());
  reply->AppendInt32("nIndexesWas", coll ? static_cast<int32_t>(coll->indexes.size()) : 1);
  reply->AppendString("ns", ns.value().ns());
  return Status::OK();
}

Status HandleDropDatabase(OperationContext& op, const CommandRequest& req, bson::Builder* /*reply*/) {
  if (req.db == "local" || req.db == "admin" || req.db == "config") {
    if (req.db == "local") {
      return Status(ErrorCodes::kIllegalOperation, "Cannot drop 'local' database while replication is active");
    }
  }
  auto ts = Cat(op).DropDatabase(req.db);
  if (!ts.ok()) return ts.status();
  NoteTimestamp(op, ts.value());
  return Status::OK();
}

Status HandleRenameCollection(OperationContext& op, const CommandRequest& req, bson::Builder* /*reply*/) {
  auto from_e = req.body.first();
  if (from_e.type() != bson::Type::kString) {
    return WrongType("renameCollection", "renameCollection", from_e, "string");
  }
  auto to_e = req.body["to"];
  if (to_e.missing()) return MissingField("renameCollection", "to");
  if (to_e.type() != bson::Type::kString) return WrongType("renameCollection", "to", to_e, "string");
  auto from = catalog::ParseNamespace(from_e.Str());
  if (!from.ok()) return from.status();
  auto to = catalog::ParseNamespace(to_e.Str());
  if (!to.ok()) return to.status();
  std::optional<bool> drop_target;
  BROOK_RETURN_IF_ERROR(GetBool(req.body, "renameCollection", "dropTarget", &drop_target));
  auto ts = Cat(op).RenameCollection(from.value(), to.value(), drop_target.value_or(false));
  if (!ts.ok()) return ts.status();
  NoteTimestamp(op, ts.value());
  return Status::OK();
}

Status HandleCollMod(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto ns = CollectionNs(req);
  if (!ns.ok()) return ns.status();
  static constexpr std::array<std::string_view, 9> kKnown = {
      "changeStreamPreAndPostImages", "validator", "validationLevel", "validationAction",
      "index", "expireAfterSeconds", "viewOn", "pipeline", "dryRun"};
  BROOK_RETURN_IF_ERROR(CheckKnownFields(req.body, "collMod", kKnown));
  BROOK_RETURN_IF_ERROR(CheckPrePostImages(req.body["changeStreamPreAndPostImages"], "collMod"));
  BROOK_RETURN_IF_ERROR(CheckValidationOptions(req.body, "collMod"));
  if (!req.body["viewOn"].missing() || !req.body["pipeline"].missing()) {
    return ModifyView(op, ns.value(), req.body);
  }
  bson::Builder changes;
  std::optional<bson::View> index;
  BROOK_RETURN_IF_ERROR(GetObject(req.body, "collMod", "index", &index));
  for (const auto& e : req.body) {
    if (e.key() == "changeStreamPreAndPostImages" || e.key() == "validator" ||
        e.key() == "validationLevel" || e.key() == "validationAction" ||
        e.key() == "expireAfterSeconds") {
      changes.Append(e);
    }
  }
  auto r = Cat(op).CollMod(ns.value(), changes.Done(), index.value_or(bson::View()));
  if (!r.ok()) return r.status();
  NoteTimestamp(op, r.value().ts);
  reply->AppendAll(r.value().reply_fields);
  return Status::OK();
}

Status HandleListDatabases(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  std::optional<bson::View> filter;
  BROOK_RETURN_IF_ERROR(GetObject(req.body, "listDatabases", "filter", &filter));
  std::optional<bool> name_only;
  BROOK_RETURN_IF_ERROR(GetBool(req.body, "listDatabases", "nameOnly", &name_only));
  auto names = Cat(op).ListDatabaseNames();
  if (std::find(names.begin(), names.end(), "local") == names.end()) names.push_back("local");
  std::sort(names.begin(), names.end());
  // Without the listDatabases privilege a user sees the databases it has privileges on
  // (MongoDB's authorizedDatabases, on unless explicitly false).
  if (!IsAuthorizedFor(op, auth::Resource::Cluster(), "listDatabases")) {
    auto authorized = req.body["authorizedDatabases"];
    if (authorized && !authorized.Truthy()) {
      return Status(ErrorCodes::kUnauthorized, "not authorized on admin to execute command " +
                                                   catalog::FormatKeyForMessage(req.body));
    }
    std::erase_if(names, [&](const std::string& db) { return !CanSeeDatabase(op, db); });
  }
  auto* engine = op.service().engine;
  std::vector<bson::Doc> docs;
  int64_t total = 0;
  for (const auto& name : names) {
    int64_t size = 0;
    if (name == "local") {
      size = static_cast<int64_t>(engine->ApproximateSize(storage::Family::kOplog, "", ""));
    }
    for (const auto& coll : Cat(op).ListCollections(name)) {
      size += static_cast<int64_t>(engine->ApproximateSize(storage::Family::kRecords,
                                                           storage::RecordKeyPrefix(coll->id),
                                                           storage::RecordKeyPrefixEnd(coll->id)));
    }
    if (size == 0) size = 8192;
    bson::Builder d;
    d.AppendString("name", name);
    if (!name_only.value_or(false)) {
      d.AppendInt64("sizeOnDisk", size);
      d.AppendBool("empty", false);
    }
    docs.push_back(d.Done());
    total += size;
  }
  auto filtered = FilterDocs(std::move(docs), filter);
  if (!filtered.ok()) return filtered.status();
  reply->OpenArray("databases");
  std::string scratch;
  for (size_t i = 0; i < filtered.value().size(); ++i) {
    reply->AppendDocument(bson::ArrayKey(i, &scratch), filtered.value()[i]);
  }
  reply->Close();
  if (!name_only.value_or(false)) {
    reply->AppendInt64("totalSize", total);
    reply->AppendInt64("totalSizeMb", total / (1024 * 1024));
  }
  return Status::OK();
}

Status HandleListCollections(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  BROOK_RETURN_IF_ERROR(catalog::ValidateDbName(req.db));
  std::optional<bson::View> filter, cursor_opts;
  BROOK_RETURN_IF_ERROR(GetObject(req.body, "listCollections", "filter", &filter));
  BROOK_RETURN_IF_ERROR(GetObject(req.body, "listCollections", "cursor", &cursor_opts));
  std::optional<bool> name_only;
  BROOK_RETURN_IF_ERROR(GetBool(req.body, "listCollections", "nameOnly", &name_only));
  std::vector<bson::Doc> docs;
  auto add = [&](std::string_view name, bson::View options, const catalog::Uuid* uuid,
                 std::optional<bson::Doc> id_index) {
    bson::Builder d;
    d.AppendString("name", name);
    d.AppendString("type", "collection");
    if (!name_only.value_or(false)) {
      d.AppendDocument("options", options);
      d.OpenDocument("info");
      d.AppendBool("readOnly", false);
      if (uuid) catalog::AppendUuid(&d, "uuid", *uuid);
      d.Close();
      if (id_index) d.AppendDocument("idIndex", *id_index);
    }
    docs.push_back(d.Done());
  };
  // authorizedCollections + nameOnly: a user without listCollections sees the
  // collections it has privileges on (CheckAuthorization let it through for that).
  const bool only_authorized =
      !IsAuthorizedFor(op, auth::Resource::Database(std::string(req.db)), "listCollections");
  auto visible = [&](std::string_view coll) { return !only_authorized || CanSeeCollection(op, req.db, coll); };
  for (const auto& coll : Cat(op).ListCollections(req.db)) {
    if (!visible(coll->ns.coll)) continue;
    add(coll->ns.coll, coll->options, &coll->uuid, coll->IdIndexSpec());
  }
  auto views = ListViews(op, req.db);
  if (!views.ok()) return views.status();
  for (const auto& v : views.value()) {
    if (!visible(v.ns.coll)) continue;
    bson::Builder d;
    d.AppendString("name", v.ns.coll);
    d.AppendString("type", "view");
    if (!name_only.value_or(false)) {
      d.OpenDocument("options");
      d.AppendString("viewOn", v.view_on.coll);
      d.AppendArray("pipeline", v.pipeline);
      if (v.collation) d.AppendDocument("collation", *v.collation);
      d.Close();
      d.OpenDocument("info").AppendBool("readOnly", true).Close();
    }
    docs.push_back(d.Done());
  }
  if (req.db == "local") {
    bson::Builder opts;
    opts.AppendBool("capped", true);
    opts.AppendInt64("size", 1024ll * 1024 * 1024);
    add("oplog.rs", opts.Done(), nullptr, std::nullopt);
  }
  auto filtered = FilterDocs(std::move(docs), filter);
  if (!filtered.ok()) return filtered.status();
  std::optional<int64_t> batch_size;
  if (cursor_opts) BROOK_RETURN_IF_ERROR(GetInt64(*cursor_opts, "cursor", "batchSize", &batch_size, 0));
  auto cursor = std::make_unique<StreamCursor>(std::make_unique<VectorStream>(std::move(filtered).value()));
  return ReplyWithCursor(op, std::string(req.db) + ".$cmd.listCollections", std::move(cursor),
                         batch_size.value_or(-1), false, reply);
}

Status HandleDbStats(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  BROOK_RETURN_IF_ERROR(catalog::ValidateDbName(req.db));
  auto scale = ScaleOf(req.body);
  if (!scale.ok()) return scale.status();
  int64_t objects = 0, data = 0, storage_size = 0, indexes = 0, index_size = 0;
  auto colls = Cat(op).ListCollections(req.db);
  for (const auto& coll : colls) {
    auto stats = ComputeCollectionStats(op.service().engine, *coll);
    if (!stats.ok()) return stats.status();
    objects += stats.value().count;
    data += stats.value().size;
    storage_size += stats.value().storage_size;
    indexes += static_cast<int64_t>(coll->indexes.size());
    index_size += stats.value().total_index_size;
  }
  int64_t s = scale.value();
  reply->AppendString("db", req.db);
  reply->AppendInt64("collections", static_cast<int64_t>(colls.size()));
  auto views = ListViews(op, req.db);
  reply->AppendInt64("views", views.ok() ? static_cast<int64_t>(views.value().size()) : 0);
  reply->AppendInt64("objects", objects);
  reply->AppendDouble("avgObjSize", objects ? static_cast<double>(data) / objects : 0.0);
  reply->AppendDouble("dataSize", static_cast<double>(data / s));
  reply->AppendDouble("storageSize", static_cast<double>(storage_size / s));
  reply->AppendInt64("indexes", indexes);
  reply->AppendDouble("indexSize", static_cast<double>(index_size / s));
  reply->AppendDouble("totalSize", static_cast<double>((storage_size + index_size) / s));
  reply->AppendInt64("scaleFactor", s);
  reply->AppendDouble("fsUsedSize", 0.0);
  reply->AppendDouble("fsTotalSize", 0.0);
  return Status::OK();
}

Status HandleCollStats(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto ns = CollectionNs(req);
  if (!ns.ok()) return ns.status();
  auto scale = ScaleOf(req.body);
  if (!scale.ok()) return scale.status();
  auto coll = Cat(op).Lookup(ns.value());
  if (!coll) {
    return Status(ErrorCodes::kNamespaceNotFound, "Collection [" + ns.value().ns() + "] not found.");
  }
  auto stats = ComputeCollectionStats(op.service().engine, *coll);
  if (!stats.ok()) return stats.status();
  AppendCollStats(*coll, stats.value(), scale.value(), reply);
  return Status::OK();
}

}  // namespace brook::commands
