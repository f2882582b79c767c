#include "commands/cursor_registry.h"

#include <gtest/gtest.h>

#include "bson/builder.h"
#include "commands/operation_context.h"
#include "commands/server_stats.h"

namespace brook::commands {
namespace {

std::unique_ptr<ClientCursor> CursorOf(int n) {
  std::vector<bson::Doc> docs;
  for (int i = 0; i < n; ++i) {
    bson::Builder b;
    b.AppendInt32("i", i);
    docs.push_back(b.Done());
  }
  return std::make_unique<StreamCursor>(std::make_unique<VectorStream>(std::move(docs)));
}

TEST(CursorRegistryTest, PinReleaseKillAndReap) {
  ServerStats stats;
  CursorRegistry reg(&stats);
  int64_t a = reg.Register("db.c", CursorOf(3), {});
  int64_t b = reg.Register("db.c", CursorOf(3), {});
  EXPECT_GT(a, 0);
  EXPECT_NE(a, b);
  EXPECT_EQ(stats.cursors_open.load(), 2);
  EXPECT_EQ(reg.Pin(a, "db.d").status().code(), 13);
  {
    auto p = reg.Pin(a, "db.c");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(reg.Pin(a, "db.c").status().code(), 43);  // in use
    EXPECT_TRUE(reg.Kill(a));                           // deferred until released
  }
  EXPECT_FALSE(reg.Exists(a));
  EXPECT_EQ(reg.Pin(a, "db.c").status().code(), 43);
  EXPECT_EQ(reg.ReapIdle(std::chrono::steady_clock::now()), 0u);
  EXPECT_EQ(reg.ReapIdle(std::chrono::steady_clock::now() + std::chrono::minutes(11)), 1u);
  EXPECT_FALSE(reg.Exists(b));
  EXPECT_EQ(stats.cursors_open.load(), 0);
  EXPECT_EQ(stats.cursors_timed_out.load(), 1);
}

TEST(CursorRegistryTest, StreamCursorKeepsWhatDoesNotFit) {
  ServiceContext service;
  ClientInfo client;
  OperationContext op(service, client);
  auto cursor = CursorOf(5);
  bson::Builder b;
  b.OpenArray("a");
  BatchBuilder batch(&b, 2);
  auto r = cursor->NextBatch(op, &batch);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.value());
  EXPECT_EQ(batch.count(), 2);
  b.Close();
  bson::Builder b2;
  b2.OpenArray("a");
  BatchBuilder rest(&b2, -1);
  r = cursor->NextBatch(op, &rest);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value());
  EXPECT_EQ(rest.count(), 3);
}

}  // namespace
}  // namespace brook::commands
