#pragma once
// Document validation: a collection's `validator` (query operators, $expr; $jsonSchema
// is not supported and is rejected when the validator is set), `validationLevel`
// (off | strict | moderate) and `validationAction` (error | warn), checked on every
// insert, update, replacement and upsert of the write path.
//
// Owns: the decision and the error MongoDB returns: DocumentValidationFailure (121)
// "Document failed validation" with errInfo {failingDocumentId, details: {operatorName,
// specifiedAs, reason, consideredValue?, consideredType?, clausesNotSatisfied?}}
// (a simplified form of MongoDB's detailed validation error: one level of clauses).
// moderate: an update of a document that did not satisfy the validator before is not
// checked. warn: the write goes through. bypassDocumentValidation skips the check.
// Thread-safety: thread-safe (compiled validators are cached under a mutex, keyed by the
// collection version's stored bytes).

#include "bson/document.h"
#include "catalog/catalog.h"
#include "util/status.h"

namespace brook::commands {

// Checks `new_doc` against coll's validator. `old_doc` is the document being updated
// (null for inserts). OK when there is no validator, validation is off or bypassed.
Status ValidateDocument(const catalog::CollectionInfo& coll, const bson::View* old_doc,
                        bson::View new_doc, bool bypass);

// For create/collMod: checks `validator` (an object that parses as a filter without
// $jsonSchema), `validationLevel` and `validationAction` values when present in `opts`.
Status CheckValidationOptions(bson::View opts, std::string_view cmd);

}  // namespace brook::commands
