#pragma once
// BSON value types and small fixed-size value structs.
//
// Owns: the type tags of the BSON spec (bsonspec.org) and the plain structs for
// Timestamp, ObjectId and Decimal128. On-wire/on-disk fact: the tag numbers and the
// byte layouts are BSON's; never change them.
// Thread-safety: plain values.

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace brook::bson {

enum class Type : int8_t {
  kEOO = 0,  // end of object; also "missing" for a default Element
  kDouble = 1,
  kString = 2,
  kObject = 3,
  kArray = 4,
  kBinary = 5,
  kUndefined = 6,
  kObjectId = 7,
  kBool = 8,
  kDate = 9,
  kNull = 10,
  kRegex = 11,
  kDbPointer = 12,
  kCode = 13,
  kSymbol = 14,
  kCodeWScope = 15,
  kInt32 = 16,
  kTimestamp = 17,
  kInt64 = 18,
  kDecimal128 = 19,
  kMinKey = -1,
  kMaxKey = 127,
};

// MongoDB's name for a type, as $type and error messages spell it ("double", "objectId").
std::string_view TypeName(Type t);

// MongoDB's canonical order of types for comparison: MinKey < Null < numbers < strings <
// objects < arrays < BinData < ObjectId < bool < Date < Timestamp < Regex < ... < MaxKey.
// Numbers share one rank, as do String and Symbol. Embedded in index keys: do not change.
int CanonicalTypeRank(Type t);

// A BSON Timestamp: the cluster time. Ordered by (secs, inc).
struct Timestamp {
  uint32_t secs = 0;
  uint32_t inc = 0;

  uint64_t AsUint64() const { return (uint64_t{secs} << 32) | inc; }
  static Timestamp FromUint64(uint64_t v) {
    return {static_cast<uint32_t>(v >> 32), static_cast<uint32_t>(v)};
  }
  bool IsNull() const { return secs == 0 && inc == 0; }
  auto operator<=>(const Timestamp&) const = default;
};

struct ObjectId {
  std::array<uint8_t, 12> bytes{};

  static ObjectId Generate();
  static bool FromHex(std::string_view hex, ObjectId* out);
  std::string ToHex() const;
  auto operator<=>(const ObjectId&) const = default;
};

// IEEE 754-2008 decimal128 as BSON stores it (little-endian low/high words).
struct Decimal128 {
  uint64_t low = 0;
  uint64_t high = 0;

  std::string ToString() const;
  // Nearest double; NaN/Infinity map to the double NaN/Infinity.
  double ToDouble() const;
  // Nearest long double, for exact-enough comparison against int64 and double.
  long double ToLongDouble() const;
  static bool FromString(std::string_view s, Decimal128* out);
  static Decimal128 FromDouble(double d);
  static Decimal128 FromInt64(int64_t v);
  static Decimal128 FromStringOrZero(std::string_view s);
  bool IsNaN() const;
  bool operator==(const Decimal128&) const = default;
};

}  // namespace brook::bson
