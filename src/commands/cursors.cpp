// getMore and killCursors over the cursor registry.
#include "bson/builder.h"
#include "changestream/cursor.h"
#include "commands/change_stream_cmd.h"
#include "commands/failpoints.h"
#include "commands/crud_args.h"
#include "commands/cursor_registry.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/server_stats.h"

namespace brook::commands {
namespace {

StatusWith<int64_t> CursorIdOf(const bson::Element& e, std::string_view cmd, std::string_view field) {
  if (!e.IsNumber()) return WrongType(cmd, field, e, "long");
  auto v = e.ExactInt64();
  if (!v) return WrongType(cmd, field, e, "long");
  return *v;
}

}  // namespace

Status HandleGetMore(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto id = CursorIdOf(req.body.first(), "getMore", "getMore");
  if (!id.ok()) return id.status();
  auto coll = req.body["collection"];
  if (coll.missing()) return MissingField("getMore", "collection");
  if (coll.type() != bson::Type::kString) return WrongType("getMore", "collection", coll, "string");
  std::optional<int64_t> batch_size;
  BROOK_RETURN_IF_ERROR(GetInt64(req.body, "getMore", "batchSize", &batch_size, 0));
  // A change stream's awaitData re-runs (dispatcher.h) are one getMore: they run with the
  // deadline its first run set (change_stream_cmd.cpp), and are counted once.
  const bool rerun = op.deadline.has_value();
  if (op.service().stats && !rerun) op.service().stats->opcounters.getmore.fetch_add(1, std::memory_order_relaxed);
  if (!op.service().cursors) {
    return Status(ErrorCodes::kCursorNotFound, "cursor id " + std::to_string(id.value()) + " not found");
  }
  std::string ns = std::string(req.db) + "." + std::string(coll.Str());
  auto pinned = op.service().cursors->Pin(id.value(), ns);
  if (!pinned.ok()) {
    // A re-run after an awaitData wait: this getMore held the cursor before the wait, so
    // a cursor gone now was killed under it (killCursors, killSessions). MongoDB
    // interrupts the waiting getMore with CursorKilled.
    if (rerun && pinned.status() == ErrorCodes::kCursorNotFound &&
        !op.service().cursors->Exists(id.value())) {
      return Status(ErrorCodes::kCursorKilled, "operation was interrupted");
    }
    return pinned.status();
  }
  auto& cursor = pinned.value();
  // MongoDB's failGetMoreAfterCursorCheckout: the error comes after the checkout, so it
  // gets the labels of the cursor's command (a change stream's are resumable), and the
  // failed getMore closes the cursor.
  if (op.service().failpoints && !rerun) {
    if (auto hit = op.service().failpoints->Check(kFailGetMoreAfterCursorCheckout)) {
      auto code = hit->data.view()["errorCode"];
      Status st(code.IsNumber() ? static_cast<int32_t>(code.NumberInt64())
                                : static_cast<int32_t>(ErrorCodes::kInternalError),
                "Hit the 'failGetMoreAfterCursorCheckout' failpoint");
      bool change_stream = IsChangeStreamCursor(cursor.cursor());
      cursor.Exhaust();
      return change_stream ? changestream::AddChangeStreamErrorLabels(st, true) : st;
    }
  }
  if (IsChangeStreamCursor(cursor.cursor())) return ChangeStreamGetMore(op, cursor, batch_size, reply);

  reply->OpenDocument("cursor");
  reply->OpenArray("nextBatch");
  // batchSize 0 or absent: as many documents as fit in 16 MiB.
  int64_t max_docs = batch_size && *batch_size > 0 ? *batch_size : -1;
  BatchBuilder batch(reply, max_docs);
  auto exhausted = cursor.cursor()->NextBatch(op, &batch);
  if (!exhausted.ok()) {
    // As MongoDB does, a cursor whose getMore failed is closed.
    cursor.Exhaust();
    return exhausted.status();
  }
  reply->Close();
  cursor.cursor()->AppendCursorFields(reply);
  int64_t reply_id = id.value();
  if (exhausted.value()) {
    cursor.Exhaust();
    reply_id = 0;
  }
  reply->AppendInt64("id", reply_id);
  reply->AppendString("ns", ns);
  reply->Close();
  return Status::OK();
}

Status HandleKillCursors(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto first = req.body.first();
  if (first.type() != bson::Type::kString) {
    return Status(ErrorCodes::kInvalidNamespace,
                  "collection name has invalid type " + std::string(bson::TypeName(first.type())));
  }
  std::string ns = std::string(req.db) + "." + std::string(first.Str());
  auto ids = req.body["cursors"];
  if (ids.missing()) return MissingField("killCursors", "cursors");
  if (!ids.IsArray()) return WrongType("killCursors", "cursors", ids, "array");
  bson::Builder killed, not_found;
  size_t nk = 0, nn = 0;
  std::string scratch;
  for (const auto& e : ids.Obj()) {
    auto id = CursorIdOf(e, "killCursors", "cursors");
    if (!id.ok()) return id.status();
    bool ok = op.service().cursors && op.service().cursors->Exists(id.value(), ns) &&
              op.service().cursors->Kill(id.value());
    if (ok) {
      killed.AppendInt64(bson::ArrayKey(nk++, &scratch), id.value());
    } else {
      not_found.AppendInt64(bson::ArrayKey(nn++, &scratch), id.value());
    }
  }
  reply->AppendArray("cursorsKilled", killed.Done());
  reply->AppendArray("cursorsNotFound", not_found.Done());
  reply->OpenArray("cursorsAlive").Close();
  reply->OpenArray("cursorsUnknown").Close();
  return Status::OK();
}

}  // namespace brook::commands
