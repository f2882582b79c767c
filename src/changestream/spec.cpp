#include "changestream/spec.h"

#include <set>

namespace brook::changestream {
namespace {

constexpr std::string_view kStage = "$changeStream";

std::string FieldPath(std::string_view field) { return std::string(kStage) + "." + std::string(field); }

Status WrongType(const bson::Element& e, std::string_view expected) {
  return Status(ErrorCodes::kTypeMismatch, "BSON field '" + FieldPath(e.key()) + "' is the wrong type '" +
                                               std::string(bson::TypeName(e.type())) +
                                               "', expected type '" + std::string(expected) + "'");
}

Status BadEnum(const bson::Element& e) {
  return Status(ErrorCodes::kBadValue, "Enumeration value '" + std::string(e.Str()) + "' for field '" +
                                           FieldPath(e.key()) + "' is not a valid value.");
}

Status ReadBool(const bson::Element& e, bool* out) {
  if (e.type() != bson::Type::kBool) return WrongType(e, "bool");
  *out = e.Bool();
  return Status::OK();
}

StatusWith<ResumeToken> ReadToken(const bson::Element& e) {
  if (e.type() != bson::Type::kObject) return WrongType(e, "object");
  return ResumeToken::Parse(e.Obj());
}

bool IsSystemCollection(std::string_view coll) { return coll.substr(0, 7) == "system."; }

// DocumentSourceChangeStream::assertIsLegalSpecification, in MongoDB's order.
Status CheckNamespace(const ChangeStreamSpec& spec, std::string_view db,
                      std::optional<std::string_view> coll) {
  bool collectionless = !coll.has_value();
  std::string ns = std::string(db) + "." + (coll ? std::string(*coll) : std::string("$cmd.aggregate"));
  if (spec.all_changes_for_cluster && !(db == "admin" && collectionless)) {
    return Status(ErrorCodes::kInvalidOptions,
                  "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' "
                  "database, and with no collection name; found " + ns);
  }
  bool allowed_db = db == "admin" ? spec.all_changes_for_cluster
                                  : db != "local" && (db != "config" || spec.allow_to_run_on_config_db);
  if (!allowed_db) {
    return Status(ErrorCodes::kInvalidNamespace,
                  "$changeStream may not be opened on the internal " + std::string(db) + " database");
  }
  if (coll && IsSystemCollection(*coll) && !spec.allow_to_run_on_system_ns) {
    return Status(ErrorCodes::kInvalidNamespace,
                  "$changeStream may not be opened on the internal " + ns + " collection");
  }
  return Status::OK();
}

Status CheckResumeOptions(ChangeStreamSpec* spec) {
  if (spec->resume_after && spec->start_after) {
    return Status(50865, "Do not specify both 'resumeAfter' and 'startAfter' in a $changeStream stage");
  }
  const std::optional<ResumeToken>& token = spec->resume_after ? spec->resume_after : spec->start_after;
  if (token) {
    auto data = token->Decode();
    if (!data.ok()) return data.status();
    spec->resume_token = std::move(data).value();
  }
  if (spec->start_at_operation_time && spec->resume_token) {
    return Status(40674, "Only one type of resume option is allowed, but multiple were found");
  }
  if (spec->resume_after && spec->resume_token->from_invalidate) {
    return Status(ErrorCodes::kInvalidResumeToken,
                  "Attempting to resume a change stream using 'resumeAfter' is not allowed from an "
                  "invalidate notification");
  }
  if (spec->resume_token && !spec->resume_token->uuid && spec->scope.kind == Scope::Kind::kCollection &&
      spec->resume_token->type != ResumeTokenData::Type::kHighWaterMark) {
    return Status(ErrorCodes::kInvalidResumeToken,
                  "Attempted to resume a single-collection stream, but the resume token does not "
                  "include a UUID");
  }
  return Status::OK();
}

}  // namespace

std::string_view FullDocumentModeName(FullDocumentMode m) {
  switch (m) {
    case FullDocumentMode::kDefault: return "default";
    case FullDocumentMode::kUpdateLookup: return "updateLookup";
    case FullDocumentMode::kWhenAvailable: return "whenAvailable";
    case FullDocumentMode::kRequired: return "required";
  }
  return "default";
}

std::string_view FullDocumentBeforeChangeModeName(FullDocumentBeforeChangeMode m) {
  switch (m) {
    case FullDocumentBeforeChangeMode::kOff: return "off";
    case FullDocumentBeforeChangeMode::kWhenAvailable: return "whenAvailable";
    case FullDocumentBeforeChangeMode::kRequired: return "required";
  }
  return "off";
}

StatusWith<ChangeStreamSpec> ParseChangeStreamSpec(const bson::Element& arg, std::string_view db,
                                                   std::optional<std::string_view> coll) {
  if (arg.type() != bson::Type::kObject) {
    return Status(50808, "$changeStream stage expects a document as argument");
  }
  ChangeStreamSpec spec;
  spec.raw = bson::Doc::CopyOf(arg.Obj());
  std::set<std::string_view> seen;
  for (const bson::Element& e : arg.Obj()) {
    std::string_view k = e.key();
    if (!seen.insert(k).second) {
      return Status(40413, "BSON field '" + FieldPath(k) + "' is a duplicate field");
    }
    if (k == "resumeAfter" || k == "startAfter") {
      auto token = ReadToken(e);
      if (!token.ok()) return token.status();
      (k == "resumeAfter" ? spec.resume_after : spec.start_after) = std::move(token).value();
    } else if (k == "startAtOperationTime") {
      if (e.type() != bson::Type::kTimestamp) return WrongType(e, "timestamp");
      spec.start_at_operation_time = e.Ts();
    } else if (k == "fullDocument") {
      if (e.type() != bson::Type::kString) return WrongType(e, "string");
      std::string_view v = e.Str();
      if (v == "default") spec.full_document = FullDocumentMode::kDefault;
      else if (v == "updateLookup") spec.full_document = FullDocumentMode::kUpdateLookup;
      else if (v == "whenAvailable") spec.full_document = FullDocumentMode::kWhenAvailable;
      else if (v == "required") spec.full_document = FullDocumentMode::kRequired;
      else return BadEnum(e);
    } else if (k == "fullDocumentBeforeChange") {
      if (e.type() != bson::Type::kString) return WrongType(e, "string");
      std::string_view v = e.Str();
      if (v == "off") spec.full_document_before_change = FullDocumentBeforeChangeMode::kOff;
      else if (v == "whenAvailable") spec.full_document_before_change = FullDocumentBeforeChangeMode::kWhenAvailable;
      else if (v == "required") spec.full_document_before_change = FullDocumentBeforeChangeMode::kRequired;
      else return BadEnum(e);
    } else if (k == "allChangesForCluster") {
      BROOK_RETURN_IF_ERROR(ReadBool(e, &spec.all_changes_for_cluster));
    } else if (k == "showExpandedEvents") {
      BROOK_RETURN_IF_ERROR(ReadBool(e, &spec.show_expanded_events));
    } else if (k == "showMigrationEvents") {
      BROOK_RETURN_IF_ERROR(ReadBool(e, &spec.show_migration_events));
    } else if (k == "showSystemEvents") {
      BROOK_RETURN_IF_ERROR(ReadBool(e, &spec.show_system_events));
    } else if (k == "allowToRunOnConfigDB") {
      BROOK_RETURN_IF_ERROR(ReadBool(e, &spec.allow_to_run_on_config_db));
    } else if (k == "allowToRunOnSystemNS") {
      BROOK_RETURN_IF_ERROR(ReadBool(e, &spec.allow_to_run_on_system_ns));
    } else if (k == "showRawUpdateDescription") {
      BROOK_RETURN_IF_ERROR(ReadBool(e, &spec.show_raw_update_description));
    } else {
      return Status(40415, "BSON field '" + FieldPath(k) + "' is an unknown field.");
    }
  }

  BROOK_RETURN_IF_ERROR(CheckNamespace(spec, db, coll));
  if (db == "admin") {
    spec.scope.kind = Scope::Kind::kCluster;
  } else if (!coll) {
    spec.scope.kind = Scope::Kind::kDatabase;
    spec.scope.db = std::string(db);
  } else {
    spec.scope.kind = Scope::Kind::kCollection;
    spec.scope.db = std::string(db);
    spec.scope.coll = std::string(*coll);
  }
  BROOK_RETURN_IF_ERROR(CheckResumeOptions(&spec));
  return spec;
}

}  // namespace brook::changestream
