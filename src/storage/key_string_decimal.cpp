// KeyString V1 encoding of Decimal128, following MongoDB's _appendNumberDecimal:
// a decimal equal to a double encodes exactly as that double (so 1, 1.0, 1LL and
// NumberDecimal("1") collide); any other decimal encodes as the double just below it
// (toward zero) with a decimal-continuation marker (DCM), plus when needed 8 bytes of
// decimal continuation that restore the exact value and its order.
//
// MongoDB relies on IEEE decimal arithmetic (Intel's library) for this; Brook has none,
// so the few operations needed (exact comparison, rounding to N digits, one product)
// are done on exact decimal digit strings. Only decimals that are not doubles get here.

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "storage/key_string_internal.h"

namespace brook::storage::keystring_internal {

namespace {

using U128 = unsigned __int128;

constexpr int kExponentBias = 6176;
constexpr int kMinExponent = -6176;

U128 Pow10(int n) {
  U128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

// A finite decimal magnitude: coef * 10^exp.
struct Dec {
  U128 coef = 0;
  int exp = 0;
};

// An exact non-negative number: digits * 10^exp, digits without leading or trailing
// zeros ("" is zero).
struct Exact {
  std::string digits;
  int64_t exp = 0;
};

void Strip(Exact* x) {
  size_t lead = x->digits.find_first_not_of('0');
  if (lead == std::string::npos) {
    x->digits.clear();
    x->exp = 0;
    return;
  }
  x->digits.erase(0, lead);
  while (!x->digits.empty() && x->digits.back() == '0') {
    x->digits.pop_back();
    ++x->exp;
  }
}

std::string U128ToString(U128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v > 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return std::string(s.rbegin(), s.rend());
}

Exact FromDec(const Dec& d) {
  Exact x{U128ToString(d.coef), d.exp};
  Strip(&x);
  return x;
}

// The exact decimal value of a non-negative double: glibc prints every digit of it.
Exact FromDouble(double v) {
  char buf[900];
  std::snprintf(buf, sizeof(buf), "%.800e", v);
  Exact x;
  const char* p = buf;
  for (; *p && *p != 'e'; ++p) {
    if (*p >= '0' && *p <= '9') x.digits.push_back(*p);
  }
  int64_t e10 = (*p == 'e') ? std::strtoll(p + 1, nullptr, 10) : 0;
  // d.ddd...e+X has (digits - 1) fractional digits.
  x.exp = e10 - static_cast<int64_t>(x.digits.size() - 1);
  Strip(&x);
  return x;
}

// <0, 0, >0 comparing two exact magnitudes.
int Compare(const Exact& a, const Exact& b) {
  if (a.digits.empty() || b.digits.empty()) {
    return a.digits.empty() == b.digits.empty() ? 0 : (a.digits.empty() ? -1 : 1);
  }
  const int64_t adj_a = static_cast<int64_t>(a.digits.size()) + a.exp;
  const int64_t adj_b = static_cast<int64_t>(b.digits.size()) + b.exp;
  if (adj_a != adj_b) return adj_a < adj_b ? -1 : 1;
  int c = a.digits.compare(b.digits);  // no trailing zeros: a prefix is smaller
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

Exact Multiply(const Exact& a, const Exact& b) {
  if (a.digits.empty() || b.digits.empty()) return {};
  std::vector<int> acc(a.digits.size() + b.digits.size(), 0);
  for (size_t i = a.digits.size(); i-- > 0;) {
    for (size_t j = b.digits.size(); j-- > 0;) {
      acc[i + j + 1] += (a.digits[i] - '0') * (b.digits[j] - '0');
    }
  }
  for (size_t k = acc.size(); k-- > 1;) {
    acc[k - 1] += acc[k] / 10;
    acc[k] %= 10;
  }
  Exact x;
  for (int d : acc) x.digits.push_back(static_cast<char>('0' + d));
  x.exp = a.exp + b.exp;
  Strip(&x);
  return x;
}

// Rounds to at most `n` significant digits, toward zero or away from zero.
Dec Round(const Exact& x, int n, bool away) {
  Dec d;
  if (x.digits.empty()) return d;
  const size_t keep = std::min<size_t>(x.digits.size(), n);
  for (size_t i = 0; i < keep; ++i) d.coef = d.coef * 10 + (x.digits[i] - '0');
  d.exp = static_cast<int>(x.exp + static_cast<int64_t>(x.digits.size() - keep));
  // Stripped digits have no trailing zeros, so anything dropped is non-zero.
  if (keep < x.digits.size() && away) {
    d.coef += 1;
    if (d.coef == Pow10(n)) {
      d.coef = Pow10(n - 1);
      d.exp += 1;
    }
  }
  return d;
}

// MongoDB's normalize(): add 0E-6176, i.e. scale the coefficient up to 34 digits unless
// the smallest exponent stops it. Normalized decimals order as (exponent, coefficient).
Dec Normalize(Dec d) {
  if (d.coef == 0) return d;
  const U128 k1E33 = Pow10(33);
  while (d.coef < k1E33 && d.exp > kMinExponent) {
    d.coef *= 10;
    d.exp -= 1;
  }
  return d;
}

// The double nearest `x` toward zero, with whether it is exact; DBL_MAX on overflow.
double ToDoubleTowardZero(const Exact& x, bool* exact) {
  *exact = false;
  if (x.digits.empty()) {
    *exact = true;
    return 0.0;
  }
  std::string s = x.digits + "e" + std::to_string(x.exp);
  double d = std::strtod(s.c_str(), nullptr);  // nearest
  if (std::isinf(d)) return DBL_MAX;
  int c = Compare(FromDouble(d), x);
  if (c > 0) d = std::nextafter(d, 0.0);  // nearest was above: step toward zero
  *exact = c == 0;
  return d;
}

// |dec| - stored, as a coefficient at stored's exponent (MongoDB's decimal continuation).
uint64_t Continuation(const Dec& dec, const Dec& stored) {
  const int shift = dec.exp - stored.exp;
  if (shift < 0 || shift > 38) return 0;  // outside MongoDB's invariants; cannot happen
  U128 scaled = dec.coef;
  for (int i = 0; i < shift; ++i) {
    if (scaled > (~U128{0}) / 10) return UINT64_MAX;
    scaled *= 10;
  }
  if (scaled < stored.coef) return 0;
  U128 diff = scaled - stored.coef;
  return diff > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(diff);
}

void AppendRawDecimal(const Dec& normalized, bool set_high_bit, bool invert, std::string* out) {
  uint64_t hi = (static_cast<uint64_t>(normalized.exp + kExponentBias) << 49) |
                static_cast<uint64_t>(normalized.coef >> 64);
  if (set_high_bit) hi |= 1ULL << 63;
  AppendBE64(hi, invert, out);
  AppendBE64(static_cast<uint64_t>(normalized.coef), invert, out);
}

const Exact& UpshiftFactor() {  // 2^256 truncated to 34 digits
  static const Exact k = FromDec(Round(FromDouble(std::ldexp(1.0, 256)), 34, false));
  return k;
}
const Exact& DownshiftFactor() {  // 2^-256 truncated to 34 digits
  static const Exact k = FromDec(Round(FromDouble(std::ldexp(1.0, -256)), 34, false));
  return k;
}

void AppendTinyDecimal(const Dec& mag, double abs_bin, bool negative, bool invert,
                       std::string* out) {
  AppendByte(negative ? ctype::kNumericNegativeSmallMagnitude : ctype::kNumericPositiveSmallMagnitude,
             invert, out);
  const bool flip = negative ? !invert : invert;
  if (abs_bin == 0.0) {
    // Below the smallest subnormal: the normalized decimal itself, prefix 0b00.
    AppendRawDecimal(Normalize(mag), false, flip, out);
    return;
  }
  // Scale by ~2^256 in the decimal domain, rounding down, so the double carries 15+
  // digits; never below the scaled double of the unscaled value.
  Dec scaled_dec = Round(Multiply(FromDec(mag), UpshiftFactor()), 34, false);
  bool exact;
  double scaled_bin = ToDoubleTowardZero(FromDec(scaled_dec), &exact);
  scaled_bin = std::max(scaled_bin, abs_bin * std::ldexp(1.0, 256));
  uint64_t encoded;
  std::memcpy(&encoded, &scaled_bin, 8);
  encoded <<= 1;
  encoded |= 1;  // never exactly equal to a double
  encoded += 1ULL << 62;
  AppendBE64(encoded, flip, out);

  Dec stored = Round(FromDouble(scaled_bin), 34, false);
  stored = Normalize(Round(Multiply(FromDec(stored), DownshiftFactor()), 34, false));
  AppendBE64(Continuation(mag, stored), flip, out);
}

}  // namespace

void AppendDecimal(const bson::Decimal128& value, bool invert, std::string* out) {
  const uint64_t hi = value.high;
  const bool negative = (hi >> 63) != 0;
  const uint64_t combo = (hi >> 58) & 0x1F;
  if (combo == 0x1F) {
    AppendByte(ctype::kNumericNaN, invert, out);
    return;
  }
  if (combo == 0x1E) {
    AppendByte(negative ? ctype::kNumericNegativeLargeMagnitude : ctype::kNumericPositiveLargeMagnitude,
               invert, out);
    AppendBE64(~0ULL, negative ? !invert : invert, out);
    return;
  }
  Dec mag;
  if (((hi >> 61) & 3) == 3) {
    mag.coef = 0;  // 2^113 and above is non-canonical: the value is zero
  } else {
    mag.exp = static_cast<int>((hi >> 49) & 0x3FFF) - kExponentBias;
    mag.coef = (static_cast<U128>(hi & ((1ULL << 49) - 1)) << 64) | value.low;
    if (mag.coef > Pow10(34) - 1) mag.coef = 0;
  }
  if (mag.coef == 0) {
    AppendByte(ctype::kNumericZero, invert, out);
    return;
  }

  const Exact exact_mag = FromDec(mag);
  bool exact;
  const double abs_bin = ToDoubleTowardZero(exact_mag, &exact);
  const double bin = negative ? -abs_bin : abs_bin;
  if (exact) {
    // The decimal is a double: same bytes as that double.
    AppendDoubleWithoutTypeBits(bin, kDCMEqualToDouble, invert, out);
    return;
  }
  if (abs_bin < DBL_MIN) {
    AppendTinyDecimal(mag, abs_bin, negative, invert, out);
    return;
  }
  const bool flip = negative ? !invert : invert;
  if (abs_bin >= DBL_MAX) {
    // Beyond every finite double: the normalized decimal with the high bit set sorts
    // between the largest finite double and infinity (~0, never produced here).
    AppendByte(negative ? ctype::kNumericNegativeLargeMagnitude : ctype::kNumericPositiveLargeMagnitude,
               invert, out);
    AppendRawDecimal(Normalize(mag), true, flip, out);
    return;
  }

  Dec stored;
  if (abs_bin >= kMinLargeDouble) {
    AppendLargeDouble(bin, kDCMHasContinuationLargerThanDoubleRoundedUpTo15Digits, invert, out);
    stored = Round(FromDouble(abs_bin), 34, true);
  } else if (abs_bin < std::ldexp(1.0, -255)) {
    AppendSmallDouble(bin, kDCMHasContinuationLargerThanDoubleRoundedUpTo15Digits, invert, out);
    stored = Round(FromDouble(abs_bin), 34, true);
  } else if (abs_bin >= kMaxIntForDouble) {
    // The double may have lost integer digits here, which would misorder the decimal
    // against int64s: encode the integer part exactly instead.
    uint64_t integer_part;
    bool has_fraction = false;
    if (mag.exp >= 0) {
      integer_part = static_cast<uint64_t>(mag.coef * Pow10(mag.exp));
    } else {
      const U128 p = Pow10(-mag.exp);
      integer_part = static_cast<uint64_t>(mag.coef / p);
      has_fraction = mag.coef % p != 0;
    }
    AppendPreshiftedIntegerPortion((integer_part << 1) | (has_fraction ? 1 : 0), negative, invert,
                                   out);
    if (!has_fraction) return;
    if (integer_part < (1ULL << 55)) {
      // Seven bytes already hold 53+ bits of the integer; one byte carries the DCM.
      AppendByte(kDCMHasContinuationLargerThanDoubleRoundedUpTo15Digits, flip, out);
    }
    stored.coef = integer_part;
    stored.exp = 0;
  } else if (mag.coef < Pow10(15)) {
    // At most 15 digits: the double (rounded back to 15 digits) recovers it exactly.
    AppendDoubleWithoutTypeBits(bin, kDCMEqualToDoubleRoundedUpTo15Digits, invert, out);
    return;
  } else {
    const Dec from_bin = Round(FromDouble(abs_bin), 15, true);
    const int c = Compare(exact_mag, FromDec(from_bin));
    if (c == 0) {
      AppendDoubleWithoutTypeBits(bin, kDCMEqualToDoubleRoundedUpTo15Digits, invert, out);
      return;
    }
    AppendDoubleWithoutTypeBits(
        bin,
        c < 0 ? kDCMHasContinuationLessThanDoubleRoundedUpTo15Digits
              : kDCMHasContinuationLargerThanDoubleRoundedUpTo15Digits,
        invert, out);
    stored = Round(FromDouble(abs_bin), 34, true);
  }
  AppendBE64(Continuation(mag, Normalize(stored)), flip, out);
}

}  // namespace brook::storage::keystring_internal
