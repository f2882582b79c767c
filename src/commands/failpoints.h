#pragma once
// Failpoints: named switches tests turn on with configureFailPoint (test commands only)
// to make the server fail on purpose, as MongoDB's test suites and drivers' spec tests
// expect.
//
// Owns: the registry of failpoint names, their modes ("off", "alwaysOn", {times: n},
// {skip: n}, {activationProbability: p}) and data, and the evaluation of MongoDB's
// `failCommand` failpoint (which commands it hits, which error, labels, delay, closing
// the connection, writeConcernError).
// Mode semantics follow MongoDB: a check whose predicate does not match the data does
// not count; {times: n} turns itself off after n activations; {skip: n} lets the first
// n matching checks pass, then is always on.
// Thread-safety: internally locked. A check when no failpoint is on is one atomic load.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bson/document.h"
#include "util/status.h"

namespace brook::commands {

class OperationContext;

inline constexpr std::string_view kFailCommand = "failCommand";
// getMore consults it right after checking its cursor out: data {errorCode}.
inline constexpr std::string_view kFailGetMoreAfterCursorCheckout = "failGetMoreAfterCursorCheckout";
// Every command with a maxTimeMS fails with MaxTimeMSExpired (50).
inline constexpr std::string_view kMaxTimeAlwaysTimeOut = "maxTimeAlwaysTimeOut";
// Checked as each retryable-write statement is about to commit: data {closeConnection
// (default true), failBeforeCommitExceptionCode}. Closing after a commit makes the
// driver retry a write that already happened; the exception code fails it uncommitted.
inline constexpr std::string_view kOnPrimaryTransactionalWrite = "onPrimaryTransactionalWrite";

struct FailPointHit {
  bson::Doc data;
};

class FailPoints {
 public:
  FailPoints();  // registers the names above

  // Adds a failpoint name (other layers register theirs at startup).
  void Register(std::string_view name);
  bool Known(std::string_view name) const;

  // configureFailPoint: sets mode and data. Returns how many times the failpoint fired
  // under its previous setting (MongoDB's `count`). FailPointSetFailed (157) for an
  // unknown name, BadValue for a malformed mode.
  StatusWith<int64_t> Configure(std::string_view name, const bson::Element& mode, bson::View data);

  // Evaluates once: the data when the failpoint fires, nullopt otherwise.
  std::optional<FailPointHit> Check(std::string_view name) { return Evaluate(name, nullptr); }
  // As Check, but only checks for which pred(data) is true count as an evaluation.
  // Every command asks, nearly always with every failpoint off: that costs one atomic
  // load, and the predicate is passed by reference (no std::function is allocated).
  template <typename Pred>
  std::optional<FailPointHit> CheckIf(std::string_view name, const Pred& pred) {
    if (active_.load(std::memory_order_relaxed) == 0) return std::nullopt;
    const std::function<bool(bson::View)> by_ref = std::cref(pred);
    return Evaluate(name, &by_ref);
  }

 private:
  // Check and CheckIf; `pred` may be null.
  std::optional<FailPointHit> Evaluate(std::string_view name,
                                       const std::function<bool(bson::View data)>* pred);

  enum class Mode { kOff, kAlwaysOn, kTimes, kSkip, kRandom };
  struct State {
    Mode mode = Mode::kOff;
    int64_t n = 0;
    double probability = 0;
    bson::Doc data;
    int64_t times_entered = 0;
  };
  void SetOffLocked(State& s);

  mutable std::mutex mu_;
  std::map<std::string, State, std::less<>> points_;
  std::atomic<int> active_{0};
  std::mt19937_64 rng_{0x5eed};
};

// What the failCommand failpoint asks the dispatcher to do before running a command.
struct FailCommandAction {
  bool close_connection = false;
  std::chrono::milliseconds block{0};  // sleep (asynchronously) this long first
  std::optional<Status> error;         // then fail with this (labels already decided)
};

// MongoDB's evaluateFailCommandFailPoint: fires when `command_name` (or its canonical
// `spec_name`) is in data.failCommands, the client's appName matches data.appName (if
// given), the namespace matches data.namespace (if given), and the data asks for
// closeConnection, blockConnection or errorCode. configureFailPoint itself is never
// failed. `body` is the request, used for the namespace and error labels.
std::optional<FailCommandAction> EvaluateFailCommand(FailPoints& fps, OperationContext& op,
                                                     std::string_view command_name,
                                                     std::string_view spec_name, bson::View body);

// After the command ran: the writeConcernError failCommand asks to append, if any.
struct FailCommandWriteConcernError {
  bson::Doc error;                     // the writeConcernError document, as configured
  std::vector<std::string> labels;     // top-level errorLabels for the reply
};
std::optional<FailCommandWriteConcernError> EvaluateFailCommandWriteConcernError(
    FailPoints& fps, OperationContext& op, std::string_view command_name,
    std::string_view spec_name, bson::View body);

}  // namespace brook::commands
