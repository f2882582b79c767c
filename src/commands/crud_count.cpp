// count and distinct: read-only scans through the planner.
#include <set>

#include "bson/builder.h"
#include "bson/compare.h"
#include "catalog/catalog.h"
#include "commands/aggregate_cmd.h"
#include "commands/catalog_cmds_views.h"
#include "commands/crud_args.h"
#include "commands/find_cmd.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "query/path.h"
#include "storage/key_string.h"

namespace brook::commands {

Status HandleCount(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto ns = CollectionNs(req);
  if (!ns.ok()) return ns.status();
  std::optional<bson::View> query;
  BROOK_RETURN_IF_ERROR(GetObject(req.body, "count", "query", &query));
  std::optional<int64_t> limit, skip;
  BROOK_RETURN_IF_ERROR(GetInt64(req.body, "count", "limit", &limit));
  BROOK_RETURN_IF_ERROR(GetInt64(req.body, "count", "skip", &skip, 0));
  auto collation = ParseCollation(req.body, "count");
  if (!collation.ok()) return collation.status();
  auto view = LookupView(op, ns.value());
  if (!view.ok()) return view.status();
  if (view.value()) {
    // A view counts the output of its pipeline after the query, skip and limit.
    bson::Builder b;
    std::string scratch;
    size_t i = 0;
    if (query && !query->empty()) {
      b.OpenDocument(bson::ArrayKey(i++, &scratch)).AppendDocument("$match", *query).Close();
    }
    if (skip && *skip > 0) b.OpenDocument(bson::ArrayKey(i++, &scratch)).AppendInt64("$skip", *skip).Close();
    if (limit && *limit != 0) {
      b.OpenDocument(bson::ArrayKey(i++, &scratch))
          .AppendInt64("$limit", *limit < 0 ? -*limit : *limit)
          .Close();
    }
    bson::Doc stages = b.Done();
    auto docs = RunPipelineToVector(op, ns.value(), stages, collation.value(), std::nullopt);
    if (!docs.ok()) return docs.status();
    reply->AppendInt32("n", static_cast<int32_t>(docs.value().size()));
    return Status::OK();
  }
  query::CollatorPtr collator =
      EffectiveCollator(collation.value(), op.service().catalog->Lookup(ns.value()).get());
  QueryRequest q;
  q.ns = ns.value();
  q.filter = query.value_or(bson::View());
  q.hint = req.body["hint"];
  q.collator = collator.get();
  q.has_collation = collator != nullptr;
  auto scan = OpenScan(op, q);
  if (!scan.ok()) return scan.status();
  int64_t to_skip = skip.value_or(0);
  int64_t max = limit && *limit != 0 ? (*limit < 0 ? -*limit : *limit) : -1;
  int64_t n = 0;
  bson::Doc doc;
  while (max < 0 || n < max) {
    if (op.DeadlinePassed()) return MaxTimeMSExpired();
    auto more = scan.value().Next(&doc, nullptr);
    if (!more.ok()) return more.status();
    if (!more.value()) break;
    if (to_skip > 0) {
      --to_skip;
      continue;
    }
    ++n;
  }
  if (n <= INT32_MAX) {
    reply->AppendInt32("n", static_cast<int32_t>(n));
  } else {
    reply->AppendInt64("n", n);
  }
  return Status::OK();
}

Status HandleDistinct(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto ns = CollectionNs(req);
  if (!ns.ok()) return ns.status();
  auto key = req.body["key"];
  if (key.missing()) return MissingField("distinct", "key");
  if (key.type() != bson::Type::kString) return WrongType("distinct", "key", key, "string");
  std::optional<bson::View> query;
  BROOK_RETURN_IF_ERROR(GetObject(req.body, "distinct", "query", &query));
  auto collation = ParseCollation(req.body, "distinct");
  if (!collation.ok()) return collation.status();
  query::CollatorPtr collator =
      EffectiveCollator(collation.value(), op.service().catalog->Lookup(ns.value()).get());
  // On a view the documents come from its pipeline (then the query).
  auto view = LookupView(op, ns.value());
  if (!view.ok()) return view.status();
  std::optional<std::vector<bson::Doc>> view_docs;
  size_t view_pos = 0;
  if (view.value()) {
    bson::Builder b;
    if (query && !query->empty()) b.OpenDocument("0").AppendDocument("$match", *query).Close();
    bson::Doc stages = b.Done();
    auto docs = RunPipelineToVector(op, ns.value(), stages, collation.value(), std::nullopt);
    if (!docs.ok()) return docs.status();
    view_docs = std::move(docs).value();
  }
  QueryRequest q;
  q.ns = ns.value();
  q.filter = query.value_or(bson::View());
  q.hint = req.body["hint"];
  q.collator = collator.get();
  q.has_collation = collator != nullptr;
  StatusWith<Scan> scan = Scan();
  if (!view_docs) scan = OpenScan(op, q);
  if (!scan.ok()) return scan.status();
  auto next_doc = [&](bson::Doc* out) -> StatusWith<bool> {
    if (!view_docs) return scan.value().Next(out, nullptr);
    if (view_pos >= view_docs->size()) return false;
    *out = std::move((*view_docs)[view_pos++]);
    return true;
  };
  query::FieldPath path{std::string(key.Str())};
  // Values are deduplicated by BSON equality: their order-preserving encodings are equal
  // exactly when the values compare equal (1, 1.0 and NumberLong(1) are one value). Under
  // a collation strings equal by the collator are one value too (the first one seen).
  std::set<std::string> seen;
  auto by_collation = [&collator](const bson::Doc& a, const bson::Doc& b) {
    return bson::CompareValues(a.view().first(), b.view().first(), collator.get()) < 0;
  };
  std::set<bson::Doc, decltype(by_collation)> seen_collated(by_collation);
  bson::Builder values;
  size_t count = 0;
  std::string scratch;
  bson::Doc doc;
  while (true) {
    if (op.DeadlinePassed()) return MaxTimeMSExpired();
    auto more = next_doc(&doc);
    if (!more.ok()) return more.status();
    if (!more.value()) break;
    auto add = [&](const bson::Element& v) {
      bool is_new;
      if (collator) {
        bson::Builder one;
        one.AppendAs("v", v);
        is_new = seen_collated.insert(one.Done()).second;
      } else {
        is_new = seen.insert(storage::KeyStringOf(v)).second;
      }
      if (is_new) values.AppendAs(bson::ArrayKey(count++, &scratch), v);
    };
    query::VisitPath(doc, path, query::LeafArrayBehavior::kNoTraversal,
                     [&](const bson::Element& v, int) {
                       if (v.missing()) return false;
                       if (v.IsArray()) {
                         for (const auto& item : v.Obj()) add(item);
                       } else {
                         add(v);
                       }
                       return false;
                     });
  }
  reply->AppendArray("values", values.Done());
  return Status::OK();
}

}  // namespace brook::commands
