#pragma once
// Internals shared by the expression operator files (expression_*.cpp): the operator
// table, operand parsing helpers, the generic operator node classes, and numeric
// helpers (decimal128 arithmetic is query/decimal.h).
// Not a public API: only expression*.cpp, accumulator*.cpp and stage*.cpp include it.
// Thread-safety: the operator table is built once and then only read.

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "query/decimal.h"
#include "query/expression.h"
#include "query/timezone.h"
#include "util/status.h"

namespace brook::query::expr {

using ExprPtr = std::unique_ptr<Expression>;

// Eager operator: every operand is evaluated first (in order), then `fn` runs.
using NaryFn = StatusWith<Value> (*)(std::string_view op, std::vector<Value>& args,
                                     EvalContext& ctx);
// Operator with its own parsing (named arguments, variables, short-circuiting).
using CustomParser = StatusWith<ExprPtr> (*)(std::string_view op, const bson::Element& arg,
                                             const ExpressionParseContext& ctx);

struct OperatorDef {
  CustomParser parser = nullptr;  // when set, used instead of the n-ary parse below
  NaryFn fn = nullptr;
  int min_args = 0;
  int max_args = 0;  // -1: no upper bound
};
// Keys point at string literals.
using OperatorTable = std::unordered_map<std::string_view, OperatorDef>;

void AddArithmeticOperators(OperatorTable* t);
void AddLogicOperators(OperatorTable* t);  // comparison, boolean, conditional, $let...
void AddStringOperators(OperatorTable* t);
void AddArrayOperators(OperatorTable* t);
void AddObjectTypeOperators(OperatorTable* t);  // objects and type conversion
void AddDateOperators(OperatorTable* t);
void AddDateArithmeticOperators(OperatorTable* t);  // $dateAdd, $dateDiff, $dateTrunc, parts

// The operands of `arg`: the elements of an array, or `arg` itself as one operand.
StatusWith<std::vector<ExprPtr>> ParseOperands(const bson::Element& arg,
                                               const ExpressionParseContext& ctx);
// 16020/16021/16022 with MongoDB's wording.
Status CheckArity(std::string_view op, size_t got, int min_args, int max_args);

class NaryExpression : public Expression {
 public:
  NaryExpression(std::string_view op, NaryFn fn, std::vector<ExprPtr> args)
      : op_(op), fn_(fn), args_(std::move(args)) {}
  StatusWith<Value> Evaluate(EvalContext& ctx) const override;

 private:
  std::string_view op_;
  NaryFn fn_;
  std::vector<ExprPtr> args_;
};

// Named-argument operator ({input: ..., find: ...}): operands in the declared order,
// nullptr / missing Value when not given.
using NamedFn = StatusWith<Value> (*)(std::string_view op, std::vector<Value>& args,
                                      const std::vector<bool>& given, EvalContext& ctx);
class NamedExpression : public Expression {
 public:
  NamedExpression(std::string_view op, NamedFn fn, std::vector<ExprPtr> args)
      : op_(op), fn_(fn), args_(std::move(args)) {}
  StatusWith<Value> Evaluate(EvalContext& ctx) const override;

 private:
  std::string_view op_;
  NamedFn fn_;
  std::vector<ExprPtr> args_;
};

struct NamedArgsSpec {
  std::vector<std::string_view> names;
  std::vector<std::string_view> required;
  int not_object_code;
  std::string not_object_msg;  // the type name is appended when it ends with ": " or " "
  int unknown_code;
  std::string unknown_msg;     // the field name is appended
  int missing_code;
  std::string missing_msg;     // "{}" is replaced by the missing name
  // When set, the i-th name of `required` has code missing_code + i (MongoDB numbers
  // them so for $dateDiff and $dateTrunc).
  bool missing_code_per_field = false;
};
StatusWith<std::vector<ExprPtr>> ParseNamedArgs(const bson::Element& arg,
                                                const ExpressionParseContext& ctx,
                                                const NamedArgsSpec& spec);

// An expression that evaluates to a constant.
class ConstantExpression : public Expression {
 public:
  explicit ConstantExpression(Value v) : v_(std::move(v)) {}
  StatusWith<Value> Evaluate(EvalContext&) const override { return v_; }
  const Value& value() const { return v_; }

 private:
  Value v_;
};

// MongoDB's path semantics for expressions: a path through an array of documents
// yields the array of the values found in each document.
Value GetPathValue(const Value& start, const std::vector<std::string>& parts, size_t first);
// The same from a document, copying only the result ("$a.b" against $$ROOT).
Value GetPathFromRoot(bson::View root, const std::vector<std::string>& parts);

// Type name of a value for error messages ("missing" when missing).
std::string TypeNameOf(const Value& v);

// Dates. Millis of a Date, Timestamp or ObjectId (16006 for other types).
StatusWith<int64_t> DateMillisOf(const Value& v);
// The `timezone` argument of a date operator: UTC when missing, 40517 when not a string.
StatusWith<TimeZone> TimeZoneOf(const Value& tz);

// Numbers.
using Dec128 = query::Dec128;
inline Dec128 ToDec(bson::Decimal128 d) { return Dec128::FromBson(d); }
inline bson::Decimal128 FromDec(Dec128 d) { return d.ToBson(); }
Dec128 ElementToDec(const bson::Element& e);
// Integral value of a number that fits int32 exactly (31-bit args of $substr etc.).
bool ExactInt32(const Value& v, int32_t* out);
// Int32 when it fits, else Int64.
Value IntegralResult(int64_t v, bool force_long);

// Arithmetic on two numeric values with MongoDB's result typing.
enum class ArithOp { kAdd, kSub, kMul };
Value ArithNumbers(ArithOp op, const Value& a, const Value& b);

}  // namespace brook::query::expr
