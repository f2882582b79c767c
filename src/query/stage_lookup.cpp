// $lookup (localField/foreignField equality with array semantics, the pipeline + let
// form, and both together) and $unionWith. Foreign collections are read through
// PipelineHost::ScanCollection once per run and kept in memory for that run.
#include "query/stage.h"
#include "query/stage_util.h"

namespace brook::query::pipeline_internal {
namespace {

// Values at `parts` with query semantics; missing (or only empty arrays) is null.
std::vector<Value> MatchValues(bson::View doc, const std::vector<std::string>& parts) {
  std::vector<bson::Element> found;
  bool saw_empty = false;
  CollectPathValues(doc.Get(parts[0]), parts, 1, &found, &saw_empty);
  std::vector<Value> out;
  for (const auto& e : found) out.push_back(Value::FromElement(e));
  if (out.empty()) out.push_back(Value::Null());
  return out;
}

StatusWith<std::vector<bson::Doc>> LoadCollection(const RunContext& rc, const std::string& db,
                                                  const std::string& coll) {
  if (rc.opts->host == nullptr) {
    return Status(ErrorCodes::kInternalError, "this pipeline cannot read other collections");
  }
  auto src = rc.opts->host->ScanCollection(db, coll);
  if (!src.ok()) return src.status();
  return DrainSource(src.value().get());
}

struct LookupSpec {
  std::string db, coll;  // empty coll: the sub-pipeline starts with $documents
  std::vector<std::string> local, foreign;  // empty: no equality match
  std::vector<std::string> as;
  std::vector<std::pair<std::string, std::unique_ptr<Expression>>> let;
  bool has_pipeline = false;
  std::vector<StagePtr> pipeline;
};

class LookupSource : public DocumentSource {
 public:
  LookupSource(std::unique_ptr<DocumentSource> input, const LookupSpec* spec, RunContextPtr rc)
      : input_(std::move(input)), spec_(spec), rc_(std::move(rc)) {}

  StatusWith<std::optional<bson::Doc>> Next() override {
    auto next = input_->Next();
    if (!next.ok() || !next.value()) return next;
    if (!loaded_ && !spec_->coll.empty()) {
      auto docs = LoadCollection(*rc_, spec_->db, spec_->coll);
      if (!docs.ok()) return docs.status();
      foreign_ = std::move(docs).value();
    }
    loaded_ = true;
    const bson::Doc& doc = *next.value();
    const bson::StringComparator* collator = rc_->opts->collator;
    std::vector<bson::Doc> matched;
    if (!spec_->local.empty()) {
      std::vector<Value> local = MatchValues(doc.view(), spec_->local);
      for (const bson::Doc& f : foreign_) {
        bool hit = false;
        for (const Value& fv : MatchValues(f.view(), spec_->foreign)) {
          for (const Value& lv : local) hit = hit || ValueEquals(fv, lv, collator);
          if (hit) break;
        }
        if (hit) matched.push_back(bson::Doc::CopyOf(f.view()));
      }
    } else {
      for (const bson::Doc& f : foreign_) matched.push_back(bson::Doc::CopyOf(f.view()));
    }
    std::vector<Value> results;
    if (spec_->has_pipeline) {
      auto sub_rc = std::make_shared<RunContext>(*rc_);
      EvalContext ctx = rc_->MakeEval(doc.view());
      for (const auto& [name, e] : spec_->let) {
        auto v = e->Evaluate(ctx);
        if (!v.ok()) return v.status();
        sub_rc->vars.emplace_back(name, std::move(v).value());
      }
      auto src = OpenStages(spec_->pipeline, MakeVectorSource(std::move(matched)), sub_rc);
      if (!src.ok()) return src.status();
      auto out = DrainSource(src.value().get());
      if (!out.ok()) return out.status();
      for (const bson::Doc& d : out.value()) results.push_back(Value::Document(d.view()));
    } else {
      for (const bson::Doc& d : matched) results.push_back(Value::Document(d.view()));
    }
    return std::optional<bson::Doc>(SetDocPath(doc.view(), spec_->as, Value::ArrayOf(results)));
  }

 private:
  std::unique_ptr<DocumentSource> input_;
  const LookupSpec* spec_;
  RunContextPtr rc_;
  bool loaded_ = false;
  std::vector<bson::Doc> foreign_;
};

class LookupStage : public Stage {
 public:
  LookupStage(bson::Doc spec, LookupSpec lookup) : Stage(std::move(spec)), lookup_(std::move(lookup)) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr& rc) const override {
    return std::unique_ptr<DocumentSource>(new LookupSource(std::move(input), &lookup_, rc));
  }

 private:
  LookupSpec lookup_;
};

Status ParseNamespace(const bson::Element& e, std::string_view stage, const ParseContext& ctx,
                      std::string* db, std::string* coll) {
  *db = ctx.opts->db;
  if (e.type() == bson::Type::kString) {
    *coll = std::string(e.Str());
    return Status::OK();
  }
  if (e.IsObject()) {
    for (const bson::Element& f : e.Obj()) {
      if ((f.key() == "db" || f.key() == "coll") && f.type() == bson::Type::kString) {
        (f.key() == "db" ? *db : *coll) = std::string(f.Str());
      } else {
        return Status(ErrorCodes::kFailedToParse, "'from' option to " + std::string(stage) +
                                                      " must be a string or {db, coll}");
      }
    }
    return Status::OK();
  }
  return Status(ErrorCodes::kFailedToParse, "'from' option to " + std::string(stage) +
                                                " must be a string, but was type " +
                                                std::string(bson::TypeName(e.type())));
}

class UnionWithSource : public DocumentSource {
 public:
  UnionWithSource(std::unique_ptr<DocumentSource> input, std::string db, std::string coll,
                  const std::vector<StagePtr>* pipeline, RunContextPtr rc)
      : input_(std::move(input)), db_(std::move(db)), coll_(std::move(coll)), pipeline_(pipeline),
        rc_(std::move(rc)) {}
  StatusWith<std::optional<bson::Doc>> Next() override {
    if (input_) {
      auto next = input_->Next();
      if (!next.ok() || next.value()) return next;
      input_.reset();
      std::unique_ptr<DocumentSource> base;
      if (!coll_.empty()) {
        auto docs = LoadCollection(*rc_, db_, coll_);
        if (!docs.ok()) return docs.status();
        base = MakeVectorSource(std::move(docs).value());
      }
      auto src = OpenStages(*pipeline_, std::move(base), rc_);
      if (!src.ok()) return src.status();
      other_ = std::move(src).value();
    }
    return other_->Next();
  }

 private:
  std::unique_ptr<DocumentSource> input_;
  std::string db_, coll_;
  const std::vector<StagePtr>* pipeline_;
  RunContextPtr rc_;
  std::unique_ptr<DocumentSource> other_;
};

class UnionWithStage : public Stage {
 public:
  UnionWithStage(bson::Doc spec, std::string db, std::string coll, std::vector<StagePtr> pipeline)
      : Stage(std::move(spec)), db_(std::move(db)), coll_(std::move(coll)), pipeline_(std::move(pipeline)) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr& rc) const override {
    return std::unique_ptr<DocumentSource>(
        new UnionWithSource(std::move(input), db_, coll_, &pipeline_, rc));
  }

 private:
  std::string db_, coll_;
  std::vector<StagePtr> pipeline_;
};

bool StartsWithDocuments(bson::View pipeline) {
  if (pipeline.empty()) return false;
  bson::Element first = pipeline.first();
  return first.IsObject() && !first.Obj().empty() && first.Obj().first().key() == "$documents";
}

}  // namespace

StatusWith<StagePtr> ParseLookupStage(const bson::Element& spec, const ParseContext& ctx) {
  if (!spec.IsObject()) {
    return Status(ErrorCodes::kFailedToParse, "the $lookup stage specification must be an object, but found " +
                                                  std::string(bson::TypeName(spec.type())));
  }
  LookupSpec l;
  bson::Element from, local, foreign, as, let, pipeline;
  for (const bson::Element& e : spec.Obj()) {
    std::string_view k = e.key();
    if (k == "from") from = e;
    else if (k == "localField") local = e;
    else if (k == "foreignField") foreign = e;
    else if (k == "as") as = e;
    else if (k == "let") let = e;
    else if (k == "pipeline") pipeline = e;
    else return Status(ErrorCodes::kFailedToParse, "unknown argument to $lookup: " + std::string(k));
    if (k != "let" && k != "pipeline" && k != "from" && e.type() != bson::Type::kString) {
      return Status(ErrorCodes::kFailedToParse, "$lookup argument '" + std::string(k) +
                                                    "' must be a string, found " + e.ToString() +
                                                    ": " + std::string(bson::TypeName(e.type())));
    }
  }
  std::string shown = spec.Obj().ToString();
  if (as.missing()) {
    return Status(ErrorCodes::kFailedToParse, "missing 'as' option to $lookup stage specification: " + shown);
  }
  if (!local.missing() && foreign.missing()) {
    return Status(ErrorCodes::kFailedToParse, "missing 'foreignField' option to $lookup stage specification: " + shown);
  }
  if (local.missing() && !foreign.missing()) {
    return Status(ErrorCodes::kFailedToParse, "missing 'localField' option to $lookup stage specification: " + shown);
  }
  if (local.missing() && pipeline.missing()) {
    return Status(ErrorCodes::kFailedToParse, "missing 'localField' option to $lookup stage specification: " + shown);
  }
  if (!pipeline.missing() && !pipeline.IsArray()) {
    return Status(ErrorCodes::kFailedToParse, "$lookup argument 'pipeline' must be an array, is type " +
                                                  std::string(bson::TypeName(pipeline.type())));
  }
  if (from.missing()) {
    if (pipeline.missing() || !StartsWithDocuments(pipeline.Obj())) {
      return Status(ErrorCodes::kFailedToParse, "missing 'from' option to $lookup stage specification: " + shown);
    }
  } else {
    BROOK_RETURN_IF_ERROR(ParseNamespace(from, "$lookup", ctx, &l.db, &l.coll));
  }
  if (!local.missing()) {
    l.local = SplitDotted(local.Str());
    l.foreign = SplitDotted(foreign.Str());
  }
  l.as = SplitDotted(as.Str());
  ParseContext sub = ctx;
  sub.in_lookup = true;
  sub.in_facet = false;
  if (!let.missing()) {
    if (!let.IsObject()) {
      return Status(ErrorCodes::kFailedToParse, "$lookup argument 'let' must be an object, is type " +
                                                    std::string(bson::TypeName(let.type())));
    }
    for (const bson::Element& v : let.Obj()) {
      BROOK_RETURN_IF_ERROR(ValidateVariableName(v.key()));
      auto e = Expression::Parse(v, ctx.ExprContext());
      if (!e.ok()) return e.status();
      l.let.emplace_back(std::string(v.key()), std::move(e).value());
      sub.variables.emplace_back(v.key());
    }
  }
  if (!pipeline.missing()) {
    l.has_pipeline = true;
    auto stages = ParseStages(pipeline.Obj(), sub);
    if (!stages.ok()) return stages.status();
    l.pipeline = std::move(stages).value();
  }
  return StagePtr(new LookupStage(SpecDoc(spec), std::move(l)));
}

StatusWith<StagePtr> ParseUnionWithStage(const bson::Element& spec, const ParseContext& ctx) {
  std::string db = ctx.opts->db, coll;
  std::vector<StagePtr> stages;
  ParseContext sub = ctx;
  sub.in_lookup = true;
  sub.in_facet = false;
  if (spec.type() == bson::Type::kString) {
    coll = std::string(spec.Str());
  } else if (spec.IsObject()) {
    bson::Element pipeline;
    for (const bson::Element& e : spec.Obj()) {
      if (e.key() == "coll") {
        BROOK_RETURN_IF_ERROR(ParseNamespace(e, "$unionWith", ctx, &db, &coll));
      } else if (e.key() == "pipeline") {
        if (!e.IsArray()) {
          return Status(ErrorCodes::kTypeMismatch, "BSON field '$unionWith.pipeline' is the wrong type '" +
                                                       std::string(bson::TypeName(e.type())) +
                                                       "', expected type 'array'");
        }
        pipeline = e;
      } else {
        return Status(40415, "BSON field '$unionWith." + std::string(e.key()) + "' is an unknown field.");
      }
    }
    if (coll.empty() && (pipeline.missing() || !StartsWithDocuments(pipeline.Obj()))) {
      return Status(ErrorCodes::kFailedToParse, "$unionWith stage without explicit collection must have a "
                                                    "pipeline with $documents as first stage");
    }
    if (!pipeline.missing()) {
      auto parsed = ParseStages(pipeline.Obj(), sub);
      if (!parsed.ok()) return parsed.status();
      stages = std::move(parsed).value();
    }
  } else {
    return Status(ErrorCodes::kFailedToParse, "the $unionWith stage specification must be an object or "
                                                  "string, but found " +
                                                  std::string(bson::TypeName(spec.type())));
  }
  return StagePtr(new UnionWithStage(SpecDoc(spec), std::move(db), std::move(coll), std::move(stages)));
}

}  // namespace brook::query::pipeline_internal
