#pragma once
// Generic command arguments ($db, lsid, txnNumber, writeConcern, readConcern,
// maxTimeMS, apiVersion, ...) and the error labels a reply carries.
//
// Owns: parsing and validating the arguments every command may carry into
// OperationContext, with MongoDB's codes and messages; the list of those argument names
// (handlers skip them when they reject unknown fields); and the one function that
// decides which error labels (RetryableWriteError, TransientTransactionError,
// ResumableChangeStreamError) MongoDB would attach for an error code and command.
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bson/document.h"
#include "commands/operation_context.h"
#include "commands/registry.h"
#include "util/status.h"

namespace brook::commands {

// True for a field every command accepts (e.g. "$db", "lsid", "writeConcern", "comment").
bool IsGenericArgument(std::string_view field);

// Fills op->db, lsid, txn_number, autocommit, start_transaction, write_concern,
// read_concern, max_time_ms/deadline, comment and api from `body`, validating each.
// Also enforces the Stable API rules against `spec` (apiStrict with a command outside
// API Version 1: APIStrictError 323).
Status ParseGenericArguments(const CommandSpec& spec, bson::View body, OperationContext* op);

// Whether the command takes a writeConcern (writes and catalog changes).
bool SupportsWriteConcern(const CommandSpec& spec);

// The writeConcernError a single-node replica set reports for `wc` after the write
// ran, if any: w greater than 1 cannot be satisfied (UnsatisfiableWriteConcern 100,
// "Not enough data-bearing nodes"); a tag other than "majority" is unknown
// (UnknownReplWriteConcern 79).
std::optional<Status> WriteConcernProblem(const WriteConcern& wc);

// The writeConcernError sub-document for `st`: {code, codeName, errmsg, errInfo?}.
bson::Doc WriteConcernErrorDoc(const Status& st, bson::View err_info = bson::View());

// MongoDB's RetriableError category (what retryable writes and reads retry on).
bool IsRetryableErrorCode(int32_t code);

// True when the command starts a change stream: aggregate whose first stage is
// $changeStream. False for getMore: whether it continues one depends on its cursor, so
// the getMore handler labels the errors of change-stream cursors itself.
bool IsChangeStreamRequest(std::string_view command_name, bson::View body);

// The labels MongoDB attaches to an error reply (or to a reply with a writeConcernError)
// for this operation: RetryableWriteError for retryable writes (txnNumber without
// autocommit) and commitTransaction/abortTransaction failing with a retryable code;
// TransientTransactionError inside a transaction; ResumableChangeStreamError for
// change-stream commands failing with a resumable code.
std::vector<std::string> ErrorLabelsFor(const OperationContext& op, std::string_view command_name,
                                        std::optional<int32_t> code,
                                        std::optional<int32_t> write_concern_code,
                                        bool is_change_stream);

}  // namespace brook::commands
