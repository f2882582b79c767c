// Pipeline: the stage table, stage-array parsing and validation, and running.
#include "query/pipeline.h"

#include <chrono>
#include <unordered_map>

#include "bson/builder.h"
#include "query/stage.h"

namespace brook::query {
namespace pipeline_internal {
namespace {

using StageParser = StatusWith<StagePtr> (*)(const bson::Element&, const ParseContext&);

const std::unordered_map<std::string_view, StageParser>& StageTable() {
  static const auto* table = new std::unordered_map<std::string_view, StageParser>{
      {"$match", ParseMatchStage},
      {"$project", ParseProjectStage},
      {"$addFields", ParseAddFieldsStage},
      {"$set", ParseAddFieldsStage},
      {"$unset", ParseUnsetStage},
      {"$sort", ParseSortStage},
      {"$group", ParseGroupStage},
      {"$sortByCount", ParseSortByCountStage},
      {"$bucket", ParseBucketStage},
      {"$limit", ParseLimitStage},
      {"$skip", ParseSkipStage},
      {"$count", ParseCountStage},
      {"$replaceRoot", ParseReplaceRootStage},
      {"$replaceWith", ParseReplaceRootStage},
      {"$sample", ParseSampleStage},
      {"$documents", ParseDocumentsStage},
      {"$out", ParseOutStage},
      {"$merge", ParseMergeStage},
      {"$unwind", ParseUnwindStage},
      {"$lookup", ParseLookupStage},
      {"$unionWith", ParseUnionWithStage},
      {"$facet", ParseFacetStage},
      {"$redact", ParseRedactStage},
  };
  return *table;
}

class VectorSource : public DocumentSource {
 public:
  explicit VectorSource(std::vector<bson::Doc> docs) : docs_(std::move(docs)) {}
  StatusWith<std::optional<bson::Doc>> Next() override {
    if (pos_ >= docs_.size()) return std::optional<bson::Doc>();
    return std::optional<bson::Doc>(std::move(docs_[pos_++]));
  }

 private:
  std::vector<bson::Doc> docs_;
  size_t pos_ = 0;
};

// The outermost source of a run: keeps the plan and run context alive.
class RunSource : public DocumentSource {
 public:
  RunSource(std::shared_ptr<const StageList> plan, RunContextPtr rc,
            std::unique_ptr<DocumentSource> inner)
      : plan_(std::move(plan)), rc_(std::move(rc)), inner_(std::move(inner)) {}
  ~RunSource() override { inner_.reset(); }
  StatusWith<std::optional<bson::Doc>> Next() override { return inner_->Next(); }

 private:
  std::shared_ptr<const StageList> plan_;
  RunContextPtr rc_;
  std::unique_ptr<DocumentSource> inner_;
};

}  // namespace

bson::Doc RunContext::VarsDoc() const {
  bson::Builder b;
  for (const auto& [name, v] : vars) v.AppendTo(&b, name);
  return b.Done();
}

bson::Doc SpecDoc(const bson::Element& spec) {
  bson::Builder b;
  b.Append(spec);
  return b.Done();
}

StatusWith<std::vector<StagePtr>> ParseStages(bson::View stages_array, const ParseContext& ctx) {
  std::vector<StagePtr> out;
  size_t n = stages_array.CountFields();
  size_t i = 0;
  for (const bson::Element& e : stages_array) {
    if (!e.IsObject()) {
      return Status(ErrorCodes::kTypeMismatch,
                    "Each element of the 'pipeline' array must be an object");
    }
    bson::View stage = e.Obj();
    if (stage.CountFields() != 1) {
      return Status(40323, "A pipeline stage specification object must contain exactly one field.");
    }
    bson::Element spec = stage.first();
    std::string_view name = spec.key();
    const auto& table = StageTable();
    auto it = table.find(name);
    if (it == table.end()) {
      return Status(40324, "Unrecognized pipeline stage name: '" + std::string(name) + "'");
    }
    bool is_last = i + 1 == n;
    if (name == "$out" || name == "$merge") {
      std::string n(name);
      if (ctx.in_facet) return Status(40600, n + " is not allowed to be used within a $facet stage");
      if (ctx.in_lookup) return Status(51047, n + " is not allowed within a $lookup's sub-pipeline");
      if (!is_last) return Status(40601, n + " can only be the final stage in the pipeline");
    }
    if (ctx.in_facet && (name == "$facet" || name == "$documents")) {
      return Status(40600, std::string(name) + " is not allowed to be used within a $facet stage");
    }
    if (name == "$documents" && i != 0) {
      return Status(40602, "$documents is only valid as the first stage in a pipeline");
    }
    ParseContext stage_ctx = ctx;
    stage_ctx.is_last = is_last;
    stage_ctx.is_first = i == 0;
    auto parsed = it->second(spec, stage_ctx);
    if (!parsed.ok()) return parsed.status();
    out.push_back(std::move(parsed).value());
    ++i;
  }
  return out;
}

StatusWith<std::unique_ptr<DocumentSource>> OpenStages(const std::vector<StagePtr>& stages,
                                                       std::unique_ptr<DocumentSource> input,
                                                       const RunContextPtr& rc) {
  std::unique_ptr<DocumentSource> src = std::move(input);
  if (!src) src = MakeVectorSource({});
  for (const auto& stage : stages) {
    auto next = stage->Open(std::move(src), rc);
    if (!next.ok()) return next.status();
    src = std::move(next).value();
  }
  return src;
}

}  // namespace pipeline_internal

using pipeline_internal::StageList;

Pipeline::~Pipeline() = default;

StatusWith<std::unique_ptr<Pipeline>> Pipeline::Parse(bson::View stages_array,
                                                      const PipelineOptions& opts) {
  auto list = std::make_shared<StageList>();
  list->opts = opts;
  list->opts.let_vars = bson::Doc::CopyOf(opts.let_vars.view());
  pipeline_internal::ParseContext ctx;
  ctx.opts = &list->opts;
  ExpressionParseContext let_ctx;
  let_ctx.collator = opts.collator;
  for (const bson::Element& v : list->opts.let_vars.view()) {
    BROOK_RETURN_IF_ERROR(ValidateVariableName(v.key()));
    auto p = Expression::Parse(v, let_ctx);
    if (!p.ok()) return p.status();
    list->let_exprs.emplace_back(std::string(v.key()), std::move(p).value());
    ctx.variables.emplace_back(v.key());
  }
  auto stages = pipeline_internal::ParseStages(stages_array, ctx);
  if (!stages.ok()) return stages.status();
  list->stages = std::move(stages).value();
  std::unique_ptr<Pipeline> p(new Pipeline());
  p->stages_ = std::move(list);
  return p;
}

bson::Doc Pipeline::LeadingMatchFilter() const {
  if (stages_->stages.empty() || stages_->stages[0]->name() != "$match") return bson::Doc();
  bson::Element f = stages_->stages[0]->spec().first();
  return bson::Doc::CopyOf(f.Obj());
}

StatusWith<std::unique_ptr<DocumentSource>> Pipeline::Run(std::unique_ptr<DocumentSource> input) const {
  auto rc = std::make_shared<pipeline_internal::RunContext>();
  rc->opts = &stages_->opts;
  rc->now_millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  bson::Doc empty;
  for (const auto& [name, e] : stages_->let_exprs) {
    EvalContext ctx = rc->MakeEval(empty.view());
    auto v = e->Evaluate(ctx);
    if (!v.ok()) return v.status();
    rc->vars.emplace_back(name, std::move(v).value());
  }
  if (starts_with_documents()) input.reset();
  auto src = pipeline_internal::OpenStages(stages_->stages, std::move(input), rc);
  if (!src.ok()) return src.status();
  return std::unique_ptr<DocumentSource>(
      new pipeline_internal::RunSource(stages_, rc, std::move(src).value()));
}

bool Pipeline::has_out() const {
  if (stages_->stages.empty()) return false;
  std::string_view last = stages_->stages.back()->name();
  return last == "$out" || last == "$merge";
}

bool Pipeline::starts_with_documents() const {
  return !stages_->stages.empty() && stages_->stages.front()->name() == "$documents";
}

bson::Doc Pipeline::Explain() const {
  bson::Builder b;
  b.OpenArray("stages");
  std::string scratch;
  size_t i = 0;
  for (const auto& s : stages_->stages) b.AppendDocument(bson::ArrayKey(i++, &scratch), s->spec());
  b.Close();
  return b.Done();
}

std::unique_ptr<DocumentSource> MakeVectorSource(std::vector<bson::Doc> docs) {
  return std::make_unique<pipeline_internal::VectorSource>(std::move(docs));
}

StatusWith<std::vector<bson::Doc>> DrainSource(DocumentSource* src) {
  std::vector<bson::Doc> out;
  while (true) {
    auto next = src->Next();
    if (!next.ok()) return next.status();
    if (!next.value()) break;
    out.push_back(std::move(*next.value()));
  }
  return out;
}

}  // namespace brook::query
