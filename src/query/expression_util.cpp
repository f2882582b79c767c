#include "query/expression_util.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

namespace brook::query::expr {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// ISO 8601 week-numbering year and week of a civil date.
void IsoWeek(int64_t days, const CivilTime& c, int64_t* iso_year, int* iso_week) {
  int iso_dow = c.day_of_week == 1 ? 7 : c.day_of_week - 1;  // Monday = 1
  int64_t thursday = days - iso_dow + 4;
  CivilTime t = ToCivil(thursday * 86400000LL);
  *iso_year = t.year;
  *iso_week = (t.day_of_year - 1) / 7 + 1;
}

}  // namespace

std::string NumberToString(const bson::Element& e) {
  switch (e.type()) {
    case bson::Type::kInt32: return std::to_string(e.Int32());
    case bson::Type::kInt64: return std::to_string(e.Int64());
    case bson::Type::kDecimal128: return e.Decimal().ToString();
    case bson::Type::kDouble: {
      double d = e.Double();
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      return std::string(buf, r.ptr);
    }
    default: return "";
  }
}

StatusWith<std::string> CoerceToString(const Value& v) {
  if (v.nullish()) return std::string();
  bson::Element e = v.element();
  switch (e.type()) {
    case bson::Type::kString:
    case bson::Type::kSymbol:
    case bson::Type::kCode:
      return std::string(e.Str());
    case bson::Type::kInt32:
    case bson::Type::kInt64:
    case bson::Type::kDouble:
    case bson::Type::kDecimal128:
      return NumberToString(e);
    case bson::Type::kDate:
      return FormatDate(e.DateMillis(), kIsoFormat, 0);
    case bson::Type::kTimestamp: {
      auto ts = e.Ts();
      return FormatDate(int64_t{ts.secs} * 1000, kIsoFormat, 0);
    }
    default:
      return Status(16007, "can't convert from BSON type " + std::string(bson::TypeName(e.type())) +
                               " to String");
  }
}

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilTime ToCivil(int64_t millis) {
  CivilTime c;
  int64_t days = FloorDiv(millis, 86400000LL);
  int64_t rem = millis - days * 86400000LL;
  c.hour = static_cast<int>(rem / 3600000);
  c.minute = static_cast<int>(rem / 60000 % 60);
  c.second = static_cast<int>(rem / 1000 % 60);
  c.millis = static_cast<int>(rem % 1000);
  int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  // 1970-01-01 was a Thursday (5 with Sunday = 1).
  c.day_of_week = static_cast<int>(((days % 7) + 7 + 4) % 7) + 1;
  c.day_of_year = static_cast<int>(days - DaysFromCivil(c.year, 1, 1)) + 1;
  return c;
}

int64_t FromCivil(int64_t year, int month, int day, int hour, int minute, int second, int millis) {
  return DaysFromCivil(year, month, day) * 86400000LL + hour * 3600000LL + minute * 60000LL +
         second * 1000LL + millis;
}

StatusWith<int64_t> ParseTimezone(std::string_view tz) { return ParseUtcOffset(tz); }

StatusWith<std::string> FormatDate(int64_t millis, std::string_view format, int64_t offset_millis) {
  int64_t local = millis + offset_millis;
  CivilTime c = ToCivil(local);
  std::string out;
  char buf[32];
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (i + 1 == format.size()) return Status(18535, "Unmatched '%' at end of format string");
    char spec = format[++i];
    switch (spec) {
      case 'Y': std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(c.year)); break;
      case 'm': std::snprintf(buf, sizeof buf, "%02d", c.month); break;
      case 'd': std::snprintf(buf, sizeof buf, "%02d", c.day); break;
      case 'H': std::snprintf(buf, sizeof buf, "%02d", c.hour); break;
      case 'M': std::snprintf(buf, sizeof buf, "%02d", c.minute); break;
      case 'S': std::snprintf(buf, sizeof buf, "%02d", c.second); break;
      case 'L': std::snprintf(buf, sizeof buf, "%03d", c.millis); break;
      case 'j': std::snprintf(buf, sizeof buf, "%03d", c.day_of_year); break;
      case 'w': std::snprintf(buf, sizeof buf, "%d", c.day_of_week); break;
      case 'u': std::snprintf(buf, sizeof buf, "%d", c.day_of_week == 1 ? 7 : c.day_of_week - 1); break;
      case 'U': {
        // Week of the year, weeks starting on Sunday; days before the first Sunday are week 0.
        int week = (c.day_of_year + 6 - (c.day_of_week - 1)) / 7;
        std::snprintf(buf, sizeof buf, "%02d", week);
        break;
      }
      case 'G':
      case 'V': {
        int64_t iy = 0;
        int iw = 0;
        IsoWeek(FloorDiv(local, 86400000LL), c, &iy, &iw);
        if (spec == 'G') {
          std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(iy));
        } else {
          std::snprintf(buf, sizeof buf, "%02d", iw);
        }
        break;
      }
      case 'z':
      case 'Z': {
        int64_t mins = offset_millis / 60000;
        if (spec == 'Z') {
          std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(mins));
        } else {
          int64_t a = mins < 0 ? -mins : mins;
          std::snprintf(buf, sizeof buf, "%c%02lld%02lld", mins < 0 ? '-' : '+',
                        static_cast<long long>(a / 60), static_cast<long long>(a % 60));
        }
        break;
      }
      case '%': buf[0] = '%'; buf[1] = 0; break;
      default:
        return Status(18536, std::string("Invalid format character '%") + spec +
                                 "' in format string");
    }
    out += buf;
  }
  return out;
}

StatusWith<int64_t> ParseDate(std::string_view s, std::string_view format, const TimeZone& default_tz) {
  auto fail = [&](std::string_view why) {
    return Status(ErrorCodes::kConversionFailure, "Error parsing date string '" + std::string(s) + "'; " + std::string(why));
  };
  int64_t year = 1970;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0;
  std::optional<int64_t> offset;  // from the string itself
  size_t pos = 0;
  auto read_int = [&](size_t min_digits, size_t max_digits, int64_t* out) {
    size_t start = pos;
    bool neg = false;
    if (pos < s.size() && s[pos] == '-' && max_digits > 4) {
      neg = true;
      ++pos;
    }
    int64_t v = 0;
    size_t n = 0;
    while (pos < s.size() && n < max_digits && s[pos] >= '0' && s[pos] <= '9') {
      v = v * 10 + (s[pos] - '0');
      ++pos;
      ++n;
    }
    if (n < min_digits) {
      pos = start;
      return false;
    }
    *out = neg ? -v : v;
    return true;
  };
  auto read_offset = [&]() -> bool {
    if (pos < s.size() && s[pos] == 'Z') {
      ++pos;
      offset = 0;
      return true;
    }
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
      size_t end = pos + 1;
      while (end < s.size() && ((s[end] >= '0' && s[end] <= '9') || s[end] == ':')) ++end;
      auto tz = ParseTimezone(s.substr(pos, end - pos));
      if (!tz.ok()) return false;
      offset = tz.value();
      pos = end;
      return true;
    }
    return false;
  };
  int64_t v = 0;
  if (!format.empty()) {
    for (size_t i = 0; i < format.size(); ++i) {
      if (format[i] != '%' || i + 1 == format.size()) {
        if (pos >= s.size() || s[pos] != format[i]) return fail("format mismatch");
        ++pos;
        continue;
      }
      char spec = format[++i];
      bool ok = true;
      switch (spec) {
        case 'Y': ok = read_int(4, 4, &year); break;
        case 'm': ok = read_int(1, 2, &v); month = static_cast<int>(v); break;
        case 'd': ok = read_int(1, 2, &v); day = static_cast<int>(v); break;
        case 'H': ok = read_int(1, 2, &v); hour = static_cast<int>(v); break;
        case 'M': ok = read_int(1, 2, &v); minute = static_cast<int>(v); break;
        case 'S': ok = read_int(1, 2, &v); second = static_cast<int>(v); break;
        case 'L': ok = read_int(1, 3, &v); millis = static_cast<int>(v); break;
        case 'j': ok = read_int(1, 3, &v); month = 1; day = static_cast<int>(v); break;
        case 'z':
        case 'Z': ok = read_offset(); break;
        case '%': ok = pos < s.size() && s[pos++] == '%'; break;
        default: return fail("invalid format specifier");
      }
      if (!ok) return fail("format mismatch");
    }
    if (pos != s.size()) return fail("trailing data");
  } else {
    if (!read_int(4, 4, &year)) return fail("no year");
    if (pos < s.size() && s[pos] == '-') {
      ++pos;
      if (!read_int(2, 2, &v)) return fail("bad month");
      month = static_cast<int>(v);
      if (pos < s.size() && s[pos] == '-') {
        ++pos;
        if (!read_int(2, 2, &v)) return fail("bad day");
        day = static_cast<int>(v);
      }
    }
    if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
      ++pos;
      if (!read_int(2, 2, &v)) return fail("bad hour");
      hour = static_cast<int>(v);
      if (pos < s.size() && s[pos] == ':') {
        ++pos;
        if (!read_int(2, 2, &v)) return fail("bad minute");
        minute = static_cast<int>(v);
        if (pos < s.size() && s[pos] == ':') {
          ++pos;
          if (!read_int(2, 2, &v)) return fail("bad second");
          second = static_cast<int>(v);
          if (pos < s.size() && s[pos] == '.') {
            ++pos;
            size_t start = pos;
            int64_t frac = 0;
            if (!read_int(1, 9, &frac)) return fail("bad fraction");
            size_t n = pos - start;
            while (n < 3) { frac *= 10; ++n; }
            while (n > 3) { frac /= 10; --n; }
            millis = static_cast<int>(frac);
          }
        }
      }
      if (pos < s.size() && !read_offset()) return fail("bad time zone");
    }
    if (pos != s.size()) return fail("trailing data");
  }
  bool leap = IsLeap(year);
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return fail("month out of range");
  int max_day = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  if (day < 1 || (day > max_day && !(month == 1 && day <= (leap ? 366 : 365)))) {
    return fail("day out of range");
  }
  if (hour > 23 || minute > 59 || second > 59) return fail("time out of range");
  const int64_t local = FromCivil(year, month, day, hour, minute, second, millis);
  return offset ? local - *offset : default_tz.ToUtc(local);
}

}  // namespace brook::query::expr
