#pragma once
// OplogTailer: one reader of the oplog for every change stream ("one reader, many
// cursors", docs/change-streams.md).
//
// Owns:
//   - a thread that follows the durable watermark (Notify() after it moves) and decodes
//     each durable oplog entry once: parse, unwind (all of a transaction's operations,
//     each with its txnOpIndex) and the stage-3 transform in one common form (collection
//     scope, no expanded fields), so one entry may carry several events; an event's
//     position is (ts, txnOpIndex);
//   - the window: those entries in ts order, complete from covered_from() to head(),
//     bounded by bytes and entry count (oldest dropped first);
//   - the routing index: each open stream's slot, filed under its scope and the most
//     selective equality of its RouteKey (documentKey._id, then a fullDocument field,
//     then operationType, else "any"). A new entry is offered only to the slots its
//     events can match: the slot queues the entry and raises its wake signal; the others
//     are not touched.
// Cursors (cursor.cpp) read entries from the window or their queue and run their own
// stages 1..11 on them, so no delivered event depends on routing: a routed entry may
// still be filtered by the stream's stages; an entry not routed surely would have been.
// A slot is "armed" once its cursor has read every entry up to the head at arming time;
// from then on everything it may need arrives in its queue. A queue longer than
// kMaxQueued disarms the slot (overflow) and the cursor reads the window (or, when far
// behind, the oplog) again.
// Decoding only happens while at least one stream is registered; with none the window
// stays empty and just follows the watermark. While any is registered the engine syncs
// promptly (Engine::SetPromptSync): no gathering delay between a commit and its fsync.
// Errors: an oplog read error stops the tailer for good (failed()); every slot is woken
// and cursors read the oplog themselves, as before the tailer existed.
// Thread-safety: all public methods are thread-safe; one mutex guards window, index and
// queues, held only for pointer work (never for decoding or a cursor's stages).

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bson/document.h"
#include "changestream/event.h"
#include "changestream/route_key.h"
#include "util/status.h"

namespace brook::storage {
class Engine;
}

namespace brook::changestream {

// One operation of a window entry: the raw operation and its event in the common form.
struct WindowOp {
  OplogEntry op;                             // views into WindowEntry::raw
  std::shared_ptr<const ChangeEvent> event;  // null: no event, or the transform failed
  Status error;                              // the common transform's error
};

// One durable oplog entry, decoded once. Immutable once published.
struct WindowEntry {
  bson::Timestamp ts;
  bson::Doc raw;
  Status error;       // parsing or unwinding failed: every stream reading it fails
  OplogEntry entry;   // the top-level entry (views into raw), when error is OK
  std::vector<WindowOp> ops;
  size_t bytes = 0;
};

using WindowEntryPtr = std::shared_ptr<const WindowEntry>;

// A registered stream, as the tailer sees it.
class StreamSlot {
 public:
  explicit StreamSlot(RouteKey key) : key_(std::move(key)), signal_(std::make_shared<std::atomic<bool>>(false)) {}
  const RouteKey& key() const { return key_; }
  // Raised when an entry was queued for the stream (or it must re-read): what a waiting
  // getMore waits on instead of every move of the durable watermark.
  std::shared_ptr<const std::atomic<bool>> signal() const { return signal_; }

 private:
  friend class OplogTailer;
  RouteKey key_;
  std::shared_ptr<std::atomic<bool>> signal_;
  // Guarded by OplogTailer::mu_.
  bool armed_ = false;
  bool overflow_ = false;
  uint64_t stamp_ = 0;  // the last entry it was offered (dedup within one entry)
  std::vector<WindowEntryPtr> queue_;
};

class OplogTailer {
 public:
  static constexpr size_t kDefaultMaxBytes = 64 * 1024 * 1024;
  static constexpr size_t kDefaultMaxEntries = 200000;
  static constexpr size_t kMaxQueued = 512;

  // `engine` must outlive the tailer.
  explicit OplogTailer(storage::Engine* engine, size_t max_bytes = kDefaultMaxBytes,
                       size_t max_entries = kDefaultMaxEntries);
  ~OplogTailer();
  OplogTailer(const OplogTailer&) = delete;
  OplogTailer& operator=(const OplogTailer&) = delete;

  // Runs on the tailer thread after entries were queued for some streams, with their
  // signals (the server wakes the getMores waiting on them). Replaceable at any time; an
  // empty one detaches.
  using Raised = std::vector<const std::atomic<bool>*>;
  using RoutedListener = std::function<void(const Raised&)>;
  void SetRoutedListener(RoutedListener listener);
  // Starts the thread. Tests may instead call Poll() themselves.
  void Start();
  // The durable watermark moved; cheap, any thread.
  void Notify();
  // Reads and publishes every durable entry past head(); what the thread runs.
  void Poll();

  std::shared_ptr<StreamSlot> Register(RouteKey key);
  void Unregister(const std::shared_ptr<StreamSlot>& slot);

  // Reading for a cursor positioned at `next_ts` (the next ts it needs).
  enum class ReadResult {
    kBehind,  // next_ts is older than the window: read the oplog
    kCopied,  // entries appended to *out; the window was read through *through
    kFailed,  // the tailer failed: read the oplog
  };
  // Appends the window's entries with ts >= next_ts (only those whose events may match
  // the slot's key when `filter`) and, when `arm`, arms the slot at the head: from then on
  // entries reach it through TakeQueued. Clears the slot's signal first.
  ReadResult ReadWindow(StreamSlot* slot, bson::Timestamp next_ts, bool filter, bool arm,
                        std::vector<WindowEntryPtr>* out, bson::Timestamp* through);
  // For an armed slot: moves its queue into *out and sets *through to the head; false
  // when the slot overflowed (it is disarmed; read the window again). Clears the signal.
  bool TakeQueued(StreamSlot* slot, std::vector<WindowEntryPtr>* out, bson::Timestamp* through);

  bson::Timestamp head() const;
  bson::Timestamp covered_from() const;
  bool failed() const { return failed_.load(); }
  size_t window_entries() const;
  size_t window_bytes() const;
  size_t streams() const;

 private:
  struct Bucket {
    std::vector<StreamSlot*> any;
    std::map<std::string, std::vector<StreamSlot*>, std::less<>> by_op;
    std::map<std::string, std::vector<StreamSlot*>, std::less<>> by_id;
    // fullDocument path -> KeyString value -> slots
    std::map<std::string, std::map<std::string, std::vector<StreamSlot*>, std::less<>>, std::less<>> by_field;
    size_t size = 0;
  };

  WindowEntryPtr Decode(bson::Timestamp ts, std::string_view raw) const;
  // Where a stream is filed: a map and its key ("db.coll" or "db"), or the cluster bucket
  // (null map).
  struct BucketRef {
    std::map<std::string, Bucket, std::less<>>* map;
    std::string name;
  };
  BucketRef BucketOf(const RouteKey& key);
  Bucket& BucketFor(const BucketRef& ref);
  void Route(const WindowEntryPtr& entry, Raised* raised);  // mu_ held
  void Offer(StreamSlot* slot, const WindowEntryPtr& entry, const WindowOp& op, Raised* raised);
  void OfferAll(const WindowEntryPtr& entry, Raised* raised);
  void Run();
  void Fail(Status status);
  void CallRoutedListener(const Raised& raised);

  storage::Engine* engine_;
  std::mutex listener_mu_;
  RoutedListener on_routed_;  // guarded by listener_mu_
  const size_t max_bytes_;
  const size_t max_entries_;

  mutable std::mutex mu_;
  std::deque<WindowEntryPtr> window_;
  size_t bytes_ = 0;
  bson::Timestamp head_;          // every durable entry up to here has been read
  bson::Timestamp covered_from_;  // the window holds every entry in [covered_from_, head_]
  uint64_t next_stamp_ = 0;
  std::unordered_map<StreamSlot*, std::shared_ptr<StreamSlot>> slots_;
  std::map<std::string, Bucket, std::less<>> by_ns_;  // "db.coll"
  std::map<std::string, Bucket, std::less<>> by_db_;
  Bucket cluster_;

  std::atomic<bool> failed_{false};
  Status error_;  // guarded by mu_

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool notified_ = false;  // guarded by run_mu_
  bool stop_ = false;      // guarded by run_mu_
  std::thread thread_;
  std::mutex poll_mu_;  // one Poll at a time
};

}  // namespace brook::changestream
