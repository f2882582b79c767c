#pragma once
// Aggregation expressions ($add, $cond, "$field.path", $$ROOT, ...): parse once, evaluate
// many times.
//
// Owns: the expression language of MongoDB's aggregation framework. Used by $project,
// $addFields, $group, pipeline-style updates, find projections and the matcher's $expr.
// Values produced by evaluation are owned by a Value (value.h).
// Thread-safety: a parsed Expression is immutable and may be evaluated concurrently.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bson/compare.h"
#include "bson/document.h"
#include "query/value.h"
#include "util/status.h"

namespace brook::query {

// Names of user variables ($$name) visible while parsing, and options.
struct ExpressionParseContext {
  std::vector<std::string> variables;  // user-defined names in scope ($let, $map, $filter...)
  const bson::StringComparator* collator = nullptr;
};

// Runtime state for one evaluation: the document being processed ($$ROOT / $$CURRENT),
// variable bindings, and $$NOW.
class EvalContext {
 public:
  explicit EvalContext(bson::View root);
  bson::View root() const { return root_; }
  void Bind(const std::string& name, Value v);
  const Value* Lookup(std::string_view name) const;
  // Scopes: Bind() pushes; PopScope(mark) drops every binding made since ScopeMark(), so
  // inner $let/$map variables shadow outer ones and vanish afterwards.
  size_t ScopeMark() const { return vars_.size(); }
  void PopScope(size_t mark) { vars_.resize(mark); }
  const bson::StringComparator* collator = nullptr;
  int64_t now_millis = 0;  // $$NOW; 0 means "read the clock on first use"

 private:
  bson::View root_;
  std::vector<std::pair<std::string, Value>> vars_;
};

class Expression {
 public:
  virtual ~Expression() = default;
  // Parses `e` (an operator document, a "$path" string, a literal, or a document of
  // expressions). Errors use MongoDB's codes (e.g. 168 InvalidPipelineOperator).
  static StatusWith<std::unique_ptr<Expression>> Parse(const bson::Element& e,
                                                       const ExpressionParseContext& ctx);
  // Evaluation errors (e.g. $divide by zero, code 2) are returned, never thrown.
  virtual StatusWith<Value> Evaluate(EvalContext& ctx) const = 0;
};

// Checks a user variable name ($let vars, $lookup let, aggregate's let): MongoDB's
// codes 16866/16867/16868.
Status ValidateVariableName(std::string_view name);
// Checks a variable name that an expression reads (`$$name`): as above, but an upper-case
// first letter is allowed, as MongoDB's validateNameForUserRead.
Status ValidateVariableNameForRead(std::string_view name);

// Parses every field of `obj` as an expression into a document-building expression
// ({a: <expr>, b: {...}}), as $group's _id and $replaceRoot's newRoot use.
StatusWith<std::unique_ptr<Expression>> ParseObjectExpression(bson::View obj,
                                                              const ExpressionParseContext& ctx);

}  // namespace brook::query
