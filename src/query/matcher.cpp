#include "query/matcher.h"

#include <cmath>
#include <limits>
#include <set>

#include "bson/builder.h"
#include "query/matcher_nodes.h"

namespace brook::query {

using matcher_internal::CompareNode;
using matcher_internal::ElemMatchObjectNode;
using matcher_internal::ElemMatchValueNode;
using matcher_internal::ExistsNode;
using matcher_internal::ExprNode;
using matcher_internal::InNode;
using matcher_internal::LogicalNode;
using matcher_internal::ModNode;
using matcher_internal::Node;
using matcher_internal::NotNode;
using matcher_internal::Regex;
using matcher_internal::RegexNode;
using matcher_internal::SizeNode;
using matcher_internal::TypeNode;

namespace {

using NodePtr = std::unique_ptr<Node>;

Status BadValue(std::string msg) { return Status(ErrorCodes::kBadValue, std::move(msg)); }

bool IsDBRefDocument(bson::View obj) {
  auto first = obj.begin();
  if (first == obj.end()) return false;
  return first->key() == "$ref";
}

// A document whose first field is an operator ({$gt: 1}); {$ref, $id} DBRefs are values.
bool IsOperatorDocument(const bson::Element& e) {
  if (e.type() != bson::Type::kObject) return false;
  bson::View obj = e.Obj();
  if (obj.empty()) return false;
  auto k = obj.first().key();
  return !k.empty() && k[0] == '$' && !IsDBRefDocument(obj);
}

class Parser {
 public:
  explicit Parser(const MatcherOptions& opts) : opts_(opts) {}

  StatusWith<NodePtr> ParseDocument(bson::View filter, int depth) {
    if (depth > 100) return BadValue("exceeded depth limit while parsing query");
    auto root = std::make_unique<LogicalNode>(LogicalNode::Op::kAnd);
    for (const auto& e : filter) {
      std::string_view name = e.key();
      if (!name.empty() && name[0] == '$') {
        auto sub = ParseTopLevelOperator(e, depth);
        if (!sub.ok()) return sub.status();
        if (sub.value()) root->Add(std::move(sub.value()));
        continue;
      }
      auto sub = ParsePathValue(std::string(name), e, depth);
      if (!sub.ok()) return sub.status();
      root->Add(std::move(sub.value()));
    }
    return NodePtr(std::move(root));
  }

 private:
  StatusWith<NodePtr> ParseTopLevelOperator(const bson::Element& e, int depth) {
    std::string_view name = e.key();
    if (name == "$and" || name == "$or" || name == "$nor") {
      if (e.type() != bson::Type::kArray) return BadValue(std::string(name) + " must be an array");
      auto op = name == "$and" ? LogicalNode::Op::kAnd
                               : (name == "$or" ? LogicalNode::Op::kOr : LogicalNode::Op::kNor);
      auto node = std::make_unique<LogicalNode>(op);
      for (const auto& c : e.Obj()) {
        if (c.type() != bson::Type::kObject) {
          return BadValue("$or/$and/$nor entries need to be full objects");
        }
        auto sub = ParseDocument(c.Obj(), depth + 1);
        if (!sub.ok()) return sub.status();
        node->Add(std::move(sub.value()));
      }
      if (node->size() == 0) return BadValue("$and/$or/$nor must be a nonempty array");
      return NodePtr(std::move(node));
    }
    if (name == "$expr") {
      if (!opts_.allow_expr) {
        return Status(ErrorCodes::kQueryFeatureNotAllowed, "$expr is not allowed in this context");
      }
      ExpressionParseContext pctx;
      pctx.collator = opts_.collator;
      for (const auto& v : opts_.let_variables) pctx.variables.emplace_back(v.key());
      auto expr = Expression::Parse(e, pctx);
      if (!expr.ok()) return expr.status();
      return NodePtr(std::make_unique<ExprNode>(std::move(expr.value())));
    }
    if (name == "$comment") return NodePtr();
    if (name == "$alwaysTrue" || name == "$alwaysFalse") {
      if (!e.IsNumber() || e.NumberDouble() != 1) {
        return BadValue(std::string(name) + " must be an integer value of 1");
      }
      return NodePtr(std::make_unique<matcher_internal::AlwaysNode>(name == "$alwaysTrue"));
    }
    if (name == "$where") {
      return Status(ErrorCodes::kBadValue, "$where is not allowed in this context");
    }
    if (name == "$text") {
      return Status(ErrorCodes::kIndexNotFound, "text index required for $text query");
    }
    if (name == "$not") {
      return BadValue(
          "unknown top level operator: $not. If you are trying to negate an entire expression, "
          "use $nor.");
    }
    return BadValue("unknown top level operator: " + std::string(name) +
                    ". If you have a field name that starts with a '$' symbol, consider using "
                    "$getField or $setField.");
  }

  // `{path: value}` where value is a literal, a regex or an operator document.
  StatusWith<NodePtr> ParsePathValue(std::string path, const bson::Element& e, int depth) {
    if (IsOperatorDocument(e)) return ParseOperators(path, e.Obj(), depth);
    if (e.type() == bson::Type::kRegex) {
      auto re = Regex::Compile(e.Re().pattern, e.Re().options);
      if (!re.ok()) return re.status();
      return NodePtr(std::make_unique<RegexNode>(path, std::move(re.value())));
    }
    if (e.type() == bson::Type::kUndefined) return BadValue("cannot compare to undefined");
    return NodePtr(std::make_unique<CompareNode>(path, CompareNode::Op::kEq, e));
  }

  // All operators of one operator document, ANDed.
  StatusWith<NodePtr> ParseOperators(const std::string& path, bson::View ops, int depth) {
    auto node = std::make_unique<LogicalNode>(LogicalNode::Op::kAnd);
    bool regex_done = false;
    for (const auto& op : ops) {
      std::string_view name = op.key();
      if (name == "$regex" || name == "$options") {
        if (regex_done) continue;
        regex_done = true;
        auto re = ParseRegexOperator(ops);
        if (!re.ok()) return re.status();
        node->Add(std::make_unique<RegexNode>(path, std::move(re.value())));
        continue;
      }
      auto sub = ParseOperator(path, op, depth);
      if (!sub.ok()) return sub.status();
      if (sub.value()) node->Add(std::move(sub.value()));
    }
    return NodePtr(std::move(node));
  }

  StatusWith<std::shared_ptr<Regex>> ParseRegexOperator(bson::View ops) {
    bson::Element re = ops.Get("$regex");
    bson::Element options = ops.Get("$options");
    if (re.missing()) return BadValue("$options needs a $regex");
    std::string flags;
    if (!options.missing()) {
      if (options.type() != bson::Type::kString) return BadValue("$options has to be a string");
      flags = std::string(options.Str());
    }
    if (re.type() == bson::Type::kString) return Regex::Compile(re.Str(), flags);
    if (re.type() == bson::Type::kRegex) {
      if (!options.missing() && !re.Re().options.empty()) {
        return BadValue("options set in both $regex and $options");
      }
      if (options.missing()) flags = std::string(re.Re().options);
      return Regex::Compile(re.Re().pattern, flags);
    }
    return BadValue("$regex has to be a string");
  }

  StatusWith<NodePtr> ParseOperator(const std::string& path, const bson::Element& op, int depth) {
    std::string_view name = op.key();
    if (name == "$eq" || name == "$ne" || name == "$lt" || name == "$lte" || name == "$gt" ||
        name == "$gte") {
      if (op.type() == bson::Type::kUndefined) return BadValue("cannot compare to undefined");
      if (name == "$ne" && op.type() == bson::Type::kRegex) {
        return BadValue("Can't have regex as arg to $ne.");
      }
      CompareNode::Op cop = CompareNode::Op::kEq;
      if (name == "$lt") cop = CompareNode::Op::kLt;
      if (name == "$lte") cop = CompareNode::Op::kLte;
      if (name == "$gt") cop = CompareNode::Op::kGt;
      if (name == "$gte") cop = CompareNode::Op::kGte;
      NodePtr n = std::make_unique<CompareNode>(path, cop, op);
      if (name == "$ne") n = std::make_unique<NotNode>(std::move(n));
      return n;
    }
    if (name == "$in" || name == "$nin") {
      if (op.type() != bson::Type::kArray) return BadValue(std::string(name) + " needs an array");
      auto n = ParseIn(path, op.Obj());
      if (!n.ok()) return n.status();
      if (name == "$nin") return NodePtr(std::make_unique<NotNode>(std::move(n.value())));
      return n;
    }
    if (name == "$exists") {
      NodePtr n = std::make_unique<ExistsNode>(path);
      if (!op.Truthy()) n = std::make_unique<NotNode>(std::move(n));
      return n;
    }
    if (name == "$type") return ParseType(path, op);
    if (name == "$mod") return ParseMod(path, op);
    if (name == "$size") return ParseSize(path, op);
    if (name == "$all") return ParseAll(path, op, depth);
    if (name == "$elemMatch") return ParseElemMatch(path, op, depth);
    if (name == "$not") return ParseNot(path, op, depth);
    if (name == "$comment") return NodePtr();
    if (name == "$geoWithin" || name == "$geoIntersects" || name == "$near" ||
        name == "$nearSphere" || name == "$bitsAllSet" || name == "$bitsAllClear" ||
        name == "$bitsAnySet" || name == "$bitsAnyClear" || name == "$jsonSchema") {
      return BadValue(std::string(name) + " is not supported");
    }
    return BadValue("unknown operator: " + std::string(name));
  }

  StatusWith<NodePtr> ParseIn(const std::string& path, bson::View arr) {
    bson::Builder values;
    std::vector<std::shared_ptr<Regex>> regexes;
    std::string scratch;
    size_t i = 0;
    for (const auto& v : arr) {
      if (v.type() == bson::Type::kRegex) {
        auto re = Regex::Compile(v.Re().pattern, v.Re().options);
        if (!re.ok()) return re.status();
        regexes.push_back(std::move(re.value()));
        continue;
      }
      if (IsOperatorDocument(v)) return BadValue("cannot nest $ under $in");
      if (v.type() == bson::Type::kUndefined) {
        return BadValue("InMatchExpression equality cannot be undefined");
      }
      values.AppendAs(bson::ArrayKey(i++, &scratch), v);
    }
    bson::Doc vals = values.Done();
    auto n = std::make_unique<InNode>(path, vals.view());
    for (auto& r : regexes) n->AddRegex(std::move(r));
    return NodePtr(std::move(n));
  }

  StatusWith<NodePtr> ParseType(const std::string& path, const bson::Element& op) {
    std::vector<bson::Type> types;
    bool any_number = false;
    auto add = [&](const bson::Element& t) -> Status {
      if (t.IsNumber()) {
        auto v = t.ExactInt64();
        if (!v) return BadValue("Invalid numerical type code: " + t.ToString());
        static const std::set<int64_t> kValid = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                                  12, 13, 14, 15, 16, 17, 18, 19, -1, 127};
        if (!kValid.count(*v)) return BadValue("Invalid numerical type code: " + t.ToString());
        types.push_back(static_cast<bson::Type>(static_cast<int8_t>(*v)));
        return Status::OK();
      }
      if (t.type() == bson::Type::kString) {
        std::string_view s = t.Str();
        if (s == "number") {
          any_number = true;
          return Status::OK();
        }
        static const int8_t kAll[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                      12, 13, 14, 15, 16, 17, 18, 19, -1, 127};
        for (int8_t code : kAll) {
          auto ty = static_cast<bson::Type>(code);
          if (bson::TypeName(ty) == s) {
            types.push_back(ty);
            return Status::OK();
          }
        }
        return BadValue("Unknown type name alias: " + std::string(s));
      }
      return Status(ErrorCodes::kTypeMismatch, "type must be represented as a number or a string");
    };
    if (op.type() == bson::Type::kArray) {
      for (const auto& t : op.Obj()) BROOK_RETURN_IF_ERROR(add(t));
      if (types.empty() && !any_number) return BadValue("$type must match at least one type");
    } else {
      BROOK_RETURN_IF_ERROR(add(op));
    }
    return NodePtr(std::make_unique<TypeNode>(path, std::move(types), any_number));
  }

  static StatusWith<int64_t> CoerceModOperand(const bson::Element& e, const char* what) {
    if (!e.IsNumber()) return BadValue(std::string("malformed mod, ") + what + " not a number");
    double d = e.NumberDouble();
    if (std::isnan(d) || std::isinf(d)) {
      return BadValue(std::string("malformed mod, ") + what +
                      " value is invalid :: caused by :: Unable to coerce NaN/Inf to integral type");
    }
    if (e.type() == bson::Type::kDouble || e.type() == bson::Type::kDecimal128) {
      if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
        return BadValue(std::string("malformed mod, ") + what +
                        " value is invalid :: caused by :: Out of bounds coercing to integral value");
      }
    }
    return e.NumberInt64();
  }

  StatusWith<NodePtr> ParseMod(const std::string& path, const bson::Element& op) {
    if (op.type() != bson::Type::kArray) return BadValue("malformed mod, needs to be an array");
    std::vector<bson::Element> parts;
    for (const auto& p : op.Obj()) parts.push_back(p);
    if (parts.size() < 2) return BadValue("malformed mod, not enough elements");
    if (parts.size() > 2) return BadValue("malformed mod, too many elements");
    auto divisor = CoerceModOperand(parts[0], "divisor");
    if (!divisor.ok()) return divisor.status();
    auto remainder = CoerceModOperand(parts[1], "remainder");
    if (!remainder.ok()) return remainder.status();
    if (divisor.value() == 0) return BadValue("divisor cannot be 0");
    return NodePtr(std::make_unique<ModNode>(path, divisor.value(), remainder.value()));
  }

  StatusWith<NodePtr> ParseSize(const std::string& path, const bson::Element& op) {
    std::string shown = op.ToString();
    if (!op.IsNumber()) return BadValue("Failed to parse $size. Expected a number in: $size: " + shown);
    int64_t size;
    if (op.type() == bson::Type::kInt32 || op.type() == bson::Type::kInt64) {
      size = op.NumberInt64();
    } else {
      double d = op.NumberDouble();
      if (std::isnan(d)) {
        return BadValue("Failed to parse $size. Expected an integer, but found NaN in: $size: " +
                        shown);
      }
      if (std::isinf(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
        return BadValue("Failed to parse $size. Cannot represent as a 64-bit integer: $size: " +
                        shown);
      }
      if (d != std::trunc(d)) {
        return BadValue("Failed to parse $size. Expected an integer: $size: " + shown);
      }
      size = static_cast<int64_t>(d);
    }
    if (size < 0) {
      return BadValue("Failed to parse $size. Expected a non-negative number in: $size: " + shown);
    }
    if (size > std::numeric_limits<int32_t>::max()) {
      return BadValue("Failed to parse $size. Cannot represent as a 32-bit integer: $size: " +
                      shown);
    }
    return NodePtr(std::make_unique<SizeNode>(path, size));
  }

  StatusWith<NodePtr> ParseAll(const std::string& path, const bson::Element& op, int depth) {
    if (op.type() != bson::Type::kArray) return BadValue("$all needs an array");
    bson::View arr = op.Obj();
    if (arr.empty()) return NodePtr(std::make_unique<matcher_internal::AlwaysNode>(false));
    auto node = std::make_unique<LogicalNode>(LogicalNode::Op::kAnd);
    bool elem_match_form = false;
    {
      const auto first = arr.first();
      elem_match_form = first.type() == bson::Type::kObject && !first.Obj().empty() &&
                        first.Obj().first().key() == "$elemMatch";
    }
    for (const auto& v : arr) {
      if (elem_match_form) {
        if (v.type() != bson::Type::kObject || v.Obj().empty() ||
            v.Obj().first().key() != "$elemMatch") {
          return BadValue("$all/$elemMatch has to be consistent");
        }
        auto sub = ParseElemMatch(path, v.Obj().first(), depth);
        if (!sub.ok()) return sub.status();
        node->Add(std::move(sub.value()));
        continue;
      }
      if (v.type() == bson::Type::kRegex) {
        auto re = Regex::Compile(v.Re().pattern, v.Re().options);
        if (!re.ok()) return re.status();
        node->Add(std::make_unique<RegexNode>(path, std::move(re.value())));
        continue;
      }
      if (IsOperatorDocument(v)) return BadValue("no $ expressions in $all");
      node->Add(std::make_unique<CompareNode>(path, CompareNode::Op::kEq, v));
    }
    return NodePtr(std::move(node));
  }

  StatusWith<NodePtr> ParseElemMatch(const std::string& path, const bson::Element& op, int depth) {
    if (op.type() != bson::Type::kObject) return BadValue("$elemMatch needs an Object");
    bson::View spec = op.Obj();
    bool value_form = false;
    if (!spec.empty()) {
      std::string_view k = spec.first().key();
      static const std::set<std::string_view> kTopLevel = {
          "$and", "$or", "$nor", "$expr", "$where", "$text", "$comment", "$alwaysTrue",
          "$alwaysFalse", "$jsonSchema"};
      value_form = !k.empty() && k[0] == '$' && !kTopLevel.count(k) && !IsDBRefDocument(spec);
    }
    if (!value_form) {
      if (spec.HasField("$where")) return BadValue("$elemMatch cannot contain $where expression");
      auto sub = ParseDocument(spec, depth + 1);
      if (!sub.ok()) return sub.status();
      return NodePtr(std::make_unique<ElemMatchObjectNode>(path, std::move(sub.value())));
    }
    auto node = std::make_unique<ElemMatchValueNode>(path);
    bool regex_done = false;
    for (const auto& sub_op : spec) {
      std::string_view name = sub_op.key();
      if (name.empty() || name[0] != '$') return BadValue("unknown operator: " + std::string(name));
      if (name == "$regex" || name == "$options") {
        if (regex_done) continue;
        regex_done = true;
        auto re = ParseRegexOperator(spec);
        if (!re.ok()) return re.status();
        node->Add(std::make_unique<RegexNode>("", std::move(re.value())));
        continue;
      }
      auto sub = ParseOperator("", sub_op, depth + 1);
      if (!sub.ok()) return sub.status();
      if (sub.value()) node->Add(std::move(sub.value()));
    }
    return NodePtr(std::move(node));
  }

  StatusWith<NodePtr> ParseNot(const std::string& path, const bson::Element& op, int depth) {
    if (op.type() == bson::Type::kRegex) {
      auto re = Regex::Compile(op.Re().pattern, op.Re().options);
      if (!re.ok()) return re.status();
      return NodePtr(std::make_unique<NotNode>(std::make_unique<RegexNode>(path, std::move(re.value()))));
    }
    if (op.type() != bson::Type::kObject) return BadValue("$not needs a regex or a document");
    if (op.Obj().empty()) return BadValue("$not cannot be empty");
    for (const auto& o : op.Obj()) {
      if (o.key().empty() || o.key()[0] != '$') {
        return BadValue("unknown operator: " + std::string(o.key()));
      }
    }
    auto sub = ParseOperators(path, op.Obj(), depth + 1);
    if (!sub.ok()) return sub.status();
    return NodePtr(std::make_unique<NotNode>(std::move(sub.value())));
  }

  const MatcherOptions& opts_;
};

}  // namespace

Matcher::~Matcher() = default;

StatusWith<std::unique_ptr<Matcher>> Matcher::Parse(bson::View filter, const MatcherOptions& opts) {
  std::unique_ptr<Matcher> m(new Matcher());
  m->filter_ = bson::Doc::CopyOf(filter);
  m->let_ = bson::Doc::CopyOf(opts.let_variables);
  m->collator_ = opts.collator;
  m->now_millis_ = opts.now_millis;
  Parser p(opts);
  auto root = p.ParseDocument(m->filter_.view(), 0);
  if (!root.ok()) return root.status();
  m->root_ = std::move(root.value());
  return m;
}

bool Matcher::Matches(bson::View doc, MatchDetails* details) const {
  matcher_internal::MatchCtx ctx;
  ctx.collator = collator_;
  ctx.let = let_.view();
  ctx.now_millis = now_millis_;
  return root_->Matches(doc, details, ctx);
}

StatusWith<bool> Matcher::MatchesOrError(bson::View doc, MatchDetails* details) const {
  Status err;
  matcher_internal::MatchCtx ctx;
  ctx.collator = collator_;
  ctx.let = let_.view();
  ctx.now_millis = now_millis_;
  ctx.error = &err;
  bool r = root_->Matches(doc, details, ctx);
  if (!err.ok()) return err;
  return r;
}

bool Matcher::MatchesValue(const bson::Element& value) const {
  bson::Builder b;
  b.AppendAs("", value);
  bson::Doc d = b.Done();
  return Matches(d.view(), nullptr);
}

}  // namespace brook::query
