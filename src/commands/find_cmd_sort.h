#pragma once
// In-memory sorting of query results by a find/findAndModify sort pattern.
//
// Owns: MongoDB's sort-key semantics for find: a path walks arrays; an array value sorts
// by its smallest element ascending and its largest descending; an empty array sorts
// below null; a missing field sorts as null; strings compare through the collation.
// {$meta: "textScore"} keys are accepted and ignored (no text search).
// Thread-safety: a SortPattern is immutable.

#include <string>
#include <vector>

#include "bson/compare.h"
#include "bson/document.h"
#include "util/status.h"

namespace brook::commands {

class SortPattern {
 public:
  // BadValue (2) for a bad sort value, as find reports it.
  static StatusWith<SortPattern> Parse(bson::View sort);

  bool empty() const { return fields_.empty(); }
  int Compare(bson::View a, bson::View b, const bson::StringComparator* collator) const;
  // Stable sort of `docs`.
  void Sort(std::vector<bson::Doc>* docs, const bson::StringComparator* collator) const;

 private:
  struct Field {
    std::string path;
    bool descending = false;
  };
  // The sort key of `doc` for one field (pointing into doc or static values).
  bson::Element KeyOf(bson::View doc, const Field& f, const bson::StringComparator* collator) const;
  std::vector<Field> fields_;
};

}  // namespace brook::commands
