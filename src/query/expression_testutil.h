#pragma once
// Table-driven expression test helpers shared by the query layer's expression tests:
// a Case is (expression, input document) -> expected value (type-exact) or error code.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bson/compare.h"
#include "bson/json.h"
#include "query/expression.h"

namespace brook::query::exprtest {

struct Case {
  const char* expr;      // JSON of the expression
  const char* doc;       // JSON of the input document
  const char* expected;  // JSON of the expected value, "MISSING", or nullptr for an error
  int code = 0;          // expected error code when `expected` is nullptr
};

inline bson::Doc Json(const std::string& s) {
  auto d = bson::FromJson(s);
  EXPECT_TRUE(d.ok()) << s << ": " << d.status().ToString();
  return d.ok() ? std::move(d).value() : bson::Doc();
}

inline StatusWith<Value> Eval(const std::string& expr, const std::string& doc,
                       std::vector<std::string> vars = {}) {
  bson::Doc wrapper = Json("{\"e\": " + expr + "}");
  ExpressionParseContext pctx;
  pctx.variables = std::move(vars);
  auto e = Expression::Parse(wrapper.view().first(), pctx);
  if (!e.ok()) return e.status();
  bson::Doc input = Json(doc);
  EvalContext ctx(input.view());
  return e.value()->Evaluate(ctx);
}

inline void Check(const Case& c) {
  SCOPED_TRACE(std::string("expr: ") + c.expr + "  doc: " + c.doc);
  auto r = Eval(c.expr, c.doc);
  if (c.expected == nullptr) {
    ASSERT_FALSE(r.ok()) << "got " << r.value().ToString();
    EXPECT_EQ(r.status().code(), c.code) << r.status().reason();
    return;
  }
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  if (std::string(c.expected) == "MISSING") {
    EXPECT_TRUE(r.value().missing()) << r.value().ToString();
    return;
  }
  bson::Doc want = Json(std::string("{\"v\": ") + c.expected + "}");
  bson::Element w = want.view().first();
  const Value& got = r.value();
  ASSERT_FALSE(got.missing()) << "expected " << w.ToString();
  EXPECT_EQ(bson::TypeName(got.type()), bson::TypeName(w.type()))
      << "got " << got.ToString() << " want " << w.ToString();
  EXPECT_EQ(bson::CompareValues(got.element(), w), 0)
      << "got " << got.ToString() << " want " << w.ToString();
}

}  // namespace brook::query::exprtest
