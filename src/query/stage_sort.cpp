// $sort: multi-key, MongoDB's sort order. A key path through arrays yields every value
// found; ascending sorts by the smallest, descending by the largest. Missing sorts as
// null, and a path that found only empty arrays sorts as undefined (below null).
#include <algorithm>

#include "query/stage.h"
#include "query/stage_sort.h"
#include "query/stage_util.h"

namespace brook::query::pipeline_internal {

Value SortKeyOf(bson::View doc, const std::vector<std::string>& parts, bool ascending,
                const bson::StringComparator* collator) {
  std::vector<bson::Element> values;
  bool saw_empty = false;
  CollectPathValues(doc.Get(parts[0]), parts, 1, &values, &saw_empty);
  if (values.empty()) return saw_empty ? Value::Undefined() : Value::Null();
  bson::Element best = values[0];
  for (size_t i = 1; i < values.size(); ++i) {
    int c = bson::CompareValues(values[i], best, collator);
    if (ascending ? c < 0 : c > 0) best = values[i];
  }
  return Value::FromElement(best);
}

StatusWith<SortSpec> ParseSortSpec(const bson::Element& spec) {
  if (!spec.IsObject()) return Status(15973, "the $sort key specification must be an object");
  SortSpec out;
  for (const bson::Element& e : spec.Obj()) {
    if (e.IsObject()) {
      return Status(17312, "$meta is the only expression supported by $sort right now");
    }
    if (!e.IsNumber()) {
      return Status(15974, "Illegal key in $sort specification: " + std::string(e.key()) + ": " +
                               e.ToString());
    }
    auto d = e.ExactInt64();
    if (!d || (*d != 1 && *d != -1)) {
      return Status(15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)");
    }
    out.keys.push_back({SplitDotted(e.key()), *d == 1});
  }
  if (out.keys.empty()) return Status(15976, "$sort stage must have at least one sort key");
  return out;
}

void SortDocs(std::vector<bson::Doc>* docs, const SortSpec& spec,
              const bson::StringComparator* collator) {
  struct Row {
    std::vector<Value> keys;
    size_t index;
  };
  std::vector<Row> rows(docs->size());
  for (size_t i = 0; i < docs->size(); ++i) {
    rows[i].index = i;
    for (const auto& k : spec.keys) {
      rows[i].keys.push_back(SortKeyOf((*docs)[i].view(), k.path, k.ascending, collator));
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    for (size_t k = 0; k < spec.keys.size(); ++k) {
      int c = CompareValue(a.keys[k], b.keys[k], collator);
      if (c != 0) return spec.keys[k].ascending ? c < 0 : c > 0;
    }
    return false;
  });
  std::vector<bson::Doc> out;
  out.reserve(docs->size());
  for (const Row& r : rows) out.push_back(std::move((*docs)[r.index]));
  *docs = std::move(out);
}

namespace {

class SortStage : public Stage {
 public:
  SortStage(bson::Doc spec, SortSpec sort) : Stage(std::move(spec)), sort_(std::move(sort)) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr& rc) const override {
    const SortSpec* sort = &sort_;
    const bson::StringComparator* collator = rc->opts->collator;
    return std::unique_ptr<DocumentSource>(new BufferedSource(
        std::move(input), [sort, collator](std::vector<bson::Doc> docs) -> StatusWith<std::vector<bson::Doc>> {
          SortDocs(&docs, *sort, collator);
          return docs;
        }));
  }

 private:
  SortSpec sort_;
};

}  // namespace

StatusWith<StagePtr> ParseSortStage(const bson::Element& spec, const ParseContext&) {
  auto sort = ParseSortSpec(spec);
  if (!sort.ok()) return sort.status();
  return StagePtr(new SortStage(SpecDoc(spec), std::move(sort).value()));
}

}  // namespace brook::query::pipeline_internal
