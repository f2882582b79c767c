#include "query/collation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "query/matcher.h"
#include "query/path_testutil.h"

namespace brook::query {
namespace {

using testutil::J;

CollatorPtr Make(const std::string& json) {
  auto c = ParseCollation(J(json));
  EXPECT_TRUE(c.ok()) << json << ": " << c.status().ToString();
  return c.ok() ? c.value() : nullptr;
}

Status ParseError(const std::string& json) {
  auto c = ParseCollation(J(json));
  EXPECT_FALSE(c.ok()) << json;
  return c.ok() ? Status::OK() : c.status();
}

TEST(CollationParseTest, SimpleIsNull) {
  auto c = ParseCollation(J(R"({"locale": "simple"})"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.value(), nullptr);
}

TEST(CollationParseTest, Errors) {
  EXPECT_EQ(ParseError(R"({})").code(), static_cast<int>(ErrorCodes::kNoSuchKey));
  EXPECT_EQ(ParseError(R"({"locale": 3})").code(), static_cast<int>(ErrorCodes::kTypeMismatch));
  Status bad = ParseError(R"({"locale": "garbage"})");
  EXPECT_EQ(bad.code(), static_cast<int>(ErrorCodes::kBadValue));
  EXPECT_EQ(bad.reason(), "Field 'locale' is invalid in: { locale: \"garbage\" }");
  EXPECT_EQ(ParseError(R"({"locale": ""})").code(), static_cast<int>(ErrorCodes::kBadValue));
  EXPECT_EQ(ParseError(R"({"locale": "en_ZZ"})").code(), static_cast<int>(ErrorCodes::kBadValue));
  EXPECT_EQ(ParseError(R"({"locale": "en_us"})").code(), static_cast<int>(ErrorCodes::kBadValue));
  EXPECT_EQ(ParseError(R"({"locale": "simple", "strength": 2})").code(), static_cast<int>(ErrorCodes::kFailedToParse));
  EXPECT_EQ(ParseError(R"({"locale": "en", "strength": 0})").code(), static_cast<int>(ErrorCodes::kFailedToParse));
  EXPECT_EQ(ParseError(R"({"locale": "en", "strength": 6})").code(), static_cast<int>(ErrorCodes::kFailedToParse));
  EXPECT_EQ(ParseError(R"({"locale": "en", "strength": "2"})").code(), static_cast<int>(ErrorCodes::kTypeMismatch));
  EXPECT_EQ(ParseError(R"({"locale": "en", "caseLevel": 1})").code(), static_cast<int>(ErrorCodes::kTypeMismatch));
  EXPECT_EQ(ParseError(R"({"locale": "en", "caseFirst": "middle"})").code(), static_cast<int>(ErrorCodes::kFailedToParse));
  EXPECT_EQ(ParseError(R"({"locale": "en", "alternate": "x"})").code(), static_cast<int>(ErrorCodes::kFailedToParse));
  EXPECT_EQ(ParseError(R"({"locale": "en", "maxVariable": "x"})").code(), static_cast<int>(ErrorCodes::kFailedToParse));
  EXPECT_EQ(ParseError(R"({"locale": "en", "bogus": true})").code(), static_cast<int>(ErrorCodes::kFailedToParse));
  EXPECT_EQ(ParseError(R"({"locale": "en", "strength": 1, "backwards": true})").code(),
            static_cast<int>(ErrorCodes::kBadValue));
  EXPECT_EQ(ParseError(R"({"locale": "en", "strength": 2, "caseFirst": "upper"})").code(),
            static_cast<int>(ErrorCodes::kBadValue));
  EXPECT_TRUE(ParseCollation(J(R"({"locale": "en", "strength": 2, "caseFirst": "upper",
                                   "caseLevel": true})")).ok());
}

TEST(CollationParseTest, NormalizedSpecAndLocaleDefaults) {
  auto c = Make(R"({"locale": "en_US", "strength": 2})");
  EXPECT_EQ(c->spec().ToBson().ToString(),
            J(R"({"locale": "en_US", "caseLevel": false, "caseFirst": "off", "strength": 2,
                  "numericOrdering": false, "alternate": "non-ignorable",
                  "maxVariable": "punct", "normalization": false, "backwards": false,
                  "version": "57.1"})").ToString());
  EXPECT_TRUE(Make(R"({"locale": "fr_CA"})")->spec().backwards);
  EXPECT_EQ(Make(R"({"locale": "da"})")->spec().case_first, CollationSpec::CaseFirst::kUpper);
  EXPECT_TRUE(SameCollation(Make(R"({"locale": "en", "strength": 2})").get(),
                            Make(R"({"locale": "en", "strength": 2.0})").get()));
  EXPECT_FALSE(SameCollation(Make(R"({"locale": "en"})").get(), nullptr));
  EXPECT_TRUE(SameCollation(nullptr, nullptr));
}

int Cmp(const CollatorPtr& c, std::string_view a, std::string_view b) {
  int r = c->Compare(a, b);
  int back = c->Compare(b, a);
  EXPECT_EQ(r < 0, back > 0) << a << " vs " << b;
  EXPECT_EQ(r == 0, back == 0) << a << " vs " << b;
  return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

TEST(CollatorTest, Strengths) {
  auto s1 = Make(R"({"locale": "en", "strength": 1})");
  auto s2 = Make(R"({"locale": "en", "strength": 2})");
  auto s3 = Make(R"({"locale": "en"})");
  EXPECT_EQ(Cmp(s1, "ping", "PING"), 0);
  EXPECT_EQ(Cmp(s1, "resume", "résumé"), 0);
  EXPECT_EQ(Cmp(s1, "Strasse", "straße"), 0);
  EXPECT_EQ(Cmp(s2, "ping", "PING"), 0);
  EXPECT_EQ(Cmp(s2, "pINg", "ping"), 0);
  EXPECT_EQ(Cmp(s2, "resume", "résumé"), -1);
  EXPECT_EQ(Cmp(s2, "e\xCC\x81", "\xC3\xA9"), 0);  // e + combining acute == é
  EXPECT_EQ(Cmp(s3, "ping", "PING"), -1);           // lowercase first
  EXPECT_EQ(Cmp(s3, "a", "B"), -1);                 // alphabet before case
  EXPECT_EQ(Cmp(s3, "B", "a"), 1);
  EXPECT_EQ(Cmp(s3, "côte", "coté"), 1);
  EXPECT_EQ(Cmp(s3, "abc", "abd"), -1);
  EXPECT_EQ(Cmp(s3, "ab", "abc"), -1);
  EXPECT_EQ(Cmp(s1, "Ärger", "arger"), 0);
  EXPECT_EQ(Cmp(s3, "zebra", "Ærø"), 1);            // æ sorts as "ae"
}

TEST(CollatorTest, RootOrderOfCharacterClasses) {
  auto c = Make(R"({"locale": "en"})");
  std::vector<std::string> words = {"b", "A", "_", "1", " ", "a", "$", "-", "10", "2", "é", "Z"};
  std::sort(words.begin(), words.end(),
            [&](const std::string& x, const std::string& y) { return c->Compare(x, y) < 0; });
  std::vector<std::string> expected = {" ", "_", "-", "$", "1", "10", "2", "a", "A", "b", "é", "Z"};
  EXPECT_EQ(words, expected);
}

TEST(CollatorTest, CaseFirstAndCaseLevel) {
  auto upper = Make(R"({"locale": "en", "caseFirst": "upper"})");
  EXPECT_EQ(Cmp(upper, "PING", "ping"), -1);
  auto level = Make(R"({"locale": "en", "strength": 1, "caseLevel": true})");
  EXPECT_EQ(Cmp(level, "role", "rôle"), 0);
  EXPECT_EQ(Cmp(level, "role", "Role"), -1);
}

TEST(CollatorTest, NumericOrdering) {
  auto num = Make(R"({"locale": "en", "numericOrdering": true})");
  auto plain = Make(R"({"locale": "en"})");
  EXPECT_EQ(Cmp(num, "a2", "a10"), -1);
  EXPECT_EQ(Cmp(plain, "a2", "a10"), 1);
  EXPECT_EQ(Cmp(num, "007", "7"), 0);
  EXPECT_EQ(Cmp(num, "100", "99"), 1);
  EXPECT_EQ(Cmp(num, "1.5", "1.10"), -1);
}

TEST(CollatorTest, AlternateShiftedIgnoresPunctuation) {
  auto shifted = Make(R"({"locale": "en", "alternate": "shifted"})");
  EXPECT_EQ(Cmp(shifted, "black-bird", "blackbird"), 0);
  EXPECT_EQ(Cmp(shifted, "black bird", "blackbird"), 0);
  auto quaternary = Make(R"({"locale": "en", "alternate": "shifted", "strength": 4})");
  EXPECT_NE(Cmp(quaternary, "black-bird", "blackbird"), 0);
  auto space = Make(R"({"locale": "en", "alternate": "shifted", "maxVariable": "space"})");
  EXPECT_EQ(Cmp(space, "black bird", "blackbird"), 0);
  EXPECT_NE(Cmp(space, "black-bird", "blackbird"), 0);
}

TEST(CollatorTest, BackwardsSecondary) {
  auto fr = Make(R"({"locale": "fr_CA"})");
  auto en = Make(R"({"locale": "en"})");
  // The classic French example: the last accent decides.
  EXPECT_EQ(Cmp(en, "cote", "côte"), -1);
  EXPECT_EQ(Cmp(en, "côte", "coté"), 1);
  EXPECT_EQ(Cmp(fr, "côte", "coté"), -1);
}

TEST(CollatorTest, IdenticalStrengthBreaksTies) {
  auto s5 = Make(R"({"locale": "en", "strength": 5})");
  EXPECT_NE(Cmp(s5, "e\xCC\x81", "\xC3\xA9"), 0);
  auto s3 = Make(R"({"locale": "en"})");
  EXPECT_EQ(Cmp(s3, "e\xCC\x81", "\xC3\xA9"), 0);
}

TEST(CollatorTest, InvalidUtf8DoesNotCrash) {
  auto c = Make(R"({"locale": "en"})");
  std::string bad1 = "a\xff", bad2 = "a\xc3", bad3 = "\xe2\x82";
  EXPECT_NE(c->Compare(bad1, "a"), 0);
  (void)c->Compare(bad2, bad3);
}

TEST(CollatorTest, MatcherUsesCollator) {
  auto c = Make(R"({"locale": "en", "strength": 2})");
  MatcherOptions opts;
  opts.collator = c.get();
  auto m = Matcher::Parse(J(R"({"x": "PING"})"), opts);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m.value()->Matches(J(R"({"x": "ping"})")));
  EXPECT_FALSE(m.value()->Matches(J(R"({"x": "pong"})")));
  auto in = Matcher::Parse(J(R"({"x": {"$in": ["A", "b"]}})"), opts);
  ASSERT_TRUE(in.ok());
  EXPECT_TRUE(in.value()->Matches(J(R"({"x": "a"})")));
  EXPECT_TRUE(in.value()->Matches(J(R"({"x": "B"})")));
  auto gt = Matcher::Parse(J(R"({"x": {"$gt": "a"}})"), opts);
  ASSERT_TRUE(gt.ok());
  EXPECT_FALSE(gt.value()->Matches(J(R"({"x": "A"})")));
}

}  // namespace
}  // namespace brook::query
