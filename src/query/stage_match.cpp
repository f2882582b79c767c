// $match: filters with the query matcher (query/matcher.h). Inside a pipeline that has
// user variables in scope ($lookup's let, aggregate's let), the filter's $expr may read
// them, so the matcher is parsed again per run with the run's values bound.
#include "query/matcher.h"
#include "query/stage.h"

namespace brook::query::pipeline_internal {
namespace {

class MatchSource : public DocumentSource {
 public:
  MatchSource(std::unique_ptr<DocumentSource> input, std::shared_ptr<const Matcher> matcher)
      : input_(std::move(input)), matcher_(std::move(matcher)) {}
  StatusWith<std::optional<bson::Doc>> Next() override {
    while (true) {
      auto next = input_->Next();
      if (!next.ok() || !next.value()) return next;
      auto m = matcher_->MatchesOrError(next.value()->view());
      if (!m.ok()) return m.status();
      if (m.value()) return next;
    }
  }

 private:
  std::unique_ptr<DocumentSource> input_;
  std::shared_ptr<const Matcher> matcher_;
};

class MatchStage : public Stage {
 public:
  MatchStage(bson::Doc spec, std::shared_ptr<const Matcher> matcher, bool rebind)
      : Stage(std::move(spec)), matcher_(std::move(matcher)), rebind_(rebind) {}

  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr& rc) const override {
    std::shared_ptr<const Matcher> m = matcher_;
    if (rebind_) {
      MatcherOptions mo;
      mo.collator = rc->opts->collator;
      bson::Doc vars = rc->VarsDoc();
      mo.let_variables = vars.view();
      mo.now_millis = rc->now_millis;
      auto parsed = Matcher::Parse(spec().first().Obj(), mo);
      if (!parsed.ok()) return parsed.status();
      m = std::move(parsed).value();
    }
    return std::unique_ptr<DocumentSource>(new MatchSource(std::move(input), std::move(m)));
  }

 private:
  std::shared_ptr<const Matcher> matcher_;
  bool rebind_;
};

}  // namespace

StatusWith<StagePtr> ParseMatchStage(const bson::Element& spec, const ParseContext& ctx) {
  if (!spec.IsObject()) {
    return Status(15959, "the match filter must be an expression in an object");
  }
  // Validate now, with placeholder values for the variables in scope.
  bson::Builder vars;
  for (const auto& name : ctx.variables) vars.AppendNull(name);
  bson::Doc vars_doc = vars.Done();
  MatcherOptions mo;
  mo.collator = ctx.opts->collator;
  mo.let_variables = vars_doc.view();
  auto m = Matcher::Parse(spec.Obj(), mo);
  if (!m.ok()) return m.status();
  return StagePtr(new MatchStage(SpecDoc(spec), std::move(m).value(), !ctx.variables.empty()));
}

}  // namespace brook::query::pipeline_internal
