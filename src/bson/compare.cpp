#include "bson/compare.h"

#include <cmath>
#include <cstring>

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

int CompareNumbers(const Element& a, const Element& b) {
  bool a_int = a.type() == Type::kInt32 || a.type() == Type::kInt64;
  bool b_int = b.type() == Type::kInt32 || b.type() == Type::kInt64;
  if (a_int && b_int) return Sign(a.NumberInt64(), b.NumberInt64());
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
