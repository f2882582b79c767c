#include "commands/crud_args.h"

#include <cmath>

namespace brook::commands {

StatusWith<catalog::Namespace> CollectionNs(const CommandRequest& req) {
  auto first = req.body.first();
  if (first.type() != bson::Type::kString) {
    return Status(ErrorCodes::kInvalidNamespace,
                  "collection name has invalid type " + std::string(bson::TypeName(first.type())));
  }
  catalog::Namespace ns{std::string(req.db), std::string(first.Str())};
  if (ns.coll.empty()) {
    return Status(ErrorCodes::kInvalidNamespace, "Invalid namespace specified '" + ns.db + ".'");
  }
  return ns;
}

Status WrongType(std::string_view cmd, std::string_view field, const bson::Element& e,
                 std::string_view expected) {
  return Status(ErrorCodes::kTypeMismatch,
                "BSON field '" + std::string(cmd) + "." + std::string(field) +
                    "' is the wrong type '" + std::string(bson::TypeName(e.type())) +
                    "', expected type '" + std::string(expected) + "'");
}

Status MissingField(std::string_view cmd, std::string_view field) {
  return Status(40414, "BSON field '" + std::string(cmd) + "." + std::string(field) +
                           "' is missing but a required field");
}

Status GetObject(bson::View body, std::string_view cmd, std::string_view field,
                 std::optional<bson::View>* out) {
  auto e = body[field];
  if (e.missing()) return Status::OK();
  if (!e.IsObject()) return WrongType(cmd, field, e, "object");
  *out = e.Obj();
  return Status::OK();
}

Status GetArray(bson::View body, std::string_view cmd, std::string_view field,
                std::optional<bson::View>* out) {
  auto e = body[field];
  if (e.missing()) return Status::OK();
  if (!e.IsArray()) return WrongType(cmd, field, e, "array");
  *out = e.Obj();
  return Status::OK();
}

Status GetBool(bson::View body, std::string_view cmd, std::string_view field,
               std::optional<bool>* out) {
  auto e = body[field];
  if (e.missing()) return Status::OK();
  if (e.type() == bson::Type::kBool) {
    *out = e.Bool();
  } else if (e.IsNumber()) {
    *out = e.NumberDouble() != 0;
  } else if (e.IsNullish()) {
    return Status::OK();
  } else {
    return WrongType(cmd, field, e, "bool");
  }
  return Status::OK();
}

Status GetInt64(bson::View body, std::string_view cmd, std::string_view field,
                std::optional<int64_t>* out, std::optional<int64_t> min) {
  auto e = body[field];
  if (e.missing() || e.IsNullish()) return Status::OK();
  if (!e.IsNumber()) return WrongType(cmd, field, e, "long");
  auto v = e.ExactInt64();
  if (!v) {
    double d = e.NumberDouble();
    if (std::isnan(d)) {
      return Status(ErrorCodes::kBadValue, "BSON field '" + std::string(field) + "' value must be a number, actual value 'NaN'");
    }
    v = e.NumberInt64();
  }
  if (min && *v < *min) {
    return Status(51024, "BSON field '" + std::string(field) + "' value must be >= " +
                             std::to_string(*min) + ", actual value '" + std::to_string(*v) + "'");
  }
  *out = *v;
  return Status::OK();
}

StatusWith<CollationArg> ParseCollation(bson::View body, std::string_view cmd) {
  CollationArg arg;
  auto e = body["collation"];
  if (e.missing()) return arg;
  if (!e.IsObject()) return WrongType(cmd, "collation", e, "object");
  auto parsed = query::ParseCollation(e.Obj());
  if (!parsed.ok()) return parsed.status();
  arg.given = true;
  arg.collator = std::move(parsed).value();
  return arg;
}

query::CollatorPtr DefaultCollator(const catalog::CollectionInfo* coll) {
  if (!coll) return nullptr;
  auto spec = coll->options["collation"];
  if (!spec.IsObject()) return nullptr;
  // Stored normalized by create, so it parses; a damaged entry falls back to simple.
  auto parsed = query::ParseCollation(spec.Obj());
  return parsed.ok() ? parsed.value() : nullptr;
}

query::CollatorPtr EffectiveCollator(const CollationArg& arg, const catalog::CollectionInfo* coll) {
  if (arg.given) return arg.collator;
  return DefaultCollator(coll);
}

void AppendWriteError(bson::Builder* array, size_t position, int32_t index, const Status& st) {
  std::string scratch;
  array->OpenDocument(bson::ArrayKey(position, &scratch));
  array->AppendInt32("index", index);
  array->AppendInt32("code", st.code());
  if (!st.extra_info().empty()) {
    bson::View extra(st.extra_info().data());
    array->AppendAll(extra);
  }
  array->AppendString("errmsg", st.reason());
  array->Close();
}

Status MaxTimeMSExpired() {
  return Status(ErrorCodes::kMaxTimeMSExpired, "operation exceeded time limit");
}

}  // namespace brook::commands
