#include "watch/processor.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace brook::watch {
namespace {

struct Item {
  enum class Kind { kEvent, kHeartbeat, kLog, kError, kInvalidated };
  Kind kind = Kind::kHeartbeat;
  std::string line;  // log: the message
  BsonDoc event;     // event: the change event, formatted by the processor thread
  BsonDoc token;     // the stream position after this item (may be empty on a heartbeat)
  bool start_after = false;                 // token must be used with startAfter
  std::optional<ClusterTime> op_time;       // heartbeat of a token-less start
  std::optional<uint32_t> event_secs;       // event: its cluster time (seconds)
  StreamError error;
};

std::string Explain286(const Checkpoint& cp) {
  return "the stream's resume point (" + cp.Describe() +
         ") is no longer in the server's oplog (ChangeStreamHistoryLost, 286): changes after it were "
         "removed before brook watch read them, so continuing would silently skip events. Nothing past the "
         "checkpoint was written. Rerun with --on-history-lost resync to copy the current documents again and "
         "then stream, or remove the checkpoint to start from now.";
}

}  // namespace

// The reader thread: see processor.h.
class Processor::Reader {
 public:
  Reader(const WatchOptions& o, std::unique_ptr<ChangeSource> source, StartPoint start, BackoffConfig backoff)
      : options_(o), source_(std::move(source)), start_(std::move(start)), backoff_(backoff) {
    if (start_.kind == StartPoint::Kind::kResumeAfter || start_.kind == StartPoint::Kind::kStartAfter) {
      token_ = start_.token;
      token_start_after_ = start_.kind == StartPoint::Kind::kStartAfter;
    }
  }
  ~Reader() { Stop(); }

  void Start() { thread_ = std::thread([this] { Loop(); }); }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void PopBatch(std::vector<Item>* out, size_t max_events, size_t max_bytes, std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, wait, [this] { return !queue_.empty(); });
    size_t bytes = 0, events = 0;
    while (!queue_.empty() && events < max_events && bytes < max_bytes) {
      Item& front = queue_.front();
      bytes += ItemBytes(front);
      if (front.kind == Item::Kind::kEvent) ++events;
      out->push_back(std::move(front));
      queue_.pop_front();
    }
    queued_bytes_ -= std::min(queued_bytes_, bytes);
    cv_.notify_all();
  }

  std::optional<uint32_t> server_secs() const {
    uint32_t v = server_secs_.load();
    return v ? std::optional<uint32_t>(v) : std::nullopt;
  }

 private:
  static constexpr size_t kMaxQueuedBytes = 64 << 20;

  static size_t ItemBytes(const Item& it) { return it.event.IsEmpty() ? it.line.size() : it.event.get()->len; }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }

  void Push(Item item) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return stopping_ || queued_bytes_ < kMaxQueuedBytes; });
    queued_bytes_ += ItemBytes(item);
    queue_.push_back(std::move(item));
    cv_.notify_all();
  }

  void Log(std::string msg) {
    Item it;
    it.kind = Item::Kind::kLog;
    it.line = std::move(msg);
    Push(std::move(it));
  }

  void PushError(const StreamError& e) {
    Item it;
    it.kind = Item::Kind::kError;
    it.error = e;
    Push(std::move(it));
  }

  void PushHeartbeat() {
    Item it;
    it.kind = Item::Kind::kHeartbeat;
    it.token = token_;
    it.start_after = token_start_after_;
    it.op_time = token_.IsEmpty() && start_.kind == StartPoint::Kind::kStartAtOperationTime
                     ? std::optional<ClusterTime>(start_.time)
                     : std::nullopt;
    Push(std::move(it));
  }

  // Where a reopen continues: after the last token seen, else the original start.
  StartPoint Current() const {
    if (token_.IsEmpty()) return start_;
    StartPoint s;
    s.kind = token_start_after_ ? StartPoint::Kind::kStartAfter : StartPoint::Kind::kResumeAfter;
    s.token = token_;
    return s;
  }

  bool SleepInterruptibly(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stopping_; });
  }

  // After an error: backs off and reopens while the errors are resumable. False when the
  // stream cannot continue (an error item was queued) or a stop was requested.
  bool Recover(Backoff* backoff) {
    for (;;) {
      const StreamError& e = source_->error();
      if (e.cls != ErrorClass::kResumable || backoff->Exhausted()) {
        PushError(e);
        return false;
      }
      auto delay = backoff->Next();
      StartPoint at = Current();
      Log("resumable error: " + e.Message() + "; resuming (" + at.Describe() + ") in " +
          std::to_string(delay.count()) + " ms, attempt " + std::to_string(backoff->attempts()));
      if (!SleepInterruptibly(delay)) return false;
      if (source_->Open(at)) return true;
    }
  }

  void UpdateToken(const bson_t* tok) {
    if (!tok) return;
    BsonDoc t = BsonDoc::Copy(tok);
    if (t.SameBytes(token_)) return;
    token_ = std::move(t);
    token_start_after_ = false;
  }

  void Loop() {
    Backoff backoff(backoff_);
    bool opened = source_->Open(start_);
    if (!opened && !Recover(&backoff)) return;
    if (start_.kind == StartPoint::Kind::kNow && !source_->ResumeToken()) {
      // No postBatchResumeToken (an old server): pin "now" to the server's time so the
      // checkpoint and the stream agree on where this stream began.
      auto now = source_->ServerTime();
      if (!now) {
        StreamError e;
        bson_set_error(&e.error, MONGOC_ERROR_COMMAND, MONGOC_ERROR_COMMAND_INVALID_ARG,
                       "the server returned neither a postBatchResumeToken nor an operationTime; cannot "
                       "checkpoint the starting point (use --start-at-operation-time)");
        PushError(e);
        return;
      }
      start_.kind = StartPoint::Kind::kStartAtOperationTime;
      start_.time = *now;
      if (!source_->Open(start_) && !Recover(&backoff)) return;
    }
    UpdateToken(source_->ResumeToken());
    PushHeartbeat();  // the starting point, checkpointed before any event
    auto next_probe = std::chrono::steady_clock::now();
    while (!Stopping()) {
      const bson_t* ev = nullptr;
      switch (source_->NextEvent(&ev)) {
        case ChangeSource::Next::kEvent: {
          Item it;
          it.kind = Item::Kind::kEvent;
          // Formatting waits for the processor thread, so this thread gets back to the
          // server (the next getMore) sooner: the two overlap.
          it.event = BsonDoc::Copy(ev);
          const bson_t* tok = source_->ResumeToken();
          it.token = tok ? BsonDoc::Copy(tok) : GetDocument(ev, "_id");
          bool invalidate = GetString(ev, "operationType").value_or("") == "invalidate";
          // After an invalidate only startAfter can open a new stream.
          it.start_after = invalidate;
          if (auto ct = GetTimestamp(ev, "clusterTime")) {
            it.event_secs = ct->t;
          } else if (auto tt = TokenClusterTime(it.token.get())) {
            it.event_secs = tt->t;
          }
          token_ = it.token;
          token_start_after_ = invalidate;
          Push(std::move(it));
          backoff.Reset();
          if (invalidate) {
            Item end;
            end.kind = Item::Kind::kInvalidated;
            Push(std::move(end));
            return;
          }
          break;
        }
        case ChangeSource::Next::kEmptyBatch:
          UpdateToken(source_->ResumeToken());
          PushHeartbeat();
          backoff.Reset();
          break;
        case ChangeSource::Next::kError:
          if (!Recover(&backoff)) return;
          break;
      }
      auto now = std::chrono::steady_clock::now();
      if (now >= next_probe) {
        if (auto t = source_->ServerTime()) server_secs_.store(t->t);
        next_probe = now + std::chrono::seconds(1);
      }
    }
  }

  const WatchOptions& options_;
  std::unique_ptr<ChangeSource> source_;
  StartPoint start_;
  BackoffConfig backoff_;
  BsonDoc token_;
  bool token_start_after_ = false;
  std::atomic<uint32_t> server_secs_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  size_t queued_bytes_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

Processor::Processor(const WatchOptions& options, ProcessorDeps deps) : options_(options), deps_(std::move(deps)) {}
Processor::~Processor() = default;

BackoffConfig Processor::Backoffs() const {
  BackoffConfig c;
  c.initial = std::chrono::milliseconds(options_.retry_initial_ms);
  c.max = std::chrono::milliseconds(options_.retry_max_ms);
  c.max_attempts = options_.max_retries;
  return c;
}

int Processor::Fail(const std::string& msg) {
  deps_.reporter->SetState("failed");
  deps_.reporter->Log("error: " + msg);
  return kExitError;
}

int Processor::RunInitialSync(Checkpoint cp, Delivery* delivery) {
  if (!deps_.initial_sync) return Fail("an initial sync is needed but none is available");
  deps_.reporter->SetState("initial sync");
  auto r = deps_.initial_sync->Run(std::move(cp), delivery);
  if (!r.ok()) return Fail("initial sync failed: " + r.status().reason());
  if (r.value().stopped) {
    deps_.reporter->Log("stopped during the initial sync; the copy continues from its checkpoint on restart");
    return kExitOk;
  }
  StartPoint start;
  start.kind = StartPoint::Kind::kStartAtOperationTime;
  start.time = r.value().stream_from;
  return StreamFrom(std::move(start), delivery);
}

int Processor::Run() {
  Delivery delivery(deps_.sink, deps_.store, deps_.reporter, Backoffs(), deps_.stop);
  auto loaded = deps_.store->Load();
  if (!loaded.ok()) return Fail("cannot read the checkpoint " + deps_.store->Describe() + ": " + loaded.status().reason());
  std::optional<Checkpoint> cp = std::move(loaded.value());
  Status s = deps_.sink->Open(cp ? cp->sink_offset : std::nullopt);
  if (!s.ok()) return Fail(s.reason());
  if (std::string note = deps_.sink->OpenNote(); !note.empty()) deps_.reporter->Log(note);

  if (cp) {
    deps_.reporter->Log("resuming from checkpoint " + deps_.store->Describe() + ": " + cp->Describe());
    delivery.set_last_saved(*cp);
    if (cp->initial_sync) return RunInitialSync(*cp, &delivery);
    return StreamFrom(StartPoint::FromCheckpoint(*cp), &delivery);
  }
  if (options_.initial_sync) return RunInitialSync(Checkpoint(), &delivery);
  StartPoint start;
  Checkpoint first;
  if (!options_.start_after.IsEmpty()) {
    start.kind = StartPoint::Kind::kStartAfter;
    start.token = options_.start_after;
    first.token = options_.start_after;
    first.start_after = true;
  } else if (options_.start_at_operation_time) {
    start.kind = StartPoint::Kind::kStartAtOperationTime;
    start.time = *options_.start_at_operation_time;
    first.operation_time = start.time;
  }
  if (start.kind != StartPoint::Kind::kNow) {
    s = delivery.Save(first);
    if (!s.ok()) return Fail(s.reason());
  }
  deps_.reporter->Log("no checkpoint in " + deps_.store->Describe() + "; starting " + start.Describe());
  return StreamFrom(std::move(start), &delivery);
}

int Processor::StreamFrom(StartPoint start, Delivery* delivery) {
  auto reader = std::make_unique<Reader>(options_, deps_.make_source(), std::move(start), Backoffs());
  reader->Start();
  deps_.reporter->SetState("streaming");
  std::vector<Item> items;
  std::vector<std::string> lines;
  for (;;) {
    items.clear();
    lines.clear();
    reader->PopBatch(&items, max_batch_events, max_batch_bytes, std::chrono::milliseconds(100));
    Checkpoint next = delivery->last_saved();
    next.initial_sync.reset();
    bool moved = false;
    bool idle = false;
    int64_t events = 0;
    std::optional<uint32_t> last_secs;
    const Item* terminal = nullptr;
    auto set_position = [&](const Item& it) {
      if (!it.token.IsEmpty()) {
        if (!it.token.SameBytes(next.token) || it.start_after != next.start_after) moved = true;
        next.token = it.token;
        next.start_after = it.start_after;
        next.operation_time.reset();
      } else if (it.op_time && next.token.IsEmpty() && next.operation_time != it.op_time) {
        next.operation_time = it.op_time;
        moved = true;
      }
    };
    for (Item& it : items) {
      if (terminal) break;
      switch (it.kind) {
        case Item::Kind::kEvent:
          lines.push_back(ToExtJson(it.event.get(), options_.format));
          lines.back().push_back('\n');
          set_position(it);
          ++events;
          if (it.event_secs) last_secs = it.event_secs;
          idle = false;
          break;
        case Item::Kind::kHeartbeat:
          set_position(it);
          idle = true;
          // The very first position is saved before any event is delivered.
          if (!delivery->has_saved() && lines.empty() && moved) {
            Status s = delivery->Save(next);
            if (!s.ok()) return Fail(s.reason());
            moved = false;
          }
          break;
        case Item::Kind::kLog:
          deps_.reporter->Log(it.line);
          break;
        case Item::Kind::kError:
        case Item::Kind::kInvalidated:
          terminal = &it;
          break;
      }
    }
    if (!lines.empty() || moved) {
      Status s = delivery->DeliverAndSave(lines, next);
      if (!s.ok()) {
        reader->Stop();
        if (s.code() == static_cast<int32_t>(ErrorCodes::kInterrupted)) {
          deps_.reporter->Log(s.reason() + "; unacknowledged events will be delivered again on restart");
          deps_.reporter->SetState("stopped");
          return kExitOk;
        }
        return Fail(s.reason());
      }
    }
    deps_.reporter->OnEvents(events, last_secs);
    if (idle) deps_.reporter->OnIdle();
    if (auto t = reader->server_secs()) deps_.reporter->OnServerTime(*t);
    deps_.reporter->MaybeReport(StatusReporter::Clock::now());

    if (terminal) {
      reader->Stop();
      if (terminal->kind == Item::Kind::kInvalidated) {
        deps_.reporter->SetState("invalidated");
        deps_.reporter->Log(
            "the change stream was invalidated (its collection or database was dropped or renamed); the "
            "checkpoint holds the invalidate event's token, so a restart starts after it (startAfter)");
        return kExitOk;
      }
      const StreamError& e = terminal->error;
      if (e.cls == ErrorClass::kHistoryLost) {
        if (options_.on_history_lost == OnHistoryLost::kResync) {
          deps_.reporter->Log("change stream history lost (" + e.Message() +
                              "); --on-history-lost resync: copying the current documents again, then streaming");
          reader.reset();
          Checkpoint fresh;
          return RunInitialSync(fresh, delivery);
        }
        deps_.reporter->SetState("history lost");
        deps_.reporter->Log("error: " + Explain286(delivery->last_saved()) + " Server said: " + e.Message());
        return kExitHistoryLost;
      }
      return Fail("the change stream failed with a non-resumable error: " + e.Message());
    }
    if (deps_.stop && deps_.stop->load()) {
      reader->Stop();
      deps_.reporter->SetState("stopped");
      deps_.reporter->Log("stopped; checkpoint saved: " + delivery->last_saved().Describe());
      return kExitOk;
    }
  }
}

}  // namespace brook::watch
