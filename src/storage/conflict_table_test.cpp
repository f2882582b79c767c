#include "storage/conflict_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace brook::storage::internal {
namespace {

TEST(ConflictTableTest, WriteAfterSnapshotConflictsWriteBeforeDoesNot) {
  ConflictTable t;
  EXPECT_FALSE(t.Conflicts("k", 0));
  t.MarkPending("k");
  t.Publish(10);
  EXPECT_TRUE(t.Conflicts("k", 9));
  EXPECT_FALSE(t.Conflicts("k", 10));
  EXPECT_FALSE(t.Conflicts("k", 11));
  EXPECT_FALSE(t.Conflicts("other", 0));
}

TEST(ConflictTableTest, PendingWriteConflictsWithEverySnapshot) {
  ConflictTable t;
  t.MarkPending("k");
  EXPECT_TRUE(t.Conflicts("k", 1'000'000));
  t.MarkPending("k");  // the same unit writing it twice
  t.Publish(5);
  EXPECT_FALSE(t.Conflicts("k", 5));
  EXPECT_TRUE(t.Conflicts("k", 4));
}

TEST(ConflictTableTest, LaterWriteOfTheSameKeyWins) {
  ConflictTable t;
  t.MarkPending("k");
  t.Publish(5);
  t.MarkPending("k");
  t.Publish(8);
  EXPECT_TRUE(t.Conflicts("k", 6));
  // Pruning the first write must not forget the second.
  t.Prune(6);
  EXPECT_TRUE(t.Conflicts("k", 6));
  EXPECT_EQ(t.size(), 1u);
  t.Prune(8);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ConflictTableTest, PruneKeepsWhatLiveUnitsNeed) {
  ConflictTable t;
  for (uint64_t seq = 1; seq <= 10; ++seq) {
    t.MarkPending("k" + std::to_string(seq));
    t.Publish(seq);
  }
  t.Prune(4);  // the oldest live unit read at 4: writes 5..10 may still conflict with it
  EXPECT_EQ(t.size(), 6u);
  EXPECT_TRUE(t.Conflicts("k5", 4));
  EXPECT_FALSE(t.Conflicts("k4", 4));
}

TEST(ConflictTableTest, CapDropsHistoryAndOlderUnitsThenConflict) {
  ConflictTable t(/*max_entries=*/3);
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    t.MarkPending("k" + std::to_string(seq));
    t.Publish(seq);
  }
  t.Prune(0);  // a unit at snapshot 0 is still live, but the cap wins
  EXPECT_EQ(t.size(), 3u);
  // Writes 1 and 2 are forgotten: a unit older than them conflicts on any key.
  EXPECT_TRUE(t.Conflicts("unrelated", 0));
  EXPECT_TRUE(t.Conflicts("unrelated", 1));
  EXPECT_FALSE(t.Conflicts("unrelated", 2));
  EXPECT_TRUE(t.Conflicts("k5", 2));
}

TEST(ConflictTableTest, FingerprintsSeparateFamiliesAndNearbyKeys) {
  using H = ConflictTable::KeyHash;
  EXPECT_EQ(ConflictTable::HashKey(2, "key"), ConflictTable::HashKey(2, "key"));
  EXPECT_NE(ConflictTable::HashKey(2, "key"), ConflictTable::HashKey(3, "key"));
  // Keys that differ in one byte, as consecutive record ids do, never collide here.
  std::set<H> seen;
  for (int family = 0; family < 8; ++family) {
    for (uint32_t i = 0; i < 20000; ++i) {
      std::string key(reinterpret_cast<const char*>(&i), sizeof(i));
      EXPECT_TRUE(seen.insert(ConflictTable::HashKey(family, key)).second) << family << " " << i;
    }
  }
  // A write in one family is no conflict for the same bytes in another.
  ConflictTable t;
  t.MarkPending(ConflictTable::HashKey(1, "x"));
  t.Publish(7);
  EXPECT_TRUE(t.Conflicts(ConflictTable::HashKey(1, "x"), 6));
  EXPECT_FALSE(t.Conflicts(ConflictTable::HashKey(2, "x"), 6));
}

}  // namespace
}  // namespace brook::storage::internal
