#pragma once
// The one table of MongoDB error codes Brook replies with.
//
// Owns: the numeric code <-> codeName pairing. A reply's codeName is always derived
// from its code through CodeName(), so a code can never travel with the wrong name.
// On-wire fact: the numbers and names are MongoDB's (src/mongo/base/error_codes.yml);
// drivers branch on them, so never renumber. Codes that MongoDB raises only as
// "location" codes (e.g. 40324) are not listed: CodeName() spells them "Location<N>".
// Thread-safety: immutable data.

#include <cstdint>
#include <string_view>

namespace brook {

enum class ErrorCodes : int32_t {
  kOK = 0,
  kInternalError = 1,
  kBadValue = 2,
  kNoSuchKey = 4,
  kHostUnreachable = 6,
  kUnknownError = 8,
  kFailedToParse = 9,
  kCannotMutateObject = 10,
  kUserNotFound = 11,
  kUnsupportedFormat = 12,
  kUnauthorized = 13,
  kTypeMismatch = 14,
  kOverflow = 15,
  kInvalidLength = 16,
  kProtocolError = 17,
  kAuthenticationFailed = 18,
  kIllegalOperation = 20,
  kInvalidBSON = 22,
  kNamespaceNotFound = 26,
  kIndexNotFound = 27,
  kPathNotViable = 28,
  kNonExistentPath = 29,
  kRoleNotFound = 31,
  kConflictingUpdateOperators = 40,
  kCursorNotFound = 43,
  kNoMatchingDocument = 47,
  kNamespaceExists = 48,
  kInvalidRoleModification = 49,
  kMaxTimeMSExpired = 50,
  kDollarPrefixedFieldName = 52,
  kInvalidIdField = 53,
  kNotSingleValueField = 54,
  kEmptyFieldName = 56,
  kDottedFieldName = 57,
  kCommandNotFound = 59,
  kImmutableField = 66,
  kCannotCreateIndex = 67,
  kIndexAlreadyExists = 68,
  kInvalidOptions = 72,
  kInvalidNamespace = 73,
  kIndexOptionsConflict = 85,
  kIndexKeySpecsConflict = 86,
  kNetworkTimeout = 89,
  kShutdownInProgress = 91,
  kOperationFailed = 96,
  kUnsatisfiableWriteConcern = 100,
  kWriteConflict = 112,
  kCommandNotSupported = 115,
  kConflictingOperationInProgress = 117,
  kCommandFailed = 125,
  kCappedPositionLost = 136,
  kInvalidPipelineOperator = 168,
  kDocumentValidationFailure = 121,
  kIncompatibleCollationVersion = 161,
  kViewDepthLimitExceeded = 165,
  kCommandNotSupportedOnView = 166,
  kOptionNotSupportedOnView = 167,
  kCannotIndexParallelArrays = 171,
  kInvalidIndexSpecificationOption = 197,
  kNoSuchSession = 206,
  kQueryFeatureNotAllowed = 224,
  kIncompleteTransactionHistory = 217,
  kTransactionTooOld = 225,
  kNoSuchTransaction = 251,
  kTransactionCommitted = 256,
  kTransactionTooLarge = 257,
  kInvalidResumeToken = 260,
  kExceededTimeLimit = 262,
  kOperationNotSupportedInTransaction = 263,
  kTooManyLogicalSessions = 261,
  kChangeStreamFatalError = 280,
  kChangeStreamHistoryLost = 286,
  kTransactionExceededLifetimeLimitSeconds = 290,
  kQueryExceededMemoryLimitNoDiskUseAllowed = 292,
  kConversionFailure = 241,
  kAPIStrictError = 323,
  kAPIVersionError = 322,
  kAPIDeprecationError = 324,
  kMechanismUnavailable = 334,
  kNotWritablePrimary = 10107,
  kBSONObjectTooLarge = 10334,
  kDuplicateKey = 11000,
  kInterruptedAtShutdown = 11600,
  kInterrupted = 11601,
  kNotPrimaryNoSecondaryOk = 13435,
  kClientDisconnect = 279,
  kCursorKilled = 237,
  kUnsupportedOpQueryCommand = 352,
  kFailPointSetFailed = 157,
  kHostNotFound = 7,
  kWriteConcernFailed = 64,
  kUnknownReplWriteConcern = 79,
  kFailedToSatisfyReadPreference = 133,
  kReadConcernMajorityNotAvailableYet = 134,
  kClientMetadataCannotBeMutated = 186,
  kPrimarySteppedDown = 189,
  kIllegalOpMsgFlag = 223,
  kRetryChangeStream = 234,
  kChecksumMismatch = 282,
  kSocketException = 9001,
  kInterruptedDueToReplStateChange = 11602,
  kNotPrimaryOrSecondary = 13436,
};

// Returns MongoDB's codeName for `code`, or "Location<code>" for codes not in the table.
std::string_view CodeName(int32_t code);

// The error labels MongoDB attaches to replies; spelled once here.
namespace labels {
inline constexpr std::string_view kTransientTransactionError = "TransientTransactionError";
inline constexpr std::string_view kUnknownTransactionCommitResult = "UnknownTransactionCommitResult";
inline constexpr std::string_view kResumableChangeStreamError = "ResumableChangeStreamError";
inline constexpr std::string_view kNonResumableChangeStreamError = "NonResumableChangeStreamError";
inline constexpr std::string_view kRetryableWriteError = "RetryableWriteError";
}  // namespace labels

}  // namespace brook
