// Small per-document and whole-input stages: $limit $skip $count $replaceRoot
// $replaceWith $sample $documents $out.
#include <algorithm>
#include <random>

#include "query/stage.h"
#include "query/stage_util.h"

namespace brook::query::pipeline_internal {
namespace {

class LimitSkipSource : public DocumentSource {
 public:
  LimitSkipSource(std::unique_ptr<DocumentSource> input, int64_t skip, int64_t limit)
      : input_(std::move(input)), skip_(skip), limit_(limit) {}
  StatusWith<std::optional<bson::Doc>> Next() override {
    while (skip_ > 0) {
      auto next = input_->Next();
      if (!next.ok() || !next.value()) return next;
      --skip_;
    }
    if (limit_ >= 0 && returned_ >= limit_) return std::optional<bson::Doc>();
    ++returned_;
    return input_->Next();
  }

 private:
  std::unique_ptr<DocumentSource> input_;
  int64_t skip_;
  int64_t limit_;  // -1: none
  int64_t returned_ = 0;
};

class LimitSkipStage : public Stage {
 public:
  LimitSkipStage(bson::Doc spec, int64_t skip, int64_t limit)
      : Stage(std::move(spec)), skip_(skip), limit_(limit) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr&) const override {
    return std::unique_ptr<DocumentSource>(new LimitSkipSource(std::move(input), skip_, limit_));
  }

 private:
  int64_t skip_, limit_;
};

class CountStage : public Stage {
 public:
  CountStage(bson::Doc spec, std::string field) : Stage(std::move(spec)), field_(std::move(field)) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr&) const override {
    std::string field = field_;
    return std::unique_ptr<DocumentSource>(new BufferedSource(
        std::move(input), [field](std::vector<bson::Doc> docs) -> StatusWith<std::vector<bson::Doc>> {
          std::vector<bson::Doc> out;
          if (docs.empty()) return out;
          bson::Builder b;
          int64_t n = static_cast<int64_t>(docs.size());
          if (n <= INT32_MAX) b.AppendInt32(field, static_cast<int32_t>(n));
          else b.AppendInt64(field, n);
          out.push_back(b.Done());
          return out;
        }));
  }

 private:
  std::string field_;
};

class ReplaceRootSource : public DocumentSource {
 public:
  ReplaceRootSource(std::unique_ptr<DocumentSource> input, const Expression* e, RunContextPtr rc)
      : input_(std::move(input)), e_(e), rc_(std::move(rc)) {}
  StatusWith<std::optional<bson::Doc>> Next() override {
    auto next = input_->Next();
    if (!next.ok() || !next.value()) return next;
    const bson::Doc& doc = *next.value();
    EvalContext ctx = rc_->MakeEval(doc.view());
    auto v = e_->Evaluate(ctx);
    if (!v.ok()) return v.status();
    if (!v.value().IsObject()) {
      std::string shown = v.value().missing() ? "MISSING" : v.value().ToString();
      std::string type = v.value().missing() ? "missing" : std::string(bson::TypeName(v.value().type()));
      return Status(40228, "'newRoot' expression must evaluate to an object, but resulting value "
                           "was: " + shown + ". Type of resulting value: '" + type +
                               "'. Input document: " + doc.ToString());
    }
    return std::optional<bson::Doc>(bson::Doc::CopyOf(v.value().element().Obj()));
  }

 private:
  std::unique_ptr<DocumentSource> input_;
  const Expression* e_;
  RunContextPtr rc_;
};

class ReplaceRootStage : public Stage {
 public:
  ReplaceRootStage(bson::Doc spec, std::unique_ptr<Expression> e) : Stage(std::move(spec)), e_(std::move(e)) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr& rc) const override {
    return std::unique_ptr<DocumentSource>(new ReplaceRootSource(std::move(input), e_.get(), rc));
  }

 private:
  std::unique_ptr<Expression> e_;
};

class SampleStage : public Stage {
 public:
  SampleStage(bson::Doc spec, int64_t size) : Stage(std::move(spec)), size_(size) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr&) const override {
    int64_t size = size_;
    return std::unique_ptr<DocumentSource>(new BufferedSource(
        std::move(input), [size](std::vector<bson::Doc> docs) -> StatusWith<std::vector<bson::Doc>> {
          thread_local std::mt19937_64 gen{std::random_device{}()};
          std::shuffle(docs.begin(), docs.end(), gen);
          if (static_cast<int64_t>(docs.size()) > size) docs.resize(static_cast<size_t>(size));
          return docs;
        }));
  }

 private:
  int64_t size_;
};

class DocumentsStage : public Stage {
 public:
  DocumentsStage(bson::Doc spec, std::unique_ptr<Expression> e) : Stage(std::move(spec)), e_(std::move(e)) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource>,
                                                   const RunContextPtr& rc) const override {
    bson::Doc empty;
    EvalContext ctx = rc->MakeEval(empty.view());
    auto v = e_->Evaluate(ctx);
    if (!v.ok()) return v.status();
    if (!v.value().IsArray()) {
      return Status(5858203, "an array is expected");
    }
    std::vector<bson::Doc> docs;
    for (const bson::Element& item : v.value().element().Obj()) {
      if (!item.IsObject()) return Status(5858203, "an array of objects is expected");
      docs.push_back(bson::Doc::CopyOf(item.Obj()));
    }
    return MakeVectorSource(std::move(docs));
  }

 private:
  std::unique_ptr<Expression> e_;
};

class OutStage : public Stage {
 public:
  OutStage(bson::Doc spec, std::string db, std::string coll)
      : Stage(std::move(spec)), db_(std::move(db)), coll_(std::move(coll)) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr& rc) const override {
    PipelineHost* host = rc->opts->host;
    if (host == nullptr) return Status(ErrorCodes::kInternalError, "$out needs a pipeline host");
    std::string db = db_, coll = coll_;
    return std::unique_ptr<DocumentSource>(new BufferedSource(
        std::move(input),
        [host, db, coll](std::vector<bson::Doc> docs) -> StatusWith<std::vector<bson::Doc>> {
          BROOK_RETURN_IF_ERROR(host->ReplaceCollection(db, coll, std::move(docs)));
          return std::vector<bson::Doc>();
        }));
  }

 private:
  std::string db_, coll_;
};

// A non-negative integral number for $limit/$skip/$sample.
bool IntegralArg(const bson::Element& e, int64_t* out) {
  if (!e.IsNumber()) return false;
  auto v = e.ExactInt64();
  if (!v) return false;
  *out = *v;
  return true;
}

}  // namespace

StatusWith<StagePtr> ParseLimitStage(const bson::Element& spec, const ParseContext&) {
  int64_t n = 0;
  if (!spec.IsNumber()) return Status(15957, "the limit must be specified as a number");
  if (!IntegralArg(spec, &n)) {
    return Status(ErrorCodes::kFailedToParse, "invalid argument to $limit stage: Cannot represent as a 64-bit integer: $limit: " + spec.ToString());
  }
  if (n <= 0) return Status(15958, "the limit must be positive");
  return StagePtr(new LimitSkipStage(SpecDoc(spec), 0, n));
}

StatusWith<StagePtr> ParseSkipStage(const bson::Element& spec, const ParseContext&) {
  int64_t n = 0;
  if (!spec.IsNumber()) return Status(15972, "Argument to $skip must be a number");
  if (!IntegralArg(spec, &n)) {
    return Status(ErrorCodes::kFailedToParse, "invalid argument to $skip stage: Cannot represent as a 64-bit integer: $skip: " + spec.ToString());
  }
  if (n < 0) return Status(15956, "Argument to $skip cannot be negative");
  return StagePtr(new LimitSkipStage(SpecDoc(spec), n, -1));
}

StatusWith<StagePtr> ParseCountStage(const bson::Element& spec, const ParseContext&) {
  if (spec.type() != bson::Type::kString) return Status(40156, "the count field must be a non-empty string");
  std::string_view f = spec.Str();
  if (f.empty()) return Status(40157, "the count field must be a non-empty string");
  if (f[0] == '$') return Status(40158, "the count field cannot be a $-prefixed path");
  if (f.find('.') != std::string_view::npos) return Status(40160, "the count field cannot contain '.'");
  return StagePtr(new CountStage(SpecDoc(spec), std::string(f)));
}

StatusWith<StagePtr> ParseReplaceRootStage(const bson::Element& spec, const ParseContext& ctx) {
  bson::Element root = spec;
  if (spec.key() == "$replaceRoot") {
    if (!spec.IsObject()) {
      return Status(40229, "expected an object as specification for $replaceRoot stage, got " +
                               std::string(bson::TypeName(spec.type())));
    }
    for (const bson::Element& e : spec.Obj()) {
      if (e.key() != "newRoot") {
        return Status(40415, "BSON field '$replaceRoot." + std::string(e.key()) + "' is an unknown field.");
      }
    }
    root = spec.Obj().Get("newRoot");
    if (root.missing()) return Status(40414, "BSON field '$replaceRoot.newRoot' is missing but a required field");
  }
  auto e = Expression::Parse(root, ctx.ExprContext());
  if (!e.ok()) return e.status();
  return StagePtr(new ReplaceRootStage(SpecDoc(spec), std::move(e).value()));
}

StatusWith<StagePtr> ParseSampleStage(const bson::Element& spec, const ParseContext&) {
  if (!spec.IsObject()) return Status(28745, "the $sample stage specification must be an object");
  int64_t size = -1;
  bool have_size = false;
  for (const bson::Element& e : spec.Obj()) {
    if (e.key() != "size") return Status(28748, "unrecognized option to $sample: " + std::string(e.key()));
    if (!e.IsNumber()) return Status(28746, "size argument to $sample must be a number");
    size = e.NumberInt64();
    have_size = true;
  }
  if (!have_size) return Status(28749, "$sample stage must specify a size");
  if (size < 0) return Status(28747, "size argument to $sample must not be negative");
  return StagePtr(new SampleStage(SpecDoc(spec), size));
}

StatusWith<StagePtr> ParseDocumentsStage(const bson::Element& spec, const ParseContext& ctx) {
  auto e = Expression::Parse(spec, ctx.ExprContext());
  if (!e.ok()) return e.status();
  return StagePtr(new DocumentsStage(SpecDoc(spec), std::move(e).value()));
}

StatusWith<StagePtr> ParseOutStage(const bson::Element& spec, const ParseContext& ctx) {
  std::string db = ctx.opts->db;
  std::string coll;
  if (spec.type() == bson::Type::kString) {
    coll = std::string(spec.Str());
  } else if (spec.IsObject()) {
    for (const bson::Element& e : spec.Obj()) {
      if (e.key() != "db" && e.key() != "coll") {
        return Status(40415, "BSON field '$out." + std::string(e.key()) + "' is an unknown field.");
      }
      if (e.type() != bson::Type::kString) {
        return Status(ErrorCodes::kTypeMismatch, "BSON field '$out." + std::string(e.key()) +
                                                     "' is the wrong type '" +
                                                     std::string(bson::TypeName(e.type())) +
                                                     "', expected type 'string'");
      }
      (e.key() == "db" ? db : coll) = std::string(e.Str());
    }
  } else {
    return Status(16990, "$out only supports a string or object argument, not " +
                             std::string(bson::TypeName(spec.type())));
  }
  if (coll.empty()) return Status(ErrorCodes::kInvalidNamespace, "Invalid $out target namespace, " + db + "." + coll);
  if (db.empty()) return Status(ErrorCodes::kInvalidNamespace, "Invalid $out target namespace, " + db + "." + coll);
  return StagePtr(new OutStage(SpecDoc(spec), std::move(db), std::move(coll)));
}

}  // namespace brook::query::pipeline_internal
