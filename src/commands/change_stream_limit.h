#pragma once
// The server-wide limit on open change streams (setParameter maxOpenChangeStreams).
//
// Owns: one counted slot per open change-stream cursor. The aggregate that opens a stream
// acquires a slot before doing any work and the cursor holds it, so the count falls when
// the cursor goes away however it ends (exhausted, killed, reaped as idle, invalidated).
// A stream refused at the limit gets a clear error; every other client is unaffected.
// Thread-safety: Acquire and the destructor are lock-free on one shared atomic counter.

#include <atomic>
#include <cstdint>

#include "util/status.h"

namespace brook::commands {

class ChangeStreamSlot {
 public:
  ChangeStreamSlot() = default;
  ChangeStreamSlot(ChangeStreamSlot&& o) noexcept : open_(o.open_) { o.open_ = nullptr; }
  ChangeStreamSlot& operator=(ChangeStreamSlot&& o) noexcept;
  ChangeStreamSlot(const ChangeStreamSlot&) = delete;
  ChangeStreamSlot& operator=(const ChangeStreamSlot&) = delete;
  ~ChangeStreamSlot() { Release(); }

  // Takes one of `max` slots counted by `*open`; OperationFailed (96) when all are taken.
  // A null counter (no server statistics, unit tests) gives an uncounted slot.
  static StatusWith<ChangeStreamSlot> Acquire(std::atomic<int64_t>* open, int64_t max);

 private:
  explicit ChangeStreamSlot(std::atomic<int64_t>* open) : open_(open) {}
  void Release();

  std::atomic<int64_t>* open_ = nullptr;
};

}  // namespace brook::commands
