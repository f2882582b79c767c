#pragma once
// Multi-document transactions (docs/transactions.md).
//
// Owns: each logical session's transaction state machine (none -> in progress ->
// committed | aborted, keyed by lsid and txnNumber), the long-lived WriteUnit a
// transaction reads and writes through across commands, the table of keys written by
// open transactions (a second writer gets WriteConflict at once, as MongoDB's first
// writer wins), the commit (one engine commit holding every change and ONE applyOps
// oplog entry, so all of it lands atomically at one timestamp), and the reaper that
// aborts transactions older than transactionLifetimeLimitSeconds.
//
// A command in a transaction runs between CheckOut and CheckIn (the dispatcher calls
// both): CheckOut validates the session's txnNumber and state and hands the command
// the Transaction through OperationContext::txn; CheckIn aborts the transaction when the
// command failed (MongoDB aborts a transaction on any error of one of its statements).
//
// On-disk/on-wire facts: the commit's oplog entry is MongoDB's unprepared-transaction
// shape {op: "c", ns: "admin.$cmd", o: {applyOps: [{op, ns, ui, o, o2?}, ...]}, lsid,
// txnNumber, stmtId: 0, prevOpTime: {ts: Timestamp(0, 0), t: -1}}; the pre-image of its
// operation i is stored under (collection uuid, entry ts, i). The change-stream layer
// unwinds it (UnwindTransactionStage).
// Thread-safety: TransactionRegistry is thread-safe. A Transaction is used by one
// command at a time (its session is checked out while the command runs).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bson/builder.h"
#include "bson/document.h"
#include "catalog/catalog.h"
#include "commands/operation_context.h"
#include "util/status.h"

namespace brook::storage {
class Engine;
class WriteUnit;
class Snapshot;
}  // namespace brook::storage

namespace brook::commands {

struct CommandSpec;
class SessionCatalog;
class TxnLockTable;
class TxnUnit;

// One open transaction: a WriteUnit held across commands.
class Transaction : public std::enable_shared_from_this<Transaction> {
 public:
  Transaction(storage::Engine* engine, std::shared_ptr<TxnLockTable> locks, bson::Doc lsid,
              std::string lsid_key, int64_t txn_number);
  ~Transaction();

  int64_t txn_number() const { return txn_number_; }
  // What statements write through: reads see the snapshot plus this transaction's own
  // writes; oplog drafts are collected for the commit's applyOps entry.
  storage::WriteUnit& unit();
  // The unit as a snapshot for cursors; it keeps the transaction's state alive for as
  // long as a cursor holds it.
  std::shared_ptr<storage::Snapshot> ReadSnapshot();
  // WriteConflict once a write hit a key another open transaction wrote; OK otherwise.
  Status conflict() const;

  // Collections this transaction created: visible to its own statements only, published
  // to everyone after the commit.
  void NoteCreated(const catalog::CollectionPtr& coll);
  catalog::CollectionPtr LookupCreated(const catalog::Namespace& ns) const;
  const std::vector<catalog::CollectionPtr>& created() const { return created_; }

  // Commits everything with one applyOps entry, and (with `sessions`) the session's
  // commit record. The commit timestamp, or a null one when the transaction wrote
  // nothing. TransactionTooLarge (257) above 16 MB of operations.
  StatusWith<bson::Timestamp> Commit(SessionCatalog* sessions);
  // Frees the keys this transaction wrote for other writers (at commit or abort; a
  // cursor may keep the Transaction object itself alive longer).
  void ReleaseLocks();

 private:
  storage::Engine* engine_;
  std::shared_ptr<TxnLockTable> locks_;
  bson::Doc lsid_;
  std::string lsid_key_;
  int64_t txn_number_;
  std::unique_ptr<TxnUnit> unit_;
  std::vector<catalog::CollectionPtr> created_;
};

// The reads of a command: inside a transaction its unit and its own new collections,
// otherwise the catalog and a fresh snapshot. `coll` is null when `ns` does not exist.
struct ReadView {
  catalog::CollectionPtr coll;
  std::shared_ptr<storage::Snapshot> snap;
};
ReadView OpenReadView(OperationContext& op, const catalog::Namespace& ns);

enum class TxnState { kNone, kInProgress, kCommitted, kAborted };

// One session's transaction record.
struct SessionTxnState {
  std::mutex mu;
  int64_t txn_number = -1;  // the newest transaction number seen with autocommit:false
  TxnState state = TxnState::kNone;
  std::shared_ptr<Transaction> txn;  // while in progress
  bson::Timestamp commit_ts;         // once committed (null: it wrote nothing)
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point last_use;
  bool in_use = false;
};

class TransactionRegistry {
 public:
  explicit TransactionRegistry(storage::Engine* engine);
  ~TransactionRegistry();

  // Starts the reaper thread: every second it aborts transactions (not running a
  // command) older than lifetime_seconds() seconds, and forgets idle sessions.
  void StartReaper(std::function<int64_t()> lifetime_seconds);

  // Before a command with an lsid runs. Inside a transaction (autocommit:false): starts
  // or continues it, with MongoDB's errors (TransactionTooOld, NoSuchTransaction,
  // TransactionCommitted, OperationNotSupportedInTransaction, InvalidOptions), and sets
  // op.txn / op.txn_session. A retryable write with a newer txnNumber aborts the
  // session's open transaction.
  Status CheckOut(const CommandSpec& spec, OperationContext& op);
  // After the command: releases the session; aborts the transaction if the command
  // failed (`ok` false), or if `reply` holds writeErrors.
  void CheckIn(OperationContext& op, std::string_view command, bool ok, bson::View reply);

  // commitTransaction / abortTransaction, on a checked-out session.
  Status Commit(OperationContext& op);
  Status Abort(OperationContext& op);

  // endSessions / killSessions: aborts the session's open transaction.
  void AbortSession(const std::string& lsid_key);
  // Aborts transactions started before `cutoff` that are not running a command; returns
  // how many (the reaper, killAllSessions with time_point::max(), and tests).
  size_t AbortOlderThan(std::chrono::steady_clock::time_point cutoff);
  // Forgets sessions without an open transaction not used since `cutoff` (the reaper,
  // after MongoDB's 30-minute logical session timeout), so idle clients cannot grow the
  // registry forever. A forgotten session's commits are still answered from their
  // commit records. Returns how many.
  size_t ForgetIdleSince(std::chrono::steady_clock::time_point cutoff);
  // Number of transactions in progress (serverStatus-like checks, tests).
  size_t OpenCount();
  // serverStatus's `transactions` section: currentActive (running a command),
  // currentInactive, currentOpen, totalStarted, totalCommitted, totalAborted.
  void AppendServerStatus(bson::Builder* out);

 private:
  std::shared_ptr<SessionTxnState> Get(const std::string& lsid_key, bool create);
  // Ends the open transaction of a session whose lock the caller holds.
  void AbortLocked(SessionTxnState& s);

  storage::Engine* engine_;
  std::shared_ptr<TxnLockTable> locks_;
  std::atomic<int64_t> total_started_{0};
  std::atomic<int64_t> total_committed_{0};
  std::atomic<int64_t> total_aborted_{0};
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<SessionTxnState>> sessions_;

  std::mutex reaper_mu_;
  std::condition_variable reaper_cv_;
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace brook::commands
