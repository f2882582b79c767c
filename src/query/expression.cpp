// Expression parsing entry point, the operator table, and the non-operator nodes:
// field paths, variables, literals, object and array expressions.
#include "query/expression.h"

#include <chrono>

#include "query/expression_internal.h"

namespace brook::query {

using expr::ExprPtr;

EvalContext::EvalContext(bson::View root) : root_(root) {}

void EvalContext::Bind(const std::string& name, Value v) { vars_.emplace_back(name, std::move(v)); }

const Value* EvalContext::Lookup(std::string_view name) const {
  for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
    if (it->first == name) return &it->second;
  }
  return nullptr;
}

namespace expr {
namespace {

const OperatorTable& Operators() {
  static const OperatorTable* table = [] {
    auto* t = new OperatorTable();
    AddArithmeticOperators(t);
    AddLogicOperators(t);
    AddStringOperators(t);
    AddArrayOperators(t);
    AddObjectTypeOperators(t);
    AddDateOperators(t);
    AddDateArithmeticOperators(t);
    return t;
  }();
  return *table;
}

Status ValidateFieldName(std::string_view name) {
  if (name.empty()) return Status(15998, "FieldPath field names may not be empty strings.");
  if (name[0] == '$') {
    return Status(16410, "FieldPath field names may not start with '$'. Consider using "
                         "$getField or $setField.");
  }
  if (name.find('\0') != std::string_view::npos) {
    return Status(16411, "FieldPath field names may not contain '\\0'.");
  }
  return Status::OK();
}

StatusWith<std::vector<std::string>> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  if (path.empty()) return Status(40352, "FieldPath cannot be constructed with empty string");
  if (path.back() == '.') return Status(40353, "FieldPath must not end with a '.'.");
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string_view part = path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    BROOK_RETURN_IF_ERROR(ValidateFieldName(part));
    parts.emplace_back(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

bool IsSystemVariable(std::string_view name) {
  return name == "ROOT" || name == "CURRENT" || name == "REMOVE" || name == "NOW" ||
         name == "CLUSTER_TIME" || name == "USER_ROLES";
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "$a.b" or "$$var.a.b".
class PathExpression : public Expression {
 public:
  PathExpression(std::string var, std::vector<std::string> parts)
      : var_(std::move(var)), parts_(std::move(parts)) {}

  StatusWith<Value> Evaluate(EvalContext& ctx) const override {
    Value base;
    if (var_ == "CURRENT") {
      const Value* cur = ctx.Lookup("CURRENT");
      if (cur == nullptr) {
        if (parts_.empty()) return Value::Document(ctx.root());
        return FromRoot(ctx.root(), parts_);
      }
      base = *cur;
    } else if (var_ == "ROOT") {
      if (parts_.empty()) return Value::Document(ctx.root());
      return FromRoot(ctx.root(), parts_);
    } else if (var_ == "REMOVE") {
      return Value();
    } else if (var_ == "NOW") {
      if (ctx.now_millis == 0) ctx.now_millis = NowMillis();
      base = Value::Date(ctx.now_millis);
    } else if (var_ == "CLUSTER_TIME") {
      if (ctx.now_millis == 0) ctx.now_millis = NowMillis();
      base = Value::Timestamp({static_cast<uint32_t>(ctx.now_millis / 1000), 1});
    } else {
      const Value* v = ctx.Lookup(var_);
      if (v == nullptr) return Status(17276, "Use of undefined variable: " + var_);
      base = *v;
    }
    return expr::GetPathValue(base, parts_, 0);
  }

 private:
  static Value FromRoot(bson::View doc, const std::vector<std::string>& parts) {
    return GetPathFromRoot(doc, parts);
  }
  std::string var_;
  std::vector<std::string> parts_;
};

class ArrayExpression : public Expression {
 public:
  explicit ArrayExpression(std::vector<ExprPtr> items) : items_(std::move(items)) {}
  StatusWith<Value> Evaluate(EvalContext& ctx) const override {
    std::vector<Value> out;
    out.reserve(items_.size());
    for (const auto& item : items_) {
      auto v = item->Evaluate(ctx);
      if (!v.ok()) return v.status();
      out.push_back(std::move(v).value());
    }
    return Value::ArrayOf(out);
  }

 private:
  std::vector<ExprPtr> items_;
};

class ObjectExpression : public Expression {
 public:
  explicit ObjectExpression(std::vector<std::pair<std::string, ExprPtr>> fields)
      : fields_(std::move(fields)) {}
  StatusWith<Value> Evaluate(EvalContext& ctx) const override {
    bson::Builder b;
    b.OpenDocument("");
    for (const auto& [name, e] : fields_) {
      auto v = e->Evaluate(ctx);
      if (!v.ok()) return v.status();
      v.value().AppendTo(&b, name);
    }
    b.Close();
    return Value::FromSingleFieldDoc(b.Done());
  }

 private:
  std::vector<std::pair<std::string, ExprPtr>> fields_;
};

StatusWith<ExprPtr> ParseString(std::string_view s, const ExpressionParseContext& ctx) {
  if (s.size() >= 2 && s[0] == '$' && s[1] == '$') {
    std::string_view rest = s.substr(2);
    size_t dot = rest.find('.');
    std::string var(rest.substr(0, dot));
    std::vector<std::string> parts;
    if (dot != std::string_view::npos) {
      auto sw = SplitPath(rest.substr(dot + 1));
      if (!sw.ok()) return sw.status();
      parts = std::move(sw).value();
    }
    if (!IsSystemVariable(var)) {
      bool found = false;
      for (const auto& name : ctx.variables) found = found || name == var;
      if (!found) {
        BROOK_RETURN_IF_ERROR(ValidateVariableNameForRead(var));
        return Status(17276, "Use of undefined variable: " + var);
      }
    }
    return ExprPtr(new PathExpression(std::move(var), std::move(parts)));
  }
  if (!s.empty() && s[0] == '$') {
    if (s.size() == 1) return Status(16872, "'$' by itself is not a valid FieldPath");
    auto sw = SplitPath(s.substr(1));
    if (!sw.ok()) return sw.status();
    return ExprPtr(new PathExpression("CURRENT", std::move(sw).value()));
  }
  return ExprPtr(new ConstantExpression(Value::String(s)));
}

StatusWith<ExprPtr> ParseOperator(const bson::Element& first, const ExpressionParseContext& ctx) {
  std::string_view op = first.key();
  const auto& ops = Operators();
  auto it = ops.find(op);
  if (it == ops.end()) {
    return Status(ErrorCodes::kInvalidPipelineOperator,
                  "Unrecognized expression '" + std::string(op) + "'");
  }
  const OperatorDef& def = it->second;
  if (def.parser != nullptr) return def.parser(it->first, first, ctx);
  auto operands = ParseOperands(first, ctx);
  if (!operands.ok()) return operands.status();
  BROOK_RETURN_IF_ERROR(CheckArity(it->first, operands.value().size(), def.min_args, def.max_args));
  return ExprPtr(new NaryExpression(it->first, def.fn, std::move(operands).value()));
}

}  // namespace

StatusWith<std::vector<ExprPtr>> ParseOperands(const bson::Element& arg,
                                               const ExpressionParseContext& ctx) {
  std::vector<ExprPtr> out;
  if (arg.IsArray()) {
    for (const bson::Element& e : arg.Obj()) {
      auto p = Expression::Parse(e, ctx);
      if (!p.ok()) return p.status();
      out.push_back(std::move(p).value());
    }
  } else {
    auto p = Expression::Parse(arg, ctx);
    if (!p.ok()) return p.status();
    out.push_back(std::move(p).value());
  }
  return out;
}

Status CheckArity(std::string_view op, size_t got, int min_args, int max_args) {
  std::string name(op);
  if (min_args == max_args && got != static_cast<size_t>(min_args)) {
    return Status(16020, "Expression " + name + " takes exactly " + std::to_string(min_args) +
                             " arguments. " + std::to_string(got) + " were passed in.");
  }
  if (got < static_cast<size_t>(min_args)) {
    return Status(16021, "Expression " + name + " takes at least " + std::to_string(min_args) +
                             " arguments, and " + std::to_string(got) + " were passed in.");
  }
  if (max_args >= 0 && got > static_cast<size_t>(max_args)) {
    return Status(16022, "Expression " + name + " takes at most " + std::to_string(max_args) +
                             " arguments, and " + std::to_string(got) + " were passed in.");
  }
  return Status::OK();
}

StatusWith<Value> NaryExpression::Evaluate(EvalContext& ctx) const {
  std::vector<Value> vals;
  vals.reserve(args_.size());
  for (const auto& a : args_) {
    auto v = a->Evaluate(ctx);
    if (!v.ok()) return v.status();
    vals.push_back(std::move(v).value());
  }
  return fn_(op_, vals, ctx);
}

StatusWith<Value> NamedExpression::Evaluate(EvalContext& ctx) const {
  std::vector<Value> vals(args_.size());
  std::vector<bool> given(args_.size(), false);
  for (size_t i = 0; i < args_.size(); ++i) {
    if (!args_[i]) continue;
    given[i] = true;
    auto v = args_[i]->Evaluate(ctx);
    if (!v.ok()) return v.status();
    vals[i] = std::move(v).value();
  }
  return fn_(op_, vals, given, ctx);
}

StatusWith<std::vector<ExprPtr>> ParseNamedArgs(const bson::Element& arg,
                                                const ExpressionParseContext& ctx,
                                                const NamedArgsSpec& spec) {
  if (!arg.IsObject()) {
    std::string msg = spec.not_object_msg;
    if (!msg.empty() && (msg.back() == ' ')) msg += std::string(bson::TypeName(arg.type()));
    return Status(spec.not_object_code, msg);
  }
  std::vector<ExprPtr> out(spec.names.size());
  for (const bson::Element& e : arg.Obj()) {
    size_t i = 0;
    while (i < spec.names.size() && spec.names[i] != e.key()) ++i;
    if (i == spec.names.size()) {
      return Status(spec.unknown_code, spec.unknown_msg + std::string(e.key()));
    }
    auto p = Expression::Parse(e, ctx);
    if (!p.ok()) return p.status();
    out[i] = std::move(p).value();
  }
  for (size_t r = 0; r < spec.required.size(); ++r) {
    std::string_view req = spec.required[r];
    for (size_t i = 0; i < spec.names.size(); ++i) {
      if (spec.names[i] == req && !out[i]) {
        std::string msg = spec.missing_msg;
        size_t pos = msg.find("{}");
        if (pos != std::string::npos) msg.replace(pos, 2, std::string(req));
        return Status(spec.missing_code + (spec.missing_code_per_field ? static_cast<int>(r) : 0), msg);
      }
    }
  }
  return out;
}

namespace {

Value PathFromDoc(bson::View doc, const std::vector<std::string>& parts, size_t i);

// Walks without copying anything but the result.
Value PathFromElement(const bson::Element& e, const std::vector<std::string>& parts, size_t i) {
  if (i == parts.size()) return Value::FromElement(e);
  if (e.IsObject()) return PathFromDoc(e.Obj(), parts, i);
  if (!e.IsArray()) return Value();
  std::vector<Value> out;
  for (const bson::Element& item : e.Obj()) {
    if (!item.IsObject()) continue;
    Value v = PathFromDoc(item.Obj(), parts, i);
    if (!v.missing()) out.push_back(std::move(v));
  }
  return Value::ArrayOf(out);
}

Value PathFromDoc(bson::View doc, const std::vector<std::string>& parts, size_t i) {
  bson::Element e = doc.Get(parts[i]);
  if (i + 1 == parts.size()) return Value::FromElement(e);
  if (e.IsObject() || e.IsArray()) return PathFromElement(e, parts, i + 1);
  return Value();
}

}  // namespace

Value GetPathValue(const Value& start, const std::vector<std::string>& parts, size_t first) {
  if (first == parts.size()) return start;
  return PathFromElement(start.element(), parts, first);
}

Value GetPathFromRoot(bson::View root, const std::vector<std::string>& parts) {
  if (parts.empty()) return Value::Document(root);
  return PathFromDoc(root, parts, 0);
}

std::string TypeNameOf(const Value& v) {
  if (v.missing()) return "missing";
  return std::string(bson::TypeName(v.type()));
}

}  // namespace expr

namespace {

bool IsVariableNameChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

// `first_ok` is the rule for the first character; the others follow IsVariableNameChar.
Status CheckVariableName(std::string_view name, bool (*first_ok)(unsigned char)) {
  if (name.empty()) return Status(16866, "empty variable names are not allowed");
  if (!first_ok(static_cast<unsigned char>(name[0]))) {
    return Status(16867, "'" + std::string(name) +
                             "' starts with an invalid character for a user variable name");
  }
  for (char ch : name) {
    if (!IsVariableNameChar(static_cast<unsigned char>(ch))) {
      return Status(16868, "'" + std::string(name) +
                               "' contains an invalid character for a variable name: '" +
                               std::string(1, ch) + "'");
    }
  }
  return Status::OK();
}

}  // namespace

Status ValidateVariableNameForRead(std::string_view name) {
  // MongoDB's validateNameForUserRead also accepts an upper-case first letter (system
  // variables are read that way), so `$$KEEP` outside $redact is an undefined variable
  // (17276), not a bad name (16867).
  return CheckVariableName(name, [](unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; });
}

Status ValidateVariableName(std::string_view name) {
  return CheckVariableName(name, [](unsigned char c) { return (c >= 'a' && c <= 'z') || c >= 0x80; });
}

StatusWith<std::unique_ptr<Expression>> ParseObjectExpression(bson::View obj,
                                                              const ExpressionParseContext& ctx) {
  std::vector<std::pair<std::string, ExprPtr>> fields;
  for (const bson::Element& e : obj) {
    std::string_view name = e.key();
    BROOK_RETURN_IF_ERROR(expr::ValidateFieldName(name));
    if (name.find('.') != std::string_view::npos) {
      return Status(16412, "FieldPath field names may not contain '.'. Consider using "
                           "$getField or $setField.");
    }
    for (const auto& f : fields) {
      if (f.first == name) {
        return Status(16406,
                      "duplicate field name specified in object literal: " + obj.ToString());
      }
    }
    auto p = Expression::Parse(e, ctx);
    if (!p.ok()) return p.status();
    fields.emplace_back(std::string(name), std::move(p).value());
  }
  return ExprPtr(new expr::ObjectExpression(std::move(fields)));
}

StatusWith<std::unique_ptr<Expression>> Expression::Parse(const bson::Element& e,
                                                          const ExpressionParseContext& ctx) {
  switch (e.type()) {
    case bson::Type::kString:
      return expr::ParseString(e.Str(), ctx);
    case bson::Type::kObject: {
      bson::View obj = e.Obj();
      if (obj.empty()) return ExprPtr(new expr::ConstantExpression(Value::Document(obj)));
      bson::Element first = obj.first();
      if (!first.key().empty() && first.key()[0] == '$') {
        size_t n = obj.CountFields();
        if (n != 1) {
          return Status(15983,
                        "an expression specification must contain exactly one field, the name "
                        "of the expression. Found " +
                            std::to_string(n) + " fields in " + obj.ToString() +
                            ", while parsing object " + obj.ToString());
        }
        return expr::ParseOperator(first, ctx);
      }
      return ParseObjectExpression(obj, ctx);
    }
    case bson::Type::kArray: {
      std::vector<ExprPtr> items;
      for (const bson::Element& item : e.Obj()) {
        auto p = Parse(item, ctx);
        if (!p.ok()) return p.status();
        items.push_back(std::move(p).value());
      }
      return ExprPtr(new expr::ArrayExpression(std::move(items)));
    }
    default:
      return ExprPtr(new expr::ConstantExpression(Value::FromElement(e)));
  }
}

}  // namespace brook::query
