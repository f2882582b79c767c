#pragma once
// Internal to updates: pipeline-style updates ({u: [{$set: ...}, ...]}) and the
// document diff that describes them.
//
// Owns: which stages an update pipeline may hold ($addFields/$set, $project, $unset,
// $replaceRoot/$replaceWith; they run on the aggregation engine, query/pipeline.h, so
// updates and aggregate share one implementation of each stage), and the diff of
// the old and new document exactly as MongoDB computes it for the oplog (fields compared
// in order, so a moved field is deleted and inserted again; a sub-diff larger than the
// new value becomes a whole-value update; a delta not smaller than the new document
// becomes a replacement), and the change-stream description of that diff.
// Thread-safety: parsed pipelines are immutable.

#include <memory>
#include <vector>

#include "bson/document.h"
#include "query/pipeline.h"
#include "query/update.h"
#include "query/update_doc.h"
#include "util/status.h"

namespace brook::query::update_internal {

class PipelineUpdate {
 public:
  ~PipelineUpdate();
  static StatusWith<std::unique_ptr<PipelineUpdate>> Parse(bson::View pipeline, const UpdateOptions& opts);
  // Runs the stages over `doc`.
  StatusWith<bson::Doc> Run(bson::View doc) const;

 private:
  PipelineUpdate() = default;
  std::unique_ptr<Pipeline> pipeline_;
};

// Records the changes from `before` to `after` in `rec` as MongoDB's $v:2 delta would
// show them. Returns false when MongoDB would log a replacement instead (the delta
// would not be smaller than the new document); `rec` is then left untouched.
bool DiffDocuments(bson::View before, bson::View after, DescriptionRecorder* rec);

}  // namespace brook::query::update_internal
