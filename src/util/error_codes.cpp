#include "util/error_codes.h"

#include <array>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace brook {
namespace {

struct CodeEntry {
  ErrorCodes code;
  std::string_view name;
};

// Names exactly as MongoDB spells them; keep in step with the enum in error_codes.h.
constexpr std::array kCodeTable = {
    CodeEntry{ErrorCodes::kOK, "OK"},
    CodeEntry{ErrorCodes::kInternalError, "InternalError"},
    CodeEntry{ErrorCodes::kBadValue, "BadValue"},
    CodeEntry{ErrorCodes::kNoSuchKey, "NoSuchKey"},
    CodeEntry{ErrorCodes::kHostUnreachable, "HostUnreachable"},
    CodeEntry{ErrorCodes::kUnknownError, "UnknownError"},
    CodeEntry{ErrorCodes::kFailedToParse, "FailedToParse"},
    CodeEntry{ErrorCodes::kCannotMutateObject, "CannotMutateObject"},
    CodeEntry{ErrorCodes::kUserNotFound, "UserNotFound"},
    CodeEntry{ErrorCodes::kUnsupportedFormat, "UnsupportedFormat"},
    CodeEntry{ErrorCodes::kUnauthorized, "Unauthorized"},
    CodeEntry{ErrorCodes::kTypeMismatch, "TypeMismatch"},
    CodeEntry{ErrorCodes::kOverflow, "Overflow"},
    CodeEntry{ErrorCodes::kInvalidLength, "InvalidLength"},
    CodeEntry{ErrorCodes::kProtocolError, "ProtocolError"},
    CodeEntry{ErrorCodes::kAuthenticationFailed, "AuthenticationFailed"},
    CodeEntry{ErrorCodes::kIllegalOperation, "IllegalOperation"},
    CodeEntry{ErrorCodes::kInvalidBSON, "InvalidBSON"},
    CodeEntry{ErrorCodes::kNamespaceNotFound, "NamespaceNotFound"},
    CodeEntry{ErrorCodes::kIndexNotFound, "IndexNotFound"},
    CodeEntry{ErrorCodes::kPathNotViable, "PathNotViable"},
    CodeEntry{ErrorCodes::kNonExistentPath, "NonExistentPath"},
    CodeEntry{ErrorCodes::kRoleNotFound, "RoleNotFound"},
    CodeEntry{ErrorCodes::kConflictingUpdateOperators, "ConflictingUpdateOperators"},
    CodeEntry{ErrorCodes::kCursorNotFound, "CursorNotFound"},
    CodeEntry{ErrorCodes::kNoMatchingDocument, "NoMatchingDocument"},
    CodeEntry{ErrorCodes::kNamespaceExists, "NamespaceExists"},
    CodeEntry{ErrorCodes::kInvalidRoleModification, "InvalidRoleModification"},
    CodeEntry{ErrorCodes::kMaxTimeMSExpired, "MaxTimeMSExpired"},
    CodeEntry{ErrorCodes::kDollarPrefixedFieldName, "DollarPrefixedFieldName"},
    CodeEntry{ErrorCodes::kInvalidIdField, "InvalidIdField"},
    CodeEntry{ErrorCodes::kNotSingleValueField, "NotSingleValueField"},
    CodeEntry{ErrorCodes::kEmptyFieldName, "EmptyFieldName"},
    CodeEntry{ErrorCodes::kDottedFieldName, "DottedFieldName"},
    CodeEntry{ErrorCodes::kCommandNotFound, "CommandNotFound"},
    CodeEntry{ErrorCodes::kImmutableField, "ImmutableField"},
    CodeEntry{ErrorCodes::kCannotCreateIndex, "CannotCreateIndex"},
    CodeEntry{ErrorCodes::kIndexAlreadyExists, "IndexAlreadyExists"},
    CodeEntry{ErrorCodes::kInvalidOptions, "InvalidOptions"},
    CodeEntry{ErrorCodes::kInvalidNamespace, "InvalidNamespace"},
    CodeEntry{ErrorCodes::kIndexOptionsConflict, "IndexOptionsConflict"},
    CodeEntry{ErrorCodes::kIndexKeySpecsConflict, "IndexKeySpecsConflict"},
    CodeEntry{ErrorCodes::kNetworkTimeout, "NetworkTimeout"},
    CodeEntry{ErrorCodes::kShutdownInProgress, "ShutdownInProgress"},
    CodeEntry{ErrorCodes::kOperationFailed, "OperationFailed"},
    CodeEntry{ErrorCodes::kUnsatisfiableWriteConcern, "UnsatisfiableWriteConcern"},
    CodeEntry{ErrorCodes::kWriteConflict, "WriteConflict"},
    CodeEntry{ErrorCodes::kCommandNotSupported, "CommandNotSupported"},
    CodeEntry{ErrorCodes::kConflictingOperationInProgress, "ConflictingOperationInProgress"},
    CodeEntry{ErrorCodes::kCommandFailed, "CommandFailed"},
    CodeEntry{ErrorCodes::kCappedPositionLost, "CappedPositionLost"},
    CodeEntry{ErrorCodes::kInvalidPipelineOperator, "InvalidPipelineOperator"},
    CodeEntry{ErrorCodes::kQueryFeatureNotAllowed, "QueryFeatureNotAllowed"},
    CodeEntry{ErrorCodes::kDocumentValidationFailure, "DocumentValidationFailure"},
    CodeEntry{ErrorCodes::kIncompatibleCollationVersion, "IncompatibleCollationVersion"},
    CodeEntry{ErrorCodes::kViewDepthLimitExceeded, "ViewDepthLimitExceeded"},
    CodeEntry{ErrorCodes::kOptionNotSupportedOnView, "OptionNotSupportedOnView"},
    CodeEntry{ErrorCodes::kCommandNotSupportedOnView, "CommandNotSupportedOnView"},
    CodeEntry{ErrorCodes::kCannotIndexParallelArrays, "CannotIndexParallelArrays"},
    CodeEntry{ErrorCodes::kInvalidIndexSpecificationOption, "InvalidIndexSpecificationOption"},
    CodeEntry{ErrorCodes::kNoSuchSession, "NoSuchSession"},
    CodeEntry{ErrorCodes::kIncompleteTransactionHistory, "IncompleteTransactionHistory"},
    CodeEntry{ErrorCodes::kTransactionTooOld, "TransactionTooOld"},
    CodeEntry{ErrorCodes::kNoSuchTransaction, "NoSuchTransaction"},
    CodeEntry{ErrorCodes::kTransactionCommitted, "TransactionCommitted"},
    CodeEntry{ErrorCodes::kTransactionTooLarge, "TransactionTooLarge"},
    CodeEntry{ErrorCodes::kInvalidResumeToken, "InvalidResumeToken"},
    CodeEntry{ErrorCodes::kExceededTimeLimit, "ExceededTimeLimit"},
    CodeEntry{ErrorCodes::kOperationNotSupportedInTransaction, "OperationNotSupportedInTransaction"},
    CodeEntry{ErrorCodes::kTooManyLogicalSessions, "TooManyLogicalSessions"},
    CodeEntry{ErrorCodes::kClientDisconnect, "ClientDisconnect"},
    CodeEntry{ErrorCodes::kChangeStreamFatalError, "ChangeStreamFatalError"},
    CodeEntry{ErrorCodes::kCursorKilled, "CursorKilled"},
    CodeEntry{ErrorCodes::kChangeStreamHistoryLost, "ChangeStreamHistoryLost"},
    CodeEntry{ErrorCodes::kTransactionExceededLifetimeLimitSeconds,
              "TransactionExceededLifetimeLimitSeconds"},
    CodeEntry{ErrorCodes::kConversionFailure, "ConversionFailure"},
    CodeEntry{ErrorCodes::kQueryExceededMemoryLimitNoDiskUseAllowed,
              "QueryExceededMemoryLimitNoDiskUseAllowed"},
    CodeEntry{ErrorCodes::kAPIVersionError, "APIVersionError"},
    CodeEntry{ErrorCodes::kAPIStrictError, "APIStrictError"},
    CodeEntry{ErrorCodes::kAPIDeprecationError, "APIDeprecationError"},
    CodeEntry{ErrorCodes::kMechanismUnavailable, "MechanismUnavailable"},
    CodeEntry{ErrorCodes::kNotWritablePrimary, "NotWritablePrimary"},
    CodeEntry{ErrorCodes::kBSONObjectTooLarge, "BSONObjectTooLarge"},
    CodeEntry{ErrorCodes::kDuplicateKey, "DuplicateKey"},
    CodeEntry{ErrorCodes::kInterruptedAtShutdown, "InterruptedAtShutdown"},
    CodeEntry{ErrorCodes::kInterrupted, "Interrupted"},
    CodeEntry{ErrorCodes::kNotPrimaryNoSecondaryOk, "NotPrimaryNoSecondaryOk"},
    CodeEntry{ErrorCodes::kHostNotFound, "HostNotFound"},
    CodeEntry{ErrorCodes::kWriteConcernFailed, "WriteConcernFailed"},
    CodeEntry{ErrorCodes::kUnknownReplWriteConcern, "UnknownReplWriteConcern"},
    CodeEntry{ErrorCodes::kFailedToSatisfyReadPreference, "FailedToSatisfyReadPreference"},
    CodeEntry{ErrorCodes::kReadConcernMajorityNotAvailableYet, "ReadConcernMajorityNotAvailableYet"},
    CodeEntry{ErrorCodes::kClientMetadataCannotBeMutated, "ClientMetadataCannotBeMutated"},
    CodeEntry{ErrorCodes::kPrimarySteppedDown, "PrimarySteppedDown"},
    CodeEntry{ErrorCodes::kIllegalOpMsgFlag, "IllegalOpMsgFlag"},
    CodeEntry{ErrorCodes::kRetryChangeStream, "RetryChangeStream"},
    CodeEntry{ErrorCodes::kChecksumMismatch, "ChecksumMismatch"},
    CodeEntry{ErrorCodes::kSocketException, "SocketException"},
    CodeEntry{ErrorCodes::kInterruptedDueToReplStateChange, "InterruptedDueToReplStateChange"},
    CodeEntry{ErrorCodes::kNotPrimaryOrSecondary, "NotPrimaryOrSecondary"},
    CodeEntry{ErrorCodes::kFailPointSetFailed, "FailPointSetFailed"},
    CodeEntry{ErrorCodes::kUnsupportedOpQueryCommand, "UnsupportedOpQueryCommand"},
};

const std::unordered_map<int32_t, std::string_view>& NameByCode() {
  static const auto* map = [] {
    auto* m = new std::unordered_map<int32_t, std::string_view>();
    for (const auto& e : kCodeTable) m->emplace(static_cast<int32_t>(e.code), e.name);
    return m;
  }();
  return *map;
}

}  // namespace

std::string_view CodeName(int32_t code) {
  const auto& map = NameByCode();
  if (auto it = map.find(code); it != map.end()) return it->second;
  // Location codes: MongoDB names them "Location<N>". Interned so the view stays valid.
  static std::mutex mu;
  static std::deque<std::string> interned;
  static std::unordered_map<int32_t, std::string_view> location_names;
  std::lock_guard lock(mu);
  if (auto it = location_names.find(code); it != location_names.end()) return it->second;
  interned.push_back("Location" + std::to_string(code));
  return location_names.emplace(code, interned.back()).first->second;
}

}  // namespace brook
