#include "watch/bson_util.h"

#include "watch/fast_json.h"

#include <cctype>
#include <cstring>

namespace brook::watch {

BsonDoc BsonDoc::FromJson(std::string_view json, std::string* error) {
  bson_error_t err;
  bson_t* b = bson_new_from_json(reinterpret_cast<const uint8_t*>(json.data()),
                                 static_cast<ssize_t>(json.size()), &err);
  if (!b && error) *error = err.message;
  return BsonDoc(b);
}

bool BsonDoc::SameBytes(const BsonDoc& o) const {
  if (!b_ || !o.b_) return b_ == o.b_;
  return b_->len == o.b_->len && std::memcmp(bson_get_data(b_), bson_get_data(o.b_), b_->len) == 0;
}

std::string ToExtJson(const bson_t* doc, JsonFormat format) {
  if (format == JsonFormat::kRelaxed) {
    std::string out;
    out.reserve(doc->len + doc->len / 4 + 16);
    AppendRelaxedJson(doc, &out);
    return out;
  }
  size_t len = 0;
  char* s = format == JsonFormat::kCanonical ? bson_as_canonical_extended_json(doc, &len)
                                             : bson_as_relaxed_extended_json(doc, &len);
  if (!s) return "{}";
  std::string out(s, len);
  bson_free(s);
  return out;
}

namespace {

bool Find(const bson_t* doc, const char* dotted, bson_iter_t* out) {
  if (!doc) return false;
  bson_iter_t it;
  if (!bson_iter_init(&it, doc)) return false;
  return bson_iter_find_descendant(&it, dotted, out);
}

}  // namespace

std::optional<std::string> GetString(const bson_t* doc, const char* dotted) {
  bson_iter_t it;
  if (!Find(doc, dotted, &it) || !BSON_ITER_HOLDS_UTF8(&it)) return std::nullopt;
  uint32_t len = 0;
  const char* s = bson_iter_utf8(&it, &len);
  return std::string(s, len);
}

std::optional<ClusterTime> GetTimestamp(const bson_t* doc, const char* dotted) {
  bson_iter_t it;
  if (!Find(doc, dotted, &it) || !BSON_ITER_HOLDS_TIMESTAMP(&it)) return std::nullopt;
  ClusterTime ct;
  bson_iter_timestamp(&it, &ct.t, &ct.i);
  return ct;
}

std::optional<int64_t> GetInt(const bson_t* doc, const char* dotted) {
  bson_iter_t it;
  if (!Find(doc, dotted, &it)) return std::nullopt;
  if (BSON_ITER_HOLDS_INT32(&it)) return bson_iter_int32(&it);
  if (BSON_ITER_HOLDS_INT64(&it)) return bson_iter_int64(&it);
  if (BSON_ITER_HOLDS_DOUBLE(&it)) return static_cast<int64_t>(bson_iter_double(&it));
  return std::nullopt;
}

BsonDoc GetDocument(const bson_t* doc, const char* dotted) {
  bson_iter_t it;
  if (!Find(doc, dotted, &it) || !BSON_ITER_HOLDS_DOCUMENT(&it)) return BsonDoc();
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  bson_iter_document(&it, &len, &data);
  return BsonDoc(bson_new_from_data(data, len));
}

std::optional<ClusterTime> TokenClusterTime(const bson_t* token) {
  // KeyString: a Timestamp is type byte 0x82 then 8 big-endian bytes (secs, inc); it is the
  // token's first value in every token version, so no full decode is needed here.
  auto data = GetString(token, "_data");
  if (!data || data->size() < 18) return std::nullopt;
  if ((*data)[0] != '8' || (*data)[1] != '2') return std::nullopt;
  uint64_t v = 0;
  for (size_t k = 2; k < 18; ++k) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>((*data)[k])));
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return ClusterTime{static_cast<uint32_t>(v >> 32), static_cast<uint32_t>(v)};
}

BsonDoc ParseTokenArg(const std::string& text, std::string* error) {
  if (!text.empty() && text.front() == '{') {
    BsonDoc doc = BsonDoc::FromJson(text, error);
    if (doc.IsEmpty()) return doc;
    if (!GetString(doc.get(), "_data")) {
      *error = "a resume token is a document with a string _data field, e.g. {\"_data\": \"8263...\"}";
      return BsonDoc();
    }
    return doc;
  }
  if (text.empty() || text.size() % 2 != 0) {
    *error = "expected the hex of a token's _data (an even number of hex digits) or its JSON document";
    return BsonDoc();
  }
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      *error = std::string("not a hex digit: '") + c + "'";
      return BsonDoc();
    }
  }
  BsonDoc doc = BsonDoc::New();
  BSON_APPEND_UTF8(doc.mut(), "_data", text.c_str());
  return doc;
}

}  // namespace brook::watch
