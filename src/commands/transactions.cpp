#include "commands/transactions.h"

#include <atomic>
#include <unordered_map>

#include "bson/builder.h"
#include "commands/registry.h"
#include "commands/sessions.h"
#include "storage/engine.h"

namespace brook::commands {

// Keys written by open transactions, each with its owner. MongoDB (WiredTiger) lets the
// first writer of a key keep it until its transaction ends; a second writer fails at
// once with WriteConflict instead of at commit, which lets the driver retry early.
class TxnLockTable {
 public:
  // True when `key` is free or already `owner`'s; then `owner` holds it.
  bool Acquire(uint64_t owner, const std::string& key) {
    std::lock_guard<std::mutex> l(mu_);
    auto [it, inserted] = owners_.emplace(key, owner);
    return inserted || it->second == owner;
  }
  void Release(uint64_t owner, const std::vector<std::string>& keys) {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& k : keys) {
      auto it = owners_.find(k);
      if (it != owners_.end() && it->second == owner) owners_.erase(it);
    }
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, uint64_t> owners_;
};

namespace {

std::atomic<uint64_t> next_owner{1};

// The transaction's own oplog size bound: MongoDB splits larger transactions into
// several applyOps entries; Brook writes one and refuses beyond the BSON limit.
constexpr size_t kMaxTransactionOpsBytes = 16 * 1024 * 1024 - 64 * 1024;

bool LockedFamily(storage::Family f) {
  return f == storage::Family::kRecords || f == storage::Family::kIndex ||
         f == storage::Family::kCatalog;
}

bool IsCommitOrAbort(std::string_view name) {
  return name == "commitTransaction" || name == "abortTransaction";
}

std::string LsidText(const OperationContext& op) {
  return op.lsid ? bson::View(*op.lsid).ToString() : std::string("{}");
}

}  // namespace

// The transaction's view of storage: the engine unit plus key ownership and the
// collected oplog drafts (which become one applyOps entry at commit).
class TxnUnit final : public storage::WriteUnit {
 public:
  TxnUnit(std::unique_ptr<storage::WriteUnit> inner, std::shared_ptr<TxnLockTable> locks)
      : inner_(std::move(inner)), locks_(std::move(locks)), owner_(next_owner.fetch_add(1)) {}
  ~TxnUnit() override { ReleaseLocks(); }

  StatusWith<std::string> Get(storage::Family f, std::string_view key) override {
    return inner_->Get(f, key);
  }
  std::unique_ptr<storage::Iterator> NewIterator(storage::Family f, std::string_view lower,
                                                 std::string_view upper) override {
    return inner_->NewIterator(f, lower, upper);
  }
  void Put(storage::Family f, std::string_view key, std::string_view value) override {
    Lock(f, key);
    inner_->Put(f, key, value);
  }
  void Delete(storage::Family f, std::string_view key) override {
    Lock(f, key);
    inner_->Delete(f, key);
  }
  StatusWith<std::string> GetForUpdate(storage::Family f, std::string_view key) override {
    return inner_->GetForUpdate(f, key);
  }
  void TrackForUpdate(storage::Family f, std::string_view key) override {
    inner_->TrackForUpdate(f, key);
  }
  bool has_writes() const override { return inner_->has_writes() || !drafts_.empty(); }
  void AddOplog(storage::OplogDraft draft) override { drafts_.push_back(std::move(draft)); }
  size_t oplog_count() const override { return drafts_.size(); }
  size_t approximate_size() const override { return inner_->approximate_size(); }

  storage::WriteUnit& inner() { return *inner_; }
  std::vector<storage::OplogDraft>& drafts() { return drafts_; }
  const Status& conflict() const { return conflict_; }

  void ReleaseLocks() {
    locks_->Release(owner_, held_);
    held_.clear();
  }

 private:
  void Lock(storage::Family f, std::string_view key) {
    if (!LockedFamily(f)) return;
    std::string k;
    k.reserve(key.size() + 1);
    k.push_back(static_cast<char>(f));
    k.append(key);
    if (locks_->Acquire(owner_, k)) {
      held_.push_back(std::move(k));
    } else if (conflict_.ok()) {
      conflict_ = Status(ErrorCodes::kWriteConflict,
                         "WriteConflict error: this operation conflicted with another operation. "
                         "Please retry your operation or multi-document transaction.");
    }
  }

  std::unique_ptr<storage::WriteUnit> inner_;
  std::shared_ptr<TxnLockTable> locks_;
  uint64_t owner_;
  std::vector<std::string> held_;
  std::vector<storage::OplogDraft> drafts_;
  Status conflict_;
};

// ---------------------------------------------------------------- Transaction

Transaction::Transaction(storage::Engine* engine, std::shared_ptr<TxnLockTable> locks,
                         bson::Doc lsid, std::string lsid_key, int64_t txn_number)
    : engine_(engine),
      locks_(locks),
      lsid_(std::move(lsid)),
      lsid_key_(std::move(lsid_key)),
      txn_number_(txn_number),
      unit_(std::make_unique<TxnUnit>(engine->BeginWriteUnit(), std::move(locks))) {}

Transaction::~Transaction() = default;

storage::WriteUnit& Transaction::unit() { return *unit_; }

std::shared_ptr<storage::Snapshot> Transaction::ReadSnapshot() {
  return std::shared_ptr<storage::Snapshot>(shared_from_this(), unit_.get());
}

Status Transaction::conflict() const { return unit_->conflict(); }

void Transaction::NoteCreated(const catalog::CollectionPtr& coll) {
  for (auto& c : created_) {
    if (c->ns.ns() == coll->ns.ns()) {
      c = coll;
      return;
    }
  }
  created_.push_back(coll);
}

catalog::CollectionPtr Transaction::LookupCreated(const catalog::Namespace& ns) const {
  for (const auto& c : created_) {
    if (c->ns.db == ns.db && c->ns.coll == ns.coll) return c;
  }
  return nullptr;
}

void Transaction::ReleaseLocks() { unit_->ReleaseLocks(); }

StatusWith<bson::Timestamp> Transaction::Commit(SessionCatalog* sessions) {
  BROOK_RETURN_IF_ERROR(unit_->conflict());
  std::vector<storage::OplogDraft>& drafts = unit_->drafts();
  storage::WriteUnit& inner = unit_->inner();
  if (!drafts.empty()) {
    storage::OplogDraft entry;
    bson::Builder b;
    b.AppendString("op", "c");
    b.AppendString("ns", "admin.$cmd");
    b.OpenDocument("o");
    b.OpenArray("applyOps");
    std::string scratch;
    size_t bytes = 0;
    for (size_t i = 0; i < drafts.size(); ++i) {
      b.OpenDocument(bson::ArrayKey(i, &scratch));
      for (const bson::Element& e : drafts[i].body.view()) {
        std::string_view k = e.key();
        // The session fields belong to the whole entry, not to its operations.
        if (k == "lsid" || k == "txnNumber" || k == "stmtId") continue;
        b.Append(e);
      }
      b.Close();
      bytes += drafts[i].body.size();
      if (drafts[i].preimage) {
        bytes += drafts[i].preimage->size();
        entry.op_preimages.push_back(storage::OplogDraft::OpPreimage{
            drafts[i].collection_uuid, static_cast<uint32_t>(i), std::move(*drafts[i].preimage)});
      }
      if (bytes > kMaxTransactionOpsBytes) {
        return Status(ErrorCodes::kTransactionTooLarge,
                      "Total size of all transaction operations must be less than 16MB");
      }
    }
    b.Close();
    b.Close();
    b.AppendDocument("lsid", lsid_);
    b.AppendInt64("txnNumber", txn_number_);
    b.OpenDocument("prevOpTime");
    b.AppendTimestamp("ts", bson::Timestamp{});
    b.AppendInt64("t", -1);
    b.Close();
    entry.body = b.Done();
    drafts.clear();
    inner.AddOplog(std::move(entry));
  }
  if (!inner.has_writes()) return bson::Timestamp{};
  if (sessions) {
    bson::Builder record;
    record.AppendBool("committed", true);
    sessions->RecordExecuted(inner, RetryableStmt{lsid_key_, txn_number_, kCommitRecordStmtId},
                             record.Done());
  }
  auto committed = engine_->Commit(inner);
  if (!committed.ok()) return committed.status();
  return committed.value().last_ts;
}

ReadView OpenReadView(OperationContext& op, const catalog::Namespace& ns) {
  ReadView v;
  if (op.txn) {
    v.coll = op.txn->LookupCreated(ns);
    if (!v.coll) v.coll = op.service().catalog->Lookup(ns);
    if (v.coll) v.snap = op.txn->ReadSnapshot();
    return v;
  }
  v.coll = op.service().catalog->Lookup(ns);
  if (v.coll) v.snap = op.service().engine->GetSnapshot();
  return v;
}

// ---------------------------------------------------------------- TransactionRegistry

TransactionRegistry::TransactionRegistry(storage::Engine* engine)
    : engine_(engine), locks_(std::make_shared<TxnLockTable>()) {}

TransactionRegistry::~TransactionRegistry() {
  {
    std::lock_guard<std::mutex> l(reaper_mu_);
    stopping_ = true;
  }
  reaper_cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
}

void TransactionRegistry::StartReaper(std::function<int64_t()> lifetime_seconds) {
  reaper_ = std::thread([this, lifetime_seconds = std::move(lifetime_seconds)] {
    std::unique_lock<std::mutex> l(reaper_mu_);
    while (!stopping_) {
      reaper_cv_.wait_for(l, std::chrono::seconds(1));
      if (stopping_) break;
      l.unlock();
      auto now = std::chrono::steady_clock::now();
      AbortOlderThan(now - std::chrono::seconds(lifetime_seconds()));
      ForgetIdleSince(now - std::chrono::milliseconds(kLocalSessionTimeoutMillis));
      l.lock();
    }
  });
}

std::shared_ptr<SessionTxnState> TransactionRegistry::Get(const std::string& lsid_key, bool create) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = sessions_.find(lsid_key);
  if (it != sessions_.end()) return it->second;
  if (!create) return nullptr;
  auto s = std::make_shared<SessionTxnState>();
  sessions_.emplace(lsid_key, s);
  return s;
}

void TransactionRegistry::AbortLocked(SessionTxnState& s) {
  if (s.state != TxnState::kInProgress) return;
  if (s.txn) s.txn->ReleaseLocks();
  s.txn.reset();
  s.state = TxnState::kAborted;
  total_aborted_.fetch_add(1, std::memory_order_relaxed);
}

Status TransactionRegistry::CheckOut(const CommandSpec& spec, OperationContext& op) {
  if (!op.lsid || !op.txn_number) return Status::OK();
  auto key = SessionCatalog::LsidKey(*op.lsid);
  if (!key.ok()) return key.status();
  const int64_t n = *op.txn_number;
  const bool commit_or_abort = IsCommitOrAbort(spec.name);

  if (!op.autocommit) {
    // A retryable write: a newer txnNumber ends the session's transaction, as a new
    // transaction would.
    if (commit_or_abort) {
      return Status(ErrorCodes::kInvalidOptions,
                    std::string(spec.name) + " must be run within a transaction");
    }
    auto s = Get(key.value(), false);
    if (!s) return Status::OK();
    std::lock_guard<std::mutex> l(s->mu);
    if (n > s->txn_number && !s->in_use) AbortLocked(*s);
    return Status::OK();
  }

  auto s = Get(key.value(), true);
  std::lock_guard<std::mutex> l(s->mu);
  if (s->in_use) {
    return Status(ErrorCodes::kConflictingOperationInProgress,
                  "Cannot run a command on session " + LsidText(op) +
                      " while another command runs on it");
  }
  if (n < s->txn_number) {
    return Status(ErrorCodes::kTransactionTooOld,
                  "Cannot start transaction " + std::to_string(n) + " on session " + LsidText(op) +
                      " because a newer transaction " + std::to_string(s->txn_number) +
                      " has already started.");
  }
  if (op.start_transaction) {
    if (n == s->txn_number) {
      return Status(ErrorCodes::kConflictingOperationInProgress,
                    "Cannot start transaction " + std::to_string(n) + " on session " +
                        LsidText(op) + " because a transaction with the same number has already started");
    }
    if (op.read_concern.provided && !op.read_concern.level.empty() &&
        op.read_concern.level != "snapshot" && op.read_concern.level != "majority" &&
        op.read_concern.level != "local") {
      return Status(ErrorCodes::kInvalidOptions,
                    "The readConcern level must be either 'local' (default), 'majority' or "
                    "'snapshot' in order to run in a transaction");
    }
    if (op.service().sessions) {
      // Transactions and retryable writes share the session's txnNumbers.
      auto fresh = op.service().sessions->CheckAndAdvanceTxnNumber(key.value(), n);
      if (!fresh.ok()) return fresh.status();
    }
    AbortLocked(*s);
    s->txn_number = n;
    s->txn = std::make_shared<Transaction>(engine_, locks_, *op.lsid, key.value(), n);
    s->state = TxnState::kInProgress;
    total_started_.fetch_add(1, std::memory_order_relaxed);
    s->commit_ts = bson::Timestamp{};
    s->started = std::chrono::steady_clock::now();
  } else {
    if ((n > s->txn_number || s->state == TxnState::kNone) && spec.name == "commitTransaction" &&
        op.service().sessions) {
      // A commit retried after a restart: the commit record says whether it happened.
      auto snap = engine_->GetSnapshot();
      auto record = op.service().sessions->FindExecuted(
          *snap, RetryableStmt{key.value(), n, kCommitRecordStmtId});
      if (!record.ok()) return record.status();
      if (record.value()) {
        s->txn_number = n;
        s->state = TxnState::kCommitted;
        s->txn.reset();
        s->commit_ts = engine_->visible();
      }
    }
    if (n > s->txn_number || s->state == TxnState::kNone) {
      return Status(ErrorCodes::kNoSuchTransaction,
                    "Given transaction number " + std::to_string(n) +
                        " does not match any in-progress transactions. The active transaction "
                        "number is " + std::to_string(s->txn_number));
    }
    if (s->state == TxnState::kAborted) {
      return Status(ErrorCodes::kNoSuchTransaction,
                    "Transaction with { txnNumber: " + std::to_string(n) + " } has been aborted.");
    }
    if (s->state == TxnState::kCommitted && spec.name != "commitTransaction") {
      return Status(ErrorCodes::kTransactionCommitted,
                    "Transaction with { txnNumber: " + std::to_string(n) + " } has been committed.");
    }
  }

  // From here on a refused command ends the transaction, as in MongoDB.
  Status refused = Status::OK();
  if (!(spec.flags & kAllowedInTransaction) && !commit_or_abort) {
    refused = Status(ErrorCodes::kOperationNotSupportedInTransaction,
                     "Cannot run '" + std::string(spec.name) + "' in a multi-document transaction.");
  } else if (!op.start_transaction && !commit_or_abort && op.read_concern.provided) {
    refused = Status(ErrorCodes::kInvalidOptions,
                     "Only the first command in a transaction may specify a readConcern");
  } else if (!commit_or_abort && op.write_concern.provided) {
    refused = Status(ErrorCodes::kInvalidOptions,
                     "Cannot set write concern after starting a transaction.");
  }
  if (!refused.ok()) {
    AbortLocked(*s);
    return refused;
  }
  s->in_use = true;
  s->last_use = std::chrono::steady_clock::now();
  op.txn = s->txn;
  op.txn_session = s;
  return Status::OK();
}

void TransactionRegistry::CheckIn(OperationContext& op, std::string_view command, bool ok,
                                  bson::View reply) {
  auto s = op.txn_session;
  if (!s) return;
  op.txn_session.reset();
  std::lock_guard<std::mutex> l(s->mu);
  s->in_use = false;
  s->last_use = std::chrono::steady_clock::now();
  bool failed = !ok || (!reply.empty() && reply["writeErrors"].IsArray());
  if (failed && !IsCommitOrAbort(command) && s->txn == op.txn) AbortLocked(*s);
}

Status TransactionRegistry::Commit(OperationContext& op) {
  auto s = op.txn_session;
  if (!s) return Status(ErrorCodes::kNoSuchTransaction, "no transaction to commit");
  TxnState state;
  std::shared_ptr<Transaction> txn;
  {
    std::lock_guard<std::mutex> l(s->mu);
    state = s->state;
    txn = s->txn;
  }
  if (state == TxnState::kCommitted) {
    // A retried commit: the outcome is already decided; still honour its writeConcern.
    bson::Timestamp ts = s->commit_ts;
    if (!ts.IsNull()) {
      if (op.operation_time < ts) op.operation_time = ts;
      if (op.write_concern.NeedsDurability()) op.wait_for_durable = ts;
    }
    return Status::OK();
  }
  if (state != TxnState::kInProgress || !txn) {
    return Status(ErrorCodes::kNoSuchTransaction, "Transaction has been aborted.");
  }
  auto committed = txn->Commit(op.service().sessions);
  std::lock_guard<std::mutex> l(s->mu);
  txn->ReleaseLocks();
  s->txn.reset();
  if (!committed.ok()) {
    s->state = TxnState::kAborted;
    total_aborted_.fetch_add(1, std::memory_order_relaxed);
    return committed.status();
  }
  total_committed_.fetch_add(1, std::memory_order_relaxed);
  for (const auto& c : txn->created()) op.service().catalog->Publish(c);
  s->state = TxnState::kCommitted;
  s->commit_ts = committed.value();
  bson::Timestamp ts = committed.value();
  if (!ts.IsNull()) {
    if (op.operation_time < ts) op.operation_time = ts;
    if (op.write_concern.NeedsDurability()) op.wait_for_durable = ts;
  }
  return Status::OK();
}

Status TransactionRegistry::Abort(OperationContext& op) {
  auto s = op.txn_session;
  if (!s) return Status(ErrorCodes::kNoSuchTransaction, "no transaction to abort");
  std::lock_guard<std::mutex> l(s->mu);
  if (s->state == TxnState::kCommitted) {
    return Status(ErrorCodes::kTransactionCommitted,
                  "Transaction with { txnNumber: " + std::to_string(s->txn_number) +
                      " } has been committed.");
  }
  AbortLocked(*s);
  return Status::OK();
}

void TransactionRegistry::AbortSession(const std::string& lsid_key) {
  // Lock order: the registry, then a session.
  std::lock_guard<std::mutex> l(mu_);
  auto it = sessions_.find(lsid_key);
  if (it == sessions_.end()) return;
  std::shared_ptr<SessionTxnState> s = it->second;
  std::lock_guard<std::mutex> sl(s->mu);
  if (s->in_use) return;  // a command is running on it; the reaper ends it later
  AbortLocked(*s);
  // An ended session is not used again: forgetting it bounds the registry.
  sessions_.erase(it);
}

size_t TransactionRegistry::AbortOlderThan(std::chrono::steady_clock::time_point cutoff) {
  std::vector<std::shared_ptr<SessionTxnState>> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [k, s] : sessions_) all.push_back(s);
  }
  size_t n = 0;
  for (const auto& s : all) {
    std::lock_guard<std::mutex> l(s->mu);
    if (s->state == TxnState::kInProgress && !s->in_use && s->started < cutoff) {
      AbortLocked(*s);
      ++n;
    }
  }
  return n;
}

size_t TransactionRegistry::ForgetIdleSince(std::chrono::steady_clock::time_point cutoff) {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    bool idle;
    {
      std::lock_guard<std::mutex> sl(it->second->mu);
      const SessionTxnState& s = *it->second;
      idle = s.state != TxnState::kInProgress && !s.in_use && s.last_use < cutoff;
    }
    if (idle) {
      it = sessions_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

void TransactionRegistry::AppendServerStatus(bson::Builder* out) {
  int64_t active = 0, inactive = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [k, s] : sessions_) {
      std::lock_guard<std::mutex> sl(s->mu);
      if (s->state != TxnState::kInProgress) continue;
      ++(s->in_use ? active : inactive);
    }
  }
  out->AppendInt64("currentActive", active);
  out->AppendInt64("currentInactive", inactive);
  out->AppendInt64("currentOpen", active + inactive);
  out->AppendInt64("totalAborted", total_aborted_.load(std::memory_order_relaxed));
  out->AppendInt64("totalCommitted", total_committed_.load(std::memory_order_relaxed));
  out->AppendInt64("totalStarted", total_started_.load(std::memory_order_relaxed));
}

size_t TransactionRegistry::OpenCount() {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = 0;
  for (const auto& [k, s] : sessions_) {
    std::lock_guard<std::mutex> sl(s->mu);
    if (s->state == TxnState::kInProgress) ++n;
  }
  return n;
}

}  // namespace brook::commands
