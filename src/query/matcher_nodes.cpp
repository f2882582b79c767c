#include "query/matcher_nodes.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cmath>
#include <limits>

#include "bson/builder.h"

namespace brook::query::matcher_internal {

bool LogicalNode::Matches(bson::View doc, MatchDetails* details, const MatchCtx& ctx) const {
  switch (op_) {
    case Op::kAnd:
      for (const auto& c : children_) {
        if (!c->Matches(doc, details, ctx)) return false;
      }
      return true;
    case Op::kOr:
      for (const auto& c : children_) {
        if (c->Matches(doc, details, ctx)) return true;
      }
      return false;
    case Op::kNor:
      for (const auto& c : children_) {
        if (c->Matches(doc, nullptr, ctx)) return false;
      }
      return true;
  }
  return false;
}

bool LogicalNode::MatchesSingle(const bson::Element& e, const MatchCtx& ctx) const {
  switch (op_) {
    case Op::kAnd:
      for (const auto& c : children_) {
        if (!c->MatchesSingle(e, ctx)) return false;
      }
      return true;
    case Op::kOr:
      for (const auto& c : children_) {
        if (c->MatchesSingle(e, ctx)) return true;
      }
      return false;
    case Op::kNor:
      for (const auto& c : children_) {
        if (c->MatchesSingle(e, ctx)) return false;
      }
      return true;
  }
  return false;
}

bool ExprNode::Matches(bson::View doc, MatchDetails*, const MatchCtx& ctx) const {
  EvalContext ec(doc);
  ec.collator = ctx.collator;
  ec.now_millis = ctx.now_millis;
  for (const auto& v : ctx.let) ec.Bind(std::string(v.key()), Value::FromElement(v));
  auto r = expr_->Evaluate(ec);
  if (!r.ok()) {
    if (ctx.error && ctx.error->ok()) *ctx.error = r.status();
    return false;
  }
  return r.value().element().Truthy();
}

bool PathNode::Matches(bson::View doc, MatchDetails* details, const MatchCtx& ctx) const {
  return VisitPath(doc, path_, leaf_, [&](const bson::Element& e, int offset) {
    int inner = -1;
    if (!MatchesSingleAt(e, ctx, &inner)) return false;
    if (details) {
      if (offset >= 0) {
        details->SetElemMatchKey(std::to_string(offset));
      } else if (inner >= 0) {
        details->SetElemMatchKey(std::to_string(inner));
      }
    }
    return true;
  });
}

CompareNode::CompareNode(std::string path, Op op, const bson::Element& rhs)
    : PathNode(std::move(path), LeafArrayBehavior::kTraverse), op_(op) {
  bson::Builder b;
  b.AppendAs("", rhs);
  rhs_doc_ = b.Done();
  rhs_ = rhs_doc_.view().first();
}

namespace {

bool IsNaNNumber(const bson::Element& e) {
  if (e.type() == bson::Type::kDouble) return std::isnan(e.Double());
  if (e.type() == bson::Type::kDecimal128) return e.Decimal().IsNaN();
  return false;
}

bool OpAcceptsEqual(CompareNode::Op op) {
  return op == CompareNode::Op::kEq || op == CompareNode::Op::kLte || op == CompareNode::Op::kGte;
}

}  // namespace

bool CompareNode::MatchesSingle(const bson::Element& e, const MatchCtx& ctx) const {
  bson::Type rt = rhs_.type();
  if (e.missing()) return rt == bson::Type::kNull && OpAcceptsEqual(op_);
  int er = bson::CanonicalTypeRank(e.type());
  int rr = bson::CanonicalTypeRank(rt);
  if (er != rr) {
    if (rt == bson::Type::kMaxKey) return op_ == Op::kLt || op_ == Op::kLte;
    if (rt == bson::Type::kMinKey) return op_ == Op::kGt || op_ == Op::kGte;
    return false;
  }
  if (er == bson::CanonicalTypeRank(bson::Type::kDouble)) {
    bool en = IsNaNNumber(e), rn = IsNaNNumber(rhs_);
    if (en || rn) return OpAcceptsEqual(op_) && en && rn;
  }
  int c = bson::CompareValues(e, rhs_, ctx.collator);
  switch (op_) {
    case Op::kEq: return c == 0;
    case Op::kLt: return c < 0;
    case Op::kLte: return c <= 0;
    case Op::kGt: return c > 0;
    case Op::kGte: return c >= 0;
  }
  return false;
}

StatusWith<std::shared_ptr<Regex>> Regex::Compile(std::string_view pattern, std::string_view flags) {
  uint32_t opts = PCRE2_UTF;
  for (char f : flags) {
    switch (f) {
      case 'i': opts |= PCRE2_CASELESS; break;
      case 'm': opts |= PCRE2_MULTILINE; break;
      case 's': opts |= PCRE2_DOTALL; break;
      case 'x': opts |= PCRE2_EXTENDED; break;
      case 'u': break;  // UTF-8 is always on
      default:
        return Status(51108, std::string("invalid flag in regex options: ") + f);
    }
  }
  if (pattern.find('\0') != std::string_view::npos) {
    return Status(51095, "Regular expression cannot contain an embedded null byte");
  }
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   opts, &err, &off, nullptr);
  if (!code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof(buf));
    return Status(51091, std::string("Regular expression is invalid: ") +
                             reinterpret_cast<const char*>(buf));
  }
  std::shared_ptr<Regex> re(new Regex());
  re->pattern_ = std::string(pattern);
  re->flags_ = std::string(flags);
  re->code_ = code;
  return re;
}

Regex::~Regex() {
  if (code_) pcre2_code_free(static_cast<pcre2_code*>(code_));
}

bool Regex::Search(std::string_view subject) const {
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  if (!md) return false;
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0, md,
                       nullptr);
  pcre2_match_data_free(md);
  return rc >= 0;
}

bool RegexMatchesElement(const Regex& re, const bson::Element& e) {
  switch (e.type()) {
    case bson::Type::kString:
    case bson::Type::kSymbol: return re.Search(e.Str());
    case bson::Type::kRegex: {
      auto r = e.Re();
      return r.pattern == re.pattern() && r.options == re.flags();
    }
    default: return false;
  }
}

InNode::InNode(std::string path, bson::View array)
    : PathNode(std::move(path), LeafArrayBehavior::kTraverse), values_(bson::Doc::CopyOf(array)) {
  for (const auto& v : values_.view()) {
    if (v.type() == bson::Type::kNull) has_null_ = true;
  }
}

bool InNode::MatchesSingle(const bson::Element& e, const MatchCtx& ctx) const {
  if (e.missing()) return has_null_;
  for (const auto& v : values_.view()) {
    if (bson::CanonicalTypeRank(v.type()) != bson::CanonicalTypeRank(e.type())) continue;
    if (IsNaNNumber(v) || IsNaNNumber(e)) {
      if (IsNaNNumber(v) && IsNaNNumber(e)) return true;
      continue;
    }
    if (bson::CompareValues(e, v, ctx.collator) == 0) return true;
  }
  for (const auto& re : regexes_) {
    if (RegexMatchesElement(*re, e)) return true;
  }
  return false;
}

bool TypeNode::MatchesSingle(const bson::Element& e, const MatchCtx&) const {
  if (e.missing()) return false;
  if (any_number_ && e.IsNumber()) return true;
  for (auto t : types_) {
    if (t == e.type()) return true;
  }
  return false;
}

bool ModNode::MatchesSingle(const bson::Element& e, const MatchCtx&) const {
  if (!e.IsNumber()) return false;
  if (e.type() == bson::Type::kDouble && !std::isfinite(e.Double())) return false;
  if (e.type() == bson::Type::kDecimal128) {
    double d = e.Decimal().ToDouble();
    if (!std::isfinite(d)) return false;
  }
  int64_t v = e.NumberInt64();
  if (divisor_ == -1) return remainder_ == 0;  // avoids INT64_MIN % -1
  return v % divisor_ == remainder_;
}

bool SizeNode::MatchesSingle(const bson::Element& e, const MatchCtx&) const {
  if (size_ < 0 || e.type() != bson::Type::kArray) return false;
  return static_cast<int64_t>(e.Obj().CountFields()) == size_;
}

bool ElemMatchObjectNode::MatchesSingleAt(const bson::Element& e, const MatchCtx& ctx, int* inner) const {
  *inner = -1;
  if (e.type() != bson::Type::kArray) return false;
  int k = 0;
  for (const auto& elt : e.Obj()) {
    if ((elt.type() == bson::Type::kObject || elt.type() == bson::Type::kArray) &&
        sub_->Matches(elt.Obj(), nullptr, ctx)) {
      *inner = k;
      return true;
    }
    ++k;
  }
  return false;
}

bool ElemMatchValueNode::MatchesSingleAt(const bson::Element& e, const MatchCtx& ctx, int* inner) const {
  *inner = -1;
  if (e.type() != bson::Type::kArray) return false;
  int k = 0;
  for (const auto& elt : e.Obj()) {
    bool all = true;
    for (const auto& s : subs_) {
      if (!s->MatchesSingle(elt, ctx)) {
        all = false;
        break;
      }
    }
    if (all) {
      *inner = k;
      return true;
    }
    ++k;
  }
  return false;
}

}  // namespace brook::query::matcher_internal
