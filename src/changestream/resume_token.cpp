#include "changestream/resume_token.h"

#include <cstring>

#include "bson/builder.h"
#include "storage/key_string.h"
#include "storage/key_string_decode.h"

namespace brook::changestream {
namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status Fail(int32_t code, std::string msg) { return Status(code, std::move(msg)); }

}  // namespace

namespace {

// Appends the KeyString of one value given as the value bytes of a BSON element of type
// `t`: the element [type][empty key][value] is laid out in `scratch`, and AppendKeyString
// encodes it exactly as it encodes that field of a document.
void AppendValue(bson::Type t, std::string_view value, std::string* scratch, std::string* ks) {
  scratch->clear();
  scratch->push_back(static_cast<char>(t));
  scratch->push_back('\0');
  scratch->append(value);
  storage::AppendKeyString(bson::Element(reinterpret_cast<const uint8_t*>(scratch->data())), false, ks);
}

template <typename T>
std::string_view LittleEndian(const T& v, char (&buf)[sizeof(T)]) {
  std::memcpy(buf, &v, sizeof(T));  // BSON is little-endian, as is every host Brook builds on
  return std::string_view(buf, sizeof(T));
}

}  // namespace

ResumeToken ResumeToken::FromData(const ResumeTokenData& data) {
  // Each field is encoded exactly as AppendKeyString encodes that BSON type (once built
  // through a BSON document; now element by element in a per-thread scratch buffer, with
  // no allocation beyond the token's own bytes).
  thread_local std::string scratch;
  std::string ks;
  ks.reserve(48 + (data.event_identifier ? data.event_identifier->size() : 0));
  char b8[8];
  char b4[4];
  AppendValue(bson::Type::kTimestamp, LittleEndian(data.cluster_time.AsUint64(), b8), &scratch, &ks);
  AppendValue(bson::Type::kInt32, LittleEndian(data.version, b4), &scratch, &ks);
  // Version 0 tokens have neither tokenType nor fromInvalidate (Decode reads them only
  // from version 1): writing them made a decoded v0 token re-encode into one Decode
  // rejects, e.g. as the first postBatchResumeToken of a stream resumed from it.
  if (data.version >= 1) {
    AppendValue(bson::Type::kInt32, LittleEndian(static_cast<int32_t>(data.type), b4), &scratch, &ks);
  }
  AppendValue(bson::Type::kInt32, LittleEndian(data.txn_op_index, b4), &scratch, &ks);
  if (data.version >= 1) {
    char flag = data.from_invalidate ? 1 : 0;
    AppendValue(bson::Type::kBool, std::string_view(&flag, 1), &scratch, &ks);
  }
  // From version 2 a missing UUID is an explicit null, high-water marks included.
  if (data.uuid) {
    char bin[4 + 1 + 16];
    uint32_t len = 16;
    std::memcpy(bin, &len, 4);
    bin[4] = 4;  // subtype: UUID
    std::memcpy(bin + 5, data.uuid->data(), 16);
    AppendValue(bson::Type::kBinary, std::string_view(bin, sizeof(bin)), &scratch, &ks);
  } else if (data.version >= 2) {
    storage::AppendKeyStringNull(false, &ks);
  }
  if (data.event_identifier) AppendValue(bson::Type::kObject, data.event_identifier->bytes(), &scratch, &ks);
  if (data.fragment_num) AppendValue(bson::Type::kInt32, LittleEndian(*data.fragment_num, b4), &scratch, &ks);
  storage::AppendKeyStringEnd(&ks);
  return ResumeToken(std::move(ks));
}

ResumeToken ResumeToken::HighWaterMark(bson::Timestamp cluster_time) {
  ResumeTokenData data;
  data.cluster_time = cluster_time;
  data.type = ResumeTokenData::Type::kHighWaterMark;
  return FromData(data);
}

StatusWith<ResumeToken> ResumeToken::Parse(bson::View token_doc) {
  bson::Element data = token_doc["_data"];
  if (data.type() != bson::Type::kString) {
    return Fail(40647, "Bad resume token: _data of missing or of wrong type. Expected string, got " +
                           token_doc.ToString());
  }
  bson::Element type_bits = token_doc["_typeBits"];
  if (!type_bits.missing() &&
      (type_bits.type() != bson::Type::kBinary || type_bits.Bin().subtype != 0)) {
    return Fail(40648, "Bad resume token: _typeBits of wrong type " + token_doc.ToString());
  }
  std::string_view hex = data.Str();
  if (hex.size() % 2 != 0) {
    return Status(ErrorCodes::kFailedToParse, "resume token string was not a valid hex string");
  }
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return Status(ErrorCodes::kFailedToParse, "resume token string was not a valid hex string");
    }
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  return ResumeToken(std::move(bytes));
}

StatusWith<ResumeTokenData> ResumeToken::Decode() const {
  auto decoded = storage::DecodeKeyString(keystring_);
  if (!decoded.ok()) return decoded.status();
  bson::View fields = decoded.value();
  auto it = fields.begin(), end = fields.end();
  ResumeTokenData out;
  if (it == end) return Fail(40649, "invalid empty resume token");
  if (it->type() != bson::Type::kTimestamp) return Fail(40649, "invalid resume token: clusterTime is not a Timestamp");
  out.cluster_time = it->Ts();
  if (++it == end) return Fail(50796, "Resume Token does not contain version");
  if (it->type() != bson::Type::kInt32) return Fail(50854, "Invalid resume token: wrong type for version");
  out.version = it->Int32();
  if (out.version < 0 || out.version > 2) return Fail(50795, "Invalid Resume Token: only supports version 0, 1 and 2");
  if (out.version >= 1) {
    if (++it == end) return Fail(51055, "Resume Token does not contain tokenType");
    if (it->type() != bson::Type::kInt32) return Fail(51056, "Resume Token tokenType is not an int.");
    int32_t t = it->Int32();
    if (t != 0 && t != 128) return Fail(51057, "Token type " + std::to_string(t) + " not recognized");
    out.type = static_cast<ResumeTokenData::Type>(t);
  }
  if (++it == end) return Fail(50793, "Resume Token does not contain txnOpIndex");
  if (it->type() != bson::Type::kInt32) return Fail(50855, "Resume Token txnOpIndex is not an integer");
  out.txn_op_index = it->Int32();
  if (out.txn_op_index < 0) return Fail(50794, "Invalid Resume Token: txnOpIndex should be non-negative");
  if (out.version >= 1) {
    if (++it == end) return Fail(50872, "Resume Token does not contain fromInvalidate");
    if (it->type() != bson::Type::kBool) return Fail(50870, "Resume Token fromInvalidate is not a boolean.");
    out.from_invalidate = it->Bool();
  }
  if (++it == end) {
    if (out.version >= 2) return Fail(6189500, "Expected UUID or null");
    return out;
  }
  if (it->type() != bson::Type::kNull) {
    if (it->type() != bson::Type::kBinary || it->Bin().subtype != 4 || it->Bin().bytes.size() != 16) {
      return Status(ErrorCodes::kFailedToParse, "Invalid resume token: the collection UUID is malformed");
    }
    CollectionUuid uuid;
    std::memcpy(uuid.data(), it->Bin().bytes.data(), 16);
    out.uuid = uuid;
  }
  ++it;
  if (out.type == ResumeTokenData::Type::kHighWaterMark && it != end) {
    return Fail(6189504, "Invalid high water mark token");
  }
  if (it == end) {
    if (out.type == ResumeTokenData::Type::kEvent && out.version >= 2) {
      return Fail(6189501, "Expected an eventIdentifier for an event resume token");
    }
    return out;
  }
  if (it->type() != bson::Type::kObject) return Fail(6189503, "Resume Token eventIdentifier is not an object");
  out.event_identifier = bson::Doc::CopyOf(it->Obj());
  if (++it != end && out.version >= 2) {
    if (it->type() != bson::Type::kInt32 || it->Int32() < 0) {
      return Fail(7182501, "Resume token 'fragmentNum' must be a non-negative integer.");
    }
    out.fragment_num = it->Int32();
    ++it;
  }
  if (it != end) return Fail(40646, "invalid oversized resume token");
  return out;
}

std::string ResumeToken::Hex() const {
  std::string out;
  out.reserve(keystring_.size() * 2);
  for (unsigned char c : keystring_) {
    out.push_back(kHexDigits[c >> 4]);
    out.push_back(kHexDigits[c & 15]);
  }
  return out;
}

void ResumeToken::AppendAsDocument(bson::Builder* b, std::string_view key) const {
  // {_data: "<hex>"} laid out in a per-thread buffer, then appended: no allocation per
  // event (a nested Open/Close on `b` may grow its stack of open documents).
  thread_local std::string doc;
  constexpr std::string_view kData = "_data";
  const size_t hex_size = keystring_.size() * 2;
  const size_t total = 4 + 1 + kData.size() + 1 + 4 + hex_size + 1 + 1;
  doc.resize(total);
  char* out = doc.data();
  uint32_t len = static_cast<uint32_t>(total);
  std::memcpy(out, &len, 4);
  out += 4;
  *out++ = static_cast<char>(bson::Type::kString);
  std::memcpy(out, kData.data(), kData.size());
  out += kData.size();
  *out++ = '\0';
  uint32_t str_len = static_cast<uint32_t>(hex_size + 1);
  std::memcpy(out, &str_len, 4);
  out += 4;
  for (unsigned char c : keystring_) {
    *out++ = kHexDigits[c >> 4];
    *out++ = kHexDigits[c & 15];
  }
  *out++ = '\0';  // the string's
  *out++ = '\0';  // the document's
  b->AppendDocument(key, bson::View(doc.data()));
}

bson::Doc ResumeToken::ToDocument() const {
  bson::Builder b;
  b.AppendString("_data", Hex());
  return b.Done();
}

}  // namespace brook::changestream
