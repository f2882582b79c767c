// Calendar arithmetic operators: $dateAdd, $dateSubtract, $dateDiff, $dateTrunc,
// $dateFromParts and $dateToParts. Units of a day or longer are counted on the local
// calendar of the time zone (so a day across a DST change is 23 or 25 hours); shorter
// units are exact durations, as in MongoDB.
#include <limits>
#include <optional>

#include "bson/builder.h"
#include "query/expression_internal.h"
#include "query/expression_util.h"

namespace brook::query::expr {
namespace {

enum class Unit { kMillisecond, kSecond, kMinute, kHour, kDay, kWeek, kMonth, kQuarter, kYear };

constexpr int64_t kMsPerDay = 86400000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t UnitMillis(Unit u) {
  switch (u) {
    case Unit::kMillisecond: return 1;
    case Unit::kSecond: return 1000;
    case Unit::kMinute: return 60000;
    case Unit::kHour: return 3600000;
    case Unit::kDay: return kMsPerDay;
    case Unit::kWeek: return 7 * kMsPerDay;
    default: return 0;  // calendar units have no fixed length
  }
}

StatusWith<Unit> ParseUnit(std::string_view op, const Value& v) {
  if (!v.IsString()) {
    return Status(5439013, std::string(op) + " requires 'unit' to be a string, but got " + TypeNameOf(v));
  }
  static const std::pair<std::string_view, Unit> kUnits[] = {
      {"millisecond", Unit::kMillisecond}, {"second", Unit::kSecond}, {"minute", Unit::kMinute},
      {"hour", Unit::kHour},               {"day", Unit::kDay},       {"week", Unit::kWeek},
      {"month", Unit::kMonth},             {"quarter", Unit::kQuarter}, {"year", Unit::kYear}};
  std::string_view s = v.element().Str();
  for (const auto& [name, unit] : kUnits) {
    if (s == name) return unit;
  }
  return Status(5439014,
                std::string(op) + " parameter 'unit' value cannot be recognized as a time unit: " + std::string(s));
}

// 0 = Sunday .. 6 = Saturday; full names and three-letter abbreviations, any case.
StatusWith<int> ParseDayOfWeek(std::string_view op, std::string_view param, const Value& v) {
  if (!v.IsString()) {
    return Status(5439015, std::string(op) + " requires '" + std::string(param) + "' to be a string, but got " +
                               TypeNameOf(v));
  }
  std::string s(v.element().Str());
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const char* kDays[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  for (int i = 0; i < 7; ++i) {
    std::string_view full = kDays[i];
    if (s == full || s == full.substr(0, 3)) return i;
  }
  return Status(5439016, std::string(op) + " parameter '" + std::string(param) +
                             "' value cannot be recognized as a day of a week: " + std::string(v.element().Str()));
}

// The `startOfWeek` argument: read only for unit "week", Sunday when not given.
StatusWith<int> StartOfWeekArg(std::string_view op, Unit unit, bool given, const Value& v) {
  if (unit != Unit::kWeek || !given) return 0;
  return ParseDayOfWeek(op, "startOfWeek", v);
}

StatusWith<TimeZone> ZoneArg(std::string_view op, const Value& tz) {
  auto zone = TimeZoneOf(tz);
  if (!zone.ok() && zone.status().code() == 40485) {
    return Status(40485, std::string(op) + " parameter 'timezone' value parsing failed :: caused by :: " +
                             zone.status().reason());
  }
  return zone;
}

int64_t DayOfWeek(int64_t days) { return ((days % 7) + 11) % 7; }  // 1970-01-01 was a Thursday

// Months since year 0 of a local time, and its day of month and time of day.
struct MonthPos {
  int64_t months;
  int day;
  int64_t time_of_day;
};

MonthPos MonthPosOf(int64_t local) {
  CivilTime c = ToCivil(local);
  return {c.year * 12 + (c.month - 1), c.day, FloorDiv(local, 1) - FloorDiv(local, kMsPerDay) * kMsPerDay};
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

int64_t LocalFromMonths(int64_t months, int day, int64_t time_of_day) {
  int64_t year = FloorDiv(months, 12);
  int month = static_cast<int>(months - year * 12) + 1;
  day = std::min(day, DaysInMonth(year, month));
  return DaysFromCivil(year, month, day) * kMsPerDay + time_of_day;
}

// Years 0..9999 keep every civil computation exact; MongoDB's own range is far wider,
// but dates outside it are not a calendar anyone adds months to.
bool CalendarSafe(int64_t millis) { return millis > -62167219200000LL && millis < 253402300800000LL; }

StatusWith<Value> DateArith(std::string_view op, std::vector<Value>& args, const std::vector<bool>& given,
                            EvalContext&) {
  // args: startDate, unit, amount, timezone
  for (size_t i = 0; i < args.size(); ++i) {
    if (given[i] && args[i].nullish()) return Value::Null();
  }
  auto start = DateMillisOf(args[0]);
  if (!start.ok()) return Status(5166403, std::string(op) + " requires startDate to be convertible to a date");
  auto unit = ParseUnit(op, args[1]);
  if (!unit.ok()) return unit.status();
  std::optional<int64_t> amount = args[2].IsNumber() ? args[2].element().ExactInt64() : std::nullopt;
  if (!amount) return Status(5166405, std::string(op) + " expects integer amount of time units");
  int64_t n = *amount;
  if (op == "$dateSubtract") {
    if (n == std::numeric_limits<int64_t>::min()) return Status(5166406, "dateSubtract overflowed");
    n = -n;
  }
  auto tz = ZoneArg(op, given[3] ? args[3] : Value());
  if (!tz.ok()) return tz.status();
  const Status overflow(5166406, op == "$dateAdd" ? "dateAdd overflowed" : "dateSubtract overflowed");
  int64_t result;
  if (int64_t len = UnitMillis(unit.value()); len != 0 && unit.value() < Unit::kDay) {
    int64_t delta;
    if (__builtin_mul_overflow(n, len, &delta) || __builtin_add_overflow(start.value(), delta, &result)) {
      return overflow;
    }
    return Value::Date(result);
  }
  if (!CalendarSafe(start.value())) return overflow;
  const int64_t local = start.value() + tz.value().OffsetAt(start.value());
  int64_t shifted;
  if (unit.value() == Unit::kDay || unit.value() == Unit::kWeek) {
    int64_t delta;
    if (__builtin_mul_overflow(n, UnitMillis(unit.value()), &delta) ||
        __builtin_add_overflow(local, delta, &shifted) || !CalendarSafe(shifted)) {
      return overflow;
    }
  } else {
    const int64_t per = unit.value() == Unit::kMonth ? 1 : unit.value() == Unit::kQuarter ? 3 : 12;
    int64_t months;
    MonthPos pos = MonthPosOf(local);
    if (__builtin_mul_overflow(n, per, &months) || __builtin_add_overflow(pos.months, months, &months) ||
        months < 0 || months >= 10000 * 12) {
      return overflow;
    }
    shifted = LocalFromMonths(months, pos.day, pos.time_of_day);
  }
  // Keep the wall-clock time when the step crosses a DST change.
  return Value::Date(tz.value().ToUtc(shifted));
}

StatusWith<ExprPtr> ParseDateArith(std::string_view op, const bson::Element& arg, const ExpressionParseContext& ctx) {
  std::string o(op);
  NamedArgsSpec spec{{"startDate", "unit", "amount", "timezone"},
                     {"startDate", "unit", "amount"},
                     5166400,
                     o + " expects an object as its argument",
                     5166401,
                     "Unrecognized argument to " + o + ": ",
                     5166402,
                     o + " requires startDate, unit, and amount to be present"};
  auto args = ParseNamedArgs(arg, ctx, spec);
  if (!args.ok()) return args.status();
  return ExprPtr(new NamedExpression(op, DateArith, std::move(args).value()));
}

// Weeks start on `start_of_week`: the day number of the week's first day.
int64_t WeekStart(int64_t days, int start_of_week) { return days - (DayOfWeek(days) - start_of_week + 7) % 7; }

StatusWith<Value> DateDiff(std::string_view op, std::vector<Value>& args, const std::vector<bool>& given,
                           EvalContext&) {
  // args: startDate, endDate, unit, timezone, startOfWeek
  for (size_t i = 0; i < args.size(); ++i) {
    if (given[i] && args[i].nullish()) return Value::Null();
  }
  static constexpr std::string_view kNames[] = {"startDate", "endDate"};
  int64_t dates[2];
  for (int i = 0; i < 2; ++i) {
    auto d = DateMillisOf(args[i]);
    if (!d.ok()) {
      return Status(5166307, std::string(op) + " requires '" + std::string(kNames[i]) + "' to be a date, but got " +
                                 TypeNameOf(args[i]));
    }
    dates[i] = d.value();
  }
  auto unit = ParseUnit(op, args[2]);
  if (!unit.ok()) return unit.status();
  auto tz = ZoneArg(op, given[3] ? args[3] : Value());
  if (!tz.ok()) return tz.status();
  auto start_of_week = StartOfWeekArg(op, unit.value(), given[4], args[4]);
  if (!start_of_week.ok()) return start_of_week.status();
  if (unit.value() == Unit::kMillisecond) {
    int64_t diff;
    if (__builtin_sub_overflow(dates[1], dates[0], &diff)) return Status(5166308, "dateDiff overflowed");
    return Value::Int64(diff);
  }
  int64_t local[2];
  for (int i = 0; i < 2; ++i) {
    if (!CalendarSafe(dates[i])) return Status(5166308, "dateDiff overflowed");
    local[i] = dates[i] + tz.value().OffsetAt(dates[i]);
  }
  switch (unit.value()) {
    case Unit::kSecond:
    case Unit::kMinute:
    case Unit::kHour:
    case Unit::kDay: {
      int64_t len = UnitMillis(unit.value());
      return Value::Int64(FloorDiv(local[1], len) - FloorDiv(local[0], len));
    }
    case Unit::kWeek: {
      int64_t a = WeekStart(FloorDiv(local[0], kMsPerDay), start_of_week.value());
      int64_t b = WeekStart(FloorDiv(local[1], kMsPerDay), start_of_week.value());
      return Value::Int64((b - a) / 7);
    }
    default: {
      int64_t a = MonthPosOf(local[0]).months, b = MonthPosOf(local[1]).months;
      if (unit.value() == Unit::kMonth) return Value::Int64(b - a);
      if (unit.value() == Unit::kQuarter) return Value::Int64(FloorDiv(b, 3) - FloorDiv(a, 3));
      return Value::Int64(FloorDiv(b, 12) - FloorDiv(a, 12));
    }
  }
}

StatusWith<ExprPtr> ParseDateDiff(std::string_view op, const bson::Element& arg, const ExpressionParseContext& ctx) {
  NamedArgsSpec spec{{"startDate", "endDate", "unit", "timezone", "startOfWeek"},
                     {"startDate", "endDate", "unit"},
                     5166301,
                     "$dateDiff only supports an object as its argument",
                     5166302,
                     "Unrecognized argument to $dateDiff: ",
                     5166303,
                     "Missing '{}' parameter to $dateDiff",
                     true};
  auto args = ParseNamedArgs(arg, ctx, spec);
  if (!args.ok()) return args.status();
  return ExprPtr(new NamedExpression(op, DateDiff, std::move(args).value()));
}

StatusWith<Value> DateTrunc(std::string_view op, std::vector<Value>& args, const std::vector<bool>& given,
                            EvalContext&) {
  // args: date, unit, binSize, timezone, startOfWeek
  for (size_t i = 0; i < args.size(); ++i) {
    if (given[i] && args[i].nullish()) return Value::Null();
  }
  auto date = DateMillisOf(args[0]);
  if (!date.ok()) {
    return Status(5439012, std::string(op) + " requires 'date' to be a date, but got " + TypeNameOf(args[0]));
  }
  auto unit = ParseUnit(op, args[1]);
  if (!unit.ok()) return unit.status();
  int64_t bin = 1;
  if (given[2]) {
    std::optional<int64_t> b = args[2].IsNumber() ? args[2].element().ExactInt64() : std::nullopt;
    if (!b) {
      return Status(5439017, "$dateTrunc requires 'binSize' to be a 64-bit integer, but got value '" +
                                 args[2].ToString() + "' of type " + TypeNameOf(args[2]));
    }
    if (*b <= 0) {
      return Status(5439018, "$dateTrunc requires 'binSize' to be greater than 0, but got value " + std::to_string(*b));
    }
    bin = *b;
  }
  auto tz = ZoneArg(op, given[3] ? args[3] : Value());
  if (!tz.ok()) return tz.status();
  auto start_of_week = StartOfWeekArg(op, unit.value(), given[4], args[4]);
  if (!start_of_week.ok()) return start_of_week.status();
  if (!CalendarSafe(date.value())) return Status(5439000, "dateTrunc overflowed");
  const int64_t local = date.value() + tz.value().OffsetAt(date.value());
  // Bins are counted from 2000-01-01T00:00 local time (for weeks, from the first
  // startOfWeek on or after it), as MongoDB does.
  const int64_t ref_days = DaysFromCivil(2000, 1, 1);
  int64_t truncated;
  switch (unit.value()) {
    case Unit::kMonth:
    case Unit::kQuarter:
    case Unit::kYear: {
      const int64_t per = unit.value() == Unit::kMonth ? 1 : unit.value() == Unit::kQuarter ? 3 : 12;
      int64_t span;
      if (__builtin_mul_overflow(bin, per, &span)) return Status(5439006, "dateTrunc unsupported binSize value");
      const int64_t since = MonthPosOf(local).months - 2000 * 12;
      truncated = LocalFromMonths(2000 * 12 + FloorDiv(since, span) * span, 1, 0);
      break;
    }
    default: {
      int64_t ref = ref_days * kMsPerDay;
      if (unit.value() == Unit::kWeek) ref = (ref_days + (start_of_week.value() - DayOfWeek(ref_days) + 7) % 7) * kMsPerDay;
      int64_t span;
      if (__builtin_mul_overflow(bin, UnitMillis(unit.value()), &span)) {
        return Status(5439006, "dateTrunc unsupported binSize value");
      }
      truncated = ref + FloorDiv(local - ref, span) * span;
      break;
    }
  }
  if (unit.value() < Unit::kDay) {
    // Sub-day bins are measured in local time but stay exact durations: map back with the
    // offset of the original instant.
    return Value::Date(truncated - tz.value().OffsetAt(date.value()));
  }
  return Value::Date(tz.value().ToUtc(truncated));
}

StatusWith<ExprPtr> ParseDateTrunc(std::string_view op, const bson::Element& arg, const ExpressionParseContext& ctx) {
  NamedArgsSpec spec{{"date", "unit", "binSize", "timezone", "startOfWeek"},
                     {"date", "unit"},
                     5439007,
                     "$dateTrunc only supports an object as its argument",
                     5439008,
                     "Unrecognized argument to $dateTrunc: ",
                     5439009,
                     "Missing '{}' parameter to $dateTrunc",
                     true};
  auto args = ParseNamedArgs(arg, ctx, spec);
  if (!args.ok()) return args.status();
  return ExprPtr(new NamedExpression(op, DateTrunc, std::move(args).value()));
}

// args order of $dateFromParts.
enum Part { kYear, kMonth, kDay, kHour, kMinute, kSecond, kMillisecond, kIsoWeekYear, kIsoWeek, kIsoDayOfWeek, kTz };
constexpr std::string_view kPartNames[] = {"year",   "month",       "day",         "hour",    "minute",      "second",
                                           "millisecond", "isoWeekYear", "isoWeek", "isoDayOfWeek", "timezone"};

StatusWith<int64_t> PartValue(Part p, const Value& v, int64_t dflt, bool given) {
  if (!given) return dflt;
  std::string name(kPartNames[p]);
  std::optional<int64_t> x = v.IsNumber() ? v.element().ExactInt64() : std::nullopt;
  if (!x) {
    return Status(40515, "'" + name + "' must evaluate to an integer, found " + TypeNameOf(v) + " with value " +
                             v.ToString());
  }
  if (p == kYear || p == kIsoWeekYear) {
    if (*x < 1 || *x > 9999) {
      return Status(31095, "'" + name + "' must evaluate to an integer in the range 1 to 9999, found " +
                               std::to_string(*x));
    }
  } else if (*x < -32768 || *x > 32767) {
    return Status(31034, "'" + name + "' must evaluate to a value in the range [-32768, 32767]; value " +
                             std::to_string(*x) + " is not in range");
  }
  return *x;
}

StatusWith<Value> DateFromParts(std::string_view op, std::vector<Value>& args, const std::vector<bool>& given,
                                EvalContext&) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (given[i] && args[i].nullish()) return Value::Null();
  }
  int64_t v[kTz];
  const bool iso = given[kIsoWeekYear];
  for (int p = 0; p < kTz; ++p) {
    const int64_t dflt = (p == kMonth || p == kDay || p == kIsoWeek || p == kIsoDayOfWeek) ? 1 : 0;
    auto x = PartValue(static_cast<Part>(p), args[p], dflt, given[p]);
    if (!x.ok()) return x.status();
    v[p] = x.value();
  }
  auto tz = ZoneArg(op, given[kTz] ? args[kTz] : Value());
  if (!tz.ok()) return tz.status();
  int64_t days;
  if (iso) {
    const int64_t jan4 = DaysFromCivil(v[kIsoWeekYear], 1, 4);
    const int64_t iso_dow_jan4 = (DayOfWeek(jan4) + 6) % 7;  // 0 = Monday
    days = jan4 - iso_dow_jan4 + (v[kIsoWeek] - 1) * 7 + (v[kIsoDayOfWeek] - 1);
  } else {
    // Out-of-range months and days carry into the next unit, as MongoDB's do.
    const int64_t months = v[kYear] * 12 + (v[kMonth] - 1);
    const int64_t year = FloorDiv(months, 12);
    days = DaysFromCivil(year, static_cast<int>(months - year * 12) + 1, 1) + (v[kDay] - 1);
  }
  const int64_t local = days * kMsPerDay + v[kHour] * 3600000 + v[kMinute] * 60000 + v[kSecond] * 1000 +
                        v[kMillisecond];
  return Value::Date(tz.value().ToUtc(local));
}

StatusWith<ExprPtr> ParseDateFromParts(std::string_view op, const bson::Element& arg,
                                       const ExpressionParseContext& ctx) {
  NamedArgsSpec spec{std::vector<std::string_view>(std::begin(kPartNames), std::end(kPartNames)),
                     {},
                     40519,
                     "$dateFromParts only supports an object as its argument",
                     40518,
                     "Unrecognized argument to $dateFromParts: ",
                     0,
                     ""};
  auto args = ParseNamedArgs(arg, ctx, spec);
  if (!args.ok()) return args.status();
  const auto& a = args.value();
  const bool natural = a[kYear] || a[kMonth] || a[kDay];
  const bool iso = a[kIsoWeekYear] || a[kIsoWeek] || a[kIsoDayOfWeek];
  if (!a[kYear] && !a[kIsoWeekYear]) {
    return Status(40516, "$dateFromParts requires either 'year' or 'isoWeekYear' to be present");
  }
  if (a[kYear] && iso) return Status(40489, "$dateFromParts does not allow mixing natural dates with ISO dates");
  if (a[kIsoWeekYear] && natural) {
    return Status(40525, "$dateFromParts does not allow mixing ISO dates with natural dates");
  }
  return ExprPtr(new NamedExpression(op, DateFromParts, std::move(args).value()));
}

StatusWith<Value> DateToParts(std::string_view, std::vector<Value>& args, const std::vector<bool>& given,
                              EvalContext&) {
  // args: date, timezone, iso8601
  bool iso = false;
  if (given[2]) {
    if (args[2].nullish()) return Value::Null();
    if (args[2].type() != bson::Type::kBool) {
      return Status(40521, "iso8601 must evaluate to a bool, found " + TypeNameOf(args[2]));
    }
    iso = args[2].element().Bool();
  }
  if (given[1] && args[1].nullish()) return Value::Null();
  auto tz = ZoneArg("$dateToParts", given[1] ? args[1] : Value());
  if (!tz.ok()) return tz.status();
  if (args[0].nullish()) return Value::Null();
  auto date = DateMillisOf(args[0]);
  if (!date.ok()) return date.status();
  const int64_t local = date.value() + tz.value().OffsetAt(date.value());
  CivilTime c = ToCivil(local);
  bson::Builder b;
  if (iso) {
    const int64_t days = FloorDiv(local, kMsPerDay);
    const int64_t iso_dow = (DayOfWeek(days) + 6) % 7 + 1;  // 1 = Monday
    const int64_t thursday = days - iso_dow + 4;
    const int64_t iso_year = ToCivil(thursday * kMsPerDay).year;
    const int64_t week = (thursday - DaysFromCivil(iso_year, 1, 1)) / 7 + 1;
    b.AppendInt32("isoWeekYear", static_cast<int32_t>(iso_year));
    b.AppendInt32("isoWeek", static_cast<int32_t>(week));
    b.AppendInt32("isoDayOfWeek", static_cast<int32_t>(iso_dow));
  } else {
    b.AppendInt32("year", static_cast<int32_t>(c.year));
    b.AppendInt32("month", c.month);
    b.AppendInt32("day", c.day);
  }
  b.AppendInt32("hour", c.hour);
  b.AppendInt32("minute", c.minute);
  b.AppendInt32("second", c.second);
  b.AppendInt32("millisecond", c.millis);
  bson::Doc doc = b.Done();
  return Value::Document(doc.view());
}

StatusWith<ExprPtr> ParseDateToParts(std::string_view op, const bson::Element& arg,
                                     const ExpressionParseContext& ctx) {
  NamedArgsSpec spec{{"date", "timezone", "iso8601"},
                     {"date"},
                     40524,
                     "$dateToParts only supports an object as its argument",
                     40520,
                     "Unrecognized argument to $dateToParts: ",
                     40522,
                     "Missing 'date' parameter to $dateToParts"};
  auto args = ParseNamedArgs(arg, ctx, spec);
  if (!args.ok()) return args.status();
  return ExprPtr(new NamedExpression(op, DateToParts, std::move(args).value()));
}

}  // namespace

void AddDateArithmeticOperators(OperatorTable* t) {
  (*t)["$dateAdd"] = {ParseDateArith};
  (*t)["$dateSubtract"] = {ParseDateArith};
  (*t)["$dateDiff"] = {ParseDateDiff};
  (*t)["$dateTrunc"] = {ParseDateTrunc};
  (*t)["$dateFromParts"] = {ParseDateFromParts};
  (*t)["$dateToParts"] = {ParseDateToParts};
}

}  // namespace brook::query::expr
