#include "storage/key_string.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "bson/builder.h"
#include "bson/compare.h"

namespace brook::storage {
namespace {

using bson::Builder;
using bson::Decimal128;

std::string Hex(std::string_view s) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// One-field documents; the element is the field.
struct Val {
  bson::Doc doc;
  bson::Element e() const { return doc.view().first(); }
};

template <typename F>
Val Make(F&& append) {
  Builder b;
  append(b);
  return Val{b.Done()};
}

Val Int32(int32_t v) { return Make([&](Builder& b) { b.AppendInt32("v", v); }); }
Val Int64(int64_t v) { return Make([&](Builder& b) { b.AppendInt64("v", v); }); }
Val Dbl(double v) { return Make([&](Builder& b) { b.AppendDouble("v", v); }); }
Val Dec(std::string_view s) {
  Decimal128 d;
  EXPECT_TRUE(Decimal128::FromString(s, &d)) << s;
  return Make([&](Builder& b) { b.AppendDecimal128("v", d); });
}
Val Str(std::string_view s) { return Make([&](Builder& b) { b.AppendString("v", s); }); }

std::string Enc(const Val& v, bool desc = false) {
  std::string out;
  AppendKeyString(v.e(), desc, &out);
  return out;
}

int Sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

TEST(KeyStringTest, MatchesMongoDbBytes) {
  // Bytes as MongoDB's KeyString V1 produces them (and as they appear inside resume
  // tokens such as "8263EC3D70000000012B022C0100296E5A1004...").
  EXPECT_EQ(Hex(Enc(Int32(1))), "2B02");
  EXPECT_EQ(Hex(Enc(Int32(128))), "2C0100");
  EXPECT_EQ(Hex(Enc(Int32(0))), "29");
  EXPECT_EQ(Hex(Enc(Int32(-1))), "27FD");
  EXPECT_EQ(Hex(Enc(Make([](Builder& b) { b.AppendBool("v", false); }))), "6E");
  EXPECT_EQ(Hex(Enc(Make([](Builder& b) { b.AppendBool("v", true); }))), "6F");
  EXPECT_EQ(Hex(Enc(Make([](Builder& b) { b.AppendTimestamp("v", {0x63EC3D70, 1}); }))),
            "8263EC3D7000000001");
  EXPECT_EQ(Hex(Enc(Make([](Builder& b) { b.AppendNull("v"); }))), "14");
  EXPECT_EQ(Hex(Enc(Make([](Builder& b) { b.AppendMinKey("v"); }))), "0A");
  EXPECT_EQ(Hex(Enc(Make([](Builder& b) { b.AppendMaxKey("v"); }))), "F0");
  EXPECT_EQ(Hex(Enc(Str("ab"))), "3C616200");
  EXPECT_EQ(Hex(Enc(Str(std::string_view("a\0b", 3)))), "3C6100FF6200");
  std::string uuid(16, '\x11');
  EXPECT_EQ(Hex(Enc(Make([&](Builder& b) { b.AppendBinary("v", 4, uuid); }))),
            "5A1004" + std::string(32, '1'));
  bson::ObjectId oid;
  for (int i = 0; i < 12; ++i) oid.bytes[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(Hex(Enc(Make([&](Builder& b) { b.OpenDocument("v").AppendOid("_id", oid).Close(); }))),
            "46645F69640064000102030405060708090A0B00");
  EXPECT_EQ(Hex(Enc(Make([](Builder& b) { b.OpenArray("v").AppendInt32("0", 1).Close(); }))),
            "502B0200");
  // Date: offset binary; 0 ms is the sign bit alone.
  EXPECT_EQ(Hex(Enc(Make([](Builder& b) { b.AppendDate("v", 0); }))), "788000000000000000");
  // 1.5: integer part 1 with the fraction bit, then the fraction bytes.
  EXPECT_EQ(Hex(Enc(Dbl(1.5))), "2B0380000000000000");
  EXPECT_EQ(Hex(Enc(Dbl(std::numeric_limits<double>::quiet_NaN()))), "1E");
  EXPECT_EQ(Hex(Enc(Dbl(std::numeric_limits<double>::infinity()))), "33FFFFFFFFFFFFFFFF");
}

TEST(KeyStringTest, NumericallyEqualValuesEncodeIdentically) {
  EXPECT_EQ(Enc(Int32(1)), Enc(Int64(1)));
  EXPECT_EQ(Enc(Int32(1)), Enc(Dbl(1.0)));
  EXPECT_EQ(Enc(Int32(1)), Enc(Dec("1")));
  EXPECT_EQ(Enc(Int32(1)), Enc(Dec("1.000")));
  EXPECT_EQ(Enc(Int32(1)), Enc(Dec("0.1E1")));
  EXPECT_EQ(Enc(Dbl(0.0)), Enc(Dbl(-0.0)));
  EXPECT_EQ(Enc(Dbl(0.0)), Enc(Int32(0)));
  EXPECT_EQ(Enc(Dbl(0.0)), Enc(Dec("-0")));
  EXPECT_EQ(Enc(Dbl(0.0)), Enc(Dec("0E-6176")));
  EXPECT_EQ(Enc(Dbl(1.5)), Enc(Dec("1.5")));
  EXPECT_EQ(Enc(Dbl(-2.25)), Enc(Dec("-2.250")));
  EXPECT_EQ(Enc(Int64(1LL << 53)), Enc(Dbl(9007199254740992.0)));
  EXPECT_EQ(Enc(Int64(std::numeric_limits<int64_t>::min())), Enc(Dbl(-9223372036854775808.0)));
  EXPECT_EQ(Enc(Dbl(std::numeric_limits<double>::quiet_NaN())), Enc(Dec("NaN")));
  EXPECT_EQ(Enc(Dbl(std::numeric_limits<double>::infinity())), Enc(Dec("Infinity")));
  EXPECT_EQ(Enc(Dbl(-std::numeric_limits<double>::infinity())), Enc(Dec("-Infinity")));
  EXPECT_EQ(Enc(Str("x")), Enc(Make([](Builder& b) { b.AppendSymbol("v", "x"); })));
  EXPECT_NE(Enc(Int64((1LL << 53) + 1)), Enc(Dbl(9007199254740992.0)));
}

// Decimals that are not doubles still order exactly among themselves and with doubles.
TEST(KeyStringTest, InexactDecimalsOrderExactly) {
  std::vector<Val> ascending = {
      Dec("-1E+6144"), Dec("-1.7976931348623158E+308"), Dbl(-1e300),
      Dec("-9223372036854775807.5"), Int64(-9223372036854775807LL),
      Dec("-0.30000000000000000000000000000001"), Dec("-0.3"), Dbl(-0.3),
      Dec("-1E-400"), Dec("-1E-6176"), Int32(0), Dec("1E-6176"), Dec("2E-6176"),
      Dec("1E-400"), Dbl(4.9406564584124654e-324), Dec("5E-324"),
      Dbl(1e-320), Dec("1.000000000000000000000000000001E-320"), Dec("1.000000000000000000000000000001E-310"),
      Dbl(0.1), Dec("0.1000000000000000055511151231257828"),
      Dec("0.3"), Dbl(0.30000000000000004), Dec("0.3000000000000000444089209850062617"),
      Dec("1.00000000000000000000000000000001"), Dec("9007199254740992.5"),
      Int64(9007199254740993LL), Dec("9007199254740993.1"), Dec("36028797018963968.5"),
      Dec("9223372036854775806.5"), Int64(std::numeric_limits<int64_t>::max()),
      Dec("9223372036854775807.5"), Dbl(9223372036854775808.0), Dec("9223372036854775808.5"),
      Dbl(1e300), Dbl(std::numeric_limits<double>::max()), Dec("1.797693134862315708145274237317044E+308"),
      Dec("1E+6144"), Dbl(std::numeric_limits<double>::infinity())};
  for (size_t i = 0; i + 1 < ascending.size(); ++i) {
    std::string a = Enc(ascending[i]), b = Enc(ascending[i + 1]);
    EXPECT_LT(a, b) << i << ": " << ascending[i].e().ToString() << " vs "
                    << ascending[i + 1].e().ToString() << " " << Hex(a) << " " << Hex(b);
  }
}

TEST(KeyStringTest, DescendingInvertsOrderAndEndByteFixesPrefixes) {
  std::string a = Enc(Str("a"), true), b = Enc(Str("b"), true);
  EXPECT_GT(a, b);
  // "a" is a prefix of "a\0" in both directions; kEnd after the field restores order.
  std::string x = Enc(Str("a"), true), y = Enc(Str(std::string_view("a\0", 2)), true);
  AppendKeyStringEnd(&x);
  AppendKeyStringEnd(&y);
  EXPECT_GT(x, y);
  std::string n;
  AppendKeyStringNull(true, &n);
  EXPECT_EQ(n, Enc(Make([](Builder& b) { b.AppendNull("v"); }), true));
  EXPECT_EQ(KeyStringOf(bson::Element()), Enc(Make([](Builder& b) { b.AppendNull("v"); })));
}

TEST(KeyStringTest, RecordAndIndexKeys) {
  Val id = Int32(5);
  std::string k = RecordKey(3, id.e());
  EXPECT_EQ(k.substr(0, 8), RecordKeyPrefix(3));
  EXPECT_EQ(RecordKeyIdPart(k), Enc(id));
  EXPECT_LT(RecordKeyPrefix(3), k);
  EXPECT_LT(k, RecordKeyPrefixEnd(3));
  EXPECT_EQ(RecordKeyPrefixEnd(3), RecordKeyPrefix(4));
  EXPECT_LT(RecordKey(3, Int32(1000).e()), RecordKey(4, Int32(-5).e()));
  EXPECT_EQ(ReadBigEndian64(IndexKeyPrefix(0x0102030405060708ULL)), 0x0102030405060708ULL);
  EXPECT_EQ(IndexKeyPrefixEnd(UINT64_MAX), "") << "the last id's range runs to the end";
}

// ---------------------------------------------------------------- property test

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  void Value(Builder& b, std::string_view key, int depth) {
    switch (Pick(depth > 2 ? 17 : 19)) {
      case 0: b.AppendMinKey(key); return;
      case 1: b.AppendMaxKey(key); return;
      case 2: b.AppendNull(key); return;
      case 3: b.AppendUndefined(key); return;
      case 4: b.AppendBool(key, Pick(2)); return;
      case 5: b.AppendInt32(key, Int32()); return;
      case 6: b.AppendInt64(key, Int64()); return;
      case 7: b.AppendDouble(key, Double()); return;
      case 8: {
        Decimal128 d;
        std::string s = DecimalString();
        if (!Decimal128::FromString(s, &d)) ADD_FAILURE() << s;
        b.AppendDecimal128(key, d);
        return;
      }
      case 9: b.AppendString(key, String()); return;
      case 10: b.AppendSymbol(key, String()); return;
      case 11: b.AppendCode(key, String()); return;
      case 12: {
        std::string bytes = Pick(4) == 0 ? std::string(250 + Pick(10), 'b') : String();
        b.AppendBinary(key, static_cast<uint8_t>(Pick(3)), bytes);
        return;
      }
      case 13: {
        bson::ObjectId oid;
        for (auto& x : oid.bytes) x = static_cast<uint8_t>(Pick(3) * 127);
        b.AppendOid(key, oid);
        return;
      }
      case 14: b.AppendDate(key, Int64()); return;
      case 15: b.AppendTimestamp(key, {static_cast<uint32_t>(Pick(3)), static_cast<uint32_t>(Pick(3))}); return;
      case 16: b.AppendRegex(key, Pick(2) ? "a" : "ab", Pick(2) ? "" : "i"); return;
      case 17: {
        b.OpenDocument(key);
        int n = Pick(4);
        for (int i = 0; i < n; ++i) Value(b, kNames[Pick(3)], depth + 1);
        b.Close();
        return;
      }
      default: {
        b.OpenArray(key);
        int n = Pick(4);
        std::string scratch;
        for (int i = 0; i < n; ++i) Value(b, bson::ArrayKey(i, &scratch), depth + 1);
        b.Close();
        return;
      }
    }
  }

 private:
  static constexpr const char* kNames[] = {"a", "b", "ab"};

  int Pick(int n) { return static_cast<int>(rng_() % n); }

  int32_t Int32() {
    static const int32_t kEdges[] = {0, 1, -1, 2, 127, 128, 255, 256, -128, -129,
                                     std::numeric_limits<int32_t>::max(),
                                     std::numeric_limits<int32_t>::min()};
    if (Pick(2)) return kEdges[Pick(std::size(kEdges))];
    return static_cast<int32_t>(rng_());
  }
  int64_t Int64() {
    static const int64_t kEdges[] = {0, 1, -1, (1LL << 53) - 1, 1LL << 53, (1LL << 53) + 1,
                                     -(1LL << 53) - 1, 1LL << 55, (1LL << 56) - 1,
                                     std::numeric_limits<int64_t>::max(),
                                     std::numeric_limits<int64_t>::min(),
                                     std::numeric_limits<int64_t>::min() + 1, 1000, -1000};
    if (Pick(2)) return kEdges[Pick(std::size(kEdges))];
    return static_cast<int64_t>(rng_()) >> Pick(64);
  }
  double Double() {
    static const double kEdges[] = {0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 0.1, 0.3,
                                    9007199254740991.0, 9007199254740992.0, 9007199254740994.0,
                                    -9007199254740993.0, 9223372036854775808.0,
                                    -9223372036854775808.0, 1e300, -1e300, 1e-300,
                                    std::ldexp(1.0, -255), std::ldexp(1.0, -256),
                                    std::numeric_limits<double>::denorm_min(),
                                    -std::numeric_limits<double>::denorm_min(),
                                    std::numeric_limits<double>::min(),
                                    std::numeric_limits<double>::max(),
                                    std::numeric_limits<double>::infinity(),
                                    -std::numeric_limits<double>::infinity(),
                                    std::numeric_limits<double>::quiet_NaN()};
    switch (Pick(4)) {
      case 0: return kEdges[Pick(std::size(kEdges))];
      case 1: return static_cast<double>(Int64());
      case 2: return (static_cast<double>(rng_()) - 2147483648.0) / (1 + Pick(1000));
      default: {
        uint64_t bits = (static_cast<uint64_t>(rng_()) << 32) | rng_();
        double d;
        std::memcpy(&d, &bits, 8);
        return d;
      }
    }
  }
  std::string DecimalString() {
    static const char* kEdges[] = {"0", "-0", "1", "1.0", "-1", "0.1", "0.3", "1.5", "NaN",
                                   "Infinity", "-Infinity", "9007199254740993",
                                   "9223372036854775807", "9223372036854775808",
                                   "-9223372036854775808", "1E+400", "-1E+400", "1E-400",
                                   "1E-320", "5E-324"};
    if (Pick(3) == 0) return kEdges[Pick(std::size(kEdges))];
    // Up to 16 significant digits: few enough that compare.cpp's long double view of a
    // decimal is exact enough to serve as the reference order.
    std::string s = Pick(2) ? "-" : "";
    int digits = 1 + Pick(16);
    for (int i = 0; i < digits; ++i) s.push_back(static_cast<char>('0' + Pick(10)));
    s += "E" + std::to_string(Pick(80) - 40);
    return s;
  }
  std::string String() {
    if (Pick(8) == 0) return std::string(300 + Pick(50), 'a');
    std::string s;
    int n = Pick(5);
    static const char kAlphabet[] = {'\0', '\x01', 'a', 'b', '\x7f', '\xff'};
    for (int i = 0; i < n; ++i) s.push_back(kAlphabet[Pick(std::size(kAlphabet))]);
    return s;
  }

  std::mt19937 rng_;
};

TEST(KeyStringTest, PropertyMemcmpOrderEqualsCompareValues) {
  Gen gen(20240611);
  constexpr int kValues = 3000;
  std::vector<Val> values;
  values.reserve(kValues);
  for (int i = 0; i < kValues; ++i) {
    Builder b;
    gen.Value(b, "v", 0);
    values.push_back(Val{b.Done()});
  }
  std::vector<std::string> enc;
  for (const Val& v : values) enc.push_back(Enc(v));

  std::mt19937 pick(7);
  int failures = 0;
  for (int n = 0; n < 200000 && failures < 20; ++n) {
    size_t i = pick() % kValues, j = pick() % kValues;
    int want = Sign(bson::CompareValues(values[i].e(), values[j].e()));
    int got = Sign(enc[i].compare(enc[j]));
    if (want != got) {
      ++failures;
      ADD_FAILURE() << values[i].e().ToString() << " vs " << values[j].e().ToString()
                    << ": CompareValues " << want << ", memcmp " << got << "\n  " << Hex(enc[i])
                    << "\n  " << Hex(enc[j]);
    }
    // Descending components sort in reverse, with kEnd closing each key.
    std::string di = Enc(values[i], true), dj = Enc(values[j], true);
    AppendKeyStringEnd(&di);
    AppendKeyStringEnd(&dj);
    if (want != 0 && Sign(di.compare(dj)) != -want) {
      ++failures;
      ADD_FAILURE() << "descending: " << values[i].e().ToString() << " vs " << values[j].e().ToString();
    }
  }
}

TEST(KeyStringTest, PropertyCompoundKeysCompareFieldByField) {
  Gen gen(99);
  std::vector<std::pair<Val, Val>> keys;
  for (int i = 0; i < 500; ++i) {
    Builder a, b;
    gen.Value(a, "v", 1);
    gen.Value(b, "v", 1);
    keys.emplace_back(Val{a.Done()}, Val{b.Done()});
  }
  std::mt19937 pick(3);
  for (int n = 0; n < 20000; ++n) {
    auto& x = keys[pick() % keys.size()];
    auto& y = keys[pick() % keys.size()];
    int want = Sign(bson::CompareValues(x.first.e(), y.first.e()));
    if (want == 0) want = -Sign(bson::CompareValues(x.second.e(), y.second.e()));  // 2nd desc
    std::string kx = Enc(x.first), ky = Enc(y.first);
    AppendKeyString(x.second.e(), true, &kx);
    AppendKeyString(y.second.e(), true, &ky);
    AppendKeyStringEnd(&kx);
    AppendKeyStringEnd(&ky);
    ASSERT_EQ(Sign(kx.compare(ky)), want) << x.first.e().ToString() << "," << x.second.e().ToString()
                                          << " vs " << y.first.e().ToString() << ","
                                          << y.second.e().ToString();
  }
}

}  // namespace
}  // namespace brook::storage
