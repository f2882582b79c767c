#pragma once
// Change streams as commands: aggregate with a first stage {$changeStream: ...} opens a
// stream (collection, database with `aggregate: 1`, or the whole deployment on admin
// with allChangesForCluster) and getMore reads it, waiting for new durable events.
//
// Owns: the ChangeStreamHost over the catalog and record stores (updateLookup reads the
// current committed document, by namespace, and only while the collection still has the
// event's UUID); the ClientCursor that keeps an open changestream::ChangeStreamCursor and
// its postBatchResumeToken; the replies {cursor: {firstBatch|nextBatch,
// postBatchResumeToken, id, ns}} (id 0 once the stream is invalidated); the awaitData
// wait of getMore (maxTimeMS, default 1 s as MongoDB); MongoDB's error labels
// (AddChangeStreamErrorLabels: NonResumableChangeStreamError on 280/286 and, on getMore,
// ResumableChangeStreamError for the resumable codes).
// Waiting: handlers never block. An empty getMore sets op.await_data (durable must reach
// the stream's next scan timestamp) and the dispatcher re-runs it (dispatcher.h).
// Thread-safety: a change-stream cursor is used by one pinned getMore at a time; the host
// reads the thread-safe catalog and engine.

#include <cstdint>
#include <optional>
#include <string_view>

#include "bson/builder.h"
#include "bson/document.h"
#include "catalog/namespace.h"
#include "commands/cursor_registry.h"
#include "commands/registry.h"
#include "util/status.h"

namespace brook::commands {

class OperationContext;

// MongoDB's wait for an awaitData getMore without maxTimeMS.
inline constexpr int64_t kDefaultAwaitDataTimeoutMs = 1000;

// Whether the pipeline array's first stage is $changeStream.
bool IsChangeStreamPipeline(bson::View pipeline);

// aggregate {pipeline: [{$changeStream: ...}, ...]}: `ns` is db.coll, or db.$cmd.aggregate
// for `aggregate: 1` (db_level). With `explain` replies with the stream's plan.
Status RunChangeStreamAggregate(OperationContext& op, const catalog::Namespace& ns, bool db_level,
                                bson::View pipeline, std::optional<int64_t> batch_size,
                                std::optional<bson::View> let, bool explain, bson::Builder* reply);

// Whether a registered cursor is a change stream (getMore routes it here).
bool IsChangeStreamCursor(const ClientCursor* cursor);

// getMore on a pinned change-stream cursor. Errors are labelled and close the cursor.
Status ChangeStreamGetMore(OperationContext& op, CursorRegistry::Pinned& pinned,
                           std::optional<int64_t> batch_size, bson::Builder* reply);

}  // namespace brook::commands
