#pragma once
// The change stream as `brook watch` consumes it: an interface (so the processor loop can
// be tested with a scripted stream) and its libmongoc implementation, which opens the
// stream with mongoc_collection_watch / mongoc_database_watch / mongoc_client_watch by
// scope and reads it with mongoc_change_stream_next.
//
// Owns: the start point (resumeAfter / startAfter / startAtOperationTime / now) and the
// watch options document. Protocol facts relied on: after every server batch the driver's
// cached resume token (mongoc_change_stream_get_resume_token) is the batch's
// postBatchResumeToken once the batch is exhausted, else the last event's _id; an empty
// getMore makes mongoc_change_stream_next return false with no error.
// Thread-safety: a source is used by one thread (the reader).

#include <mongoc/mongoc.h>

#include <memory>
#include <optional>
#include <string>

#include "watch/bson_util.h"
#include "watch/checkpoint.h"
#include "watch/options.h"
#include "watch/retry_policy.h"

namespace brook::watch {

struct StartPoint {
  enum class Kind { kNow, kResumeAfter, kStartAfter, kStartAtOperationTime };
  Kind kind = Kind::kNow;
  BsonDoc token;
  ClusterTime time;

  // Where a saved checkpoint says to continue (its token, else its operation time).
  static StartPoint FromCheckpoint(const Checkpoint& cp);
  std::string Describe() const;
};

// The opts document for mongoc_*_watch: fullDocument, fullDocumentBeforeChange,
// batchSize, maxAwaitTimeMS and the start point.
BsonDoc BuildWatchOpts(const WatchOptions& o, const StartPoint& start);

struct StreamError {
  bson_error_t error{};
  BsonDoc reply;  // the server's error document, if any
  ErrorClass cls = ErrorClass::kFatal;
  std::string Message() const;  // "HostUnreachable (6): connection refused [labels: ...]"
};

class ChangeSource {
 public:
  enum class Next { kEvent, kEmptyBatch, kError };
  virtual ~ChangeSource() = default;
  // Opens (or reopens) the stream at `start`; false with error() set on failure.
  virtual bool Open(const StartPoint& start) = 0;
  // The next event (valid until the next call), or an exhausted empty batch, or an error.
  virtual Next NextEvent(const bson_t** event) = 0;
  // The driver's cached resume token (see above); null before any is known.
  virtual const bson_t* ResumeToken() = 0;
  virtual const StreamError& error() const = 0;
  virtual void Close() = 0;
  // The server's current cluster time, for the lag display and a token-less "now" start.
  virtual std::optional<ClusterTime> ServerTime() = 0;
};

// A libmongoc source. Owns its own mongoc_client_t (error API version 2).
std::unique_ptr<ChangeSource> MakeMongocSource(const WatchOptions& o);

// A client for the processor's own commands (checkpoint store, initial sync, time probe).
// Returns null and sets *error when the URI is unusable.
mongoc_client_t* NewClient(const std::string& uri, std::string* error);

// The server's cluster time from a ping reply (operationTime, else $clusterTime).
std::optional<ClusterTime> ProbeServerTime(mongoc_client_t* client);

}  // namespace brook::watch
