// count and distinct: read-only scans through the planner.
#include <set>

#include "bson/builder.h"
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
  auto has_collation = ParseCollation(req.body, "count");
  if (!has_collation.ok()) return has_collation.status();
  QueryRequest q;
  q.ns = ns.value();
  q.filter = query.value_or(bson::View());
  q.hint = req.body["hint"];
  q.has_collation = has_collation.value();
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
  auto has_collation = ParseCollation(req.body, "distinct");
  if (!has_collation.ok()) return has_collation.status();
  QueryRequest q;
  q.ns = ns.value();
  q.filter = query.value_or(bson::View());
  q.hint = req.body["hint"];
  q.has_collation = has_collation.value();
  auto scan = OpenScan(op, q);
  if (!scan.ok()) return scan.status();
  query::FieldPath path{std::string(key.Str())};
  // Values are deduplicated by BSON equality: their order-preserving encodings are equal
  // exactly when the values compare equal (1, 1.0 and NumberLong(1) are one value).
  std::set<std::string> seen;
  bson::Builder values;
  size_t count = 0;
  std::string scratch;
  bson::Doc doc;
  while (true) {
    if (op.DeadlinePassed()) return MaxTimeMSExpired();
    auto more = scan.value().Next(&doc, nullptr);
    if (!more.ok()) return more.status();
    if (!more.value()) break;
    auto add = [&](const bson::Element& v) {
      if (seen.insert(storage::KeyStringOf(v)).second) {
        values.AppendAs(bson::ArrayKey(count++, &scratch), v);
      }
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
