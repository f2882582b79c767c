#pragma once
// Find projections ({a: 1, "b.c": 0, d: {$slice: 2}, "e.$": 1, f: {$add: ["$x", 1]}}),
// and the inclusion/exclusion/computed-field core of $project.
//
// Owns: parsing a projection spec with MongoDB's rules and errors (31253/31254 for
// mixing inclusion and exclusion, 31249/31250 path collisions, 31252 expressions in an
// exclusion projection, $slice/$elemMatch/positional errors) and applying it: _id kept
// unless excluded, dotted paths through arrays of documents, inclusion output in
// document order with computed fields appended in spec order, positional `$` through
// the query's MatchDetails, $slice, $elemMatch, and aggregation expressions / literals
// (4.4+ semantics) through the expression engine.
// Thread-safety: a parsed Projection is immutable; Apply() may run concurrently.

#include <memory>

#include "bson/compare.h"
#include "bson/document.h"
#include "query/matcher.h"
#include "util/status.h"

namespace brook::query {

struct ProjectionOptions {
  const bson::StringComparator* collator = nullptr;
  bson::View let_variables;  // user variables for expressions
  int64_t now_millis = 0;    // $$NOW, 0 for the clock
  // true: find() projection ($slice, $elemMatch and "a.$" are projection operators).
  // false: aggregation $project (every $-object is an expression).
  bool find_semantics = true;
};

namespace projection_internal {
struct Node;
}

class Projection {
 public:
  ~Projection();
  Projection(const Projection&) = delete;
  Projection& operator=(const Projection&) = delete;

  static StatusWith<std::unique_ptr<Projection>> Parse(bson::View spec, const ProjectionOptions& opts);
  // `details` carries the query's array position for a positional projection.
  StatusWith<bson::Doc> Apply(bson::View doc, const MatchDetails* details) const;

  bool is_inclusion() const { return inclusion_; }
  bool has_positional() const { return positional_; }

 private:
  Projection();
  bool inclusion_ = false;
  bool positional_ = false;
  bool empty_ = false;
  bson::Doc spec_;
  bson::Doc let_;
  ProjectionOptions opts_;
  std::unique_ptr<projection_internal::Node> root_;
};

}  // namespace brook::query
