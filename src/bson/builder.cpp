#include "bson/builder.h"

#include <cstring>

namespace brook::bson {

std::string_view ArrayKey(size_t index, std::string* scratch) {
  static const auto* small = [] {
    auto* keys = new std::vector<std::string>();
    for (int i = 0; i < 1000; ++i) keys->push_back(std::to_string(i));
    return keys;
  }();
  if (index < small->size()) return (*small)[index];
  *scratch = std::to_string(index);
  return *scratch;
}

Builder::Builder() : Builder(64) {}

Builder::Builder(size_t reserve) {
  buf_.reserve(reserve);
  buf_.append(4, '\0');
}

void Builder::AppendLE32(uint32_t v) { AppendRaw(&v, 4); }
void Builder::AppendLE64(uint64_t v) { AppendRaw(&v, 8); }

void Builder::AppendHeader(Type t, std::string_view key) {
  buf_.push_back(static_cast<char>(t));
  // A key with an embedded NUL would corrupt the document; keys stop at the first NUL.
  size_t n = key.find('\0');
  buf_.append(key.data(), n == std::string_view::npos ? key.size() : n);
  buf_.push_back('\0');
}

Builder& Builder::AppendDouble(std::string_view key, double v) {
  AppendHeader(Type::kDouble, key);
  AppendRaw(&v, 8);
  return *this;
}

Builder& Builder::AppendString(std::string_view key, std::string_view v) {
  AppendHeader(Type::kString, key);
  AppendLE32(static_cast<uint32_t>(v.size() + 1));
  buf_.append(v.data(), v.size());
  buf_.push_back('\0');
  return *this;
}

Builder& Builder::AppendDocument(std::string_view key, View doc) {
  AppendHeader(Type::kObject, key);
  buf_.append(doc.bytes());
  return *this;
}

Builder& Builder::AppendArray(std::string_view key, View array_doc) {
  AppendHeader(Type::kArray, key);
  buf_.append(array_doc.bytes());
  return *this;
}

Builder& Builder::AppendBinary(std::string_view key, uint8_t subtype, std::string_view bytes) {
  AppendHeader(Type::kBinary, key);
  if (subtype == 0x02) {  // old binary keeps an inner length
    AppendLE32(static_cast<uint32_t>(bytes.size() + 4));
    buf_.push_back(static_cast<char>(subtype));
    AppendLE32(static_cast<uint32_t>(bytes.size()));
  } else {
    AppendLE32(static_cast<uint32_t>(bytes.size()));
    buf_.push_back(static_cast<char>(subtype));
  }
  buf_.append(bytes.data(), bytes.size());
  return *this;
}

Builder& Builder::AppendUndefined(std::string_view key) {
  AppendHeader(Type::kUndefined, key);
  return *this;
}

Builder& Builder::AppendOid(std::string_view key, const ObjectId& oid) {
  AppendHeader(Type::kObjectId, key);
  AppendRaw(oid.bytes.data(), 12);
  return *this;
}

Builder& Builder::AppendBool(std::string_view key, bool v) {
  AppendHeader(Type::kBool, key);
  buf_.push_back(v ? 1 : 0);
  return *this;
}

Builder& Builder::AppendDate(std::string_view key, int64_t millis) {
  AppendHeader(Type::kDate, key);
  AppendLE64(static_cast<uint64_t>(millis));
  return *this;
}

Builder& Builder::AppendNull(std::string_view key) {
  AppendHeader(Type::kNull, key);
  return *this;
}

Builder& Builder::AppendRegex(std::string_view key, std::string_view pattern,
                              std::string_view options) {
  AppendHeader(Type::kRegex, key);
  buf_.append(pattern.data(), pattern.size());
  buf_.push_back('\0');
  buf_.append(options.data(), options.size());
  buf_.push_back('\0');
  return *this;
}

Builder& Builder::AppendCode(std::string_view key, std::string_view code) {
  AppendHeader(Type::kCode, key);
  AppendLE32(static_cast<uint32_t>(code.size() + 1));
  buf_.append(code.data(), code.size());
  buf_.push_back('\0');
  return *this;
}

Builder& Builder::AppendSymbol(std::string_view key, std::string_view symbol) {
  AppendHeader(Type::kSymbol, key);
  AppendLE32(static_cast<uint32_t>(symbol.size() + 1));
  buf_.append(symbol.data(), symbol.size());
  buf_.push_back('\0');
  return *this;
}

Builder& Builder::AppendInt32(std::string_view key, int32_t v) {
  AppendHeader(Type::kInt32, key);
  AppendRaw(&v, 4);
  return *this;
}

Builder& Builder::AppendTimestamp(std::string_view key, Timestamp ts) {
  AppendHeader(Type::kTimestamp, key);
  AppendLE64(ts.AsUint64());
  return *this;
}

Builder& Builder::AppendInt64(std::string_view key, int64_t v) {
  AppendHeader(Type::kInt64, key);
  AppendRaw(&v, 8);
  return *this;
}

Builder& Builder::AppendDecimal128(std::string_view key, Decimal128 v) {
  AppendHeader(Type::kDecimal128, key);
  AppendLE64(v.low);
  AppendLE64(v.high);
  return *this;
}

Builder& Builder::AppendMinKey(std::string_view key) {
  AppendHeader(Type::kMinKey, key);
  return *this;
}

Builder& Builder::AppendMaxKey(std::string_view key) {
  AppendHeader(Type::kMaxKey, key);
  return *this;
}

Builder& Builder::Append(const Element& e) { return AppendAs(e.key(), e); }

Builder& Builder::AppendAs(std::string_view key, const Element& e) {
  if (e.missing()) return *this;
  AppendHeader(e.type(), key);
  AppendRaw(e.value(), e.value_size());
  return *this;
}

Builder& Builder::AppendAll(View doc) {
  for (const Element& e : doc) Append(e);
  return *this;
}

Builder& Builder::OpenDocument(std::string_view key) {
  AppendHeader(Type::kObject, key);
  open_.push_back(buf_.size());
  buf_.append(4, '\0');
  return *this;
}

Builder& Builder::OpenArray(std::string_view key) {
  AppendHeader(Type::kArray, key);
  open_.push_back(buf_.size());
  buf_.append(4, '\0');
  return *this;
}

Builder& Builder::Close() {
  if (open_.empty()) return *this;  // nothing nested is open
  buf_.push_back('\0');
  size_t start = open_.back();
  open_.pop_back();
  uint32_t len = static_cast<uint32_t>(buf_.size() - start);
  std::memcpy(buf_.data() + start, &len, 4);
  return *this;
}

Doc Builder::Done() {
  while (!open_.empty()) Close();
  buf_.push_back('\0');
  uint32_t len = static_cast<uint32_t>(buf_.size());
  std::memcpy(buf_.data(), &len, 4);
  Doc out(std::move(buf_));
  buf_.clear();
  buf_.append(4, '\0');
  open_.clear();
  return out;
}

}  // namespace brook::bson
