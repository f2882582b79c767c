#pragma once
// find: argument parsing, the scan behind a find/count/distinct/aggregate (a query plan
// over one snapshot, or the oplog view for local.oplog.rs), and the result stream
// (filter, sort, skip, limit, projection) that the find cursor pulls from between
// getMores.
// Thread-safety: a scan and a stream belong to one thread at a time.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "bson/document.h"
#include "commands/cursor_registry.h"
#include "commands/find_cmd_sort.h"
#include "commands/oplog_view.h"
#include "commands/crud_args.h"
#include "commands/planner.h"
#include "commands/registry.h"
#include "query/projection.h"
#include "util/status.h"

namespace brook::commands {

class OperationContext;

// An open read of one namespace: documents that match the filter, with match details.
struct Scan {
  std::shared_ptr<QueryPlan> plan;   // user collections
  std::shared_ptr<OplogScan> oplog;  // local.oplog.rs
  PlanDescription desc;

  StatusWith<bool> Next(bson::Doc* out, query::MatchDetails* details);
  int64_t keys_examined() const { return plan ? plan->keys_examined() : 0; }
  int64_t docs_examined() const {
    return plan ? plan->docs_examined() : (oplog ? oplog->docs_examined() : 0);
  }
};

// Opens a consistent scan (one storage snapshot) for `q`.
StatusWith<Scan> OpenScan(OperationContext& op, const QueryRequest& q);

struct FindSpec {
  QueryRequest query;
  std::optional<bson::View> projection;
  int64_t skip = 0;
  std::optional<int64_t> limit;  // > 0
  std::optional<int64_t> batch_size;
  bool single_batch = false;
  bool has_sort = false;
  CollationArg collation_arg;  // as given by the command
  query::CollatorPtr collator;  // in effect (owner of query.collator)
};

// Parses find's arguments (the views point into `body`).
StatusWith<FindSpec> ParseFind(const CommandRequest& req, const catalog::Namespace& ns);
// Sets the collator in effect: the command's, else the collection's default.
void ResolveCollation(OperationContext& op, FindSpec* spec);

// The stream of find results: skip, limit, in-memory sort when the plan does not
// provide it, projection.
class FindStream : public DocumentStream {
 public:
  static StatusWith<std::unique_ptr<FindStream>> Make(Scan scan, const FindSpec& spec,
                                                      bson::View let);
  StatusWith<bool> Next(OperationContext& op, bson::Doc* out) override;
  bool Exhausted() const override { return limit_ && returned_ >= *limit_; }
  const Scan& scan() const { return scan_; }
  int64_t returned() const { return returned_; }

 private:
  FindStream() = default;
  StatusWith<bool> NextMatch(OperationContext& op, bson::Doc* out, query::MatchDetails* details);

  query::CollatorPtr collator_owner_;  // outlives scan_ (its matcher points at it)
  Scan scan_;
  std::optional<SortPattern> sort_;
  const bson::StringComparator* collator_ = nullptr;
  std::unique_ptr<query::Projection> projection_;
  bson::Doc owned_;  // keeps let/projection bytes alive
  int64_t skip_ = 0;
  std::optional<int64_t> limit_;
  int64_t returned_ = 0;
  bool sorted_ready_ = false;
  std::vector<bson::Doc> sorted_;
  size_t sorted_pos_ = 0;
};

}  // namespace brook::commands
