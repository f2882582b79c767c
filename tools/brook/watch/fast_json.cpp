#include "watch/fast_json.h"

#include <cinttypes>
#include <cstdio>

namespace brook::watch {
namespace {

// A string libbson would print verbatim: printable ASCII without '"' or '\'.
bool Plain(const char* s, uint32_t len) {
  for (uint32_t k = 0; k < len; ++k) {
    unsigned char c = static_cast<unsigned char>(s[k]);
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

// libbson's own rendering of one value: it prints {"v": value} as `{ "v" : VALUE }`.
void AppendViaLibbson(const bson_iter_t* it, std::string* out) {
  bson_t tmp = BSON_INITIALIZER;
  bson_append_iter(&tmp, "v", 1, it);
  size_t len = 0;
  char* s = bson_as_relaxed_extended_json(&tmp, &len);
  if (s && len >= 10) out->append(s + 8, len - 10);
  bson_free(s);
  bson_destroy(&tmp);
}

void AppendBody(bson_iter_t* it, bool array, bool top, std::string* out);

void AppendValue(bson_iter_t* it, std::string* out) {
  char buf[64];
  switch (bson_iter_type(it)) {
    case BSON_TYPE_UTF8: {
      uint32_t len = 0;
      const char* s = bson_iter_utf8(it, &len);
      if (!Plain(s, len)) return AppendViaLibbson(it, out);
      out->push_back('"');
      out->append(s, len);
      out->push_back('"');
      return;
    }
    case BSON_TYPE_INT32:
      out->append(buf, static_cast<size_t>(std::snprintf(buf, sizeof buf, "%" PRId32, bson_iter_int32(it))));
      return;
    case BSON_TYPE_INT64:
      out->append(buf, static_cast<size_t>(std::snprintf(buf, sizeof buf, "%" PRId64, bson_iter_int64(it))));
      return;
    case BSON_TYPE_BOOL:
      out->append(bson_iter_bool(it) ? "true" : "false");
      return;
    case BSON_TYPE_NULL:
      out->append("null");
      return;
    case BSON_TYPE_TIMESTAMP: {
      uint32_t t, i;
      bson_iter_timestamp(it, &t, &i);
      out->append(buf, static_cast<size_t>(std::snprintf(buf, sizeof buf, "{ \"$timestamp\" : { \"t\" : %" PRIu32
                                                                         ", \"i\" : %" PRIu32 " } }",
                                                         t, i)));
      return;
    }
    case BSON_TYPE_OID: {
      char hex[25];
      bson_oid_to_string(bson_iter_oid(it), hex);
      out->append("{ \"$oid\" : \"");
      out->append(hex, 24);
      out->append("\" }");
      return;
    }
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY: {
      bson_iter_t child;
      if (!bson_iter_recurse(it, &child)) return AppendViaLibbson(it, out);
      AppendBody(&child, bson_iter_type(it) == BSON_TYPE_ARRAY, false, out);
      return;
    }
    default:
      return AppendViaLibbson(it, out);
  }
}

void AppendBody(bson_iter_t* it, bool array, bool top, std::string* out) {
  out->append(array ? "[ " : "{ ");
  bool first = true;
  while (bson_iter_next(it)) {
    if (!first) out->append(", ");
    first = false;
    if (!array) {
      uint32_t klen = bson_iter_key_len(it);
      const char* key = bson_iter_key(it);
      if (Plain(key, klen)) {
        out->push_back('"');
        out->append(key, klen);
        out->append("\" : ");
      } else {
        char* escaped = bson_utf8_escape_for_json(key, static_cast<ssize_t>(klen));
        out->push_back('"');
        if (escaped) out->append(escaped);
        out->append("\" : ");
        bson_free(escaped);
      }
    }
    AppendValue(it, out);
  }
  // libbson prints an empty nested document or array with two spaces, "{  }".
  if (first && !top) out->push_back(' ');
  out->append(first ? (array ? "]" : "}") : (array ? " ]" : " }"));
}

}  // namespace

void AppendRelaxedJson(const bson_t* doc, std::string* out) {
  bson_iter_t it;
  if (!bson_iter_init(&it, doc)) {
    out->append("{ }");
    return;
  }
  AppendBody(&it, false, true, out);
}

}  // namespace brook::watch
