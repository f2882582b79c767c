#pragma once
// Decimal128 arithmetic for the query layer ($add, $divide, $avg, $inc, ...): a value
// type over BSON's decimal128 bytes (IEEE 754-2008 BID encoding).
//
// Owns: arithmetic, comparison and conversion with IEEE decimal semantics (34 digits,
// round half to even), done by libgcc's BID runtime (the __bid_* functions GCC itself
// calls for _Decimal128). Calling them directly instead of through GCC's decimal
// floating-point types keeps one code path for GCC and for clang, which has no decimal
// types (the fuzz build, fuzz/, is clang).
// On-wire fact: the 16 bytes are BSON's decimal128 bytes (low word first) on x86-64.
// Thread-safety: an immutable value type.

#include <cstdint>

#include "bson/types.h"

namespace brook::query {

class Dec128 {
 public:
  Dec128() : Dec128(int64_t{0}) {}
  Dec128(int32_t v);  // NOLINT(google-explicit-constructor): literals like `d == 0`
  Dec128(int64_t v);  // NOLINT(google-explicit-constructor)
  explicit Dec128(long double v);  // nearest decimal (34 digits)
  static Dec128 FromBson(bson::Decimal128 d) { return Dec128(d.low, d.high); }

  bson::Decimal128 ToBson() const { return bson::Decimal128{low_, high_}; }
  explicit operator long double() const;

  friend Dec128 operator+(const Dec128& a, const Dec128& b);
  friend Dec128 operator-(const Dec128& a, const Dec128& b);
  friend Dec128 operator*(const Dec128& a, const Dec128& b);
  friend Dec128 operator/(const Dec128& a, const Dec128& b);
  Dec128 operator-() const;
  Dec128& operator+=(const Dec128& b) { return *this = *this + b; }
  // IEEE comparisons: every comparison with NaN is false, except !=.
  friend bool operator==(const Dec128& a, const Dec128& b);
  friend bool operator<(const Dec128& a, const Dec128& b);

 private:
  Dec128(uint64_t low, uint64_t high) : low_(low), high_(high) {}
  uint64_t low_;
  uint64_t high_;
};

}  // namespace brook::query
