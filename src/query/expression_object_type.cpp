// Object operators ($mergeObjects $getField $setField $unsetField) and type operators
// ($type $isNumber $convert $toInt $toLong $toDouble $toDecimal $toString $toBool
// $toObjectId $toDate). Conversion failures are code 241 ConversionFailure with
// MongoDB's wording; onError/onNull replace them when given.
#include <charconv>
#include <cmath>
#include <limits>

#include "query/expression_internal.h"
#include "query/expression_util.h"

namespace brook::query::expr {
namespace {

using bson::Type;

constexpr int kConversionFailure = static_cast<int>(ErrorCodes::kConversionFailure);

StatusWith<Value> MergeObjects(std::string_view, std::vector<Value>& args, EvalContext&) {
  std::vector<std::pair<std::string, Value>> fields;
  for (const Value& a : args) {
    if (a.nullish()) continue;
    if (!a.IsObject()) {
      return Status(40400, "$mergeObjects requires object inputs, but input " + a.ToString() +
                               " is of type " + TypeNameOf(a));
    }
    for (const bson::Element& e : a.element().Obj()) {
      bool replaced = false;
      for (auto& f : fields) {
        if (f.first == e.key()) {
          f.second = Value::FromElement(e);
          replaced = true;
          break;
        }
      }
      if (!replaced) fields.emplace_back(std::string(e.key()), Value::FromElement(e));
    }
  }
  bson::Builder b;
  b.OpenDocument("");
  for (const auto& [k, v] : fields) v.AppendTo(&b, k);
  b.Close();
  return Value::FromSingleFieldDoc(b.Done());
}

// $getField / $setField / $unsetField. `field` must be a constant string.
class FieldOpExpression : public Expression {
 public:
  FieldOpExpression(std::string_view op, std::string field, ExprPtr input, ExprPtr value)
      : op_(op), field_(std::move(field)), input_(std::move(input)), value_(std::move(value)) {}
  StatusWith<Value> Evaluate(EvalContext& ctx) const override {
    Value input;
    if (input_) {
      auto in = input_->Evaluate(ctx);
      if (!in.ok()) return in.status();
      input = std::move(in).value();
    } else {
      const Value* cur = ctx.Lookup("CURRENT");
      input = cur ? *cur : Value::Document(ctx.root());
    }
    if (op_ == "$getField") {
      if (input.missing()) return Value();
      if (input.nullish()) return Value::Null();
      if (!input.IsObject()) {
        return Status(3041705, "$getField requires 'input' to evaluate to type Object, but got " +
                                   TypeNameOf(input));
      }
      return Value::FromElement(input.element().Obj().Get(field_));
    }
    if (input.nullish()) return Value::Null();
    if (!input.IsObject()) {
      return Status(4161105, std::string(op_) + " requires 'input' to evaluate to type Object");
    }
    Value v;
    if (value_) {
      auto r = value_->Evaluate(ctx);
      if (!r.ok()) return r.status();
      v = std::move(r).value();
    }
    bson::Builder b;
    b.OpenDocument("");
    bool done = false;
    for (const bson::Element& e : input.element().Obj()) {
      if (e.key() == field_) {
        if (!done) v.AppendTo(&b, field_);
        done = true;
        continue;
      }
      b.Append(e);
    }
    if (!done) v.AppendTo(&b, field_);
    b.Close();
    return Value::FromSingleFieldDoc(b.Done());
  }

 private:
  std::string_view op_;
  std::string field_;
  ExprPtr input_;
  ExprPtr value_;
};

StatusWith<ExprPtr> ParseFieldOp(std::string_view op, const bson::Element& arg,
                                 const ExpressionParseContext& ctx) {
  bool get = op == "$getField";
  bool set = op == "$setField";
  std::string o(op);
  bson::Element field, input, value;
  if (get && !arg.IsObject()) {
    field = arg;
  } else {
    if (!arg.IsObject()) {
      return Status(set ? 4161100 : 4161101, o + " only supports an object as its argument");
    }
    for (const bson::Element& e : arg.Obj()) {
      if (e.key() == "field") field = e;
      else if (e.key() == "input") input = e;
      else if (set && e.key() == "value") value = e;
      else {
        return Status(get ? 3041701 : 4161101, o + " found an unknown argument: " + std::string(e.key()));
      }
    }
    if (field.missing()) return Status(get ? 3041702 : 4161102, o + " requires 'field' to be specified");
    if (!get && input.missing()) return Status(4161109, o + " requires 'input' to be specified");
    if (set && value.missing()) return Status(4161103, o + " requires 'value' to be specified");
  }
  std::string name;
  if (field.type() == Type::kString) {
    name = std::string(field.Str());
  } else if (field.IsObject() && field.Obj().CountFields() == 1 &&
             field.Obj().first().key() == "$literal" && field.Obj().first().type() == Type::kString) {
    name = std::string(field.Obj().first().Str());
  } else {
    return Status(get ? 5654602 : 4161106, o + " requires 'field' to evaluate to a constant, but "
                                               "got a non-constant argument");
  }
  if (!name.empty() && name[0] == '$' && field.type() == Type::kString) {
    return Status(get ? 5654601 : 4161108, "A string that starts with '$' used in " + o +
                                               " must be wrapped in $literal");
  }
  ExprPtr in, val;
  if (!input.missing()) {
    auto p = Expression::Parse(input, ctx);
    if (!p.ok()) return p.status();
    in = std::move(p).value();
  }
  if (!value.missing()) {
    auto p = Expression::Parse(value, ctx);
    if (!p.ok()) return p.status();
    val = std::move(p).value();
  }
  return ExprPtr(new FieldOpExpression(op, std::move(name), std::move(in), std::move(val)));
}

StatusWith<Value> TypeOf(std::string_view, std::vector<Value>& args, EvalContext&) {
  return Value::String(TypeNameOf(args[0]));
}

StatusWith<Value> IsNumber(std::string_view, std::vector<Value>& args, EvalContext&) {
  return Value::Bool(args[0].IsNumber());
}

// ---- $convert ----

Status Fail(const std::string& what) {
  return Status(kConversionFailure, what + " in $convert with no onError value");
}
Status Unsupported(const Value& in, Type to) {
  return Fail("Unsupported conversion from " + TypeNameOf(in) + " to " +
              std::string(bson::TypeName(to)));
}

StatusWith<Value> ParseNumberString(std::string_view s, Type to) {
  auto bad = [&](std::string_view why) {
    return Status(kConversionFailure, "Failed to parse number '" + std::string(s) +
                                          "' in $convert with no onError value: " +
                                          std::string(why));
  };
  if (s.empty()) return bad("No digits");
  if (to == Type::kInt32 || to == Type::kInt64) {
    int64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec == std::errc::result_out_of_range) return bad("Out of range");
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return bad("Did not consume whole string.");
    if (to == Type::kInt32) {
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
        return bad("Out of range");
      }
      return Value::Int32(static_cast<int32_t>(v));
    }
    return Value::Int64(v);
  }
  if (to == Type::kDecimal128) {
    bson::Decimal128 d;
    if (!bson::Decimal128::FromString(s, &d)) return bad("Failed to parse string to decimal");
    return Value::Decimal(d);
  }
  std::string str(s);
  if (str == "NaN" || str == "nan") return Value::Double(std::nan(""));
  if (str == "Infinity" || str == "inf") return Value::Double(std::numeric_limits<double>::infinity());
  if (str == "-Infinity" || str == "-inf") return Value::Double(-std::numeric_limits<double>::infinity());
  double d = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  if (r.ec == std::errc::result_out_of_range) return bad("Out of range");
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return bad("Did not consume whole string.");
  return Value::Double(d);
}

StatusWith<Value> ToIntegral(const Value& in, Type to) {
  bool to_int = to == Type::kInt32;
  int64_t lo = to_int ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int64_t>::min();
  int64_t hi = to_int ? std::numeric_limits<int32_t>::max() : std::numeric_limits<int64_t>::max();
  auto make = [&](int64_t v) { return to_int ? Value::Int32(static_cast<int32_t>(v)) : Value::Int64(v); };
  bson::Element e = in.element();
  switch (e.type()) {
    case Type::kInt32:
    case Type::kInt64: {
      int64_t v = e.NumberInt64();
      if (v < lo || v > hi) {
        return Status(kConversionFailure,
                      "Conversion would overflow target type in $convert with no onError value: " +
                          NumberToString(e));
      }
      return make(v);
    }
    case Type::kDouble:
    case Type::kDecimal128: {
      long double d = e.type() == Type::kDouble ? e.Double()
                                                : static_cast<long double>(ToDec(e.Decimal()));
      if (std::isnan(d)) {
        return Status(kConversionFailure, "Attempt to convert NaN value to integer type in "
                                          "$convert with no onError value");
      }
      long double t = std::trunc(d);
      if (std::isinf(d) || t < static_cast<long double>(lo) || t > static_cast<long double>(hi)) {
        return Status(kConversionFailure,
                      "Conversion would overflow target type in $convert with no onError value: " +
                          NumberToString(e));
      }
      return make(static_cast<int64_t>(t));
    }
    case Type::kBool: return make(e.Bool() ? 1 : 0);
    case Type::kString: return ParseNumberString(e.Str(), to);
    case Type::kDate:
      if (to_int) return Unsupported(in, to);
      return Value::Int64(e.DateMillis());
    default: return Unsupported(in, to);
  }
}

StatusWith<Value> ConvertTo(const Value& in, Type to) {
  bson::Element e = in.element();
  if (in.type() == to && to != Type::kDate) return in;
  switch (to) {
    case Type::kInt32:
    case Type::kInt64:
      return ToIntegral(in, to);
    case Type::kDouble:
      if (e.IsNumber()) return Value::Double(e.NumberDouble());
      if (e.type() == Type::kBool) return Value::Double(e.Bool() ? 1 : 0);
      if (e.type() == Type::kString) return ParseNumberString(e.Str(), to);
      if (e.type() == Type::kDate) return Value::Double(static_cast<double>(e.DateMillis()));
      return Unsupported(in, to);
    case Type::kDecimal128:
      if (e.type() == Type::kInt32 || e.type() == Type::kInt64) return Value::Decimal(bson::Decimal128::FromInt64(e.NumberInt64()));
      if (e.type() == Type::kDouble) return Value::Decimal(bson::Decimal128::FromDouble(e.Double()));
      if (e.type() == Type::kBool) return Value::Decimal(bson::Decimal128::FromInt64(e.Bool() ? 1 : 0));
      if (e.type() == Type::kString) return ParseNumberString(e.Str(), to);
      if (e.type() == Type::kDate) return Value::Decimal(bson::Decimal128::FromInt64(e.DateMillis()));
      return Unsupported(in, to);
    case Type::kBool:
      switch (e.type()) {
        case Type::kInt32:
        case Type::kInt64:
        case Type::kDouble:
        case Type::kDecimal128:
          return Value::Bool(e.Truthy());
        default:
          return Value::Bool(true);
      }
    case Type::kString:
      switch (e.type()) {
        case Type::kObjectId: return Value::String(e.Oid().ToHex());
        case Type::kBool: return Value::String(e.Bool() ? "true" : "false");
        case Type::kInt32:
        case Type::kInt64:
        case Type::kDouble:
        case Type::kDecimal128:
        case Type::kDate:
        case Type::kString:
        case Type::kSymbol: {
          auto s = CoerceToString(in);
          if (!s.ok()) return s.status();
          return Value::String(s.value());
        }
        default: return Unsupported(in, to);
      }
    case Type::kObjectId: {
      if (e.type() != Type::kString) return Unsupported(in, to);
      std::string_view s = e.Str();
      bson::ObjectId oid;
      if (s.size() != 24) {
        return Status(kConversionFailure, "Failed to parse objectId '" + std::string(s) +
                                              "' in $convert with no onError value: Invalid "
                                              "string length for parsing to OID, expected 24 but "
                                              "found " + std::to_string(s.size()));
      }
      if (!bson::ObjectId::FromHex(s, &oid)) {
        return Status(kConversionFailure, "Failed to parse objectId '" + std::string(s) +
                                              "' in $convert with no onError value: Invalid "
                                              "character found in hex string");
      }
      return Value::Oid(oid);
    }
    case Type::kDate:
      switch (e.type()) {
        case Type::kDate: return in;
        case Type::kInt64: return Value::Date(e.Int64());
        case Type::kDouble:
        case Type::kDecimal128: {
          long double d = e.type() == Type::kDouble ? e.Double()
                                                    : static_cast<long double>(ToDec(e.Decimal()));
          if (!std::isfinite(d) || d < -9.2e18L || d > 9.2e18L) {
            return Status(kConversionFailure, "Conversion would overflow target type in $convert "
                                              "with no onError value: " + NumberToString(e));
          }
          return Value::Date(static_cast<int64_t>(std::trunc(d)));
        }
        case Type::kTimestamp: return Value::Date(int64_t{e.Ts().secs} * 1000);
        case Type::kObjectId: {
          const auto& b = e.Oid().bytes;
          int64_t secs = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | b[3];
          return Value::Date(secs * 1000);
        }
        case Type::kString: {
          auto d = ParseDate(e.Str(), "", TimeZone());
          if (!d.ok()) {
            return Status(kConversionFailure, d.status().reason() + " in $convert with no onError value");
          }
          return Value::Date(d.value());
        }
        default: return Unsupported(in, to);
      }
    default:
      return Unsupported(in, to);
  }
}

StatusWith<Type> TargetType(const Value& to) {
  if (to.IsString()) {
    std::string_view s = to.element().Str();
    static const std::pair<std::string_view, Type> kNames[] = {
        {"double", Type::kDouble}, {"string", Type::kString}, {"objectId", Type::kObjectId},
        {"bool", Type::kBool},     {"date", Type::kDate},     {"int", Type::kInt32},
        {"long", Type::kInt64},    {"decimal", Type::kDecimal128}, {"null", Type::kNull},
        {"object", Type::kObject}, {"array", Type::kArray},   {"binData", Type::kBinary},
        {"regex", Type::kRegex},   {"timestamp", Type::kTimestamp}};
    for (const auto& [name, t] : kNames) {
      if (name == s) return t;
    }
    return Status(ErrorCodes::kBadValue, "Unknown type name: " + std::string(s));
  }
  if (to.IsNumber()) {
    auto n = to.element().ExactInt64();
    if (n) {
      int64_t c = *n;
      if ((c >= 1 && c <= 19) || c == -1 || c == 127) return static_cast<Type>(c);
    }
    return Status(ErrorCodes::kBadValue, "In $convert, numeric 'to' argument is not an integer");
  }
  return Status(ErrorCodes::kFailedToParse,
                "$convert's 'to' argument must be a string or number, but is " + TypeNameOf(to));
}

StatusWith<Value> Convert(std::string_view, std::vector<Value>& args, const std::vector<bool>& given,
                          EvalContext&) {
  const Value& in = args[0];
  if (args[1].nullish()) return Value::Null();
  auto to = TargetType(args[1]);
  if (!to.ok()) return to.status();
  if (in.nullish()) return given[3] ? args[3] : Value::Null();
  auto r = ConvertTo(in, to.value());
  if (!r.ok() && given[2] && r.status().code() == kConversionFailure) return args[2];
  return r;
}

StatusWith<ExprPtr> ParseConvert(std::string_view op, const bson::Element& arg,
                                 const ExpressionParseContext& ctx) {
  NamedArgsSpec spec{{"input", "to", "onError", "onNull"},
                     {"input", "to"},
                     9,
                     "$convert expects an object of named arguments but found: ",
                     9,
                     "$convert found an unknown argument: ",
                     9,
                     "Missing '{}' parameter to $convert"};
  auto args = ParseNamedArgs(arg, ctx, spec);
  if (!args.ok()) return args.status();
  return ExprPtr(new NamedExpression(op, Convert, std::move(args).value()));
}

template <Type kTo>
StatusWith<Value> ToType(std::string_view, std::vector<Value>& args, EvalContext&) {
  if (args[0].nullish()) return Value::Null();
  return ConvertTo(args[0], kTo);
}

}  // namespace

void AddObjectTypeOperators(OperatorTable* t) {
  (*t)["$mergeObjects"] = {nullptr, MergeObjects, 0, -1};
  (*t)["$getField"] = {ParseFieldOp};
  (*t)["$setField"] = {ParseFieldOp};
  (*t)["$unsetField"] = {ParseFieldOp};
  (*t)["$type"] = {nullptr, TypeOf, 1, 1};
  (*t)["$isNumber"] = {nullptr, IsNumber, 1, 1};
  (*t)["$convert"] = {ParseConvert};
  (*t)["$toInt"] = {nullptr, ToType<Type::kInt32>, 1, 1};
  (*t)["$toLong"] = {nullptr, ToType<Type::kInt64>, 1, 1};
  (*t)["$toDouble"] = {nullptr, ToType<Type::kDouble>, 1, 1};
  (*t)["$toDecimal"] = {nullptr, ToType<Type::kDecimal128>, 1, 1};
  (*t)["$toString"] = {nullptr, ToType<Type::kString>, 1, 1};
  (*t)["$toBool"] = {nullptr, ToType<Type::kBool>, 1, 1};
  (*t)["$toObjectId"] = {nullptr, ToType<Type::kObjectId>, 1, 1};
  (*t)["$toDate"] = {nullptr, ToType<Type::kDate>, 1, 1};
}

}  // namespace brook::query::expr
