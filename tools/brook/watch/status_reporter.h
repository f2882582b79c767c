#pragma once
// The status line of `brook watch` on stderr: on a terminal a live line redrawn in place
// ("\r... \x1b[K"), otherwise one JSON object per period, e.g.
//   {"status":"streaming","events":1200,"eventsPerSec":410.5,"lagSecs":0,"checkpoint":"...","time":"..."}
//
// Owns: rate and lag arithmetic, and rendering. Rate is events over the last period; lag
// is the server's latest cluster time minus the cluster time of the last processed event
// (0 when the stream is idle at the head).
// Thread-safety: one thread (the processor) calls everything.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace brook::watch {

struct StatusSnapshot {
  std::string state;  // "streaming", "initial sync", "resuming (attempt 3)", "stopped"
  int64_t total_events = 0;
  double events_per_sec = 0;
  std::optional<double> lag_secs;  // unknown until the server's time was seen
  std::string checkpoint;          // short description of the last checkpoint
};

std::string RenderTtyLine(const StatusSnapshot& s);
std::string RenderJsonLine(const StatusSnapshot& s, std::chrono::system_clock::time_point now);

class StatusReporter {
 public:
  enum class Mode { kTty, kJson, kOff };
  using Clock = std::chrono::steady_clock;

  StatusReporter(Mode mode, std::chrono::milliseconds interval, FILE* out = stderr);

  void SetState(std::string state) { snap_.state = std::move(state); }
  // `n` events processed; `last_event_secs` the cluster time (seconds) of the last one.
  void OnEvents(int64_t n, std::optional<uint32_t> last_event_secs);
  // The stream is idle at the head of the oplog (an empty batch): no lag.
  void OnIdle() { caught_up_ = true; }
  // The server's current cluster time (seconds), from a periodic probe.
  void OnServerTime(uint32_t secs) { server_secs_ = secs; }
  void OnCheckpoint(std::string description) { snap_.checkpoint = std::move(description); }
  // Prints when the period elapsed; returns true if it printed.
  bool MaybeReport(Clock::time_point now);
  // A log line ("brook watch: msg") on the same stream, clearing a live line first.
  void Log(const std::string& msg);
  // Final line (ends the live line with a newline on a terminal).
  void Finish(Clock::time_point now);

  const StatusSnapshot& snapshot() const { return snap_; }
  bool DueForServerTime(Clock::time_point now) const { return now >= next_report_; }

 private:
  void Compute(Clock::time_point now);
  void Print(Clock::time_point now);

  Mode mode_;
  std::chrono::milliseconds interval_;
  FILE* out_;
  StatusSnapshot snap_;
  Clock::time_point last_report_;
  Clock::time_point next_report_;
  int64_t events_at_last_report_ = 0;
  std::optional<uint32_t> last_event_secs_;
  std::optional<uint32_t> server_secs_;
  bool caught_up_ = false;
  bool printed_tty_ = false;
};

}  // namespace brook::watch
