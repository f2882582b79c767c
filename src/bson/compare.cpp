#include "bson/compare.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace brook::bson {
namespace {

template <typename T>
int Sign(T a, T b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

// NaN sorts below every number and equals NaN (MongoDB's compareDoubles).
int CompareLongDoubles(long double a, long double b) {
  if (a < b) return -1;
  if (a > b) return 1;
  bool an = std::isnan(a), bn = std::isnan(b);
  if (an) return bn ? 0 : -1;
  if (bn) return 1;
  return 0;
}

long double AsLongDouble(const Element& e) {
  switch (e.type()) {
    case Type::kDouble: return e.Double();
    case Type::kInt32: return e.Int32();
    case Type::kInt64: return e.Int64();
    case Type::kDecimal128: return e.Decimal().ToLongDouble();
    default: return 0;
  }
}

// An exact decimal number, for comparisons that involve Decimal128 (34 digits, exponents
// to +-6144: no binary floating type holds them). Value = 0.digits x 10^exp.
struct ExactNumber {
  enum Kind { kNaN, kNegInf, kFinite, kPosInf } kind = kFinite;
  bool negative = false;
  std::string digits;  // no leading or trailing zeros; empty means zero
  int64_t exp = 0;
};

// Parses "[-]ddd[.ddd][E[+-]ddd]", "Infinity", "NaN" as printed by libbson and printf.
ExactNumber ParseNumber(std::string_view s) {
  ExactNumber n;
  if (s.find("NaN") != std::string_view::npos || s.find("nan") != std::string_view::npos) {
    n.kind = ExactNumber::kNaN;
    return n;
  }
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    n.negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.find("Inf") != std::string_view::npos || s.find("inf") != std::string_view::npos) {
    n.kind = n.negative ? ExactNumber::kNegInf : ExactNumber::kPosInf;
    return n;
  }
  int64_t exp10 = 0;
  size_t e = s.find_first_of("eE");
  if (e != std::string_view::npos) {
    exp10 = std::strtoll(std::string(s.substr(e + 1)).c_str(), nullptr, 10);
    s = s.substr(0, e);
  }
  std::string digits;
  int64_t int_digits = 0;
  bool seen_point = false;
  for (char c : s) {
    if (c == '.') {
      seen_point = true;
    } else if (c >= '0' && c <= '9') {
      digits.push_back(c);
      if (!seen_point) ++int_digits;
    }
  }
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return n;  // zero (sign ignored: -0 == 0)
  int_digits -= static_cast<int64_t>(first);
  digits.erase(0, first);
  digits.erase(digits.find_last_not_of('0') + 1);
  n.digits = std::move(digits);
  n.exp = int_digits + exp10;
  return n;
}

ExactNumber ToExact(const Element& e) {
  switch (e.type()) {
    case Type::kInt32: return ParseNumber(std::to_string(e.Int32()));
    case Type::kInt64: return ParseNumber(std::to_string(e.Int64()));
    case Type::kDecimal128: return ParseNumber(e.Decimal().ToString());
    default: {
      // glibc prints the exact binary value when asked for enough digits (<= 1100).
      char buf[1200];
      std::snprintf(buf, sizeof(buf), "%.1100e", e.Double());
      return ParseNumber(buf);
    }
  }
}

int CompareMagnitudes(const ExactNumber& a, const ExactNumber& b) {
  if (a.digits.empty() || b.digits.empty()) {
    return a.digits.empty() == b.digits.empty() ? 0 : (a.digits.empty() ? -1 : 1);
  }
  if (a.exp != b.exp) return a.exp < b.exp ? -1 : 1;
  int c = a.digits.compare(b.digits);  // no trailing zeros: a prefix is smaller
  return Sign(c, 0);
}

int CompareExact(const ExactNumber& a, const ExactNumber& b) {
  auto rank = [](const ExactNumber& n) {
    switch (n.kind) {
      case ExactNumber::kNaN: return 0;
      case ExactNumber::kNegInf: return 1;
      case ExactNumber::kFinite: return 2;
      case ExactNumber::kPosInf: return 3;
    }
    return 2;
  };
  if (rank(a) != rank(b) || a.kind != ExactNumber::kFinite) return Sign(rank(a), rank(b));
  int sa = a.digits.empty() ? 0 : (a.negative ? -1 : 1);
  int sb = b.digits.empty() ? 0 : (b.negative ? -1 : 1);
  if (sa != sb) return Sign(sa, sb);
  int m = CompareMagnitudes(a, b);
  return sa < 0 ? -m : m;
}

int CompareNumbers(const Element& a, const Element& b) {
  bool a_int = a.type() == Type::kInt32 || a.type() == Type::kInt64;
  bool b_int = b.type() == Type::kInt32 || b.type() == Type::kInt64;
  if (a_int && b_int) return Sign(a.NumberInt64(), b.NumberInt64());
  if (a.type() == Type::kDecimal128 || b.type() == Type::kDecimal128) {
    return CompareExact(ToExact(a), ToExact(b));
  }
  // long double holds every int64 and every double exactly on x86_64.
  return CompareLongDoubles(AsLongDouble(a), AsLongDouble(b));
}

int CompareStrings(std::string_view a, std::string_view b, const StringComparator* collator) {
  if (collator) return collator->Compare(a, b);
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

uint32_t LoadLE32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

int CompareValues(const Element& a, const Element& b, const StringComparator* collator) {
  int ra = CanonicalTypeRank(a.type());
  int rb = CanonicalTypeRank(b.type());
  if (ra != rb) return ra < rb ? -1 : 1;

  switch (a.type()) {
    case Type::kEOO:
    case Type::kUndefined:
    case Type::kNull:
    case Type::kMinKey:
    case Type::kMaxKey: return 0;
    case Type::kDouble:
    case Type::kInt32:
    case Type::kInt64:
    case Type::kDecimal128: return CompareNumbers(a, b);
    case Type::kString:
    case Type::kSymbol: return CompareStrings(a.Str(), b.Str(), collator);
    case Type::kObject:
    case Type::kArray: return CompareDocs(a.Obj(), b.Obj(), true, collator);
    case Type::kBinary: {
      uint32_t la = LoadLE32(a.value()), lb = LoadLE32(b.value());
      if (la != lb) return la < lb ? -1 : 1;
      if (a.value()[4] != b.value()[4]) return a.value()[4] < b.value()[4] ? -1 : 1;
      int c = std::memcmp(a.value() + 5, b.value() + 5, la);
      return Sign(c, 0);
    }
    case Type::kObjectId: return Sign(std::memcmp(a.value(), b.value(), 12), 0);
    case Type::kBool: return Sign(a.Bool(), b.Bool());
    case Type::kDate: return Sign(a.DateMillis(), b.DateMillis());
    case Type::kTimestamp: return Sign(a.Ts().AsUint64(), b.Ts().AsUint64());
    case Type::kRegex: {
      auto ra_ = a.Re(), rb_ = b.Re();
      int c = ra_.pattern.compare(rb_.pattern);
      if (c != 0) return Sign(c, 0);
      return Sign(ra_.options.compare(rb_.options), 0);
    }
    case Type::kDbPointer: {
      auto pa = a.DbPtr(), pb = b.DbPtr();
      if (pa.ns.size() != pb.ns.size()) return pa.ns.size() < pb.ns.size() ? -1 : 1;
      int c = pa.ns.compare(pb.ns);
      if (c != 0) return Sign(c, 0);
      return Sign(std::memcmp(pa.id.bytes.data(), pb.id.bytes.data(), 12), 0);
    }
    case Type::kCode: return CompareStrings(a.Str(), b.Str(), nullptr);
    case Type::kCodeWScope: {
      std::string_view ca(reinterpret_cast<const char*>(a.value() + 8), LoadLE32(a.value() + 4) - 1);
      std::string_view cb(reinterpret_cast<const char*>(b.value() + 8), LoadLE32(b.value() + 4) - 1);
      int c = ca.compare(cb);
      if (c != 0) return Sign(c, 0);
      return CompareDocs(a.CodeScope(), b.CodeScope(), true, nullptr);
    }
  }
  return 0;
}

int CompareDocs(View a, View b, bool compare_field_names, const StringComparator* collator) {
  auto ia = a.begin(), ea = a.end();
  auto ib = b.begin(), eb = b.end();
  while (true) {
    bool a_done = ia == ea, b_done = ib == eb;
    if (a_done || b_done) return a_done == b_done ? 0 : (a_done ? -1 : 1);
    int ra = CanonicalTypeRank(ia->type()), rb = CanonicalTypeRank(ib->type());
    if (ra != rb) return ra < rb ? -1 : 1;
    if (compare_field_names) {
      int c = ia->key().compare(ib->key());
      if (c != 0) return Sign(c, 0);
    }
    int c = CompareValues(*ia, *ib, collator);
    if (c != 0) return c;
    ++ia;
    ++ib;
  }
}

}  // namespace brook::bson
