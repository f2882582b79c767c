// Array operators: $arrayElemAt $first $last $concatArrays $filter $map $reduce $in
// $indexOfArray $isArray $range $reverseArray $size $slice $zip $arrayToObject
// $objectToArray, the set operators, $anyElementTrue $allElementsTrue, $sortArray.
#include <algorithm>
#include <limits>

#include "query/expression_internal.h"

namespace brook::query::expr {
namespace {

using bson::Type;

std::vector<Value> Items(const Value& v) { return v.ArrayItems(); }

StatusWith<Value> ArrayElemAt(std::string_view, std::vector<Value>& args, EvalContext&) {
  const Value& arr = args[0];
  const Value& idx = args[1];
  if (arr.nullish() || idx.nullish()) return Value::Null();
  if (!arr.IsArray()) {
    return Status(28689, "$arrayElemAt's first argument must be an array, but is " + TypeNameOf(arr));
  }
  if (!idx.IsNumber()) {
    return Status(28690, "$arrayElemAt's second argument must be a numeric value, but is " +
                             TypeNameOf(idx));
  }
  int32_t i = 0;
  if (!ExactInt32(idx, &i)) {
    return Status(28691, "$arrayElemAt's second argument must be representable as a 32-bit "
                         "integer: " + idx.ToString());
  }
  auto items = Items(arr);
  int64_t n = static_cast<int64_t>(items.size());
  int64_t pos = i < 0 ? n + i : i;
  if (pos < 0 || pos >= n) return Value();
  return items[static_cast<size_t>(pos)];
}

StatusWith<Value> FirstLast(std::string_view op, std::vector<Value>& args, EvalContext&) {
  const Value& arr = args[0];
  if (arr.nullish()) return Value::Null();
  if (!arr.IsArray()) {
    return Status(28689, std::string(op) + "'s argument must be an array, but is " + TypeNameOf(arr));
  }
  auto items = Items(arr);
  if (items.empty()) return Value();
  return op == "$first" ? items.front() : items.back();
}

StatusWith<Value> ConcatArrays(std::string_view, std::vector<Value>& args, EvalContext&) {
  std::vector<Value> out;
  for (const Value& a : args) {
    if (a.nullish()) return Value::Null();
    if (!a.IsArray()) {
      return Status(28664, "$concatArrays only supports arrays, not " + TypeNameOf(a));
    }
    for (auto& v : Items(a)) out.push_back(std::move(v));
  }
  return Value::ArrayOf(out);
}

// $map and $filter: iterate `input`, binding `as` (default "this").
class MapFilterExpression : public Expression {
 public:
  MapFilterExpression(bool is_map, ExprPtr input, std::string as, ExprPtr body, ExprPtr limit)
      : is_map_(is_map), input_(std::move(input)), as_(std::move(as)), body_(std::move(body)),
        limit_(std::move(limit)) {}
  StatusWith<Value> Evaluate(EvalContext& ctx) const override {
    auto in = input_->Evaluate(ctx);
    if (!in.ok()) return in.status();
    const Value& arr = in.value();
    if (arr.nullish()) return Value::Null();
    if (!arr.IsArray()) {
      return Status(is_map_ ? 16883 : 28651, std::string("input to ") + (is_map_ ? "$map" : "$filter") +
                                                 " must be an array not " + TypeNameOf(arr));
    }
    int64_t limit = std::numeric_limits<int64_t>::max();
    if (limit_) {
      auto l = limit_->Evaluate(ctx);
      if (!l.ok()) return l.status();
      if (!l.value().nullish()) {
        int32_t x = 0;
        if (!ExactInt32(l.value(), &x)) {
          return Status(327391, "$filter: limit must be represented as a 32-bit integral value: " +
                                    l.value().ToString());
        }
        if (x < 1) {
          return Status(327392, "$filter: limit must be greater than 0: " + std::to_string(x));
        }
        limit = x;
      }
    }
    std::vector<Value> out;
    for (const Value& item : Items(arr)) {
      if (static_cast<int64_t>(out.size()) >= limit) break;
      size_t mark = ctx.ScopeMark();
      ctx.Bind(as_, item);
      auto r = body_->Evaluate(ctx);
      ctx.PopScope(mark);
      if (!r.ok()) return r.status();
      if (is_map_) {
        out.push_back(std::move(r).value());
      } else if (r.value().Truthy()) {
        out.push_back(item);
      }
    }
    return Value::ArrayOf(out);
  }

 private:
  bool is_map_;
  ExprPtr input_;
  std::string as_;
  ExprPtr body_;
  ExprPtr limit_;
};

StatusWith<ExprPtr> ParseMapFilter(std::string_view op, const bson::Element& arg,
                                   const ExpressionParseContext& ctx) {
  bool is_map = op == "$map";
  std::string o(op);
  if (!arg.IsObject()) {
    return Status(is_map ? 16878 : 28646, o + " only supports an object as its argument");
  }
  bson::Element input, as, body, limit;
  std::string_view body_name = is_map ? "in" : "cond";
  for (const bson::Element& e : arg.Obj()) {
    if (e.key() == "input") input = e;
    else if (e.key() == "as") as = e;
    else if (e.key() == body_name) body = e;
    else if (!is_map && e.key() == "limit") limit = e;
    else return Status(is_map ? 16879 : 28647, "Unrecognized parameter to " + o + ": " + std::string(e.key()));
  }
  if (input.missing()) return Status(is_map ? 16880 : 28648, "Missing 'input' parameter to " + o);
  if (body.missing()) {
    return Status(is_map ? 16882 : 28650, "Missing '" + std::string(body_name) + "' parameter to " + o);
  }
  std::string var = "this";
  if (!as.missing()) {
    if (as.type() != Type::kString) {
      return Status(ErrorCodes::kFailedToParse, o + " 'as' must be a string");
    }
    var = std::string(as.Str());
    BROOK_RETURN_IF_ERROR(ValidateVariableName(var));
  }
  auto in = Expression::Parse(input, ctx);
  if (!in.ok()) return in.status();
  ExpressionParseContext inner = ctx;
  inner.variables.push_back(var);
  auto b = Expression::Parse(body, inner);
  if (!b.ok()) return b.status();
  ExprPtr lim;
  if (!limit.missing()) {
    auto l = Expression::Parse(limit, ctx);
    if (!l.ok()) return l.status();
    lim = std::move(l).value();
  }
  return ExprPtr(new MapFilterExpression(is_map, std::move(in).value(), var, std::move(b).value(),
                                         std::move(lim)));
}

class ReduceExpression : public Expression {
 public:
  ReduceExpression(ExprPtr input, ExprPtr init, ExprPtr in)
      : input_(std::move(input)), init_(std::move(init)), in_(std::move(in)) {}
  StatusWith<Value> Evaluate(EvalContext& ctx) const override {
    auto in = input_->Evaluate(ctx);
    if (!in.ok()) return in.status();
    if (in.value().nullish()) return Value::Null();
    if (!in.value().IsArray()) {
      return Status(40080, "$reduce requires that 'input' be an array, found: " + in.value().ToString());
    }
    auto acc = init_->Evaluate(ctx);
    if (!acc.ok()) return acc.status();
    Value value = std::move(acc).value();
    for (const Value& item : Items(in.value())) {
      size_t mark = ctx.ScopeMark();
      ctx.Bind("this", item);
      ctx.Bind("value", value);
      auto r = in_->Evaluate(ctx);
      ctx.PopScope(mark);
      if (!r.ok()) return r.status();
      value = std::move(r).value();
    }
    return value;
  }

 private:
  ExprPtr input_, init_, in_;
};

StatusWith<ExprPtr> ParseReduce(std::string_view, const bson::Element& arg,
                                const ExpressionParseContext& ctx) {
  if (!arg.IsObject()) {
    return Status(40075, "$reduce requires an object as an argument, found: " +
                             std::string(bson::TypeName(arg.type())));
  }
  bson::Element input, init, in;
  for (const bson::Element& e : arg.Obj()) {
    if (e.key() == "input") input = e;
    else if (e.key() == "initialValue") init = e;
    else if (e.key() == "in") in = e;
    else return Status(40076, "$reduce found an unknown argument: " + std::string(e.key()));
  }
  if (input.missing()) return Status(40077, "$reduce requires 'input' to be specified");
  if (init.missing()) return Status(40078, "$reduce requires 'initialValue' to be specified");
  if (in.missing()) return Status(40079, "$reduce requires 'in' to be specified");
  auto pi = Expression::Parse(input, ctx);
  if (!pi.ok()) return pi.status();
  auto pv = Expression::Parse(init, ctx);
  if (!pv.ok()) return pv.status();
  ExpressionParseContext inner = ctx;
  inner.variables.push_back("this");
  inner.variables.push_back("value");
  auto pn = Expression::Parse(in, inner);
  if (!pn.ok()) return pn.status();
  return ExprPtr(new ReduceExpression(std::move(pi).value(), std::move(pv).value(), std::move(pn).value()));
}

StatusWith<Value> In(std::string_view, std::vector<Value>& args, EvalContext& ctx) {
  if (!args[1].IsArray()) {
    return Status(40081, "$in requires an array as a second argument, found: " + TypeNameOf(args[1]));
  }
  for (const Value& v : Items(args[1])) {
    if (ValueEquals(v, args[0], ctx.collator)) return Value::Bool(true);
  }
  return Value::Bool(false);
}

StatusWith<Value> IndexOfArray(std::string_view, std::vector<Value>& args, EvalContext& ctx) {
  if (args[0].nullish()) return Value::Null();
  if (!args[0].IsArray()) {
    return Status(40090, "$indexOfArray requires an array as a first argument, found: " +
                             TypeNameOf(args[0]));
  }
  auto items = Items(args[0]);
  int64_t bounds[2] = {0, static_cast<int64_t>(items.size())};
  for (size_t i = 2; i < args.size(); ++i) {
    int32_t x = 0;
    const char* which = i == 2 ? "starting" : "ending";
    if (!ExactInt32(args[i], &x)) {
      return Status(40096, std::string("$indexOfArray requires an integral ") + which +
                               " index, found a value of type: " + TypeNameOf(args[i]) +
                               ", with value: " + args[i].ToString());
    }
    if (x < 0) {
      return Status(40097, std::string("$indexOfArray requires a nonnegative ") +
                               (i == 2 ? "start" : "ending") + " index, found: " + std::to_string(x));
    }
    bounds[i - 2] = x;
  }
  int64_t end = std::min<int64_t>(bounds[1], static_cast<int64_t>(items.size()));
  for (int64_t i = bounds[0]; i < end; ++i) {
    if (ValueEquals(items[static_cast<size_t>(i)], args[1], ctx.collator)) {
      return Value::Int32(static_cast<int32_t>(i));
    }
  }
  return Value::Int32(-1);
}

StatusWith<Value> IsArray(std::string_view, std::vector<Value>& args, EvalContext&) {
  return Value::Bool(args[0].IsArray());
}

StatusWith<Value> Range(std::string_view, std::vector<Value>& args, EvalContext&) {
  int32_t v[3] = {0, 0, 1};
  const char* names[3] = {"starting value", "ending value", "step value"};
  int type_codes[3] = {34443, 34445, 34447};
  int range_codes[3] = {34444, 34446, 34448};
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].IsNumber()) {
      return Status(type_codes[i], std::string("$range requires a numeric ") + names[i] +
                                       ", found value of type: " + TypeNameOf(args[i]));
    }
    if (!ExactInt32(args[i], &v[i])) {
      return Status(range_codes[i], std::string("$range requires a ") + names[i] +
                                        " that can be represented as a 32-bit integer, found "
                                        "value: " + args[i].ToString());
    }
  }
  if (v[2] == 0) return Status(34449, "$range requires a non-zero step value");
  std::vector<Value> out;
  for (int64_t x = v[0]; v[2] > 0 ? x < v[1] : x > v[1]; x += v[2]) {
    out.push_back(Value::Int32(static_cast<int32_t>(x)));
  }
  return Value::ArrayOf(out);
}

StatusWith<Value> ReverseArray(std::string_view, std::vector<Value>& args, EvalContext&) {
  if (args[0].nullish()) return Value::Null();
  if (!args[0].IsArray()) {
    return Status(34435, "The argument to $reverseArray must be an array, but was of type: " +
                             TypeNameOf(args[0]));
  }
  auto items = Items(args[0]);
  std::reverse(items.begin(), items.end());
  return Value::ArrayOf(items);
}

StatusWith<Value> Size(std::string_view, std::vector<Value>& args, EvalContext&) {
  if (!args[0].IsArray()) {
    return Status(17124, "The argument to $size must be an array. Type of argument: " +
                             TypeNameOf(args[0]));
  }
  return Value::Int32(static_cast<int32_t>(args[0].element().Obj().CountFields()));
}

StatusWith<Value> Slice(std::string_view, std::vector<Value>& args, EvalContext&) {
  for (const Value& a : args) {
    if (a.nullish()) return Value::Null();
  }
  if (!args[0].IsArray()) {
    return Status(28724, "First argument to $slice must be an array, but is of type: " +
                             TypeNameOf(args[0]));
  }
  if (!args[1].IsNumber()) {
    return Status(28725, "Second argument to $slice must be a numeric value, but is of type: " +
                             TypeNameOf(args[1]));
  }
  int32_t a = 0;
  if (!ExactInt32(args[1], &a)) {
    return Status(28726, "Second argument to $slice can't be represented as a 32-bit integer: " +
                             args[1].ToString());
  }
  auto items = Items(args[0]);
  int64_t n = static_cast<int64_t>(items.size());
  int64_t start = 0, count = 0;
  if (args.size() == 2) {
    if (a >= 0) {
      count = a;
    } else {
      start = std::max<int64_t>(0, n + a);
      count = n;
    }
  } else {
    if (!args[2].IsNumber()) {
      return Status(28727, "Third argument to $slice must be numeric, but is of type: " +
                               TypeNameOf(args[2]));
    }
    int32_t c = 0;
    if (!ExactInt32(args[2], &c)) {
      return Status(28728, "Third argument to $slice can't be represented as a 32-bit integer: " +
                               args[2].ToString());
    }
    if (c <= 0) {
      return Status(28729, "Third argument to $slice must be positive: " + args[2].ToString());
    }
    start = a >= 0 ? std::min<int64_t>(a, n) : std::max<int64_t>(0, n + a);
    count = c;
  }
  std::vector<Value> out;
  for (int64_t i = start; i < n && i < start + count; ++i) out.push_back(items[static_cast<size_t>(i)]);
  return Value::ArrayOf(out);
}

StatusWith<Value> Zip(std::string_view, std::vector<Value>& args, const std::vector<bool>& given,
                      EvalContext&) {
  const Value& inputs = args[0];
  bool longest = false;
  if (given[1]) {
    if (args[1].type() != Type::kBool) {
      return Status(34463, "useLongestLength must be a bool, found " + TypeNameOf(args[1]));
    }
    longest = args[1].element().Bool();
  }
  if (!inputs.IsArray()) {
    return Status(34461, "inputs must be an array of expressions, found " + TypeNameOf(inputs));
  }
  std::vector<std::vector<Value>> arrays;
  for (const Value& in : Items(inputs)) {
    if (in.nullish()) return Value::Null();
    if (!in.IsArray()) {
      return Status(34468, "$zip found a non-array expression in input: " + in.ToString());
    }
    arrays.push_back(Items(in));
  }
  std::vector<Value> defaults;
  if (given[2] && !args[2].nullish()) {
    if (!args[2].IsArray()) {
      return Status(34462, "defaults must be an array of expressions, found " + TypeNameOf(args[2]));
    }
    if (!longest) {
      return Status(34466, "cannot specify defaults unless useLongestLength is true");
    }
    defaults = Items(args[2]);
    if (defaults.size() != arrays.size()) {
      return Status(34467, "defaults and inputs must have the same length");
    }
  }
  size_t n = arrays.empty() ? 0 : (longest ? 0 : std::numeric_limits<size_t>::max());
  for (const auto& a : arrays) n = longest ? std::max(n, a.size()) : std::min(n, a.size());
  std::vector<Value> out;
  for (size_t i = 0; i < n; ++i) {
    std::vector<Value> row;
    for (size_t j = 0; j < arrays.size(); ++j) {
      if (i < arrays[j].size()) row.push_back(arrays[j][i]);
      else row.push_back(defaults.empty() ? Value::Null() : defaults[j]);
    }
    out.push_back(Value::ArrayOf(row));
  }
  return Value::ArrayOf(out);
}

StatusWith<ExprPtr> ParseZip(std::string_view op, const bson::Element& arg,
                             const ExpressionParseContext& ctx) {
  NamedArgsSpec spec{{"inputs", "useLongestLength", "defaults"},
                     {"inputs"},
                     34460,
                     "$zip only supports an object as an argument, found ",
                     34464,
                     "$zip found an unknown argument: ",
                     34465,
                     "$zip requires at least one input array"};
  auto args = ParseNamedArgs(arg, ctx, spec);
  if (!args.ok()) return args.status();
  return ExprPtr(new NamedExpression(op, Zip, std::move(args).value()));
}

StatusWith<Value> ArrayToObject(std::string_view, std::vector<Value>& args, EvalContext&) {
  const Value& in = args[0];
  if (in.nullish()) return Value::Null();
  if (!in.IsArray()) {
    return Status(40386, "$arrayToObject requires an array input, found: " + TypeNameOf(in));
  }
  // Later duplicates replace earlier values in place.
  std::vector<std::pair<std::string, Value>> fields;
  auto put = [&](std::string key, Value v) {
    for (auto& f : fields) {
      if (f.first == key) {
        f.second = std::move(v);
        return;
      }
    }
    fields.emplace_back(std::move(key), std::move(v));
  };
  auto items = Items(in);
  bool pairs_form = !items.empty() && items[0].IsArray();
  for (const Value& item : items) {
    if (pairs_form) {
      if (!item.IsArray()) {
        return Status(40398, "Unrecognised input type format for $arrayToObject: " + TypeNameOf(item));
      }
      auto kv = Items(item);
      if (kv.size() != 2) {
        return Status(40397, "$arrayToObject requires an array of size 2 arrays,found array of "
                             "size: " + std::to_string(kv.size()));
      }
      if (!kv[0].IsString()) {
        return Status(40395, "$arrayToObject requires an array of key-value pairs, where the key "
                             "must be of type string. Found key type: " + TypeNameOf(kv[0]));
      }
      std::string key(kv[0].element().Str());
      if (key.find('\0') != std::string::npos) {
        return Status(4940401, "Key field cannot contain an embedded null byte");
      }
      put(std::move(key), kv[1]);
    } else {
      if (!item.IsObject()) {
        return Status(40398, "Unrecognised input type format for $arrayToObject: " + TypeNameOf(item));
      }
      bson::View d = item.element().Obj();
      size_t n = d.CountFields();
      if (n != 2) {
        return Status(40392, "$arrayToObject requires an object keys of 'k' and 'v'. Found "
                             "incorrect number of keys:" + std::to_string(n));
      }
      bson::Element k = d.Get("k");
      bson::Element v = d.Get("v");
      if (k.missing() || v.missing()) {
        return Status(40393, "$arrayToObject requires an object with keys 'k' and 'v'. Missing "
                             "either or both keys from: " + d.ToString());
      }
      if (k.type() != Type::kString) {
        return Status(40394, "$arrayToObject requires an object with keys 'k' and 'v', where the "
                             "value of 'k' is of type 'string'. Found type: " +
                                 std::string(bson::TypeName(k.type())));
      }
      std::string key(k.Str());
      if (key.find('\0') != std::string::npos) {
        return Status(4940400, "Key field cannot contain an embedded null byte");
      }
      put(std::move(key), Value::FromElement(v));
    }
  }
  bson::Builder b;
  b.OpenDocument("");
  for (const auto& [k, v] : fields) v.AppendTo(&b, k);
  b.Close();
  return Value::FromSingleFieldDoc(b.Done());
}

StatusWith<Value> ObjectToArray(std::string_view, std::vector<Value>& args, EvalContext&) {
  const Value& in = args[0];
  if (in.nullish()) return Value::Null();
  if (!in.IsObject()) {
    return Status(40390, "$objectToArray requires a document input, found: " + TypeNameOf(in));
  }
  bson::Builder b;
  b.OpenArray("");
  std::string scratch;
  size_t i = 0;
  for (const bson::Element& e : in.element().Obj()) {
    b.OpenDocument(bson::ArrayKey(i++, &scratch));
    b.AppendString("k", e.key());
    b.AppendAs("v", e);
    b.Close();
  }
  b.Close();
  return Value::FromSingleFieldDoc(b.Done());
}

// Sorted, de-duplicated copy of `items`.
std::vector<Value> SortedSet(std::vector<Value> items, const bson::StringComparator* coll) {
  std::stable_sort(items.begin(), items.end(),
                   [&](const Value& a, const Value& b) { return CompareValue(a, b, coll) < 0; });
  std::vector<Value> out;
  for (auto& v : items) {
    if (out.empty() || !ValueEquals(out.back(), v, coll)) out.push_back(std::move(v));
  }
  return out;
}

bool Contains(const std::vector<Value>& set, const Value& v, const bson::StringComparator* coll) {
  for (const Value& x : set) {
    if (ValueEquals(x, v, coll)) return true;
  }
  return false;
}

StatusWith<Value> SetOp(std::string_view op, std::vector<Value>& args, EvalContext& ctx) {
  const auto* coll = ctx.collator;
  std::string o(op);
  if (op == "$setUnion" || op == "$setIntersection") {
    bool is_union = op == "$setUnion";
    std::vector<Value> acc;
    bool first = true;
    for (const Value& a : args) {
      if (a.nullish()) return Value::Null();
      if (!a.IsArray()) {
        return Status(is_union ? 17043 : 17047, "All operands of " + o +
                                                    " must be arrays. One argument is of type: " +
                                                    TypeNameOf(a));
      }
      auto items = SortedSet(Items(a), coll);
      if (is_union) {
        for (auto& v : items) acc.push_back(std::move(v));
      } else if (first) {
        acc = std::move(items);
      } else {
        std::vector<Value> keep;
        for (auto& v : acc) {
          if (Contains(items, v, coll)) keep.push_back(std::move(v));
        }
        acc = std::move(keep);
      }
      first = false;
    }
    return Value::ArrayOf(SortedSet(std::move(acc), coll));
  }
  if (op == "$setDifference") {
    if (args[0].nullish() || args[1].nullish()) return Value::Null();
    if (!args[0].IsArray()) {
      return Status(17048, "both operands of $setDifference must be arrays. First argument is of "
                           "type: " + TypeNameOf(args[0]));
    }
    if (!args[1].IsArray()) {
      return Status(17049, "both operands of $setDifference must be arrays. Second argument is of "
                           "type: " + TypeNameOf(args[1]));
    }
    auto rhs = Items(args[1]);
    std::vector<Value> out;
    for (auto& v : Items(args[0])) {
      if (!Contains(rhs, v, coll) && !Contains(out, v, coll)) out.push_back(std::move(v));
    }
    return Value::ArrayOf(out);
  }
  if (op == "$setIsSubset") {
    if (!args[0].IsArray()) {
      return Status(17046, "both operands of $setIsSubset must be arrays. First argument is of "
                           "type: " + TypeNameOf(args[0]));
    }
    if (!args[1].IsArray()) {
      return Status(17042, "both operands of $setIsSubset must be arrays. Second argument is of "
                           "type: " + TypeNameOf(args[1]));
    }
    auto rhs = Items(args[1]);
    for (const Value& v : Items(args[0])) {
      if (!Contains(rhs, v, coll)) return Value::Bool(false);
    }
    return Value::Bool(true);
  }
  // $setEquals
  std::vector<Value> base;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].IsArray()) {
      return Status(17044, "All operands of $setEquals must be arrays. One argument is of type: " +
                               TypeNameOf(args[i]));
    }
    auto s = SortedSet(Items(args[i]), coll);
    if (i == 0) {
      base = std::move(s);
      continue;
    }
    if (s.size() != base.size()) return Value::Bool(false);
    for (size_t j = 0; j < s.size(); ++j) {
      if (!ValueEquals(s[j], base[j], coll)) return Value::Bool(false);
    }
  }
  return Value::Bool(true);
}

StatusWith<ExprPtr> ParseSetEquals(std::string_view op, const bson::Element& arg,
                                   const ExpressionParseContext& ctx) {
  auto operands = ParseOperands(arg, ctx);
  if (!operands.ok()) return operands.status();
  if (operands.value().size() < 2) {
    return Status(17045, "$setEquals needs at least two arguments had: " +
                             std::to_string(operands.value().size()));
  }
  return ExprPtr(new NaryExpression(op, SetOp, std::move(operands).value()));
}

StatusWith<Value> AnyAll(std::string_view op, std::vector<Value>& args, EvalContext&) {
  bool any = op == "$anyElementTrue";
  if (!args[0].IsArray()) {
    return Status(any ? 17041 : 17040, std::string(op) + "'s argument must be an array, but is " +
                                           TypeNameOf(args[0]));
  }
  for (const Value& v : Items(args[0])) {
    if (any && v.Truthy()) return Value::Bool(true);
    if (!any && !v.Truthy()) return Value::Bool(false);
  }
  return Value::Bool(!any);
}

class SortArrayExpression : public Expression {
 public:
  SortArrayExpression(ExprPtr input, int direction, std::vector<std::pair<std::vector<std::string>, int>> keys)
      : input_(std::move(input)), direction_(direction), keys_(std::move(keys)) {}
  StatusWith<Value> Evaluate(EvalContext& ctx) const override {
    auto in = input_->Evaluate(ctx);
    if (!in.ok()) return in.status();
    if (in.value().nullish()) return Value::Null();
    if (!in.value().IsArray()) {
      return Status(2942504, "The input argument to $sortArray must be an array, but was of type: " +
                                 TypeNameOf(in.value()));
    }
    auto items = Items(in.value());
    const auto* coll = ctx.collator;
    if (keys_.empty()) {
      std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
        return direction_ * CompareValue(a, b, coll) < 0;
      });
    } else {
      auto key_of = [&](const Value& v, const std::vector<std::string>& path) {
        Value k = v.IsObject() ? GetPathValue(v, path, 0) : Value();
        return k.missing() ? Value::Null() : k;
      };
      std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
        for (const auto& [path, dir] : keys_) {
          int c = CompareValue(key_of(a, path), key_of(b, path), coll);
          if (c != 0) return dir * c < 0;
        }
        return false;
      });
    }
    return Value::ArrayOf(items);
  }

 private:
  ExprPtr input_;
  int direction_;
  std::vector<std::pair<std::vector<std::string>, int>> keys_;
};

StatusWith<ExprPtr> ParseSortArray(std::string_view, const bson::Element& arg,
                                   const ExpressionParseContext& ctx) {
  if (!arg.IsObject()) {
    return Status(2942500, "$sortArray requires an object as an argument, found: " +
                               std::string(bson::TypeName(arg.type())));
  }
  bson::Element input, sort_by;
  for (const bson::Element& e : arg.Obj()) {
    if (e.key() == "input") input = e;
    else if (e.key() == "sortBy") sort_by = e;
    else return Status(2942501, "$sortArray found an unknown argument: " + std::string(e.key()));
  }
  if (input.missing()) return Status(2942502, "$sortArray requires 'input' to be specified.");
  if (sort_by.missing()) return Status(2942503, "$sortArray requires 'sortBy' to be specified.");
  auto in = Expression::Parse(input, ctx);
  if (!in.ok()) return in.status();
  auto bad = Status(ErrorCodes::kBadValue, "$sortArray: sortBy must be either 1, -1, or a sort "
                                           "specification document");
  int direction = 1;
  std::vector<std::pair<std::vector<std::string>, int>> keys;
  if (sort_by.IsNumber()) {
    auto d = sort_by.ExactInt64();
    if (!d || (*d != 1 && *d != -1)) return bad;
    direction = static_cast<int>(*d);
  } else if (sort_by.IsObject() && !sort_by.Obj().empty()) {
    for (const bson::Element& k : sort_by.Obj()) {
      auto d = k.IsNumber() ? k.ExactInt64() : std::nullopt;
      if (!d || (*d != 1 && *d != -1)) return bad;
      std::vector<std::string> path;
      std::string_view s = k.key();
      size_t start = 0;
      while (true) {
        size_t dot = s.find('.', start);
        path.emplace_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
      }
      keys.emplace_back(std::move(path), static_cast<int>(*d));
    }
  } else {
    return bad;
  }
  return ExprPtr(new SortArrayExpression(std::move(in).value(), direction, std::move(keys)));
}

}  // namespace

void AddArrayOperators(OperatorTable* t) {
  (*t)["$arrayElemAt"] = {nullptr, ArrayElemAt, 2, 2};
  (*t)["$first"] = {nullptr, FirstLast, 1, 1};
  (*t)["$last"] = {nullptr, FirstLast, 1, 1};
  (*t)["$concatArrays"] = {nullptr, ConcatArrays, 0, -1};
  (*t)["$filter"] = {ParseMapFilter};
  (*t)["$map"] = {ParseMapFilter};
  (*t)["$reduce"] = {ParseReduce};
  (*t)["$in"] = {nullptr, In, 2, 2};
  (*t)["$indexOfArray"] = {nullptr, IndexOfArray, 2, 4};
  (*t)["$isArray"] = {nullptr, IsArray, 1, 1};
  (*t)["$range"] = {nullptr, Range, 2, 3};
  (*t)["$reverseArray"] = {nullptr, ReverseArray, 1, 1};
  (*t)["$size"] = {nullptr, Size, 1, 1};
  (*t)["$slice"] = {nullptr, Slice, 2, 3};
  (*t)["$zip"] = {ParseZip};
  (*t)["$arrayToObject"] = {nullptr, ArrayToObject, 1, 1};
  (*t)["$objectToArray"] = {nullptr, ObjectToArray, 1, 1};
  (*t)["$setUnion"] = {nullptr, SetOp, 0, -1};
  (*t)["$setIntersection"] = {nullptr, SetOp, 0, -1};
  (*t)["$setDifference"] = {nullptr, SetOp, 2, 2};
  (*t)["$setIsSubset"] = {nullptr, SetOp, 2, 2};
  (*t)["$setEquals"] = {ParseSetEquals};
  (*t)["$anyElementTrue"] = {nullptr, AnyAll, 1, 1};
  (*t)["$allElementsTrue"] = {nullptr, AnyAll, 1, 1};
  (*t)["$sortArray"] = {ParseSortArray};
}

}  // namespace brook::query::expr
