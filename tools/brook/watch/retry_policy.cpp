#include "watch/retry_policy.h"

#include <mongoc/mongoc.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace brook::watch {
namespace {

// Codes the change-streams spec treats as resumable on servers that predate the
// ResumableChangeStreamError label (before 4.4).
constexpr int32_t kResumableCodes[] = {
    6,      // HostUnreachable
    7,      // HostNotFound
    89,     // NetworkTimeout
    91,     // ShutdownInProgress
    189,    // PrimarySteppedDown
    262,    // ExceededTimeLimit
    9001,   // SocketException
    10107,  // NotWritablePrimary
    11600,  // InterruptedAtShutdown
    11602,  // InterruptedDueToReplStateChange
    13435,  // NotPrimaryNoSecondaryOk
    13436,  // NotPrimaryOrSecondary
    63,     // StaleShardVersion
    150,    // StaleEpoch
    13388,  // StaleConfig
    234,    // RetryChangeStream
    133,    // FailedToSatisfyReadPreference
    43,     // CursorNotFound
};

bool HasLabel(const bson_t* reply, const char* label) {
  bson_iter_t it, child;
  if (!reply || !bson_iter_init_find(&it, reply, "errorLabels") || !BSON_ITER_HOLDS_ARRAY(&it)) return false;
  if (!bson_iter_recurse(&it, &child)) return false;
  while (bson_iter_next(&child)) {
    if (BSON_ITER_HOLDS_UTF8(&child) && std::strcmp(bson_iter_utf8(&child, nullptr), label) == 0) return true;
  }
  return false;
}

}  // namespace

ErrorClass ClassifyStreamError(const bson_error_t& error, const bson_t* reply) {
  if (error.domain == MONGOC_ERROR_STREAM || error.domain == MONGOC_ERROR_SERVER_SELECTION) {
    return ErrorClass::kResumable;  // network: the server went away or was not reachable
  }
  int32_t code = static_cast<int32_t>(error.code);
  if (reply) {
    bson_iter_t it;
    if (bson_iter_init_find(&it, reply, "code") && BSON_ITER_HOLDS_NUMBER(&it))
      code = static_cast<int32_t>(bson_iter_as_int64(&it));
  }
  if (code == 286) return ErrorClass::kHistoryLost;  // ChangeStreamHistoryLost
  if (code == 280) return ErrorClass::kFatal;        // ChangeStreamFatalError
  if (HasLabel(reply, "ResumableChangeStreamError")) return ErrorClass::kResumable;
  // A server that labels errors (4.4+) said this one is not resumable; only older
  // servers' codes fall back to the list. Both kinds reach here only without the label.
  if (HasLabel(reply, "NonResumableChangeStreamError")) return ErrorClass::kFatal;
  if (error.domain == MONGOC_ERROR_SERVER || error.domain == MONGOC_ERROR_QUERY) {
    if (reply && bson_has_field(reply, "errorLabels")) return ErrorClass::kFatal;
    for (int32_t c : kResumableCodes)
      if (c == code) return ErrorClass::kResumable;
  }
  return ErrorClass::kFatal;
}

const char* ErrorClassName(ErrorClass c) {
  switch (c) {
    case ErrorClass::kResumable:
      return "resumable";
    case ErrorClass::kHistoryLost:
      return "history lost";
    case ErrorClass::kFatal:
      return "not resumable";
  }
  return "?";
}

Backoff::Backoff(BackoffConfig config, uint64_t seed) : config_(config), rng_(seed) {}

std::chrono::milliseconds Backoff::Base(int64_t n) const {
  double base = static_cast<double>(config_.initial.count()) * std::pow(config_.multiplier, static_cast<double>(n));
  double cap = static_cast<double>(config_.max.count());
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(base, cap)));
}

std::chrono::milliseconds Backoff::Next() {
  int64_t base = Base(attempts_).count();
  ++attempts_;
  double jitter = std::clamp(config_.jitter, 0.0, 1.0);
  int64_t low = static_cast<int64_t>(static_cast<double>(base) * (1.0 - jitter));
  std::uniform_int_distribution<int64_t> dist(low, base);
  return std::chrono::milliseconds(dist(rng_));
}

}  // namespace brook::watch
