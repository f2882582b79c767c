#pragma once
// RouteKey: what a change stream's plan pins down about the CRUD events it can deliver,
// so the shared tailer (tailer.h) tests an event only against streams that may want it.
//
// Owns: reading the stream's scope and the equalities of its leading $match (top level
// and $and only): operationType, ns.db / ns.coll / ns, documentKey._id and
// fullDocument.<path>, each as one value, {$eq: v} or {$in: [...]}. Anything else ($or,
// $ne, regexes, null, arrays, a shape it does not know) pins nothing, so the key is
// always conservative: MayMatch is false only when the user's $match surely rejects the
// event, and the stream's own stages still apply the whole filter.
// Scope of the rule: only insert/update/replace/delete events are ever filtered; DDL
// events (which drive invalidation) and writes to system.views (view events) always
// reach every stream, and fullDocument equalities are used only with fullDocument
// "default" (a post-image stage could otherwise fill fullDocument of an update).
// Values compare by their KeyString (storage/key_string.h), so 5, 5.0 and 5L are one
// value, as in $match. Brook compares strings binary, so no collation is involved.
// Thread-safety: immutable after FromPlan.

#include <optional>
#include <string>
#include <vector>

#include "changestream/event.h"
#include "changestream/plan.h"

namespace brook::changestream {

struct RouteKey {
  // A dotted path under fullDocument and the KeyStrings it may equal.
  struct FieldValues {
    std::string path;  // without the "fullDocument." prefix
    std::vector<std::string> values;
  };

  Scope scope;
  std::optional<std::vector<std::string>> operation_types;
  std::optional<std::string> ns_db;
  std::optional<std::vector<std::string>> ns_colls;
  std::optional<std::vector<std::string>> document_ids;  // KeyStrings of documentKey._id
  std::vector<FieldValues> full_document;

  static RouteKey FromPlan(const ChangeStreamPlan& plan);

  // False only when the event is an insert/update/replace/delete outside the stream's
  // scope or that the user's leading $match cannot accept. `event` is the stage-3 output in any form (routing reads only
  // fields that every form shares).
  bool MayMatch(const ChangeEvent& event) const;

  // Whether the event is one that routing may filter at all.
  static bool IsFilterable(const ChangeEvent& event);
  // The KeyString of fullDocument.<path> of `event`; nullopt when the path crosses or ends
  // in an array (the value is then unknown: every value may match), "" when missing.
  static std::optional<std::string> FullDocumentValue(const ChangeEvent& event, const std::string& path);
  static std::optional<std::string> DocumentIdValue(const ChangeEvent& event);
};

}  // namespace brook::changestream
