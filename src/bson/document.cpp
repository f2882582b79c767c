#include "bson/document.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "bson/json.h"

namespace brook::bson {
namespace {

inline uint32_t LoadLE32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // x86_64 and aarch64 are little-endian, as BSON is
}
inline uint64_t LoadLE64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Size of the value that starts at `v`, for an element of type `t`. The bytes are
// trusted (validated before they got here).
uint32_t ValueSize(Type t, const uint8_t* v) {
  switch (t) {
    case Type::kDouble:
    case Type::kDate:
    case Type::kTimestamp:
    case Type::kInt64: return 8;
    case Type::kString:
    case Type::kCode:
    case Type::kSymbol: return 4 + LoadLE32(v);
    case Type::kObject:
    case Type::kArray:
    case Type::kCodeWScope: return LoadLE32(v);
    case Type::kBinary: return 4 + 1 + LoadLE32(v);
    case Type::kUndefined:
    case Type::kNull:
    case Type::kMinKey:
    case Type::kMaxKey:
    case Type::kEOO: return 0;
    case Type::kObjectId: return 12;
    case Type::kBool: return 1;
    case Type::kRegex: {
      size_t p = std::strlen(reinterpret_cast<const char*>(v));
      size_t o = std::strlen(reinterpret_cast<const char*>(v) + p + 1);
      return static_cast<uint32_t>(p + 1 + o + 1);
    }
    case Type::kDbPointer: return 4 + LoadLE32(v) + 12;
    case Type::kInt32: return 4;
    case Type::kDecimal128: return 16;
  }
  return 0;
}

const uint8_t kEmptyDoc[5] = {5, 0, 0, 0, 0};

}  // namespace

Element::Element(const uint8_t* data) : data_(data) {
  if (data_[0] == 0) {  // EOO: no key, no value
    key_size_ = 0;
    value_size_ = 0;
    return;
  }
  key_size_ = static_cast<uint32_t>(std::strlen(reinterpret_cast<const char*>(data_ + 1)));
  value_size_ = ValueSize(type(), value());
}

double Element::Double() const {
  double d;
  std::memcpy(&d, value(), 8);
  return d;
}
int32_t Element::Int32() const { return static_cast<int32_t>(LoadLE32(value())); }
int64_t Element::Int64() const { return Int64Raw(); }
int64_t Element::Int64Raw() const { return static_cast<int64_t>(LoadLE64(value())); }

Timestamp Element::Ts() const {
  // BSON stores the increment in the low word, seconds in the high word.
  uint64_t v = LoadLE64(value());
  return Timestamp{static_cast<uint32_t>(v >> 32), static_cast<uint32_t>(v)};
}

ObjectId Element::Oid() const {
  ObjectId o;
  std::memcpy(o.bytes.data(), value(), 12);
  return o;
}

Decimal128 Element::Decimal() const {
  Decimal128 d;
  d.low = LoadLE64(value());
  d.high = LoadLE64(value() + 8);
  return d;
}

std::string_view Element::Str() const {
  uint32_t n = LoadLE32(value());
  return std::string_view(reinterpret_cast<const char*>(value() + 4), n ? n - 1 : 0);
}

View Element::Obj() const {
  // Missing or non-container elements read as the empty document, so optional
  // sub-documents can be iterated without a type check at every call site.
  if (type() == Type::kObject || type() == Type::kArray) return View(value());
  if (type() == Type::kCodeWScope) return CodeScope();
  return View();
}

View Element::CodeScope() const {
  const uint8_t* p = value() + 4;
  uint32_t code_len = LoadLE32(p);
  return View(p + 4 + code_len);
}

Element::Binary Element::Bin() const {
  uint32_t n = LoadLE32(value());
  uint8_t subtype = value()[4];
  const char* bytes = reinterpret_cast<const char*>(value() + 5);
  if (subtype == 0x02 && n >= 4) {  // old binary: an inner length precedes the bytes
    return Binary{subtype, std::string_view(bytes + 4, LoadLE32(value() + 5))};
  }
  return Binary{subtype, std::string_view(bytes, n)};
}

Element::Regex Element::Re() const {
  const char* p = reinterpret_cast<const char*>(value());
  size_t plen = std::strlen(p);
  return Regex{std::string_view(p, plen), std::string_view(p + plen + 1)};
}

Element::DbPointer Element::DbPtr() const {
  uint32_t n = LoadLE32(value());
  DbPointer out;
  out.ns = std::string_view(reinterpret_cast<const char*>(value() + 4), n ? n - 1 : 0);
  std::memcpy(out.id.bytes.data(), value() + 4 + n, 12);
  return out;
}

bool Element::IsNumber() const {
  switch (type()) {
    case Type::kDouble:
    case Type::kInt32:
    case Type::kInt64:
    case Type::kDecimal128: return true;
    default: return false;
  }
}

double Element::NumberDouble() const {
  switch (type()) {
    case Type::kDouble: return Double();
    case Type::kInt32: return Int32();
    case Type::kInt64: return static_cast<double>(Int64());
    case Type::kDecimal128: return Decimal().ToDouble();
    default: return 0;
  }
}

namespace {
int64_t SaturatingFromLongDouble(long double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9223372036854775807.0L) return std::numeric_limits<int64_t>::max();
  if (d <= -9223372036854775808.0L) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}
}  // namespace

int64_t Element::NumberInt64() const {
  switch (type()) {
    case Type::kDouble: return SaturatingFromLongDouble(Double());
    case Type::kInt32: return Int32();
    case Type::kInt64: return Int64();
    case Type::kDecimal128: return SaturatingFromLongDouble(Decimal().ToLongDouble());
    default: return 0;
  }
}

std::optional<int64_t> Element::ExactInt64() const {
  switch (type()) {
    case Type::kInt32: return Int32();
    case Type::kInt64: return Int64();
    case Type::kDouble:
    case Type::kDecimal128: {
      long double d = type() == Type::kDouble ? Double() : Decimal().ToLongDouble();
      if (std::isnan(d) || std::isinf(d) || d != std::trunc(d)) return std::nullopt;
      if (d >= 9223372036854775808.0L || d < -9223372036854775808.0L) return std::nullopt;
      return static_cast<int64_t>(d);
    }
    default: return std::nullopt;
  }
}

bool Element::Truthy() const {
  switch (type()) {
    case Type::kEOO:
    case Type::kNull:
    case Type::kUndefined: return false;
    case Type::kBool: return Bool();
    case Type::kInt32: return Int32() != 0;
    case Type::kInt64: return Int64() != 0;
    case Type::kDouble: return Double() != 0;  // NaN is truthy, as in MongoDB
    case Type::kDecimal128: {
      long double d = Decimal().ToLongDouble();
      return std::isnan(d) || d != 0;
    }
    default: return true;
  }
}

std::string Element::ToString() const {
  if (missing()) return "missing";
  // Wrap the value in a one-field document and print its value part.
  std::string buf;
  uint32_t total = static_cast<uint32_t>(4 + 1 + 1 + value_size_ + 1);
  buf.resize(total);
  std::memcpy(buf.data(), &total, 4);
  buf[4] = static_cast<char>(data_[0]);
  buf[5] = '\0';
  std::memcpy(buf.data() + 6, value(), value_size_);
  buf[total - 1] = '\0';
  std::string json = ToRelaxedJson(View(buf.data()));
  // json is `{ "" : <value> }`.
  size_t colon = json.find(':');
  if (colon == std::string::npos || json.size() < colon + 4) return json;
  return json.substr(colon + 2, json.size() - colon - 4);
}

View::View() : data_(kEmptyDoc) {}

size_t View::size() const { return LoadLE32(data_); }

Element View::Get(std::string_view key) const {
  for (const Element& e : *this) {
    if (e.key() == key) return e;
  }
  return Element();
}

Element View::GetPath(std::string_view dotted) const {
  View current = *this;
  while (true) {
    size_t dot = dotted.find('.');
    Element e = current.Get(dotted.substr(0, dot));
    if (dot == std::string_view::npos || e.missing()) return e;
    if (e.type() != Type::kObject && e.type() != Type::kArray) return Element();
    current = e.Obj();
    dotted.remove_prefix(dot + 1);
  }
}

size_t View::CountFields() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

std::string View::ToString() const { return ToRelaxedJson(*this); }

Doc::Doc() : bytes_(reinterpret_cast<const char*>(kEmptyDoc), 5) {}

}  // namespace brook::bson
