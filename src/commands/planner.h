#pragma once
// Query planning and execution for find, count, distinct, updates, deletes and the
// scans of aggregation pipelines.
//
// Owns: choosing how to read a collection for a filter (IDHACK for _id equality, IXSCAN
// over an index whose first field carries $eq/$in/range predicates or matches the sort,
// otherwise COLLSCAN; a hint forces an index or $natural), turning predicates into
// index-key intervals, and running the chosen scan against ONE storage snapshot. Index
// bounds are a superset of the matches: every fetched document is re-checked with the
// full filter by the matcher, so the plan never changes results, only cost.
// Thread-safety: a QueryPlan belongs to one thread at a time (a cursor between getMores).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bson/compare.h"
#include "bson/document.h"
#include "catalog/catalog.h"
#include "catalog/record_store.h"
#include "query/matcher.h"
#include "util/status.h"

namespace brook::storage {
class Snapshot;
}

namespace brook::commands {

struct QueryRequest {
  catalog::Namespace ns;
  bson::View filter;
  bson::View sort;       // empty: no sort
  bson::Element hint;    // missing: no hint; a string (index name) or a key pattern
  const bson::StringComparator* collator = nullptr;
  bool has_collation = false;  // non-simple collation: no string index bounds
  bson::View let;
};

enum class PlanStage { kEof, kCollScan, kIdHack, kIxScan };

struct PlanDescription {
  PlanStage stage = PlanStage::kCollScan;
  std::string index_name;
  bson::Doc key_pattern;
  int direction = 1;
  bool provides_sort = false;  // results come out in `sort` order
  bson::Doc index_bounds;      // {field: ["[1, 1]", ...]} for explain

  // The winningPlan document of explain's queryPlanner section.
  bson::Doc ToWinningPlan(bson::View filter) const;
  static const char* StageName(PlanStage s);
};

class QueryPlan {
 public:
  // `coll` may be null (the collection does not exist): the plan is EOF.
  static StatusWith<std::unique_ptr<QueryPlan>> Make(std::shared_ptr<storage::Snapshot> snap,
                                                     catalog::CollectionPtr coll,
                                                     const QueryRequest& req);
  ~QueryPlan();

  // The next document matching the filter; false when done. `details` (optional) gets
  // the matched array position for the positional projection/update operator.
  StatusWith<bool> Next(bson::Doc* out, query::MatchDetails* details = nullptr);

  const PlanDescription& description() const { return desc_; }
  const query::Matcher& matcher() const { return *matcher_; }
  const catalog::CollectionPtr& collection() const { return coll_; }
  int64_t keys_examined() const;
  int64_t docs_examined() const;

 private:
  QueryPlan() = default;
  std::shared_ptr<storage::Snapshot> snap_;
  catalog::CollectionPtr coll_;
  std::unique_ptr<query::Matcher> matcher_;
  PlanDescription desc_;
  std::unique_ptr<catalog::RecordCursor> records_;
  std::unique_ptr<catalog::IndexCursor> index_;
  std::optional<bson::Doc> id_hit_;  // IDHACK's single document
  bool id_done_ = false;
  int64_t id_examined_ = 0;
};

// Parses a filter with the options the command gave (collation, let).
StatusWith<std::unique_ptr<query::Matcher>> ParseFilter(bson::View filter,
                                                        const bson::StringComparator* collator,
                                                        bson::View let);

// The intervals of index-key bytes that can hold keys matching `filter` on the index's
// first field, or nullopt when the filter does not constrain it usefully. Exposed for
// tests.
std::optional<std::vector<catalog::KeyInterval>> IndexBoundsFor(const catalog::IndexInfo& index,
                                                               bson::View filter,
                                                               bool has_collation,
                                                               bool* is_point,
                                                               bson::Doc* readable_bounds);

// Wraps a caller-owned snapshot (e.g. a WriteUnit) in a non-owning shared_ptr.
std::shared_ptr<storage::Snapshot> BorrowSnapshot(storage::Snapshot* snap);

}  // namespace brook::commands
