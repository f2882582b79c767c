#include "commands/cursor_registry.h"

#include <random>
#include <vector>

#include "bson/compare.h"
#include "commands/operation_context.h"
#include "commands/server_stats.h"

namespace brook::commands {

struct CursorRegistry::Entry {
  int64_t id = 0;
  std::string ns;
  CursorOwner owner;
  std::unique_ptr<ClientCursor> cursor;
  std::chrono::steady_clock::time_point last_used;
  bool pinned = false;
  bool killed = false;
  // Shared with an awaitData getMore waiting on this cursor while it is unpinned.
  std::shared_ptr<std::atomic<bool>> kill_flag = std::make_shared<std::atomic<bool>>(false);
};

// ---- BatchBuilder / streams ----

void BatchBuilder::Append(bson::View doc) {
  array_->AppendDocument(bson::ArrayKey(static_cast<size_t>(count_), &scratch_), doc);
  ++count_;
  bytes_ += doc.size();
}

StatusWith<bool> StreamCursor::NextBatch(OperationContext& op, BatchBuilder* batch) {
  while (!batch->Full()) {
    if (!pending_) {
      bson::Doc doc;
      auto more = stream_->Next(op, &doc);
      if (!more.ok()) return more.status();
      if (!more.value()) return true;
      pending_ = std::move(doc);
    }
    if (!batch->Fits(pending_->size())) return false;
    batch->Append(*pending_);
    pending_.reset();
  }
  return stream_->Exhausted();
}

StatusWith<bool> VectorStream::Next(OperationContext& /*op*/, bson::Doc* out) {
  if (pos_ >= docs_.size()) return false;
  *out = std::move(docs_[pos_++]);
  return true;
}

// ---- Pinned ----

CursorRegistry::Pinned& CursorRegistry::Pinned::operator=(Pinned&& o) noexcept {
  if (this != &o) {
    if (registry_ && entry_) registry_->Release(entry_, false);
    registry_ = o.registry_;
    entry_ = std::move(o.entry_);
    o.registry_ = nullptr;
  }
  return *this;
}

CursorRegistry::Pinned::~Pinned() {
  if (registry_ && entry_) registry_->Release(entry_, false);
}

ClientCursor* CursorRegistry::Pinned::cursor() const { return entry_ ? entry_->cursor.get() : nullptr; }
int64_t CursorRegistry::Pinned::id() const { return entry_ ? entry_->id : 0; }
const std::string& CursorRegistry::Pinned::ns() const { return entry_->ns; }
std::shared_ptr<const std::atomic<bool>> CursorRegistry::Pinned::kill_flag() const {
  return entry_ ? entry_->kill_flag : nullptr;
}

void CursorRegistry::Pinned::Exhaust() {
  if (registry_ && entry_) registry_->Release(entry_, true);
  registry_ = nullptr;
  entry_.reset();
}

// ---- CursorRegistry ----

CursorRegistry::CursorRegistry(ServerStats* stats) : stats_(stats) {}
CursorRegistry::~CursorRegistry() = default;

int64_t CursorRegistry::Register(std::string ns, std::unique_ptr<ClientCursor> cursor,
                                 CursorOwner owner) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  auto entry = std::make_shared<Entry>();
  entry->ns = std::move(ns);
  entry->owner = std::move(owner);
  entry->cursor = std::move(cursor);
  entry->last_used = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  int64_t id;
  do {
    id = static_cast<int64_t>(rng() >> 1);
  } while (id == 0 || cursors_.count(id));
  entry->id = id;
  cursors_.emplace(id, std::move(entry));
  if (stats_) stats_->cursors_open.fetch_add(1, std::memory_order_relaxed);
  return id;
}

StatusWith<CursorRegistry::Pinned> CursorRegistry::Pin(int64_t id, std::string_view ns) {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(id);
  if (it == cursors_.end() || it->second->killed) {
    return Status(ErrorCodes::kCursorNotFound, "cursor id " + std::to_string(id) + " not found");
  }
  auto& entry = it->second;
  if (entry->ns != ns) {
    return Status(ErrorCodes::kUnauthorized, "Requested getMore on namespace '" + std::string(ns) +
                                                 "', but cursor belongs to a different namespace " +
                                                 entry->ns);
  }
  if (entry->pinned) {
    return Status(ErrorCodes::kCursorNotFound,
                  "cursor id " + std::to_string(id) + " is already in use");
  }
  entry->pinned = true;
  return Pinned(this, entry);
}

std::optional<CursorOwner> CursorRegistry::OwnerOf(int64_t id) const {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(id);
  if (it == cursors_.end() || it->second->killed) return std::nullopt;
  return it->second->owner;
}

void CursorRegistry::StampUser(int64_t id, const std::string& user) {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(id);
  if (it != cursors_.end() && !it->second->owner.user) it->second->owner.user = user;
}

bool CursorRegistry::Exists(int64_t id, std::string_view ns) const {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(id);
  if (it == cursors_.end() || it->second->killed) return false;
  return ns.empty() || it->second->ns == ns;
}

void CursorRegistry::Erase(int64_t id) {
  if (cursors_.erase(id) && stats_) stats_->cursors_open.fetch_sub(1, std::memory_order_relaxed);
}

void CursorRegistry::Release(const std::shared_ptr<Entry>& entry, bool exhausted) {
  std::unique_ptr<ClientCursor> doomed;
  std::lock_guard lock(mu_);
  entry->pinned = false;
  entry->last_used = std::chrono::steady_clock::now();
  if (exhausted || entry->killed) {
    auto it = cursors_.find(entry->id);
    if (it != cursors_.end() && it->second == entry) {
      doomed = std::move(entry->cursor);
      Erase(entry->id);
    }
  }
}

bool CursorRegistry::Kill(int64_t id) {
  std::unique_ptr<ClientCursor> doomed;  // destroyed outside the lock
  {
    std::lock_guard lock(mu_);
    auto it = cursors_.find(id);
    if (it == cursors_.end() || it->second->killed) return false;
    it->second->kill_flag->store(true);
    if (it->second->pinned) {
      it->second->killed = true;
    } else {
      doomed = std::move(it->second->cursor);
      Erase(id);
    }
  }
  // After the flag: a waiter that registers later sees the flag, one already waiting is
  // woken here.
  if (kill_listener_) kill_listener_(id);
  return true;
}

void CursorRegistry::SetKillListener(std::function<void(int64_t)> listener) {
  kill_listener_ = std::move(listener);
}

size_t CursorRegistry::KillForSession(bson::View lsid) {
  std::vector<int64_t> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : cursors_) {
      if (e->owner.lsid && bson::ValuesEqual(e->owner.lsid->view()["id"], lsid["id"])) {
        ids.push_back(id);
      }
    }
  }
  size_t n = 0;
  for (auto id : ids) n += Kill(id) ? 1 : 0;
  return n;
}

size_t CursorRegistry::ReapIdle(std::chrono::steady_clock::time_point now) {
  std::vector<std::unique_ptr<ClientCursor>> doomed;
  std::lock_guard lock(mu_);
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    auto& e = it->second;
    if (!e->pinned && now - e->last_used > idle_timeout_) {
      doomed.push_back(std::move(e->cursor));
      it = cursors_.erase(it);
      if (stats_) {
        stats_->cursors_open.fetch_sub(1, std::memory_order_relaxed);
        stats_->cursors_timed_out.fetch_add(1, std::memory_order_relaxed);
      }
    } else {
      ++it;
    }
  }
  return doomed.size();
}

void CursorRegistry::set_idle_timeout(std::chrono::milliseconds t) {
  std::lock_guard lock(mu_);
  idle_timeout_ = t;
}

size_t CursorRegistry::size() const {
  std::lock_guard lock(mu_);
  return cursors_.size();
}

// ---- Replies ----

Status ReplyWithCursor(OperationContext& op, std::string ns, std::unique_ptr<ClientCursor> cursor,
                       int64_t first_batch_docs, bool single_batch, bson::Builder* reply) {
  reply->OpenDocument("cursor");
  reply->OpenArray("firstBatch");
  BatchBuilder batch(reply, first_batch_docs);
  auto exhausted = cursor->NextBatch(op, &batch);
  if (!exhausted.ok()) return exhausted.status();
  reply->Close();
  int64_t id = 0;
  if (!exhausted.value() && !single_batch && op.service().cursors) {
    CursorOwner owner{op.client().connection_id, op.lsid};
    cursor->AppendCursorFields(reply);
    id = op.service().cursors->Register(ns, std::move(cursor), std::move(owner));
  } else {
    cursor->AppendCursorFields(reply);
  }
  reply->AppendInt64("id", id);
  reply->AppendString("ns", ns);
  reply->Close();
  return Status::OK();
}

}  // namespace brook::commands
