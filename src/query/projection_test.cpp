#include "query/projection.h"

#include <gtest/gtest.h>

#include "bson/json.h"
#include "query/path_testutil.h"

namespace brook::query {
namespace {

using testutil::J;

struct PCase {
  const char* spec;
  const char* doc;
  const char* expected;
  const char* match_key = nullptr;
};

class ProjectionTableTest : public ::testing::TestWithParam<PCase> {};

TEST_P(ProjectionTableTest, Applies) {
  const PCase& c = GetParam();
  auto p = Projection::Parse(J(c.spec), ProjectionOptions{});
  ASSERT_TRUE(p.ok()) << c.spec << ": " << p.status().ToString();
  MatchDetails md;
  if (c.match_key) md.SetElemMatchKey(c.match_key);
  auto r = p.value()->Apply(J(c.doc), c.match_key ? &md : nullptr);
  ASSERT_TRUE(r.ok()) << c.spec << ": " << r.status().ToString();
  EXPECT_EQ(bson::ToRelaxedJson(r.value()), bson::ToRelaxedJson(J(c.expected)))
      << "spec " << c.spec << " doc " << c.doc;
}

const PCase kCases[] = {
    {R"({})", R"({"_id": 1, "a": 1})", R"({"_id": 1, "a": 1})"},
    {R"({"a": 1})", R"({"_id": 1, "a": 1, "b": 2})", R"({"_id": 1, "a": 1})"},
    {R"({"a": true, "_id": 0})", R"({"_id": 1, "a": 1, "b": 2})", R"({"a": 1})"},
    {R"({"b": 1, "a": 1})", R"({"_id": 1, "a": 1, "b": 2})", R"({"_id": 1, "a": 1, "b": 2})"},
    {R"({"a": 0})", R"({"_id": 1, "a": 1, "b": 2})", R"({"_id": 1, "b": 2})"},
    {R"({"_id": 0})", R"({"_id": 1, "a": 1})", R"({"a": 1})"},
    {R"({"_id": 1})", R"({"_id": 1, "a": 1})", R"({"_id": 1})"},
    {R"({"a.b": 1})", R"({"_id": 1, "a": {"b": 1, "c": 2}, "d": 3})", R"({"_id": 1, "a": {"b": 1}})"},
    {R"({"a": {"b": 1}})", R"({"_id": 1, "a": {"b": 1, "c": 2}})", R"({"_id": 1, "a": {"b": 1}})"},
    {R"({"a.b": 1})", R"({"_id": 1, "a": [{"b": 1, "c": 2}, 5, {"c": 3}, [{"b": 4}]]})", R"({"_id": 1, "a": [{"b": 1}, {}, [{"b": 4}]]})"},
    {R"({"a.b": 0})", R"({"_id": 1, "a": [{"b": 1, "c": 2}, 5]})", R"({"_id": 1, "a": [{"c": 2}, 5]})"},
    {R"({"a.b": 1})", R"({"_id": 1, "a": 5})", R"({"_id": 1})"},
    {R"({"a.b": 0})", R"({"_id": 1, "a": 5})", R"({"_id": 1, "a": 5})"},
    {R"({"a": {"$slice": 2}})", R"({"_id": 1, "a": [1, 2, 3], "b": 1})", R"({"_id": 1, "a": [1, 2], "b": 1})"},
    {R"({"a": {"$slice": -2}})", R"({"_id": 1, "a": [1, 2, 3]})", R"({"_id": 1, "a": [2, 3]})"},
    {R"({"a": {"$slice": [1, 1]}})", R"({"_id": 1, "a": [1, 2, 3]})", R"({"_id": 1, "a": [2]})"},
    {R"({"a": {"$slice": [-1, 5]}})", R"({"_id": 1, "a": [1, 2, 3]})", R"({"_id": 1, "a": [3]})"},
    {R"({"a": {"$slice": 1}, "b": 1})", R"({"_id": 1, "a": [1, 2], "b": 1, "c": 1})", R"({"_id": 1, "a": [1], "b": 1})"},
    {R"({"a": {"$slice": 1}})", R"({"_id": 1, "a": 5})", R"({"_id": 1, "a": 5})"},
    {R"({"a": {"$elemMatch": {"b": 2}}})", R"({"_id": 1, "a": [{"b": 1}, {"b": 2, "c": 1}], "z": 1})", R"({"_id": 1, "a": [{"b": 2, "c": 1}]})"},
    {R"({"a": {"$elemMatch": {"b": 9}}})", R"({"_id": 1, "a": [{"b": 1}]})", R"({"_id": 1})"},
    {R"({"a.$": 1})", R"({"_id": 1, "a": [1, 2, 3], "b": 1})", R"({"_id": 1, "a": [2]})", "1"},
    {R"({"a.b.$": 1})", R"({"_id": 1, "a": [{"b": 1, "c": 1}, {"b": 2, "c": 2}]})", R"({"_id": 1, "a": [{"b": 2}]})", "1"},
    // Computed fields (4.4+): expressions, field paths and literals, appended in spec order.
    {R"({"x": "$a", "a": 1})", R"({"_id": 1, "a": 5, "b": 1})", R"({"_id": 1, "a": 5, "x": 5})"},
    {R"({"x": {"$add": ["$a", 1]}})", R"({"_id": 1, "a": 5})", R"({"_id": 1, "x": 6})"},
    {R"({"x": "lit"})", R"({"_id": 1})", R"({"_id": 1, "x": "lit"})"},
    {R"({"s.t": {"$literal": 1}})", R"({"_id": 1})", R"({"_id": 1, "s": {"t": 1}})"},
    {R"({"x": "$missing"})", R"({"_id": 1})", R"({"_id": 1})"},
};

INSTANTIATE_TEST_SUITE_P(Table, ProjectionTableTest, ::testing::ValuesIn(kCases));

struct PError {
  const char* spec;
  int code;
  const char* message;
};

class ProjectionErrorTest : public ::testing::TestWithParam<PError> {};

TEST_P(ProjectionErrorTest, Fails) {
  const PError& c = GetParam();
  auto p = Projection::Parse(J(c.spec), ProjectionOptions{});
  ASSERT_FALSE(p.ok()) << c.spec;
  EXPECT_EQ(p.status().code(), c.code) << p.status().ToString();
  if (c.message[0]) {
    EXPECT_EQ(p.status().reason(), c.message);
  }
}

const PError kErrors[] = {
    {R"({"a": 1, "b": 0})", 31254, "Cannot do exclusion on field b in inclusion projection"},
    {R"({"a": 0, "b": 1})", 31253, "Cannot do inclusion on field b in exclusion projection"},
    {R"({"a": 0, "b": {"$add": [1, 2]}})", 31252, ""},
    {R"({"a": 1, "a.b": 1})", 31249, "Path collision at a.b remaining portion b"},
    {R"({"a.b": 1, "a": 1})", 31250, "Path collision at a"},
    {R"({"a": {"$slice": "x"}})", 31273, ""},
    {R"({"a": {"$slice": [1]}})", 31272, ""},
    {R"({"a": {"$slice": [1, 0]}})", 31259, ""},
    {R"({"a.b": {"$elemMatch": {"c": 1}}})", 31275, ""},
    {R"({"a.$": 1, "b.$": 1})", 31276, ""},
    {R"({"a": {"$elemMatch": 1}})", 31274, ""},
};

INSTANTIATE_TEST_SUITE_P(Table, ProjectionErrorTest, ::testing::ValuesIn(kErrors));

TEST(ProjectionTest, PositionalWithoutMatchFails) {
  auto p = Projection::Parse(J(R"({"a.$": 1})"), ProjectionOptions{});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p.value()->has_positional());
  auto r = p.value()->Apply(J(R"({"a": [1]})"), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 51246);
}

TEST(ProjectionTest, AggregationSemanticsTreatSliceAsExpression) {
  ProjectionOptions o;
  o.find_semantics = false;
  auto p = Projection::Parse(J(R"({"a": {"$slice": ["$a", 1]}})"), o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto r = p.value()->Apply(J(R"({"_id": 1, "a": [1, 2]})"), nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(bson::ToRelaxedJson(r.value()), bson::ToRelaxedJson(J(R"({"_id": 1, "a": [1]})")));
}

}  // namespace
}  // namespace brook::query
