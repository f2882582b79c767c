#pragma once
// Value conversions shared by expression operators and stages: coercion to string
// (MongoDB's coerceToString), number formatting, and UTC calendar arithmetic for dates.
// Dates are int64 milliseconds since the Unix epoch, proleptic Gregorian, UTC.
// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "query/timezone.h"
#include "query/value.h"
#include "util/status.h"

namespace brook::query::expr {

// Shortest round-trip text of a number as MongoDB's $toString prints it.
std::string NumberToString(const bson::Element& e);
// MongoDB's coerceToString: strings as-is, numbers, dates (ISO), null/missing -> "".
// Other types fail with 16007.
StatusWith<std::string> CoerceToString(const Value& v);

struct CivilTime {
  int64_t year = 1970;
  int month = 1;   // 1..12
  int day = 1;     // 1..31
  int hour = 0, minute = 0, second = 0, millis = 0;
  int day_of_week = 5;  // 1 = Sunday .. 7 = Saturday
  int day_of_year = 1;  // 1..366
};
CivilTime ToCivil(int64_t millis);
int64_t FromCivil(int64_t year, int month, int day, int hour, int minute, int second, int millis);
int64_t DaysFromCivil(int64_t y, int m, int d);

// Offset in millis for a timezone spec: "UTC", "GMT", "Z", "+hh", "+hhmm", "+hh:mm".
// Olson names fail with 40485 here (TimeZone::Parse takes them).
StatusWith<int64_t> ParseTimezone(std::string_view tz);

// Formats with MongoDB's $dateToString specifiers (%Y %m %d %H %M %S %L %j %w %u %U %G
// %V %z %Z %%). `offset_millis` is the time zone's offset.
StatusWith<std::string> FormatDate(int64_t millis, std::string_view format, int64_t offset_millis);
// Default format of $dateToString and of date-to-string conversion.
inline constexpr std::string_view kIsoFormat = "%Y-%m-%dT%H:%M:%S.%LZ";
// Parses ISO-8601-like strings ("2024-01-02", "2024-01-02T03:04:05.678Z", "+hh:mm"
// offsets, ' ' for 'T'), or, when `format` is non-empty, by those specifiers.
StatusWith<int64_t> ParseDate(std::string_view s, std::string_view format, const TimeZone& default_tz);

}  // namespace brook::query::expr
