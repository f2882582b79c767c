// $project (inclusion, exclusion, computed fields), $addFields/$set and $unset.
// A spec parses into a tree of path components; leaves include, exclude, or compute.
// Computed values are evaluated against the whole input document ($$ROOT).
#include <algorithm>

#include "query/stage.h"
#include "query/stage_util.h"

namespace brook::query::pipeline_internal {
namespace {

enum class Leaf { kNone, kInclude, kExclude, kCompute };

struct ProjNode {
  Leaf leaf = Leaf::kNone;
  std::unique_ptr<Expression> expr;
  std::vector<std::pair<std::string, std::unique_ptr<ProjNode>>> children;

  ProjNode* Child(std::string_view name) const {
    for (const auto& c : children) {
      if (c.first == name) return c.second.get();
    }
    return nullptr;
  }
  bool HasCompute() const {
    if (leaf == Leaf::kCompute) return true;
    for (const auto& c : children) {
      if (c.second->HasCompute()) return true;
    }
    return false;
  }
};

enum class Mode { kInclusion, kExclusion, kAddFields };

class ProjParser {
 public:
  ProjParser(Mode mode, std::string_view stage, const ParseContext& ctx)
      : mode_(mode), stage_(stage), ctx_(ctx) {}

  Status Parse(bson::View spec, ProjNode* root) { return ParseLevel(spec, "", root); }
  bool saw_inclusion() const { return saw_inclusion_; }
  bool saw_exclusion() const { return saw_exclusion_; }
  bool id_mentioned() const { return id_mentioned_; }

 private:
  Status Wrap(Status s) const {
    if (stage_ == "$unset") return s;
    return Status(s.code(), "Invalid " + std::string(stage_) + " :: caused by :: " + s.reason());
  }

  Status Insert(ProjNode* root, const std::string& full, Leaf leaf, std::unique_ptr<Expression> e) {
    std::vector<std::string> parts = SplitDotted(full);
    ProjNode* node = root;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].empty()) return Wrap(Status(15998, "FieldPath field names may not be empty strings."));
      if (node->leaf != Leaf::kNone) {
        return Wrap(Status(31250, "Path collision at " + full));
      }
      ProjNode* child = node->Child(parts[i]);
      bool last = i + 1 == parts.size();
      if (child == nullptr) {
        node->children.emplace_back(parts[i], std::make_unique<ProjNode>());
        child = node->children.back().second.get();
      } else if (last) {
        return Wrap(Status(31250, "Path collision at " + full));
      }
      node = child;
    }
    node->leaf = leaf;
    node->expr = std::move(e);
    return Status::OK();
  }

  Status ParseLevel(bson::View spec, const std::string& prefix, ProjNode* root) {
    for (const bson::Element& e : spec) {
      std::string_view key = e.key();
      if (key.empty()) return Wrap(Status(40352, "FieldPath cannot be constructed with empty string"));
      if (key[0] == '$') {
        return Wrap(Status(16410, "FieldPath field names may not start with '$'. Consider using "
                                  "$getField or $setField."));
      }
      std::string full = prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
      bool is_id = full == "_id";
      if (is_id) id_mentioned_ = true;
      if (e.IsObject() && !e.Obj().empty() && e.Obj().first().key()[0] != '$') {
        BROOK_RETURN_IF_ERROR(ParseLevel(e.Obj(), full, root));
        continue;
      }
      if (e.IsObject() && e.Obj().empty() && mode_ != Mode::kAddFields) {
        return Wrap(Status(51270, "An empty sub-projection is not a valid value. Found empty "
                                  "object at path"));
      }
      bool flag = e.IsNumber() || e.type() == bson::Type::kBool;
      if (mode_ != Mode::kAddFields && flag) {
        bool include = e.Truthy();
        if (include) {
          if (saw_exclusion_ && !is_id) {
            return Wrap(Status(31253, "Cannot do inclusion on field " + full + " in exclusion projection"));
          }
          if (!is_id) saw_inclusion_ = true;
          BROOK_RETURN_IF_ERROR(Insert(root, full, Leaf::kInclude, nullptr));
        } else {
          if (saw_inclusion_ && !is_id) {
            return Wrap(Status(31254, "Cannot do exclusion on field " + full + " in inclusion projection"));
          }
          if (!is_id) saw_exclusion_ = true;
          BROOK_RETURN_IF_ERROR(Insert(root, full, Leaf::kExclude, nullptr));
        }
        continue;
      }
      if (mode_ != Mode::kAddFields) {
        if (saw_exclusion_) {
          return Wrap(Status(31252, "Cannot use expression other than $meta in exclusion "
                                    "projection"));
        }
        saw_inclusion_ = true;
      }
      auto expr = Expression::Parse(e, ctx_.ExprContext());
      if (!expr.ok()) return expr.status();
      BROOK_RETURN_IF_ERROR(Insert(root, full, Leaf::kCompute, std::move(expr).value()));
    }
    return Status::OK();
  }

  Mode mode_;
  std::string_view stage_;
  const ParseContext& ctx_;
  bool saw_inclusion_ = false;
  bool saw_exclusion_ = false;
  bool id_mentioned_ = false;
};

// ---- application ----

Status ApplyNode(const ProjNode& node, Mode mode, bson::View doc, EvalContext& ctx, bson::Builder* b);

// Applies `node` (a subtree) to one value found at its path.
Status ApplyToValue(const ProjNode& node, Mode mode, const bson::Element& e, std::string_view key,
                    EvalContext& ctx, bson::Builder* b) {
  if (e.IsObject()) {
    b->OpenDocument(key);
    BROOK_RETURN_IF_ERROR(ApplyNode(node, mode, e.Obj(), ctx, b));
    b->Close();
    return Status::OK();
  }
  if (e.IsArray()) {
    b->OpenArray(key);
    std::string scratch;
    size_t i = 0;
    for (const bson::Element& item : e.Obj()) {
      std::string_view k = bson::ArrayKey(i, &scratch);
      std::string kk(k);
      if (item.IsObject() || item.IsArray()) {
        BROOK_RETURN_IF_ERROR(ApplyToValue(node, mode, item, kk, ctx, b));
        ++i;
      } else if (mode == Mode::kExclusion) {
        b->AppendAs(kk, item);
        ++i;
      } else if (node.HasCompute()) {
        b->OpenDocument(kk);
        BROOK_RETURN_IF_ERROR(ApplyNode(node, mode, bson::View(), ctx, b));
        b->Close();
        ++i;
      }
    }
    b->Close();
    return Status::OK();
  }
  // A scalar under a subtree.
  if (mode == Mode::kExclusion) {
    b->AppendAs(key, e);
  } else if (node.HasCompute()) {
    b->OpenDocument(key);
    BROOK_RETURN_IF_ERROR(ApplyNode(node, mode, bson::View(), ctx, b));
    b->Close();
  }
  return Status::OK();
}

Status AppendComputed(const ProjNode& child, std::string_view key, EvalContext& ctx, bson::Builder* b) {
  auto v = child.expr->Evaluate(ctx);
  if (!v.ok()) return v.status();
  v.value().AppendTo(b, key);
  return Status::OK();
}

Status ApplyNode(const ProjNode& node, Mode mode, bson::View doc, EvalContext& ctx, bson::Builder* b) {
  std::vector<const ProjNode*> handled;
  for (const bson::Element& e : doc) {
    const ProjNode* child = node.Child(e.key());
    if (child == nullptr) {
      if (mode != Mode::kInclusion) b->Append(e);
      continue;
    }
    if (std::find(handled.begin(), handled.end(), child) != handled.end()) continue;
    switch (child->leaf) {
      case Leaf::kInclude:
        b->Append(e);
        handled.push_back(child);
        break;
      case Leaf::kExclude:
        handled.push_back(child);
        break;
      case Leaf::kCompute:
        if (mode == Mode::kAddFields) {
          BROOK_RETURN_IF_ERROR(AppendComputed(*child, e.key(), ctx, b));
          handled.push_back(child);
        }
        break;
      case Leaf::kNone:
        BROOK_RETURN_IF_ERROR(ApplyToValue(*child, mode, e, e.key(), ctx, b));
        handled.push_back(child);
        break;
    }
  }
  if (mode == Mode::kExclusion) return Status::OK();
  for (const auto& [name, child] : node.children) {
    if (std::find(handled.begin(), handled.end(), child.get()) != handled.end()) continue;
    if (child->leaf == Leaf::kCompute) {
      BROOK_RETURN_IF_ERROR(AppendComputed(*child, name, ctx, b));
    } else if (child->leaf == Leaf::kNone && child->HasCompute()) {
      b->OpenDocument(name);
      BROOK_RETURN_IF_ERROR(ApplyNode(*child, mode, bson::View(), ctx, b));
      b->Close();
    }
  }
  return Status::OK();
}

class ProjectSource : public DocumentSource {
 public:
  ProjectSource(std::unique_ptr<DocumentSource> input, const ProjNode* root, Mode mode, RunContextPtr rc)
      : input_(std::move(input)), root_(root), mode_(mode), rc_(std::move(rc)) {}
  StatusWith<std::optional<bson::Doc>> Next() override {
    auto next = input_->Next();
    if (!next.ok() || !next.value()) return next;
    const bson::Doc& doc = *next.value();
    EvalContext ctx = rc_->MakeEval(doc.view());
    bson::Builder b;
    BROOK_RETURN_IF_ERROR(ApplyNode(*root_, mode_, doc.view(), ctx, &b));
    return std::optional<bson::Doc>(b.Done());
  }

 private:
  std::unique_ptr<DocumentSource> input_;
  const ProjNode* root_;
  Mode mode_;
  RunContextPtr rc_;
};

class ProjectStage : public Stage {
 public:
  ProjectStage(bson::Doc spec, std::unique_ptr<ProjNode> root, Mode mode)
      : Stage(std::move(spec)), root_(std::move(root)), mode_(mode) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr& rc) const override {
    return std::unique_ptr<DocumentSource>(new ProjectSource(std::move(input), root_.get(), mode_, rc));
  }

 private:
  std::unique_ptr<ProjNode> root_;
  Mode mode_;
};

}  // namespace

StatusWith<StagePtr> ParseProjectStage(const bson::Element& spec, const ParseContext& ctx) {
  if (!spec.IsObject()) {
    return Status(15969, "$project specification must be an object");
  }
  if (spec.Obj().empty()) {
    return Status(51272, "Invalid $project :: caused by :: projection specification must have at "
                         "least one field");
  }
  auto root = std::make_unique<ProjNode>();
  ProjParser parser(Mode::kInclusion, "$project", ctx);
  BROOK_RETURN_IF_ERROR(parser.Parse(spec.Obj(), root.get()));
  Mode mode = Mode::kInclusion;
  if (!parser.saw_inclusion()) {
    // Only exclusions, or only {_id: 0/1}.
    const ProjNode* id = root->Child("_id");
    bool only_id_include = id && id->leaf == Leaf::kInclude && root->children.size() == 1;
    mode = only_id_include ? Mode::kInclusion : Mode::kExclusion;
  }
  if (mode == Mode::kInclusion && !parser.id_mentioned()) {
    root->children.insert(root->children.begin(), {"_id", std::make_unique<ProjNode>()});
    root->children.front().second->leaf = Leaf::kInclude;
  }
  return StagePtr(new ProjectStage(SpecDoc(spec), std::move(root), mode));
}

StatusWith<StagePtr> ParseAddFieldsStage(const bson::Element& spec, const ParseContext& ctx) {
  std::string name(spec.key());
  if (!spec.IsObject()) {
    return Status(40272, name + " specification stage must be an object, got " +
                             std::string(bson::TypeName(spec.type())));
  }
  auto root = std::make_unique<ProjNode>();
  ProjParser parser(Mode::kAddFields, spec.key(), ctx);
  BROOK_RETURN_IF_ERROR(parser.Parse(spec.Obj(), root.get()));
  return StagePtr(new ProjectStage(SpecDoc(spec), std::move(root), Mode::kAddFields));
}

StatusWith<StagePtr> ParseUnsetStage(const bson::Element& spec, const ParseContext& ctx) {
  bson::Builder b;
  if (spec.type() == bson::Type::kString) {
    b.AppendInt32(spec.Str(), 0);
  } else if (spec.IsArray()) {
    if (spec.Obj().empty()) {
      return Status(31119, "$unset specification must be a string or an array with at least one field");
    }
    for (const bson::Element& e : spec.Obj()) {
      if (e.type() != bson::Type::kString) {
        return Status(31120, "$unset specification must be a string or an array containing only "
                             "string values");
      }
      b.AppendInt32(e.Str(), 0);
    }
  } else {
    return Status(31002, "$unset specification must be a string or an array");
  }
  bson::Doc proj = b.Done();
  auto root = std::make_unique<ProjNode>();
  ProjParser parser(Mode::kExclusion, "$unset", ctx);
  BROOK_RETURN_IF_ERROR(parser.Parse(proj.view(), root.get()));
  return StagePtr(new ProjectStage(SpecDoc(spec), std::move(root), Mode::kExclusion));
}

}  // namespace brook::query::pipeline_internal
