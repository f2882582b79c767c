#include "commands/change_stream_limit.h"

#include <gtest/gtest.h>

#include <vector>

namespace brook::commands {
namespace {

TEST(ChangeStreamSlot, RefusesOverTheLimitAndFreesOnDestruction) {
  std::atomic<int64_t> open{0};
  std::vector<ChangeStreamSlot> held;
  for (int i = 0; i < 3; ++i) {
    auto slot = ChangeStreamSlot::Acquire(&open, 3);
    ASSERT_TRUE(slot.ok());
    held.push_back(std::move(slot.value()));
  }
  EXPECT_EQ(open.load(), 3);
  auto refused = ChangeStreamSlot::Acquire(&open, 3);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), static_cast<int>(ErrorCodes::kOperationFailed));
  EXPECT_NE(refused.status().reason().find("maxOpenChangeStreams"), std::string::npos);
  EXPECT_EQ(open.load(), 3);  // the refused attempt left no trace

  held.pop_back();
  EXPECT_EQ(open.load(), 2);
  EXPECT_TRUE(ChangeStreamSlot::Acquire(&open, 3).ok());  // taken, then freed at once
  EXPECT_EQ(open.load(), 2);
}

TEST(ChangeStreamSlot, MovedSlotCountsOnce) {
  std::atomic<int64_t> open{0};
  {
    auto a = ChangeStreamSlot::Acquire(&open, 10);
    ASSERT_TRUE(a.ok());
    ChangeStreamSlot b = std::move(a.value());
    ChangeStreamSlot c;
    c = std::move(b);
    EXPECT_EQ(open.load(), 1);
  }
  EXPECT_EQ(open.load(), 0);
}

TEST(ChangeStreamSlot, ZeroLimitRefusesEverything) {
  std::atomic<int64_t> open{0};
  EXPECT_FALSE(ChangeStreamSlot::Acquire(&open, 0).ok());
  EXPECT_EQ(open.load(), 0);
}

TEST(ChangeStreamSlot, NoCounterIsUnlimited) {
  EXPECT_TRUE(ChangeStreamSlot::Acquire(nullptr, 0).ok());
}

}  // namespace
}  // namespace brook::commands
