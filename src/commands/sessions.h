#pragma once
// Retryable writes: the per-session record of executed statements.
//
// Owns: the `sessions` column family's retryable-write records and the highest
// txnNumber seen per logical session. A write command that carries lsid + txnNumber
// records each statement's result in the SAME WriteUnit as the write itself, so a retry
// of (lsid, txnNumber, stmtId) -- even after a restart -- returns the recorded result
// instead of applying the statement twice.
//
// On-disk facts (do not change): key "rw" + lsid id (16-byte UUID) + txnNumber (8 bytes
// big-endian, sign bit flipped) + stmtId (4 bytes big-endian, sign bit flipped) -> BSON
// {result: {...}}: the statement's outcome as the command needs it to rebuild its reply
// (insert {n}; update {n, nModified, upserted?: {_id}}; delete {n, deleted?};
// findAndModify also keeps pre/post images: {n, nModified, upserted?, pre?, post?}).
// A committed multi-document transaction records stmtId kCommitRecordStmtId -> {committed:
// true} in its commit batch, so a commit retried after a restart is answered OK.
// Thread-safety: SessionCatalog is thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bson/document.h"
#include "util/status.h"

namespace brook::storage {
class Engine;
class WriteUnit;
class Snapshot;
}  // namespace brook::storage

namespace brook::commands {

// Identifies one retryable write statement.
struct RetryableStmt {
  std::string lsid_id;  // the 16 UUID bytes of lsid.id
  int64_t txn_number = 0;
  int32_t stmt_id = 0;
};

class SessionCatalog {
 public:
  explicit SessionCatalog(storage::Engine* engine);

  // The lsid's id bytes. BadValue when lsid has no UUID `id`.
  static StatusWith<std::string> LsidKey(bson::View lsid);

  // Called when a retryable write command starts: TransactionTooOld (225) when
  // `txn_number` is lower than the highest already used with this session; otherwise
  // makes it the highest. True when it is higher than any number this session used
  // before (in memory or on disk): then no statement of it can have a record yet.
  StatusWith<bool> CheckAndAdvanceTxnNumber(const std::string& lsid_id, int64_t txn_number);

  // The recorded result of a statement executed before, or nullopt. Read inside the
  // write's own unit so that two concurrent retries conflict instead of both applying.
  StatusWith<std::optional<bson::Doc>> FindExecuted(storage::Snapshot& snap,
                                                    const RetryableStmt& stmt);

  // Stages the record of `stmt` with `result` in `unit` (committed with the write).
  void RecordExecuted(storage::WriteUnit& unit, const RetryableStmt& stmt, bson::View result);

  // Forgets in-memory state for a session (endSessions); records stay on disk.
  void Forget(const std::string& lsid_id);

  // The logical sessions this server has seen ($listLocalSessions; MongoDB's
  // LogicalSessionCache without auth): lsid id -> last use (ms since the epoch). Memory
  // only, bounded (the least recently used are dropped beyond kMaxLocalSessions).
  void NoteUse(const std::string& lsid_id, int64_t now_millis);
  void EndLocal(const std::string& lsid_id);
  // [{_id: {id: UUID, uid: BinData(0, sha256(""))}, lastUse: Date}], by lsid id.
  std::vector<bson::Doc> ListLocal() const;

 private:
  StatusWith<int64_t> LoadHighest(const std::string& lsid_id);

  storage::Engine* engine_;
  std::mutex mu_;
  std::map<std::string, int64_t> highest_;  // lsid id -> highest txnNumber
  mutable std::mutex local_mu_;
  std::map<std::string, int64_t> local_;  // lsid id -> last use
};

inline constexpr size_t kMaxLocalSessions = 100000;
// The stmtId of a transaction's commit record (on disk: do not change).
inline constexpr int32_t kCommitRecordStmtId = INT32_MAX;
// MongoDB's localLogicalSessionTimeoutMinutes (30): older sessions are not listed.
inline constexpr int64_t kLocalSessionTimeoutMillis = 30 * 60 * 1000;

class OperationContext;
// Records the operation's lsid (if any) as used now.
void NoteSessionUse(OperationContext& op);

std::string RetryableStmtKey(const RetryableStmt& stmt);

}  // namespace brook::commands
