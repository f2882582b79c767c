#pragma once
// The document write path shared by insert, update, delete and findAndModify
// (DESIGN.md "The write path").
//
// Owns: one WriteUnit per document write, retried on WriteConflict with backoff; the
// oplog drafts in MongoDB's shape (insert {op:"i", ns, ui, o, o2:{_id}}, update
// {op:"u", ns, ui, o2:{_id}, o:{$v:2, updateDescription:{updatedFields, removedFields,
// truncatedArrays}}} -- Brook's agreed shape, read by the change-stream layer --,
// replacement {op:"u", o:<whole new doc>}, delete {op:"d", o:{_id}}), the pre-image when
// the collection has changeStreamPreAndPostImages, the retryable-write record (lsid,
// txnNumber, stmtId in the oplog entry and the sessions family, same unit), and the
// operation's timestamps (operation_time, wait_for_durable).
// Thread-safety: functions run on the calling command's thread.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bson/document.h"
#include "catalog/catalog.h"
#include "commands/operation_context.h"
#include "commands/sessions.h"
#include "query/matcher.h"
#include "query/update.h"
#include "util/status.h"

namespace brook::storage {
class WriteUnit;
}

namespace brook::commands {

class OperationContext;

// Retryable-write identity of one statement (null when the command is not retryable).
struct RetryContext {
  bson::Doc lsid;
  std::string lsid_key;  // the lsid's UUID bytes
  int64_t txn_number = 0;
  // The txnNumber was new to the session when the command began: its first attempt
  // need not look for records of earlier attempts (there were none).
  bool new_txn_number = false;
};

// The retryable context of `op` (lsid + txnNumber, outside a transaction), after checking
// the txnNumber is not older than the session's newest (TransactionTooOld 225).
StatusWith<std::optional<RetryContext>> BeginRetryableCommand(OperationContext& op);

// Runs `body` in fresh WriteUnits until its commit succeeds (WriteConflict: retried with
// backoff, bounded). `body` returns false in *commit to skip committing (nothing to do).
// Collections the body created implicitly (appended to *created) are published after the
// commit. Records the commit's last timestamp in op.operation_time / wait_for_durable.
// After DeferLastCommit, the next RunWriteUnit runs its body once and leaves the unit in
// op.deferred_commit for the dispatcher instead of committing it.
Status RunWriteUnit(OperationContext& op,
                    const std::function<Status(storage::WriteUnit& unit, bool* commit,
                                               std::vector<catalog::CollectionPtr>* created)>& body);

// Called by a handler just before the RunWriteUnit of its last write, when its reply
// depends on nothing but that write's success: the dispatcher then commits it without
// blocking the network thread (outside transactions; only where the dispatcher offers).
void DeferLastCommit(OperationContext& op);
// The dispatcher's half of a deferred commit: what RunWriteUnit does after a commit
// (publish created collections, record the timestamp) on success; the commit's error
// otherwise. A WriteConflict is for the caller to retry by running the command again.
Status FinishDeferredCommit(OperationContext& op, const DeferredCommit& deferred,
                            const StatusWith<storage::CommitResult>& committed);

// Puts _id first (generating an ObjectId when absent) and validates it (InvalidIdField 53).
StatusWith<bson::Doc> PrepareInsertDocument(bson::View doc);

// Inserts documents in ONE write unit, as MongoDB puts a batch's inserts in one storage
// transaction: one commit, their oplog entries consecutive and made visible and durable
// together. `docs` are prepared (PrepareInsertDocument); `stmt_ids` are theirs. Returns
// false, having written nothing, when the group cannot be done that way: a document
// fails (validation, a duplicate key), a retryable statement ran before, or the commit
// fails. The caller then inserts them one by one (InsertOne), which reports each error
// at its own statement.
bool InsertGrouped(OperationContext& op, const catalog::Namespace& ns,
                   const std::vector<bson::View>& docs, const RetryContext* retry,
                   const std::vector<int32_t>& stmt_ids, bool bypass_validation);

// Inserts one document. With `retry`, a statement executed before is not applied again.
// The collection's validator applies unless `bypass_validation` (write_ops_validation.h).
Status InsertOne(OperationContext& op, const catalog::Namespace& ns, bson::View doc,
                 const RetryContext* retry, int32_t stmt_id, bool bypass_validation = false);

struct UpdateRequest {
  bson::View query;
  bson::View sort;  // findAndModify: which document when several match
  bson::Element hint;
  const bson::StringComparator* collator = nullptr;
  bool has_collation = false;
  bson::View let;
  bool upsert = false;
  bool multi = false;
  bool want_images = false;  // findAndModify: keep pre/post images (also in the retry record)
  bool bypass_validation = false;  // bypassDocumentValidation
  const query::UpdateDriver* driver = nullptr;
};

struct UpdateOutcome {
  int64_t n = 0;
  int64_t n_modified = 0;
  std::optional<bson::Doc> upserted_id;  // {_id: <value>}
  std::optional<bson::Doc> pre_image;    // findAndModify: the document before
  std::optional<bson::Doc> post_image;   // findAndModify: the document after
};

StatusWith<UpdateOutcome> ExecuteUpdate(OperationContext& op, const catalog::Namespace& ns,
                                        const UpdateRequest& req, const RetryContext* retry,
                                        int32_t stmt_id);

struct DeleteRequest {
  bson::View query;
  bson::View sort;
  bson::Element hint;
  const bson::StringComparator* collator = nullptr;
  bool has_collation = false;
  bson::View let;
  bool multi = false;
  bool want_image = false;  // findAndModify: keep the deleted document
};

struct DeleteOutcome {
  int64_t n = 0;
  std::optional<bson::Doc> deleted;  // findAndModify: the removed document
};

StatusWith<DeleteOutcome> ExecuteDelete(OperationContext& op, const catalog::Namespace& ns,
                                        const DeleteRequest& req, const RetryContext* retry,
                                        int32_t stmt_id);

// The outcome of a statement recorded by an earlier attempt of a retryable write.
bson::Doc UpdateOutcomeToBson(const UpdateOutcome& o);
UpdateOutcome UpdateOutcomeFromBson(bson::View v);

}  // namespace brook::commands
