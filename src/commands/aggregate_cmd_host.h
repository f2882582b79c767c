#pragma once
// The command layer's query::PipelineHost: collections as aggregation pipelines see them.
//
// Owns: reads for $lookup/$unionWith (a view runs its pipeline), $out (drop, recreate,
// insert), and $merge (per document: find the target document by the `on` fields, then
// insert / replace / $set-merge / keep / pipeline-update it through the ordinary write
// path, so indexes, oplog, change streams, validation and duplicate-key errors (11000)
// behave exactly as for insert/update).
// Thread-safety: one host per aggregate; used by one thread at a time. Writes need the
// operation running the pipeline (set_op around each batch).

#include <memory>
#include <string>
#include <vector>

#include "catalog/namespace.h"
#include "commands/operation_context.h"
#include "query/collation.h"
#include "query/pipeline.h"

namespace brook::commands {

class AggregateHost : public query::PipelineHost {
 public:
  explicit AggregateHost(ServiceContext* service) : service_(service) {}
  void set_op(OperationContext* op) { op_ = op; }
  // aggregate's bypassDocumentValidation, for $out and $merge writes.
  void set_bypass_validation(bool b) { bypass_validation_ = b; }
  // aggregate's `let`, visible to a $merge whenMatched pipeline.
  void set_let(bson::Doc let) { let_ = std::move(let); }

  StatusWith<std::unique_ptr<query::DocumentSource>> ScanCollection(std::string_view db,
                                                                    std::string_view coll) override;
  Status ReplaceCollection(std::string_view db, std::string_view coll,
                           std::vector<bson::Doc> docs) override;
  Status PrepareMerge(const query::MergeTarget& target) override;
  Status MergeBatch(const query::MergeTarget& target, std::vector<query::MergeItem> items) override;

 private:
  Status MergeOne(const catalog::Namespace& ns, const query::MergeTarget& target,
                  const query::MergeItem& item);

  ServiceContext* service_;
  OperationContext* op_ = nullptr;
  bool bypass_validation_ = false;
  bson::Doc let_;
};

}  // namespace brook::commands
