#include "query/path.h"

#include <gtest/gtest.h>

#include "bson/json.h"
#include "query/path_testutil.h"

namespace brook::query {
namespace {

using testutil::J;

// The values VisitPath yields, as "json@offset" strings ("missing" for a missing value).
std::vector<std::string> Walk(const char* doc_json, const char* path,
                              LeafArrayBehavior leaf = LeafArrayBehavior::kTraverse) {
  bson::Doc doc = J(doc_json);
  std::vector<std::string> out;
  VisitPath(doc, FieldPath(path), leaf, [&](const bson::Element& e, int offset) {
    out.push_back((e.missing() ? std::string("missing") : e.ToString()) + "@" + std::to_string(offset));
    return false;
  });
  return out;
}

TEST(PathTest, SplitAndIndexes) {
  FieldPath p("a.b.0");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[1], "b");
  EXPECT_EQ(p.Prefix(2), "a.b");
  EXPECT_FALSE(p.HasEmptyComponent());
  EXPECT_TRUE(FieldPath("a..b").HasEmptyComponent());
  FieldPath moved = std::move(p);
  EXPECT_EQ(moved[0], "a");
  FieldPath copy;
  copy = moved;
  EXPECT_EQ(copy[2], "0");
  EXPECT_EQ(ParseArrayIndex("0"), 0u);
  EXPECT_EQ(ParseArrayIndex("12"), 12u);
  EXPECT_FALSE(ParseArrayIndex("01").has_value());
  EXPECT_FALSE(ParseArrayIndex("-1").has_value());
  EXPECT_FALSE(ParseArrayIndex("1a").has_value());
  EXPECT_TRUE(IsAllDigits("01"));
}

TEST(PathTest, DocumentsOnly) {
  EXPECT_EQ(Walk(R"({"a": {"b": 1}})", "a.b"), std::vector<std::string>({"1@-1"}));
  EXPECT_EQ(Walk(R"({"a": {"c": 1}})", "a.b"), std::vector<std::string>({"missing@-1"}));
  EXPECT_EQ(Walk(R"({"a": 5})", "a.b"), std::vector<std::string>({"missing@-1"}));
}

TEST(PathTest, LeafArrayYieldsElementsThenItself) {
  auto v = Walk(R"({"a": [1, 2]})", "a");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], "1@0");
  EXPECT_EQ(v[1], "2@1");
  EXPECT_EQ(v[2].substr(v[2].size() - 3), "@-1");
  EXPECT_EQ(Walk(R"({"a": [1, 2]})", "a", LeafArrayBehavior::kNoTraversal).size(), 1u);
}

TEST(PathTest, ImplicitTraversalOfDocumentsInArrays) {
  EXPECT_EQ(Walk(R"({"a": [{"b": 1}, {"c": 2}, 3]})", "a.b"),
            std::vector<std::string>({"1@0", "missing@1"}));
  EXPECT_TRUE(Walk(R"({"a": [1, 2]})", "a.b").empty());
  // Nested arrays are not traversed implicitly.
  EXPECT_TRUE(Walk(R"({"a": [[{"b": 1}]]})", "a.b").empty());
}

TEST(PathTest, NumericComponents) {
  EXPECT_EQ(Walk(R"({"a": [5, 6]})", "a.1"), std::vector<std::string>({"6@-1"}));
  EXPECT_EQ(Walk(R"({"a": [{"b": 1}, {"b": 2}]})", "a.1.b"), std::vector<std::string>({"missing@0", "missing@1", "2@-1"}));
  EXPECT_EQ(Walk(R"({"a": [[7, 8]]})", "a.0.1"), std::vector<std::string>({"8@-1"}));
  EXPECT_EQ(Walk(R"({"a": {"0": 3}})", "a.0"), std::vector<std::string>({"3@-1"}));
}

TEST(PathTest, OutermostOffsetWins) {
  auto v = Walk(R"({"a": [{"b": [1, 2]}, {"b": [3]}]})", "a.b");
  ASSERT_GE(v.size(), 4u);
  EXPECT_EQ(v[0], "1@0");
  EXPECT_EQ(v[1], "2@0");
  EXPECT_EQ(v[3], "3@1");
}

}  // namespace
}  // namespace brook::query
