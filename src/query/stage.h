#pragma once
// Internal interface between Pipeline and its stages (stage_*.cpp). Not for other layers.
//
// A Stage is the parsed, immutable spec of one pipeline stage. Open() builds the runtime
// DocumentSource for one run; runtime objects hold a shared_ptr to the RunContext, and
// the plan (StageList) is kept alive by the pipeline's outermost source.
// Thread-safety: Stage objects are immutable; runtime sources are single-threaded.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "query/expression.h"
#include "query/pipeline.h"
#include "query/value.h"

namespace brook::query::pipeline_internal {

struct ParseContext {
  const PipelineOptions* opts = nullptr;
  // User variables visible to expressions: aggregate's let, plus $lookup's let inside
  // its sub-pipeline.
  std::vector<std::string> variables;
  bool in_facet = false;
  bool in_lookup = false;  // inside a $lookup / $unionWith sub-pipeline
  bool is_last = false;    // the stage being parsed is the last of its pipeline
  bool is_first = false;

  ExpressionParseContext ExprContext() const {
    ExpressionParseContext c;
    c.variables = variables;
    c.collator = opts ? opts->collator : nullptr;
    return c;
  }
};

// Runtime bindings shared by every stage of one run.
struct RunContext {
  const PipelineOptions* opts = nullptr;
  std::vector<std::pair<std::string, Value>> vars;
  int64_t now_millis = 0;

  // An evaluation context for `doc` with every variable bound.
  EvalContext MakeEval(bson::View doc) const {
    EvalContext ctx(doc);
    for (const auto& [name, v] : vars) ctx.Bind(name, v);
    ctx.collator = opts ? opts->collator : nullptr;
    ctx.now_millis = now_millis;
    return ctx;
  }
  // The variables as a document, as the matcher's let_variables takes them.
  bson::Doc VarsDoc() const;
};
using RunContextPtr = std::shared_ptr<const RunContext>;

class Stage {
 public:
  explicit Stage(bson::Doc spec) : spec_(std::move(spec)) {}
  virtual ~Stage() = default;
  // The stage name ("$match").
  std::string_view name() const { return spec_.view().first().key(); }
  // {$name: <spec>} as parsed; Explain() prints it.
  bson::View spec() const { return spec_.view(); }
  virtual StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                           const RunContextPtr& rc) const = 0;

 private:
  bson::Doc spec_;
};

using StagePtr = std::unique_ptr<Stage>;

// The plan of a whole pipeline.
struct StageList {
  PipelineOptions opts;
  std::vector<std::pair<std::string, std::unique_ptr<Expression>>> let_exprs;
  std::vector<StagePtr> stages;
};

// Parses a stage array (used by Pipeline and by $lookup/$facet/$unionWith sub-pipelines).
StatusWith<std::vector<StagePtr>> ParseStages(bson::View stages_array, const ParseContext& ctx);
// Chains `stages` over `input`.
StatusWith<std::unique_ptr<DocumentSource>> OpenStages(const std::vector<StagePtr>& stages,
                                                       std::unique_ptr<DocumentSource> input,
                                                       const RunContextPtr& rc);

// Parsers, one per stage family (the spec element is the stage's single field).
StatusWith<StagePtr> ParseMatchStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseProjectStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseAddFieldsStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseUnsetStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseSortStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseGroupStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseSortByCountStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseBucketStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseLimitStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseSkipStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseCountStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseReplaceRootStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseSampleStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseDocumentsStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseOutStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseMergeStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseUnwindStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseLookupStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseUnionWithStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseFacetStage(const bson::Element& spec, const ParseContext& ctx);
StatusWith<StagePtr> ParseRedactStage(const bson::Element& spec, const ParseContext& ctx);

// {$name: spec} as an owned document.
bson::Doc SpecDoc(const bson::Element& spec);

}  // namespace brook::query::pipeline_internal
