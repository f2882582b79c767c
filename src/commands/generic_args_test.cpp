#include "commands/generic_args.h"

#include <gtest/gtest.h>

#include "bson/json.h"
#include "commands/operation_context.h"

namespace brook::commands {
namespace {

bson::Doc J(std::string_view json) {
  auto d = bson::FromJson(json);
  EXPECT_TRUE(d.ok()) << json << " " << d.status().ToString();
  return std::move(d).value();
}

class GenericArgsTest : public ::testing::Test {
 protected:
  Status Parse(std::string_view json, std::string_view command = "find") {
    op_ = std::make_unique<OperationContext>(service_, client_);
    body_ = J(json);
    const CommandSpec* spec = FindCommand(command);
    EXPECT_NE(spec, nullptr);
    return ParseGenericArguments(*spec, body_, op_.get());
  }
  ServiceContext service_;
  ClientInfo client_;
  std::unique_ptr<OperationContext> op_;
  bson::Doc body_;
};

constexpr const char* kLsid = R"({"id": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAA==", "subType": "04"}}})";

TEST_F(GenericArgsTest, DbRequiredAndValidated) {
  EXPECT_EQ(Parse(R"({"find": "c"})").code(), 40571);
  EXPECT_EQ(Parse(R"({"find": "c", "$db": 1})").code(), static_cast<int>(ErrorCodes::kTypeMismatch));
  EXPECT_EQ(Parse(R"({"find": "c", "$db": ""})").code(), static_cast<int>(ErrorCodes::kInvalidNamespace));
  EXPECT_EQ(Parse(R"({"find": "c", "$db": "a.b"})").code(), static_cast<int>(ErrorCodes::kInvalidNamespace));
  ASSERT_TRUE(Parse(R"({"find": "c", "$db": "test"})").ok());
  EXPECT_EQ(op_->db, "test");
}

TEST_F(GenericArgsTest, SessionAndTransactionFields) {
  std::string base = std::string(R"({"find": "c", "$db": "t", "lsid": )") + kLsid;
  ASSERT_TRUE(Parse(base + R"(, "txnNumber": {"$numberLong": "5"}, "autocommit": false, "startTransaction": true})").ok());
  EXPECT_EQ(op_->txn_number, 5);
  EXPECT_EQ(op_->autocommit, false);
  EXPECT_TRUE(op_->start_transaction);
  ASSERT_TRUE(op_->lsid.has_value());

  EXPECT_EQ(Parse(R"({"find": "c", "$db": "t", "txnNumber": 1})").code(),
            static_cast<int>(ErrorCodes::kInvalidOptions));
  EXPECT_EQ(Parse(base + R"(, "txnNumber": 1, "autocommit": true})").code(),
            static_cast<int>(ErrorCodes::kInvalidOptions));
  EXPECT_EQ(Parse(base + R"(, "autocommit": false})").code(),
            static_cast<int>(ErrorCodes::kInvalidOptions));
  EXPECT_EQ(Parse(base + R"(, "txnNumber": 1, "startTransaction": true})").code(),
            static_cast<int>(ErrorCodes::kInvalidOptions));
  EXPECT_EQ(Parse(base + R"(, "txnNumber": -1})").code(), static_cast<int>(ErrorCodes::kBadValue));
  EXPECT_EQ(Parse(R"({"find": "c", "$db": "t", "lsid": {}})").code(), 40414);
  EXPECT_EQ(Parse(R"({"find": "c", "$db": "t", "lsid": {"id": 1}})").code(),
            static_cast<int>(ErrorCodes::kTypeMismatch));
}

TEST_F(GenericArgsTest, WriteConcern) {
  ASSERT_TRUE(Parse(R"({"insert": "c", "$db": "t", "writeConcern": {"w": "majority", "j": true, "wtimeout": 100}})", "insert").ok());
  EXPECT_TRUE(op_->write_concern.provided);
  EXPECT_TRUE(op_->write_concern.NeedsDurability());
  EXPECT_EQ(op_->write_concern.wtimeout_ms, 100);
  EXPECT_FALSE(WriteConcernProblem(op_->write_concern).has_value());

  ASSERT_TRUE(Parse(R"({"insert": "c", "$db": "t", "writeConcern": {"w": 0}})", "insert").ok());
  EXPECT_TRUE(op_->write_concern.Unacknowledged());

  ASSERT_TRUE(Parse(R"({"insert": "c", "$db": "t", "writeConcern": {"w": 2}})", "insert").ok());
  auto problem = WriteConcernProblem(op_->write_concern);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->code(), static_cast<int>(ErrorCodes::kUnsatisfiableWriteConcern));
  EXPECT_EQ(problem->reason(), "Not enough data-bearing nodes");

  ASSERT_TRUE(Parse(R"({"insert": "c", "$db": "t", "writeConcern": {"w": "dc1"}})", "insert").ok());
  EXPECT_EQ(WriteConcernProblem(op_->write_concern)->code(),
            static_cast<int>(ErrorCodes::kUnknownReplWriteConcern));

  EXPECT_EQ(Parse(R"({"insert": "c", "$db": "t", "writeConcern": {"w": -1}})", "insert").code(),
            static_cast<int>(ErrorCodes::kFailedToParse));
  EXPECT_EQ(Parse(R"({"insert": "c", "$db": "t", "writeConcern": {"w": true}})", "insert").code(),
            static_cast<int>(ErrorCodes::kFailedToParse));
  EXPECT_EQ(Parse(R"({"insert": "c", "$db": "t", "writeConcern": {"j": "x"}})", "insert").code(),
            static_cast<int>(ErrorCodes::kFailedToParse));
  EXPECT_EQ(Parse(R"({"insert": "c", "$db": "t", "writeConcern": 1})", "insert").code(),
            static_cast<int>(ErrorCodes::kTypeMismatch));
}

TEST_F(GenericArgsTest, ReadConcern) {
  ASSERT_TRUE(Parse(R"({"find": "c", "$db": "t", "readConcern": {"level": "majority", "afterClusterTime": {"$timestamp": {"t": 5, "i": 1}}}})").ok());
  EXPECT_EQ(op_->read_concern.level, "majority");
  EXPECT_EQ(op_->read_concern.after_cluster_time, (bson::Timestamp{5, 1}));
  EXPECT_EQ(Parse(R"({"find": "c", "$db": "t", "readConcern": {"level": "bogus"}})").code(),
            static_cast<int>(ErrorCodes::kBadValue));
  EXPECT_EQ(Parse(R"({"find": "c", "$db": "t", "readConcern": {"atClusterTime": {"$timestamp": {"t": 5, "i": 1}}}})").code(),
            static_cast<int>(ErrorCodes::kInvalidOptions));
}

TEST_F(GenericArgsTest, MaxTimeMS) {
  ASSERT_TRUE(Parse(R"({"find": "c", "$db": "t", "maxTimeMS": 1000})").ok());
  EXPECT_EQ(op_->max_time_ms, 1000);
  EXPECT_TRUE(op_->deadline.has_value());
  ASSERT_TRUE(Parse(R"({"find": "c", "$db": "t", "maxTimeMS": 0})").ok());
  EXPECT_FALSE(op_->deadline.has_value());
  ASSERT_TRUE(Parse(R"({"getMore": {"$numberLong": "1"}, "collection": "c", "$db": "t", "maxTimeMS": 500})", "getMore").ok());
  EXPECT_EQ(op_->max_time_ms, 500);
  EXPECT_FALSE(op_->deadline.has_value()) << "getMore's maxTimeMS is an await time";
  EXPECT_EQ(Parse(R"({"find": "c", "$db": "t", "maxTimeMS": -1})").code(), static_cast<int>(ErrorCodes::kBadValue));
  EXPECT_EQ(Parse(R"({"find": "c", "$db": "t", "maxTimeMS": 1.5})").code(), static_cast<int>(ErrorCodes::kBadValue));
  EXPECT_EQ(Parse(R"({"find": "c", "$db": "t", "maxTimeMS": "x"})").code(), static_cast<int>(ErrorCodes::kBadValue));
}

TEST_F(GenericArgsTest, StableApi) {
  ASSERT_TRUE(Parse(R"({"find": "c", "$db": "t", "apiVersion": "1", "apiStrict": true})").ok());
  EXPECT_EQ(op_->api.version, "1");
  EXPECT_EQ(Parse(R"({"find": "c", "$db": "t", "apiVersion": "3"})").code(),
            static_cast<int>(ErrorCodes::kAPIVersionError));
  EXPECT_EQ(Parse(R"({"find": "c", "$db": "t", "apiStrict": true})").code(), 4886600);
  Status st = Parse(R"({"buildInfo": 1, "$db": "admin", "apiVersion": "1", "apiStrict": true})", "buildInfo");
  EXPECT_EQ(st.code(), static_cast<int>(ErrorCodes::kAPIStrictError));
  EXPECT_NE(st.reason().find("Provided apiStrict:true, but the command buildInfo is not in API Version 1"),
            std::string::npos);
  EXPECT_TRUE(Parse(R"({"buildInfo": 1, "$db": "admin", "apiVersion": "1", "apiStrict": false})", "buildInfo").ok());
}

TEST_F(GenericArgsTest, GenericNames) {
  EXPECT_TRUE(IsGenericArgument("$db"));
  EXPECT_TRUE(IsGenericArgument("lsid"));
  EXPECT_TRUE(IsGenericArgument("comment"));
  EXPECT_FALSE(IsGenericArgument("filter"));
}

TEST_F(GenericArgsTest, ErrorLabels) {
  std::string base = std::string(R"({"insert": "c", "$db": "t", "lsid": )") + kLsid;
  ASSERT_TRUE(Parse(base + R"(, "txnNumber": 1})", "insert").ok());
  auto labels = ErrorLabelsFor(*op_, "insert", 91, std::nullopt, false);
  EXPECT_EQ(labels, std::vector<std::string>{"RetryableWriteError"});
  EXPECT_TRUE(ErrorLabelsFor(*op_, "insert", 11000, std::nullopt, false).empty());
  EXPECT_EQ(ErrorLabelsFor(*op_, "insert", std::nullopt, 91, false),
            std::vector<std::string>{"RetryableWriteError"});

  ASSERT_TRUE(Parse(R"({"insert": "c", "$db": "t"})", "insert").ok());
  EXPECT_TRUE(ErrorLabelsFor(*op_, "insert", 91, std::nullopt, false).empty());

  ASSERT_TRUE(Parse(base + R"(, "txnNumber": 1, "autocommit": false})", "insert").ok());
  EXPECT_EQ(ErrorLabelsFor(*op_, "insert", 112, std::nullopt, false),
            std::vector<std::string>{"TransientTransactionError"});

  ASSERT_TRUE(Parse(R"({"getMore": {"$numberLong": "1"}, "collection": "c", "$db": "t"})", "getMore").ok());
  EXPECT_EQ(ErrorLabelsFor(*op_, "getMore", 6, std::nullopt, true),
            std::vector<std::string>{"ResumableChangeStreamError"});
  EXPECT_TRUE(ErrorLabelsFor(*op_, "getMore", 11000, std::nullopt, true).empty());
  EXPECT_TRUE(IsChangeStreamRequest("aggregate", J(R"({"aggregate": 1, "pipeline": [{"$changeStream": {}}]})")));
  EXPECT_FALSE(IsChangeStreamRequest("aggregate", J(R"({"aggregate": 1, "pipeline": [{"$match": {}}]})")));
}

TEST_F(GenericArgsTest, CommitTransactionLabels) {
  std::string base = std::string(R"({"commitTransaction": 1, "$db": "admin", "lsid": )") + kLsid +
                     R"(, "txnNumber": 1, "autocommit": false})";
  ASSERT_TRUE(Parse(base, "commitTransaction").ok());
  using V = std::vector<std::string>;
  // Outcome unknown: a retryable error, or a time limit; the commit may have happened.
  EXPECT_EQ(ErrorLabelsFor(*op_, "commitTransaction", 91, std::nullopt, false),
            (V{"RetryableWriteError", "UnknownTransactionCommitResult"}));
  EXPECT_EQ(ErrorLabelsFor(*op_, "commitTransaction", 50, std::nullopt, false),
            V{"UnknownTransactionCommitResult"});
  // A writeConcernError leaves the outcome unknown, unless no wait could ever succeed.
  EXPECT_EQ(ErrorLabelsFor(*op_, "commitTransaction", std::nullopt, 64, false),
            V{"UnknownTransactionCommitResult"});
  EXPECT_TRUE(ErrorLabelsFor(*op_, "commitTransaction", std::nullopt, 100, false).empty());
  EXPECT_TRUE(ErrorLabelsFor(*op_, "commitTransaction", std::nullopt, 79, false).empty());
  // Known outcomes: aborted (retry the whole transaction), or a conflict at commit.
  EXPECT_EQ(ErrorLabelsFor(*op_, "commitTransaction", 251, std::nullopt, false),
            V{"TransientTransactionError"});
  EXPECT_EQ(ErrorLabelsFor(*op_, "commitTransaction", 112, std::nullopt, false),
            V{"TransientTransactionError"});
  EXPECT_TRUE(ErrorLabelsFor(*op_, "abortTransaction", 50, std::nullopt, false).empty());
}

}  // namespace
}  // namespace brook::commands
