#pragma once
// Sort specifications and MongoDB's sort-key rules, shared by $sort, $sortByCount and
// $bucket. Not for other layers.
// Thread-safety: pure functions over immutable specs.

#include <string>
#include <vector>

#include "bson/compare.h"
#include "bson/document.h"
#include "query/value.h"
#include "util/status.h"

namespace brook::query::pipeline_internal {

struct SortSpec {
  struct Key {
    std::vector<std::string> path;
    bool ascending;
  };
  std::vector<Key> keys;
};

// Parses {a: 1, "b.c": -1} with MongoDB's $sort errors (15973-15976).
StatusWith<SortSpec> ParseSortSpec(const bson::Element& spec);
// The sort key of `doc` for one path (min for ascending, max for descending).
Value SortKeyOf(bson::View doc, const std::vector<std::string>& parts, bool ascending,
                const bson::StringComparator* collator);
// Stable sort of `docs` by `spec`.
void SortDocs(std::vector<bson::Doc>* docs, const SortSpec& spec,
              const bson::StringComparator* collator);

}  // namespace brook::query::pipeline_internal
