// insert, update and delete: parse each statement, run it through write_ops, and build
// MongoDB's reply ({n, nModified, upserted, writeErrors}). Ordered batches stop at the
// first error; unordered ones continue.
#include <algorithm>
#include <optional>
#include <vector>

#include "bson/builder.h"
#include "catalog/catalog.h"
#include "commands/catalog_cmds_views.h"
#include "commands/crud_args.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/planner.h"
#include "commands/server_stats.h"
#include "commands/sessions.h"
#include "commands/write_ops.h"
#include "query/matcher.h"
#include "query/update.h"

namespace brook::commands {
namespace {

// Inside a transaction, MongoDB answers a transient failure of a statement (a write
// conflict) as the command's error, so that it carries TransientTransactionError and
// the driver retries the whole transaction; other failures stay write errors (and end
// the batch and the transaction).
bool TransactionCommandError(const OperationContext& op, const Status& st) {
  return op.txn && st == ErrorCodes::kWriteConflict;
}

// Partial index filters are compiled by the query matcher; the catalog reaches it only
// through this hook (it cannot depend on the query layer).
class MatcherPredicate : public catalog::DocPredicate {
 public:
  explicit MatcherPredicate(std::unique_ptr<query::Matcher> m) : matcher_(std::move(m)) {}
  bool Matches(bson::View doc) const override { return matcher_->Matches(doc); }

 private:
  std::unique_ptr<query::Matcher> matcher_;
};

StatusWith<std::shared_ptr<const catalog::DocPredicate>> CompilePredicate(bson::View filter) {
  query::MatcherOptions opts;
  opts.allow_expr = false;
  auto m = query::Matcher::Parse(filter, opts);
  if (!m.ok()) return m.status();
  return std::shared_ptr<const catalog::DocPredicate>(
      std::make_shared<MatcherPredicate>(std::move(m).value()));
}

[[maybe_unused]] const bool kPredicateCompilerInstalled = [] {
  catalog::SetPredicateCompiler(&CompilePredicate);
  return true;
}();

ServerStats* Stats(OperationContext& op) { return op.service().stats; }

int32_t StmtIdFor(bson::View body, size_t i) {
  auto ids = body["stmtIds"];
  if (ids.IsArray()) {
    std::string scratch;
    auto e = ids.Obj()[bson::ArrayKey(i, &scratch)];
    if (e.IsNumber()) return static_cast<int32_t>(e.NumberInt64());
  }
  return static_cast<int32_t>(i);
}

// MongoDB rejects empty (and oversized) write batches before running anything.
Status CheckBatchSize(const bson::Element& arr) {
  size_t n = arr.Obj().CountFields();
  if (n == 0 || n > 100000) {
    return Status(ErrorCodes::kInvalidLength, "Write batch sizes must be between 1 and 100000. Got " +
                                                  std::to_string(n) + " operations.");
  }
  return Status::OK();
}

Status CheckWritable(OperationContext& op, const catalog::Namespace& ns) {
  BROOK_RETURN_IF_ERROR(catalog::ValidateCollectionName(ns));
  if (ns.IsOplog()) {
    return Status(ErrorCodes::kIllegalOperation, "cannot write to '" + ns.ns() + "'");
  }
  NoteSessionUse(op);
  return CheckNotView(op, ns);
}

// bypassDocumentValidation (any truthy value).
StatusWith<bool> BypassValidation(bson::View body, std::string_view cmd) {
  std::optional<bool> bypass;
  BROOK_RETURN_IF_ERROR(GetBool(body, cmd, "bypassDocumentValidation", &bypass));
  return bypass.value_or(false);
}

// MongoDB 7.0's update and delete statement fields (write_ops.idl); anything else is
// IDL's 40415 "BSON field 'update.updates.sort' is an unknown field." (`sort` arrives in 8.0).
constexpr std::string_view kUpdateStatementFields[] = {
    "q", "u", "c", "arrayFilters", "hint", "multi", "upsert", "upsertSupplied", "collation",
    "sampleId", "$_allowShardKeyUpdatesWithoutFullShardKeyInQuery"};
constexpr std::string_view kDeleteStatementFields[] = {"q", "limit", "hint", "collation", "sampleId"};

template <size_t N>
Status CheckStatementFields(bson::View stmt, std::string_view where,
                            const std::string_view (&known)[N]) {
  for (const auto& f : stmt) {
    bool ok = false;
    for (auto k : known) ok = ok || k == f.key();
    if (!ok) {
      return Status(40415, "BSON field '" + std::string(where) + "." + std::string(f.key()) +
                               "' is an unknown field.");
    }
  }
  return Status::OK();
}

// The `let` of a command merged with a statement's `c` constants.
bson::Doc MergeLet(std::optional<bson::View> let, bson::View c) {
  bson::Builder b;
  if (let) b.AppendAll(*let);
  b.AppendAll(c);
  return b.Done();
}

// What insert, update and delete share before their statements run: the collection
// (writable here), the statements array (present, an array, within maxWriteBatchSize),
// and whether the first error stops the rest (ordered; always inside a transaction).
struct WriteBatchArgs {
  catalog::Namespace ns;
  bson::View statements;
  bool stop_at_error = true;
};

StatusWith<WriteBatchArgs> ParseWriteBatch(OperationContext& op, const CommandRequest& req,
                                           std::string_view command, std::string_view field) {
  auto ns = CollectionNs(req);
  if (!ns.ok()) return ns.status();
  BROOK_RETURN_IF_ERROR(CheckWritable(op, ns.value()));
  auto statements = req.body[field];
  if (statements.missing()) return MissingField(command, field);
  if (!statements.IsArray()) return WrongType(command, field, statements, "array");
  BROOK_RETURN_IF_ERROR(CheckBatchSize(statements));
  std::optional<bool> ordered;
  BROOK_RETURN_IF_ERROR(GetBool(req.body, command, "ordered", &ordered));
  return WriteBatchArgs{std::move(ns).value(), statements.Obj(),
                        ordered.value_or(true) || op.txn != nullptr};
}

}  // namespace

// Documents of one insert command committed together (MongoDB's
// internalInsertMaxBatchSize is 64 too).
constexpr size_t kInsertGroupSize = 64;

Status HandleInsert(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto args = ParseWriteBatch(op, req, "insert", "documents");
  if (!args.ok()) return args.status();
  const catalog::Namespace& ns = args.value().ns;
  auto bypass = BypassValidation(req.body, "insert");
  if (!bypass.ok()) return bypass.status();
  auto retry = BeginRetryableCommand(op);
  if (!retry.ok()) return retry.status();
  const RetryContext* rc = retry.value() ? &*retry.value() : nullptr;

  const bson::View docs = args.value().statements;
  const size_t count = docs.CountFields();
  auto next_doc = docs.begin();
  auto counted = [&](size_t k) {
    if (Stats(op)) Stats(op)->opcounters.insert.fetch_add(k, std::memory_order_relaxed);
  };
  // One document: its commit is the command's last step, so the dispatcher may do it.
  if (count == 1) DeferLastCommit(op);
  int32_t n = 0;
  std::optional<bson::Builder> errors;  // built on the first error only
  size_t error_count = 0;
  bool stopped = false;
  // Each document of a run, prepared once, or the error of its statement. Reused from
  // run to run, so a command allocates them once.
  std::vector<StatusWith<bson::Doc>> prepared;
  std::vector<bson::View> views;
  std::vector<int32_t> stmt_ids;
  for (size_t i = 0; i < count && !stopped;) {
    const size_t end = std::min(count, i + kInsertGroupSize);
    prepared.clear();
    views.clear();
    stmt_ids.clear();
    for (size_t k = i; k < end; ++k, ++next_doc) {
      const bson::Element& doc = *next_doc;
      prepared.push_back(doc.IsObject() ? PrepareInsertDocument(doc.Obj())
                                        : WrongType("insert", "documents", doc, "object"));
      stmt_ids.push_back(StmtIdFor(req.body, k));
    }
    // A run goes in one write unit when it can (outside transactions, whose unit holds
    // everything anyway); else, or when any of its documents fails, one by one. Deferred
    // only when it is the whole command: a WriteConflict there reruns the command, which
    // must not find earlier runs already committed.
    if (!op.txn && end - i > 1) {
      for (const auto& p : prepared) {  // after the last push_back: the views must not move
        if (p.ok()) views.push_back(p.value().view());
      }
    }
    if (views.size() > 1 && views.size() == end - i) {
      if (i == 0 && end == count) DeferLastCommit(op);
      if (InsertGrouped(op, ns, views, rc, stmt_ids, bypass.value())) {
        n += static_cast<int32_t>(views.size());
        counted(views.size());
        i = end;
        continue;
      }
    }
    for (size_t k = 0; i < end; ++i, ++k) {
      Status st = prepared[k].ok() ? InsertOne(op, ns, prepared[k].value().view(), rc,
                                               stmt_ids[k], bypass.value())
                                   : prepared[k].status();
      if (st.ok()) {
        ++n;
        counted(1);
      } else {
        if (TransactionCommandError(op, st)) return st;
        if (!errors) errors.emplace();
        AppendWriteError(&*errors, error_count++, static_cast<int32_t>(i), st);
        if (args.value().stop_at_error) {
          stopped = true;
          break;
        }
      }
    }
  }
  reply->AppendInt32("n", n);
  if (errors) reply->AppendArray("writeErrors", errors->Done());
  return Status::OK();
}

Status HandleUpdate(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto args = ParseWriteBatch(op, req, "update", "updates");
  if (!args.ok()) return args.status();
  const catalog::Namespace& ns = args.value().ns;
  const bson::View updates = args.value().statements;
  auto bypass = BypassValidation(req.body, "update");
  if (!bypass.ok()) return bypass.status();
  // Unknown statement fields fail the whole command (IDL parses every statement first).
  for (const auto& e : updates) {
    if (e.IsObject()) {
      BROOK_RETURN_IF_ERROR(CheckStatementFields(e.Obj(), "update.updates", kUpdateStatementFields));
    }
  }
  std::optional<bson::View> let;
  BROOK_RETURN_IF_ERROR(GetObject(req.body, "update", "let", &let));
  auto retry = BeginRetryableCommand(op);
  if (!retry.ok()) return retry.status();
  const RetryContext* rc = retry.value() ? &*retry.value() : nullptr;

  const bool single_statement = updates.CountFields() == 1;
  int64_t n = 0, n_modified = 0;
  bson::Builder errors, upserted;
  size_t error_count = 0, upserted_count = 0;
  size_t i = 0;
  std::string scratch;
  for (const auto& e : updates) {
    if (Stats(op)) Stats(op)->opcounters.update.fetch_add(1, std::memory_order_relaxed);
    auto run = [&]() -> StatusWith<UpdateOutcome> {
      if (!e.IsObject()) return WrongType("update", "updates", e, "object");
      bson::View stmt = e.Obj();
      auto q = stmt["q"];
      if (q.missing()) return MissingField("update.updates", "q");
      if (!q.IsObject()) return WrongType("update.updates", "q", q, "object");
      auto u = stmt["u"];
      if (u.missing()) return MissingField("update.updates", "u");
      if (!u.IsObject() && !u.IsArray()) return WrongType("update.updates", "u", u, "object");
      std::optional<bool> upsert, multi;
      BROOK_RETURN_IF_ERROR(GetBool(stmt, "update.updates", "upsert", &upsert));
      BROOK_RETURN_IF_ERROR(GetBool(stmt, "update.updates", "multi", &multi));
      std::optional<bson::View> array_filters, c;
      BROOK_RETURN_IF_ERROR(GetArray(stmt, "update.updates", "arrayFilters", &array_filters));
      BROOK_RETURN_IF_ERROR(GetObject(stmt, "update.updates", "c", &c));
      auto collation = ParseCollation(stmt, "update.updates");
      if (!collation.ok()) return collation.status();
      query::CollatorPtr collator =
          EffectiveCollator(collation.value(), op.service().catalog->Lookup(ns).get());
      bson::Doc let_vars = MergeLet(let, c.value_or(bson::View()));
      query::UpdateOptions uopts;
      uopts.collator = collator.get();
      uopts.let_variables = let_vars;
      auto driver = query::UpdateDriver::Parse(u, array_filters.value_or(bson::View()), uopts);
      if (!driver.ok()) return driver.status();
      if (multi.value_or(false) &&
          driver.value()->kind() == query::UpdateDriver::Kind::kReplacement) {
        return Status(ErrorCodes::kFailedToParse,
                      "multi update is not supported for replacement-style update");
      }
      UpdateRequest ur;
      ur.query = q.Obj();
      ur.hint = stmt["hint"];
      ur.collator = collator.get();
      ur.has_collation = collator != nullptr;
      ur.let = let_vars;
      ur.upsert = upsert.value_or(false);
      ur.bypass_validation = bypass.value();
      ur.multi = multi.value_or(false);
      ur.driver = driver.value().get();
      if (!ur.multi && single_statement) DeferLastCommit(op);
      return ExecuteUpdate(op, ns, ur, ur.multi ? nullptr : rc, StmtIdFor(req.body, i));
    };
    auto outcome = run();
    if (outcome.ok()) {
      n += outcome.value().n;
      n_modified += outcome.value().n_modified;
      if (outcome.value().upserted_id) {
        upserted.OpenDocument(bson::ArrayKey(upserted_count++, &scratch));
        upserted.AppendInt32("index", static_cast<int32_t>(i));
        upserted.Append((*outcome.value().upserted_id)["_id"]);
        upserted.Close();
      }
    } else {
      if (TransactionCommandError(op, outcome.status())) return outcome.status();
      AppendWriteError(&errors, error_count++, static_cast<int32_t>(i), outcome.status());
      if (args.value().stop_at_error) break;
    }
    ++i;
  }
  reply->AppendInt32("n", static_cast<int32_t>(n));
  if (upserted_count) reply->AppendArray("upserted", upserted.Done());
  reply->AppendInt32("nModified", static_cast<int32_t>(n_modified));
  if (error_count) reply->AppendArray("writeErrors", errors.Done());
  return Status::OK();
}

Status HandleDelete(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto args = ParseWriteBatch(op, req, "delete", "deletes");
  if (!args.ok()) return args.status();
  const catalog::Namespace& ns = args.value().ns;
  const bson::View deletes = args.value().statements;
  for (const auto& e : deletes) {
    if (e.IsObject()) {
      BROOK_RETURN_IF_ERROR(CheckStatementFields(e.Obj(), "delete.deletes", kDeleteStatementFields));
    }
  }
  std::optional<bson::View> let;
  BROOK_RETURN_IF_ERROR(GetObject(req.body, "delete", "let", &let));
  auto retry = BeginRetryableCommand(op);
  if (!retry.ok()) return retry.status();
  const RetryContext* rc = retry.value() ? &*retry.value() : nullptr;

  const bool single_statement = deletes.CountFields() == 1;
  int64_t n = 0;
  bson::Builder errors;
  size_t error_count = 0;
  size_t i = 0;
  for (const auto& e : deletes) {
    if (Stats(op)) Stats(op)->opcounters.remove.fetch_add(1, std::memory_order_relaxed);
    auto run = [&]() -> StatusWith<DeleteOutcome> {
      if (!e.IsObject()) return WrongType("delete", "deletes", e, "object");
      bson::View stmt = e.Obj();
      auto q = stmt["q"];
      if (q.missing()) return MissingField("delete.deletes", "q");
      if (!q.IsObject()) return WrongType("delete.deletes", "q", q, "object");
      auto limit = stmt["limit"];
      if (limit.missing()) return MissingField("delete.deletes", "limit");
      if (!limit.IsNumber()) return WrongType("delete.deletes", "limit", limit, "int");
      int64_t lim = limit.NumberInt64();
      if (lim != 0 && lim != 1) {
        return Status(ErrorCodes::kFailedToParse,
                      "The limit field in delete objects must be 0 or 1. Got " + std::to_string(lim));
      }
      auto collation = ParseCollation(stmt, "delete.deletes");
      if (!collation.ok()) return collation.status();
      query::CollatorPtr collator =
          EffectiveCollator(collation.value(), op.service().catalog->Lookup(ns).get());
      DeleteRequest dr;
      dr.query = q.Obj();
      dr.hint = stmt["hint"];
      dr.collator = collator.get();
      dr.has_collation = collator != nullptr;
      dr.let = let.value_or(bson::View());
      dr.multi = lim == 0;
      if (!dr.multi && single_statement) DeferLastCommit(op);
      return ExecuteDelete(op, ns, dr, dr.multi ? nullptr : rc, StmtIdFor(req.body, i));
    };
    auto outcome = run();
    if (outcome.ok()) {
      n += outcome.value().n;
    } else {
      if (TransactionCommandError(op, outcome.status())) return outcome.status();
      AppendWriteError(&errors, error_count++, static_cast<int32_t>(i), outcome.status());
      if (args.value().stop_at_error) break;
    }
    ++i;
  }
  reply->AppendInt32("n", static_cast<int32_t>(n));
  if (error_count) reply->AppendArray("writeErrors", errors.Done());
  return Status::OK();
}

}  // namespace brook::commands
