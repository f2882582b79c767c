#include "storage/key_string_decode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "bson/builder.h"
#include "bson/compare.h"
#include "bson/json.h"
#include "storage/key_string.h"

namespace brook::storage {
namespace {

std::string EncodeAll(const bson::Doc& d) {
  std::string out;
  for (const auto& e : d) AppendKeyString(e, false, &out);
  AppendKeyStringEnd(&out);
  return out;
}

TEST(KeyStringDecodeTest, RoundTripsEveryDecodableType) {
  auto doc = bson::FromJson(R"({
    "a": 0, "b": 7, "c": -300, "d": {"$numberLong": "9007199254740993"}, "e": 2.5, "f": -0.125,
    "g": 1e300, "h": "x\u0000y", "i": {"k": [1, "two", {"three": true}]}, "j": false,
    "k": {"$oid": "0123456789abcdef01234567"}, "l": {"$date": {"$numberLong": "-1000"}},
    "m": {"$timestamp": {"t": 1630438675, "i": 1}}, "n": null, "o": {"$minKey": 1},
    "p": {"$maxKey": 1}, "q": {"$binary": {"base64": "AQIDBA==", "subType": "04"}},
    "r": {"$regularExpression": {"pattern": "^a", "options": "i"}}, "s": 1e-300, "t": 123.456})");
  ASSERT_TRUE(doc.ok());
  auto decoded = DecodeKeyString(EncodeAll(doc.value()));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  auto want = doc.value().begin();
  for (const auto& got : decoded.value()) {
    ASSERT_NE(want, doc.value().end());
    EXPECT_EQ(bson::CompareValues(got, *want), 0) << want->key() << ": " << got.ToString() << " vs " << want->ToString();
    ++want;
  }
  EXPECT_EQ(want, doc.value().end());
}

// Found with fuzz/bson_validate_fuzz: a decimal that is not a double is followed by 8
// bytes of decimal continuation, which the decoder read as the next value's type byte,
// so a resume token whose document key held such a decimal failed to decode (or decoded
// into garbage). Decimals beyond the double range are stored whole and decode exactly.
TEST(KeyStringDecodeTest, DecimalsKeepTheDecoderInStep) {
  for (const char* dec : {"0.1", "-0.1", "12345678901234567890.123", "-98765432109876543210.5",
                          "1.000000000000000000000000000000001", "3.14159265358979323846264338327950",
                          "1E-400", "-1E-400", "1E+400", "-7.5E+6000", "1.5E-320", "0.30000000000000000001",
                          "123456789012345678.9", "1E-300"}) {
    std::string json = std::string(R"({"d": {"$numberDecimal": ")") + dec + R"("}, "after": "sentinel", "n": 7})";
    auto doc = bson::FromJson(json);
    ASSERT_TRUE(doc.ok()) << dec;
    auto decoded = DecodeKeyString(EncodeAll(doc.value()));
    ASSERT_TRUE(decoded.ok()) << dec << ": " << decoded.status().ToString();
    auto it = decoded.value().view().begin();
    bson::Element d = *it;
    ++it;
    EXPECT_EQ((*it).Str(), "sentinel") << dec;
    ++it;
    EXPECT_EQ((*it).NumberInt64(), 7) << dec;
    // The value is the decimal itself (beyond the double range) or the double just
    // toward zero from it: never on the other side, and as close as a double gets.
    const double want = doc.value().view()["d"].NumberDouble();
    const double got = d.NumberDouble();
    if (std::isfinite(want) && want != 0) {
      EXPECT_NEAR(got / want, 1.0, 1e-15) << dec;
    } else {
      EXPECT_EQ(bson::CompareValues(d, doc.value().view()["d"]), 0) << dec;
    }
  }
}

// Found by fuzz/resume_token_fuzz: KeyString holds names and strings as raw bytes, so a
// client's resume token could decode into BSON whose field names or strings are not
// UTF-8; the result now passes bson::Validate or the decode fails.
TEST(KeyStringDecodeTest, NeverReturnsInvalidBson) {
  for (int which = 0; which < 2; ++which) {
    bson::Builder b;
    b.OpenDocument("");
    if (which == 0) {
      b.AppendInt32("bad\xff", 1);  // field name
    } else {
      b.AppendString("k", "bad\xc3(");  // string value
    }
    b.Close();
    auto decoded = DecodeKeyString(EncodeAll(b.Done()));
    ASSERT_FALSE(decoded.ok()) << which;
    EXPECT_EQ(decoded.status().code(), static_cast<int>(ErrorCodes::kFailedToParse));
  }
}

TEST(KeyStringDecodeTest, DecodesARealMongoDBResumeToken) {
  // A token MongoDB 5.0 produced (from mongodb-resumetoken-decoder's documentation).
  std::string hex = "82612E8513000000012B022C0100296E5A1004A5093ABB38FE4B9EA67F01BB1A96D812463C5F6964003C5F5F5F78000004";
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  auto decoded = DecodeKeyString(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  auto it = decoded.value().begin();
  EXPECT_EQ(it->Ts(), (bson::Timestamp{1630438675, 1}));
  EXPECT_EQ((++it)->Int32(), 1);    // version
  EXPECT_EQ((++it)->Int32(), 128);  // tokenType: event
  EXPECT_EQ((++it)->Int32(), 0);    // txnOpIndex
  EXPECT_EQ((++it)->Bool(), false);
  EXPECT_EQ((++it)->Bin().subtype, 4);
  EXPECT_EQ((++it)->Obj()["_id"].Str(), "___x");
}

TEST(KeyStringDecodeTest, RejectsGarbageWithoutCrashing) {
  for (std::string bad : {std::string("\x82\x01", 2), std::string("\x46\x3c", 2), std::string("\x5a\xff\x00", 3),
                          std::string("\xee", 1), std::string("\x3c" "abc", 4), std::string("\x04z", 2)}) {
    EXPECT_FALSE(DecodeKeyString(bad).ok());
  }
  // Random bytes: any result is fine, as long as nothing crashes or reads out of bounds.
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::string junk(rng() % 40, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    DecodeKeyString(junk).status().Ignore("only robustness is under test");
  }
}

}  // namespace
}  // namespace brook::storage
