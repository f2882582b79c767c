// Date operators: $year $month $dayOfMonth $hour $minute $second $millisecond
// $dayOfWeek $dayOfYear $week $isoWeek $isoWeekYear $isoDayOfWeek (with an optional
// {date, timezone} form), $dateToString, $dateFromString. Time zones: UTC, fixed
// offsets and Olson names (query/timezone.h).
#include "query/expression_internal.h"
#include "query/expression_util.h"

namespace brook::query::expr {
namespace {

using bson::Type;

}  // namespace

StatusWith<int64_t> DateMillisOf(const Value& v) {
  bson::Element e = v.element();
  switch (e.type()) {
    case Type::kDate: return e.DateMillis();
    case Type::kTimestamp: return int64_t{e.Ts().secs} * 1000;
    case Type::kObjectId: {
      const auto& b = e.Oid().bytes;
      int64_t secs = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | b[3];
      return secs * 1000;
    }
    default:
      return Status(16006, "can't convert from BSON type " + TypeNameOf(v) + " to Date");
  }
}

StatusWith<TimeZone> TimeZoneOf(const Value& tz) {
  if (tz.missing()) return TimeZone();
  if (!tz.IsString()) {
    return Status(40517, "timezone must evaluate to a string, found " + TypeNameOf(tz));
  }
  return TimeZone::Parse(tz.element().Str());
}

namespace {

StatusWith<Value> Extract(std::string_view op, std::vector<Value>& args, const std::vector<bool>&,
                          EvalContext&) {
  const Value& date = args[0];
  if (date.nullish()) return Value::Null();
  if (args.size() > 1 && !args[1].missing() && args[1].nullish()) return Value::Null();
  auto millis = DateMillisOf(date);
  if (!millis.ok()) return millis.status();
  auto tz = TimeZoneOf(args.size() > 1 ? args[1] : Value());
  if (!tz.ok()) return tz.status();
  const int64_t offset = tz.value().OffsetAt(millis.value());
  int64_t local = millis.value() + offset;
  CivilTime c = ToCivil(local);
  if (op == "$year") return Value::Int32(static_cast<int32_t>(c.year));
  if (op == "$month") return Value::Int32(c.month);
  if (op == "$dayOfMonth") return Value::Int32(c.day);
  if (op == "$hour") return Value::Int32(c.hour);
  if (op == "$minute") return Value::Int32(c.minute);
  if (op == "$second") return Value::Int32(c.second);
  if (op == "$millisecond") return Value::Int32(c.millis);
  if (op == "$dayOfWeek") return Value::Int32(c.day_of_week);
  if (op == "$dayOfYear") return Value::Int32(c.day_of_year);
  if (op == "$isoDayOfWeek") return Value::Int32(c.day_of_week == 1 ? 7 : c.day_of_week - 1);
  auto formatted = FormatDate(millis.value(), op == "$week" ? "%U" : op == "$isoWeek" ? "%V" : "%G",
                              offset);
  if (!formatted.ok()) return formatted.status();
  return Value::Int32(std::stoi(formatted.value()));
}

StatusWith<Value> ExtractNary(std::string_view op, std::vector<Value>& args, EvalContext& ctx) {
  std::vector<bool> given(args.size(), true);
  return Extract(op, args, given, ctx);
}

StatusWith<ExprPtr> ParseExtract(std::string_view op, const bson::Element& arg,
                                 const ExpressionParseContext& ctx) {
  std::string o(op);
  if (arg.IsObject() && !arg.Obj().empty() && arg.Obj().first().key()[0] != '$') {
    NamedArgsSpec spec{{"date", "timezone"}, {"date"}, 40024, "", 40535,
                       "unrecognized option to " + o + ": ", 40539,
                       "missing 'date' argument to " + o + ", provided: " + arg.Obj().ToString()};
    auto args = ParseNamedArgs(arg, ctx, spec);
    if (!args.ok()) {
      if (args.status().code() == 40535) {
        return Status(40535, args.status().reason() + "\"");
      }
      return args.status();
    }
    return ExprPtr(new NamedExpression(op, Extract, std::move(args).value()));
  }
  auto operands = ParseOperands(arg, ctx);
  if (!operands.ok()) return operands.status();
  BROOK_RETURN_IF_ERROR(CheckArity(op, operands.value().size(), 1, 1));
  return ExprPtr(new NaryExpression(op, ExtractNary, std::move(operands).value()));
}

StatusWith<Value> DateToString(std::string_view, std::vector<Value>& args,
                               const std::vector<bool>& given, EvalContext&) {
  // args: date, format, timezone, onNull
  std::string format(kIsoFormat);
  if (given[1]) {
    if (args[1].nullish()) return Value::Null();
    if (!args[1].IsString()) {
      return Status(18533, "$dateToString requires that 'format' be a string, found: " +
                               TypeNameOf(args[1]) + " with value " + args[1].ToString());
    }
    format = std::string(args[1].element().Str());
  }
  TimeZone tz;
  if (given[2]) {
    if (args[2].nullish()) return Value::Null();
    auto parsed = TimeZoneOf(args[2]);
    if (!parsed.ok()) return parsed.status();
    tz = parsed.value();
    if (!given[1] && !tz.IsUtc()) format = "%Y-%m-%dT%H:%M:%S.%L";
  }
  if (args[0].nullish()) return given[3] ? args[3] : Value::Null();
  auto millis = DateMillisOf(args[0]);
  if (!millis.ok()) return millis.status();
  auto s = FormatDate(millis.value(), format, tz.OffsetAt(millis.value()));
  if (!s.ok()) return s.status();
  return Value::String(s.value());
}

StatusWith<ExprPtr> ParseDateToString(std::string_view op, const bson::Element& arg,
                                      const ExpressionParseContext& ctx) {
  NamedArgsSpec spec{{"date", "format", "timezone", "onNull"},
                     {"date"},
                     18629,
                     "$dateToString only supports an object as its argument",
                     18534,
                     "Unrecognized argument to $dateToString: ",
                     18628,
                     "Missing 'date' parameter to $dateToString"};
  auto args = ParseNamedArgs(arg, ctx, spec);
  if (!args.ok()) return args.status();
  return ExprPtr(new NamedExpression(op, DateToString, std::move(args).value()));
}

StatusWith<Value> DateFromString(std::string_view, std::vector<Value>& args,
                                 const std::vector<bool>& given, EvalContext&) {
  // args: dateString, format, timezone, onError, onNull
  std::string format;
  if (given[1] && !args[1].nullish()) {
    if (!args[1].IsString()) {
      return Status(40684, "$dateFromString requires that 'format' be a string, found: " +
                               TypeNameOf(args[1]) + " with value " + args[1].ToString());
    }
    format = std::string(args[1].element().Str());
  }
  TimeZone tz;
  if (given[2]) {
    if (args[2].nullish()) return Value::Null();
    auto parsed = TimeZoneOf(args[2]);
    if (!parsed.ok()) return parsed.status();
    tz = parsed.value();
  }
  const Value& in = args[0];
  if (in.nullish()) return given[4] ? args[4] : Value::Null();
  if (!in.IsString()) {
    if (given[3]) return args[3];
    return Status(ErrorCodes::kConversionFailure, "$dateFromString requires that 'dateString' be a string, found: " +
                           TypeNameOf(in) + " with value " + in.ToString());
  }
  auto d = ParseDate(in.element().Str(), format, tz);
  if (!d.ok()) {
    if (given[3]) return args[3];
    return d.status();
  }
  return Value::Date(d.value());
}

StatusWith<ExprPtr> ParseDateFromString(std::string_view op, const bson::Element& arg,
                                        const ExpressionParseContext& ctx) {
  NamedArgsSpec spec{{"dateString", "format", "timezone", "onError", "onNull"},
                     {"dateString"},
                     40540,
                     "$dateFromString only supports an object as an argument, found: ",
                     40541,
                     "Unrecognized argument to $dateFromString: ",
                     40542,
                     "Missing 'dateString' parameter to $dateFromString"};
  auto args = ParseNamedArgs(arg, ctx, spec);
  if (!args.ok()) return args.status();
  return ExprPtr(new NamedExpression(op, DateFromString, std::move(args).value()));
}

}  // namespace

void AddDateOperators(OperatorTable* t) {
  for (std::string_view op : {"$year", "$month", "$dayOfMonth", "$hour", "$minute", "$second",
                              "$millisecond", "$dayOfWeek", "$dayOfYear", "$week", "$isoWeek",
                              "$isoWeekYear", "$isoDayOfWeek"}) {
    (*t)[op] = {ParseExtract};
  }
  (*t)["$dateToString"] = {ParseDateToString};
  (*t)["$dateFromString"] = {ParseDateFromString};
}

}  // namespace brook::query::expr
