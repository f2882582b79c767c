// Views stored in <db>.system.views (see catalog_cmds_views.h).
#include "commands/catalog_cmds_views.h"

#include "bson/builder.h"
#include "catalog/catalog.h"
#include "commands/crud_args.h"
#include "commands/find_cmd.h"
#include "commands/operation_context.h"
#include "commands/write_ops.h"
#include "query/pipeline.h"
#include "query/update.h"

namespace brook::commands {
namespace {

catalog::Namespace SystemViews(std::string_view db) {
  return catalog::Namespace{std::string(db), std::string(kSystemViews)};
}

std::optional<ViewDefinition> FromDoc(std::string_view db, bson::View doc) {
  auto id = doc["_id"];
  auto view_on = doc["viewOn"];
  if (id.type() != bson::Type::kString || view_on.type() != bson::Type::kString) return std::nullopt;
  auto ns = catalog::ParseNamespace(id.Str());
  if (!ns.ok() || ns.value().db != db) return std::nullopt;
  ViewDefinition v;
  v.ns = ns.value();
  v.view_on = catalog::Namespace{std::string(db), std::string(view_on.Str())};
  v.pipeline = bson::Doc::CopyOf(doc["pipeline"].Obj());
  if (doc["collation"].IsObject()) v.collation = bson::Doc::CopyOf(doc["collation"].Obj());
  return v;
}

// Reads system.views documents matching `filter`.
StatusWith<std::vector<bson::Doc>> ReadDefinitions(OperationContext& op, std::string_view db,
                                                   bson::View filter) {
  std::vector<bson::Doc> out;
  if (!op.service().catalog->Lookup(SystemViews(db))) return out;
  QueryRequest q;
  q.ns = SystemViews(db);
  q.filter = filter;
  auto scan = OpenScan(op, q);
  if (!scan.ok()) return scan.status();
  bson::Doc doc;
  while (true) {
    auto more = scan.value().Next(&doc, nullptr);
    if (!more.ok()) return more.status();
    if (!more.value()) break;
    out.push_back(std::move(doc));
  }
  return out;
}

bson::Doc IdFilter(const catalog::Namespace& ns) {
  bson::Builder b;
  b.AppendString("_id", ns.ns());
  return b.Done();
}

}  // namespace

bson::Doc ConcatStages(bson::View first, bson::View second) {
  bson::Builder b;
  std::string scratch;
  size_t n = 0;
  for (const auto& e : first) b.AppendAs(bson::ArrayKey(n++, &scratch), e);
  for (const auto& e : second) b.AppendAs(bson::ArrayKey(n++, &scratch), e);
  return b.Done();
}

StatusWith<std::optional<ViewDefinition>> LookupView(OperationContext& op, const catalog::Namespace& ns) {
  // Fast paths: a collection is never a view, and most databases have no views.
  if (op.service().catalog->Lookup(ns)) return std::optional<ViewDefinition>();
  if (!op.service().catalog->Lookup(SystemViews(ns.db))) return std::optional<ViewDefinition>();
  bson::Doc filter = IdFilter(ns);
  auto docs = ReadDefinitions(op, ns.db, filter);
  if (!docs.ok()) return docs.status();
  if (docs.value().empty()) return std::optional<ViewDefinition>();
  return FromDoc(ns.db, docs.value().front());
}

StatusWith<std::vector<ViewDefinition>> ListViews(OperationContext& op, std::string_view db) {
  auto docs = ReadDefinitions(op, db, bson::View());
  if (!docs.ok()) return docs.status();
  std::vector<ViewDefinition> out;
  for (const auto& d : docs.value()) {
    if (auto v = FromDoc(db, d)) out.push_back(std::move(*v));
  }
  return out;
}

StatusWith<ResolvedView> ResolveView(OperationContext& op, const ViewDefinition& view) {
  ResolvedView r;
  r.pipeline = bson::Doc::CopyOf(view.pipeline.view());
  catalog::Namespace next = view.view_on;
  for (int depth = 1;; ++depth) {
    if (depth > kMaxViewDepth) {
      return Status(ErrorCodes::kViewDepthLimitExceeded,
                    "View depth too deep or view cycle detected; maximum depth is " +
                        std::to_string(kMaxViewDepth));
    }
    auto inner = LookupView(op, next);
    if (!inner.ok()) return inner.status();
    if (!inner.value()) break;
    r.pipeline = ConcatStages(inner.value()->pipeline, r.pipeline);
    next = inner.value()->view_on;
  }
  r.backing = next;
  return r;
}

Status CreateView(OperationContext& op, const catalog::Namespace& ns, bson::View body) {
  auto view_on = body["viewOn"];
  if (view_on.missing()) {
    return Status(ErrorCodes::kBadValue, "'pipeline' requires 'viewOn' to also be specified");
  }
  if (view_on.type() != bson::Type::kString) return WrongType("create", "viewOn", view_on, "string");
  if (view_on.Str().empty()) {
    return Status(ErrorCodes::kBadValue, "'viewOn' cannot be empty");
  }
  auto pipeline = body["pipeline"];
  bson::Doc stages;
  if (!pipeline.missing()) {
    if (!pipeline.IsArray()) return WrongType("create", "pipeline", pipeline, "array");
    stages = bson::Doc::CopyOf(pipeline.Obj());
  }
  for (const auto& e : body) {
    std::string_view k = e.key();
    if (k == "capped" || k == "size" || k == "max" || k == "validator" ||
        k == "validationLevel" || k == "validationAction" || k == "changeStreamPreAndPostImages" ||
        k == "clusteredIndex" || k == "timeseries" || k == "expireAfterSeconds" ||
        k == "indexOptionDefaults" || k == "storageEngine" || k == "idIndex") {
      return Status(ErrorCodes::kInvalidOptions,
                    "Invalid option specified when creating a view: " + std::string(k));
    }
  }
  catalog::Namespace target{ns.db, std::string(view_on.Str())};
  BROOK_RETURN_IF_ERROR(catalog::ValidateCollectionName(target));
  // The definition must parse as a read-only pipeline.
  query::PipelineOptions popts;
  popts.db = ns.db;
  auto parsed = query::Pipeline::Parse(stages, popts);
  if (!parsed.ok()) return parsed.status();
  for (const auto& e : stages.view()) {
    std::string_view name = e.IsObject() && !e.Obj().empty() ? e.Obj().first().key() : "";
    if (name == "$out" || name == "$merge" || name == "$changeStream") {
      return Status(ErrorCodes::kOptionNotSupportedOnView,
                    "The aggregation stage " + std::string(name) +
                        " cannot be used in a view definition");
    }
  }
  auto existing = LookupView(op, ns);
  if (!existing.ok()) return existing.status();
  if (op.service().catalog->Lookup(ns) || existing.value()) {
    return Status(ErrorCodes::kNamespaceExists, "Namespace already exists: " + ns.ns());
  }
  std::optional<bson::Doc> collation;
  if (auto c = body["collation"]; !c.missing()) {
    auto arg = ParseCollation(body, "create");
    if (!arg.ok()) return arg.status();
    if (arg.value().collator) collation = arg.value().collator->spec().ToBson();
  }
  bson::Builder doc;
  doc.AppendString("_id", ns.ns());
  doc.AppendString("viewOn", view_on.Str());
  doc.AppendArray("pipeline", stages);
  if (collation) doc.AppendDocument("collation", *collation);
  bson::Doc d = doc.Done();
  return InsertOne(op, SystemViews(ns.db), d, nullptr, 0);
}

Status ModifyView(OperationContext& op, const catalog::Namespace& ns, bson::View body) {
  auto view = LookupView(op, ns);
  if (!view.ok()) return view.status();
  if (!view.value()) {
    return Status(ErrorCodes::kNamespaceNotFound, "ns does not exist: " + ns.ns());
  }
  auto view_on = body["viewOn"];
  auto pipeline = body["pipeline"];
  if (view_on.missing() || pipeline.missing()) {
    return Status(ErrorCodes::kInvalidOptions,
                  "must specify both 'viewOn' and 'pipeline' when modifying a view");
  }
  if (view_on.type() != bson::Type::kString) return WrongType("collMod", "viewOn", view_on, "string");
  if (!pipeline.IsArray()) return WrongType("collMod", "pipeline", pipeline, "array");
  query::PipelineOptions popts;
  popts.db = ns.db;
  auto parsed = query::Pipeline::Parse(pipeline.Obj(), popts);
  if (!parsed.ok()) return parsed.status();
  bson::Builder doc;
  doc.AppendString("_id", ns.ns());
  doc.AppendString("viewOn", view_on.Str());
  doc.AppendArray("pipeline", pipeline.Obj());
  if (view.value()->collation) doc.AppendDocument("collation", *view.value()->collation);
  bson::Builder u;
  u.AppendDocument("u", doc.Done());
  bson::Doc update = u.Done();
  auto driver = query::UpdateDriver::Parse(update.view().first(), bson::View(), query::UpdateOptions{});
  if (!driver.ok()) return driver.status();
  bson::Doc filter = IdFilter(ns);
  UpdateRequest ur;
  ur.query = filter;
  ur.driver = driver.value().get();
  // The new definition must resolve: no cycle back to this view, not too deep.
  catalog::Namespace next{ns.db, std::string(view_on.Str())};
  for (int depth = 1;; ++depth) {
    if (next.coll == ns.coll || depth > kMaxViewDepth) {
      return Status(ErrorCodes::kViewDepthLimitExceeded,
                    "View depth too deep or view cycle detected; maximum depth is " +
                        std::to_string(kMaxViewDepth));
    }
    auto inner = LookupView(op, next);
    if (!inner.ok()) return inner.status();
    if (!inner.value()) break;
    next = inner.value()->view_on;
  }
  auto out = ExecuteUpdate(op, SystemViews(ns.db), ur, nullptr, 0);
  if (!out.ok()) return out.status();
  return Status::OK();
}

StatusWith<bool> DropView(OperationContext& op, const catalog::Namespace& ns) {
  auto view = LookupView(op, ns);
  if (!view.ok()) return view.status();
  if (!view.value()) return false;
  bson::Doc filter = IdFilter(ns);
  DeleteRequest dr;
  dr.query = filter;
  auto out = ExecuteDelete(op, SystemViews(ns.db), dr, nullptr, 0);
  if (!out.ok()) return out.status();
  return out.value().n > 0;
}

Status CheckNotView(OperationContext& op, const catalog::Namespace& ns) {
  auto view = LookupView(op, ns);
  if (!view.ok()) return view.status();
  if (view.value()) {
    return Status(ErrorCodes::kCommandNotSupportedOnView,
                  "Namespace " + ns.ns() + " is a view, not a collection");
  }
  return Status::OK();
}

}  // namespace brook::commands
