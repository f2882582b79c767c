#pragma once
// A change stream as a pure plan (STYLE.md 4): scope, start point, options, the predicate
// pushed down to the oplog scan, and the user's stages after `$changeStream`.
//
// Owns: turning an aggregate's pipeline array ([{$changeStream: {...}}, ...]) into an
// immutable ChangeStreamPlan, with MongoDB's errors for the spec (spec.h) and for the
// user's stages: only $match $project $addFields $set $unset $replaceRoot $replaceWith
// $redact and $changeStreamSplitLargeEvent may follow (IllegalOperation 20 "... is not
// permitted in a $changeStream pipeline"; an unknown name is 40324 as in any pipeline);
// $changeStreamSplitLargeEvent must be last (7182802) and take {} (7182800).
// Built and tested without storage; Explain() prints it, stage by stage.
// Thread-safety: a plan is immutable and shared by every cursor (and getMore) of its stream.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bson/compare.h"
#include "bson/document.h"
#include "changestream/event.h"
#include "changestream/spec.h"
#include "query/pipeline.h"
#include "util/status.h"

namespace brook::changestream {

// MongoDB's limits: an event is returned as-is up to BSONObjMaxInternalSize (16 MiB +
// 16 KiB); above it the cursor fails with BSONObjectTooLarge (10334) unless the pipeline
// ends with $changeStreamSplitLargeEvent, which cuts events above 16 MiB + 8 KiB into
// fragments of at most that size minus the token (kBSONObjMaxChangeEventSize).
inline constexpr size_t kMaxEventBytes = 16 * 1024 * 1024 + 16 * 1024;
inline constexpr size_t kMaxFragmentBytes = kMaxEventBytes - 8 * 1024;

// Stage 1's predicate: which oplog entries can produce an event for the scope. A cheap
// test on op/ns/o's command name, evaluated on raw entries before any decoding.
class OplogPredicate {
 public:
  OplogPredicate() = default;
  OplogPredicate(Scope scope, bool show_expanded) : scope_(std::move(scope)), show_expanded_(show_expanded) {}

  // A top-level oplog entry: also keeps a transaction's applyOps entries, whose operations
  // the unwind stage tests one by one with MatchesOperation.
  bool MatchesEntry(const OplogEntry& e) const;
  bool MatchesOperation(const OplogEntry& e) const;
  // A write to <db>.system.views that a database or cluster stream with
  // showExpandedEvents reports as a view's create (insert), modify (replacement update)
  // or drop (delete), as MongoDB 7.0 does; collection streams never see them.
  bool MatchesViewDefinitionWrite(const OplogEntry& e) const;
  // Whether a CRUD operation on db.coll is in scope (also used for rename targets).
  bool NamespaceInScope(std::string_view db, std::string_view coll) const;
  // The equivalent MongoDB-style filter, for explain.
  bson::Doc ToBson() const;

 private:
  bool DatabaseInScope(std::string_view db) const;
  Scope scope_;
  bool show_expanded_ = false;
};

struct StartPoint {
  enum class Kind { kNow, kOperationTime, kResumeAfter, kStartAfter };
  Kind kind = Kind::kNow;
  // kOperationTime: the first timestamp to report. Resume kinds: the token's clusterTime.
  // kNow: resolved by the cursor when it opens (visible watermark + 1 tick).
  bson::Timestamp at;
  std::optional<ResumeTokenData> token;  // resume kinds
  bool from_event_token() const {
    return token && token->type == ResumeTokenData::Type::kEvent;
  }
};

// What the aggregate command knows about the request.
struct PlanContext {
  std::string db;
  std::optional<std::string> coll;  // nullopt for `aggregate: 1`
  // Used by the user's stages; must outlive the plan (the command layer keeps it with the
  // cursor).
  const bson::StringComparator* collator = nullptr;
  bson::Doc let_vars;
  // Test hooks: smaller event limits so tests need not build 16 MiB documents.
  size_t max_event_bytes = kMaxEventBytes;
  size_t max_fragment_bytes = kMaxFragmentBytes;
};

struct ChangeStreamPlan {
  ChangeStreamSpec spec;
  StartPoint start;
  OplogPredicate predicate;
  // The user's stages (without $changeStreamSplitLargeEvent), parsed once; null when
  // there are none. The options (and the collator they point to) live in the plan.
  std::shared_ptr<const query::Pipeline> user_pipeline;
  bson::Doc user_stages;  // the array the pipeline was parsed from, for explain
  bool split_large_events = false;
  size_t max_event_bytes = kMaxEventBytes;
  size_t max_fragment_bytes = kMaxFragmentBytes;

  // {changeStream: {scope, startPoint, options}, oplogFilter, stages: [...]}.
  bson::Doc Explain() const;
};

StatusWith<std::shared_ptr<const ChangeStreamPlan>> BuildChangeStreamPlan(bson::View pipeline,
                                                                          const PlanContext& ctx);

}  // namespace brook::changestream
