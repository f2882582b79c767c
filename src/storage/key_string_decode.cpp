#include "storage/key_string_decode.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "bson/builder.h"
#include "bson/validate.h"
#include "storage/key_string.h"
#include "storage/key_string_internal.h"

namespace brook::storage {
namespace {

namespace ct = keystring_internal::ctype;

Status Bad(std::string what) {
  return Status(ErrorCodes::kFailedToParse, "invalid KeyString: " + std::move(what));
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  bool done() const { return pos_ >= bytes_.size(); }
  StatusWith<uint8_t> Byte() {
    if (done()) return Bad("truncated");
    return static_cast<uint8_t>(bytes_[pos_++]);
  }
  StatusWith<uint64_t> BigEndian(size_t n, bool inverted) {
    if (bytes_.size() - pos_ < n) return Bad("truncated number");
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      uint8_t b = static_cast<uint8_t>(bytes_[pos_++]);
      v = (v << 8) | (inverted ? static_cast<uint8_t>(~b) : b);
    }
    return v;
  }
  StatusWith<std::string_view> Raw(size_t n) {
    if (bytes_.size() - pos_ < n) return Bad("truncated bytes");
    std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  // A NUL-terminated string with 00 FF standing for an embedded NUL.
  StatusWith<std::string> EscapedString() {
    std::string out;
    while (true) {
      if (done()) return Bad("unterminated string");
      char c = bytes_[pos_++];
      if (c != '\0') {
        out.push_back(c);
        continue;
      }
      if (!done() && static_cast<uint8_t>(bytes_[pos_]) == 0xff) {
        out.push_back('\0');
        ++pos_;
        continue;
      }
      return out;
    }
  }
  StatusWith<std::string> CString() {
    std::string out;
    while (true) {
      if (done()) return Bad("unterminated name");
      char c = bytes_[pos_++];
      if (c == '\0') return out;
      out.push_back(c);
    }
  }
  uint8_t Peek() const { return static_cast<uint8_t>(bytes_[pos_]); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

void AppendInteger(bson::Builder* b, std::string_view key, int64_t v) {
  if (v >= INT32_MIN && v <= INT32_MAX) {
    b->AppendInt32(key, static_cast<int32_t>(v));
  } else {
    b->AppendInt64(key, v);
  }
}

Status DecodeValue(Reader* r, uint8_t type, std::string_view key, bson::Builder* b, int depth);

Status DecodeNumber(Reader* r, uint8_t type, std::string_view key, bson::Builder* b) {
  if (type == ct::kNumericZero) {
    b->AppendInt32(key, 0);
    return Status::OK();
  }
  if (type == ct::kNumericNaN) {
    b->AppendDouble(key, std::nan(""));
    return Status::OK();
  }
  const bool negative = type < ct::kNumericZero;
  // A decimal that is not a double carries, after its double's bytes, 8 bytes of decimal
  // continuation (key_string_decimal.cpp) when its decimal-continuation marker (DCM) says
  // so. Without type bits the decoder cannot restore the decimal from it: it returns the
  // double below, and skips the continuation so that what follows stays readable.
  auto skip_continuation = [&]() -> Status {
    auto cont = r->Raw(8);
    return cont.ok() ? Status::OK() : Bad("truncated decimal continuation");
  };
  // Decimals beyond the double range are stored whole: normalized exponent and
  // coefficient in BID's own layout, so they decode exactly.
  auto raw_decimal = [&](uint64_t hi) -> Status {
    auto lo = r->BigEndian(8, negative);
    if (!lo.ok()) return lo.status();
    b->AppendDecimal128(key, bson::Decimal128{lo.value(), hi | (negative ? 1ULL << 63 : 0)});
    return Status::OK();
  };
  if (type == ct::kNumericPositiveLargeMagnitude || type == ct::kNumericNegativeLargeMagnitude) {
    auto enc = r->BigEndian(8, negative);
    if (!enc.ok()) return enc.status();
    const uint64_t e = enc.value();
    if (e != ~0ULL && (e >> 63)) return raw_decimal(e & ~(1ULL << 63));
    // The encoder dropped the sign and the exponent's top bit, which is always 1 here;
    // the low bit is the DCM ("a continuation follows").
    double d = e == ~0ULL ? INFINITY : std::bit_cast<double>((e >> 1) | (1ULL << 62));
    if (e != ~0ULL && (e & 1)) BROOK_RETURN_IF_ERROR(skip_continuation());
    b->AppendDouble(key, negative ? -d : d);
    return Status::OK();
  }
  if (type == ct::kNumericPositiveSmallMagnitude || type == ct::kNumericNegativeSmallMagnitude) {
    auto enc = r->BigEndian(8, negative);
    if (!enc.ok()) return enc.status();
    uint64_t e = enc.value();
    double d;
    if ((e >> 62) == 3) {
      // [2^-255, 1): two DCM bits.
      d = std::bit_cast<double>(e >> 2);
      const uint64_t dcm = e & 3;
      if (dcm == 1 || dcm == 3) BROOK_RETURN_IF_ERROR(skip_continuation());
    } else if ((e >> 62) != 0) {
      // Scaled by 2^256, one DCM bit.
      const uint64_t scaled = e - (1ULL << 62);
      d = std::ldexp(std::bit_cast<double>(scaled >> 1), -256);
      if (scaled & 1) BROOK_RETURN_IF_ERROR(skip_continuation());
    } else {
      return raw_decimal(e);  // below the smallest double
    }
    b->AppendDouble(key, negative ? -d : d);
    return Status::OK();
  }
  // N-byte integer part, with its low bit saying whether a fraction follows.
  const int n = negative ? ct::kNumericNegative1ByteInt - type + 1 : type - ct::kNumericPositive1ByteInt + 1;
  if (n < 1 || n > 8) return Bad("unknown numeric type byte " + std::to_string(type));
  auto hi = r->BigEndian(static_cast<size_t>(n), negative);
  if (!hi.ok()) return hi.status();
  if ((hi.value() & 1) == 0) {
    uint64_t magnitude = hi.value() >> 1;
    if (magnitude > static_cast<uint64_t>(INT64_MAX)) return Bad("integer out of range");
    int64_t v = static_cast<int64_t>(magnitude);
    AppendInteger(b, key, negative ? -v : v);
    return Status::OK();
  }
  if (n == 8) {
    // Only a decimal has an 8-byte integer part and a fraction: the continuation follows.
    BROOK_RETURN_IF_ERROR(skip_continuation());
    double d = static_cast<double>(hi.value() >> 1);
    b->AppendDouble(key, negative ? -d : d);
    return Status::OK();
  }
  auto lo = r->BigEndian(static_cast<size_t>(8 - n), negative);
  if (!lo.ok()) return lo.status();
  const uint64_t dcm = lo.value() & 3;
  if (dcm == 1 || dcm == 3) BROOK_RETURN_IF_ERROR(skip_continuation());
  const int frac_bits = 8 * (8 - n);
  double integer = static_cast<double>(hi.value() >> 1);
  double fraction = std::ldexp(static_cast<double>(lo.value() & ~uint64_t{3}), -frac_bits);
  double d = integer + fraction;
  b->AppendDouble(key, negative ? -d : d);
  return Status::OK();
}

Status DecodeObjectBody(Reader* r, bson::Builder* b, int depth) {
  while (true) {
    auto type = r->Byte();
    if (!type.ok()) return type.status();
    if (type.value() == 0) return Status::OK();
    auto name = r->CString();
    if (!name.ok()) return name.status();
    auto value_type = r->Byte();
    if (!value_type.ok()) return value_type.status();
    BROOK_RETURN_IF_ERROR(DecodeValue(r, value_type.value(), name.value(), b, depth + 1));
  }
}

Status DecodeValue(Reader* r, uint8_t type, std::string_view key, bson::Builder* b, int depth) {
  if (depth > 200) return Bad("nested too deeply");
  if (type >= ct::kNumeric && type <= ct::kNumericPositiveLargeMagnitude) {
    return DecodeNumber(r, type, key, b);
  }
  switch (type) {
    case ct::kMinKey: b->AppendMinKey(key); return Status::OK();
    case ct::kMaxKey: b->AppendMaxKey(key); return Status::OK();
    case ct::kUndefined: b->AppendUndefined(key); return Status::OK();
    case ct::kNullish: b->AppendNull(key); return Status::OK();
    case ct::kBoolFalse: b->AppendBool(key, false); return Status::OK();
    case ct::kBoolTrue: b->AppendBool(key, true); return Status::OK();
    case ct::kStringLike:
    case ct::kCode: {
      auto s = r->EscapedString();
      if (!s.ok()) return s.status();
      if (type == ct::kCode) {
        b->AppendCode(key, s.value());
      } else {
        b->AppendString(key, s.value());
      }
      return Status::OK();
    }
    case ct::kObject:
      b->OpenDocument(key);
      BROOK_RETURN_IF_ERROR(DecodeObjectBody(r, b, depth));
      b->Close();
      return Status::OK();
    case ct::kArray: {
      b->OpenArray(key);
      std::string scratch;
      for (size_t i = 0;; ++i) {
        auto t = r->Byte();
        if (!t.ok()) return t.status();
        if (t.value() == 0) break;
        BROOK_RETURN_IF_ERROR(DecodeValue(r, t.value(), bson::ArrayKey(i, &scratch), b, depth + 1));
      }
      b->Close();
      return Status::OK();
    }
    case ct::kBinData: {
      auto small = r->Byte();
      if (!small.ok()) return small.status();
      uint64_t len = small.value();
      if (len == 0xff) {
        auto big = r->BigEndian(4, false);
        if (!big.ok()) return big.status();
        len = big.value();
      }
      auto subtype = r->Byte();
      if (!subtype.ok()) return subtype.status();
      auto bytes = r->Raw(len);
      if (!bytes.ok()) return bytes.status();
      std::string_view data = bytes.value();
      if (subtype.value() == 0x02 && data.size() >= 4) data.remove_prefix(4);
      b->AppendBinary(key, subtype.value(), data);
      return Status::OK();
    }
    case ct::kOID: {
      auto bytes = r->Raw(12);
      if (!bytes.ok()) return bytes.status();
      bson::ObjectId oid;
      std::memcpy(oid.bytes.data(), bytes.value().data(), 12);
      b->AppendOid(key, oid);
      return Status::OK();
    }
    case ct::kDate: {
      auto v = r->BigEndian(8, false);
      if (!v.ok()) return v.status();
      b->AppendDate(key, static_cast<int64_t>(v.value() ^ (1ULL << 63)));
      return Status::OK();
    }
    case ct::kTimestamp: {
      auto v = r->BigEndian(8, false);
      if (!v.ok()) return v.status();
      b->AppendTimestamp(key, bson::Timestamp::FromUint64(v.value()));
      return Status::OK();
    }
    case ct::kRegEx: {
      auto pattern = r->CString();
      if (!pattern.ok()) return pattern.status();
      auto options = r->CString();
      if (!options.ok()) return options.status();
      b->AppendRegex(key, pattern.value(), options.value());
      return Status::OK();
    }
    default:
      return Bad("unsupported type byte " + std::to_string(type));
  }
}

}  // namespace

StatusWith<bson::Doc> DecodeKeyString(std::string_view bytes) {
  Reader r(bytes);
  bson::Builder b;
  while (!r.done()) {
    auto type = r.Byte();
    if (!type.ok()) return type.status();
    if (type.value() == kKeyStringEnd) {
      if (!r.done()) return Bad("bytes after the end marker");
      break;
    }
    BROOK_RETURN_IF_ERROR(DecodeValue(&r, type.value(), "", &b, 0));
    if (b.size() > 16 * 1024 * 1024) return Bad("decoded value too large");
  }
  bson::Doc out = b.Done();
  // KeyString carries field names and strings as raw bytes: bytes from a client (a resume
  // token) can hold names and strings that are not UTF-8, or a regex with bad flags. The
  // result goes on as a bson::View (into replies, too), so it passes the same gate as
  // client BSON (found by fuzz/resume_token_fuzz).
  Status valid = bson::Validate(reinterpret_cast<const uint8_t*>(out.bytes().data()), out.bytes().size());
  if (!valid.ok()) return Bad("the decoded value is not valid BSON: " + valid.reason());
  return out;
}

}  // namespace brook::storage
