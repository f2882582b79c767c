#include "changestream/cursor.h"

#include "changestream/host.h"
#include "storage/engine.h"

namespace brook::changestream {
namespace {

bson::Timestamp NextTick(bson::Timestamp ts) { return bson::Timestamp::FromUint64(ts.AsUint64() + 1); }

}  // namespace

StatusWith<std::unique_ptr<ChangeStreamCursor>> ChangeStreamCursor::Open(
    std::shared_ptr<const ChangeStreamPlan> plan, ChangeStreamHost* host, storage::Engine* engine,
    OplogTailer* tailer) {
  std::unique_ptr<ChangeStreamCursor> c(new ChangeStreamCursor());
  c->plan_ = std::move(plan);
  c->host_ = host;
  c->engine_ = engine;
  const ChangeStreamPlan& p = *c->plan_;
  c->match_ = std::make_unique<OplogMatchStage>(&p.predicate);
  c->unwind_ = std::make_unique<UnwindTransactionStage>(&p.predicate);
  c->transform_ = std::make_unique<TransformStage>(&p.spec);
  c->stages_ = BuildEventStages(p, host);

  switch (p.start.kind) {
    case StartPoint::Kind::kNow:
      c->next_ts_ = NextTick(engine->ClusterTime());
      c->pbrt_ = ResumeToken::HighWaterMark(c->next_ts_);
      break;
    case StartPoint::Kind::kOperationTime:
      c->next_ts_ = p.start.at;
      c->pbrt_ = ResumeToken::HighWaterMark(p.start.at);
      break;
    case StartPoint::Kind::kResumeAfter:
    case StartPoint::Kind::kStartAfter:
      // MongoDB scans from the token's clusterTime inclusive ($gte) and lets stages 5 and
      // 8 swallow what the client already has.
      c->next_ts_ = p.start.at;
      c->pbrt_ = ResumeToken::FromData(*p.start.token);
      break;
  }
  for (const auto& stage : c->stages_) {
    if (auto* check = dynamic_cast<CheckResumabilityStage*>(stage.get())) {
      Status history = check->CheckHistory(engine->oldest_oplog_ts());
      if (!history.ok()) return history.WithLabel(labels::kNonResumableChangeStreamError);
    }
    if (auto* ensure = dynamic_cast<const EnsureResumeTokenPresentStage*>(stage.get())) c->ensure_token_ = ensure;
  }
  if (tailer) {
    c->tailer_ = tailer;
    c->slot_ = tailer->Register(RouteKey::FromPlan(p));
  }
  return c;
}

ChangeStreamCursor::~ChangeStreamCursor() {
  if (tailer_ && slot_) tailer_->Unregister(slot_);
}

std::shared_ptr<const std::atomic<bool>> ChangeStreamCursor::wake_signal() const {
  if (!armed_ || !slot_) return nullptr;
  return slot_->signal();
}

bool ChangeStreamCursor::ResumeSettled() const {
  // Until stage 8 has passed the resume point it must see every event of the stream
  // (the resumed-from one may not match the user's filter), so nothing is skipped.
  return ensure_token_ == nullptr || ensure_token_->surpassed();
}

Status ChangeStreamCursor::RunStages(ChangeEvent event) {
  // Stages 4-11.
  StreamItem item;
  item.event = std::move(event);
  stage_out_.clear();  // reused: its capacity stays
  BROOK_RETURN_IF_ERROR(RunEventStages(stages_, 0, std::move(item), &stage_out_));
  for (auto& o : stage_out_) {
    pending_.push_back(ReadyEvent{std::move(o.doc), std::move(o.event.token), o.event.ends_stream});
  }
  stage_out_.clear();
  return Status::OK();
}

Status ChangeStreamCursor::ProcessEntry(std::string_view raw) {
  // The entry is read in place: stage 3 copies into the event whatever it keeps, so
  // nothing refers to `raw` once this returns.
  auto entry = ParseOplogEntry(bson::View(raw.data()));
  if (!entry.ok()) return entry.status();
  // Stages 1-3.
  if (!match_->Matches(entry.value())) return Status::OK();
  std::vector<OplogEntry>& ops = ops_;  // reused: its capacity stays
  ops.clear();
  BROOK_RETURN_IF_ERROR(unwind_->Unwind(entry.value(), &ops));
  for (const auto& op : ops) {
    auto event = transform_->Transform(op);
    if (!event.ok()) return event.status();
    if (!event.value()) continue;
    BROOK_RETURN_IF_ERROR(RunStages(std::move(*event.value())));
  }
  return Status::OK();
}

namespace {

// The two cases where a stream's options change stage 3's output from the tailer's
// common form (tailer.cpp): view events from system.views writes (database and cluster
// streams) and disambiguatedPaths in updates (showExpandedEvents).
bool NeedsOwnTransform(const ChangeStreamSpec& spec, const OplogEntry& op) {
  if (spec.scope.kind != Scope::Kind::kCollection && op.coll() == kSystemViewsColl &&
      (op.op == "i" || op.op == "u" || op.op == "d")) {
    return true;
  }
  return spec.show_expanded_events && op.op == "u";
}

}  // namespace

Status ChangeStreamCursor::ProcessWindowEntry(const WindowEntry& e) {
  // The same stages 1-3 as ProcessEntry, on the tailer's decoded entry.
  if (!e.error.ok()) return e.error;
  if (!match_->Matches(e.entry)) return Status::OK();
  for (const WindowOp& w : e.ops) {
    if (!plan_->predicate.MatchesOperation(w.op)) continue;
    if (NeedsOwnTransform(plan_->spec, w.op)) {
      auto event = transform_->Transform(w.op);
      if (!event.ok()) return event.status();
      if (!event.value()) continue;
      BROOK_RETURN_IF_ERROR(RunStages(std::move(*event.value())));
      continue;
    }
    if (!w.error.ok()) return w.error;
    if (!w.event) continue;
    // The stages change their event, so each stream works on its own copy.
    BROOK_RETURN_IF_ERROR(RunStages(*w.event));
  }
  return Status::OK();
}

StatusWith<bool> ChangeStreamCursor::ReadThroughTailer(const std::function<bool()>& drain) {
  bool took = false;
  for (;;) {
    while (!routed_.empty()) {
      WindowEntryPtr e = routed_.front();
      routed_.pop_front();
      if (e->ts >= next_ts_) {
        BROOK_RETURN_IF_ERROR(ProcessWindowEntry(*e));
        next_ts_ = NextTick(e->ts);
      }
      if (!drain()) return true;
    }
    if (NextTick(routed_through_) > next_ts_) next_ts_ = NextTick(routed_through_);
    // One take per call: what arrives later is for the next getMore.
    if (took) return true;
    std::vector<WindowEntryPtr> got;
    bson::Timestamp through;
    if (armed_ && !tailer_->TakeQueued(slot_.get(), &got, &through)) armed_ = false;
    if (!armed_) {
      bool settled = ResumeSettled();
      auto r = tailer_->ReadWindow(slot_.get(), next_ts_, /*filter=*/settled, /*arm=*/settled, &got, &through);
      if (r != OplogTailer::ReadResult::kCopied) return false;
      armed_ = settled;
    }
    for (auto& e : got) routed_.push_back(std::move(e));
    if (through > routed_through_) routed_through_ = through;
    took = true;
  }
}

StatusWith<bool> ChangeStreamCursor::ReadOplog(const std::function<bool()>& drain) {
  bson::Timestamp durable = engine_->durable();
  if (next_ts_ > durable) return true;
  auto it = engine_->NewOplogIterator(next_ts_, /*durable_only=*/true);
  it->Seek(storage::EncodeOplogKey(next_ts_));  // the resume point: one seek
  size_t scanned = 0;
  bool complete = true;
  for (; it->Valid(); it->Next()) {
    bson::Timestamp ts = storage::DecodeOplogKey(it->key());
    if (ts > durable) break;
    if (scanned++ == kMaxEntriesPerBatch) {
      complete = false;
      break;
    }
    BROOK_RETURN_IF_ERROR(ProcessEntry(it->value()));
    next_ts_ = NextTick(ts);
    if (!drain()) {
      complete = false;
      break;
    }
  }
  if (!it->status().ok()) return it->status();
  // Every entry at or below `durable` has been read: the stream is positioned after it.
  if (complete && NextTick(durable) > next_ts_) next_ts_ = NextTick(durable);
  return complete;
}

StatusWith<ChangeStreamBatch> ChangeStreamCursor::NextBatch(size_t max_events, size_t max_bytes) {
  if (!error_.ok()) return error_;
  ChangeStreamBatch batch;
  size_t bytes = 0;
  // Moves built events into the batch; false when the batch is full or the stream ended.
  auto drain_events = [&]() -> bool {
    while (!pending_.empty() && !invalidated_) {
      ReadyEvent& item = pending_.front();
      if (item.doc) {
        if (batch.events.size() >= max_events) return false;
        if (!batch.events.empty() && bytes + item.doc->size() > max_bytes) return false;
        bytes += item.doc->size();
        batch.events.push_back(std::move(*item.doc));
      }
      pbrt_ = std::move(item.token);
      if (item.ends_stream) {
        invalidated_ = true;
        pending_.clear();
        return false;
      }
      pending_.pop_front();
    }
    return !invalidated_;
  };
  std::function<bool()> drain = std::ref(drain_events);  // by reference: no allocation

  bool room = drain();
  if (room && max_events > 0) {
    Status s = Status::OK();
    bool served = false;
    if (tailer_) {
      auto r = ReadThroughTailer(drain);
      s = r.status();
      served = r.ok() && r.value();
    }
    if (s.ok() && !served) {
      auto r = ReadOplog(drain);
      s = r.status();
      // Caught up with the durable watermark: continue from the window (and arm there).
      if (s.ok() && r.value() && tailer_) s = ReadThroughTailer(drain).status();
    }
    if (!s.ok()) {
      error_ = s;
      return s;
    }
  }
  if (pending_.empty() && !invalidated_) {
    ResumeToken hwm = ResumeToken::HighWaterMark(next_ts_);
    if (hwm.Compare(pbrt_) > 0) pbrt_ = std::move(hwm);
  }
  batch.invalidated = invalidated_;
  batch.post_batch_resume_token = pbrt_.ToDocument();
  return batch;
}

bool IsResumableChangeStreamErrorCode(int32_t code) {
  switch (code) {
    case 6:      // HostUnreachable
    case 7:      // HostNotFound
    case 89:     // NetworkTimeout
    case 91:     // ShutdownInProgress
    case 133:    // FailedToSatisfyReadPreference
    case 150:    // StaleEpoch
    case 189:    // PrimarySteppedDown
    case 234:    // RetryChangeStream
    case 262:    // ExceededTimeLimit
    case 63:     // StaleShardVersion
    case 9001:   // SocketException
    case 10107:  // NotWritablePrimary
    case 11600:  // InterruptedAtShutdown
    case 11602:  // InterruptedDueToReplStateChange
    case 13388:  // StaleConfig
    case 13435:  // NotPrimaryNoSecondaryOk
    case 13436:  // NotPrimaryOrSecondary
      return true;
    default:
      return false;
  }
}

Status AddChangeStreamErrorLabels(Status status, bool is_get_more) {
  if (status.ok()) return status;
  int32_t code = status.code();
  if (code == static_cast<int32_t>(ErrorCodes::kChangeStreamFatalError) ||
      code == static_cast<int32_t>(ErrorCodes::kChangeStreamHistoryLost)) {
    if (!status.HasLabel(labels::kNonResumableChangeStreamError)) {
      return status.WithLabel(labels::kNonResumableChangeStreamError);
    }
    return status;
  }
  if (is_get_more && IsResumableChangeStreamErrorCode(code) &&
      !status.HasLabel(labels::kResumableChangeStreamError)) {
    return status.WithLabel(labels::kResumableChangeStreamError);
  }
  return status;
}

}  // namespace brook::changestream
