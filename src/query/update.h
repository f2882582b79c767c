#pragma once
// The update driver: applies the `u` of an update (operators, a replacement document or
// an aggregation pipeline) to one document, and describes what changed.
//
// Owns: MongoDB's update semantics (operator parsing and errors, path creation, array
// padding, positional `$`, `$[]` and `$[<id>]` with arrayFilters, no-op detection,
// _id immutability, field order) and the *update description* that change streams
// report. For operator updates the description is produced by the operators while they
// apply (as MongoDB's v2 oplog diff is): updatedFields holds the new value at each
// dotted path set ($push that only appends reports "arr.<i>" per new element; $pop,
// $pull, $addToSet and reordering $push report the whole array), removedFields the
// paths $unset/$rename removed. For pipeline updates, as MongoDB does, the description
// comes from diffing the old and new document (which is where truncatedArrays arises),
// and a pipeline update whose delta would not be smaller than the new document is a
// replacement, as in MongoDB. Replacements have no description (change streams report
// a "replace" event); Result::as_replacement says which form to log.
// Thread-safety: a parsed UpdateDriver is immutable; Apply() may run concurrently.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bson/compare.h"
#include "bson/document.h"
#include "bson/types.h"
#include "query/matcher.h"
#include "util/status.h"

namespace brook::query {

struct UpdateDescription {
  bson::Doc updated_fields;                 // {"a.b": <new value>, ...}
  std::vector<std::string> removed_fields;  // dotted paths
  std::vector<std::pair<std::string, int32_t>> truncated_arrays;  // {field, newSize}
  // For showExpandedEvents: {"<dotted path>": [components...]} for each reported path
  // that holds a numeric-looking field name or a field name with a dot; array indexes
  // appear as int32, field names as strings. Empty when no path is ambiguous.
  bson::Doc disambiguated_paths;

  bool empty() const {
    return updated_fields.empty() && removed_fields.empty() && truncated_arrays.empty();
  }
  // {updatedFields, removedFields, truncatedArrays[, disambiguatedPaths]} as a change
  // event's updateDescription.
  bson::Doc ToBson(bool with_disambiguated_paths) const;
};

struct UpdateOptions {
  const bson::StringComparator* collator = nullptr;
  bson::View let_variables;  // the command's `let`, for pipeline updates
  // $currentDate and $$NOW; 0 reads the clock once per Apply().
  int64_t now_millis = 0;
  // $currentDate {$type: "timestamp"}; a null timestamp derives one from now_millis.
  bson::Timestamp now_timestamp;
};

namespace update_internal {
struct ParsedUpdate;
}

class UpdateDriver {
 public:
  enum class Kind { kOperators, kReplacement, kPipeline };
  struct Result {
    bson::Doc new_doc;
    UpdateDescription description;  // empty when as_replacement
    bool changed = false;
    // The change is a replacement for the oplog and change streams ("replace" event, the
    // new document in `o`): always for replacement updates, and for a pipeline update
    // whose delta would not be smaller than the new document (MongoDB's rule).
    bool as_replacement = false;
  };

  ~UpdateDriver();
  UpdateDriver(const UpdateDriver&) = delete;
  UpdateDriver& operator=(const UpdateDriver&) = delete;

  // `update` is the update statement's `u` element: a document of operators, a
  // replacement document (including {}), or an array (pipeline). `array_filters` is the
  // arrayFilters array as a BSON array document (empty View when absent).
  // Errors follow MongoDB: 9 FailedToParse "Unknown modifier: $foo. ...", 40
  // ConflictingUpdateOperators, 2 BadValue for malformed arguments, 56 EmptyFieldName, ...
  static StatusWith<std::unique_ptr<UpdateDriver>> Parse(const bson::Element& update,
                                                         bson::View array_filters,
                                                         const UpdateOptions& opts);

  Kind kind() const { return kind_; }
  // True when the update uses `$` and so needs the query's MatchDetails.
  bool needs_match_details() const { return positional_; }

  // Applies to `old_doc`. `match` carries the query's array position for `$` (may be
  // null). For an upsert insert pass the document SeedUpsertDocument built (or an
  // empty one) and is_upsert_insert = true: $setOnInsert then applies, and _id may be
  // set. The result may lack _id only for an upsert insert whose query and update gave
  // none; the caller then generates one and puts it first.
  StatusWith<Result> Apply(bson::View old_doc, const MatchDetails* match, bool is_upsert_insert) const;

  // The document an upsert starts from: the query's equality predicates (top-level and
  // dotted `path: value`, {$eq: v}, single-value $in, and those inside $and or a
  // one-clause $or), _id first. 54 NotSingleValueField when two paths collide.
  static StatusWith<bson::Doc> SeedUpsertDocument(bson::View query);

 private:
  UpdateDriver();
  Kind kind_ = Kind::kOperators;
  bool positional_ = false;
  UpdateOptions opts_;
  bson::Doc update_;  // owned copy of `u` (array or document), as {"": u}
  bson::Doc let_;
  std::unique_ptr<update_internal::ParsedUpdate> parsed_;
};

}  // namespace brook::query
