#include "commands/generic_args.h"

#include <array>
#include <unordered_set>

#include "bson/builder.h"

namespace brook::commands {
namespace {

constexpr int64_t kMaxTimeMSLimit = INT32_MAX;

Status WrongType(std::string_view field, const bson::Element& e, std::string_view expected) {
  return Status(ErrorCodes::kTypeMismatch, "BSON field '" + std::string(field) +
                                               "' is the wrong type '" +
                                               std::string(bson::TypeName(e.type())) +
                                               "', expected type '" + std::string(expected) + "'");
}

bool ValidDbName(std::string_view db) {
  if (db.empty() || db.size() > 63) return false;
  for (char c : db) {
    if (c == '/' || c == '\\' || c == '.' || c == ' ' || c == '"' || c == '$' || c == '\0') {
      return false;
    }
  }
  return true;
}

Status ParseWriteConcern(const bson::Element& e, WriteConcern* wc) {
  if (!e.IsObject()) return WrongType("writeConcern", e, "object");
  WriteConcern out;
  out.provided = true;
  for (const auto& f : e.Obj()) {
    std::string_view k = f.key();
    if (k == "w") {
      if (f.IsNumber()) {
        auto n = f.ExactInt64();
        if (!n || *n < 0 || *n > 50) {
          return Status(ErrorCodes::kFailedToParse,
                        "w has to be a non-negative number and not greater than 50; found: " +
                            f.ToString());
        }
        out.w = *n;
      } else if (f.type() == bson::Type::kString) {
        out.w = std::string(f.Str());
      } else {
        return Status(ErrorCodes::kFailedToParse, "w has to be a number or a string");
      }
    } else if (k == "j") {
      if (f.type() != bson::Type::kBool && !f.IsNumber()) {
        return Status(ErrorCodes::kFailedToParse, "j must be numeric or a boolean value");
      }
      out.j = f.Truthy();
    } else if (k == "fsync") {
      if (f.type() != bson::Type::kBool && !f.IsNumber()) {
        return Status(ErrorCodes::kFailedToParse, "fsync must be numeric or a boolean value");
      }
      if (f.Truthy()) out.j = true;
    } else if (k == "wtimeout" || k == "wtimeoutMS") {
      if (!f.IsNumber()) {
        return Status(ErrorCodes::kFailedToParse, "wtimeout must be a number");
      }
      out.wtimeout_ms = f.NumberInt64();
    }
    // Other fields (getLastError leftovers, provenance) are accepted and ignored, as
    // MongoDB does.
  }
  *wc = std::move(out);
  return Status::OK();
}

Status ParseReadConcern(const bson::Element& e, ReadConcern* rc) {
  if (!e.IsObject()) return WrongType("readConcern", e, "object");
  ReadConcern out;
  out.provided = true;
  for (const auto& f : e.Obj()) {
    std::string_view k = f.key();
    if (k == "level") {
      if (f.type() != bson::Type::kString) return WrongType("readConcern.level", f, "string");
      std::string_view lvl = f.Str();
      static constexpr std::array<std::string_view, 5> kLevels = {
          "local", "majority", "linearizable", "available", "snapshot"};
      bool known = false;
      for (auto l : kLevels) known |= (l == lvl);
      if (!known) {
        return Status(ErrorCodes::kBadValue, "Enumeration value '" + std::string(lvl) +
                                                 "' for field 'readConcern.level' is not a "
                                                 "valid value.");
      }
      out.level = std::string(lvl);
    } else if (k == "afterClusterTime") {
      if (f.type() != bson::Type::kTimestamp) {
        return WrongType("readConcern.afterClusterTime", f, "timestamp");
      }
      out.after_cluster_time = f.Ts();
    } else if (k == "atClusterTime") {
      if (f.type() != bson::Type::kTimestamp) {
        return WrongType("readConcern.atClusterTime", f, "timestamp");
      }
      out.at_cluster_time = f.Ts();
    } else if (k == "afterOpTime" || k == "provenance") {
      // accepted
    } else {
      return Status(40415, "BSON field 'readConcern." + std::string(k) + "' is an unknown field.");
    }
  }
  if (out.at_cluster_time && out.level != "snapshot") {
    return Status(ErrorCodes::kInvalidOptions,
                  "atClusterTime field can be set only if level is snapshot");
  }
  if (out.at_cluster_time && out.after_cluster_time) {
    return Status(ErrorCodes::kInvalidOptions,
                  "Can not specify both afterClusterTime and atClusterTime");
  }
  if (out.after_cluster_time && out.level == "available") {
    return Status(ErrorCodes::kInvalidOptions,
                  "afterClusterTime field can be set only if level is local, majority or snapshot");
  }
  *rc = std::move(out);
  return Status::OK();
}

Status ParseMaxTimeMS(const bson::Element& e, int64_t* out) {
  if (!e.IsNumber()) return Status(ErrorCodes::kBadValue, "maxTimeMS must be a number");
  auto v = e.ExactInt64();
  if (!v) {
    double d = e.NumberDouble();
    if (d < 0 || d > static_cast<double>(kMaxTimeMSLimit)) {
      return Status(ErrorCodes::kBadValue, e.ToString() + " value for maxTimeMS is out of range");
    }
    return Status(ErrorCodes::kBadValue, "maxTimeMS has non-integral value");
  }
  if (*v < 0 || *v > kMaxTimeMSLimit) {
    return Status(ErrorCodes::kBadValue, std::to_string(*v) + " value for maxTimeMS is out of range");
  }
  *out = *v;
  return Status::OK();
}

Status ParseApi(const CommandSpec& spec, bson::View body, ApiParameters* api) {
  ApiParameters out;
  if (auto e = body["apiVersion"]) {
    if (e.type() != bson::Type::kString) return WrongType("apiVersion", e, "string");
    out.version = std::string(e.Str());
  }
  if (auto e = body["apiStrict"]) {
    if (e.type() != bson::Type::kBool) return WrongType("apiStrict", e, "bool");
    out.strict = e.Bool();
  }
  if (auto e = body["apiDeprecationErrors"]) {
    if (e.type() != bson::Type::kBool) return WrongType("apiDeprecationErrors", e, "bool");
    out.deprecation_errors = e.Bool();
  }
  if ((out.strict || out.deprecation_errors) && !out.version) {
    return Status(4886600,
                  "Provided apiStrict and/or apiDeprecationErrors without passing apiVersion");
  }
  if (out.version) {
    if (*out.version == "2") {
      return Status(ErrorCodes::kAPIVersionError, "Cannot accept API version 2");
    }
    if (*out.version != "1") {
      return Status(ErrorCodes::kAPIVersionError, "API version must be \"1\"");
    }
  }
  if (out.strict.value_or(false) && !(spec.flags & kApiVersion1)) {
    return Status(ErrorCodes::kAPIStrictError,
                  "Provided apiStrict:true, but the command " + std::string(spec.name) +
                      " is not in API Version 1. Information on supported commands and "
                      "migrations in API Version 1 can be found at "
                      "https://dochub.mongodb.org/core/manual-versioned-api");
  }
  *api = std::move(out);
  return Status::OK();
}

}  // namespace

bool IsGenericArgument(std::string_view field) {
  static const auto* names = new std::unordered_set<std::string_view>{
      "$db", "lsid", "txnNumber", "autocommit", "startTransaction", "writeConcern",
      "readConcern", "maxTimeMS", "comment", "$readPreference", "$clusterTime",
      "apiVersion", "apiStrict", "apiDeprecationErrors", "$audit", "$client",
      "$configServerState", "$configTime", "$topologyTime", "$queryOptions",
      "maxTimeMSOpOnly", "databaseVersion", "shardVersion", "txnRetryCounter",
      "clientOperationKey", "mayBypassWriteBlocking", "allowImplicitCollectionCreation",
      "tracking_info", "usesDefaultMaxTimeMS", "readPreference"};
  return names->count(field) > 0;
}

namespace {

// The generic arguments this parser reads, found in one pass over the body (each lookup
// by name would walk the body again).
struct GenericFields {
  bson::Element db, lsid, txn_number, autocommit, start_transaction, write_concern,
      read_concern, max_time_ms, comment, read_preference;

  explicit GenericFields(bson::View body) {
    for (const bson::Element& e : body) {
      std::string_view k = e.key();
      bson::Element* slot = nullptr;
      if (k == "$db") slot = &db;
      else if (k == "lsid") slot = &lsid;
      else if (k == "txnNumber") slot = &txn_number;
      else if (k == "autocommit") slot = &autocommit;
      else if (k == "startTransaction") slot = &start_transaction;
      else if (k == "writeConcern") slot = &write_concern;
      else if (k == "readConcern") slot = &read_concern;
      else if (k == "maxTimeMS") slot = &max_time_ms;
      else if (k == "comment") slot = &comment;
      else if (k == "$readPreference") slot = &read_preference;
      if (slot && slot->missing()) *slot = e;  // the first of duplicates, as View::Get
    }
  }
};

}  // namespace

Status ParseGenericArguments(const CommandSpec& spec, bson::View body, OperationContext* op) {
  const GenericFields f(body);
  auto db = f.db;
  if (!db) return Status(40571, "OP_MSG requests require a $db argument");
  if (db.type() != bson::Type::kString) return WrongType("$db", db, "string");
  if (!ValidDbName(db.Str())) {
    return Status(ErrorCodes::kInvalidNamespace, "Invalid database name: '" + std::string(db.Str()) + "'");
  }
  op->db = std::string(db.Str());

  if (auto e = f.lsid) {
    if (!e.IsObject()) return WrongType("OperationSessionInfo.lsid", e, "object");
    auto id = e.Obj()["id"];
    if (!id) {
      return Status(40414, "BSON field 'OperationSessionInfo.lsid.id' is missing but a required field");
    }
    if (id.type() != bson::Type::kBinary || id.Bin().subtype != 4 || id.Bin().bytes.size() != 16) {
      return Status(ErrorCodes::kTypeMismatch,
                    "BSON field 'OperationSessionInfo.lsid.id' must be a UUID");
    }
    op->lsid = bson::Doc::CopyOf(e.Obj());
  }
  if (auto e = f.txn_number) {
    auto n = e.IsNumber() ? e.ExactInt64() : std::nullopt;
    if (!n) return WrongType("OperationSessionInfo.txnNumber", e, "long");
    if (!op->lsid) {
      return Status(ErrorCodes::kInvalidOptions,
                    "Transaction number requires a session ID to also be specified");
    }
    if (*n < 0) return Status(ErrorCodes::kBadValue, "TxnNumber cannot be negative");
    op->txn_number = *n;
  }
  if (auto e = f.autocommit) {
    if (e.type() != bson::Type::kBool) return WrongType("OperationSessionInfo.autocommit", e, "bool");
    if (e.Bool()) return Status(ErrorCodes::kInvalidOptions, "Specifying autocommit=true is not allowed.");
    if (!op->txn_number) {
      return Status(ErrorCodes::kInvalidOptions,
                    "'autocommit' field requires a transaction number to also be specified");
    }
    op->autocommit = false;
  }
  if (auto e = f.start_transaction) {
    if (e.type() != bson::Type::kBool) {
      return WrongType("OperationSessionInfo.startTransaction", e, "bool");
    }
    if (!e.Bool()) {
      return Status(ErrorCodes::kInvalidOptions, "Specifying startTransaction=false is not allowed.");
    }
    if (!op->autocommit) {
      return Status(ErrorCodes::kInvalidOptions,
                    "'startTransaction' field requires 'autocommit' field to also be specified");
    }
    op->start_transaction = true;
  }
  if (auto e = f.write_concern) BROOK_RETURN_IF_ERROR(ParseWriteConcern(e, &op->write_concern));
  if (auto e = f.read_concern) BROOK_RETURN_IF_ERROR(ParseReadConcern(e, &op->read_concern));
  if (auto e = f.max_time_ms) {
    int64_t ms = 0;
    BROOK_RETURN_IF_ERROR(ParseMaxTimeMS(e, &ms));
    op->max_time_ms = ms;
    // getMore's maxTimeMS is its awaitData wait, not a deadline for the command.
    if (ms > 0 && spec.name != "getMore") {
      op->deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    }
  }
  if (auto e = f.comment) {
    bson::Builder b;
    b.AppendAs("comment", e);
    op->comment = b.Done();
  }
  if (auto e = f.read_preference; e && !e.IsObject()) {
    return WrongType("$readPreference", e, "object");
  }
  return ParseApi(spec, body, &op->api);
}

bool SupportsWriteConcern(const CommandSpec& spec) {
  if (spec.flags & kWrite) return true;
  static const auto* names = new std::unordered_set<std::string_view>{
      "create", "drop", "dropDatabase", "renameCollection", "collMod", "createIndexes",
      "dropIndexes", "commitTransaction", "abortTransaction", "findAndModify", "bulkWrite"};
  return names->count(spec.name) > 0;
}

std::optional<Status> WriteConcernProblem(const WriteConcern& wc) {
  if (!wc.provided) return std::nullopt;
  if (std::holds_alternative<int64_t>(wc.w)) {
    if (std::get<int64_t>(wc.w) > 1) {
      return Status(ErrorCodes::kUnsatisfiableWriteConcern, "Not enough data-bearing nodes");
    }
    return std::nullopt;
  }
  const auto& tag = std::get<std::string>(wc.w);
  if (tag != "majority") {
    return Status(ErrorCodes::kUnknownReplWriteConcern,
                  "No write concern mode named '" + tag + "' found in replica set configuration");
  }
  return std::nullopt;
}

bson::Doc WriteConcernErrorDoc(const Status& st, bson::View err_info) {
  bson::Builder b;
  b.AppendInt32("code", st.code());
  b.AppendString("codeName", st.code_name());
  b.AppendString("errmsg", st.reason());
  if (!err_info.empty()) b.AppendDocument("errInfo", err_info);
  return b.Done();
}

bool IsRetryableErrorCode(int32_t code) {
  switch (static_cast<ErrorCodes>(code)) {
    case ErrorCodes::kHostUnreachable:
    case ErrorCodes::kHostNotFound:
    case ErrorCodes::kNetworkTimeout:
    case ErrorCodes::kShutdownInProgress:
    case ErrorCodes::kPrimarySteppedDown:
    case ErrorCodes::kExceededTimeLimit:
    case ErrorCodes::kSocketException:
    case ErrorCodes::kNotWritablePrimary:
    case ErrorCodes::kInterruptedAtShutdown:
    case ErrorCodes::kInterruptedDueToReplStateChange:
    case ErrorCodes::kNotPrimaryNoSecondaryOk:
    case ErrorCodes::kNotPrimaryOrSecondary:
    case ErrorCodes::kReadConcernMajorityNotAvailableYet:
      return true;
    default:
      return false;
  }
}

bool IsChangeStreamRequest(std::string_view command_name, bson::View body) {
  // A getMore continues a change stream only when its cursor is one, which only the
  // getMore handler knows once it has checked the cursor out: it labels those errors
  // itself (change_stream_cmd.h). As in MongoDB, errors raised before the checkout
  // (failCommand on getMore) carry no ResumableChangeStreamError.
  if (command_name == "getMore") return false;
  if (command_name != "aggregate") return false;
  auto pipeline = body["pipeline"];
  if (!pipeline.IsArray()) return false;
  auto first = pipeline.Obj().first();
  return first.IsObject() && first.Obj().first().key() == "$changeStream";
}

std::vector<std::string> ErrorLabelsFor(const OperationContext& op, std::string_view command_name,
                                        std::optional<int32_t> code,
                                        std::optional<int32_t> write_concern_code,
                                        bool is_change_stream) {
  std::vector<std::string> labels;
  if (!code && !write_concern_code) return labels;
  const bool commit_or_abort =
      command_name == "commitTransaction" || command_name == "abortTransaction";
  const bool in_transaction = op.autocommit.has_value();
  const bool retryable_write = op.txn_number.has_value() && !in_transaction;

  if (retryable_write || (op.txn_number && in_transaction && commit_or_abort)) {
    auto shutdown = [](int32_t c) {
      return c == static_cast<int32_t>(ErrorCodes::kShutdownInProgress) ||
             c == static_cast<int32_t>(ErrorCodes::kInterruptedAtShutdown);
    };
    if ((code && (IsRetryableErrorCode(*code) || shutdown(*code))) ||
        (write_concern_code && (IsRetryableErrorCode(*write_concern_code) || shutdown(*write_concern_code)))) {
      labels.emplace_back(labels::kRetryableWriteError);
    }
  }

  if (code && in_transaction) {
    bool transient = *code == static_cast<int32_t>(ErrorCodes::kWriteConflict) ||
                     *code == 24 /* LockTimeout */ || *code == 267 /* PreparedTransactionInProgress */;
    if (commit_or_abort) {
      transient |= *code == static_cast<int32_t>(ErrorCodes::kNoSuchTransaction) && !write_concern_code;
    } else {
      transient |= IsRetryableErrorCode(*code) ||
                   *code == static_cast<int32_t>(ErrorCodes::kNoSuchTransaction);
    }
    if (transient) labels.emplace_back(labels::kTransientTransactionError);
  }

  // A commit whose outcome the client cannot know (it may have committed before the
  // error): retrying it is safe, the server answers a retried commit from its record.
  if (command_name == "commitTransaction" && in_transaction) {
    auto unknown = [](int32_t c) {
      return IsRetryableErrorCode(c) || c == static_cast<int32_t>(ErrorCodes::kMaxTimeMSExpired) ||
             c == static_cast<int32_t>(ErrorCodes::kShutdownInProgress) ||
             c == static_cast<int32_t>(ErrorCodes::kInterruptedAtShutdown);
    };
    bool wc_unknown = write_concern_code &&
                      *write_concern_code != static_cast<int32_t>(ErrorCodes::kUnsatisfiableWriteConcern) &&
                      *write_concern_code != static_cast<int32_t>(ErrorCodes::kUnknownReplWriteConcern);
    if ((code && unknown(*code)) || wc_unknown) labels.emplace_back(labels::kUnknownTransactionCommitResult);
  }

  if (code && !write_concern_code && is_change_stream) {
    int32_t c = *code;
    bool resumable = IsRetryableErrorCode(c) || c == 9001 /* SocketException */ ||
                     c == 13388 /* StaleConfig */ || c == 150 /* StaleEpoch */ ||
                     c == 63 /* StaleShardVersion */ ||
                     c == static_cast<int32_t>(ErrorCodes::kRetryChangeStream) ||
                     c == static_cast<int32_t>(ErrorCodes::kFailedToSatisfyReadPreference);
    if (resumable) labels.emplace_back(labels::kResumableChangeStreamError);
  }
  return labels;
}

}  // namespace brook::commands
