#include "commands/write_ops.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "bson/builder.h"
#include "catalog/record_store.h"
#include "commands/find_cmd_sort.h"
#include "commands/failpoints.h"
#include "commands/operation_context.h"
#include "commands/planner.h"
#include "commands/server_stats.h"
#include "commands/transactions.h"
#include "commands/write_ops_validation.h"
#include "storage/engine.h"

namespace brook::commands {
namespace {

constexpr int kMaxWriteAttempts = 1000;

Status MaxTimeExpired() {
  return Status(ErrorCodes::kMaxTimeMSExpired, "operation exceeded time limit");
}

void Backoff(int attempt) {
  auto us = std::min(50 * (attempt + 1), 10000);
  std::this_thread::sleep_for(std::chrono::microseconds(us));
}

bson::Doc IdDoc(const bson::Element& id) {
  bson::Builder b;
  b.AppendAs("_id", id);
  return b.Done();
}

void AppendRetryFields(bson::Builder* b, const RetryContext* retry, int32_t stmt_id) {
  if (!retry) return;
  b->AppendDocument("lsid", retry->lsid);
  b->AppendInt64("txnNumber", retry->txn_number);
  b->AppendInt32("stmtId", stmt_id);
}

storage::OplogDraft NewDraft(const catalog::CollectionInfo& coll) {
  storage::OplogDraft d;
  d.collection_uuid = coll.uuid;
  return d;
}

void AddInsertOplog(storage::WriteUnit& unit, const catalog::CollectionInfo& coll, bson::View doc,
                    const RetryContext* retry, int32_t stmt_id) {
  // Sized for the document and the small fields around it: no regrowth while the
  // document is copied in.
  bson::Builder b(doc.size() + coll.ns.ns().size() + 192);
  b.AppendString("op", "i");
  b.AppendString("ns", coll.ns.ns());
  catalog::AppendUuid(&b, "ui", coll.uuid);
  b.AppendDocument("o", doc);
  b.AppendDocument("o2", IdDoc(doc["_id"]));
  AppendRetryFields(&b, retry, stmt_id);
  auto draft = NewDraft(coll);
  draft.body = b.Done();
  unit.AddOplog(std::move(draft));
}

void AddUpdateOplog(storage::WriteUnit& unit, const catalog::CollectionInfo& coll,
                    bson::View old_doc, const query::UpdateDriver::Result& result, bool replacement,
                    const RetryContext* retry, int32_t stmt_id) {
  bson::Builder b;
  b.AppendString("op", "u");
  b.AppendString("ns", coll.ns.ns());
  catalog::AppendUuid(&b, "ui", coll.uuid);
  if (replacement) {
    b.AppendDocument("o", result.new_doc);
  } else {
    b.OpenDocument("o");
    b.AppendInt32("$v", 2);
    // With disambiguatedPaths, so showExpandedEvents streams can report them.
    b.AppendDocument("updateDescription", result.description.ToBson(true));
    b.Close();
  }
  b.AppendDocument("o2", IdDoc(old_doc["_id"]));
  AppendRetryFields(&b, retry, stmt_id);
  auto draft = NewDraft(coll);
  draft.body = b.Done();
  if (coll.pre_post_images()) draft.preimage = bson::Doc::CopyOf(old_doc);
  unit.AddOplog(std::move(draft));
}

void AddDeleteOplog(storage::WriteUnit& unit, const catalog::CollectionInfo& coll,
                    bson::View old_doc, const RetryContext* retry, int32_t stmt_id) {
  bson::Builder b;
  b.AppendString("op", "d");
  b.AppendString("ns", coll.ns.ns());
  catalog::AppendUuid(&b, "ui", coll.uuid);
  b.AppendDocument("o", IdDoc(old_doc["_id"]));
  AppendRetryFields(&b, retry, stmt_id);
  auto draft = NewDraft(coll);
  draft.body = b.Done();
  if (coll.pre_post_images()) draft.preimage = bson::Doc::CopyOf(old_doc);
  unit.AddOplog(std::move(draft));
}

RetryableStmt StmtOf(const RetryContext& retry, int32_t stmt_id) {
  return RetryableStmt{retry.lsid_key, retry.txn_number, stmt_id};
}

// A statement recorded by an earlier attempt, read inside the unit.
StatusWith<std::optional<bson::Doc>> Replayed(OperationContext& op, storage::WriteUnit& unit,
                                              const RetryContext* retry, int32_t stmt_id) {
  if (!retry || !op.service().sessions) return std::optional<bson::Doc>();
  // A txnNumber new to the session has no records, unless a concurrent attempt of the same
  // statement (a driver's retry racing the original) committed one. If that attempt began
  // before this unit's snapshot, OnlyAttempt says so and we look; if it began later, it
  // wrote the same record key after our snapshot, so our commit hits a WriteConflict and
  // the retry looks.
  if (retry->new_txn_number && op.write_conflict_retries == 0 &&
      op.service().sessions->OnlyAttempt(retry->lsid_key, retry->txn_number)) {
    return std::optional<bson::Doc>();
  }
  return op.service().sessions->FindExecuted(unit, StmtOf(*retry, stmt_id));
}

void Record(OperationContext& op, storage::WriteUnit& unit, const RetryContext* retry,
            int32_t stmt_id, bson::View result) {
  if (!retry || !op.service().sessions) return;
  op.service().sessions->RecordExecuted(unit, StmtOf(*retry, stmt_id), result);
}

// The collection for a write that must not create it; null when it does not exist.
StatusWith<catalog::CollectionPtr> ExistingForWrite(OperationContext& op, storage::WriteUnit& unit,
                                                    const catalog::Namespace& ns) {
  auto target = op.service().catalog->PrepareWrite(unit, ns, false);
  if (target.ok()) return target.value().coll;
  if (target.status() == ErrorCodes::kNamespaceNotFound) return catalog::CollectionPtr();
  return target.status();
}

// The first matching document in sort order (or plan order without a sort).
Status FindFirst(QueryPlan* plan, bson::View sort, const bson::StringComparator* collator,
                 std::optional<bson::Doc>* found, query::MatchDetails* details) {
  auto pattern = SortPattern::Parse(sort);
  if (!pattern.ok()) return pattern.status();
  if (pattern.value().empty() || plan->description().provides_sort) {
    bson::Doc doc;
    auto more = plan->Next(&doc, details);
    if (!more.ok()) return more.status();
    if (more.value()) *found = std::move(doc);
    return Status::OK();
  }
  bson::Doc doc;
  while (true) {
    auto more = plan->Next(&doc, nullptr);
    if (!more.ok()) return more.status();
    if (!more.value()) break;
    if (!*found || pattern.value().Compare(doc, **found, collator) < 0) *found = std::move(doc);
  }
  if (*found && details) {
    details->Reset();
    auto m = plan->matcher().MatchesOrError(**found, details);
    if (!m.ok()) return m.status();
  }
  return Status::OK();
}

QueryRequest MakeQuery(const catalog::Namespace& ns, bson::View query, bson::View sort,
                       bson::Element hint, const bson::StringComparator* collator,
                       bool has_collation, bson::View let) {
  QueryRequest q;
  q.ns = ns;
  q.filter = query;
  q.sort = sort;
  q.hint = hint;
  q.collator = collator;
  q.has_collation = has_collation;
  q.let = let;
  return q;
}

// The _ids of every matching document, read from one snapshot (multi writes then
// update each in its own unit, re-checking the filter).
StatusWith<std::vector<bson::Doc>> MatchingIds(OperationContext& op, const QueryRequest& q) {
  std::vector<bson::Doc> ids;
  ReadView view = OpenReadView(op, q.ns);
  if (!view.coll) {
    // Still validate the filter and hint.
    auto plan = QueryPlan::Make(nullptr, nullptr, q);
    if (!plan.ok()) return plan.status();
    return ids;
  }
  auto plan = QueryPlan::Make(view.snap, view.coll, q);
  if (!plan.ok()) return plan.status();
  bson::Doc doc;
  while (true) {
    if (op.DeadlinePassed()) return MaxTimeExpired();
    auto more = plan.value()->Next(&doc);
    if (!more.ok()) return more.status();
    if (!more.value()) break;
    ids.push_back(IdDoc(doc["_id"]));
  }
  return ids;
}

// Inserts the upsert document for an update that matched nothing.
Status UpsertInsert(OperationContext& op, storage::WriteUnit& unit, const catalog::Namespace& ns,
                    const UpdateRequest& req, const RetryContext* retry, int32_t stmt_id,
                    std::vector<catalog::CollectionPtr>* created, UpdateOutcome* out) {
  auto target = op.service().catalog->PrepareWrite(unit, ns, true);
  if (!target.ok()) return target.status();
  if (target.value().created) created->push_back(target.value().coll);
  const auto& coll = *target.value().coll;
  auto seed = query::UpdateDriver::SeedUpsertDocument(req.query);
  if (!seed.ok()) return seed.status();
  auto result = req.driver->Apply(seed.value(), nullptr, true);
  if (!result.ok()) return result.status();
  auto doc = PrepareInsertDocument(result.value().new_doc);
  if (!doc.ok()) return doc.status();
  BROOK_RETURN_IF_ERROR(ValidateDocument(coll, nullptr, doc.value(), req.bypass_validation));
  BROOK_RETURN_IF_ERROR(catalog::InsertRecord(unit, coll, doc.value()));
  AddInsertOplog(unit, coll, doc.value(), retry, stmt_id);
  out->n = 1;
  out->n_modified = 0;
  out->upserted_id = IdDoc(doc.value()["_id"]);
  if (req.want_images) out->post_image = std::move(doc).value();
  return Status::OK();
}

// Applies the update to `old_doc` (already matched) inside `unit`.
Status ApplyUpdate(storage::WriteUnit& unit, const catalog::CollectionInfo& coll,
                   const UpdateRequest& req, bson::View old_doc, const query::MatchDetails* details,
                   const RetryContext* retry, int32_t stmt_id, UpdateOutcome* out) {
  auto result = req.driver->Apply(old_doc, details, false);
  if (!result.ok()) return result.status();
  out->n += 1;
  if (result.value().changed) {
    BROOK_RETURN_IF_ERROR(
        ValidateDocument(coll, &old_doc, result.value().new_doc, req.bypass_validation));
    BROOK_RETURN_IF_ERROR(catalog::UpdateRecord(unit, coll, old_doc, result.value().new_doc));
    // MongoDB logs some pipeline updates as full replacements too ("replace" events).
    AddUpdateOplog(unit, coll, old_doc, result.value(), result.value().as_replacement, retry, stmt_id);
    out->n_modified += 1;
  }
  if (req.want_images) {
    out->pre_image = bson::Doc::CopyOf(old_doc);
    out->post_image = result.value().changed ? std::move(result.value().new_doc)
                                             : bson::Doc::CopyOf(old_doc);
  }
  return Status::OK();
}

}  // namespace

StatusWith<std::optional<RetryContext>> BeginRetryableCommand(OperationContext& op) {
  if (!op.lsid || !op.txn_number || op.autocommit.has_value() || !op.service().sessions) {
    return std::optional<RetryContext>();
  }
  auto key = SessionCatalog::LsidKey(*op.lsid);
  if (!key.ok()) return key.status();
  auto is_new = op.service().sessions->CheckAndAdvanceTxnNumber(key.value(), *op.txn_number);
  if (!is_new.ok()) return is_new.status();
  RetryContext ctx;
  ctx.new_txn_number = is_new.value();
  ctx.lsid = *op.lsid;
  ctx.lsid_key = std::move(key).value();
  ctx.txn_number = *op.txn_number;
  return std::optional<RetryContext>(std::move(ctx));
}

// MongoDB's onPrimaryTransactionalWrite, for retryable writes only.
Status CheckTransactionalWriteFailPoint(OperationContext& op) {
  FailPoints* fps = op.service().failpoints;
  if (!fps || !op.lsid || !op.txn_number || op.autocommit.has_value()) return Status::OK();
  auto hit = fps->Check(kOnPrimaryTransactionalWrite);
  if (!hit) return Status::OK();
  bson::View data = hit->data.view();
  if (data["closeConnection"].missing() || data["closeConnection"].Truthy()) op.close_connection = true;
  if (auto code = data["failBeforeCommitExceptionCode"]; code.IsNumber()) {
    return Status(static_cast<int>(code.NumberInt64()), "Failing write for test");
  }
  return Status::OK();
}

namespace {

// What follows a successful commit, deferred or not.
void AfterCommit(OperationContext& op, const storage::CommitResult& committed,
                 const std::vector<catalog::CollectionPtr>& created) {
  for (const auto& c : created) op.service().catalog->Publish(c);
  auto ts = committed.last_ts;
  if (!ts.IsNull()) {
    if (op.operation_time < ts) op.operation_time = ts;
    if (op.write_concern.NeedsDurability()) op.wait_for_durable = op.operation_time;
  }
}

}  // namespace

void DeferLastCommit(OperationContext& op) {
  op.defer_next_commit = op.commit_async_ok && !op.txn;
}

Status FinishDeferredCommit(OperationContext& op, const DeferredCommit& deferred,
                            const StatusWith<storage::CommitResult>& committed) {
  if (!committed.ok()) return committed.status();
  AfterCommit(op, committed.value(), deferred.created);
  return Status::OK();
}

Status RunWriteUnit(OperationContext& op,
                    const std::function<Status(storage::WriteUnit& unit, bool* commit,
                                               std::vector<catalog::CollectionPtr>* created)>& body) {
  const bool defer = std::exchange(op.defer_next_commit, false);
  if (op.txn) {
    // Inside a transaction the statement writes into the transaction's unit, committed
    // by commitTransaction; a conflict is the transaction's to retry, not ours.
    bool commit = true;
    std::vector<catalog::CollectionPtr> created;
    Status s = body(op.txn->unit(), &commit, &created);
    for (const auto& c : created) op.txn->NoteCreated(c);
    if (!s.ok()) return s;
    return op.txn->conflict();
  }
  auto* engine = op.service().engine;
  for (int attempt = 0;; ++attempt) {
    if (op.DeadlinePassed()) return MaxTimeExpired();
    auto unit = engine->BeginWriteUnit();
    bool commit = true;
    std::vector<catalog::CollectionPtr> created;
    Status s = body(*unit, &commit, &created);
    if (!s.ok()) {
      if (s == ErrorCodes::kWriteConflict && attempt < kMaxWriteAttempts) {
        ++op.write_conflict_retries;
        Backoff(attempt);
        continue;
      }
      return s;
    }
    if (!commit) return Status::OK();
    BROOK_RETURN_IF_ERROR(CheckTransactionalWriteFailPoint(op));
    if (defer) {
      op.deferred_commit = DeferredCommit{std::move(unit), std::move(created)};
      return Status::OK();
    }
    auto committed = engine->Commit(*unit);
    if (!committed.ok()) {
      if (committed.status() == ErrorCodes::kWriteConflict && attempt < kMaxWriteAttempts) {
        ++op.write_conflict_retries;
        Backoff(attempt);
        continue;
      }
      return committed.status();
    }
    AfterCommit(op, committed.value(), created);
    return Status::OK();
  }
}

StatusWith<bson::Doc> PrepareInsertDocument(bson::View doc) {
  auto id = doc["_id"];
  if (!id.missing()) {
    switch (id.type()) {
      case bson::Type::kArray:
        return Status(ErrorCodes::kInvalidIdField, "can't use an array for _id");
      case bson::Type::kRegex:
        return Status(ErrorCodes::kInvalidIdField, "can't use a regex for _id");
      case bson::Type::kUndefined:
        return Status(ErrorCodes::kInvalidIdField, "can't use a undefined for _id");
      case bson::Type::kObject:
        for (const auto& f : id.Obj()) {
          if (!f.key().empty() && f.key()[0] == '$') {
            return Status(ErrorCodes::kDollarPrefixedFieldName,
                          "_id fields may not contain '$'-prefixed fields: " + std::string(f.key()) +
                              " is not valid for storage.");
          }
        }
        break;
      default:
        break;
    }
    if (doc.first().key() == "_id") return bson::Doc::CopyOf(doc);
  }
  bson::Builder b(doc.size() + 24);
  if (id.missing()) {
    b.AppendOid("_id", bson::ObjectId::Generate());
  } else {
    b.Append(id);
  }
  for (const auto& e : doc) {
    if (e.key() != "_id") b.Append(e);
  }
  return b.Done();
}

namespace {

// One document's insert inside `unit`: the record and its index entries, the oplog
// entry and, for a retryable write, the statement's record.
Status InsertIntoUnit(OperationContext& op, storage::WriteUnit& unit, const catalog::CollectionInfo& coll,
                      bson::View doc, const RetryContext* retry, int32_t stmt_id, bool bypass_validation) {
  BROOK_RETURN_IF_ERROR(ValidateDocument(coll, nullptr, doc, bypass_validation));
  BROOK_RETURN_IF_ERROR(catalog::InsertRecord(unit, coll, doc));
  AddInsertOplog(unit, coll, doc, retry, stmt_id);
  bson::Builder result;
  result.AppendInt32("n", 1);
  Record(op, unit, retry, stmt_id, result.Done());
  return Status::OK();
}

}  // namespace

bool InsertGrouped(OperationContext& op, const catalog::Namespace& ns,
                   const std::vector<bson::View>& docs, const RetryContext* retry,
                   const std::vector<int32_t>& stmt_ids, bool bypass_validation) {
  bool grouped = false;
  Status s = RunWriteUnit(op, [&](storage::WriteUnit& unit, bool* commit,
                                  std::vector<catalog::CollectionPtr>* created) -> Status {
    grouped = false;
    *commit = false;  // until every document is in
    for (int32_t stmt_id : stmt_ids) {
      auto replayed = Replayed(op, unit, retry, stmt_id);
      if (!replayed.ok() || replayed.value()) return Status::OK();
    }
    auto target = op.service().catalog->PrepareWrite(unit, ns, true);
    if (!target.ok()) return Status::OK();
    for (size_t i = 0; i < docs.size(); ++i) {
      if (!InsertIntoUnit(op, unit, *target.value().coll, docs[i], retry, stmt_ids[i],
                          bypass_validation).ok()) {
        return Status::OK();
      }
    }
    if (target.value().created) created->push_back(target.value().coll);
    grouped = true;
    *commit = true;
    return Status::OK();
  });
  return s.ok() && grouped;
}

Status InsertOne(OperationContext& op, const catalog::Namespace& ns, bson::View doc,
                 const RetryContext* retry, int32_t stmt_id, bool bypass_validation) {
  return RunWriteUnit(op, [&](storage::WriteUnit& unit, bool* commit,
                              std::vector<catalog::CollectionPtr>* created) -> Status {
    auto replayed = Replayed(op, unit, retry, stmt_id);
    if (!replayed.ok()) return replayed.status();
    if (replayed.value()) {
      *commit = false;
      return Status::OK();
    }
    auto target = op.service().catalog->PrepareWrite(unit, ns, true);
    if (!target.ok()) return target.status();
    if (target.value().created) created->push_back(target.value().coll);
    return InsertIntoUnit(op, unit, *target.value().coll, doc, retry, stmt_id, bypass_validation);
  });
}

bson::Doc UpdateOutcomeToBson(const UpdateOutcome& o) {
  bson::Builder b;
  b.AppendInt64("n", o.n);
  b.AppendInt64("nModified", o.n_modified);
  if (o.upserted_id) b.AppendDocument("upserted", *o.upserted_id);
  if (o.pre_image) b.AppendDocument("pre", *o.pre_image);
  if (o.post_image) b.AppendDocument("post", *o.post_image);
  return b.Done();
}

UpdateOutcome UpdateOutcomeFromBson(bson::View v) {
  UpdateOutcome o;
  o.n = v["n"].NumberInt64();
  o.n_modified = v["nModified"].NumberInt64();
  if (v["upserted"].IsObject()) o.upserted_id = bson::Doc::CopyOf(v["upserted"].Obj());
  if (v["pre"].IsObject()) o.pre_image = bson::Doc::CopyOf(v["pre"].Obj());
  if (v["post"].IsObject()) o.post_image = bson::Doc::CopyOf(v["post"].Obj());
  return o;
}

StatusWith<UpdateOutcome> ExecuteUpdate(OperationContext& op, const catalog::Namespace& ns,
                                        const UpdateRequest& req, const RetryContext* retry,
                                        int32_t stmt_id) {
  UpdateOutcome out;
  QueryRequest q = MakeQuery(ns, req.query, req.sort, req.hint, req.collator, req.has_collation, req.let);
  if (!req.multi) {
    Status s = RunWriteUnit(op, [&](storage::WriteUnit& unit, bool* commit,
                                    std::vector<catalog::CollectionPtr>* created) -> Status {
      out = UpdateOutcome{};
      auto replayed = Replayed(op, unit, retry, stmt_id);
      if (!replayed.ok()) return replayed.status();
      if (replayed.value()) {
        out = UpdateOutcomeFromBson(*replayed.value());
        *commit = false;
        return Status::OK();
      }
      auto coll = ExistingForWrite(op, unit, ns);
      if (!coll.ok()) return coll.status();
      auto plan = QueryPlan::Make(BorrowSnapshot(&unit), coll.value(), q);
      if (!plan.ok()) return plan.status();
      std::optional<bson::Doc> found;
      query::MatchDetails details;
      BROOK_RETURN_IF_ERROR(FindFirst(plan.value().get(), req.sort, req.collator, &found, &details));
      if (found) {
        BROOK_RETURN_IF_ERROR(ApplyUpdate(unit, *coll.value(), req, *found, &details, retry, stmt_id, &out));
      } else if (req.upsert) {
        BROOK_RETURN_IF_ERROR(UpsertInsert(op, unit, ns, req, retry, stmt_id, created, &out));
      } else if (!retry) {
        *commit = false;
        return Status::OK();
      }
      Record(op, unit, retry, stmt_id, UpdateOutcomeToBson(out));
      return Status::OK();
    });
    if (!s.ok()) return s;
    return out;
  }

  auto ids = MatchingIds(op, q);
  if (!ids.ok()) return ids.status();
  auto matcher = ParseFilter(req.query, req.collator, req.let);
  if (!matcher.ok()) return matcher.status();
  for (const auto& id_doc : ids.value()) {
    UpdateOutcome one;
    Status s = RunWriteUnit(op, [&](storage::WriteUnit& unit, bool* commit,
                                    std::vector<catalog::CollectionPtr>*) -> Status {
      one = UpdateOutcome{};
      auto coll = ExistingForWrite(op, unit, ns);
      if (!coll.ok()) return coll.status();
      *commit = false;
      if (!coll.value()) return Status::OK();
      auto current = catalog::FindById(unit, *coll.value(), id_doc["_id"]);
      if (!current.ok()) return current.status();
      if (!current.value()) return Status::OK();
      query::MatchDetails details;
      auto m = matcher.value()->MatchesOrError(*current.value(), &details);
      if (!m.ok()) return m.status();
      if (!m.value()) return Status::OK();
      BROOK_RETURN_IF_ERROR(ApplyUpdate(unit, *coll.value(), req, *current.value(), &details,
                                        nullptr, 0, &one));
      *commit = one.n_modified > 0;
      return Status::OK();
    });
    if (!s.ok()) return s;
    // Counted after the commit: a retried unit must not count twice.
    out.n += one.n;
    out.n_modified += one.n_modified;
  }
  if (ids.value().empty() && req.upsert) {
    Status s = RunWriteUnit(op, [&](storage::WriteUnit& unit, bool*,
                                    std::vector<catalog::CollectionPtr>* created) -> Status {
      out = UpdateOutcome{};
      return UpsertInsert(op, unit, ns, req, nullptr, 0, created, &out);
    });
    if (!s.ok()) return s;
  }
  return out;
}

StatusWith<DeleteOutcome> ExecuteDelete(OperationContext& op, const catalog::Namespace& ns,
                                        const DeleteRequest& req, const RetryContext* retry,
                                        int32_t stmt_id) {
  DeleteOutcome out;
  QueryRequest q = MakeQuery(ns, req.query, req.sort, req.hint, req.collator, req.has_collation, req.let);
  if (!req.multi) {
    Status s = RunWriteUnit(op, [&](storage::WriteUnit& unit, bool* commit,
                                    std::vector<catalog::CollectionPtr>*) -> Status {
      out = DeleteOutcome{};
      auto replayed = Replayed(op, unit, retry, stmt_id);
      if (!replayed.ok()) return replayed.status();
      if (replayed.value()) {
        out.n = replayed.value()->view()["n"].NumberInt64();
        if (replayed.value()->view()["deleted"].IsObject()) {
          out.deleted = bson::Doc::CopyOf(replayed.value()->view()["deleted"].Obj());
        }
        *commit = false;
        return Status::OK();
      }
      auto coll = ExistingForWrite(op, unit, ns);
      if (!coll.ok()) return coll.status();
      auto plan = QueryPlan::Make(BorrowSnapshot(&unit), coll.value(), q);
      if (!plan.ok()) return plan.status();
      std::optional<bson::Doc> found;
      BROOK_RETURN_IF_ERROR(FindFirst(plan.value().get(), req.sort, req.collator, &found, nullptr));
      if (found) {
        BROOK_RETURN_IF_ERROR(catalog::DeleteRecord(unit, *coll.value(), *found));
        AddDeleteOplog(unit, *coll.value(), *found, retry, stmt_id);
        out.n = 1;
        if (req.want_image) out.deleted = std::move(found);
      } else if (!retry) {
        *commit = false;
        return Status::OK();
      }
      bson::Builder result;
      result.AppendInt64("n", out.n);
      if (out.deleted) result.AppendDocument("deleted", *out.deleted);
      Record(op, unit, retry, stmt_id, result.Done());
      return Status::OK();
    });
    if (!s.ok()) return s;
    return out;
  }

  auto ids = MatchingIds(op, q);
  if (!ids.ok()) return ids.status();
  auto matcher = ParseFilter(req.query, req.collator, req.let);
  if (!matcher.ok()) return matcher.status();
  for (const auto& id_doc : ids.value()) {
    bool deleted = false;
    Status s = RunWriteUnit(op, [&](storage::WriteUnit& unit, bool* commit,
                                    std::vector<catalog::CollectionPtr>*) -> Status {
      *commit = false;
      deleted = false;
      auto coll = ExistingForWrite(op, unit, ns);
      if (!coll.ok()) return coll.status();
      if (!coll.value()) return Status::OK();
      auto current = catalog::FindById(unit, *coll.value(), id_doc["_id"]);
      if (!current.ok()) return current.status();
      if (!current.value()) return Status::OK();
      auto m = matcher.value()->MatchesOrError(*current.value());
      if (!m.ok()) return m.status();
      if (!m.value()) return Status::OK();
      BROOK_RETURN_IF_ERROR(catalog::DeleteRecord(unit, *coll.value(), *current.value()));
      AddDeleteOplog(unit, *coll.value(), *current.value(), nullptr, 0);
      *commit = true;
      deleted = true;
      return Status::OK();
    });
    if (!s.ok()) return s;
    if (deleted) ++out.n;
  }
  return out;
}

}  // namespace brook::commands
