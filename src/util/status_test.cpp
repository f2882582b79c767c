#include "util/status.h"

#include <gtest/gtest.h>

namespace brook {
namespace {

TEST(StatusTest, OkIsCheapAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), 0);
  EXPECT_EQ(s.code_name(), "OK");
  EXPECT_TRUE(s.labels().empty());
}

TEST(StatusTest, CodeNameComesFromTable) {
  Status s(ErrorCodes::kDuplicateKey, "E11000 duplicate key error");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), 11000);
  EXPECT_EQ(s.code_name(), "DuplicateKey");
  EXPECT_EQ(s.ToString(), "DuplicateKey: E11000 duplicate key error");
}

TEST(StatusTest, LocationCodesAreNamedLikeMongoDB) {
  Status s(40324, "Unrecognized pipeline stage name: '$foo'");
  EXPECT_EQ(s.code_name(), "Location40324");
  EXPECT_EQ(CodeName(40324).data(), CodeName(40324).data());  // interned once
}

TEST(StatusTest, LabelsAreAddedOnce) {
  Status s = Status(ErrorCodes::kWriteConflict, "conflict")
                 .WithLabel(labels::kTransientTransactionError)
                 .WithLabel(labels::kTransientTransactionError);
  ASSERT_EQ(s.labels().size(), 1u);
  EXPECT_TRUE(s.HasLabel("TransientTransactionError"));
}

TEST(StatusTest, StatusWithCarriesValueOrError) {
  StatusWith<int> good(7);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.value(), 7);
  StatusWith<int> bad(ErrorCodes::kBadValue, "nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), 2);
  StatusWith<int> from_ok{Status::OK()};
  EXPECT_FALSE(from_ok.ok());  // building from OK is a programming error, reported
}

}  // namespace
}  // namespace brook
