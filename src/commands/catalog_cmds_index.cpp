// createIndexes, listIndexes and dropIndexes.
#include "bson/builder.h"
#include "bson/compare.h"
#include "catalog/catalog.h"
#include "commands/transactions.h"
#include "commands/catalog_cmds_views.h"
#include "commands/crud_args.h"
#include "commands/cursor_registry.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"

namespace brook::commands {
namespace {

void NoteTs(OperationContext& op, bson::Timestamp ts) {
  if (ts.IsNull()) return;
  if (op.operation_time < ts) op.operation_time = ts;
  if (op.write_concern.NeedsDurability()) op.wait_for_durable = op.operation_time;
}

}  // namespace

Status HandleCreateIndexes(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto ns = CollectionNs(req);
  if (!ns.ok()) return ns.status();
  BROOK_RETURN_IF_ERROR(CheckNotView(op, ns.value()));
  auto indexes = req.body["indexes"];
  if (indexes.missing()) return MissingField("createIndexes", "indexes");
  if (!indexes.IsArray()) return WrongType("createIndexes", "indexes", indexes, "array");
  std::vector<bson::Doc> specs;
  for (const auto& e : indexes.Obj()) {
    if (!e.IsObject()) return WrongType("createIndexes", "indexes", e, "object");
    specs.push_back(bson::Doc::CopyOf(e.Obj()));
  }
  if (specs.empty()) {
    return Status(ErrorCodes::kBadValue, "Must specify at least one index to create");
  }
  std::optional<catalog::TxnDdl> ddl;
  if (op.txn) {
    // As MongoDB: only a collection this transaction creates (now or earlier) may get
    // new indexes inside it.
    if (!op.txn->LookupCreated(ns.value()) && op.service().catalog->Lookup(ns.value())) {
      return Status(ErrorCodes::kOperationNotSupportedInTransaction,
                    "Cannot create new indexes on existing collection " + ns.value().ns() +
                        " in a multi-document transaction.");
    }
    ddl = catalog::TxnDdl{&op.txn->unit(), nullptr};
  }
  auto r = op.service().catalog->CreateIndexes(ns.value(), specs, ddl ? &*ddl : nullptr);
  if (!r.ok()) return r.status();
  if (ddl && ddl->staged) op.txn->NoteCreated(ddl->staged);
  if (op.txn) BROOK_RETURN_IF_ERROR(op.txn->conflict());
  NoteTs(op, r.value().ts);
  const auto& res = r.value();
  reply->AppendInt32("numIndexesBefore", res.num_indexes_before);
  reply->AppendInt32("numIndexesAfter", res.num_indexes_after);
  if (res.all_existed) {
    reply->AppendString("note", "all indexes already exist");
  } else {
    reply->AppendBool("createdCollectionAutomatically", res.created_collection);
  }
  return Status::OK();
}

Status HandleListIndexes(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto ns = CollectionNs(req);
  if (!ns.ok()) return ns.status();
  std::optional<bson::View> cursor_opts;
  BROOK_RETURN_IF_ERROR(GetObject(req.body, "listIndexes", "cursor", &cursor_opts));
  std::optional<int64_t> batch_size;
  if (cursor_opts) BROOK_RETURN_IF_ERROR(GetInt64(*cursor_opts, "cursor", "batchSize", &batch_size, 0));
  auto coll = op.service().catalog->Lookup(ns.value());
  if (!coll) {
    return Status(ErrorCodes::kNamespaceNotFound, "ns does not exist: " + ns.value().ns());
  }
  std::vector<bson::Doc> docs;
  for (const auto& idx : coll->indexes) docs.push_back(idx.spec);
  auto cursor = std::make_unique<StreamCursor>(std::make_unique<VectorStream>(std::move(docs)));
  return ReplyWithCursor(op, ns.value().db + ".$cmd.listIndexes." + ns.value().coll,
                         std::move(cursor), batch_size.value_or(-1), false, reply);
}

Status HandleDropIndexes(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto ns = CollectionNs(req);
  if (!ns.ok()) return ns.status();
  auto index = req.body["index"];
  if (index.missing()) return MissingField("dropIndexes", "index");
  auto coll = op.service().catalog->Lookup(ns.value());
  if (!coll) return Status(ErrorCodes::kNamespaceNotFound, "ns not found " + ns.value().ns());
  std::vector<std::string> names;
  if (index.type() == bson::Type::kString) {
    if (index.Str() == "*") {
      for (const auto& i : coll->indexes) {
        if (!i.IsIdIndex()) names.push_back(i.name);
      }
    } else {
      names.emplace_back(index.Str());
    }
  } else if (index.IsObject()) {
    const auto* found = coll->FindIndexByKey(index.Obj());
    if (!found) {
      return Status(ErrorCodes::kIndexNotFound,
                    "can't find index with key: " + index.Obj().ToString());
    }
    if (found->IsIdIndex()) return Status(ErrorCodes::kInvalidOptions, "cannot drop _id index");
    names.push_back(found->name);
  } else if (index.IsArray()) {
    for (const auto& e : index.Obj()) {
      if (e.type() != bson::Type::kString) return WrongType("dropIndexes", "index", e, "string");
      names.emplace_back(e.Str());
    }
  } else {
    return WrongType("dropIndexes", "index", index, "string");
  }
  auto r = op.service().catalog->DropIndexes(ns.value(), names);
  if (!r.ok()) return r.status();
  NoteTs(op, r.value().ts);
  reply->AppendInt32("nIndexesWas", r.value().num_indexes_was);
  return Status::OK();
}

}  // namespace brook::commands
