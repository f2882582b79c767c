#include "query/update_tree.h"

#include "query/path.h"

namespace brook::query::update_internal {

namespace {

constexpr size_t kMaxPadding = 1500000;

Status BadValue(std::string msg) { return Status(ErrorCodes::kBadValue, std::move(msg)); }

// "a: 1" as MongoDB prints an element in messages.
std::string ElementForMessage(const RuntimePath& taken, MutableDoc* doc, const MutableNode& n) {
  std::string key = taken.empty() ? std::string() : taken.back().name;
  return key + ": " + doc->ValueOf(n).ToString();
}

// Moves as much of t.to_create as now exists (an earlier sibling may have created it)
// into t.taken.
void Resolve(Target& t) {
  if (t.node) return;
  while (!t.to_create.empty()) {
    MutableNode* a = t.anchor;
    if (!a->IsObject() && !a->IsArray()) return;
    MutableNode* child = a->FindField(t.to_create.front());
    if (!child) return;
    t.taken.push_back(PathComp{t.to_create.front(), a->IsArray()});
    t.to_create.erase(t.to_create.begin());
    t.parent = a;
    t.anchor = child;
  }
  t.node = t.anchor;
}

Target Descend(Target t, const std::string& name) {
  Resolve(t);
  Target c;
  if (t.node) {
    MutableNode* n = t.node;
    if (n->IsObject() || n->IsArray()) {
      MutableNode* child = n->FindField(name);
      if (child) {
        c.node = child;
        c.parent = n;
        c.anchor = child;
        c.taken = t.taken;
        c.taken.push_back(PathComp{name, n->IsArray()});
        return c;
      }
    }
    c.anchor = n;
    c.taken = t.taken;
    c.to_create = {name};
    return c;
  }
  c.anchor = t.anchor;
  c.taken = t.taken;
  c.to_create = t.to_create;
  c.to_create.push_back(name);
  return c;
}

Status ApplyNode(const UpdateNode& un, Target t, ApplyCtx& ctx);

Status ApplyObject(const UpdateNode& un, const Target& t, ApplyCtx& ctx) {
  bool positional_pending = un.positional != nullptr;
  if (positional_pending && !ctx.has_match) {
    return BadValue("The positional operator did not find the match needed from the query.");
  }
  for (const auto& [name, child] : un.children) {
    if (positional_pending && name == ctx.match_key) {
      if (child->kind == UpdateNode::Kind::kLeaf || un.positional->kind == UpdateNode::Kind::kLeaf) {
        std::string p = Dotted(t.taken);
        for (const auto& c : t.to_create) p += (p.empty() ? "" : ".") + c;
        return Status(ErrorCodes::kConflictingUpdateOperators,
                      "Update created a conflict at '" + (p.empty() ? name : p + "." + name) + "'");
      }
      BROOK_RETURN_IF_ERROR(ApplyNode(*child, Descend(t, name), ctx));
      BROOK_RETURN_IF_ERROR(ApplyNode(*un.positional, Descend(t, name), ctx));
      positional_pending = false;
      continue;
    }
    if (positional_pending && FieldNameLess()(ctx.match_key, name)) {
      BROOK_RETURN_IF_ERROR(ApplyNode(*un.positional, Descend(t, ctx.match_key), ctx));
      positional_pending = false;
    }
    BROOK_RETURN_IF_ERROR(ApplyNode(*child, Descend(t, name), ctx));
  }
  if (positional_pending) {
    BROOK_RETURN_IF_ERROR(ApplyNode(*un.positional, Descend(t, ctx.match_key), ctx));
  }
  return Status::OK();
}

Status ApplyArray(const UpdateNode& un, Target t, ApplyCtx& ctx) {
  Resolve(t);
  if (!t.node) {
    return BadValue("The path '" + t.FullPath() +
                    "' must exist in the document in order to apply array updates.");
  }
  if (!t.node->IsArray()) {
    return BadValue("Cannot apply array updates to non-array element " +
                    ElementForMessage(t.taken, ctx.doc, *t.node));
  }
  MutableNode* arr = t.node;
  size_t n = arr->ArraySize();
  for (size_t i = 0; i < n; ++i) {
    std::vector<const UpdateNode*> matching;
    bson::Element value = ctx.doc->ValueOf(*arr->At(i));
    for (const auto& [id, child] : un.children) {
      if (id.empty()) {
        matching.push_back(child.get());
        continue;
      }
      auto f = ctx.array_filters->find(id);
      if (f == ctx.array_filters->end()) continue;
      bson::Builder b;
      b.AppendAs(id, value);
      bson::Doc probe = b.Done();
      auto m = f->second->MatchesOrError(probe.view());
      if (!m.ok()) return m.status();
      if (m.value()) matching.push_back(child.get());
    }
    for (const UpdateNode* child : matching) {
      Target et;
      et.node = arr->At(i);
      et.parent = arr;
      et.anchor = et.node;
      et.taken = t.taken;
      et.taken.push_back(PathComp{std::to_string(i), true});
      BROOK_RETURN_IF_ERROR(ApplyNode(*child, std::move(et), ctx));
    }
  }
  return Status::OK();
}

Status ApplyNode(const UpdateNode& un, Target t, ApplyCtx& ctx) {
  switch (un.kind) {
    case UpdateNode::Kind::kLeaf: return un.leaf->Apply(t, ctx);
    case UpdateNode::Kind::kObject: return ApplyObject(un, t, ctx);
    case UpdateNode::Kind::kArray: return ApplyArray(un, std::move(t), ctx);
  }
  return Status::OK();
}

bool IsArrayFilterComponent(std::string_view c) {
  return c.size() >= 3 && c[0] == '$' && c[1] == '[' && c.back() == ']';
}

}  // namespace

std::string ApplyCtx::DocIdForMessage() const {
  bson::Element id = old_doc.Get("_id");
  if (id.missing()) return "{no id}";
  return "{_id: " + id.ToString() + "}";
}

std::string Target::FullPath() const {
  std::string p = Dotted(taken);
  for (const auto& c : to_create) {
    if (!p.empty()) p.push_back('.');
    p += c;
  }
  return p;
}

StatusWith<bson::Element> Modifier::NewValue(ApplyCtx&) const {
  return Status(ErrorCodes::kInternalError, "modifier cannot create a path");
}

Status Modifier::Apply(Target& t, ApplyCtx& ctx) const { return ApplyModifier(*this, t, ctx); }

Status CheckNotId(const std::string& first_component, const std::string& dotted, const ApplyCtx& ctx) {
  if (ctx.is_insert || first_component != "_id") return Status::OK();
  return Status(ErrorCodes::kImmutableField, "Performing an update on the path '" + dotted +
                                                 "' would modify the immutable field '_id'");
}

Status CheckViability(const Target& t) {
  if (t.to_create.empty()) return Status::OK();
  const MutableNode* a = t.anchor;
  bool ok = a->IsObject() || (a->IsArray() && ParseArrayIndex(t.to_create.front()).has_value());
  if (ok) return Status::OK();
  MutableNode* anchor = const_cast<MutableNode*>(a);
  std::string key = t.taken.empty() ? std::string() : t.taken.back().name;
  bson::Builder b;
  MutableDoc::Write(*anchor, key, &b);
  return Status(ErrorCodes::kPathNotViable, "Cannot use the part (" + t.to_create.front() + ") of (" +
                                                t.FullPath() + ") to traverse the element (" +
                                                b.Done().ToString() + ")");
}

Status CreatePath(Target& t, const bson::Element& value, ApplyCtx& ctx) {
  MutableNode* a = t.anchor;
  const std::string& first = t.to_create.front();
  std::optional<size_t> index;
  if (a->IsArray()) index = ParseArrayIndex(first);
  if (!a->IsObject() && !(a->IsArray() && index)) {
    std::string key = t.taken.empty() ? std::string() : t.taken.back().name;
    bson::Builder b;
    MutableDoc::Write(*a, key, &b);
    return Status(ErrorCodes::kPathNotViable,
                  "Cannot create field '" + first + "' in element " + b.Done().ToString());
  }
  // The new subtree: nested documents for the remaining components, `value` innermost.
  bson::Element new_value = value;
  if (t.to_create.size() > 1) {
    bson::Builder b;
    b.OpenDocument("");
    for (size_t i = 1; i + 1 < t.to_create.size(); ++i) b.OpenDocument(t.to_create[i]);
    b.AppendAs(t.to_create.back(), value);
    for (size_t i = 1; i + 1 < t.to_create.size(); ++i) b.Close();
    b.Close();
    new_value = ctx.doc->OwnDoc(b.Done());
  }
  auto node = ctx.doc->MakeValueNode(new_value);
  MutableNode* created = node.get();
  a->Expand();
  if (a->IsArray()) {
    size_t size = a->children.size();
    if (*index > size && *index - size > kMaxPadding) {
      return Status(ErrorCodes::kBadValue, "can't backfill array to larger than 1500000 elements");
    }
    bson::Builder nb;
    nb.AppendNull("");
    bson::Element null_value = ctx.doc->OwnDoc(nb.Done());
    while (a->children.size() < *index) {
      auto pad = std::make_unique<MutableNode>();
      pad->value = null_value;
      a->children.push_back(MutableChild{std::string(), std::move(pad)});
    }
    a->children.push_back(MutableChild{std::string(), std::move(node)});
  } else {
    a->children.push_back(MutableChild{first, std::move(node)});
  }
  RuntimePath p = t.taken;
  p.push_back(PathComp{first, a->IsArray()});
  ctx.log->Updated(p, created->value);
  return Status::OK();
}

Status ApplyModifier(const Modifier& m, Target& t, ApplyCtx& ctx) {
  if (m.InsertOnly() && !ctx.is_insert) return Status::OK();
  Resolve(t);
  if (t.node) {
    auto outcome = m.UpdateExisting(t, ctx);
    if (!outcome.ok()) return outcome.status();
    if (outcome.value() == Modifier::Outcome::kNoOp) return Status::OK();
    if (!t.taken.empty()) BROOK_RETURN_IF_ERROR(CheckNotId(t.taken[0].name, Dotted(t.taken), ctx));
    if (outcome.value() == Modifier::Outcome::kUpdated) {
      ctx.log->Updated(t.taken, ctx.doc->ValueOf(*t.node));
    }
    return Status::OK();
  }
  if (!m.CreatesPath()) {
    if (!m.AllowsNonViablePath()) return CheckViability(t);
    return Status::OK();
  }
  auto value = m.NewValue(ctx);
  if (!value.ok()) return value.status();
  std::string first = t.taken.empty() ? t.to_create.front() : t.taken[0].name;
  BROOK_RETURN_IF_ERROR(CheckNotId(first, t.FullPath(), ctx));
  return CreatePath(t, value.value(), ctx);
}

Status AddToTree(UpdateNode* root, const std::string& path, std::unique_ptr<Modifier> leaf,
                 const ArrayFilterMap& filters, std::set<std::string>* used_identifiers,
                 bool* uses_positional) {
  if (path.empty()) return Status(ErrorCodes::kEmptyFieldName, "An empty update path is not valid.");
  FieldPath fp(path);
  if (fp.HasEmptyComponent()) {
    return Status(ErrorCodes::kEmptyFieldName,
                  "The update path '" + path + "' contains an empty field name, which is not allowed.");
  }
  size_t positional_count = 0;
  for (size_t i = 0; i < fp.size(); ++i) {
    std::string_view c = fp[i];
    if (c == "$") {
      if (i == 0) {
        return BadValue("Cannot have positional (i.e. '$') element in the first position in path '" +
                        path + "'");
      }
      ++positional_count;
      continue;
    }
    if (IsArrayFilterComponent(c)) {
      if (i == 0) {
        return BadValue(
            "Cannot have array filter identifier (i.e. '$[<id>]') element in the first position "
            "in path '" +
            path + "'");
      }
      std::string id(c.substr(2, c.size() - 3));
      if (!id.empty()) {
        if (filters.find(id) == filters.end()) {
          return BadValue("No array filter found for identifier '" + id + "' in path '" + path + "'");
        }
        used_identifiers->insert(id);
      }
      continue;
    }
    if (!c.empty() && c[0] == '$') {
      return Status(ErrorCodes::kDollarPrefixedFieldName,
                    "The dollar ($) prefixed field '" + std::string(c) + "' in '" + path +
                        "' is not valid for storage.");
    }
  }
  if (positional_count > 1) {
    return BadValue("Too many positional (i.e. '$') elements found in path '" + path + "'");
  }
  if (positional_count) *uses_positional = true;

  auto conflict = [&](size_t upto) {
    return Status(ErrorCodes::kConflictingUpdateOperators,
                  "Updating the path '" + path + "' would create a conflict at '" + fp.Prefix(upto) + "'");
  };
  auto child_name = [&](std::string_view c) -> std::string {
    if (IsArrayFilterComponent(c)) return std::string(c.substr(2, c.size() - 3));
    return std::string(c);
  };
  auto get_child = [](UpdateNode* n, std::string_view comp, const std::string& name) -> std::unique_ptr<UpdateNode>* {
    if (n->kind == UpdateNode::Kind::kObject && comp == "$") return &n->positional;
    auto it = n->children.find(name);
    if (it == n->children.end()) return nullptr;
    return &it->second;
  };
  UpdateNode* cur = root;
  for (size_t i = 0; i + 1 < fp.size(); ++i) {
    std::string name = child_name(fp[i]);
    bool child_is_array = IsArrayFilterComponent(fp[i + 1]);
    auto want = child_is_array ? UpdateNode::Kind::kArray : UpdateNode::Kind::kObject;
    std::unique_ptr<UpdateNode>* slot = get_child(cur, fp[i], name);
    if (slot && *slot) {
      if ((*slot)->kind != want) return conflict(i + 1);
      cur = slot->get();
      continue;
    }
    auto fresh = std::make_unique<UpdateNode>(want);
    UpdateNode* raw = fresh.get();
    if (cur->kind == UpdateNode::Kind::kObject && fp[i] == "$") {
      cur->positional = std::move(fresh);
    } else {
      cur->children.emplace(name, std::move(fresh));
    }
    cur = raw;
  }
  std::string_view last = fp[fp.size() - 1];
  std::string name = child_name(last);
  std::unique_ptr<UpdateNode>* slot = get_child(cur, last, name);
  if (slot && *slot) return conflict(fp.size());
  auto node = std::make_unique<UpdateNode>(UpdateNode::Kind::kLeaf);
  node->leaf = std::move(leaf);
  if (cur->kind == UpdateNode::Kind::kObject && last == "$") {
    cur->positional = std::move(node);
  } else {
    cur->children.emplace(name, std::move(node));
  }
  return Status::OK();
}

Status ApplyTree(const UpdateNode& root, ApplyCtx& ctx) {
  Target t;
  t.node = ctx.doc->root();
  t.anchor = t.node;
  return ApplyNode(root, t, ctx);
}

}  // namespace brook::query::update_internal
