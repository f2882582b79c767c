#include "commands/change_stream_cmd.h"

#include <chrono>
#include <limits>
#include <memory>
#include <string>

#include "bson/builder.h"
#include "bson/compare.h"
#include "catalog/catalog.h"
#include "catalog/record_store.h"
#include "changestream/cursor.h"
#include "changestream/host.h"
#include "changestream/plan.h"
#include "commands/change_stream_limit.h"
#include "commands/operation_context.h"
#include "commands/server_options.h"
#include "commands/server_stats.h"
#include "storage/engine.h"

namespace brook::commands {
namespace {

// updateLookup over the catalog and the record store. MongoDB looks the document up by
// namespace and returns nothing when the collection there is no longer the one the event
// came from (dropped and re-created, or renamed away).
class CatalogHost : public changestream::EngineHost {
 public:
  CatalogHost(storage::Engine* engine, catalog::Catalog* catalog)
      : EngineHost(engine), catalog_(catalog) {}

  StatusWith<std::optional<bson::Doc>> LookupDocument(std::string_view db, std::string_view coll,
                                                      const changestream::CollectionUuid& uuid,
                                                      bson::View document_key) override {
    using Result = std::optional<bson::Doc>;
    if (!catalog_) return Result();
    auto info = catalog_->Lookup(catalog::Namespace{std::string(db), std::string(coll)});
    if (!info || info->uuid != uuid) return Result();
    auto id = document_key["_id"];
    if (id.missing()) return Result();
    auto snap = engine_->GetSnapshot();
    auto found = catalog::FindById(*snap, *info, id);
    if (!found.ok()) return found.status();
    if (!found.value()) return Result();
    // documentKey may hold more than _id (a shard key): every field must still match.
    bson::View doc = found.value()->view();
    for (const auto& e : document_key) {
      if (e.key() == "_id") continue;
      if (!bson::ValuesEqual(doc[e.key()], e)) return Result();
    }
    return found;
  }

 private:
  catalog::Catalog* catalog_;
};

// An open change stream in the cursor registry. Keeps the host the stages call into.
class ChangeStreamClientCursor : public ClientCursor {
 public:
  ChangeStreamClientCursor(std::unique_ptr<CatalogHost> host,
                           std::unique_ptr<changestream::ChangeStreamCursor> stream, ChangeStreamSlot slot)
      : host_(std::move(host)), stream_(std::move(stream)), slot_(std::move(slot)) {}

  changestream::ChangeStreamCursor& stream() { return *stream_; }

  // For callers that only know ClientCursor: events one at a time up to the batch's limits.
  StatusWith<bool> NextBatch(OperationContext& /*op*/, BatchBuilder* batch) override {
    while (!batch->Full()) {
      auto next = stream_->NextBatch(1, kMaxBatchBytes);
      if (!next.ok()) return next.status();
      pbrt_ = next.value().post_batch_resume_token;
      for (const auto& ev : next.value().events) {
        // A single event can exceed what remains; it was already taken from the stream,
        // so it goes in regardless (one event per call keeps this to one overflow).
        batch->Append(ev);
      }
      if (next.value().invalidated) return true;
      if (next.value().events.empty()) break;
    }
    return false;
  }

  void AppendCursorFields(bson::Builder* cursor_doc) override {
    cursor_doc->AppendDocument("postBatchResumeToken", pbrt_.empty() ? stream_->post_batch_resume_token().ToDocument() : pbrt_);
  }

  void set_pbrt(bson::Doc pbrt) { pbrt_ = std::move(pbrt); }

 private:
  std::unique_ptr<CatalogHost> host_;
  std::unique_ptr<changestream::ChangeStreamCursor> stream_;
  ChangeStreamSlot slot_;  // held for the cursor's life: maxOpenChangeStreams
  bson::Doc pbrt_;
};

size_t BatchLimit(std::optional<int64_t> batch_size, size_t if_absent) {
  if (!batch_size) return if_absent;
  return static_cast<size_t>(*batch_size);
}

// {<field>: [events], postBatchResumeToken} into an open cursor document.
void AppendBatch(std::string_view field, const changestream::ChangeStreamBatch& batch,
                 bson::Builder* cursor_doc) {
  cursor_doc->OpenArray(field);
  std::string scratch;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    cursor_doc->AppendDocument(bson::ArrayKey(i, &scratch), batch.events[i]);
  }
  cursor_doc->Close();
  cursor_doc->AppendDocument("postBatchResumeToken", batch.post_batch_resume_token);
}

bson::Timestamp PreviousTick(bson::Timestamp ts) {
  uint64_t v = ts.AsUint64();
  return bson::Timestamp::FromUint64(v == 0 ? 0 : v - 1);
}

}  // namespace

bool IsChangeStreamPipeline(bson::View pipeline) {
  if (pipeline.empty()) return false;
  auto first = pipeline.first();
  return first.IsObject() && !first.Obj().empty() && first.Obj().first().key() == "$changeStream";
}

bool IsChangeStreamCursor(const ClientCursor* cursor) {
  return dynamic_cast<const ChangeStreamClientCursor*>(cursor) != nullptr;
}

Status RunChangeStreamAggregate(OperationContext& op, const catalog::Namespace& ns, bool db_level,
                                bson::View pipeline, std::optional<int64_t> batch_size,
                                std::optional<bson::View> let, bool explain, bson::Builder* reply) {
  changestream::PlanContext ctx;
  ctx.db = ns.db;
  if (!db_level) ctx.coll = ns.coll;
  ctx.collator = nullptr;  // Brook compares strings binary (crud_args.h ParseCollation)
  if (let) ctx.let_vars = bson::Doc::CopyOf(*let);
  auto plan = changestream::BuildChangeStreamPlan(pipeline, ctx);
  if (!plan.ok()) return changestream::AddChangeStreamErrorLabels(plan.status(), false);

  if (explain) {
    reply->AppendString("explainVersion", "1");
    reply->AppendAll(plan.value()->Explain());
    return Status::OK();
  }

  storage::Engine* engine = op.service().engine;
  if (!engine) return Status(ErrorCodes::kInternalError, "no storage engine");
  // Before any work: a refused stream costs the server nothing.
  const ServerOptions* opts = op.service().options;
  auto slot = ChangeStreamSlot::Acquire(
      op.service().stats ? &op.service().stats->change_streams_open : nullptr,
      opts ? opts->parameters->GetInt(kParamMaxOpenChangeStreams) : kDefaultMaxOpenChangeStreams);
  if (!slot.ok()) return slot.status();
  auto host = std::make_unique<CatalogHost>(engine, op.service().catalog);
  auto opened = changestream::ChangeStreamCursor::Open(plan.value(), host.get(), engine,
                                                       op.service().change_stream_tailer);
  if (!opened.ok()) return changestream::AddChangeStreamErrorLabels(opened.status(), false);
  auto stream = std::move(opened).value();
  auto batch = stream->NextBatch(BatchLimit(batch_size, kDefaultFirstBatchDocs), kMaxBatchBytes);
  if (!batch.ok()) return changestream::AddChangeStreamErrorLabels(batch.status(), false);

  reply->OpenDocument("cursor");
  AppendBatch("firstBatch", batch.value(), reply);
  int64_t id = 0;
  if (!batch.value().invalidated && op.service().cursors) {
    auto cursor = std::make_unique<ChangeStreamClientCursor>(std::move(host), std::move(stream),
                                                             std::move(slot.value()));
    cursor->set_pbrt(batch.value().post_batch_resume_token);
    CursorOwner owner{op.client().connection_id, op.lsid};
    id = op.service().cursors->Register(ns.ns(), std::move(cursor), std::move(owner));
  }
  reply->AppendInt64("id", id);
  reply->AppendString("ns", ns.ns());
  reply->Close();
  return Status::OK();
}

Status ChangeStreamGetMore(OperationContext& op, CursorRegistry::Pinned& pinned,
                           std::optional<int64_t> batch_size, bson::Builder* reply) {
  auto* cursor = dynamic_cast<ChangeStreamClientCursor*>(pinned.cursor());
  if (!cursor) return Status(ErrorCodes::kInternalError, "not a change stream cursor");
  // getMore has no command deadline (generic_args); its maxTimeMS is the awaitData wait.
  // The first run fixes the deadline; the dispatcher's re-runs keep it.
  if (!op.deadline) {
    int64_t wait_ms = op.max_time_ms.value_or(0) > 0 ? *op.max_time_ms : kDefaultAwaitDataTimeoutMs;
    op.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  }
  changestream::ChangeStreamCursor& stream = cursor->stream();
  // batchSize absent or 0: as many events as fit in the reply.
  size_t limit = batch_size && *batch_size > 0 ? static_cast<size_t>(*batch_size)
                                               : std::numeric_limits<size_t>::max();
  auto batch = stream.NextBatch(limit, kMaxBatchBytes);
  if (!batch.ok()) {
    // As MongoDB does, a getMore that failed closes its cursor.
    pinned.Exhaust();
    return changestream::AddChangeStreamErrorLabels(batch.status(), true);
  }
  cursor->set_pbrt(batch.value().post_batch_resume_token);
  const bool invalidated = batch.value().invalidated;
  if (batch.value().events.empty() && !invalidated && !op.DeadlinePassed()) {
    // Nothing yet: the dispatcher re-runs this once durable reaches the next scan point.
    op.await_data = AwaitData{PreviousTick(stream.next_scan_ts()), *op.deadline, pinned.id(),
                              pinned.kill_flag(), true, stream.wake_signal()};
  }
  std::string ns = pinned.ns();
  int64_t id = pinned.id();
  reply->OpenDocument("cursor");
  AppendBatch("nextBatch", batch.value(), reply);
  if (invalidated) {
    pinned.Exhaust();
    id = 0;
  }
  reply->AppendInt64("id", id);
  reply->AppendString("ns", ns);
  reply->Close();
  return Status::OK();
}

}  // namespace brook::commands
