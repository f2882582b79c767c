#pragma once
// The `$changeStream` stage argument, parsed into a typed struct, and the stream's scope.
//
// Owns: MongoDB 7.0's validation of the stage argument (an IDL-style strict struct:
// unknown fields 40415, duplicates 40413, wrong types TypeMismatch 14, bad enum values
// BadValue 2) and of where a stream may be opened (DocumentSourceChangeStream::
// assertIsLegalSpecification: InvalidOptions 72, InvalidNamespace 73, 50865, 40674,
// InvalidResumeToken 260). Errors come in MongoDB's order: the argument's shape first,
// then the namespace rules, then the resume options.
// Thread-safety: immutable values.

#include <optional>
#include <string>
#include <string_view>

#include "bson/document.h"
#include "bson/types.h"
#include "changestream/resume_token.h"
#include "util/status.h"

namespace brook::changestream {

enum class FullDocumentMode { kDefault, kUpdateLookup, kWhenAvailable, kRequired };
enum class FullDocumentBeforeChangeMode { kOff, kWhenAvailable, kRequired };

std::string_view FullDocumentModeName(FullDocumentMode m);
std::string_view FullDocumentBeforeChangeModeName(FullDocumentBeforeChangeMode m);

// What a stream watches. A collection stream matches by namespace, not by UUID, as
// MongoDB's does: after a drop and re-create, `startAfter` an invalidate continues on the
// new collection of that name.
struct Scope {
  enum class Kind { kCollection, kDatabase, kCluster };
  Kind kind = Kind::kCollection;
  std::string db;    // empty for kCluster
  std::string coll;  // only for kCollection

  std::string ns() const { return kind == Kind::kCollection ? db + "." + coll : db; }
};

struct ChangeStreamSpec {
  Scope scope;
  // At most one of the three start options (validated).
  std::optional<ResumeToken> resume_after;
  std::optional<ResumeToken> start_after;
  std::optional<bson::Timestamp> start_at_operation_time;
  // The decoded token of resume_after / start_after.
  std::optional<ResumeTokenData> resume_token;

  FullDocumentMode full_document = FullDocumentMode::kDefault;
  FullDocumentBeforeChangeMode full_document_before_change = FullDocumentBeforeChangeMode::kOff;
  bool all_changes_for_cluster = false;
  bool show_expanded_events = false;
  bool show_migration_events = false;  // accepted; Brook has no migrations
  bool show_system_events = false;     // accepted; system collections stay hidden
  bool allow_to_run_on_config_db = false;
  bool allow_to_run_on_system_ns = false;
  bool show_raw_update_description = false;  // accepted; events use updateDescription

  bson::Doc raw;  // the argument as the client sent it (explain prints it)

  bool pre_image_requested() const {
    return full_document_before_change != FullDocumentBeforeChangeMode::kOff;
  }
  bool post_image_from_pre_image() const {
    return full_document == FullDocumentMode::kWhenAvailable ||
           full_document == FullDocumentMode::kRequired;
  }
};

// Parses `arg` (the value of the `$changeStream` field) for an aggregate on `db`, with
// `coll` the collection name or nullopt for `aggregate: 1`.
StatusWith<ChangeStreamSpec> ParseChangeStreamSpec(const bson::Element& arg, std::string_view db,
                                                   std::optional<std::string_view> coll);

}  // namespace brook::changestream
