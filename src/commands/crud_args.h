#pragma once
// Argument helpers for the CRUD, cursor and catalog command families: the target
// namespace, typed optional fields with MongoDB's IDL error messages, collation, and the
// writeErrors entry shape.
//
// Owns: the exact wording of argument errors these commands reply with
// (TypeMismatch 14 "BSON field 'find.filter' is the wrong type 'int', expected type
// 'object'", 40414 for missing required fields, 51024 for out-of-range numbers).
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bson/builder.h"
#include "bson/document.h"
#include "catalog/namespace.h"
#include "catalog/catalog.h"
#include "commands/registry.h"
#include "query/collation.h"
#include "util/status.h"

namespace brook::commands {

// The collection named by the command's first field ({find: "coll"}), in req.db.
// InvalidNamespace (73) for a non-string or empty name.
StatusWith<catalog::Namespace> CollectionNs(const CommandRequest& req);

// TypeMismatch (14) with MongoDB's IDL message.
Status WrongType(std::string_view cmd, std::string_view field, const bson::Element& e,
                 std::string_view expected);
// 40414: "BSON field '<cmd>.<field>' is missing but a required field".
Status MissingField(std::string_view cmd, std::string_view field);

// Optional typed fields: OK and unset when absent; TypeMismatch when the type is wrong.
Status GetObject(bson::View body, std::string_view cmd, std::string_view field,
                 std::optional<bson::View>* out);
Status GetArray(bson::View body, std::string_view cmd, std::string_view field,
                std::optional<bson::View>* out);
// bool, or any number (non-zero is true), as MongoDB's IDL "safeBool" accepts.
Status GetBool(bson::View body, std::string_view cmd, std::string_view field,
               std::optional<bool>* out);
// Any number holding an integral value. With `min`, values below it get 51024.
Status GetInt64(bson::View body, std::string_view cmd, std::string_view field,
                std::optional<int64_t>* out, std::optional<int64_t> min = std::nullopt);

// A command's `collation` argument: whether it was given, and the parsed collator
// (null for {locale: "simple"} or when absent).
struct CollationArg {
  bool given = false;
  query::CollatorPtr collator;
};
// Parses `collation` (absent, or a document checked by query::ParseCollation).
StatusWith<CollationArg> ParseCollation(bson::View body, std::string_view cmd);
// The collator a command runs with on `coll`: its own when given, else the collection's
// default collation (create's `collation` option), else simple (null).
query::CollatorPtr EffectiveCollator(const CollationArg& arg, const catalog::CollectionInfo* coll);
// The collection's default collator (null when it has none).
query::CollatorPtr DefaultCollator(const catalog::CollectionInfo* coll);

// Appends {index, code, errmsg, ...extra info} to an open writeErrors array.
void AppendWriteError(bson::Builder* array, size_t position, int32_t index, const Status& st);

Status MaxTimeMSExpired();

}  // namespace brook::commands
