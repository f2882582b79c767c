// Arithmetic operators: $add $subtract $multiply $divide $mod $abs $ceil $floor $round
// $trunc $sqrt $pow $exp $ln $log $log10, with MongoDB's result typing: int op int is
// int unless it overflows (then long); long overflow goes to double; any double makes a
// double; any decimal makes a decimal.
#include <cfenv>
#include <cmath>
#include <limits>

#include "query/expression_internal.h"

namespace brook::query::expr {
namespace {

using bson::Type;

enum class Kind { kInt, kLong, kDouble, kDecimal };

Kind KindOf(const Value& v) {
  switch (v.type()) {
    case Type::kInt32: return Kind::kInt;
    case Type::kInt64: return Kind::kLong;
    case Type::kDouble: return Kind::kDouble;
    default: return Kind::kDecimal;
  }
}

Kind Wider(Kind a, Kind b) { return a > b ? a : b; }

Value FromDecResult(Dec128 d) { return Value::Decimal(FromDec(d)); }

double Num(const Value& v) { return v.element().NumberDouble(); }
int64_t Int(const Value& v) { return v.element().NumberInt64(); }
Dec128 DecOf(const Value& v) { return ElementToDec(v.element()); }

StatusWith<Value> Add(std::string_view, std::vector<Value>& args, EvalContext&) {
  Value total = Value::Int32(0);
  bool have_date = false;
  for (const Value& a : args) {
    if (a.nullish()) return Value::Null();
    if (a.type() == Type::kDate) {
      if (have_date) return Status(16612, "only one date allowed in an $add expression");
      have_date = true;
      continue;
    }
    if (!a.IsNumber()) {
      return Status(16554, "$add only supports numeric or date types, not " + TypeNameOf(a));
    }
    total = ArithNumbers(ArithOp::kAdd, total, a);
  }
  if (!have_date) return total;
  int64_t millis = 0;
  for (const Value& a : args) {
    if (a.type() == Type::kDate) millis = a.element().DateMillis();
  }
  double delta = total.type() == Type::kDouble || total.type() == Type::kDecimal128
                     ? std::llround(Num(total))
                     : static_cast<double>(Int(total));
  return Value::Date(millis + static_cast<int64_t>(delta));
}

StatusWith<Value> Subtract(std::string_view, std::vector<Value>& args, EvalContext&) {
  const Value& l = args[0];
  const Value& r = args[1];
  if (l.nullish() || r.nullish()) return Value::Null();
  if (l.IsNumber() && r.IsNumber()) return ArithNumbers(ArithOp::kSub, l, r);
  if (l.type() == Type::kDate) {
    if (r.type() == Type::kDate) {
      return Value::Int64(l.element().DateMillis() - r.element().DateMillis());
    }
    if (r.IsNumber()) {
      int64_t delta = KindOf(r) >= Kind::kDouble ? std::llround(Num(r)) : Int(r);
      return Value::Date(l.element().DateMillis() - delta);
    }
  }
  return Status(16556, "can't $subtract " + TypeNameOf(r) + " from " + TypeNameOf(l));
}

StatusWith<Value> Multiply(std::string_view, std::vector<Value>& args, EvalContext&) {
  Value total = Value::Int32(1);
  for (const Value& a : args) {
    if (a.nullish()) return Value::Null();
    if (!a.IsNumber()) {
      return Status(16555, "$multiply only supports numeric types, not " + TypeNameOf(a));
    }
    total = ArithNumbers(ArithOp::kMul, total, a);
  }
  return total;
}

StatusWith<Value> Divide(std::string_view, std::vector<Value>& args, EvalContext&) {
  const Value& l = args[0];
  const Value& r = args[1];
  if (l.nullish() || r.nullish()) return Value::Null();
  if (!l.IsNumber() || !r.IsNumber()) {
    return Status(16609, "$divide only supports numeric types, not " + TypeNameOf(l) + " and " +
                             TypeNameOf(r));
  }
  if (Wider(KindOf(l), KindOf(r)) == Kind::kDecimal) {
    Dec128 d = DecOf(r);
    if (d == 0) return Status(ErrorCodes::kBadValue, "can't $divide by zero");
    return FromDecResult(DecOf(l) / d);
  }
  double d = Num(r);
  if (d == 0) return Status(ErrorCodes::kBadValue, "can't $divide by zero");
  return Value::Double(Num(l) / d);
}

StatusWith<Value> Mod(std::string_view, std::vector<Value>& args, EvalContext&) {
  const Value& l = args[0];
  const Value& r = args[1];
  if (l.nullish() || r.nullish()) return Value::Null();
  if (!l.IsNumber() || !r.IsNumber()) {
    return Status(16611, "$mod only supports numeric types, not " + TypeNameOf(l) + " and " +
                             TypeNameOf(r));
  }
  Kind k = Wider(KindOf(l), KindOf(r));
  if (k == Kind::kDecimal) {
    Dec128 b = DecOf(r);
    if (b == 0) return Status(16610, "can't $mod by zero");
    long double x = static_cast<long double>(DecOf(l));
    long double y = static_cast<long double>(b);
    return FromDecResult(static_cast<Dec128>(std::fmod(x, y)));
  }
  if (k == Kind::kDouble) {
    if (Num(r) == 0) return Status(16610, "can't $mod by zero");
    return Value::Double(std::fmod(Num(l), Num(r)));
  }
  int64_t b = Int(r);
  if (b == 0) return Status(16610, "can't $mod by zero");
  int64_t a = Int(l);
  int64_t m = b == -1 ? 0 : a % b;
  return IntegralResult(m, k == Kind::kLong);
}

StatusWith<Value> Abs(std::string_view op, std::vector<Value>& args, EvalContext&) {
  const Value& v = args[0];
  if (v.nullish()) return Value::Null();
  if (!v.IsNumber()) {
    return Status(28765, std::string(op) + " only supports numeric types, not " + TypeNameOf(v));
  }
  switch (KindOf(v)) {
    case Kind::kInt: {
      int64_t x = Int(v);
      return IntegralResult(x < 0 ? -x : x, false);
    }
    case Kind::kLong: {
      int64_t x = Int(v);
      if (x == std::numeric_limits<int64_t>::min()) {
        return Status(28680, "can't take $abs of long long min");
      }
      return Value::Int64(x < 0 ? -x : x);
    }
    case Kind::kDouble: return Value::Double(std::fabs(Num(v)));
    case Kind::kDecimal: {
      Dec128 d = DecOf(v);
      return FromDecResult(d < 0 ? -d : d);
    }
  }
  return Value();
}

// Rounds `x` to `place` decimal digits with `mode` (FE_TONEAREST is half-to-even).
long double RoundTo(long double x, int place, bool truncate) {
  long double scale = std::pow(10.0L, place);
  long double y = x * scale;
  if (truncate) {
    y = std::trunc(y);
  } else {
    int old = std::fegetround();
    std::fesetround(FE_TONEAREST);
    y = std::nearbyint(y);
    std::fesetround(old);
  }
  return y / scale;
}

StatusWith<Value> CeilFloor(std::string_view op, std::vector<Value>& args, EvalContext&) {
  const Value& v = args[0];
  if (v.nullish()) return Value::Null();
  if (!v.IsNumber()) {
    return Status(28765, std::string(op) + " only supports numeric types, not " + TypeNameOf(v));
  }
  bool ceil = op == "$ceil";
  switch (KindOf(v)) {
    case Kind::kInt:
    case Kind::kLong: return v;
    case Kind::kDouble: return Value::Double(ceil ? std::ceil(Num(v)) : std::floor(Num(v)));
    case Kind::kDecimal: {
      Dec128 d = DecOf(v);
      long double x = static_cast<long double>(d);
      if (std::fabs(x) >= 1e18L) return v;
      return FromDecResult(static_cast<Dec128>(ceil ? std::ceil(x) : std::floor(x)));
    }
  }
  return Value();
}

StatusWith<Value> RoundTrunc(std::string_view op, std::vector<Value>& args, EvalContext&) {
  const Value& v = args[0];
  bool truncate = op == "$trunc";
  int32_t place = 0;
  if (args.size() == 2) {
    const Value& p = args[1];
    if (p.nullish()) return Value::Null();
    if (!p.IsNumber() || !ExactInt32(p, &place) || place < -20 || place > 100) {
      return Status(truncate ? 51083 : 51083,
                    "cannot apply " + std::string(op) + " with precision value " + p.ToString() +
                        " value must be in [-20, 100]");
    }
  }
  if (v.nullish()) return Value::Null();
  if (!v.IsNumber()) {
    return Status(51081, std::string(op) + " only supports numeric types, not " + TypeNameOf(v));
  }
  switch (KindOf(v)) {
    case Kind::kInt:
    case Kind::kLong: {
      if (place >= 0) return v;
      int64_t x = Int(v);
      if (place <= -19) return IntegralResult(0, KindOf(v) == Kind::kLong);
      int64_t p = 1;
      for (int i = 0; i < -place; ++i) p *= 10;
      int64_t q = x / p;
      int64_t rem = x % p;
      if (!truncate) {
        // Half to even, on magnitudes.
        int64_t twice = (rem < 0 ? -rem : rem) * 2;
        if (twice > p || (twice == p && q % 2 != 0)) q += x < 0 ? -1 : 1;
      }
      int64_t r = 0;
      if (__builtin_mul_overflow(q, p, &r)) {
        return Value::Double(static_cast<double>(q) * static_cast<double>(p));
      }
      return IntegralResult(r, KindOf(v) == Kind::kLong);
    }
    case Kind::kDouble: {
      double x = Num(v);
      if (!std::isfinite(x)) return v;
      return Value::Double(static_cast<double>(RoundTo(x, place, truncate)));
    }
    case Kind::kDecimal: {
      long double x = static_cast<long double>(DecOf(v));
      if (!std::isfinite(x)) return v;
      return FromDecResult(static_cast<Dec128>(RoundTo(x, place, truncate)));
    }
  }
  return Value();
}

// $sqrt $exp $ln $log10: double math (decimal in, decimal out).
StatusWith<Value> UnaryMath(std::string_view op, std::vector<Value>& args, EvalContext&) {
  const Value& v = args[0];
  if (v.nullish()) return Value::Null();
  if (!v.IsNumber()) {
    return Status(28765, std::string(op) + " only supports numeric types, not " + TypeNameOf(v));
  }
  bool dec = KindOf(v) == Kind::kDecimal;
  long double x = dec ? static_cast<long double>(DecOf(v)) : Num(v);
  long double r = 0;
  if (op == "$sqrt") {
    if (x < 0) return Status(28714, "$sqrt's argument must be greater than or equal to 0");
    r = std::sqrt(x);
  } else if (op == "$exp") {
    r = std::exp(x);
  } else if (op == "$ln") {
    if (!(x > 0)) return Status(28766, "$ln's argument must be a positive number, but is " + v.ToString());
    r = std::log(x);
  } else {
    if (!(x > 0)) {
      return Status(28761, "$log10's argument must be a positive number, but is " + v.ToString());
    }
    r = std::log10(x);
  }
  if (dec) return FromDecResult(static_cast<Dec128>(r));
  return Value::Double(static_cast<double>(r));
}

StatusWith<Value> Log(std::string_view, std::vector<Value>& args, EvalContext&) {
  const Value& v = args[0];
  const Value& b = args[1];
  if (v.nullish() || b.nullish()) return Value::Null();
  if (!v.IsNumber()) return Status(28756, "$log's argument must be numeric, not " + TypeNameOf(v));
  if (!b.IsNumber()) return Status(28757, "$log's base must be numeric, not " + TypeNameOf(b));
  bool dec = KindOf(v) == Kind::kDecimal || KindOf(b) == Kind::kDecimal;
  long double x = dec ? static_cast<long double>(DecOf(v)) : Num(v);
  long double base = dec ? static_cast<long double>(DecOf(b)) : Num(b);
  if (!(x > 0)) return Status(28758, "$log's argument must be a positive number, but is " + v.ToString());
  if (!(base > 0) || base == 1) {
    return Status(28759, "$log's base must be a positive number not equal to 1, but is " + b.ToString());
  }
  long double r = std::log(x) / std::log(base);
  if (dec) return FromDecResult(static_cast<Dec128>(r));
  return Value::Double(static_cast<double>(r));
}

StatusWith<Value> Pow(std::string_view, std::vector<Value>& args, EvalContext&) {
  const Value& b = args[0];
  const Value& e = args[1];
  if (b.nullish() || e.nullish()) return Value::Null();
  if (!b.IsNumber()) return Status(28762, "$pow's base must be numeric, not " + TypeNameOf(b));
  if (!e.IsNumber()) return Status(28763, "$pow's exponent must be numeric, not " + TypeNameOf(e));
  Kind k = Wider(KindOf(b), KindOf(e));
  if (Num(b) == 0 && Num(e) < 0) {
    return Status(28764, "$pow cannot take a base of 0 and a negative exponent");
  }
  if (k == Kind::kDecimal) {
    long double r = std::pow(static_cast<long double>(DecOf(b)), static_cast<long double>(DecOf(e)));
    return FromDecResult(static_cast<Dec128>(r));
  }
  if (k == Kind::kDouble) return Value::Double(std::pow(Num(b), Num(e)));
  int64_t base = Int(b);
  int64_t exp = Int(e);
  bool want_long = k == Kind::kLong;
  if (exp < 0) {
    if (base == 1) return IntegralResult(1, want_long);
    if (base == -1) return IntegralResult(exp % 2 == 0 ? 1 : -1, want_long);
    return Value::Double(std::pow(static_cast<double>(base), static_cast<double>(exp)));
  }
  int64_t result = 1;
  bool overflow = false;
  for (int64_t i = 0; i < exp && !overflow; ++i) {
    overflow = __builtin_mul_overflow(result, base, &result);
    if (result == 0 || result == 1) break;
    if (result == -1 && base == -1) {
      result = (exp % 2 == 0) ? 1 : -1;
      break;
    }
  }
  if (overflow) return Value::Double(std::pow(static_cast<double>(base), static_cast<double>(exp)));
  return IntegralResult(result, want_long);
}

}  // namespace

Dec128 ElementToDec(const bson::Element& e) {
  switch (e.type()) {
    case Type::kInt32: return static_cast<Dec128>(e.Int32());
    case Type::kInt64: return static_cast<Dec128>(e.Int64());
    case Type::kDouble: return ToDec(bson::Decimal128::FromDouble(e.Double()));
    case Type::kDecimal128: return ToDec(e.Decimal());
    default: return 0;
  }
}

bool ExactInt32(const Value& v, int32_t* out) {
  if (!v.IsNumber()) return false;
  auto x = v.element().ExactInt64();
  if (!x || *x < std::numeric_limits<int32_t>::min() || *x > std::numeric_limits<int32_t>::max()) {
    return false;
  }
  *out = static_cast<int32_t>(*x);
  return true;
}

Value IntegralResult(int64_t v, bool force_long) {
  if (!force_long && v >= std::numeric_limits<int32_t>::min() &&
      v <= std::numeric_limits<int32_t>::max()) {
    return Value::Int32(static_cast<int32_t>(v));
  }
  return Value::Int64(v);
}

Value ArithNumbers(ArithOp op, const Value& a, const Value& b) {
  Kind k = Wider(KindOf(a), KindOf(b));
  if (k == Kind::kDecimal) {
    Dec128 x = DecOf(a);
    Dec128 y = DecOf(b);
    Dec128 r = op == ArithOp::kAdd ? x + y : op == ArithOp::kSub ? x - y : x * y;
    return FromDecResult(r);
  }
  auto as_double = [&] {
    double x = Num(a);
    double y = Num(b);
    return Value::Double(op == ArithOp::kAdd ? x + y : op == ArithOp::kSub ? x - y : x * y);
  };
  if (k == Kind::kDouble) return as_double();
  int64_t x = Int(a);
  int64_t y = Int(b);
  int64_t r = 0;
  bool overflow = op == ArithOp::kAdd   ? __builtin_add_overflow(x, y, &r)
                  : op == ArithOp::kSub ? __builtin_sub_overflow(x, y, &r)
                                        : __builtin_mul_overflow(x, y, &r);
  if (overflow) return as_double();
  return IntegralResult(r, k == Kind::kLong);
}

void AddArithmeticOperators(OperatorTable* t) {
  (*t)["$add"] = {nullptr, Add, 0, -1};
  (*t)["$subtract"] = {nullptr, Subtract, 2, 2};
  (*t)["$multiply"] = {nullptr, Multiply, 0, -1};
  (*t)["$divide"] = {nullptr, Divide, 2, 2};
  (*t)["$mod"] = {nullptr, Mod, 2, 2};
  (*t)["$abs"] = {nullptr, Abs, 1, 1};
  (*t)["$ceil"] = {nullptr, CeilFloor, 1, 1};
  (*t)["$floor"] = {nullptr, CeilFloor, 1, 1};
  (*t)["$round"] = {nullptr, RoundTrunc, 1, 2};
  (*t)["$trunc"] = {nullptr, RoundTrunc, 1, 2};
  (*t)["$sqrt"] = {nullptr, UnaryMath, 1, 1};
  (*t)["$exp"] = {nullptr, UnaryMath, 1, 1};
  (*t)["$ln"] = {nullptr, UnaryMath, 1, 1};
  (*t)["$log10"] = {nullptr, UnaryMath, 1, 1};
  (*t)["$log"] = {nullptr, Log, 2, 2};
  (*t)["$pow"] = {nullptr, Pow, 2, 2};
}

}  // namespace brook::query::expr
