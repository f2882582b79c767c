#include "commands/write_ops_validation.h"

#include <map>
#include <memory>
#include <mutex>

#include "bson/builder.h"
#include "query/matcher.h"

namespace brook::commands {
namespace {

constexpr size_t kMaxCachedValidators = 256;

std::shared_ptr<const query::Matcher> Compile(bson::View validator) {
  auto m = query::Matcher::Parse(validator, query::MatcherOptions{});
  if (!m.ok()) return nullptr;
  return std::shared_ptr<const query::Matcher>(std::move(m).value());
}

// The compiled validator of this collection version (null when none or unparsable).
std::shared_ptr<const query::Matcher> ValidatorOf(const catalog::CollectionInfo& coll) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const query::Matcher>> cache;
  auto v = coll.options["validator"];
  if (!v.IsObject() || v.Obj().empty()) return nullptr;
  std::string key(v.Obj().bytes());
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= kMaxCachedValidators) cache.clear();
  auto compiled = Compile(v.Obj());
  cache.emplace(std::move(key), compiled);
  return compiled;
}

bool OneClauseMatches(std::string_view key, const bson::Element& value, bson::View doc) {
  bson::Builder b;
  b.AppendAs(key, value);
  bson::Doc clause = b.Done();
  auto m = Compile(clause);
  return !m || m->Matches(doc);
}

std::string_view ReasonFor(std::string_view op) {
  if (op == "$type") return "type did not match";
  if (op == "$eq" || op == "$ne" || op == "$gt" || op == "$gte" || op == "$lt" || op == "$lte") {
    return "comparison failed";
  }
  if (op == "$in") return "no matching value found in array";
  if (op == "$nin") return "matching value found in array";
  if (op == "$regex") return "regular expression did not match";
  if (op == "$exists") return "path does not exist";
  if (op == "$expr") return "expression did not match";
  if (op == "$or" || op == "$nor" || op == "$and") return "none of the clauses matched";
  return "expression did not match";
}

// The value at a dotted path through sub-documents (what the failing clause considered).
bson::Element ValueAt(bson::View doc, std::string_view path) {
  bson::View v = doc;
  while (true) {
    size_t dot = path.find('.');
    bson::Element e = v[path.substr(0, dot)];
    if (dot == std::string_view::npos || !e.IsObject()) {
      return dot == std::string_view::npos ? e : bson::Element();
    }
    v = e.Obj();
    path = path.substr(dot + 1);
  }
}

// {operatorName, specifiedAs, reason, consideredValue?, consideredType?} for one
// `field: {$op: arg}` (or top-level `$op: arg`) clause that failed.
void AppendClauseDetails(std::string_view field, std::string_view op, const bson::Element& arg,
                         bson::View doc, bson::Builder* b) {
  b->AppendString("operatorName", op);
  b->OpenDocument("specifiedAs");
  if (!field.empty() && field[0] == '$') {
    b->AppendAs(field, arg);
  } else {
    b->OpenDocument(field);
    b->AppendAs(op, arg);
    b->Close();
  }
  b->Close();
  if (!field.empty() && field[0] != '$') {
    bson::Element v = ValueAt(doc, field);
    if (v.missing()) {
      b->AppendString("reason", "field was missing");
      return;
    }
    b->AppendString("reason", ReasonFor(op));
    b->AppendAs("consideredValue", v);
    if (op == "$type") b->AppendString("consideredType", bson::TypeName(v.type()));
    return;
  }
  b->AppendString("reason", ReasonFor(op));
  if (op == "$expr") b->AppendBool("expressionResult", false);
}

struct Clause {
  std::string field;  // "" for top-level operators
  std::string op;
  bson::Element arg;
};

// The validator's clauses: top-level operators, and each `field: {$op: arg}` (a literal
// value is `$eq`).
std::vector<Clause> Clauses(bson::View validator) {
  std::vector<Clause> out;
  for (const auto& e : validator) {
    std::string_view k = e.key();
    if (!k.empty() && k[0] == '$') {
      out.push_back({std::string(k), std::string(k), e});
      continue;
    }
    bool ops = e.IsObject() && !e.Obj().empty() && !e.Obj().first().key().empty() &&
               e.Obj().first().key()[0] == '$';
    if (!ops) {
      out.push_back({std::string(k), "$eq", e});
      continue;
    }
    for (const auto& op : e.Obj()) out.push_back({std::string(k), std::string(op.key()), op});
  }
  return out;
}

bool ClauseMatches(const Clause& c, bson::View doc) {
  if (c.field == c.op) return OneClauseMatches(c.field, c.arg, doc);
  bson::Builder b;
  b.OpenDocument(c.field);
  b.AppendAs(c.op, c.arg);
  b.Close();
  bson::Doc clause = b.Done();
  auto m = Compile(clause);
  return !m || m->Matches(doc);
}

bson::Doc Details(bson::View validator, bson::View doc) {
  auto clauses = Clauses(validator);
  bson::Builder b;
  if (clauses.size() == 1) {
    AppendClauseDetails(clauses[0].field, clauses[0].op, clauses[0].arg, doc, &b);
    return b.Done();
  }
  b.AppendString("operatorName", "$and");
  b.OpenArray("clausesNotSatisfied");
  std::string scratch;
  size_t n = 0;
  for (size_t i = 0; i < clauses.size(); ++i) {
    if (ClauseMatches(clauses[i], doc)) continue;
    b.OpenDocument(bson::ArrayKey(n++, &scratch));
    b.AppendInt32("index", static_cast<int32_t>(i));
    b.OpenDocument("details");
    AppendClauseDetails(clauses[i].field, clauses[i].op, clauses[i].arg, doc, &b);
    b.Close();
    b.Close();
  }
  b.Close();
  return b.Done();
}

}  // namespace

Status ValidateDocument(const catalog::CollectionInfo& coll, const bson::View* old_doc,
                        bson::View new_doc, bool bypass) {
  if (bypass) return Status::OK();
  auto level = coll.options["validationLevel"];
  if (level.type() == bson::Type::kString && level.Str() == "off") return Status::OK();
  auto matcher = ValidatorOf(coll);
  if (!matcher) return Status::OK();
  if (matcher->Matches(new_doc)) return Status::OK();
  if (old_doc && level.type() == bson::Type::kString && level.Str() == "moderate" &&
      !matcher->Matches(*old_doc)) {
    return Status::OK();  // moderate: documents that were invalid may stay invalid
  }
  auto action = coll.options["validationAction"];
  if (action.type() == bson::Type::kString && action.Str() == "warn") return Status::OK();
  bson::Builder info;
  info.OpenDocument("errInfo");
  auto id = new_doc["_id"];
  if (!id.missing()) info.AppendAs("failingDocumentId", id);
  info.AppendDocument("details", Details(coll.options["validator"].Obj(), new_doc));
  info.Close();
  return Status(ErrorCodes::kDocumentValidationFailure, "Document failed validation")
      .WithExtraInfo(info.Done().Release());
}

Status CheckValidationOptions(bson::View opts, std::string_view cmd) {
  if (auto v = opts["validator"]; !v.missing()) {
    if (!v.IsObject()) {
      return Status(ErrorCodes::kTypeMismatch, "BSON field '" + std::string(cmd) +
                                                   ".validator' is the wrong type '" +
                                                   std::string(bson::TypeName(v.type())) +
                                                   "', expected type 'object'");
    }
    auto m = query::Matcher::Parse(v.Obj(), query::MatcherOptions{});
    if (!m.ok()) return m.status();
  }
  auto check_enum = [&](std::string_view field, std::initializer_list<std::string_view> values) -> Status {
    auto e = opts[field];
    if (e.missing()) return Status::OK();
    if (e.type() != bson::Type::kString) {
      return Status(ErrorCodes::kTypeMismatch, "BSON field '" + std::string(cmd) + "." +
                                                   std::string(field) + "' is the wrong type '" +
                                                   std::string(bson::TypeName(e.type())) +
                                                   "', expected type 'string'");
    }
    for (auto v : values) {
      if (e.Str() == v) return Status::OK();
    }
    return Status(ErrorCodes::kBadValue, "Enumeration value '" + std::string(e.Str()) +
                                             "' for field '" + std::string(cmd) + "." +
                                             std::string(field) + "' is not a valid value.");
  };
  BROOK_RETURN_IF_ERROR(check_enum("validationLevel", {"off", "strict", "moderate"}));
  BROOK_RETURN_IF_ERROR(check_enum("validationAction", {"error", "warn"}));
  return Status::OK();
}

}  // namespace brook::commands
