#include "watch/delivery.h"

#include <thread>

namespace brook::watch {

Delivery::Delivery(Sink* sink, CheckpointStore* store, StatusReporter* reporter, BackoffConfig backoff,
                   const std::atomic<bool>* stop)
    : sink_(sink), store_(store), reporter_(reporter), backoff_config_(backoff), stop_(stop) {}

bool Delivery::SleepInterruptibly(std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (stop_ && stop_->load()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(50)));
  }
  return true;
}

Status Delivery::DeliverAndSave(const std::vector<std::string>& lines, Checkpoint next) {
  Backoff backoff(backoff_config_);
  size_t done = 0;
  std::vector<std::string> rest;
  const std::vector<std::string>* pending = &lines;
  while (done < lines.size()) {
    size_t acked = 0;
    Status s = sink_->Deliver(*pending, &acked);
    done += acked;
    if (s.ok()) break;
    if (!sink_->RetryOnError()) return s;
    if (backoff.Exhausted())
      return s.WithContext("giving up after " + std::to_string(backoff.attempts()) + " retries (--max-retries)");
    auto delay = backoff.Next();
    if (reporter_)
      reporter_->Log(s.reason() + "; " + std::to_string(lines.size() - done) + " events unacknowledged, retry " +
                     std::to_string(backoff.attempts()) + " in " + std::to_string(delay.count()) + " ms");
    if (!SleepInterruptibly(delay))
      return Status(ErrorCodes::kInterrupted, "stopped while the sink was failing: " + s.reason());
    rest.assign(lines.begin() + static_cast<std::ptrdiff_t>(done), lines.end());
    pending = &rest;
  }
  return Save(std::move(next));
}

Status Delivery::Save(Checkpoint next) {
  if (auto off = sink_->Offset()) next.sink_offset = off;
  Backoff backoff(backoff_config_);
  for (;;) {
    Status s = store_->Save(next);
    if (s.ok()) break;
    if (backoff.Exhausted() || (stop_ && stop_->load()))
      return s.WithContext("cannot save the checkpoint to " + store_->Describe());
    auto delay = backoff.Next();
    if (reporter_)
      reporter_->Log("cannot save the checkpoint to " + store_->Describe() + ": " + s.reason() + "; retry " +
                     std::to_string(backoff.attempts()) + " in " + std::to_string(delay.count()) + " ms");
    if (!SleepInterruptibly(delay))
      return s.WithContext("stopped while saving the checkpoint to " + store_->Describe());
  }
  if (reporter_) reporter_->OnCheckpoint(next.Describe());
  last_saved_ = std::move(next);
  has_saved_ = true;
  return Status::OK();
}

}  // namespace brook::watch
