// Transactions at the handler level against a real engine: the state machine's errors,
// isolation (snapshot plus own writes), the single applyOps commit, write conflicts
// between transactions, and the lifetime reaper.
#include "commands/transactions.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "bson/builder.h"
#include "bson/json.h"
#include "catalog/catalog.h"
#include "commands/cursor_registry.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/registry.h"
#include "commands/server_stats.h"
#include "commands/sessions.h"
#include "storage/engine.h"
#include "util/error_codes.h"

namespace brook::commands {
namespace {

bson::Doc J(std::string_view json) {
  auto d = bson::FromJson(json);
  EXPECT_TRUE(d.ok()) << json << " " << d.status().ToString();
  return std::move(d).value();
}

bson::Doc Lsid(char fill) {
  bson::Builder b;
  b.AppendBinary("id", 4, std::string(16, fill));
  return b.Done();
}

struct Txn {
  bson::Doc lsid;
  int64_t number;
  bool start = false;
};

class TransactionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/brook_txn_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    storage::EngineOptions opts;
    opts.dbpath = dir_;
    auto e = storage::Engine::Open(opts);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    auto c = catalog::Catalog::Open(engine_.get());
    ASSERT_TRUE(c.ok());
    catalog_ = std::move(c).value();
    cursors_ = std::make_unique<CursorRegistry>(&stats_);
    sessions_ = std::make_unique<SessionCatalog>(engine_.get());
    txns_ = std::make_unique<TransactionRegistry>(engine_.get());
    service_.engine = engine_.get();
    service_.catalog = catalog_.get();
    service_.cursors = cursors_.get();
    service_.sessions = sessions_.get();
    service_.transactions = txns_.get();
    service_.stats = &stats_;
  }
  void TearDown() override {
    txns_.reset();
    cursors_.reset();
    sessions_.reset();
    catalog_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs a command as the dispatcher does: CheckOut, handler, CheckIn. The reply, or
  // {ok: 0, code} for an error.
  bson::Doc Run(std::string_view json, const std::optional<Txn>& txn = std::nullopt) {
    bson::Doc body = J(json);
    std::string_view name = body.view().first().key();
    const CommandSpec* spec = FindCommand(name);
    EXPECT_NE(spec, nullptr) << name;
    OperationContext op(service_, client_);
    op.db = "test";
    if (txn) {
      op.lsid = txn->lsid;
      op.txn_number = txn->number;
      op.autocommit = false;
      op.start_transaction = txn->start;
    }
    CommandRequest req{name, "test", body};
    bson::Builder reply;
    Status st = txns_->CheckOut(*spec, op);
    bson::Doc out;
    if (st.ok()) {
      st = spec->handler(op, req, &reply);
      if (st.ok()) {
        reply.AppendDouble("ok", 1);
        out = reply.Done();
      }
      txns_->CheckIn(op, spec->name, st.ok(), st.ok() ? out.view() : bson::View());
    }
    if (!st.ok()) {
      bson::Builder err;
      err.AppendDouble("ok", 0);
      err.AppendInt32("code", st.code());
      err.AppendString("errmsg", st.reason());
      return err.Done();
    }
    return out;
  }

  static int32_t Code(const bson::Doc& reply) {
    return reply.view()["ok"].NumberDouble() == 1 ? 0 : reply.view()["code"].Int32();
  }

  std::vector<bson::Doc> Find(std::string_view json, const std::optional<Txn>& txn = std::nullopt) {
    auto r = Run(json, txn);
    EXPECT_EQ(Code(r), 0) << r.ToString();
    std::vector<bson::Doc> out;
    if (!r.view()["cursor"].IsObject()) return out;
    for (const auto& e : r.view()["cursor"].Obj()["firstBatch"].Obj()) out.push_back(bson::Doc::CopyOf(e.Obj()));
    return out;
  }

  bson::Doc LastOplog() {
    auto it = engine_->NewOplogIterator(bson::Timestamp{}, false);
    it->SeekToLast();
    EXPECT_TRUE(it->Valid());
    return bson::Doc(std::string(it->value()));
  }

  std::string dir_;
  ServerStats stats_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<CursorRegistry> cursors_;
  std::unique_ptr<SessionCatalog> sessions_;
  std::unique_ptr<TransactionRegistry> txns_;
  ServiceContext service_;
  ClientInfo client_;
};

constexpr int32_t kNoSuchTransaction = 251;
constexpr int32_t kTransactionTooOld = 225;
constexpr int32_t kTransactionCommitted = 256;
constexpr int32_t kNotSupportedInTxn = 263;
constexpr int32_t kWriteConflict = 112;

TEST_F(TransactionsTest, CommitWritesEverythingAsOneApplyOpsEntry) {
  ASSERT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 0, "v": 0}]})")), 0);
  Txn t{Lsid('a'), 1, true};
  ASSERT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}]})", t)), 0);
  t.start = false;
  ASSERT_EQ(Code(Run(R"({"update": "c", "updates": [{"q": {"_id": 0}, "u": {"$set": {"v": 1}}}]})", t)), 0);

  // The transaction sees its own writes; nobody else does before the commit.
  EXPECT_EQ(Find(R"({"find": "c"})", t).size(), 3u);
  auto outside = Find(R"({"find": "c"})");
  ASSERT_EQ(outside.size(), 1u);
  EXPECT_EQ(outside[0].view()["v"].NumberInt64(), 0);
  auto before = LastOplog();

  ASSERT_EQ(Code(Run(R"({"commitTransaction": 1})", t)), 0);
  EXPECT_EQ(Find(R"({"find": "c"})").size(), 3u);

  auto entry = LastOplog();
  EXPECT_NE(entry.view()["ts"].ToString(), before.view()["ts"].ToString());
  EXPECT_EQ(entry.view()["op"].Str(), "c");
  EXPECT_EQ(entry.view()["ns"].Str(), "admin.$cmd");
  EXPECT_EQ(entry.view()["txnNumber"].NumberInt64(), 1);
  EXPECT_TRUE(entry.view()["lsid"].IsObject());
  auto ops = entry.view()["o"].Obj()["applyOps"].Obj();
  std::vector<std::string> kinds;
  for (const auto& op : ops) {
    kinds.emplace_back(op.Obj()["op"].Str());
    EXPECT_TRUE(op.Obj()["lsid"].missing()) << "session fields belong to the entry";
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"i", "i", "u"}));
}

TEST_F(TransactionsTest, AbortDiscardsEverything) {
  Txn t{Lsid('b'), 3, true};
  ASSERT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 1}]})", t)), 0);
  t.start = false;
  ASSERT_EQ(Code(Run(R"({"abortTransaction": 1})", t)), 0);
  EXPECT_TRUE(Find(R"({"find": "c"})").empty());
  EXPECT_EQ(Code(Run(R"({"commitTransaction": 1})", t)), kNoSuchTransaction);
  EXPECT_EQ(txns_->OpenCount(), 0u);
  bson::Builder status;
  txns_->AppendServerStatus(&status);
  bson::Doc doc = status.Done();
  EXPECT_EQ(doc.view()["totalStarted"].NumberInt64(), 1);
  EXPECT_EQ(doc.view()["totalAborted"].NumberInt64(), 1);
  EXPECT_EQ(doc.view()["totalCommitted"].NumberInt64(), 0);
  EXPECT_EQ(doc.view()["currentOpen"].NumberInt64(), 0);
}

TEST_F(TransactionsTest, StateMachineErrors) {
  Txn t{Lsid('c'), 5, false};
  // Continuing a transaction that never started.
  EXPECT_EQ(Code(Run(R"({"find": "c"})", t)), kNoSuchTransaction);
  t.start = true;
  ASSERT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 1}]})", t)), 0);
  t.start = false;
  // count is not allowed in a transaction (MongoDB 7.0), and the refusal ends it.
  EXPECT_EQ(Code(Run(R"({"count": "c"})", t)), kNotSupportedInTxn);
  EXPECT_EQ(Code(Run(R"({"find": "c"})", t)), kNoSuchTransaction);

  Txn old{Lsid('c'), 4, true};
  EXPECT_EQ(Code(Run(R"({"find": "c"})", old)), kTransactionTooOld);

  Txn next{Lsid('c'), 6, true};
  ASSERT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 2}]})", next)), 0);
  next.start = false;
  ASSERT_EQ(Code(Run(R"({"commitTransaction": 1})", next)), 0);
  // A retried commit succeeds again; anything else learns it is committed.
  EXPECT_EQ(Code(Run(R"({"commitTransaction": 1})", next)), 0);
  EXPECT_EQ(Code(Run(R"({"abortTransaction": 1})", next)), kTransactionCommitted);
  EXPECT_EQ(Code(Run(R"({"find": "c"})", next)), kTransactionCommitted);
  auto all = Find(R"({"find": "c"})");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].view()["_id"].NumberInt64(), 2);
}

TEST_F(TransactionsTest, SecondWriterOfAKeyGetsWriteConflictAtOnce) {
  Txn a{Lsid('d'), 1, true};
  Txn b{Lsid('e'), 1, true};
  ASSERT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 1, "by": "a"}]})", a)), 0);
  EXPECT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 1, "by": "b"}]})", b)), kWriteConflict);
  a.start = b.start = false;
  ASSERT_EQ(Code(Run(R"({"commitTransaction": 1})", a)), 0);
  // The conflict ended b's transaction.
  EXPECT_EQ(Code(Run(R"({"commitTransaction": 1})", b)), kNoSuchTransaction);
  auto all = Find(R"({"find": "c"})");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].view()["by"].Str(), "a");
}

TEST_F(TransactionsTest, CommitConflictsWithAWriteCommittedAfterItsSnapshot) {
  ASSERT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 1, "n": 0}]})")), 0);
  Txn t{Lsid('f'), 1, true};
  ASSERT_EQ(Code(Run(R"({"find": "c"})", t)), 0);  // the snapshot is taken at the start
  ASSERT_EQ(Code(Run(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}]})")), 0);
  t.start = false;
  ASSERT_EQ(Code(Run(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 10}}}]})", t)), 0);
  EXPECT_EQ(Code(Run(R"({"commitTransaction": 1})", t)), kWriteConflict);
  auto all = Find(R"({"find": "c"})");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].view()["n"].NumberInt64(), 1);
}

TEST_F(TransactionsTest, ReaperAbortsTransactionsPastTheirLifetime) {
  Txn t{Lsid('g'), 1, true};
  ASSERT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 1}]})", t)), 0);
  EXPECT_EQ(txns_->AbortOlderThan(std::chrono::steady_clock::now() - std::chrono::seconds(60)), 0u);
  EXPECT_EQ(txns_->AbortOlderThan(std::chrono::steady_clock::now() + std::chrono::seconds(1)), 1u);
  t.start = false;
  EXPECT_EQ(Code(Run(R"({"commitTransaction": 1})", t)), kNoSuchTransaction);
  // Its key is free again.
  Txn u{Lsid('h'), 1, true};
  EXPECT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 1}]})", u)), 0);
}

TEST_F(TransactionsTest, IdleSessionsAreForgottenButTheirCommitsStayAnswerable) {
  // Created first: two transactions creating one collection conflict on its catalog key.
  ASSERT_EQ(Code(Run(R"({"create": "c"})")), 0);
  Txn t{Lsid('m'), 2, true};
  ASSERT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 1}]})", t)), 0);
  Txn open{Lsid('n'), 1, true};
  ASSERT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 2}]})", open)), 0);
  t.start = false;
  ASSERT_EQ(Code(Run(R"({"commitTransaction": 1})", t)), 0);
  EXPECT_EQ(txns_->ForgetIdleSince(std::chrono::steady_clock::now() - std::chrono::minutes(30)), 0u);
  // Only the session without an open transaction goes.
  EXPECT_EQ(txns_->ForgetIdleSince(std::chrono::steady_clock::now() + std::chrono::seconds(1)), 1u);
  EXPECT_EQ(txns_->OpenCount(), 1u);
  EXPECT_EQ(Code(Run(R"({"commitTransaction": 1})", t)), 0);
}

TEST_F(TransactionsTest, EndedSessionAbortsItsTransaction) {
  Txn t{Lsid('i'), 1, true};
  ASSERT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 1}]})", t)), 0);
  auto key = SessionCatalog::LsidKey(t.lsid);
  ASSERT_TRUE(key.ok());
  txns_->AbortSession(key.value());
  t.start = false;
  EXPECT_EQ(Code(Run(R"({"commitTransaction": 1})", t)), kNoSuchTransaction);
  EXPECT_TRUE(Find(R"({"find": "c"})").empty());
}

TEST_F(TransactionsTest, CollectionCreatedInsideIsPublishedAtCommit) {
  Txn t{Lsid('j'), 1, true};
  ASSERT_EQ(Code(Run(R"({"create": "made"})", t)), 0);
  t.start = false;
  ASSERT_EQ(Code(Run(R"({"insert": "made", "documents": [{"_id": 1}]})", t)), 0);
  EXPECT_EQ(Find(R"({"find": "made"})", t).size(), 1u);
  EXPECT_EQ(catalog_->Lookup(catalog::Namespace{"test", "made"}), nullptr);
  ASSERT_EQ(Code(Run(R"({"commitTransaction": 1})", t)), 0);
  EXPECT_NE(catalog_->Lookup(catalog::Namespace{"test", "made"}), nullptr);
  EXPECT_EQ(Find(R"({"find": "made"})").size(), 1u);
}

TEST_F(TransactionsTest, WritingAndTailingStagesAreRefusedInsideATransaction) {
  int64_t number = 0;
  for (std::string_view stage : {R"({"$out": "o"})", R"({"$merge": {"into": "m"}})", R"({"$changeStream": {}})"}) {
    Txn t{Lsid('l'), ++number, true};  // a fresh transaction per stage
    std::string cmd = std::string(R"({"aggregate": "c", "cursor": {}, "pipeline": [)") +
                      (stage.find("changeStream") != std::string_view::npos ? "" : R"({"$match": {}}, )") +
                      std::string(stage) + "]}";
    EXPECT_EQ(Code(Run(cmd, t)), kNotSupportedInTxn) << stage;
  }
  Txn ok{Lsid('l'), 100, true};
  EXPECT_EQ(Code(Run(R"({"aggregate": "c", "cursor": {}, "pipeline": [{"$match": {}}]})", ok)), 0);
}

TEST_F(TransactionsTest, CommitRetriedAfterARestartIsAnsweredFromTheCommitRecord) {
  Txn t{Lsid('k'), 7, true};
  ASSERT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 1}]})", t)), 0);
  t.start = false;
  ASSERT_EQ(Code(Run(R"({"commitTransaction": 1})", t)), 0);
  // The in-memory session state is gone, as after a restart.
  txns_ = std::make_unique<TransactionRegistry>(engine_.get());
  sessions_ = std::make_unique<SessionCatalog>(engine_.get());
  service_.transactions = txns_.get();
  service_.sessions = sessions_.get();
  EXPECT_EQ(Code(Run(R"({"commitTransaction": 1})", t)), 0);
  Txn other{Lsid('k'), 8, false};
  EXPECT_EQ(Code(Run(R"({"commitTransaction": 1})", other)), kNoSuchTransaction);
  // Its txnNumber stays used: an older one cannot start.
  Txn old{Lsid('k'), 6, true};
  EXPECT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 2}]})", old)), kTransactionTooOld);
}

}  // namespace
}  // namespace brook::commands
