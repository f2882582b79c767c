#pragma once
// The processor loop of `brook watch`.
//
// Two threads. The reader owns the ChangeSource: it pulls events and queues each with
// the resume token that follows it (formatting each as one Extended JSON line is left to
// the processor thread, so it overlaps the reader's wait for the next batch);
// after an empty batch it queues a heartbeat carrying the fresh postBatchResumeToken.
// It resumes resumable errors itself (reopening after its last token, with backoff).
// The processor thread drains whatever is queued as one batch, delivers it (Delivery:
// sink first, checkpoint after), and so checkpoints after every batch, empty ones too
// (when the token moved), which keeps an idle stream's checkpoint at the oplog head.
//
// Start: a saved checkpoint resumes (resumeAfter / startAfter its token, or
// startAtOperationTime its time, or continues an interrupted initial copy). Without one,
// the start flags apply (default: now), and that first position is checkpointed before
// any event is delivered.
// Stop: when *stop becomes true the batch in hand is finished and checkpointed; Run
// returns kExitOk.
// Thread-safety: Run is called once, from one thread.

#include <atomic>
#include <functional>
#include <memory>

#include "watch/change_source.h"
#include "watch/checkpoint.h"
#include "watch/delivery.h"
#include "watch/options.h"
#include "watch/sink.h"
#include "watch/status_reporter.h"

namespace brook::watch {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,
  kExitUsage = 2,
  kExitHistoryLost = 3,
};

// Copies the scope's current documents as snapshot events, then returns the time to
// stream from. Injected so the processor can be tested without a server.
class InitialSyncRunner {
 public:
  virtual ~InitialSyncRunner() = default;
  struct Result {
    bool stopped = false;  // a stop was requested: progress is checkpointed, exit 0
    ClusterTime stream_from;
  };
  // Starts a fresh copy when cp.initial_sync is empty, else continues it; delivers through
  // `delivery` and checkpoints progress there, finishing with {operationTime: stream_from}.
  virtual StatusWith<Result> Run(Checkpoint cp, Delivery* delivery) = 0;
};

struct ProcessorDeps {
  std::function<std::unique_ptr<ChangeSource>()> make_source;
  Sink* sink = nullptr;
  CheckpointStore* store = nullptr;
  StatusReporter* reporter = nullptr;
  InitialSyncRunner* initial_sync = nullptr;  // needed for --initial-sync and resync
  const std::atomic<bool>* stop = nullptr;
};

class Processor {
 public:
  Processor(const WatchOptions& options, ProcessorDeps deps);
  ~Processor();
  int Run();

  // Limits of one processed batch (tests shrink them).
  size_t max_batch_events = 10000;
  size_t max_batch_bytes = 16 << 20;

 private:
  class Reader;
  int StreamFrom(StartPoint start, Delivery* delivery);
  int RunInitialSync(Checkpoint cp, Delivery* delivery);
  BackoffConfig Backoffs() const;
  int Fail(const std::string& msg);

  WatchOptions options_;
  ProcessorDeps deps_;
};

}  // namespace brook::watch
