#include "catalog/index_spec.h"

#include <array>
#include <string_view>

#include "bson/compare.h"
#include "catalog/record_store.h"

namespace brook::catalog {
namespace {

// Options accepted in a spec (beyond key/name/v), stored as given.
constexpr std::array<std::string_view, 13> kKnownOptions = {
    "unique",   "sparse",    "partialFilterExpression", "expireAfterSeconds", "hidden",
    "collation", "storageEngine", "weights", "default_language", "language_override",
    "textIndexVersion", "bits", "min"};

bool IsKnown(std::string_view f) {
  if (f == "max" || f == "2dsphereIndexVersion" || f == "wildcardProjection" ||
      f == "clustered" || f == "prepareUnique") {
    return true;
  }
  for (auto k : kKnownOptions) {
    if (k == f) return true;
  }
  return false;
}

std::string Render(bson::View spec) { return FormatKeyForMessage(spec); }

bool SameOptions(const IndexInfo& a, const IndexInfo& b) {
  if (a.unique != b.unique || a.sparse != b.sparse) return false;
  auto ea = a.spec["expireAfterSeconds"], eb = b.spec["expireAfterSeconds"];
  if (ea.missing() != eb.missing()) return false;
  if (!ea.missing() && !bson::ValuesEqual(ea, eb)) return false;
  if (a.partial_filter.has_value() != b.partial_filter.has_value()) return false;
  if (a.partial_filter && bson::CompareDocs(*a.partial_filter, *b.partial_filter) != 0) return false;
  return true;
}

bool SamePartialAndCollation(const IndexInfo& a, const IndexInfo& b) {
  if (a.partial_filter.has_value() != b.partial_filter.has_value()) return false;
  if (a.partial_filter && bson::CompareDocs(*a.partial_filter, *b.partial_filter) != 0) return false;
  auto ca = a.spec["collation"], cb = b.spec["collation"];
  if (ca.missing() != cb.missing()) return false;
  return ca.missing() || bson::ValuesEqual(ca, cb);
}

}  // namespace

bson::Doc MakeIdIndexSpec() {
  bson::Builder b;
  b.AppendInt32("v", 2);
  b.OpenDocument("key");
  b.AppendInt32("_id", 1);
  b.Close();
  b.AppendString("name", kIdIndexName);
  return b.Done();
}

StatusWith<bson::Doc> NormalizeIndexSpec(bson::View spec) {
  auto key = spec["key"];
  if (key.missing()) {
    return Status(ErrorCodes::kFailedToParse,
                  "The 'key' field is a required property of an index specification");
  }
  if (!key.IsObject()) {
    return Status(ErrorCodes::kTypeMismatch,
                  "The field 'key' must be an object, but got " + std::string(bson::TypeName(key.type())));
  }
  auto pattern = KeyPattern::Parse(key.Obj());
  if (!pattern.ok()) return pattern.status();
  auto name = spec["name"];
  if (name.missing()) {
    return Status(ErrorCodes::kFailedToParse,
                  "The 'name' field is a required property of an index specification");
  }
  if (name.type() != bson::Type::kString) {
    return Status(ErrorCodes::kTypeMismatch, "The field 'name' must be a string, but got " +
                                                 std::string(bson::TypeName(name.type())));
  }
  if (name.Str().empty()) {
    return Status(ErrorCodes::kCannotCreateIndex, "index name cannot be empty");
  }
  auto v = spec["v"];
  if (!v.missing() && (!v.IsNumber() || v.NumberInt64() < 1 || v.NumberInt64() > 2)) {
    return Status(ErrorCodes::kCannotCreateIndex,
                  "Invalid index specification " + Render(spec) + "; cannot create an index with v=" +
                      v.ToString());
  }
  bool is_id = key.Obj().CountFields() == 1 && !key.Obj()["_id"].missing();
  bson::Builder b;
  b.AppendInt32("v", 2);
  b.AppendDocument("key", key.Obj());
  b.AppendString("name", name.Str());
  for (const auto& e : spec) {
    auto f = e.key();
    if (f == "key" || f == "name" || f == "v" || f == "background" || f == "ns") continue;
    if (!IsKnown(f)) {
      return Status(ErrorCodes::kInvalidIndexSpecificationOption,
                    "The field '" + std::string(f) +
                        "' is not valid for an index specification. Specification: " + Render(spec));
    }
    if (is_id && (f == "unique" || f == "sparse" || f == "partialFilterExpression" ||
                  f == "expireAfterSeconds" || f == "hidden")) {
      return Status(ErrorCodes::kInvalidIndexSpecificationOption,
                    "The field '" + std::string(f) + "' is not valid for an _id index specification. Specification: " +
                        Render(spec));
    }
    if (f == "partialFilterExpression" && !e.IsObject()) {
      return Status(ErrorCodes::kTypeMismatch, "partialFilterExpression for an index must be a document");
    }
    if (f == "expireAfterSeconds" && !e.IsNumber()) {
      return Status(ErrorCodes::kInvalidIndexSpecificationOption,
                    "TTL index 'expireAfterSeconds' option must be numeric, but received a type of '" +
                        std::string(bson::TypeName(e.type())) + "'. Index spec: " + Render(spec));
    }
    if (f == "unique" || f == "sparse" || f == "hidden") {
      if (!e.Truthy()) continue;
      b.AppendBool(f, true);
      continue;
    }
    b.Append(e);
  }
  return b.Done();
}

StatusWith<IndexInfo> IndexFromSpec(bson::View spec, uint64_t id) {
  IndexInfo info;
  info.id = id;
  info.spec = bson::Doc::CopyOf(spec);
  info.name = std::string(spec["name"].Str());
  info.key = bson::Doc::CopyOf(spec["key"].Obj());
  auto pattern = KeyPattern::Parse(info.key);
  if (!pattern.ok()) return pattern.status();
  info.pattern = std::move(pattern).value();
  info.unique = spec["unique"].Truthy() || info.IsIdIndex();
  info.sparse = spec["sparse"].Truthy();
  info.hidden = spec["hidden"].Truthy();
  if (auto pf = spec["partialFilterExpression"]; pf.IsObject()) {
    info.partial_filter = bson::Doc::CopyOf(pf.Obj());
    if (auto compiler = GetPredicateCompiler()) {
      auto compiled = compiler(pf.Obj());
      if (!compiled.ok()) {
        return Status(ErrorCodes::kCannotCreateIndex,
                      "Error in specification " + Render(spec) + " :: caused by :: " +
                          compiled.status().reason());
      }
      info.partial = std::move(compiled).value();
    }
  }
  return info;
}

Status CheckIndexConflict(const IndexInfo& have, const IndexInfo& want, bool* exists) {
  *exists = false;
  bool same_key = bson::CompareDocs(have.key, want.key) == 0;
  if (have.name == want.name) {
    if (!same_key) {
      return Status(ErrorCodes::kIndexKeySpecsConflict,
                    "An existing index has the same name as the requested index. When index "
                    "names are not specified, they are auto generated and can cause conflicts. "
                    "Please refer to our documentation. Requested index: " +
                        Render(want.spec) + ", existing index: " + Render(have.spec));
    }
    if (have.IsIdIndex() || SameOptions(have, want)) {
      *exists = true;
      return Status::OK();
    }
    return Status(ErrorCodes::kIndexOptionsConflict,
                  "An equivalent index already exists with the same name but different options. "
                  "Requested index: " + Render(want.spec) + ", existing index: " + Render(have.spec));
  }
  if (same_key && SamePartialAndCollation(have, want)) {
    if (SameOptions(have, want) || have.IsIdIndex()) {
      return Status(ErrorCodes::kIndexOptionsConflict,
                    "Index already exists with a different name: " + have.name);
    }
    return Status(ErrorCodes::kIndexOptionsConflict,
                  "Index with name: " + want.name + " already exists with different options");
  }
  return Status::OK();
}

StatusWith<IndexInfo> ModifyIndexSpec(const IndexInfo& index, bson::View mod, bson::Builder* reply) {
  auto hidden = mod["hidden"];
  auto expire = mod["expireAfterSeconds"];
  if (!hidden.missing() && index.IsIdIndex()) {
    return Status(ErrorCodes::kBadValue, "can't hide _id index");
  }
  if (!expire.missing() && index.spec["expireAfterSeconds"].missing()) {
    return Status(ErrorCodes::kInvalidOptions, "no expireAfterSeconds field to update");
  }
  bson::Builder b;
  for (const auto& e : index.spec) {
    if (e.key() == "hidden") continue;
    if (e.key() == "expireAfterSeconds" && !expire.missing()) {
      reply->AppendAs("expireAfterSeconds_old", e);
      reply->AppendAs("expireAfterSeconds_new", expire);
      b.AppendAs("expireAfterSeconds", expire);
      continue;
    }
    b.Append(e);
  }
  bool now_hidden = hidden.missing() ? index.hidden : hidden.Truthy();
  if (!hidden.missing()) {
    reply->AppendBool("hidden_old", index.hidden);
    reply->AppendBool("hidden_new", now_hidden);
  }
  if (now_hidden) b.AppendBool("hidden", true);
  return IndexFromSpec(b.Done(), index.id);
}

}  // namespace brook::catalog
