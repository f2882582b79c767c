#pragma once
// The aggregation pipeline: parse a stage array once into an immutable plan, then run it
// over any number of inputs, pull-based.
//
// Owns: the stage list ($match $project $addFields/$set $unset $sort $limit $skip $group
// $count $unwind $replaceRoot/$replaceWith $sortByCount $lookup $facet $unionWith $sample
// $out $merge $documents $bucket) and its error codes (40323, 40324, 40601, ...).
// Collections are reached only through PipelineHost (implemented by the command layer;
// tests implement it in memory). Plan vs execution: Parse() builds immutable stage
// specs; Run() builds per-run DocumentSource objects that hold only runtime state.
// Lifetime: a DocumentSource returned by Run() keeps what it needs of the plan alive, so
// the Pipeline may be destroyed before it; it does need the PipelineHost and collator
// given in PipelineOptions to outlive it.
// Memory: $sort, $group, $facet, $sample and $out hold their whole input in memory;
// allowDiskUse is accepted and changes nothing.
// Thread-safety: a parsed Pipeline is immutable and may be Run() from several threads;
// each DocumentSource is used by one thread at a time.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bson/compare.h"
#include "bson/document.h"
#include "util/status.h"

namespace brook::query {

// A stream of documents. Next() returns nullopt at the end; an error ends the stream.
class DocumentSource {
 public:
  virtual ~DocumentSource() = default;
  virtual StatusWith<std::optional<bson::Doc>> Next() = 0;
};

// $merge's target and modes, as parsed from the stage.
struct MergeTarget {
  enum class WhenMatched { kReplace, kKeepExisting, kMerge, kFail, kPipeline };
  enum class WhenNotMatched { kInsert, kDiscard, kFail };
  std::string db, coll;
  std::vector<std::string> on = {"_id"};  // dotted paths
  bool on_given = false;                   // an explicit `on` needs a unique index
  WhenMatched when_matched = WhenMatched::kMerge;
  WhenNotMatched when_not_matched = WhenNotMatched::kInsert;
  bson::Doc pipeline;  // kPipeline: {"0": stage, ...}, an update pipeline
};

// One document for $merge: the document, the values of its `on` fields ({path: value}),
// and (kPipeline) the stage's let variables evaluated against it ({new: ..., ...}).
struct MergeItem {
  bson::Doc doc;
  bson::Doc on_values;
  bson::Doc vars;
};

// The narrow interface from the pipeline to collections.
class PipelineHost {
 public:
  virtual ~PipelineHost() = default;
  // All documents of db.coll ($lookup, $unionWith); a missing collection is empty.
  virtual StatusWith<std::unique_ptr<DocumentSource>> ScanCollection(std::string_view db,
                                                                     std::string_view coll) = 0;
  // Replaces db.coll's contents with `docs` ($out), creating it if needed.
  virtual Status ReplaceCollection(std::string_view db, std::string_view coll,
                                   std::vector<bson::Doc> docs) = 0;
  // $merge: checks the target before anything is written (an explicit `on` needs a
  // unique index on exactly those fields: 51183; the target is not a view...).
  virtual Status PrepareMerge(const MergeTarget& target) {
    (void)target;
    return Status(ErrorCodes::kCommandNotSupported, "$merge is not supported here");
  }
  // $merge: applies one batch in order; the first error stops it (duplicate keys 11000,
  // 13113 for whenNotMatched: "fail").
  virtual Status MergeBatch(const MergeTarget& target, std::vector<MergeItem> items) {
    (void)target;
    (void)items;
    return Status(ErrorCodes::kCommandNotSupported, "$merge is not supported here");
  }
};

struct PipelineOptions {
  std::string db;
  const bson::StringComparator* collator = nullptr;
  PipelineHost* host = nullptr;
  bool allow_disk_use = false;
  bson::Doc let_vars;  // aggregate's `let`: constant values, visible as $$name
};

namespace pipeline_internal {
struct StageList;
}

class Pipeline {
 public:
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // `stages_array` is the BSON array (keys "0".."n") of stage documents.
  static StatusWith<std::unique_ptr<Pipeline>> Parse(bson::View stages_array,
                                                     const PipelineOptions& opts);

  // The filter of a leading $match (or an empty document), for the caller to push into
  // an index scan; the stage stays in the pipeline (re-filtering is harmless).
  bson::Doc LeadingMatchFilter() const;

  // Chains the stages over `input`. A pipeline that starts with $documents ignores
  // `input` (pass an empty source or nullptr).
  StatusWith<std::unique_ptr<DocumentSource>> Run(std::unique_ptr<DocumentSource> input) const;

  // True when the last stage writes ($out or $merge): the pipeline returns no documents.
  bool has_out() const;
  // True when the first stage is $documents (a db-level aggregate with no collection).
  bool starts_with_documents() const;
  // {stages: [{$match: ...}, ...]}: each stage's parsed spec.
  bson::Doc Explain() const;

 private:
  Pipeline() = default;
  std::shared_ptr<const pipeline_internal::StageList> stages_;
};

// A DocumentSource over documents held in memory (handy for callers and tests).
std::unique_ptr<DocumentSource> MakeVectorSource(std::vector<bson::Doc> docs);
// Pulls every remaining document of `src`.
StatusWith<std::vector<bson::Doc>> DrainSource(DocumentSource* src);

}  // namespace brook::query
