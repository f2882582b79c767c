// $redact: evaluates its expression at the document and, on $$DESCEND, at every embedded
// document (also inside arrays), keeping ($$KEEP), removing ($$PRUNE) or descending into
// each one. Semantics and the 17053 error follow MongoDB's DocumentSourceRedact:
// $$ROOT stays the whole input document, $$CURRENT is the (sub)document being decided,
// scalars are always kept, and arrays are kept with their pruned documents removed.

#include "bson/builder.h"
#include "query/stage.h"

namespace brook::query::pipeline_internal {
namespace {

constexpr std::string_view kDescend = "descend";
constexpr std::string_view kPrune = "prune";
constexpr std::string_view kKeep = "keep";
// Embedded documents nest at most this deep in valid BSON (and the recursion is bounded).
constexpr int kMaxRedactDepth = 200;

class Redactor {
 public:
  Redactor(const Expression* e, EvalContext* ctx) : e_(e), ctx_(ctx) {}

  // The redacted document, or nullopt when it is pruned.
  StatusWith<std::optional<bson::Doc>> RedactObject(bson::View doc, int depth) {
    if (depth > kMaxRedactDepth) return Status(ErrorCodes::kOverflow, "$redact: document nested too deeply");
    size_t mark = ctx_->ScopeMark();
    ctx_->Bind("CURRENT", Value::Document(doc));
    auto result = e_->Evaluate(*ctx_);
    ctx_->PopScope(mark);
    if (!result.ok()) return result.status();
    const Value& v = result.value();
    std::string_view decision = v.type() == bson::Type::kString ? v.element().Str() : std::string_view();
    if (decision == kKeep) return std::optional<bson::Doc>(bson::Doc::CopyOf(doc));
    if (decision == kPrune) return std::optional<bson::Doc>();
    if (decision != kDescend) {
      return Status(17053,
                    "$redact's expression should not return anything aside from the variables $$KEEP, "
                    "$$DESCEND, and $$PRUNE, but returned " +
                        (v.missing() ? std::string("MISSING") : v.ToString()));
    }
    bson::Builder out;
    for (const auto& field : doc) BROOK_RETURN_IF_ERROR(AppendRedacted(&out, field.key(), field, depth));
    return std::optional<bson::Doc>(out.Done());
  }

 private:
  Status AppendRedacted(bson::Builder* out, std::string_view key, const bson::Element& e, int depth) {
    if (e.IsObject()) {
      auto sub = RedactObject(e.Obj(), depth + 1);
      if (!sub.ok()) return sub.status();
      if (sub.value()) out->AppendDocument(key, *sub.value());
      return Status::OK();
    }
    if (e.IsArray()) {
      if (depth > kMaxRedactDepth) return Status(ErrorCodes::kOverflow, "$redact: document nested too deeply");
      out->OpenArray(key);
      std::string scratch;
      size_t index = 0;
      for (const auto& item : e.Obj()) {
        if (item.IsObject()) {
          auto sub = RedactObject(item.Obj(), depth + 1);
          if (!sub.ok()) return sub.status();
          if (sub.value()) out->AppendDocument(bson::ArrayKey(index++, &scratch), *sub.value());
        } else if (item.IsArray()) {
          std::string item_key(bson::ArrayKey(index++, &scratch));
          BROOK_RETURN_IF_ERROR(AppendRedacted(out, item_key, item, depth + 1));
        } else {
          out->AppendAs(bson::ArrayKey(index++, &scratch), item);
        }
      }
      out->Close();
      return Status::OK();
    }
    out->AppendAs(key, e);
    return Status::OK();
  }

  const Expression* e_;
  EvalContext* ctx_;
};

class RedactSource : public DocumentSource {
 public:
  RedactSource(std::unique_ptr<DocumentSource> input, const Expression* e, RunContextPtr rc)
      : input_(std::move(input)), e_(e), rc_(std::move(rc)) {}
  StatusWith<std::optional<bson::Doc>> Next() override {
    for (;;) {
      auto next = input_->Next();
      if (!next.ok() || !next.value()) return next;
      const bson::Doc& doc = *next.value();
      EvalContext ctx = rc_->MakeEval(doc.view());
      ctx.Bind("DESCEND", Value::String(kDescend));
      ctx.Bind("PRUNE", Value::String(kPrune));
      ctx.Bind("KEEP", Value::String(kKeep));
      Redactor redactor(e_, &ctx);
      auto out = redactor.RedactObject(doc.view(), 0);
      if (!out.ok()) return out.status();
      if (out.value()) return out;
      // The whole document was pruned: on to the next.
    }
  }

 private:
  std::unique_ptr<DocumentSource> input_;
  const Expression* e_;
  RunContextPtr rc_;
};

class RedactStage : public Stage {
 public:
  RedactStage(bson::Doc spec, std::unique_ptr<Expression> e) : Stage(std::move(spec)), e_(std::move(e)) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr& rc) const override {
    return std::unique_ptr<DocumentSource>(new RedactSource(std::move(input), e_.get(), rc));
  }

 private:
  std::unique_ptr<Expression> e_;
};

}  // namespace

StatusWith<StagePtr> ParseRedactStage(const bson::Element& spec, const ParseContext& ctx) {
  // $$DESCEND, $$PRUNE and $$KEEP exist only inside $redact's expression.
  ExpressionParseContext ectx = ctx.ExprContext();
  for (const char* name : {"DESCEND", "PRUNE", "KEEP"}) ectx.variables.emplace_back(name);
  auto e = Expression::Parse(spec, ectx);
  if (!e.ok()) return e.status();
  return StagePtr(new RedactStage(SpecDoc(spec), std::move(e).value()));
}

}  // namespace brook::query::pipeline_internal
