#include "query/decimal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace brook::query {
namespace {

Dec128 D(std::string_view s) { return Dec128::FromBson(bson::Decimal128::FromStringOrZero(s)); }
std::string S(const Dec128& d) { return d.ToBson().ToString(); }

TEST(Dec128Test, ArithmeticIsDecimalNotBinary) {
  EXPECT_EQ(S(D("0.1") + D("0.2")), "0.3");
  EXPECT_EQ(S(D("1.10") - D("0.1")), "1.00");  // exponents follow IEEE 754 decimal rules
  EXPECT_EQ(S(D("1.5") * D("2")), "3.0");
  EXPECT_EQ(S(D("1") / D("3")), "0.3333333333333333333333333333333333");  // 34 digits
  EXPECT_EQ(S(D("1") / D("0")), "Infinity");
  EXPECT_EQ(S(D("0") / D("0")), "NaN");
}

TEST(Dec128Test, ComparisonsFollowIeee) {
  EXPECT_TRUE(D("1.0") == D("1"));
  EXPECT_TRUE(D("-2") < D("1"));
  EXPECT_FALSE(D("1") < D("1"));
  EXPECT_TRUE(D("-0") == Dec128(0));
  Dec128 nan = D("NaN");
  EXPECT_FALSE(nan == nan);
  EXPECT_FALSE(nan < Dec128(0));
  EXPECT_FALSE(Dec128(0) < nan);
}

TEST(Dec128Test, ConversionsAndNegation) {
  EXPECT_EQ(S(Dec128(int64_t{std::numeric_limits<int64_t>::max()})), "9223372036854775807");
  EXPECT_EQ(S(Dec128(int32_t{-7})), "-7");
  EXPECT_EQ(static_cast<long double>(D("2.5")), 2.5L);
  EXPECT_EQ(S(Dec128(0.25L)), "0.25");
  EXPECT_EQ(S(-D("4.2")), "-4.2");
  EXPECT_EQ(S(-D("-4.2")), "4.2");
  Dec128 sum = 0;
  sum += D("0.5");
  sum += Dec128(int64_t{2});
  EXPECT_EQ(S(sum), "2.5");
}

}  // namespace
}  // namespace brook::query
