// Comparison ($eq $ne $gt $gte $lt $lte $cmp), boolean ($and $or $not), conditional
// ($cond $ifNull $switch), and $let, $literal, $rand.
#include <random>

#include "query/expression_internal.h"

namespace brook::query::expr {
namespace {

StatusWith<Value> Compare(std::string_view op, std::vector<Value>& args, EvalContext& ctx) {
  int c = CompareValue(args[0], args[1], ctx.collator);
  if (op == "$cmp") return Value::Int32(c < 0 ? -1 : c > 0 ? 1 : 0);
  bool r = false;
  if (op == "$eq") r = c == 0;
  else if (op == "$ne") r = c != 0;
  else if (op == "$gt") r = c > 0;
  else if (op == "$gte") r = c >= 0;
  else if (op == "$lt") r = c < 0;
  else r = c <= 0;
  return Value::Bool(r);
}

StatusWith<Value> Not(std::string_view, std::vector<Value>& args, EvalContext&) {
  return Value::Bool(!args[0].Truthy());
}

class AndOrExpression : public Expression {
 public:
  AndOrExpression(bool is_and, std::vector<ExprPtr> args) : is_and_(is_and), args_(std::move(args)) {}
  StatusWith<Value> Evaluate(EvalContext& ctx) const override {
    for (const auto& a : args_) {
      auto v = a->Evaluate(ctx);
      if (!v.ok()) return v.status();
      bool t = v.value().Truthy();
      if (is_and_ && !t) return Value::Bool(false);
      if (!is_and_ && t) return Value::Bool(true);
    }
    return Value::Bool(is_and_);
  }

 private:
  bool is_and_;
  std::vector<ExprPtr> args_;
};

StatusWith<ExprPtr> ParseAndOr(std::string_view op, const bson::Element& arg,
                               const ExpressionParseContext& ctx) {
  auto operands = ParseOperands(arg, ctx);
  if (!operands.ok()) return operands.status();
  return ExprPtr(new AndOrExpression(op == "$and", std::move(operands).value()));
}

// $cond and $switch: evaluated lazily so only the taken branch can fail.
class SwitchExpression : public Expression {
 public:
  SwitchExpression(std::vector<std::pair<ExprPtr, ExprPtr>> branches, ExprPtr otherwise)
      : branches_(std::move(branches)), default_(std::move(otherwise)) {}
  StatusWith<Value> Evaluate(EvalContext& ctx) const override {
    for (const auto& [cond, then] : branches_) {
      auto c = cond->Evaluate(ctx);
      if (!c.ok()) return c.status();
      if (c.value().Truthy()) return then->Evaluate(ctx);
    }
    if (!default_) {
      return Status(40068, "$switch could not find a matching branch for an input, and no "
                           "default was specified.");
    }
    return default_->Evaluate(ctx);
  }

 private:
  std::vector<std::pair<ExprPtr, ExprPtr>> branches_;
  ExprPtr default_;
};

StatusWith<ExprPtr> ParseCond(std::string_view op, const bson::Element& arg,
                              const ExpressionParseContext& ctx) {
  ExprPtr parts[3];
  if (arg.IsObject()) {
    for (const bson::Element& e : arg.Obj()) {
      int i = e.key() == "if" ? 0 : e.key() == "then" ? 1 : e.key() == "else" ? 2 : -1;
      if (i < 0) return Status(17083, "Unrecognized parameter to $cond: " + std::string(e.key()));
      auto p = Expression::Parse(e, ctx);
      if (!p.ok()) return p.status();
      parts[i] = std::move(p).value();
    }
    if (!parts[0]) return Status(17080, "Missing 'if' parameter to $cond");
    if (!parts[1]) return Status(17081, "Missing 'then' parameter to $cond");
    if (!parts[2]) return Status(17082, "Missing 'else' parameter to $cond");
  } else {
    auto operands = ParseOperands(arg, ctx);
    if (!operands.ok()) return operands.status();
    BROOK_RETURN_IF_ERROR(CheckArity(op, operands.value().size(), 3, 3));
    for (int i = 0; i < 3; ++i) parts[i] = std::move(operands.value()[i]);
  }
  std::vector<std::pair<ExprPtr, ExprPtr>> branches;
  branches.emplace_back(std::move(parts[0]), std::move(parts[1]));
  return ExprPtr(new SwitchExpression(std::move(branches), std::move(parts[2])));
}

StatusWith<ExprPtr> ParseSwitch(std::string_view, const bson::Element& arg,
                                const ExpressionParseContext& ctx) {
  if (!arg.IsObject()) {
    return Status(40060, "$switch requires an object as an argument, found: " +
                             std::string(bson::TypeName(arg.type())));
  }
  std::vector<std::pair<ExprPtr, ExprPtr>> branches;
  ExprPtr otherwise;
  for (const bson::Element& e : arg.Obj()) {
    if (e.key() == "branches") {
      if (!e.IsArray()) {
        return Status(40061, "$switch expected an array for 'branches', found: " +
                                 std::string(bson::TypeName(e.type())));
      }
      for (const bson::Element& br : e.Obj()) {
        if (!br.IsObject()) {
          return Status(40062, "$switch expected each branch to be an object, found: " +
                                   std::string(bson::TypeName(br.type())));
        }
        ExprPtr c, t;
        for (const bson::Element& f : br.Obj()) {
          if (f.key() != "case" && f.key() != "then") {
            return Status(40063, "$switch found an unknown argument to a branch: " +
                                     std::string(f.key()));
          }
          auto p = Expression::Parse(f, ctx);
          if (!p.ok()) return p.status();
          (f.key() == "case" ? c : t) = std::move(p).value();
        }
        if (!c) return Status(40064, "$switch requires each branch have a 'case' expression");
        if (!t) return Status(40065, "$switch requires each branch have a 'then' expression.");
        branches.emplace_back(std::move(c), std::move(t));
      }
    } else if (e.key() == "default") {
      auto p = Expression::Parse(e, ctx);
      if (!p.ok()) return p.status();
      otherwise = std::move(p).value();
    } else {
      return Status(40067, "$switch found an unknown argument: " + std::string(e.key()));
    }
  }
  if (branches.empty()) return Status(40066, "$switch requires at least one branch.");
  return ExprPtr(new SwitchExpression(std::move(branches), std::move(otherwise)));
}

class IfNullExpression : public Expression {
 public:
  explicit IfNullExpression(std::vector<ExprPtr> args) : args_(std::move(args)) {}
  StatusWith<Value> Evaluate(EvalContext& ctx) const override {
    for (size_t i = 0; i < args_.size(); ++i) {
      auto v = args_[i]->Evaluate(ctx);
      if (!v.ok()) return v.status();
      if (!v.value().nullish() || i + 1 == args_.size()) return v;
    }
    return Value();
  }

 private:
  std::vector<ExprPtr> args_;
};

StatusWith<ExprPtr> ParseIfNull(std::string_view, const bson::Element& arg,
                                const ExpressionParseContext& ctx) {
  auto operands = ParseOperands(arg, ctx);
  if (!operands.ok()) return operands.status();
  if (operands.value().size() < 2) {
    return Status(1257300, "$ifNull needs at least two arguments, had: " +
                               std::to_string(operands.value().size()));
  }
  return ExprPtr(new IfNullExpression(std::move(operands).value()));
}

class LetExpression : public Expression {
 public:
  LetExpression(std::vector<std::pair<std::string, ExprPtr>> vars, ExprPtr in)
      : vars_(std::move(vars)), in_(std::move(in)) {}
  StatusWith<Value> Evaluate(EvalContext& ctx) const override {
    // Every binding is evaluated in the outer scope first.
    std::vector<Value> values;
    for (const auto& [name, e] : vars_) {
      auto v = e->Evaluate(ctx);
      if (!v.ok()) return v.status();
      values.push_back(std::move(v).value());
    }
    size_t mark = ctx.ScopeMark();
    for (size_t i = 0; i < vars_.size(); ++i) ctx.Bind(vars_[i].first, std::move(values[i]));
    auto r = in_->Evaluate(ctx);
    ctx.PopScope(mark);
    return r;
  }

 private:
  std::vector<std::pair<std::string, ExprPtr>> vars_;
  ExprPtr in_;
};

StatusWith<ExprPtr> ParseLet(std::string_view, const bson::Element& arg,
                             const ExpressionParseContext& ctx) {
  if (!arg.IsObject()) return Status(16874, "$let only supports an object as its argument");
  bson::Element vars = arg.Obj().Get("vars");
  bson::Element in = arg.Obj().Get("in");
  for (const bson::Element& e : arg.Obj()) {
    if (e.key() != "vars" && e.key() != "in") {
      return Status(16875, "Unrecognized parameter to $let: " + std::string(e.key()));
    }
  }
  if (vars.missing()) return Status(16876, "Missing 'vars' parameter to $let");
  if (in.missing()) return Status(16877, "Missing 'in' parameter to $let");
  if (!vars.IsObject()) {
    return Status(10065, "invalid parameter: expected an object (vars)");
  }
  std::vector<std::pair<std::string, ExprPtr>> bound;
  ExpressionParseContext inner = ctx;
  for (const bson::Element& v : vars.Obj()) {
    BROOK_RETURN_IF_ERROR(ValidateVariableName(v.key()));
    auto p = Expression::Parse(v, ctx);
    if (!p.ok()) return p.status();
    bound.emplace_back(std::string(v.key()), std::move(p).value());
    inner.variables.emplace_back(v.key());
  }
  auto body = Expression::Parse(in, inner);
  if (!body.ok()) return body.status();
  return ExprPtr(new LetExpression(std::move(bound), std::move(body).value()));
}

StatusWith<ExprPtr> ParseLiteral(std::string_view, const bson::Element& arg,
                                 const ExpressionParseContext&) {
  return ExprPtr(new ConstantExpression(Value::FromElement(arg)));
}

class RandExpression : public Expression {
 public:
  StatusWith<Value> Evaluate(EvalContext&) const override {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    std::uniform_real_distribution<double> dist(0.0, 1.0);
    return Value::Double(dist(gen));
  }
};

StatusWith<ExprPtr> ParseRand(std::string_view, const bson::Element& arg,
                              const ExpressionParseContext&) {
  bool empty = (arg.IsObject() || arg.IsArray()) && arg.Obj().empty();
  if (!empty) return Status(3040501, "$rand does not currently accept arguments");
  return ExprPtr(new RandExpression());
}

}  // namespace

void AddLogicOperators(OperatorTable* t) {
  for (std::string_view op : {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$cmp"}) {
    (*t)[op] = {nullptr, Compare, 2, 2};
  }
  (*t)["$not"] = {nullptr, Not, 1, 1};
  (*t)["$and"] = {ParseAndOr};
  (*t)["$or"] = {ParseAndOr};
  (*t)["$cond"] = {ParseCond};
  (*t)["$switch"] = {ParseSwitch};
  (*t)["$ifNull"] = {ParseIfNull};
  (*t)["$let"] = {ParseLet};
  (*t)["$literal"] = {ParseLiteral};
  (*t)["$rand"] = {ParseRand};
}

}  // namespace brook::query::expr
