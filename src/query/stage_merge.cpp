// $merge: parses the stage (MongoDB's DocumentSourceMergeSpec and its error codes) and
// streams its input in batches to PipelineHost::MergeBatch. The host decides how each
// document is written; this stage only prepares the documents: a generated _id when
// `on` includes _id and the document has none, the `on` values (51185 for arrays, 51132
// for missing/null), and the let variables of a pipeline-style whenMatched.
#include <set>

#include "bson/builder.h"
#include "query/stage.h"

namespace brook::query::pipeline_internal {
namespace {

constexpr size_t kMergeBatchDocs = 1000;

using WhenMatched = MergeTarget::WhenMatched;
using WhenNotMatched = MergeTarget::WhenNotMatched;

const char* WhenMatchedName(WhenMatched m) {
  switch (m) {
    case WhenMatched::kReplace: return "replace";
    case WhenMatched::kKeepExisting: return "keepExisting";
    case WhenMatched::kMerge: return "merge";
    case WhenMatched::kFail: return "fail";
    case WhenMatched::kPipeline: return "pipeline";
  }
  return "";
}

const char* WhenNotMatchedName(WhenNotMatched m) {
  switch (m) {
    case WhenNotMatched::kInsert: return "insert";
    case WhenNotMatched::kDiscard: return "discard";
    case WhenNotMatched::kFail: return "fail";
  }
  return "";
}

// MongoDB 7.0's supported whenMatched/whenNotMatched combinations.
bool Supported(WhenMatched m, WhenNotMatched n) {
  if (m == WhenMatched::kKeepExisting || m == WhenMatched::kFail) return n == WhenNotMatched::kInsert;
  return true;
}

// The value at a dotted path through sub-documents; arrays are reported, not traversed.
bson::Element PathValue(bson::View doc, std::string_view path, bool* through_array) {
  bson::Element cur;
  bson::View v = doc;
  while (true) {
    size_t dot = path.find('.');
    cur = v[path.substr(0, dot)];
    if (dot == std::string_view::npos || cur.missing()) return cur;
    if (cur.IsArray()) {
      *through_array = true;
      return cur;
    }
    if (!cur.IsObject()) return bson::Element();
    v = cur.Obj();
    path = path.substr(dot + 1);
  }
}

class MergeSource : public DocumentSource {
 public:
  MergeSource(std::unique_ptr<DocumentSource> input, const MergeTarget* target,
              const std::vector<std::pair<std::string, std::unique_ptr<Expression>>>* let,
              RunContextPtr rc)
      : input_(std::move(input)), target_(target), let_(let), rc_(std::move(rc)) {}

  StatusWith<std::optional<bson::Doc>> Next() override {
    if (done_) return std::optional<bson::Doc>();
    done_ = true;
    PipelineHost* host = rc_->opts->host;
    if (host == nullptr) return Status(ErrorCodes::kInternalError, "$merge needs a pipeline host");
    BROOK_RETURN_IF_ERROR(host->PrepareMerge(*target_));
    bool on_id = false;
    for (const auto& f : target_->on) on_id = on_id || f == "_id";
    std::vector<MergeItem> batch;
    while (true) {
      auto next = input_->Next();
      if (!next.ok()) return next.status();
      if (!next.value()) break;
      auto item = Prepare(std::move(*next.value()), on_id);
      if (!item.ok()) return item.status();
      batch.push_back(std::move(item).value());
      if (batch.size() >= kMergeBatchDocs) {
        BROOK_RETURN_IF_ERROR(host->MergeBatch(*target_, std::move(batch)));
        batch.clear();
      }
    }
    if (!batch.empty()) BROOK_RETURN_IF_ERROR(host->MergeBatch(*target_, std::move(batch)));
    return std::optional<bson::Doc>();
  }

 private:
  StatusWith<MergeItem> Prepare(bson::Doc doc, bool on_id) {
    MergeItem item;
    if (on_id && doc.view()["_id"].missing()) {
      bson::Builder b;
      b.AppendOid("_id", bson::ObjectId::Generate());
      b.AppendAll(doc.view());
      doc = b.Done();
    }
    bson::Builder on;
    for (const auto& path : target_->on) {
      bool through_array = false;
      bson::Element v = PathValue(doc.view(), path, &through_array);
      if (through_array || v.IsArray()) {
        return Status(51185, "$merge write error: 'on' field '" + path + "' is an array");
      }
      if (v.missing() || v.IsNullish()) {
        return Status(51132, "$merge write error: 'on' field '" + path +
                                 "' cannot be missing, null, undefined or an array");
      }
      on.AppendAs(path, v);
    }
    item.on_values = on.Done();
    if (target_->when_matched == WhenMatched::kPipeline) {
      EvalContext ctx = rc_->MakeEval(doc.view());
      bson::Builder vars;
      for (const auto& [name, e] : *let_) {
        auto v = e->Evaluate(ctx);
        if (!v.ok()) return v.status();
        v.value().AppendTo(&vars, name);
      }
      item.vars = vars.Done();
    }
    item.doc = std::move(doc);
    return item;
  }

  std::unique_ptr<DocumentSource> input_;
  const MergeTarget* target_;
  const std::vector<std::pair<std::string, std::unique_ptr<Expression>>>* let_;
  RunContextPtr rc_;
  bool done_ = false;
};

class MergeStage : public Stage {
 public:
  MergeStage(bson::Doc spec, MergeTarget target,
             std::vector<std::pair<std::string, std::unique_ptr<Expression>>> let)
      : Stage(std::move(spec)), target_(std::move(target)), let_(std::move(let)) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr& rc) const override {
    return std::unique_ptr<DocumentSource>(new MergeSource(std::move(input), &target_, &let_, rc));
  }

 private:
  MergeTarget target_;
  std::vector<std::pair<std::string, std::unique_ptr<Expression>>> let_;
};

Status UnknownField(std::string_view field) {
  return Status(40415, "BSON field '$merge." + std::string(field) + "' is an unknown field.");
}

Status BadEnum(std::string_view value, std::string_view field) {
  return Status(ErrorCodes::kBadValue, "Enumeration value '" + std::string(value) +
                                           "' for field '$merge." + std::string(field) +
                                           "' is not a valid value.");
}

Status ParseInto(const bson::Element& e, std::string_view default_db, MergeTarget* t) {
  t->db = std::string(default_db);
  if (e.type() == bson::Type::kString) {
    t->coll = std::string(e.Str());
    return Status::OK();
  }
  if (!e.IsObject()) {
    return Status(51178, "$merge 'into' field  must be either a string or an object, but found " +
                             std::string(bson::TypeName(e.type())));
  }
  for (const auto& f : e.Obj()) {
    if (f.key() != "db" && f.key() != "coll") {
      return Status(40415, "BSON field 'into." + std::string(f.key()) + "' is an unknown field.");
    }
    if (f.type() != bson::Type::kString) {
      return Status(ErrorCodes::kTypeMismatch, "BSON field 'into." + std::string(f.key()) +
                                                   "' is the wrong type '" +
                                                   std::string(bson::TypeName(f.type())) +
                                                   "', expected type 'string'");
    }
    (f.key() == "db" ? t->db : t->coll) = std::string(f.Str());
  }
  return Status::OK();
}

}  // namespace

StatusWith<StagePtr> ParseMergeStage(const bson::Element& spec, const ParseContext& ctx) {
  if (spec.type() != bson::Type::kString && !spec.IsObject()) {
    return Status(51182, "$merge only supports a string or object argument, not " +
                             std::string(bson::TypeName(spec.type())));
  }
  MergeTarget t;
  std::optional<bson::View> let_spec;
  if (spec.type() == bson::Type::kString) {
    t.db = ctx.opts->db;
    t.coll = std::string(spec.Str());
  } else {
    bool has_into = false;
    for (const auto& f : spec.Obj()) {
      std::string_view k = f.key();
      if (k == "into") {
        has_into = true;
        BROOK_RETURN_IF_ERROR(ParseInto(f, ctx.opts->db, &t));
      } else if (k == "on") {
        t.on.clear();
        t.on_given = true;
        if (f.type() == bson::Type::kString) {
          t.on.emplace_back(f.Str());
        } else if (f.IsArray() && !f.Obj().empty()) {
          for (const auto& p : f.Obj()) {
            if (p.type() != bson::Type::kString) {
              return Status(51134, "$merge 'on' array elements must be strings, but found " +
                                       std::string(bson::TypeName(p.type())));
            }
            t.on.emplace_back(p.Str());
          }
        } else {
          return Status(51186, "$merge 'on' field  must be either a string or an array of "
                               "strings, but found " + std::string(bson::TypeName(f.type())));
        }
        std::set<std::string> seen;
        for (const auto& p : t.on) {
          if (!seen.insert(p).second) {
            return Status(ErrorCodes::kBadValue, "Found a duplicate field '" + p + "' in $merge 'on'");
          }
        }
      } else if (k == "let") {
        if (!f.IsObject()) {
          return Status(ErrorCodes::kTypeMismatch, "BSON field '$merge.let' is the wrong type '" +
                                                       std::string(bson::TypeName(f.type())) +
                                                       "', expected type 'object'");
        }
        let_spec = f.Obj();
      } else if (k == "whenMatched") {
        if (f.IsArray()) {
          t.when_matched = WhenMatched::kPipeline;
          t.pipeline = bson::Doc::CopyOf(f.Obj());
        } else if (f.type() == bson::Type::kString) {
          std::string_view v = f.Str();
          if (v == "replace") t.when_matched = WhenMatched::kReplace;
          else if (v == "keepExisting") t.when_matched = WhenMatched::kKeepExisting;
          else if (v == "merge") t.when_matched = WhenMatched::kMerge;
          else if (v == "fail") t.when_matched = WhenMatched::kFail;
          else return BadEnum(v, "whenMatched");
        } else {
          return Status(51191, "$merge 'whenMatched' field  must be either a string or an "
                               "array, but found " + std::string(bson::TypeName(f.type())));
        }
      } else if (k == "whenNotMatched") {
        if (f.type() != bson::Type::kString) {
          return Status(ErrorCodes::kTypeMismatch,
                        "BSON field '$merge.whenNotMatched' is the wrong type '" +
                            std::string(bson::TypeName(f.type())) + "', expected type 'string'");
        }
        std::string_view v = f.Str();
        if (v == "insert") t.when_not_matched = WhenNotMatched::kInsert;
        else if (v == "discard") t.when_not_matched = WhenNotMatched::kDiscard;
        else if (v == "fail") t.when_not_matched = WhenNotMatched::kFail;
        else return BadEnum(v, "whenNotMatched");
      } else if (k == "targetCollectionVersion") {
        continue;
      } else {
        return UnknownField(k);
      }
    }
    if (!has_into) return Status(40414, "BSON field '$merge.into' is missing but a required field");
  }
  if (t.coll.empty() || t.db.empty() || t.coll.find('$') != std::string::npos) {
    return Status(ErrorCodes::kInvalidNamespace,
                  "Invalid $merge target namespace: '" + t.db + "." + t.coll + "'");
  }
  if (!Supported(t.when_matched, t.when_not_matched)) {
    return Status(51181, std::string("Combination of $merge modes 'whenMatched: ") +
                             WhenMatchedName(t.when_matched) + "' and 'whenNotMatched: " +
                             WhenNotMatchedName(t.when_not_matched) + "' is not supported");
  }
  if (let_spec && t.when_matched != WhenMatched::kPipeline) {
    return Status(51199, std::string("Cannot use 'let' variables with 'whenMatched: ") +
                             WhenMatchedName(t.when_matched) + "' mode");
  }
  std::vector<std::pair<std::string, std::unique_ptr<Expression>>> let;
  if (t.when_matched == WhenMatched::kPipeline) {
    // The update pipeline sees `new` (default $$ROOT) plus the let variables.
    ExpressionParseContext ectx = ctx.ExprContext();
    bson::Doc default_let;
    if (!let_spec) {
      bson::Builder b;
      b.AppendString("new", "$$ROOT");
      default_let = b.Done();
      let_spec = default_let.view();
    }
    for (const auto& v : *let_spec) {
      BROOK_RETURN_IF_ERROR(ValidateVariableName(v.key()));
      auto e = Expression::Parse(v, ectx);
      if (!e.ok()) return e.status();
      let.emplace_back(std::string(v.key()), std::move(e).value());
    }
  }
  return StagePtr(new MergeStage(SpecDoc(spec), std::move(t), std::move(let)));
}

}  // namespace brook::query::pipeline_internal
