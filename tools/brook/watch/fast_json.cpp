#include "watch/fast_json.h"

#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace brook::watch {
namespace {

bool PlainByte(unsigned char c) { return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'; }

// A string libbson would print verbatim: printable ASCII without '"' or '\'. Eight
// bytes at a time (the strings of 1 KB documents made this the processor's hot spot):
// a byte-wise test for "below 0x20", "above 0x7e" and "equal to '"' or '\'" on a word.
bool Plain(const char* s, uint32_t len) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  uint32_t k = 0;
#if defined(__SSE2__)
  // Sixteen at a time where SSE2 is there (every x86-64). A signed compare puts the
  // bytes >= 0x80 below 0x20 too.
  const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f), quote = _mm_set1_epi8('"'),
                backslash = _mm_set1_epi8('\\');
  for (; k + 16 <= len; k += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + k));
    __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    if (_mm_movemask_epi8(bad) != 0) return false;
  }
#endif
  for (; k + 8 <= len; k += 8) {
    uint64_t v;
    std::memcpy(&v, s + k, 8);
    uint64_t below = (v - kOnes * 0x20) & ~v;          // high bit set somewhere: a byte < 0x20
    uint64_t above = (v + kOnes * (0x7f - 0x7e)) | v;  // ... a byte > 0x7e
    uint64_t q = v ^ (kOnes * '"'), b = v ^ (kOnes * '\\');
    uint64_t quote = (q - kOnes) & ~q, backslash = (b - kOnes) & ~b;  // a zero byte: a match
    if ((below | above | quote | backslash) & kHigh) return false;
  }
  for (; k < len; ++k)
    if (!PlainByte(static_cast<unsigned char>(s[k]))) return false;
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

// Integers by std::to_chars: printf's machinery was a tenth of the formatting work.
void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

// `v` in exactly `width` digits, zero-padded (v < 10^width).
void AppendDigits(int64_t v, int width, std::string* out) {
  char buf[8];
  for (int k = width - 1; k >= 0; --k, v /= 10) buf[k] = static_cast<char>('0' + v % 10);
  out->append(buf, static_cast<size_t>(width));
}

// Milliseconds of 10000-01-01T00:00:00Z: libbson formats with strftime's %Y, which has
// four digits up to there; later dates go through libbson itself.
constexpr int64_t kYear10000Ms = 253402300800000;

// A date at or after the epoch as libbson's relaxed form prints it:
// { "$date" : "YYYY-MM-DDTHH:MM:SS[.mmm]Z" } (milliseconds only when not zero). Every
// change event has one (wallTime), and libbson's strftime path was a tenth of the work.
void AppendDate(int64_t ms, std::string* out) {
  int64_t days = ms / 86400000, in_day = ms % 86400000;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm, days >= 0 here).
  int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
  int64_t secs = in_day / 1000, millis = in_day % 1000;
  out->append("{ \"$date\" : \"");
  AppendDigits(y, 4, out);
  out->push_back('-');
  AppendDigits(m, 2, out);
  out->push_back('-');
  AppendDigits(d, 2, out);
  out->push_back('T');
  AppendDigits(secs / 3600, 2, out);
  out->push_back(':');
  AppendDigits(secs / 60 % 60, 2, out);
  out->push_back(':');
  AppendDigits(secs % 60, 2, out);
  if (millis) {
    out->push_back('.');
    AppendDigits(millis, 3, out);
  }
  out->push_back('Z');
  out->append("\" }");
}

void AppendValue(bson_iter_t* it, std::string* out) {
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
      return AppendInt(bson_iter_int32(it), out);
    case BSON_TYPE_INT64:
      return AppendInt(bson_iter_int64(it), out);
    case BSON_TYPE_BOOL:
      out->append(bson_iter_bool(it) ? "true" : "false");
      return;
    case BSON_TYPE_NULL:
      out->append("null");
      return;
    case BSON_TYPE_DATE_TIME: {
      int64_t ms = bson_iter_date_time(it);
      if (ms < 0 || ms >= kYear10000Ms) return AppendViaLibbson(it, out);  // libbson's $numberLong form
      return AppendDate(ms, out);
    }
    case BSON_TYPE_TIMESTAMP: {
      uint32_t t, i;
      bson_iter_timestamp(it, &t, &i);
      out->append("{ \"$timestamp\" : { \"t\" : ");
      AppendInt(t, out);
      out->append(", \"i\" : ");
      AppendInt(i, out);
      out->append(" } }");
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
