#pragma once
// ChangeStreamCursor: one open change stream, reading the oplog through the stages.
//
// Owns: the stream's position in the oplog, its per-cursor stage objects (stages.h), the
// events already built but not yet returned, and its postBatchResumeToken.
// Reading: Open() seeks the oplog at the start point (RocksDB seek to the token's
// clusterTime, never a scan from the start); NextBatch() reads entries up to the durable
// watermark as of the call, runs them through the stages, and returns. It never blocks:
// when it reaches the durable watermark it returns what it has, and the command layer
// waits (waiters module) until Engine::durable() >= next_scan_ts() or maxTimeMS, then
// calls NextBatch again.
// Ordering: the tokens of delivered events strictly increase; postBatchResumeToken never
// goes backwards. With nothing to return it is a high-water mark just past what was
// scanned, so it moves forward even when no event matched.
// Start of a new ("now") stream: one tick after the visible watermark (MongoDB's
// lastApplied + 1: what was acknowledged before the stream opened is not reported),
// and its first postBatchResumeToken is the high-water mark at that point.
// Errors carry MongoDB's codes and labels (280/286 NonResumableChangeStreamError). An
// error is sticky: the cursor returns it again on every later call.
// Many streams: with an OplogTailer (tailer.h) a cursor reads entries the tailer already
// decoded: from the window while catching up (keeping only entries whose events may
// match its RouteKey once its resume point is behind it), then, armed at the window's
// head, from the queue the tailer fills with the entries routed to it. A cursor older
// than the window (resuming far back, or a slow one whose queue overflowed and fell out
// of the window) reads the oplog with its own iterator, exactly as without a tailer, and
// switches to the window when it reaches it: both sources are in ts order and the
// cursor's position is a ts, so the switch neither skips nor repeats an entry. Stages
// 1..11 always run per cursor on the shared entries (stage 3 reuses the tailer's event
// unless the stream's options change it), so events are the same with or without it.
// Thread-safety: one thread at a time (the command layer pins the cursor per getMore).

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "bson/document.h"
#include "changestream/plan.h"
#include "changestream/resume_token.h"
#include "changestream/stages.h"
#include "changestream/tailer.h"
#include "util/status.h"

namespace brook::storage {
class Engine;
}

namespace brook::changestream {

class ChangeStreamHost;

struct ChangeStreamBatch {
  std::vector<bson::Doc> events;
  bson::Doc post_batch_resume_token;  // {_data: "<hex>"}
  // The stream ended with this batch (after an invalidate): reply with cursor id 0.
  bool invalidated = false;
};

class ChangeStreamCursor {
 public:
  // Caps the oplog entries one NextBatch reads, so a far-behind stream answers in bounded
  // time (with a high-water mark) instead of scanning the whole oplog in one getMore.
  static constexpr size_t kMaxEntriesPerBatch = 10000;

  // `host` and `engine` must outlive the cursor. Fails with 286 ChangeStreamHistoryLost
  // when the oplog no longer reaches back to the start point.
  // With `tailer` (optional; it must outlive the cursor) the cursor registers with it.
  static StatusWith<std::unique_ptr<ChangeStreamCursor>> Open(std::shared_ptr<const ChangeStreamPlan> plan,
                                                              ChangeStreamHost* host, storage::Engine* engine,
                                                              OplogTailer* tailer = nullptr);
  ~ChangeStreamCursor();

  // Up to `max_events` events and about `max_bytes` bytes (the first event always fits).
  // max_events 0 returns no event but still a current postBatchResumeToken (an aggregate
  // with batchSize 0 only positions the stream).
  StatusWith<ChangeStreamBatch> NextBatch(size_t max_events, size_t max_bytes);

  const ResumeToken& post_batch_resume_token() const { return pbrt_; }
  bool invalidated() const { return invalidated_; }
  // New events may exist once Engine::durable() >= this: what a waiting getMore waits for.
  bson::Timestamp next_scan_ts() const { return next_ts_; }
  // Whether built events are waiting (a getMore should not wait then).
  bool has_buffered_events() const { return !pending_.empty() || !routed_.empty(); }
  // When armed at the tailer's head: the flag the tailer raises when an entry that may
  // match arrives. A waiting getMore waits on it instead of on every durable move. Null
  // otherwise (wait for durable >= next_scan_ts()).
  std::shared_ptr<const std::atomic<bool>> wake_signal() const;
  const ChangeStreamPlan& plan() const { return *plan_; }

 private:
  ChangeStreamCursor() = default;
  Status ProcessEntry(std::string_view raw);
  Status ProcessWindowEntry(const WindowEntry& entry);
  // Stages 4-11 on one event; results go to pending_.
  Status RunStages(ChangeEvent event);
  // Reads entries through the tailer until the batch is full or nothing is left;
  // false when the cursor must read the oplog itself (behind the window, or failed).
  StatusWith<bool> ReadThroughTailer(const std::function<bool()>& drain);
  // The cursor's own oplog read (no tailer, or behind the window). Returns whether it
  // read everything up to the durable watermark.
  StatusWith<bool> ReadOplog(const std::function<bool()>& drain);
  bool ResumeSettled() const;

  std::shared_ptr<const ChangeStreamPlan> plan_;
  ChangeStreamHost* host_ = nullptr;
  storage::Engine* engine_ = nullptr;
  std::unique_ptr<OplogMatchStage> match_;
  std::unique_ptr<UnwindTransactionStage> unwind_;
  std::unique_ptr<TransformStage> transform_;
  std::vector<std::unique_ptr<EventStage>> stages_;

  OplogTailer* tailer_ = nullptr;
  std::shared_ptr<StreamSlot> slot_;
  bool armed_ = false;  // our view of slot_'s state: reading from its queue
  const EnsureResumeTokenPresentStage* ensure_token_ = nullptr;
  std::deque<WindowEntryPtr> routed_;  // entries taken from the window or queue, not yet read
  bson::Timestamp routed_through_;     // once routed_ is read, every entry up to here is

  bson::Timestamp next_ts_;  // the next oplog timestamp to read (inclusive)
  // An event that came out of stage 11, waiting for a batch: only what NextBatch needs
  // (a StreamItem is large; a deque of them allocates per element).
  struct ReadyEvent {
    std::optional<bson::Doc> doc;  // none: a silent end of stream
    ResumeToken token;
    bool ends_stream = false;
  };
  std::deque<ReadyEvent> pending_;
  // Scratch reused from event to event (their capacity stays): stage 2's operations and
  // what stages 4-11 make of one event.
  std::vector<OplogEntry> ops_;
  std::vector<StreamItem> stage_out_;
  ResumeToken pbrt_ = ResumeToken::HighWaterMark({});
  bool invalidated_ = false;
  Status error_;
};

// The MongoDB error labels for an error a change-stream aggregate or getMore returns:
// NonResumableChangeStreamError for 280/286, ResumableChangeStreamError (getMore only)
// for the codes MongoDB deems resumable (network, not-primary, shutdown, 234, 133, ...).
Status AddChangeStreamErrorLabels(Status status, bool is_get_more);
bool IsResumableChangeStreamErrorCode(int32_t code);

}  // namespace brook::changestream
