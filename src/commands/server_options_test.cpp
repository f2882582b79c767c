#include "commands/server_options.h"

#include <gtest/gtest.h>

#include "bson/json.h"
#include "commands/log_buffer.h"

namespace brook::commands {
namespace {

TEST(ServerParameters, StartupStrings) {
  ServerParameters p;
  EXPECT_FALSE(p.GetBool(kParamEnableTestCommands));
  ASSERT_TRUE(p.SetFromString(kParamEnableTestCommands, "1").ok());
  EXPECT_TRUE(p.GetBool(kParamEnableTestCommands));
  ASSERT_TRUE(p.SetFromString(kParamCursorTimeoutMillis, "1234").ok());
  EXPECT_EQ(p.GetInt(kParamCursorTimeoutMillis), 1234);
  EXPECT_FALSE(p.SetFromString(kParamCursorTimeoutMillis, "12x").ok());
  EXPECT_FALSE(p.SetFromString(kParamEnableTestCommands, "yes").ok());
  EXPECT_FALSE(p.SetFromString("noSuchParameter", "1").ok());
  EXPECT_FALSE(p.SetFromString("featureCompatibilityVersion", "7.0").ok());
}

TEST(ServerParameters, RuntimeSetAndGet) {
  ServerParameters p;
  auto v = bson::FromJson(R"({"cursorTimeoutMillis": 5000, "enableTestCommands": true, "x": "s"})").value();
  bson::Builder was;
  ASSERT_TRUE(p.SetRuntime("cursorTimeoutMillis", v.view()["cursorTimeoutMillis"], &was).ok());
  EXPECT_EQ(was.Done().view()["was"].NumberInt64(), 600000);
  EXPECT_EQ(p.GetInt(kParamCursorTimeoutMillis), 5000);
  EXPECT_EQ(p.SetRuntime("enableTestCommands", v.view()["enableTestCommands"], nullptr).code(),
            static_cast<int>(ErrorCodes::kInvalidOptions));
  EXPECT_EQ(p.SetRuntime("nope", v.view()["x"], nullptr).code(), static_cast<int>(ErrorCodes::kInvalidOptions));
  EXPECT_FALSE(p.SetRuntime("cursorTimeoutMillis", v.view()["x"], nullptr).ok());

  bson::Builder out;
  EXPECT_TRUE(p.AppendValue("featureCompatibilityVersion", &out));
  EXPECT_FALSE(p.AppendValue("nope", &out));
  auto d = out.Done();
  EXPECT_EQ(d.view()["featureCompatibilityVersion"].Obj()["version"].Str(), "7.0");
}

TEST(LogBuffer, RingAndNames) {
  LogBuffer lb;
  for (size_t i = 0; i < LogBuffer::kCapacity + 10; ++i) lb.Add("line" + std::to_string(i));
  lb.AddStartupWarning("warn");
  auto g = lb.Get("global");
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->total_lines_written, static_cast<int64_t>(LogBuffer::kCapacity + 11));
  EXPECT_EQ(g->lines.size(), LogBuffer::kCapacity);
  EXPECT_EQ(g->lines.back(), "warn");
  auto s = lb.Get("startupWarnings");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->lines, std::vector<std::string>{"warn"});
  EXPECT_FALSE(lb.Get("other").has_value());
}

}  // namespace
}  // namespace brook::commands
