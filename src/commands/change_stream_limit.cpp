#include "commands/change_stream_limit.h"

#include <string>

namespace brook::commands {

ChangeStreamSlot& ChangeStreamSlot::operator=(ChangeStreamSlot&& o) noexcept {
  if (this != &o) {
    Release();
    open_ = o.open_;
    o.open_ = nullptr;
  }
  return *this;
}

void ChangeStreamSlot::Release() {
  if (open_) open_->fetch_sub(1, std::memory_order_relaxed);
  open_ = nullptr;
}

StatusWith<ChangeStreamSlot> ChangeStreamSlot::Acquire(std::atomic<int64_t>* open, int64_t max) {
  if (!open) return ChangeStreamSlot();
  // Increment first, then check: two racing opens can never both take the last slot.
  int64_t before = open->fetch_add(1, std::memory_order_relaxed);
  if (before >= max) {
    open->fetch_sub(1, std::memory_order_relaxed);
    return Status(ErrorCodes::kOperationFailed,
                  "too many open change streams: the server allows " + std::to_string(max) +
                      " (setParameter maxOpenChangeStreams); close streams that are no longer "
                      "needed or raise the limit");
  }
  return ChangeStreamSlot(open);
}

}  // namespace brook::commands
