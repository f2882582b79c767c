#pragma once
// Delivery: hands a batch to the sink and then saves the checkpoint, in that order, so a
// checkpoint never runs ahead of what the sink acknowledged (file sinks: appended and
// fsynced, and the checkpoint records the resulting offset).
//
// Owns: retries of sink deliveries and checkpoint saves (exponential backoff with jitter,
// logged), and the last saved checkpoint. A sink whose errors are not retryable (file,
// stdout) fails at once.
// Thread-safety: the processor thread only.

#include <atomic>
#include <string>
#include <vector>

#include "util/status.h"
#include "watch/checkpoint.h"
#include "watch/retry_policy.h"
#include "watch/sink.h"
#include "watch/status_reporter.h"

namespace brook::watch {

class Delivery {
 public:
  Delivery(Sink* sink, CheckpointStore* store, StatusReporter* reporter, BackoffConfig backoff,
           const std::atomic<bool>* stop);

  // Delivers `lines` (retrying a retryable sink until every line is acknowledged), then
  // saves `next` with the sink's offset filled in. Returns an error when the sink failed
  // for good, retries were exhausted, or a stop was requested while retrying (then
  // nothing past the previous checkpoint was saved: at-least-once sinks redeliver).
  Status DeliverAndSave(const std::vector<std::string>& lines, Checkpoint next);
  // Saves `next` (with the sink's offset) without delivering anything.
  Status Save(Checkpoint next);

  const Checkpoint& last_saved() const { return last_saved_; }
  bool has_saved() const { return has_saved_; }
  void set_last_saved(Checkpoint cp) {
    last_saved_ = std::move(cp);
    has_saved_ = true;
  }
  Sink* sink() const { return sink_; }

 private:
  bool SleepInterruptibly(std::chrono::milliseconds d);

  Sink* sink_;
  CheckpointStore* store_;
  StatusReporter* reporter_;
  BackoffConfig backoff_config_;
  const std::atomic<bool>* stop_;
  Checkpoint last_saved_;
  bool has_saved_ = false;
};

}  // namespace brook::watch
