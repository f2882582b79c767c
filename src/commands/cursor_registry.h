#pragma once
// Server-side cursors: the registry of open cursors and the cursor interface that find,
// aggregate, listCollections/listIndexes and change streams implement.
//
// Owns: cursor ids (random positive int64), each cursor's namespace and owner
// (connection, lsid), pinning while a getMore runs, killing, and idle expiry
// (cursorTimeoutMillis, default 10 minutes; the server calls ReapIdle periodically).
// Batch building: a cursor appends documents through BatchBuilder, which enforces the
// 16 MiB reply limit; a document that does not fit is kept for the next batch.
// Thread-safety: CursorRegistry is thread-safe. A pinned cursor is used by one thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bson/builder.h"
#include "bson/document.h"
#include "util/status.h"

namespace brook::commands {

class OperationContext;
struct ServerStats;

inline constexpr int64_t kDefaultFirstBatchDocs = 101;
inline constexpr size_t kMaxBatchBytes = 16 * 1024 * 1024;
inline constexpr std::chrono::milliseconds kDefaultCursorTimeout{10 * 60 * 1000};

// Appends documents to an open array ("firstBatch" / "nextBatch") of a reply builder.
class BatchBuilder {
 public:
  BatchBuilder(bson::Builder* array, int64_t max_docs, size_t max_bytes = kMaxBatchBytes)
      : array_(array), max_docs_(max_docs), max_bytes_(max_bytes) {}
  // Whether another document of `size` bytes fits (the first always does).
  bool Fits(size_t size) const { return count_ == 0 || bytes_ + size <= max_bytes_; }
  bool Full() const { return max_docs_ >= 0 && count_ >= max_docs_; }
  void Append(bson::View doc);
  int64_t count() const { return count_; }

 private:
  bson::Builder* array_;
  int64_t max_docs_;  // < 0: no limit on the number of documents
  size_t max_bytes_;
  int64_t count_ = 0;
  size_t bytes_ = 0;
  std::string scratch_;
};

// A pull source of result documents (one query plan, a pipeline, a list...).
class DocumentStream {
 public:
  virtual ~DocumentStream() = default;
  // Next document into *out; false when exhausted.
  virtual StatusWith<bool> Next(OperationContext& op, bson::Doc* out) = 0;
  // True when Next() is known to return false (e.g. a limit was reached), so a full
  // batch can close the cursor without a further round trip.
  virtual bool Exhausted() const { return false; }
};

class ClientCursor {
 public:
  virtual ~ClientCursor() = default;
  // Fills `batch` (up to its limits). Returns true when the cursor is exhausted (it is
  // then closed and the reply carries id 0).
  virtual StatusWith<bool> NextBatch(OperationContext& op, BatchBuilder* batch) = 0;
  // Extra fields for the reply's cursor document after the batch (e.g. a change stream's
  // postBatchResumeToken).
  virtual void AppendCursorFields(bson::Builder* /*cursor_doc*/) {}
};

// A cursor over a DocumentStream, keeping the one document that did not fit.
class StreamCursor : public ClientCursor {
 public:
  explicit StreamCursor(std::unique_ptr<DocumentStream> stream) : stream_(std::move(stream)) {}
  StatusWith<bool> NextBatch(OperationContext& op, BatchBuilder* batch) override;

 private:
  std::unique_ptr<DocumentStream> stream_;
  std::optional<bson::Doc> pending_;
};

// A stream over documents computed up front (listCollections, listIndexes, sorted results).
class VectorStream : public DocumentStream {
 public:
  explicit VectorStream(std::vector<bson::Doc> docs) : docs_(std::move(docs)) {}
  StatusWith<bool> Next(OperationContext& op, bson::Doc* out) override;

 private:
  std::vector<bson::Doc> docs_;
  size_t pos_ = 0;
};

struct CursorOwner {
  int64_t connection_id = 0;
  std::optional<bson::Doc> lsid;
  // With access control on: "<db>.<user>" that opened the cursor ("" when the opener was
  // not authenticated); nullopt until the dispatcher stamps it, just before the reply that
  // first reveals the id leaves (an unstamped cursor belongs to nobody).
  std::optional<std::string> user;
};

class CursorRegistry {
 private:
  struct Entry;

 public:
  explicit CursorRegistry(ServerStats* stats);
  ~CursorRegistry();

  // A cursor checked out for one getMore; returned to the registry when destroyed
  // (or closed for good with Exhaust()).
  class Pinned {
   public:
    Pinned() = default;
    Pinned(Pinned&& o) noexcept : registry_(o.registry_), entry_(std::move(o.entry_)) { o.registry_ = nullptr; }
    Pinned& operator=(Pinned&& o) noexcept;
    ~Pinned();
    ClientCursor* cursor() const;
    int64_t id() const;
    const std::string& ns() const;
    // Set (for good) when the cursor is killed; an awaitData getMore keeps it across its
    // wait, when the cursor is not pinned, to end the wait and answer CursorKilled.
    std::shared_ptr<const std::atomic<bool>> kill_flag() const;
    // Removes the cursor from the registry (it answered its last batch).
    void Exhaust();

   private:
    friend class CursorRegistry;
    Pinned(CursorRegistry* r, std::shared_ptr<Entry> e) : registry_(r), entry_(std::move(e)) {}
    CursorRegistry* registry_ = nullptr;
    std::shared_ptr<Entry> entry_;
  };

  // Registers an open cursor; returns its id (random, positive, unique).
  int64_t Register(std::string ns, std::unique_ptr<ClientCursor> cursor, CursorOwner owner);
  // CursorNotFound (43) "cursor id N not found"; Unauthorized (13) when `ns` differs
  // from the cursor's namespace; CursorNotFound when another getMore holds it.
  StatusWith<Pinned> Pin(int64_t id, std::string_view ns);
  // Whether a cursor with `id` exists (and belongs to `ns` when given).
  bool Exists(int64_t id, std::string_view ns = {}) const;
  // The owner of a live cursor; nullopt when unknown or killed.
  std::optional<CursorOwner> OwnerOf(int64_t id) const;
  // Records the authenticated user that opened cursor `id`, once (later calls are no-ops).
  void StampUser(int64_t id, const std::string& user);
  // Kills a cursor (deferred until release if pinned). false when unknown. Sets the
  // cursor's kill_flag, then calls the kill listener with its id.
  bool Kill(int64_t id);
  // Called after a cursor is killed by Kill/KillForSession (not by idle expiry), outside
  // the registry's lock; the server wakes the getMore waiting on it. Set before serving.
  void SetKillListener(std::function<void(int64_t)> listener);
  // Kills every cursor opened under `lsid` (killSessions/endSessions).
  size_t KillForSession(bson::View lsid);
  // Kills cursors idle longer than the timeout; returns how many.
  size_t ReapIdle(std::chrono::steady_clock::time_point now);
  void set_idle_timeout(std::chrono::milliseconds t);
  size_t size() const;

 private:
  void Release(const std::shared_ptr<Entry>& entry, bool exhausted);
  void Erase(int64_t id);

  ServerStats* stats_;
  mutable std::mutex mu_;
  std::unordered_map<int64_t, std::shared_ptr<Entry>> cursors_;
  std::chrono::milliseconds idle_timeout_ = kDefaultCursorTimeout;
  std::function<void(int64_t)> kill_listener_;
};

// Appends {cursor: {<batch_field>: [...], id, ns, ...}} for a new cursor: runs the first
// batch and registers the cursor unless it is exhausted (or `single_batch`).
Status ReplyWithCursor(OperationContext& op, std::string ns, std::unique_ptr<ClientCursor> cursor,
                       int64_t first_batch_docs, bool single_batch, bson::Builder* reply);

}  // namespace brook::commands
