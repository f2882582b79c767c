#pragma once
// aggregate: runs a query::Pipeline over a collection scan (with the leading $match
// pushed into the planner), a view (its stages first), the oplog view, $documents
// (aggregate: 1), $listLocalSessions or $collStats, and serves the results through a
// cursor. The PipelineHost ($lookup, $unionWith, $out, $merge) is aggregate_cmd_host.h.
// Thread-safety: the cursor and its host belong to one thread at a time.

#include <optional>
#include <string_view>
#include <vector>

#include "bson/builder.h"
#include "catalog/namespace.h"
#include "commands/crud_args.h"
#include "commands/registry.h"
#include "util/status.h"

namespace brook::commands {

class OperationContext;

// The aggregate command; with `explain` set (from {aggregate..., explain: true} or the
// explain command) replies with the plan instead of running it.
Status RunAggregate(OperationContext& op, const CommandRequest& req, bool explain,
                    std::string_view verbosity, bson::Builder* reply);

// Runs `stages` over `ns` (a collection, or a view: its pipeline runs first) and returns
// every output document. find, count and distinct on a view use it.
StatusWith<std::vector<bson::Doc>> RunPipelineToVector(OperationContext& op,
                                                       const catalog::Namespace& ns,
                                                       bson::View stages,
                                                       const CollationArg& collation,
                                                       std::optional<bson::View> let);

}  // namespace brook::commands
