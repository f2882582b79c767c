// $facet: runs several sub-pipelines over the same (buffered) input and emits one
// document {name: [results], ...}.
#include "query/stage.h"
#include "query/stage_util.h"

namespace brook::query::pipeline_internal {
namespace {

class FacetStage : public Stage {
 public:
  FacetStage(bson::Doc spec, std::vector<std::pair<std::string, std::vector<StagePtr>>> facets)
      : Stage(std::move(spec)), facets_(std::move(facets)) {}

  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr& rc) const override {
    const auto* facets = &facets_;
    RunContextPtr ctx = rc;
    return std::unique_ptr<DocumentSource>(new BufferedSource(
        std::move(input), [facets, ctx](std::vector<bson::Doc> docs) -> StatusWith<std::vector<bson::Doc>> {
          bson::Builder b;
          for (const auto& [name, stages] : *facets) {
            std::vector<bson::Doc> copy;
            copy.reserve(docs.size());
            for (const auto& d : docs) copy.push_back(bson::Doc::CopyOf(d.view()));
            auto src = OpenStages(stages, MakeVectorSource(std::move(copy)), ctx);
            if (!src.ok()) return src.status();
            auto out = DrainSource(src.value().get());
            if (!out.ok()) return out.status();
            b.OpenArray(name);
            std::string scratch;
            size_t i = 0;
            for (const auto& d : out.value()) b.AppendDocument(bson::ArrayKey(i++, &scratch), d.view());
            b.Close();
          }
          std::vector<bson::Doc> result;
          result.push_back(b.Done());
          return result;
        }));
  }

 private:
  std::vector<std::pair<std::string, std::vector<StagePtr>>> facets_;
};

}  // namespace

StatusWith<StagePtr> ParseFacetStage(const bson::Element& spec, const ParseContext& ctx) {
  if (!spec.IsObject() || spec.Obj().empty()) {
    return Status(40169, "the $facet specification must be a non-empty object, but found: " +
                             spec.ToString());
  }
  ParseContext sub = ctx;
  sub.in_facet = true;
  std::vector<std::pair<std::string, std::vector<StagePtr>>> facets;
  for (const bson::Element& e : spec.Obj()) {
    std::string_view name = e.key();
    if (name.empty() || name[0] == '$') {
      return Status(40352, "FieldPath field names may not start with '$'. Consider using "
                           "$getField or $setField.");
    }
    if (name.find('.') != std::string_view::npos) {
      return Status(40353, "FieldPath field names may not contain '.'.");
    }
    if (!e.IsArray()) {
      return Status(40170, "arguments to $facet must be arrays, " + std::string(name) + " is type " +
                               std::string(bson::TypeName(e.type())));
    }
    if (e.Obj().empty()) return Status(40171, "sub-pipeline in $facet stage cannot be empty");
    auto stages = ParseStages(e.Obj(), sub);
    if (!stages.ok()) return stages.status();
    facets.emplace_back(std::string(name), std::move(stages).value());
  }
  return StagePtr(new FacetStage(SpecDoc(spec), std::move(facets)));
}

}  // namespace brook::query::pipeline_internal
