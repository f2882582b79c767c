#include "server/logging.h"

#include <gtest/gtest.h>

#include "bson/builder.h"
#include "bson/json.h"
#include "commands/log_buffer.h"

namespace brook::server {
namespace {

TEST(Logging, LineShapeIsMongoDBs) {
  bson::Builder attr;
  attr.AppendString("remote", "127.0.0.1:5000");
  attr.AppendInt32("connectionCount", 1);
  std::string line = FormatLogLine(1767323045678, 'I', "NETWORK", 22943, "listener",
                                   "Connection \"accepted\"", attr.Done());
  const std::string prefix =
      R"({"t":{"$date":"2026-01-02T03:04:05.678+00:00"},"s":"I","c":"NETWORK","id":22943,)"
      R"("ctx":"listener","msg":"Connection \"accepted\"","attr":{)";
  EXPECT_EQ(line, prefix + R"("remote":"127.0.0.1:5000","connectionCount":1}})");
  // Every line is one valid JSON object (the "$date" key is renamed: libbson's parser
  // wants its own date spelling, which is not the point here).
  auto parses = [](std::string l) {
    l.replace(l.find("$date"), 5, "date");
    auto d = bson::FromJson(l);
    return d.ok() ? d.value() : bson::Doc();
  };
  auto parsed = parses(line);
  EXPECT_EQ(parsed["attr"].Obj()["remote"].Str(), "127.0.0.1:5000");
  EXPECT_EQ(parsed["msg"].Str(), "Connection \"accepted\"");
  bson::Builder spaced;
  spaced.AppendString("note", "a b \"c d\" e");
  std::string with_spaces = FormatLogLine(0, 'I', "C", 1, "x", "m", spaced.Done());
  EXPECT_EQ(parses(with_spaces)["attr"].Obj()["note"].Str(), "a b \"c d\" e") << with_spaces;
  std::string no_attr = FormatLogLine(0, 'W', "CONTROL", 1, "main", "tab\there", bson::View());
  EXPECT_EQ(parses(no_attr)["msg"].Str(), "tab\there") << no_attr;
  EXPECT_EQ(no_attr.find("attr"), std::string::npos);
}

TEST(Logging, LinesReachTheLogBuffer) {
  commands::LogBuffer buffer;
  ASSERT_TRUE(InitLogging("/dev/null", &buffer).ok());
  Log('W', "CONTROL", 1, "main", "early warning");
  MarkStartupComplete();
  Log('W', "CONTROL", 2, "main", "late warning");
  Log('I', "NETWORK", 3, "main", "info");
  auto global = buffer.Get("global");
  ASSERT_TRUE(global.has_value());
  EXPECT_EQ(global->lines.size(), 3u);
  auto startup = buffer.Get("startupWarnings");
  ASSERT_EQ(startup->lines.size(), 1u);
  EXPECT_NE(startup->lines[0].find("early warning"), std::string::npos);
  ShutdownLogging();
}

}  // namespace
}  // namespace brook::server
