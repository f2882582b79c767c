#include "bson/types.h"

#include <bson/bson.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace brook::bson {

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kEOO: return "missing";
    case Type::kDouble: return "double";
    case Type::kString: return "string";
    case Type::kObject: return "object";
    case Type::kArray: return "array";
    case Type::kBinary: return "binData";
    case Type::kUndefined: return "undefined";
    case Type::kObjectId: return "objectId";
    case Type::kBool: return "bool";
    case Type::kDate: return "date";
    case Type::kNull: return "null";
    case Type::kRegex: return "regex";
    case Type::kDbPointer: return "dbPointer";
    case Type::kCode: return "javascript";
    case Type::kSymbol: return "symbol";
    case Type::kCodeWScope: return "javascriptWithScope";
    case Type::kInt32: return "int";
    case Type::kTimestamp: return "timestamp";
    case Type::kInt64: return "long";
    case Type::kDecimal128: return "decimal";
    case Type::kMinKey: return "minKey";
    case Type::kMaxKey: return "maxKey";
  }
  return "unknown";
}

int CanonicalTypeRank(Type t) {
  switch (t) {
    case Type::kMinKey: return -1;
    case Type::kEOO:
    case Type::kUndefined: return 0;
    case Type::kNull: return 5;
    case Type::kDouble:
    case Type::kInt32:
    case Type::kInt64:
    case Type::kDecimal128: return 10;
    case Type::kString:
    case Type::kSymbol: return 15;
    case Type::kObject: return 20;
    case Type::kArray: return 25;
    case Type::kBinary: return 30;
    case Type::kObjectId: return 35;
    case Type::kBool: return 40;
    case Type::kDate: return 45;
    case Type::kTimestamp: return 47;
    case Type::kRegex: return 50;
    case Type::kDbPointer: return 55;
    case Type::kCode: return 60;
    case Type::kCodeWScope: return 65;
    case Type::kMaxKey: return 127;
  }
  return 0;
}

ObjectId ObjectId::Generate() {
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);
  ObjectId out;
  std::memcpy(out.bytes.data(), oid.bytes, 12);
  return out;
}

bool ObjectId::FromHex(std::string_view hex, ObjectId* out) {
  if (hex.size() != 24) return false;
  std::string s(hex);
  if (!bson_oid_is_valid(s.c_str(), s.size())) return false;
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, s.c_str());
  std::memcpy(out->bytes.data(), oid.bytes, 12);
  return true;
}

std::string ObjectId::ToHex() const {
  bson_oid_t oid;
  std::memcpy(oid.bytes, bytes.data(), 12);
  char buf[25];
  bson_oid_to_string(&oid, buf);
  return std::string(buf, 24);
}

namespace {
bson_decimal128_t ToLib(const Decimal128& d) {
  bson_decimal128_t v;
  v.low = d.low;
  v.high = d.high;
  return v;
}
}  // namespace

namespace {

// IEEE 754-2008 (BID): a coefficient above 10^34 - 1 is non-canonical and the value is
// zero, as MongoDB's decimal library and Brook's KeyString read it. libbson zeroes only the
// 2^113-and-above form and would print the 35 digits, so comparisons (which go through
// the string) disagreed with index order. Found by fuzz/bson_validate_fuzz.
Decimal128 Canonical(Decimal128 d) {
  if (((d.high >> 61) & 3) == 3) return d;  // infinities, NaN, and the form libbson zeroes
  constexpr uint64_t kCoefHighMask = (uint64_t{1} << 49) - 1;
  const unsigned __int128 coef = (static_cast<unsigned __int128>(d.high & kCoefHighMask) << 64) | d.low;
  unsigned __int128 max = 1;
  for (int i = 0; i < 34; ++i) max *= 10;
  if (coef < max) return d;
  return Decimal128{0, d.high & ~kCoefHighMask};  // zero, keeping sign and exponent
}

}  // namespace

std::string Decimal128::ToString() const {
  char buf[BSON_DECIMAL128_STRING];
  bson_decimal128_t v = ToLib(Canonical(*this));
  bson_decimal128_to_string(&v, buf);
  return buf;
}

long double Decimal128::ToLongDouble() const {
  std::string s = ToString();
  if (s == "NaN" || s == "-NaN") return std::nanl("");
  if (s == "Infinity") return HUGE_VALL;
  if (s == "-Infinity") return -HUGE_VALL;
  return std::strtold(s.c_str(), nullptr);
}

double Decimal128::ToDouble() const { return static_cast<double>(ToLongDouble()); }

bool Decimal128::FromString(std::string_view s, Decimal128* out) {
  bson_decimal128_t v;
  std::string str(s);
  if (!bson_decimal128_from_string(str.c_str(), &v)) return false;
  out->low = v.low;
  out->high = v.high;
  return true;
}

Decimal128 Decimal128::FromDouble(double d) {
  // 17 significant digits round-trip any double; MongoDB converts with 15 (its
  // "kRoundTo15Digits" default) so 0.1 becomes 0.1, not 0.1000000000000000055511.
  char buf[64];
  if (std::isnan(d)) return FromStringOrZero("NaN");
  if (std::isinf(d)) return FromStringOrZero(d > 0 ? "Infinity" : "-Infinity");
  std::snprintf(buf, sizeof(buf), "%.15g", d);
  return FromStringOrZero(buf);
}

Decimal128 Decimal128::FromInt64(int64_t v) {
  return FromStringOrZero(std::to_string(v));
}

Decimal128 Decimal128::FromStringOrZero(std::string_view s) {
  Decimal128 out;
  if (!FromString(s, &out)) FromString("0", &out);
  return out;
}

bool Decimal128::IsNaN() const {
  // Combination field 11111 0 marks NaN (sign bit ignored).
  return ((high >> 58) & 0x1F) == 0x1F;
}

}  // namespace brook::bson
