#pragma once
// aggregate: runs a query::Pipeline over a collection scan (with the leading $match
// pushed into the planner), the oplog view, $documents (aggregate: 1) or $collStats, and
// serves the results through a cursor. Also implements PipelineHost for $lookup,
// $unionWith and $out.
// Thread-safety: the cursor and its host belong to one thread at a time.

#include <string_view>

#include "bson/builder.h"
#include "commands/registry.h"
#include "util/status.h"

namespace brook::commands {

class OperationContext;

// The aggregate command; with `explain` set (from {aggregate..., explain: true} or the
// explain command) replies with the plan instead of running it.
Status RunAggregate(OperationContext& op, const CommandRequest& req, bool explain,
                    std::string_view verbosity, bson::Builder* reply);

}  // namespace brook::commands
