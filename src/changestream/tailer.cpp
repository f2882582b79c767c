#include "changestream/tailer.h"

#include <chrono>

#include "changestream/stages.h"
#include "storage/engine.h"

namespace brook::changestream {
namespace {

bson::Timestamp NextTick(bson::Timestamp ts) { return bson::Timestamp::FromUint64(ts.AsUint64() + 1); }

// Entries decoded between two publications: bounds the time the window lags behind a
// long run of new entries, and the memory held outside the window.
constexpr size_t kPublishEvery = 1024;

// What an event costs in the window beyond its share of the raw entry.
size_t EventBytes(const ChangeEvent& ev) {
  size_t n = sizeof(ChangeEvent) + ev.token.keystring().size();
  if (ev.full_document.state == Image::State::kDoc) n += ev.full_document.doc.size();
  if (ev.document_key) n += ev.document_key->size();
  if (ev.update_description) n += ev.update_description->size();
  if (ev.raw_update) n += ev.raw_update->size();
  if (ev.operation_description) n += ev.operation_description->size();
  return n;
}

// The form the tailer transforms in: what no stream's options change (see
// NeedsOwnTransform in cursor.cpp for the two cases a cursor transforms itself).
ChangeStreamSpec CommonSpec() {
  ChangeStreamSpec spec;
  spec.scope.kind = Scope::Kind::kCollection;
  spec.show_expanded_events = false;
  return spec;
}

const ChangeStreamSpec& TheCommonSpec() {
  static const ChangeStreamSpec spec = CommonSpec();
  return spec;
}

}  // namespace

OplogTailer::OplogTailer(storage::Engine* engine, size_t max_bytes, size_t max_entries)
    : engine_(engine), max_bytes_(max_bytes), max_entries_(max_entries) {
  head_ = engine_->durable();
  covered_from_ = NextTick(head_);
}

OplogTailer::~OplogTailer() {
  {
    std::lock_guard lock(run_mu_);
    stop_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OplogTailer::SetRoutedListener(RoutedListener listener) {
  std::lock_guard lock(listener_mu_);
  on_routed_ = std::move(listener);
}

void OplogTailer::CallRoutedListener(const Raised& raised) {
  // A slot may have closed since: its signal then lives on only with a waiter holding it,
  // and a signal nobody waits on is a key that finds nothing.
  std::lock_guard lock(listener_mu_);
  if (on_routed_) on_routed_(raised);
}

void OplogTailer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void OplogTailer::Notify() {
  {
    std::lock_guard lock(run_mu_);
    notified_ = true;
  }
  run_cv_.notify_one();
}

void OplogTailer::Run() {
  for (;;) {
    {
      std::unique_lock lock(run_mu_);
      // The timeout is only a safety net: every durable move calls Notify.
      run_cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return notified_ || stop_; });
      if (stop_) return;
      notified_ = false;
    }
    Poll();
  }
}

WindowEntryPtr OplogTailer::Decode(bson::Timestamp ts, std::string_view raw) const {
  auto e = std::make_shared<WindowEntry>();
  e->ts = ts;
  e->raw = bson::Doc(std::string(raw));
  e->bytes = sizeof(WindowEntry) + e->raw.size();
  auto parsed = ParseOplogEntry(e->raw.view());
  if (!parsed.ok()) {
    e->error = parsed.status();
    return e;
  }
  e->entry = parsed.value();
  std::vector<OplogEntry> ops;
  if (Status s = UnwindOperations(e->entry, &ops); !s.ok()) {
    e->error = s;
    return e;
  }
  TransformStage transform(&TheCommonSpec());
  e->ops.reserve(ops.size());
  for (auto& op : ops) {
    WindowOp w;
    w.op = op;
    auto ev = transform.Transform(op);
    if (!ev.ok()) {
      w.error = ev.status();
    } else if (ev.value()) {
      e->bytes += EventBytes(*ev.value());
      w.event = std::make_shared<const ChangeEvent>(std::move(*ev.value()));
    }
    e->bytes += sizeof(WindowOp);
    e->ops.push_back(std::move(w));
  }
  return e;
}

void OplogTailer::Poll() {
  std::lock_guard poll_lock(poll_mu_);
  if (failed_.load()) return;
  bson::Timestamp durable = engine_->durable();
  bson::Timestamp start;
  {
    std::lock_guard lock(mu_);
    if (durable <= head_) return;
    if (slots_.empty()) {
      // Nobody to decode for: follow the watermark with an empty window. A stream that
      // opens later reads what it needs before covered_from_ from the oplog.
      window_.clear();
      bytes_ = 0;
      head_ = durable;
      covered_from_ = NextTick(durable);
      return;
    }
    start = NextTick(head_);
  }

  auto publish = [&](std::vector<WindowEntryPtr>* batch, bson::Timestamp through) {
    Raised raised;
    {
      std::lock_guard lock(mu_);
      for (auto& e : *batch) {
        bytes_ += e->bytes;
        window_.push_back(e);
        head_ = e->ts;
        Route(e, &raised);
      }
      if (through > head_) head_ = through;
      while (!window_.empty() && (bytes_ > max_bytes_ || window_.size() > max_entries_)) {
        bytes_ -= window_.front()->bytes;
        covered_from_ = NextTick(window_.front()->ts);
        window_.pop_front();
      }
      if (window_.empty()) covered_from_ = NextTick(head_);
    }
    batch->clear();
    if (!raised.empty()) CallRoutedListener(raised);
  };

  auto it = engine_->NewOplogIterator(start, /*durable_only=*/true);
  it->Seek(storage::EncodeOplogKey(start));
  std::vector<WindowEntryPtr> batch;
  for (; it->Valid(); it->Next()) {
    bson::Timestamp ts = storage::DecodeOplogKey(it->key());
    if (ts > durable) break;
    batch.push_back(Decode(ts, it->value()));
    if (batch.size() == kPublishEvery) publish(&batch, ts);
  }
  if (!it->status().ok()) {
    publish(&batch, bson::Timestamp());
    Fail(it->status());
    return;
  }
  publish(&batch, durable);
}

void OplogTailer::Fail(Status status) {
  std::vector<std::shared_ptr<const std::atomic<bool>>> keep;  // alive until woken
  Raised raised;
  {
    std::lock_guard lock(mu_);
    error_ = std::move(status);
    failed_.store(true);
    window_.clear();
    bytes_ = 0;
    for (auto& [ptr, slot] : slots_) {
      slot->armed_ = false;
      slot->queue_.clear();
      slot->signal_->store(true);
      keep.push_back(slot->signal_);
      raised.push_back(slot->signal_.get());
    }
  }
  CallRoutedListener(raised);
}

OplogTailer::BucketRef OplogTailer::BucketOf(const RouteKey& key) {
  const Scope& s = key.scope;
  bool one_coll = key.ns_colls && key.ns_colls->size() == 1;
  switch (s.kind) {
    case Scope::Kind::kCollection:
      return {&by_ns_, s.db + "." + s.coll};
    case Scope::Kind::kDatabase:
      if (one_coll) return {&by_ns_, s.db + "." + key.ns_colls->front()};
      return {&by_db_, s.db};
    case Scope::Kind::kCluster:
      if (key.ns_db && one_coll) return {&by_ns_, *key.ns_db + "." + key.ns_colls->front()};
      if (key.ns_db) return {&by_db_, *key.ns_db};
      return {nullptr, std::string()};
  }
  return {nullptr, std::string()};
}

OplogTailer::Bucket& OplogTailer::BucketFor(const BucketRef& ref) {
  return ref.map ? (*ref.map)[ref.name] : cluster_;
}

namespace {

void Remove(std::vector<StreamSlot*>* v, StreamSlot* slot) {
  for (size_t i = 0; i < v->size(); ++i) {
    if ((*v)[i] == slot) {
      (*v)[i] = v->back();
      v->pop_back();
      return;
    }
  }
}

template <typename Map>
void RemoveFrom(Map* m, const std::string& value, StreamSlot* slot) {
  auto it = m->find(value);
  if (it == m->end()) return;
  Remove(&it->second, slot);
  if (it->second.empty()) m->erase(it);
}

}  // namespace

std::shared_ptr<StreamSlot> OplogTailer::Register(RouteKey key) {
  auto slot = std::make_shared<StreamSlot>(std::move(key));
  std::lock_guard lock(mu_);
  // Open streams wait for every commit to become durable: no gathering delay before the
  // fsync while there are any (the p99 write-to-event latency would start at it).
  if (slots_.empty()) engine_->SetPromptSync(true);
  slots_.emplace(slot.get(), slot);
  const RouteKey& k = slot->key();
  Bucket& b = BucketFor(BucketOf(k));
  ++b.size;
  // File it under its most selective equality: the fewer streams share a value, the
  // fewer are offered an event with it.
  if (k.document_ids) {
    for (const auto& v : *k.document_ids) b.by_id[v].push_back(slot.get());
  } else if (!k.full_document.empty()) {
    auto& values = b.by_field[k.full_document.front().path];
    for (const auto& v : k.full_document.front().values) values[v].push_back(slot.get());
  } else if (k.operation_types) {
    for (const auto& v : *k.operation_types) b.by_op[v].push_back(slot.get());
  } else {
    b.any.push_back(slot.get());
  }
  return slot;
}

void OplogTailer::Unregister(const std::shared_ptr<StreamSlot>& slot) {
  if (!slot) return;
  std::lock_guard lock(mu_);
  if (slots_.erase(slot.get()) == 0) return;
  const RouteKey& k = slot->key();
  BucketRef ref = BucketOf(k);
  Bucket& b = BucketFor(ref);
  --b.size;
  if (k.document_ids) {
    for (const auto& v : *k.document_ids) RemoveFrom(&b.by_id, v, slot.get());
  } else if (!k.full_document.empty()) {
    auto field = b.by_field.find(k.full_document.front().path);
    if (field != b.by_field.end()) {
      for (const auto& v : k.full_document.front().values) RemoveFrom(&field->second, v, slot.get());
      if (field->second.empty()) b.by_field.erase(field);
    }
  } else if (k.operation_types) {
    for (const auto& v : *k.operation_types) RemoveFrom(&b.by_op, v, slot.get());
  } else {
    Remove(&b.any, slot.get());
  }
  slot->queue_.clear();
  if (slots_.empty()) {
    engine_->SetPromptSync(false);
    // Nobody left to read it: give the memory back now rather than at the next write.
    window_.clear();
    bytes_ = 0;
    covered_from_ = NextTick(head_);
  }
  // Drop empty buckets so a server that saw many short-lived streams does not keep them.
  if (b.size == 0 && ref.map) ref.map->erase(ref.name);
}

void OplogTailer::Offer(StreamSlot* slot, const WindowEntryPtr& entry, const WindowOp& op,
                        Raised* raised) {
  if (!slot->armed_ || slot->stamp_ == next_stamp_) return;
  if (op.event && !slot->key().MayMatch(*op.event)) return;
  slot->stamp_ = next_stamp_;
  if (slot->queue_.size() >= kMaxQueued) {
    // A stream that does not read: stop holding entries for it; it re-reads the window
    // (or the oplog) when it comes back.
    slot->armed_ = false;
    slot->overflow_ = true;
    slot->queue_.clear();
    slot->queue_.shrink_to_fit();
  } else {
    slot->queue_.push_back(entry);
  }
  slot->signal_->store(true);
  // The signal, not the slot: the slot may close before the listener runs.
  raised->push_back(slot->signal_.get());
}

void OplogTailer::OfferAll(const WindowEntryPtr& entry, Raised* raised) {
  WindowOp none;
  for (auto& [ptr, slot] : slots_) Offer(ptr, entry, none, raised);
}

void OplogTailer::Route(const WindowEntryPtr& entry, Raised* raised) {
  ++next_stamp_;
  if (!entry->error.ok()) return OfferAll(entry, raised);
  for (const auto& op : entry->ops) {
    if (!op.error.ok()) return OfferAll(entry, raised);
    if (!op.event) continue;  // no event in any form (a no-op, an unknown command)
    const ChangeEvent& ev = *op.event;
    if (!RouteKey::IsFilterable(ev)) return OfferAll(entry, raised);
    std::optional<std::string> id;
    bool id_done = false;
    auto offer_list = [&](const std::vector<StreamSlot*>& list) {
      for (StreamSlot* s : list) Offer(s, entry, op, raised);
    };
    auto offer_bucket = [&](Bucket& b) {
      offer_list(b.any);
      if (auto it = b.by_op.find(ev.operation_type); it != b.by_op.end()) offer_list(it->second);
      if (!b.by_id.empty()) {
        if (!id_done) {
          id = RouteKey::DocumentIdValue(ev);
          id_done = true;
        }
        if (!id) {
          for (auto& [v, list] : b.by_id) offer_list(list);
        } else if (auto it = b.by_id.find(*id); it != b.by_id.end()) {
          offer_list(it->second);
        }
      }
      for (auto& [path, values] : b.by_field) {
        auto v = RouteKey::FullDocumentValue(ev, path);
        if (!v) {
          for (auto& [value, list] : values) offer_list(list);
        } else if (auto it = values.find(*v); it != values.end()) {
          offer_list(it->second);
        }
      }
    };
    if (auto it = by_ns_.find(ev.db + "." + ev.coll); it != by_ns_.end()) offer_bucket(it->second);
    if (auto it = by_db_.find(ev.db); it != by_db_.end()) offer_bucket(it->second);
    offer_bucket(cluster_);
  }
}

OplogTailer::ReadResult OplogTailer::ReadWindow(StreamSlot* slot, bson::Timestamp next_ts, bool filter, bool arm,
                                                std::vector<WindowEntryPtr>* out, bson::Timestamp* through) {
  std::lock_guard lock(mu_);
  if (failed_.load()) return ReadResult::kFailed;
  slot->signal_->store(false);
  if (next_ts < covered_from_) return ReadResult::kBehind;
  // Binary search by ts, then sequential.
  auto first = std::lower_bound(window_.begin(), window_.end(), next_ts,
                                [](const WindowEntryPtr& e, bson::Timestamp ts) { return e->ts < ts; });
  for (auto it = first; it != window_.end(); ++it) {
    const WindowEntryPtr& e = *it;
    bool wanted = !filter || !e->error.ok();
    for (size_t i = 0; !wanted && i < e->ops.size(); ++i) {
      const WindowOp& op = e->ops[i];
      wanted = !op.error.ok() || (op.event && slot->key().MayMatch(*op.event));
    }
    if (wanted) out->push_back(e);
  }
  *through = head_;
  if (arm) {
    slot->armed_ = true;
    slot->overflow_ = false;
    slot->queue_.clear();
  }
  return ReadResult::kCopied;
}

bool OplogTailer::TakeQueued(StreamSlot* slot, std::vector<WindowEntryPtr>* out, bson::Timestamp* through) {
  std::lock_guard lock(mu_);
  slot->signal_->store(false);
  if (!slot->armed_ || failed_.load()) return false;
  for (auto& e : slot->queue_) out->push_back(std::move(e));
  slot->queue_.clear();
  *through = head_;
  return true;
}

bson::Timestamp OplogTailer::head() const {
  std::lock_guard lock(mu_);
  return head_;
}

bson::Timestamp OplogTailer::covered_from() const {
  std::lock_guard lock(mu_);
  return covered_from_;
}

size_t OplogTailer::window_entries() const {
  std::lock_guard lock(mu_);
  return window_.size();
}

size_t OplogTailer::window_bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t OplogTailer::streams() const {
  std::lock_guard lock(mu_);
  return slots_.size();
}

}  // namespace brook::changestream
