#include "query/projection.h"

#include <algorithm>

#include "bson/builder.h"
#include "query/expression.h"
#include "query/path.h"

namespace brook::query {

namespace projection_internal {

struct Node {
  enum class Kind { kPath, kInclude, kExclude, kExpr, kSlice, kElemMatch, kPositional };
  Kind kind = Kind::kPath;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> children;  // spec order
  std::unique_ptr<Expression> expr;
  bool has_skip = false;
  int64_t skip = 0;
  int64_t limit = 0;
  std::unique_ptr<Matcher> matcher;
  bool has_computed = false;    // an expression somewhere below
  bool has_positional = false;  // a positional node somewhere below (or this one)

  Node* Find(std::string_view name) const {
    for (const auto& [n, c] : children) {
      if (n == name) return c.get();
    }
    return nullptr;
  }
};

}  // namespace projection_internal

using projection_internal::Node;

namespace {

Status Collision(int code, std::string msg) { return Status(code, std::move(msg)); }

Status AddAtPath(Node* root, const FieldPath& path, std::unique_ptr<Node> leaf) {
  Node* cur = root;
  for (size_t i = 0; i < path.size(); ++i) {
    std::string name(path[i]);
    Node* child = cur->Find(name);
    if (i + 1 == path.size()) {
      if (child) return Collision(31250, "Path collision at " + path.dotted());
      if (leaf->kind == Node::Kind::kExpr) cur->has_computed = true;
      if (leaf->kind == Node::Kind::kPositional) cur->has_positional = true;
      cur->children.emplace_back(name, std::move(leaf));
      return Status::OK();
    }
    if (!child) {
      auto fresh = std::make_unique<Node>();
      child = fresh.get();
      cur->children.emplace_back(name, std::move(fresh));
    } else if (child->kind != Node::Kind::kPath) {
      std::string tail;
      for (size_t j = i + 1; j < path.size(); ++j) tail += (tail.empty() ? "" : ".") + std::string(path[j]);
      return Collision(31249, "Path collision at " + path.dotted() + " remaining portion " + tail);
    }
    if (leaf->kind == Node::Kind::kExpr) cur->has_computed = true;
    if (leaf->kind == Node::Kind::kPositional) cur->has_positional = true;
    cur = child;
  }
  return Status::OK();
}

// Propagates has_computed / has_positional to every ancestor.
void Finish(Node* n) {
  for (auto& [name, c] : n->children) {
    Finish(c.get());
    if (c->kind == Node::Kind::kExpr || c->has_computed) n->has_computed = true;
    if (c->kind == Node::Kind::kPositional || c->has_positional) n->has_positional = true;
  }
}

struct ApplyCtx {
  bson::View root;
  const MatchDetails* details = nullptr;
  const ProjectionOptions* opts = nullptr;
  bson::View let;
  Status error;
};

StatusWith<Value> Evaluate(const Expression& e, ApplyCtx& ctx) {
  EvalContext ec(ctx.root);
  ec.collator = ctx.opts->collator;
  ec.now_millis = ctx.opts->now_millis;
  for (const auto& v : ctx.let) ec.Bind(std::string(v.key()), Value::FromElement(v));
  return e.Evaluate(ec);
}

void AppendSliced(std::string_view key, const bson::Element& v, const Node& n, bson::Builder* out) {
  if (v.type() != bson::Type::kArray) {
    out->AppendAs(key, v);
    return;
  }
  std::vector<bson::Element> elems;
  for (const auto& e : v.Obj()) elems.push_back(e);
  int64_t size = static_cast<int64_t>(elems.size());
  int64_t start, count;
  if (!n.has_skip) {
    if (n.limit >= 0) {
      start = 0;
      count = n.limit;
    } else {
      start = std::max<int64_t>(0, size + n.limit);
      count = size;
    }
  } else {
    start = n.skip >= 0 ? std::min(n.skip, size) : std::max<int64_t>(0, size + n.skip);
    count = n.limit;
  }
  out->OpenArray(key);
  std::string scratch;
  size_t k = 0;
  for (int64_t i = start; i < size && static_cast<int64_t>(k) < count; ++i) {
    out->AppendAs(bson::ArrayKey(k++, &scratch), elems[i]);
  }
  out->Close();
}

void ApplyExclusion(bson::View obj, const Node& node, bson::Builder* out);

void ExcludeInArray(bson::View arr, const Node& node, bson::Builder* out) {
  std::string scratch;
  size_t k = 0;
  for (const auto& e : arr) {
    auto key = bson::ArrayKey(k++, &scratch);
    if (e.type() == bson::Type::kObject) {
      out->OpenDocument(key);
      ApplyExclusion(e.Obj(), node, out);
      out->Close();
    } else if (e.type() == bson::Type::kArray) {
      out->OpenArray(key);
      ExcludeInArray(e.Obj(), node, out);
      out->Close();
    } else {
      out->AppendAs(key, e);
    }
  }
}

void ApplyExclusion(bson::View obj, const Node& node, bson::Builder* out) {
  for (const auto& f : obj) {
    const Node* c = node.Find(f.key());
    if (!c) {
      out->Append(f);
      continue;
    }
    switch (c->kind) {
      case Node::Kind::kExclude: break;
      case Node::Kind::kSlice: AppendSliced(f.key(), f, *c, out); break;
      case Node::Kind::kPath:
        if (f.type() == bson::Type::kObject) {
          out->OpenDocument(f.key());
          ApplyExclusion(f.Obj(), *c, out);
          out->Close();
        } else if (f.type() == bson::Type::kArray) {
          out->OpenArray(f.key());
          ExcludeInArray(f.Obj(), *c, out);
          out->Close();
        } else {
          out->Append(f);
        }
        break;
      default: out->Append(f); break;
    }
  }
}

Status PositionalError() {
  return Status(51246,
                "Executor error during find command :: caused by :: positional operator '.$' couldn't "
                "find a matching element in the array");
}

Status ApplyInclusion(bson::View obj, const Node& node, ApplyCtx& ctx, bool positional_done,
                      bson::Builder* out);

Status IncludeInArray(bson::View arr, const Node& node, ApplyCtx& ctx, bool positional_done,
                      bson::Builder* out) {
  std::string scratch;
  size_t k = 0;
  for (const auto& e : arr) {
    if (e.type() == bson::Type::kObject) {
      out->OpenDocument(bson::ArrayKey(k++, &scratch));
      BROOK_RETURN_IF_ERROR(ApplyInclusion(e.Obj(), node, ctx, positional_done, out));
      out->Close();
    } else if (e.type() == bson::Type::kArray) {
      out->OpenArray(bson::ArrayKey(k++, &scratch));
      BROOK_RETURN_IF_ERROR(IncludeInArray(e.Obj(), node, ctx, positional_done, out));
      out->Close();
    }
  }
  return Status::OK();
}

// The array element the query matched, for a positional projection.
StatusWith<bson::Element> MatchedElement(const bson::Element& arr, const ApplyCtx& ctx) {
  if (!ctx.details || !ctx.details->has_elem_match_key()) return PositionalError();
  auto idx = ParseArrayIndex(ctx.details->elem_match_key());
  if (!idx) return PositionalError();
  size_t i = 0;
  for (const auto& e : arr.Obj()) {
    if (i++ == *idx) return e;
  }
  return PositionalError();
}

Status ApplyInclusion(bson::View obj, const Node& node, ApplyCtx& ctx, bool positional_done,
                      bson::Builder* out) {
  std::vector<std::string_view> emitted_paths;
  for (const auto& f : obj) {
    const Node* c = node.Find(f.key());
    if (!c) continue;
    switch (c->kind) {
      case Node::Kind::kInclude: out->Append(f); break;
      case Node::Kind::kExclude:
      case Node::Kind::kExpr: break;
      case Node::Kind::kSlice: AppendSliced(f.key(), f, *c, out); break;
      case Node::Kind::kElemMatch: {
        MatchDetails d;
        if (f.type() == bson::Type::kArray && c->matcher->Matches(ctx.root, &d) && d.has_elem_match_key()) {
          auto idx = ParseArrayIndex(d.elem_match_key());
          size_t i = 0;
          for (const auto& e : f.Obj()) {
            if (idx && i++ == *idx) {
              out->OpenArray(f.key());
              out->AppendAs("0", e);
              out->Close();
              break;
            }
          }
        }
        break;
      }
      case Node::Kind::kPositional:
        if (positional_done || f.type() != bson::Type::kArray) {
          out->Append(f);
        } else {
          auto e = MatchedElement(f, ctx);
          if (!e.ok()) return e.status();
          out->OpenArray(f.key());
          out->AppendAs("0", e.value());
          out->Close();
        }
        break;
      case Node::Kind::kPath:
        if (f.type() == bson::Type::kObject) {
          out->OpenDocument(f.key());
          BROOK_RETURN_IF_ERROR(ApplyInclusion(f.Obj(), *c, ctx, positional_done, out));
          out->Close();
          emitted_paths.push_back(f.key());
        } else if (f.type() == bson::Type::kArray) {
          out->OpenArray(f.key());
          if (c->has_positional && !positional_done) {
            auto e = MatchedElement(f, ctx);
            if (!e.ok()) return e.status();
            if (e.value().type() == bson::Type::kObject) {
              out->OpenDocument("0");
              BROOK_RETURN_IF_ERROR(ApplyInclusion(e.value().Obj(), *c, ctx, true, out));
              out->Close();
            }
          } else {
            BROOK_RETURN_IF_ERROR(IncludeInArray(f.Obj(), *c, ctx, positional_done, out));
          }
          out->Close();
          emitted_paths.push_back(f.key());
        }
        break;
    }
  }
  // Computed fields come after the included ones, in the order the spec gave them.
  for (const auto& [name, c] : node.children) {
    if (c->kind == Node::Kind::kExpr) {
      auto v = Evaluate(*c->expr, ctx);
      if (!v.ok()) return v.status();
      v.value().AppendTo(out, name);
    } else if (c->kind == Node::Kind::kPath && c->has_computed &&
               std::find(emitted_paths.begin(), emitted_paths.end(), name) == emitted_paths.end()) {
      out->OpenDocument(name);
      BROOK_RETURN_IF_ERROR(ApplyInclusion(bson::View(), *c, ctx, positional_done, out));
      out->Close();
    }
  }
  return Status::OK();
}

bool IsPositionalPath(std::string_view path, std::string* prefix) {
  if (path == "$") return false;
  size_t mid = path.find(".$.");
  if (mid != std::string_view::npos) {
    *prefix = std::string(path.substr(0, mid));
    return true;
  }
  if (path.size() >= 2 && path.substr(path.size() - 2) == ".$") {
    *prefix = std::string(path.substr(0, path.size() - 2));
    return true;
  }
  return false;
}

class SpecParser {
 public:
  SpecParser(const ProjectionOptions& opts, Node* root) : opts_(opts), root_(root) {}

  Status ParseFields(bson::View spec, const std::string& prefix) {
    for (const auto& e : spec) {
      std::string path = prefix.empty() ? std::string(e.key()) : prefix + "." + std::string(e.key());
      BROOK_RETURN_IF_ERROR(ParseField(path, e));
    }
    return Status::OK();
  }

  bool inclusion() const { return type_ == Type::kInclusion; }
  bool type_known() const { return type_ != Type::kUnknown; }
  bool has_slice = false;
  bool has_elem_match = false;
  bool has_positional = false;
  bool id_specified = false;

 private:
  enum class Type { kUnknown, kInclusion, kExclusion };

  Status ParseField(const std::string& path, const bson::Element& e) {
    if (path == "_id" || path.rfind("_id.", 0) == 0) id_specified = true;
    std::string positional_prefix;
    bool positional = opts_.find_semantics && IsPositionalPath(path, &positional_prefix);
    FieldPath fp(path);
    if (fp.HasEmptyComponent()) {
      return Status(ErrorCodes::kBadValue, "FieldPath field names may not be empty strings.");
    }
    if (e.type() == bson::Type::kObject) {
      bson::View sub = e.Obj();
      if (positional) return Status(31271, "positional projection cannot be used with an expression");
      std::string_view first = sub.empty() ? std::string_view() : sub.first().key();
      if (opts_.find_semantics && first == "$slice") return ParseSlice(fp, sub.first());
      if (opts_.find_semantics && first == "$elemMatch") return ParseElemMatch(fp, e);
      if (!first.empty() && first[0] == '$') return ParseExpression(fp, e);
      if (sub.empty()) {
        return Status(51270, "An empty sub-projection is not a valid value. Found empty object at path");
      }
      return ParseFields(sub, path);
    }
    if (e.type() == bson::Type::kBool || e.IsNumber()) {
      if (e.Truthy()) {
        auto n = std::make_unique<Node>();
        if (positional) {
          if (has_positional) return Status(31276, "Cannot specify more than one positional projection per query.");
          if (has_elem_match) return Status(31256, "Cannot specify positional operator and $elemMatch.");
          if (path.size() >= 3 && path.substr(path.size() - 3) == ".$.") {
            return Status(31270, "Path cannot end with '.$.'");
          }
          has_positional = true;
          n->kind = Node::Kind::kPositional;
          fp = FieldPath(positional_prefix);
        } else {
          n->kind = Node::Kind::kInclude;
        }
        if (type_ == Type::kExclusion) {
          return Status(31253, "Cannot do inclusion on field " + path + " in exclusion projection");
        }
        type_ = Type::kInclusion;
        return AddAtPath(root_, fp, std::move(n));
      }
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::kExclude;
      BROOK_RETURN_IF_ERROR(AddAtPath(root_, fp, std::move(n)));
      if (path != "_id") {
        if (type_ == Type::kInclusion) {
          return Status(31254, "Cannot do exclusion on field " + path + " in inclusion projection");
        }
        type_ = Type::kExclusion;
      }
      return Status::OK();
    }
    // Any other literal (string, array, null, date...) is a computed field (4.4+).
    return ParseExpression(fp, e);
  }

  Status ParseExpression(const FieldPath& fp, const bson::Element& e) {
    if (type_ == Type::kExclusion) {
      return Status(31252, "Cannot use expression other than $meta in exclusion projection");
    }
    type_ = Type::kInclusion;
    ExpressionParseContext pctx;
    pctx.collator = opts_.collator;
    for (const auto& v : opts_.let_variables) pctx.variables.emplace_back(v.key());
    auto expr = Expression::Parse(e, pctx);
    if (!expr.ok()) return expr.status();
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::kExpr;
    n->expr = std::move(expr.value());
    return AddAtPath(root_, fp, std::move(n));
  }

  Status ParseSlice(const FieldPath& fp, const bson::Element& arg) {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::kSlice;
    if (arg.IsNumber()) {
      n->limit = arg.NumberInt64();
    } else if (arg.type() == bson::Type::kArray) {
      std::vector<bson::Element> parts;
      for (const auto& p : arg.Obj()) parts.push_back(p);
      if (parts.size() != 2) return Status(31272, "$slice array argument should be of form [skip, limit]");
      if (!parts[0].IsNumber()) {
        return Status(31257, "$slice expects the skip argument to be a number, got " +
                                 std::string(bson::TypeName(parts[0].type())));
      }
      if (!parts[1].IsNumber()) {
        return Status(31258, "$slice expects the limit argument to be a number, got " +
                                 std::string(bson::TypeName(parts[1].type())));
      }
      if (parts[1].NumberInt64() <= 0) {
        return Status(31259, "$slice limit must be positive, got " + std::to_string(parts[1].NumberInt64()));
      }
      n->has_skip = true;
      n->skip = parts[0].NumberInt64();
      n->limit = parts[1].NumberInt64();
    } else {
      return Status(31273, "$slice only supports numbers and [skip, limit] arrays");
    }
    has_slice = true;
    return AddAtPath(root_, fp, std::move(n));
  }

  Status ParseElemMatch(const FieldPath& fp, const bson::Element& e) {
    bson::Element arg = e.Obj().first();
    if (arg.type() != bson::Type::kObject) {
      return Status(31274, "elemMatch: Invalid argument, object required, but got " +
                               std::string(bson::TypeName(arg.type())));
    }
    if (has_positional) return Status(31255, "Cannot specify positional operator and $elemMatch.");
    if (fp.size() > 1) return Status(31275, "Cannot use $elemMatch projection on a nested field.");
    bson::Builder b;
    b.AppendAs(fp.dotted(), e);
    bson::Doc filter = b.Done();
    MatcherOptions mo;
    mo.collator = opts_.collator;
    auto m = Matcher::Parse(filter, mo);
    if (!m.ok()) return m.status();
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::kElemMatch;
    n->matcher = std::move(m.value());
    has_elem_match = true;
    return AddAtPath(root_, fp, std::move(n));
  }

  const ProjectionOptions& opts_;
  Node* root_;
  Type type_ = Type::kUnknown;
};

}  // namespace

Projection::Projection() = default;
Projection::~Projection() = default;

StatusWith<std::unique_ptr<Projection>> Projection::Parse(bson::View spec, const ProjectionOptions& opts) {
  std::unique_ptr<Projection> p(new Projection());
  p->spec_ = bson::Doc::CopyOf(spec);
  p->let_ = bson::Doc::CopyOf(opts.let_variables);
  p->opts_ = opts;
  p->opts_.let_variables = p->let_.view();
  p->root_ = std::make_unique<Node>();
  if (spec.empty()) {
    if (!opts.find_semantics) {
      return Status(51272, "Invalid $project :: caused by :: projection specification must have at least one field");
    }
    p->empty_ = true;
    return p;
  }
  SpecParser parser(p->opts_, p->root_.get());
  BROOK_RETURN_IF_ERROR(parser.ParseFields(p->spec_.view(), ""));
  if (parser.type_known()) {
    p->inclusion_ = parser.inclusion();
  } else {
    p->inclusion_ = !parser.has_slice && parser.has_elem_match;
  }
  p->positional_ = parser.has_positional;
  if (p->inclusion_ && !parser.id_specified) {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::kInclude;
    BROOK_RETURN_IF_ERROR(AddAtPath(p->root_.get(), FieldPath("_id"), std::move(n)));
  }
  Finish(p->root_.get());
  return p;
}

StatusWith<bson::Doc> Projection::Apply(bson::View doc, const MatchDetails* details) const {
  if (empty_) return bson::Doc::CopyOf(doc);
  bson::Builder out;
  if (!inclusion_) {
    ApplyExclusion(doc, *root_, &out);
    return out.Done();
  }
  ApplyCtx ctx;
  ctx.root = doc;
  ctx.details = details;
  ctx.opts = &opts_;
  ctx.let = let_.view();
  BROOK_RETURN_IF_ERROR(ApplyInclusion(doc, *root_, ctx, false, &out));
  return out.Done();
}

}  // namespace brook::query
