#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include "bson/builder.h"
#include "bson/compare.h"
#include "bson/document.h"
#include "bson/json.h"
#include "bson/validate.h"

namespace brook::bson {
namespace {

Doc J(std::string_view json) {
  auto d = FromJson(json);
  EXPECT_TRUE(d.ok()) << d.status().ToString() << " in " << json;
  return d.ok() ? std::move(d.value()) : Doc();
}

TEST(BuilderTest, BuildsNestedDocumentsInOneBuffer) {
  Builder b;
  b.AppendInt32("a", 1).OpenDocument("b").AppendString("c", "x").OpenArray("d");
  b.AppendBool("0", true).AppendNull("1").Close().Close().AppendInt64("e", 5);
  Doc d = b.Done();
  ASSERT_TRUE(Validate(d.view().data(), d.size()).ok());
  EXPECT_EQ(d["a"].Int32(), 1);
  EXPECT_EQ(d.view().GetPath("b.c").Str(), "x");
  EXPECT_EQ(d.view().GetPath("b.d.0").Bool(), true);
  EXPECT_EQ(d.view().GetPath("b.d.1").type(), Type::kNull);
  EXPECT_EQ(d["e"].Int64(), 5);
  EXPECT_TRUE(d["zz"].missing());
  EXPECT_EQ(d.view().CountFields(), 3u);
}

TEST(BuilderTest, DoneLeavesTheBuilderReusable) {
  Builder b;
  b.AppendInt32("x", 1);
  Doc first = b.Done();
  b.AppendInt32("y", 2);
  Doc second = b.Done();
  EXPECT_TRUE(first["x"]);
  EXPECT_FALSE(second["x"]);
  EXPECT_EQ(second["y"].Int32(), 2);
}

TEST(ElementTest, AccessorsRoundTripThroughJson) {
  Doc d = J(R"({"s": "hé", "d": 1.5, "l": {"$numberLong": "9007199254740993"},
               "t": {"$timestamp": {"t": 7, "i": 3}}, "o": {"$oid": "0123456789abcdef01234567"},
               "dt": {"$date": {"$numberLong": "-5"}}, "r": {"$regularExpression": {"pattern": "a+", "options": "i"}},
               "bin": {"$binary": {"base64": "AQID", "subType": "04"}},
               "dec": {"$numberDecimal": "1.25"}})");
  EXPECT_EQ(d["s"].Str(), "hé");
  EXPECT_EQ(d["d"].Double(), 1.5);
  EXPECT_EQ(d["l"].Int64(), 9007199254740993LL);
  EXPECT_EQ(d["t"].Ts(), (Timestamp{7, 3}));
  EXPECT_EQ(d["o"].Oid().ToHex(), "0123456789abcdef01234567");
  EXPECT_EQ(d["dt"].DateMillis(), -5);
  EXPECT_EQ(d["r"].Re().pattern, "a+");
  EXPECT_EQ(d["r"].Re().options, "i");
  EXPECT_EQ(d["bin"].Bin().subtype, 4);
  EXPECT_EQ(d["bin"].Bin().bytes, std::string_view("\x01\x02\x03", 3));
  EXPECT_EQ(d["dec"].Decimal().ToString(), "1.25");
  EXPECT_DOUBLE_EQ(d["dec"].NumberDouble(), 1.25);
  EXPECT_EQ(d["d"].ToString(), "1.5");
}

TEST(ElementTest, ExactInt64OnlyForIntegralValues) {
  Doc d = J(R"({"a": 3.0, "b": 3.5, "c": {"$numberDecimal": "12"}, "e": "x"})");
  EXPECT_EQ(d["a"].ExactInt64(), 3);
  EXPECT_FALSE(d["b"].ExactInt64().has_value());
  EXPECT_EQ(d["c"].ExactInt64(), 12);
  EXPECT_FALSE(d["e"].ExactInt64().has_value());
}

int Cmp(std::string_view a, std::string_view b) {
  Doc da = J(a), db = J(b);
  return CompareValues(da["v"], db["v"]);
}

TEST(CompareTest, NumbersCompareByValueAcrossTypes) {
  EXPECT_EQ(Cmp(R"({"v": 1})", R"({"v": 1.0})"), 0);
  EXPECT_EQ(Cmp(R"({"v": {"$numberLong": "1"}})", R"({"v": {"$numberDecimal": "1.0"}})"), 0);
  EXPECT_LT(Cmp(R"({"v": 1})", R"({"v": 1.5})"), 0);
  EXPECT_GT(Cmp(R"({"v": {"$numberLong": "9007199254740993"}})", R"({"v": 9007199254740992.0})"), 0);
  EXPECT_LT(Cmp(R"({"v": {"$numberDouble": "NaN"}})", R"({"v": {"$numberDouble": "-Infinity"}})"), 0);
  EXPECT_EQ(Cmp(R"({"v": {"$numberDouble": "NaN"}})", R"({"v": {"$numberDouble": "NaN"}})"), 0);
  EXPECT_EQ(Cmp(R"({"v": -0.0})", R"({"v": 0})"), 0);
}

TEST(CompareTest, DecimalsCompareExactly) {
  // 34 significant digits and exponents far beyond any binary float.
  EXPECT_LT(Cmp(R"({"v": {"$numberDecimal": "1.000000000000000000000000000000001"}})",
                R"({"v": {"$numberDecimal": "1.000000000000000000000000000000002"}})"), 0);
  EXPECT_GT(Cmp(R"({"v": {"$numberDecimal": "1E+6000"}})", R"({"v": {"$numberDecimal": "9E+5999"}})"), 0);
  EXPECT_LT(Cmp(R"({"v": {"$numberDecimal": "-1E+6000"}})", R"({"v": {"$numberDouble": "-1.7976931348623157E+308"}})"), 0);
  EXPECT_EQ(Cmp(R"({"v": {"$numberDecimal": "0.5"}})", R"({"v": 0.5})"), 0);
  EXPECT_LT(Cmp(R"({"v": {"$numberDecimal": "0.1"}})", R"({"v": 0.1})"), 0);  // 0.1 as a double is above 1/10
  EXPECT_EQ(Cmp(R"({"v": {"$numberDecimal": "-0"}})", R"({"v": 0})"), 0);
  EXPECT_LT(Cmp(R"({"v": {"$numberDecimal": "NaN"}})", R"({"v": {"$numberDecimal": "-Infinity"}})"), 0);
  EXPECT_EQ(Cmp(R"({"v": {"$numberDecimal": "9223372036854775807"}})", R"({"v": {"$numberLong": "9223372036854775807"}})"), 0);
}

// Found by fuzz/bson_validate_fuzz (KeyString order vs CompareValues): a decimal whose
// coefficient exceeds 10^34 - 1 is non-canonical and zero in IEEE 754 (and in MongoDB and
// Brook's KeyString), but compared as its 35 digits.
TEST(CompareTest, NonCanonicalDecimalsAreZero) {
  unsigned __int128 coef = 1;
  for (int i = 0; i < 34; ++i) coef *= 10;  // 10^34: one past the largest coefficient
  const uint64_t exponent = 6176 + 600;      // biased: 10^34 * 10^600
  Decimal128 big{static_cast<uint64_t>(coef), (exponent << 49) | static_cast<uint64_t>(coef >> 64)};
  EXPECT_EQ(big.ToString(), "0E+600");
  Builder b;
  b.AppendDecimal128("d", big);
  b.AppendInt64("n", 7205759403792793642);
  b.AppendInt32("z", 0);
  Doc d = b.Done();
  EXPECT_LT(CompareValues(d.view()["d"], d.view()["n"]), 0);
  EXPECT_EQ(CompareValues(d.view()["d"], d.view()["z"]), 0);
}

TEST(CompareTest, CanonicalTypeOrder) {
  const char* ordered[] = {
      R"({"v": {"$minKey": 1}})", R"({"v": null})", R"({"v": 5})", R"({"v": "a"})",
      R"({"v": {}})", R"({"v": []})", R"({"v": {"$binary": {"base64": "", "subType": "00"}}})",
      R"({"v": {"$oid": "000000000000000000000000"}})", R"({"v": false})",
      R"({"v": {"$date": 0}})", R"({"v": {"$timestamp": {"t": 0, "i": 0}}})",
      R"({"v": {"$regularExpression": {"pattern": "", "options": ""}}})", R"({"v": {"$maxKey": 1}})"};
  for (size_t i = 0; i + 1 < std::size(ordered); ++i) {
    EXPECT_LT(Cmp(ordered[i], ordered[i + 1]), 0) << ordered[i] << " vs " << ordered[i + 1];
    EXPECT_GT(Cmp(ordered[i + 1], ordered[i]), 0);
  }
}

TEST(CompareTest, DocumentsCompareFieldByField) {
  EXPECT_LT(Cmp(R"({"v": {"a": 1}})", R"({"v": {"a": 1, "b": 0}})"), 0);
  EXPECT_LT(Cmp(R"({"v": {"a": 1}})", R"({"v": {"b": 0}})"), 0);
  EXPECT_LT(Cmp(R"({"v": [1, 2]})", R"({"v": [1, 3]})"), 0);
  EXPECT_EQ(Cmp(R"({"v": [1, 2]})", R"({"v": [1.0, 2]})"), 0);
  EXPECT_LT(Cmp(R"({"v": "ab"})", R"({"v": "b"})"), 0);
}

TEST(ValidateTest, RejectsLyingLengthsAndBadUtf8) {
  Doc d = J(R"({"a": "x"})");
  std::string bytes = d.bytes();
  EXPECT_TRUE(Validate(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()).ok());
  std::string shorter = bytes.substr(0, bytes.size() - 1);
  EXPECT_FALSE(Validate(reinterpret_cast<const uint8_t*>(shorter.data()), shorter.size()).ok());
  std::string lying = bytes;
  lying[0] = 100;
  EXPECT_FALSE(Validate(reinterpret_cast<const uint8_t*>(lying.data()), lying.size()).ok());
  std::string bad_utf8 = bytes;
  bad_utf8[bad_utf8.size() - 3] = static_cast<char>(0xC3);  // truncated 2-byte sequence
  Status s = Validate(reinterpret_cast<const uint8_t*>(bad_utf8.data()), bad_utf8.size());
  EXPECT_EQ(s.code(), static_cast<int>(ErrorCodes::kInvalidBSON));
}

// ASCII is skipped eight bytes at a time: a bad byte or a valid multi-byte character must
// be seen at every offset, inside a word or in the tail after the last whole word.
TEST(ValidateTest, Utf8AtEveryOffsetOfALongString) {
  auto valid = [](const std::string& text) {
    Builder b;
    b.AppendString("s", text);
    Doc d = b.Done();
    return Validate(d.view().data(), d.size()).ok();
  };
  for (size_t len : {7u, 8u, 9u, 16u, 23u, 40u}) {
    for (size_t at = 0; at < len; ++at) {
      std::string text(len, 'a');
      text[at] = static_cast<char>(0xFF);  // never valid in UTF-8
      EXPECT_FALSE(valid(text)) << len << " " << at;
      text[at] = static_cast<char>(0xC3);  // a 2-byte lead cut short by ASCII
      EXPECT_FALSE(valid(text)) << len << " " << at;
      std::string euro = text.substr(0, at) + "\xE2\x82\xAC" + text.substr(at + 1);
      EXPECT_TRUE(valid(euro)) << len << " " << at;
      std::string surrogate = text.substr(0, at) + "\xED\xA0\x80" + text.substr(at + 1);
      EXPECT_FALSE(valid(surrogate)) << len << " " << at;
    }
  }
}

// Found by fuzz/wire_frame_fuzz: a key whose NUL is the document's terminator left the
// value with (size_t)-1 bytes available, and the string read ran off the buffer.
TEST(ValidateTest, RejectsAKeyEndingAtTheDocumentTerminator) {
  for (uint8_t type : {0x02, 0x01, 0x03, 0x05, 0x0B, 0x0F}) {
    // {len 9}{type}"ab"{NUL = terminator}: no room for a value and no terminator left.
    std::string bytes = std::string("\x08\x00\x00\x00", 4) + static_cast<char>(type) + "ab";
    bytes.push_back('\0');
    // Heap copy of the exact size, so that a read past it is an ASan report.
    std::vector<uint8_t> exact(bytes.begin(), bytes.end());
    Status s = Validate(exact.data(), exact.size());
    EXPECT_EQ(s.code(), static_cast<int>(ErrorCodes::kInvalidBSON)) << int(type);
  }
  // The same inside a nested document, as the fuzzer found it.
  std::string inner = std::string("\x08\x00\x00\x00\x02" "ab\x00", 8);
  std::string outer = std::string("\x00\x00\x00\x00\x03x\x00", 7) + inner + std::string("\x00", 1);
  outer[0] = static_cast<char>(outer.size());
  std::vector<uint8_t> exact(outer.begin(), outer.end());
  EXPECT_FALSE(Validate(exact.data(), exact.size()).ok());
}

TEST(ValidateTest, EnforcesDepth) {
  Builder b;
  for (int i = 0; i < 150; ++i) b.OpenDocument("a");
  Doc d = b.Done();
  EXPECT_EQ(Depth(d.view().data()), 151);
  EXPECT_TRUE(Validate(d.view().data(), d.size(), 200).ok());
  EXPECT_FALSE(Validate(d.view().data(), d.size(), 100).ok());
}

// The BSON corpus (read from ../shared/spec, never copied): every valid case validates
// and round-trips through View/Builder byte for byte; every decode error is rejected.
std::string HexDecode(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(BsonCorpusTest, ValidCasesRoundTripAndDecodeErrorsAreRejected) {
  std::filesystem::path dir = std::filesystem::path(BROOK_SPEC_DIR) / "bson-corpus" / "tests";
  ASSERT_TRUE(std::filesystem::exists(dir)) << dir;
  int valid = 0, rejected = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    auto file = FromJson(ss.str());
    ASSERT_TRUE(file.ok()) << entry.path();
    for (const Element& c : file.value()["valid"].Obj()) {
      std::string bytes = HexDecode(c.Obj()["canonical_bson"].Str());
      const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
      Status s = Validate(p, bytes.size());
      ASSERT_TRUE(s.ok()) << entry.path().filename() << ": " << c.Obj()["description"].Str() << ": " << s.ToString();
      Builder b;
      b.AppendAll(View(p));
      EXPECT_EQ(b.Done().bytes(), bytes) << c.Obj()["description"].Str();
      ++valid;
    }
    for (const Element& c : file.value()["decodeErrors"].Obj()) {
      std::string bytes = HexDecode(c.Obj()["bson"].Str());
      Status s = Validate(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      EXPECT_FALSE(s.ok()) << entry.path().filename() << ": " << c.Obj()["description"].Str();
      ++rejected;
    }
  }
  EXPECT_GT(valid, 100);
  EXPECT_GT(rejected, 50);
}

}  // namespace
}  // namespace brook::bson
