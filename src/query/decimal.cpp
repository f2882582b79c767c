#include "query/decimal.h"

#include <cstring>

namespace {

// _Decimal128 travels in one SSE register in the x86-64 and AArch64 calling conventions,
// as a 16-byte vector does; declaring the runtime's functions over such a vector lets any
// compiler call them.
typedef long long BidRaw __attribute__((vector_size(16)));

extern "C" {
BidRaw __bid_addtd3(BidRaw, BidRaw);
BidRaw __bid_subtd3(BidRaw, BidRaw);
BidRaw __bid_multd3(BidRaw, BidRaw);
BidRaw __bid_divtd3(BidRaw, BidRaw);
// Soft-float comparison convention: eq returns 0 when equal; lt returns < 0 when less.
// Unordered (NaN) operands give "not equal" and "not less".
int __bid_eqtd2(BidRaw, BidRaw);
int __bid_lttd2(BidRaw, BidRaw);
BidRaw __bid_floatditd(long long);
BidRaw __bid_extendxftd(long double);
long double __bid_trunctdxf(BidRaw);
}

BidRaw Raw(const brook::bson::Decimal128& d) {
  BidRaw r;
  uint64_t w[2] = {d.low, d.high};
  std::memcpy(&r, w, sizeof r);
  return r;
}

brook::bson::Decimal128 Bits(BidRaw r) {
  uint64_t w[2];
  std::memcpy(w, &r, sizeof w);
  return brook::bson::Decimal128{w[0], w[1]};
}

}  // namespace

namespace brook::query {

Dec128::Dec128(int32_t v) : Dec128(static_cast<int64_t>(v)) {}

Dec128::Dec128(int64_t v) {
  auto d = Bits(__bid_floatditd(v));
  low_ = d.low;
  high_ = d.high;
}

Dec128::Dec128(long double v) {
  auto d = Bits(__bid_extendxftd(v));
  low_ = d.low;
  high_ = d.high;
}

Dec128::operator long double() const { return __bid_trunctdxf(Raw(ToBson())); }

Dec128 operator+(const Dec128& a, const Dec128& b) {
  return Dec128::FromBson(Bits(__bid_addtd3(Raw(a.ToBson()), Raw(b.ToBson()))));
}
Dec128 operator-(const Dec128& a, const Dec128& b) {
  return Dec128::FromBson(Bits(__bid_subtd3(Raw(a.ToBson()), Raw(b.ToBson()))));
}
Dec128 operator*(const Dec128& a, const Dec128& b) {
  return Dec128::FromBson(Bits(__bid_multd3(Raw(a.ToBson()), Raw(b.ToBson()))));
}
Dec128 operator/(const Dec128& a, const Dec128& b) {
  return Dec128::FromBson(Bits(__bid_divtd3(Raw(a.ToBson()), Raw(b.ToBson()))));
}

Dec128 Dec128::operator-() const {
  // Negation flips the sign bit only (also for zero and NaN), as IEEE 754 negate does.
  return Dec128(low_, high_ ^ (uint64_t{1} << 63));
}

bool operator==(const Dec128& a, const Dec128& b) {
  return __bid_eqtd2(Raw(a.ToBson()), Raw(b.ToBson())) == 0;
}
bool operator<(const Dec128& a, const Dec128& b) {
  return __bid_lttd2(Raw(a.ToBson()), Raw(b.ToBson())) < 0;
}

}  // namespace brook::query
