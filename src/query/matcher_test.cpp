#include "query/matcher.h"

#include <gtest/gtest.h>

#include "query/path_testutil.h"

namespace brook::query {
namespace {

using testutil::J;

struct Case {
  const char* filter;
  const char* doc;
  bool expected;
};

class MatcherTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(MatcherTableTest, Matches) {
  const Case& c = GetParam();
  bson::Doc filter = J(c.filter);
  bson::Doc doc = J(c.doc);
  auto m = Matcher::Parse(filter, MatcherOptions{});
  ASSERT_TRUE(m.ok()) << c.filter << ": " << m.status().ToString();
  EXPECT_EQ(m.value()->Matches(doc), c.expected) << "filter " << c.filter << " doc " << c.doc;
}

const Case kCases[] = {
    // Equality, null and missing.
    {R"({})", R"({"a": 1})", true},
    {R"({"a": 1})", R"({"a": 1})", true},
    {R"({"a": 1})", R"({"a": 1.0})", true},
    {R"({"a": 1})", R"({"a": {"$numberLong": "1"}})", true},
    {R"({"a": 1})", R"({"a": "1"})", false},
    {R"({"a": 1})", R"({"b": 1})", false},
    {R"({"a": null})", R"({"b": 1})", true},
    {R"({"a": null})", R"({"a": null})", true},
    {R"({"a": null})", R"({"a": 0})", false},
    {R"({"a": null})", R"({"a": [1, null]})", true},
    {R"({"a": null})", R"({"a": [1, 2]})", false},
    {R"({"a.b": null})", R"({"a": [1, 2]})", false},
    {R"({"a.b": null})", R"({"a": [1, {"c": 1}]})", true},
    {R"({"a.b": null})", R"({"a": 5})", true},
    {R"({"a.b": null})", R"({"a": []})", false},
    {R"({"a": {"$eq": null}})", R"({})", true},
    {R"({"a": {"$ne": null}})", R"({})", false},
    {R"({"a": {"$ne": null}})", R"({"a": 1})", true},
    {R"({"a": {"$gte": null}})", R"({})", true},
    {R"({"a": {"$gt": null}})", R"({"a": null})", false},
    // Arrays: any element or the whole array.
    {R"({"a": 2})", R"({"a": [1, 2, 3]})", true},
    {R"({"a": [1, 2]})", R"({"a": [1, 2]})", true},
    {R"({"a": [1, 2]})", R"({"a": [2, 1]})", false},
    {R"({"a": [1, 2]})", R"({"a": [[1, 2], 3]})", true},
    {R"({"a": 1})", R"({"a": [[1, 2], 3]})", false},
    {R"({"a.b": 1})", R"({"a": [{"b": 2}, {"b": 1}]})", true},
    {R"({"a.b": 1})", R"({"a": [{"b": [0, 1]}]})", true},
    {R"({"a.b": 1})", R"({"a": [[{"b": 1}]]})", false},
    {R"({"a.0": 5})", R"({"a": [5, 6]})", true},
    {R"({"a.1": 5})", R"({"a": [5, 6]})", false},
    {R"({"a.0.b": 1})", R"({"a": [{"b": 1}]})", true},
    {R"({"a.0": 1})", R"({"a": {"0": 1}})", true},
    {R"({"a.0.0": 1})", R"({"a": [[1]]})", true},
    {R"({"a.b.c": 1})", R"({"a": {"b": [{"c": 1}]}})", true},
    {R"({"a": {"b": 1}})", R"({"a": {"b": 1}})", true},
    {R"({"a": {"b": 1}})", R"({"a": {"b": 1, "c": 2}})", false},
    // Comparison within the canonical type bracket only.
    {R"({"a": {"$gt": 1}})", R"({"a": 2})", true},
    {R"({"a": {"$gt": 1}})", R"({"a": "2"})", false},
    {R"({"a": {"$lt": "b"}})", R"({"a": 1})", false},
    {R"({"a": {"$lt": "b"}})", R"({"a": "a"})", true},
    {R"({"a": {"$gt": 1}})", R"({"a": [0, 5]})", true},
    {R"({"a": {"$gt": 1, "$lt": 3}})", R"({"a": [0, 5]})", true},
    {R"({"a": {"$gte": 2.5}})", R"({"a": {"$numberDecimal": "2.5"}})", true},
    {R"({"a": {"$lt": {"$date": "2020-01-01T00:00:00Z"}}})", R"({"a": {"$date": "2019-01-01T00:00:00Z"}})", true},
    {R"({"a": {"$gt": {"$minKey": 1}}})", R"({"a": "x"})", true},
    {R"({"a": {"$lt": {"$maxKey": 1}}})", R"({"a": null})", true},
    {R"({"a": {"$gt": [1]}})", R"({"a": [2]})", true},
    {R"({"a": {"$eq": NaN}})", R"({"a": NaN})", true},
    {R"({"a": {"$gt": NaN}})", R"({"a": 1})", false},
    {R"({"a": {"$lt": 1}})", R"({"a": NaN})", false},
    // $ne / $nin are negations over all values.
    {R"({"a": {"$ne": 2}})", R"({"a": [1, 2]})", false},
    {R"({"a": {"$ne": 2}})", R"({"a": [1, 3]})", true},
    {R"({"a": {"$nin": [1, 2]}})", R"({"a": 3})", true},
    {R"({"a": {"$nin": [1, 2]}})", R"({"a": [3, 2]})", false},
    {R"({"a": {"$nin": [1]}})", R"({})", true},
    // $in.
    {R"({"a": {"$in": [1, 2]}})", R"({"a": 2})", true},
    {R"({"a": {"$in": [1, 2]}})", R"({"a": [5, 2]})", true},
    {R"({"a": {"$in": [null]}})", R"({})", true},
    {R"({"a": {"$in": []}})", R"({"a": 1})", false},
    {R"({"a": {"$in": [{"$regularExpression": {"pattern": "^x", "options": ""}}, 5]}})", R"({"a": "xy"})", true},
    {R"({"a": {"$in": [[1, 2]]}})", R"({"a": [1, 2]})", true},
    // Logical.
    {R"({"$or": [{"a": 1}, {"b": 1}]})", R"({"b": 1})", true},
    {R"({"$or": [{"a": 1}, {"b": 1}]})", R"({"c": 1})", false},
    {R"({"$and": [{"a": 1}, {"b": 1}]})", R"({"a": 1, "b": 1})", true},
    {R"({"$and": [{"a": 1}, {"b": 1}]})", R"({"a": 1})", false},
    {R"({"$nor": [{"a": 1}, {"b": 1}]})", R"({"c": 1})", true},
    {R"({"$nor": [{"a": 1}, {"b": 1}]})", R"({"a": 1})", false},
    {R"({"a": {"$not": {"$gt": 5}}})", R"({"a": 3})", true},
    {R"({"a": {"$not": {"$gt": 5}}})", R"({})", true},
    {R"({"a": {"$not": {"$gt": 5}}})", R"({"a": [1, 6]})", false},
    {R"({"$alwaysTrue": 1})", R"({})", true},
    {R"({"$alwaysFalse": 1})", R"({})", false},
    {R"({"$comment": "hi", "a": 1})", R"({"a": 1})", true},
    // $exists.
    {R"({"a": {"$exists": true}})", R"({"a": null})", true},
    {R"({"a": {"$exists": true}})", R"({})", false},
    {R"({"a": {"$exists": 0}})", R"({})", true},
    {R"({"a.b": {"$exists": true}})", R"({"a": [{"c": 1}, {"b": 1}]})", true},
    {R"({"a.b": {"$exists": false}})", R"({"a": [1, 2]})", true},
    // $type.
    {R"({"a": {"%type": "string"}})", R"({"a": "x"})", true},
    {R"({"a": {"%type": 2}})", R"({"a": "x"})", true},
    {R"({"a": {"%type": "number"}})", R"({"a": {"$numberLong": "5"}})", true},
    {R"({"a": {"%type": "number"}})", R"({"a": "5"})", false},
    {R"({"a": {"%type": "array"}})", R"({"a": []})", true},
    {R"({"a": {"%type": "int"}})", R"({"a": [1.5, 2]})", true},
    {R"({"a": {"%type": ["string", "bool"]}})", R"({"a": true})", true},
    {R"({"a": {"%type": "null"}})", R"({})", false},
    // $regex.
    {R"({"a": {"%regex": "^ab"}})", R"({"a": "abc"})", true},
    {R"({"a": {"%regex": "^AB", "%options": "i"}})", R"({"a": "abc"})", true},
    {R"({"a": {"%regex": "^AB"}})", R"({"a": "abc"})", false},
    {R"({"a": {"%regex": {"$regularExpression": {"pattern": "b$", "options": ""}}}})", R"({"a": "ab"})", true},
    {R"({"a": {"$regularExpression": {"pattern": "^x", "options": ""}}})", R"({"a": ["y", "xz"]})", true},
    {R"({"a": {"%regex": "^a.c$", "%options": "s"}})", R"({"a": "a\nc"})", true},
    {R"({"a": {"%regex": "^c", "%options": "m"}})", R"({"a": "a\nc"})", true},
    {R"({"a": {"%regex": "a b", "%options": "x"}})", R"({"a": "ab"})", true},
    {R"({"a": {"%regex": "1"}})", R"({"a": 1})", false},
    {R"({"a": {"$not": {"$regularExpression": {"pattern": "^x", "options": ""}}}})", R"({"a": "y"})", true},
    // $mod.
    {R"({"a": {"$mod": [4, 1]}})", R"({"a": 5})", true},
    {R"({"a": {"$mod": [4, 1]}})", R"({"a": 5.9})", true},
    {R"({"a": {"$mod": [4, 1]}})", R"({"a": 6})", false},
    {R"({"a": {"$mod": [4, -1]}})", R"({"a": -5})", true},
    // $all.
    {R"({"a": {"$all": [1, 2]}})", R"({"a": [2, 3, 1]})", true},
    {R"({"a": {"$all": [1, 2]}})", R"({"a": [2, 3]})", false},
    {R"({"a": {"$all": []}})", R"({"a": []})", false},
    {R"({"a": {"$all": [1]}})", R"({"a": 1})", true},
    {R"({"a": {"$all": [[1, 2]]}})", R"({"a": [1, 2]})", true},
    {R"({"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"c": 2}}]}})", R"({"a": [{"b": 1}, {"c": 2}]})", true},
    // $elemMatch.
    {R"({"a": {"$elemMatch": {"$gt": 1, "$lt": 3}}})", R"({"a": [0, 5, 2]})", true},
    {R"({"a": {"$elemMatch": {"$gt": 1, "$lt": 3}}})", R"({"a": [0, 5]})", false},
    {R"({"a": {"$elemMatch": {"$gt": 1}}})", R"({"a": 5})", false},
    {R"({"a": {"$elemMatch": {"b": 1, "c": 2}}})", R"({"a": [{"b": 1}, {"c": 2}]})", false},
    {R"({"a": {"$elemMatch": {"b": 1, "c": 2}}})", R"({"a": [{"b": 1, "c": 2}]})", true},
    {R"({"a": {"$elemMatch": {"$or": [{"b": 1}, {"c": 2}]}}})", R"({"a": [{"c": 2}]})", true},
    {R"({"a.b": {"$elemMatch": {"$eq": 1}}})", R"({"a": [{"b": [1]}]})", true},
    // $size.
    {R"({"a": {"$size": 2}})", R"({"a": [1, 2]})", true},
    {R"({"a": {"$size": 2}})", R"({"a": [[1, 2]]})", false},
    {R"({"a": {"$size": 0}})", R"({"a": []})", true},
    {R"({"a": {"$size": 1}})", R"({"a": 1})", false},
    {R"({"a.b": {"$size": 1}})", R"({"a": [{"b": [1, 2]}, {"b": [3]}]})", true},
    // Documents compare field by field, in order.
    {R"({"a": {"$eq": {"x": 1, "y": 2}}})", R"({"a": {"y": 2, "x": 1}})", false},
    {R"({"a": {"$gt": {"x": 1}}})", R"({"a": {"x": 2}})", true},
    // DBRef-shaped documents are values, not operators.
    {R"({"a": {"$ref": "c", "$id": 1}})", R"({"a": {"$ref": "c", "$id": 1}})", true},
};

INSTANTIATE_TEST_SUITE_P(Table, MatcherTableTest, ::testing::ValuesIn(kCases));

struct ErrorCase {
  const char* filter;
  int code;
  const char* message;  // exact when non-empty
};

class MatcherErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(MatcherErrorTest, Fails) {
  const ErrorCase& c = GetParam();
  auto m = Matcher::Parse(J(c.filter), MatcherOptions{});
  ASSERT_FALSE(m.ok()) << c.filter;
  EXPECT_EQ(m.status().code(), c.code) << c.filter << ": " << m.status().ToString();
  if (c.message[0]) {
    EXPECT_EQ(m.status().reason(), c.message);
  }
}

const ErrorCase kErrors[] = {
    {R"({"a": {"$foo": 1}})", 2, "unknown operator: $foo"},
    {R"({"a": {"$gt": 1, "b": 1}})", 2, "unknown operator: b"},
    {R"({"$foo": 1})", 2,
     "unknown top level operator: $foo. If you have a field name that starts with a '$' symbol, "
     "consider using $getField or $setField."},
    {R"({"a": {"$in": 1}})", 2, "$in needs an array"},
    {R"({"a": {"$nin": 1}})", 2, "$nin needs an array"},
    {R"({"a": {"$in": [{"$gt": 1}]}})", 2, "cannot nest $ under $in"},
    {R"({"a": {"%regex": "("}})", 51091, ""},
    {R"({"a": {"%regex": "a", "%options": "z"}})", 51108, ""},
    {R"({"a": {"%options": "i"}})", 2, "$options needs a $regex"},
    {R"({"a": {"%regex": 1}})", 2, "$regex has to be a string"},
    {R"({"a": {"$mod": [1]}})", 2, "malformed mod, not enough elements"},
    {R"({"a": {"$mod": [1, 2, 3]}})", 2, "malformed mod, too many elements"},
    {R"({"a": {"$mod": 1}})", 2, "malformed mod, needs to be an array"},
    {R"({"a": {"$mod": [0, 1]}})", 2, "divisor cannot be 0"},
    {R"({"a": {"$size": "x"}})", 2, ""},
    {R"({"a": {"$size": -1}})", 2, ""},
    {R"({"a": {"$size": 1.5}})", 2, ""},
    {R"({"a": {"%type": "foo"}})", 2, "Unknown type name alias: foo"},
    {R"({"a": {"%type": 100}})", 2, ""},
    {R"({"a": {"%type": []}})", 2, "$type must match at least one type"},
    {R"({"$and": []})", 2, "$and/$or/$nor must be a nonempty array"},
    {R"({"$or": 1})", 2, "$or must be an array"},
    {R"({"$or": [1]})", 2, "$or/$and/$nor entries need to be full objects"},
    {R"({"$where": "true"})", 2, ""},
    {R"({"a": {"$not": {}}})", 2, "$not cannot be empty"},
    {R"({"a": {"$not": 1}})", 2, "$not needs a regex or a document"},
    {R"({"a": {"$elemMatch": 1}})", 2, "$elemMatch needs an Object"},
    {R"({"a": {"$all": 1}})", 2, "$all needs an array"},
    {R"({"a": {"$ne": {"$regularExpression": {"pattern": "x", "options": ""}}}})", 2, ""},
};

INSTANTIATE_TEST_SUITE_P(Table, MatcherErrorTest, ::testing::ValuesIn(kErrors));

TEST(MatcherTest, RecordsArrayPositionForPositionalOperator) {
  auto m = Matcher::Parse(J(R"({"a.b": 2})"), MatcherOptions{});
  ASSERT_TRUE(m.ok());
  MatchDetails d;
  ASSERT_TRUE(m.value()->Matches(J(R"({"a": [{"b": 1}, {"b": 2}]})"), &d));
  ASSERT_TRUE(d.has_elem_match_key());
  EXPECT_EQ(d.elem_match_key(), "1");

  auto m2 = Matcher::Parse(J(R"({"a": {"$elemMatch": {"$gt": 4}}})"), MatcherOptions{});
  ASSERT_TRUE(m2.ok());
  MatchDetails d2;
  ASSERT_TRUE(m2.value()->Matches(J(R"({"a": [1, 5, 7]})"), &d2));
  EXPECT_EQ(d2.elem_match_key(), "1");

  // The outermost implicitly traversed array wins.
  auto m3 = Matcher::Parse(J(R"({"a.b": 3})"), MatcherOptions{});
  MatchDetails d3;
  ASSERT_TRUE(m3.value()->Matches(J(R"({"a": [{"b": [1]}, {"b": [2, 3]}]})"), &d3));
  EXPECT_EQ(d3.elem_match_key(), "1");

  MatchDetails d4;
  auto m4 = Matcher::Parse(J(R"({"a": 1})"), MatcherOptions{});
  ASSERT_TRUE(m4.value()->Matches(J(R"({"a": 1})"), &d4));
  EXPECT_FALSE(d4.has_elem_match_key());
}

class CaseInsensitive : public bson::StringComparator {
 public:
  int Compare(std::string_view a, std::string_view b) const override {
    std::string x(a), y(b);
    for (auto& c : x) c = static_cast<char>(tolower(c));
    for (auto& c : y) c = static_cast<char>(tolower(c));
    return x < y ? -1 : (x > y ? 1 : 0);
  }
};

TEST(MatcherTest, UsesCollatorForStrings) {
  CaseInsensitive ci;
  MatcherOptions opts;
  opts.collator = &ci;
  auto m = Matcher::Parse(J(R"({"a": "ABC"})"), opts);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m.value()->Matches(J(R"({"a": "abc"})")));
  auto m2 = Matcher::Parse(J(R"({"a": {"$in": ["X", "ABC"]}})"), opts);
  EXPECT_TRUE(m2.value()->Matches(J(R"({"a": "abc"})")));
}

TEST(MatcherTest, MatchesValue) {
  auto m = Matcher::Parse(J(R"({"": {"$gte": 6}})"), MatcherOptions{});
  ASSERT_TRUE(m.ok());
  bson::Doc d = J(R"({"x": 7, "y": 5})");
  EXPECT_TRUE(m.value()->MatchesValue(d["x"]));
  EXPECT_FALSE(m.value()->MatchesValue(d["y"]));
}

TEST(MatcherTest, ExprNotAllowed) {
  MatcherOptions opts;
  opts.allow_expr = false;
  auto m = Matcher::Parse(J(R"({"$expr": {"$eq": ["$a", 1]}})"), opts);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), 224);
}

}  // namespace
}  // namespace brook::query

namespace brook::query {
namespace {

TEST(MatcherExprTest, EvaluatesThroughExpressionEngine) {
  auto m = Matcher::Parse(testutil::J(R"({"$expr": {"$gt": ["$a", "$b"]}})"), MatcherOptions{});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m.value()->Matches(testutil::J(R"({"a": 2, "b": 1})")));
  EXPECT_FALSE(m.value()->Matches(testutil::J(R"({"a": 1, "b": 2})")));
}

TEST(MatcherExprTest, RuntimeErrorIsReported) {
  auto m = Matcher::Parse(testutil::J(R"({"$expr": {"$divide": [1, "$z"]}})"), MatcherOptions{});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto r = m.value()->MatchesOrError(testutil::J(R"({"z": 0})"));
  EXPECT_FALSE(r.ok());
}

TEST(MatcherExprTest, LetVariables) {
  bson::Doc let = testutil::J(R"({"limit": 3})");
  MatcherOptions opts;
  opts.let_variables = let.view();
  auto m = Matcher::Parse(testutil::J(R"({"$expr": {"$lt": ["$a", "$$limit"]}})"), opts);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m.value()->Matches(testutil::J(R"({"a": 2})")));
  EXPECT_FALSE(m.value()->Matches(testutil::J(R"({"a": 4})")));
}

}  // namespace
}  // namespace brook::query
