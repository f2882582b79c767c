#include "commands/failpoints.h"

#include <gtest/gtest.h>

#include "bson/json.h"
#include "commands/operation_context.h"

namespace brook::commands {
namespace {

bson::Doc J(std::string_view json) {
  auto d = bson::FromJson(json);
  EXPECT_TRUE(d.ok()) << json;
  return std::move(d).value();
}

StatusWith<int64_t> Configure(FailPoints& fps, std::string_view name, std::string_view mode_json,
                              std::string_view data_json = "{}") {
  bson::Doc mode = J(std::string("{\"m\": ") + std::string(mode_json) + "}");
  return fps.Configure(name, mode.view().first(), J(data_json));
}

TEST(FailPoints, ModesOffAlwaysTimesSkip) {
  FailPoints fps;
  EXPECT_FALSE(fps.Check(kFailCommand).has_value());
  ASSERT_TRUE(Configure(fps, kFailCommand, R"("alwaysOn")", R"({"x": 1})").ok());
  for (int i = 0; i < 3; ++i) {
    auto hit = fps.Check(kFailCommand);
    ASSERT_TRUE(hit.has_value());
    EXPECT_EQ(hit->data.view()["x"].NumberInt64(), 1);
  }
  auto count = Configure(fps, kFailCommand, R"({"times": 2})");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count.value(), 3) << "count reports activations under the previous mode";
  EXPECT_TRUE(fps.Check(kFailCommand).has_value());
  EXPECT_TRUE(fps.Check(kFailCommand).has_value());
  EXPECT_FALSE(fps.Check(kFailCommand).has_value());

  ASSERT_TRUE(Configure(fps, kFailCommand, R"({"skip": 2})").ok());
  EXPECT_FALSE(fps.Check(kFailCommand).has_value());
  EXPECT_FALSE(fps.Check(kFailCommand).has_value());
  EXPECT_TRUE(fps.Check(kFailCommand).has_value());
  EXPECT_TRUE(fps.Check(kFailCommand).has_value());

  ASSERT_TRUE(Configure(fps, kFailCommand, R"("off")").ok());
  EXPECT_FALSE(fps.Check(kFailCommand).has_value());
}

TEST(FailPoints, PredicateMissDoesNotConsume) {
  FailPoints fps;
  ASSERT_TRUE(Configure(fps, kFailCommand, R"({"times": 1})", R"({"want": "a"})").ok());
  auto want = [](std::string_view v) {
    return [v](bson::View d) { return d["want"].Str() == v; };
  };
  EXPECT_FALSE(fps.CheckIf(kFailCommand, want("b")).has_value());
  EXPECT_FALSE(fps.CheckIf(kFailCommand, want("b")).has_value());
  EXPECT_TRUE(fps.CheckIf(kFailCommand, want("a")).has_value());
  EXPECT_FALSE(fps.CheckIf(kFailCommand, want("a")).has_value());
}

TEST(FailPoints, ProbabilityExtremesAndBadModes) {
  FailPoints fps;
  ASSERT_TRUE(Configure(fps, kFailCommand, R"({"activationProbability": 1.0})").ok());
  EXPECT_TRUE(fps.Check(kFailCommand).has_value());
  ASSERT_TRUE(Configure(fps, kFailCommand, R"({"activationProbability": 0.0})").ok());
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(fps.Check(kFailCommand).has_value());

  EXPECT_EQ(Configure(fps, "noSuchFailPoint", R"("alwaysOn")").status().code(), 157);
  EXPECT_FALSE(Configure(fps, kFailCommand, R"("sometimes")").ok());
  EXPECT_FALSE(Configure(fps, kFailCommand, R"({"times": -1})").ok());
  EXPECT_FALSE(Configure(fps, kFailCommand, R"({"activationProbability": 2})").ok());
  EXPECT_FALSE(Configure(fps, kFailCommand, "5").ok());
  fps.Register("myFailPoint");
  EXPECT_TRUE(Configure(fps, "myFailPoint", R"("alwaysOn")").ok());
  EXPECT_TRUE(fps.Check("myFailPoint").has_value());
}

class FailCommandTest : public ::testing::Test {
 protected:
  FailCommandTest() : op_(service_, client_) { op_.db = "test"; }
  ServiceContext service_;
  ClientInfo client_;
  OperationContext op_;
  FailPoints fps_;
};

TEST_F(FailCommandTest, ErrorCodeWithDefaultAndGivenLabels) {
  ASSERT_TRUE(Configure(fps_, kFailCommand, R"({"times": 2})",
                        R"({"failCommands": ["insert"], "errorCode": 91})").ok());
  auto body = J(R"({"insert": "c"})");
  EXPECT_FALSE(EvaluateFailCommand(fps_, op_, "find", "find", body).has_value());
  op_.txn_number = 1;  // a retryable write
  auto action = EvaluateFailCommand(fps_, op_, "insert", "insert", body);
  ASSERT_TRUE(action.has_value());
  ASSERT_TRUE(action->error.has_value());
  EXPECT_EQ(action->error->code(), 91);
  EXPECT_EQ(action->error->reason(), "Failing command via 'failCommand' failpoint");
  EXPECT_TRUE(action->error->HasLabel("RetryableWriteError"));

  ASSERT_TRUE(Configure(fps_, kFailCommand, R"("alwaysOn")",
                        R"({"failCommands": ["insert"], "errorCode": 91, "errorLabels": ["Custom"]})").ok());
  action = EvaluateFailCommand(fps_, op_, "insert", "insert", body);
  ASSERT_TRUE(action && action->error);
  EXPECT_EQ(action->error->labels(), std::vector<std::string>{"Custom"});
}

TEST_F(FailCommandTest, CloseBlockAppNameNamespace) {
  ASSERT_TRUE(Configure(fps_, kFailCommand, R"("alwaysOn")",
                        R"({"failCommands": ["ping"], "closeConnection": true, "appName": "app1"})").ok());
  auto body = J(R"({"ping": 1})");
  EXPECT_FALSE(EvaluateFailCommand(fps_, op_, "ping", "ping", body).has_value());
  client_.metadata = J(R"({"application": {"name": "app1"}})");
  auto action = EvaluateFailCommand(fps_, op_, "ping", "ping", body);
  ASSERT_TRUE(action.has_value());
  EXPECT_TRUE(action->close_connection);

  ASSERT_TRUE(Configure(fps_, kFailCommand, R"("alwaysOn")",
                        R"({"failCommands": ["find"], "blockConnection": true, "blockTimeMS": 150, "namespace": "test.c"})").ok());
  EXPECT_FALSE(EvaluateFailCommand(fps_, op_, "find", "find", J(R"({"find": "other"})")).has_value());
  action = EvaluateFailCommand(fps_, op_, "find", "find", J(R"({"find": "c"})"));
  ASSERT_TRUE(action.has_value());
  EXPECT_EQ(action->block.count(), 150);
  EXPECT_FALSE(action->error.has_value());
  // configureFailPoint itself is never failed.
  ASSERT_TRUE(Configure(fps_, kFailCommand, R"("alwaysOn")",
                        R"({"failCommands": ["configureFailPoint"], "errorCode": 1})").ok());
  EXPECT_FALSE(EvaluateFailCommand(fps_, op_, "configureFailPoint", "configureFailPoint",
                                   J(R"({"configureFailPoint": "x"})")).has_value());
}

TEST_F(FailCommandTest, WriteConcernErrorOnlyAfterRun) {
  ASSERT_TRUE(Configure(fps_, kFailCommand, R"({"times": 1})",
                        R"({"failCommands": ["insert"], "writeConcernError": {"code": 91, "errmsg": "shutting down"}})").ok());
  auto body = J(R"({"insert": "c"})");
  // The pre-run check neither fires nor consumes the activation.
  EXPECT_FALSE(EvaluateFailCommand(fps_, op_, "insert", "insert", body).has_value());
  op_.txn_number = 3;
  auto wce = EvaluateFailCommandWriteConcernError(fps_, op_, "insert", "insert", body);
  ASSERT_TRUE(wce.has_value());
  EXPECT_EQ(wce->error.view()["code"].NumberInt64(), 91);
  EXPECT_EQ(wce->labels, std::vector<std::string>{"RetryableWriteError"});
  EXPECT_FALSE(EvaluateFailCommandWriteConcernError(fps_, op_, "insert", "insert", body).has_value());
}

}  // namespace
}  // namespace brook::commands
