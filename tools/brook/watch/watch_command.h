#pragma once
// `brook watch`: wires the flags to the processor (stream source, sink, checkpoint store,
// status reporter, initial sync) and handles SIGINT/SIGTERM (finish the batch in hand,
// save the checkpoint, exit 0). SIGPIPE is ignored so a closed receiver is an error, not
// a silent death.
// Thread-safety: called once from main.

#include "watch/options.h"

namespace brook::watch {

// Returns the process exit code (see ExitCode in processor.h).
int RunWatch(const WatchOptions& options);

// When the checkpoint lives in a watched collection, its own updates must not feed the
// stream (each save would produce an event, forever): prepends a $match excluding it.
void ExcludeCheckpointNamespace(WatchOptions* options);

}  // namespace brook::watch
