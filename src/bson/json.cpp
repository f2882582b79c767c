#include "bson/json.h"

#include <bson/bson.h>

namespace brook::bson {

StatusWith<Doc> FromJson(std::string_view json) {
  bson_error_t error;
  bson_t* b = bson_new_from_json(reinterpret_cast<const uint8_t*>(json.data()),
                                 static_cast<ssize_t>(json.size()), &error);
  if (!b) return Status(ErrorCodes::kFailedToParse, std::string("invalid JSON: ") + error.message);
  Doc out(std::string(reinterpret_cast<const char*>(bson_get_data(b)), b->len));
  bson_destroy(b);
  return out;
}

namespace {
template <typename Fn>
std::string ToJsonWith(View doc, Fn fn) {
  bson_t b;
  if (!bson_init_static(&b, doc.data(), doc.size())) return "<invalid BSON>";
  size_t len = 0;
  char* s = fn(&b, &len);
  if (!s) return "<invalid BSON>";
  std::string out(s, len);
  bson_free(s);
  return out;
}
}  // namespace

std::string ToRelaxedJson(View doc) { return ToJsonWith(doc, bson_as_relaxed_extended_json); }
std::string ToCanonicalJson(View doc) { return ToJsonWith(doc, bson_as_canonical_extended_json); }

}  // namespace brook::bson
