#pragma once
// Retry policy of `brook watch`: which stream errors are resumable, and how long to wait
// between attempts (exponential backoff with jitter, capped).
//
// Owns: the classification of change-stream errors, following the MongoDB change-streams
// spec (a network error, the ResumableChangeStreamError label, or, for servers before 4.4,
// a code in the spec's list; ChangeStreamHistoryLost 286 is its own class because the
// resume point is gone and resuming cannot help).
// Thread-safety: a Backoff is used by one thread; Classify is pure.

#include <bson/bson.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

namespace brook::watch {

enum class ErrorClass { kResumable, kHistoryLost, kFatal };

// `error` as returned by mongoc (domain, code, message); `reply` the server's error
// document if any (may be null or empty).
ErrorClass ClassifyStreamError(const bson_error_t& error, const bson_t* reply);
const char* ErrorClassName(ErrorClass c);

struct BackoffConfig {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{30000};
  double multiplier = 2.0;
  // The delay is drawn uniformly from [base * (1 - jitter), base], base growing from
  // `initial` by `multiplier` up to `max`: many watchers restarting together spread out.
  double jitter = 0.5;
  int64_t max_attempts = 0;  // consecutive failures before giving up; 0 = never
};

class Backoff {
 public:
  explicit Backoff(BackoffConfig config, uint64_t seed = std::random_device{}());
  // The delay before the next attempt; counts one attempt.
  std::chrono::milliseconds Next();
  // After a success: the next failure starts again from `initial`.
  void Reset() { attempts_ = 0; }
  int64_t attempts() const { return attempts_; }
  bool Exhausted() const { return config_.max_attempts > 0 && attempts_ >= config_.max_attempts; }
  // The un-jittered delay for attempt n (0-based), capped.
  std::chrono::milliseconds Base(int64_t n) const;

 private:
  BackoffConfig config_;
  std::mt19937_64 rng_;
  int64_t attempts_ = 0;
};

}  // namespace brook::watch
