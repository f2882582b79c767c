// KeyString V1 encoding of BSON values (everything except Decimal128's inexact cases,
// which live in key_string_decimal.cpp). Layout facts: see key_string_internal.h and
// docs/storage-format.md.

#include "storage/key_string.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "storage/key_string_internal.h"

namespace brook::storage {

namespace keystring_internal {

void AppendByte(uint8_t b, bool invert, std::string* out) {
  out->push_back(static_cast<char>(invert ? static_cast<uint8_t>(~b) : b));
}

void AppendBE64(uint64_t v, bool invert, std::string* out) {
  for (int i = 7; i >= 0; --i) AppendByte(static_cast<uint8_t>(v >> (8 * i)), invert, out);
}

namespace {

void AppendBytes(const void* p, size_t n, bool invert, std::string* out) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) AppendByte(b[i], invert, out);
}

uint64_t DoubleBits(double d) { return std::bit_cast<uint64_t>(d); }

}  // namespace

void AppendPreshiftedIntegerPortion(uint64_t value, bool negative, bool invert, std::string* out) {
  // `value` is the magnitude shifted left once; the low bit says "a fraction follows".
  const int bytes_needed = (64 - std::countl_zero(value) + 7) / 8;
  if (negative) {
    AppendByte(static_cast<uint8_t>(ctype::kNumericNegative1ByteInt - (bytes_needed - 1)), invert, out);
  } else {
    AppendByte(static_cast<uint8_t>(ctype::kNumericPositive1ByteInt + (bytes_needed - 1)), invert, out);
  }
  // Negative magnitudes are flipped so that larger magnitudes sort lower.
  for (int i = bytes_needed - 1; i >= 0; --i) {
    AppendByte(static_cast<uint8_t>(value >> (8 * i)), negative ? !invert : invert, out);
  }
}

void AppendSmallDouble(double value, Dcm dcm, bool invert, std::string* out) {
  const bool negative = value < 0;
  double magnitude = negative ? -value : value;
  AppendByte(negative ? ctype::kNumericNegativeSmallMagnitude : ctype::kNumericPositiveSmallMagnitude,
             invert, out);
  uint64_t encoded;
  if (magnitude >= std::ldexp(1.0, -255)) {
    // [2^-255, 1): the exponent's top bits are 0b011, so two bits are free for the DCM
    // and the prefix becomes 0b11.
    encoded = DoubleBits(magnitude);
    encoded <<= 2;
    encoded |= dcm;
  } else {
    // Tinier values are scaled by 2^256 to avoid subnormals; one DCM bit; prefix 0b01 or
    // 0b10 (0b00 is left for decimals below the smallest subnormal double).
    magnitude *= std::ldexp(1.0, 256);
    encoded = DoubleBits(magnitude);
    encoded <<= 1;
    encoded |= (dcm != kDCMEqualToDouble) ? 1 : 0;
    encoded += (1ULL << 62);
  }
  AppendBE64(encoded, negative ? !invert : invert, out);
}

void AppendLargeDouble(double value, Dcm dcm, bool invert, std::string* out) {
  AppendByte(value > 0 ? ctype::kNumericPositiveLargeMagnitude : ctype::kNumericNegativeLargeMagnitude,
             invert, out);
  uint64_t encoded = DoubleBits(value);
  if (std::isfinite(value)) {
    encoded <<= 1;  // drops the sign bit
    encoded &= ~(1ULL << 63);
    encoded |= (dcm != kDCMEqualToDouble) ? 1 : 0;
  } else {
    encoded = ~0ULL;  // infinity sorts after every finite value
  }
  AppendBE64(encoded, value > 0 ? invert : !invert, out);
}

void AppendDoubleWithoutTypeBits(double num, Dcm dcm, bool invert, std::string* out) {
  const bool negative = num < 0.0;
  const double magnitude = negative ? -num : num;

  if (!(magnitude >= 1.0)) {  // also catches NaN
    if (magnitude > 0.0) {
      AppendSmallDouble(num, dcm, invert, out);
    } else if (num == 0.0) {
      AppendByte(ctype::kNumericZero, invert, out);  // -0.0 and 0.0 collapse
    } else {
      AppendByte(ctype::kNumericNaN, invert, out);
    }
    return;
  }

  if (magnitude < kMinLargeDouble) {
    const uint64_t integer_part = static_cast<uint64_t>(magnitude);
    if (static_cast<double>(integer_part) == magnitude && dcm == kDCMEqualToDouble) {
      // Integral: the same bytes as the equal int32/int64.
      AppendPreshiftedIntegerPortion(integer_part << 1, negative, invert, out);
      return;
    }
    // Integer part (with the "fraction follows" bit) in the high bytes, the fraction in
    // the remaining low bytes, shifted left 2 bits for the DCM.
    const int fractional_bytes = std::countl_zero(integer_part << 1) / 8;
    const uint8_t ct = negative ? ctype::kNumericNegative8ByteInt + fractional_bytes
                                : ctype::kNumericPositive8ByteInt - fractional_bytes;
    AppendByte(ct, invert, out);
    uint64_t encoding = static_cast<uint64_t>(std::ldexp(magnitude, 8 * fractional_bytes));
    encoding += (integer_part + 1) << (fractional_bytes * 8);
    encoding |= dcm;
    AppendBE64(encoding, negative ? !invert : invert, out);
    return;
  }
  AppendLargeDouble(num, dcm, invert, out);
}

namespace {

void AppendInteger(int64_t num, bool invert, std::string* out) {
  if (num == INT64_MIN) {
    // -2^63 has no positive int64 magnitude but is exactly a double.
    AppendLargeDouble(-kMinLargeDouble, kDCMEqualToDouble, invert, out);
    return;
  }
  if (num == 0) {
    AppendByte(ctype::kNumericZero, invert, out);
    return;
  }
  const bool negative = num < 0;
  const uint64_t magnitude = negative ? static_cast<uint64_t>(-num) : static_cast<uint64_t>(num);
  AppendPreshiftedIntegerPortion(magnitude << 1, negative, invert, out);
}

void AppendStringLike(std::string_view s, std::string* out) {
  // NUL is escaped as 00 FF so that 00 can terminate: "a" < "a\0" < "a\1".
  for (char c : s) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
}

uint8_t GenericCType(bson::Type t) {
  using bson::Type;
  switch (t) {
    case Type::kMinKey: return ctype::kMinKey;
    case Type::kEOO:
    case Type::kNull: return ctype::kNullish;
    case Type::kUndefined: return ctype::kUndefined;
    case Type::kDouble:
    case Type::kInt32:
    case Type::kInt64:
    case Type::kDecimal128: return ctype::kNumeric;
    case Type::kString:
    case Type::kSymbol: return ctype::kStringLike;
    case Type::kObject: return ctype::kObject;
    case Type::kArray: return ctype::kArray;
    case Type::kBinary: return ctype::kBinData;
    case Type::kObjectId: return ctype::kOID;
    case Type::kBool: return ctype::kBool;
    case Type::kDate: return ctype::kDate;
    case Type::kTimestamp: return ctype::kTimestamp;
    case Type::kRegex: return ctype::kRegEx;
    case Type::kDbPointer: return ctype::kDBRef;
    case Type::kCode: return ctype::kCode;
    case Type::kCodeWScope: return ctype::kCodeWithScope;
    case Type::kMaxKey: return ctype::kMaxKey;
  }
  return ctype::kNullish;
}

void AppendValue(const bson::Element& e, std::string* out);

// Object body: (generic ctype, name NUL, value)* then 00. The generic ctype first makes
// fields compare by canonical type before name, as BSON comparison does.
void AppendObjectBody(const bson::View& obj, std::string* out) {
  for (const bson::Element& f : obj) {
    out->push_back(static_cast<char>(GenericCType(f.type())));
    std::string_view name = f.key();
    out->append(name.data(), name.size());
    out->push_back('\0');
    AppendValue(f, out);
  }
  out->push_back('\0');
}

void AppendValue(const bson::Element& e, std::string* out) {
  using bson::Type;
  switch (e.type()) {
    case Type::kMinKey:
    case Type::kMaxKey:
    case Type::kEOO:
    case Type::kUndefined:
    case Type::kNull:
      out->push_back(static_cast<char>(GenericCType(e.type())));
      return;
    case Type::kDouble:
      AppendDoubleWithoutTypeBits(e.Double(), kDCMEqualToDouble, false, out);
      return;
    case Type::kInt32:
      AppendInteger(e.Int32(), false, out);
      return;
    case Type::kInt64:
      AppendInteger(e.Int64(), false, out);
      return;
    case Type::kDecimal128:
      AppendDecimal(e.Decimal(), false, out);
      return;
    case Type::kString:
    case Type::kSymbol:  // symbols and strings compare equal
      out->push_back(static_cast<char>(ctype::kStringLike));
      AppendStringLike(e.Str(), out);
      return;
    case Type::kObject:
      out->push_back(static_cast<char>(ctype::kObject));
      AppendObjectBody(e.Obj(), out);
      return;
    case Type::kArray:
      // Values only: array field names are positional and always equal.
      out->push_back(static_cast<char>(ctype::kArray));
      for (const bson::Element& v : e.Obj()) AppendValue(v, out);
      out->push_back('\0');
      return;
    case Type::kBinary: {
      // Raw layout (int32 length, subtype, bytes), as MongoDB reads it: for the old
      // binary subtype 2 the length and bytes include the inner length prefix.
      uint32_t len;
      std::memcpy(&len, e.value(), 4);
      const uint8_t subtype = e.value()[4];
      out->push_back(static_cast<char>(ctype::kBinData));
      // BSON orders BinData by length first, then subtype, then bytes.
      if (len < 0xff) {
        out->push_back(static_cast<char>(len));
      } else {
        out->push_back('\xff');
        for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>(len >> (8 * i)));
      }
      out->push_back(static_cast<char>(subtype));
      out->append(reinterpret_cast<const char*>(e.value() + 5), len);
      return;
    }
    case Type::kObjectId: {
      out->push_back(static_cast<char>(ctype::kOID));
      bson::ObjectId oid = e.Oid();
      AppendBytes(oid.bytes.data(), oid.bytes.size(), false, out);
      return;
    }
    case Type::kBool:
      out->push_back(static_cast<char>(e.Bool() ? ctype::kBoolTrue : ctype::kBoolFalse));
      return;
    case Type::kDate:
      out->push_back(static_cast<char>(ctype::kDate));
      // Offset binary: flipping the sign bit makes signed millis sort as unsigned bytes.
      AppendBE64(static_cast<uint64_t>(e.DateMillis()) ^ (1ULL << 63), false, out);
      return;
    case Type::kTimestamp:
      out->push_back(static_cast<char>(ctype::kTimestamp));
      AppendBE64(e.Ts().AsUint64(), false, out);
      return;
    case Type::kRegex: {
      bson::Element::Regex re = e.Re();  // BSON forbids NUL in both parts
      out->push_back(static_cast<char>(ctype::kRegEx));
      out->append(re.pattern.data(), re.pattern.size());
      out->push_back('\0');
      out->append(re.options.data(), re.options.size());
      out->push_back('\0');
      return;
    }
    case Type::kDbPointer: {
      bson::Element::DbPointer p = e.DbPtr();
      out->push_back(static_cast<char>(ctype::kDBRef));
      const uint32_t len = static_cast<uint32_t>(p.ns.size());
      for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>(len >> (8 * i)));
      out->append(p.ns.data(), p.ns.size());
      AppendBytes(p.id.bytes.data(), p.id.bytes.size(), false, out);
      return;
    }
    case Type::kCode:
      out->push_back(static_cast<char>(ctype::kCode));
      AppendStringLike(e.Str(), out);
      return;
    case Type::kCodeWScope: {
      out->push_back(static_cast<char>(ctype::kCodeWithScope));
      // value: int32 total, int32 string length (with NUL), string, scope document.
      uint32_t code_len;
      std::memcpy(&code_len, e.value() + 4, 4);
      AppendStringLike(std::string_view(reinterpret_cast<const char*>(e.value() + 8), code_len - 1),
                       out);
      AppendObjectBody(e.CodeScope(), out);
      return;
    }
  }
  out->push_back(static_cast<char>(ctype::kNullish));
}

}  // namespace
}  // namespace keystring_internal

void AppendKeyString(const bson::Element& value, bool descending, std::string* out) {
  const size_t start = out->size();
  keystring_internal::AppendValue(value, out);
  // A descending component is the ascending one with every byte flipped; MongoDB's
  // per-append invert flag composes to exactly this.
  if (descending) {
    for (size_t i = start; i < out->size(); ++i) (*out)[i] = static_cast<char>(~(*out)[i]);
  }
}

void AppendKeyStringNull(bool descending, std::string* out) {
  uint8_t b = keystring_internal::ctype::kNullish;
  out->push_back(static_cast<char>(descending ? static_cast<uint8_t>(~b) : b));
}

std::string KeyStringOf(const bson::Element& value) {
  std::string out;
  AppendKeyString(value, false, &out);
  return out;
}

}  // namespace brook::storage
