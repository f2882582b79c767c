#pragma once
// Counters reported by serverStatus.
//
// Owns: process-wide operation counters. Handlers bump them; serverStatus reads them.
// Thread-safety: every counter is atomic (relaxed: figures, not synchronisation).

#include <atomic>
#include <cstdint>

namespace brook::commands {

struct ServerStats {
  struct OpCounters {
    std::atomic<int64_t> insert{0};   // per document inserted
    std::atomic<int64_t> query{0};    // per find command
    std::atomic<int64_t> update{0};   // per update statement
    std::atomic<int64_t> remove{0};   // per delete statement (reported as "delete")
    std::atomic<int64_t> getmore{0};
    std::atomic<int64_t> command{0};  // every other command
  } opcounters;
  std::atomic<int64_t> connections_current{0};
  std::atomic<int64_t> connections_total_created{0};
  std::atomic<int64_t> bytes_in{0};
  std::atomic<int64_t> bytes_out{0};
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> cursors_open{0};
  std::atomic<int64_t> cursors_timed_out{0};
  std::atomic<int64_t> change_streams_open{0};  // counted against maxOpenChangeStreams
};

}  // namespace brook::commands
