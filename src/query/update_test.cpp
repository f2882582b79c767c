#include "query/update.h"

#include <gtest/gtest.h>

#include "bson/builder.h"
#include "bson/json.h"
#include "query/path_testutil.h"

namespace brook::query {
namespace {

using testutil::J;

struct UCase {
  const char* doc;
  const char* update;  // the `u` value, as {"u": ...}
  const char* expected_doc;
  const char* expected_desc;  // {updatedFields, removedFields, truncatedArrays}; "" to skip
  const char* match_key = nullptr;
  const char* array_filters = nullptr;  // {"f": [...]}
};

std::string Show(bson::View v) { return bson::ToRelaxedJson(v); }

UpdateOptions FixedClock() {
  UpdateOptions o;
  o.now_millis = 1600000000000;
  o.now_timestamp = bson::Timestamp{1600000000, 7};
  return o;
}

void RunCase(const UCase& c) {
  SCOPED_TRACE(std::string("doc ") + c.doc + " update " + c.update);
  bson::Doc u = J(c.update);
  bson::Doc filters = c.array_filters ? J(c.array_filters) : bson::Doc();
  bson::View filters_view = c.array_filters ? filters["f"].Obj() : bson::View();
  auto d = UpdateDriver::Parse(u["u"], filters_view, FixedClock());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  MatchDetails md;
  if (c.match_key) md.SetElemMatchKey(c.match_key);
  bson::Doc doc = J(c.doc);
  auto r = d.value()->Apply(doc, c.match_key ? &md : nullptr, false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  bson::Doc expected = J(c.expected_doc);
  EXPECT_TRUE(bson::BinaryEqual(r.value().new_doc, expected))
      << "got " << Show(r.value().new_doc) << " want " << Show(expected);
  EXPECT_EQ(r.value().changed, !bson::BinaryEqual(doc, expected));
  if (c.expected_desc[0]) {
    bson::Doc want = J(c.expected_desc);
    bson::Doc got = r.value().description.ToBson(false);
    EXPECT_TRUE(bson::BinaryEqual(got, want)) << "desc " << Show(got) << " want " << Show(want);
  }
}

class UpdateTableTest : public ::testing::TestWithParam<UCase> {};
TEST_P(UpdateTableTest, Applies) { RunCase(GetParam()); }

#define DESC(u, r, t) "{\"updatedFields\": " u ", \"removedFields\": " r ", \"truncatedArrays\": " t "}"
#define NODESC DESC("{}", "[]", "[]")

const UCase kCases[] = {
    // $set: update, create, nested create, no-op, type change.
    {R"({"_id": 1, "a": 1})", R"({"u": {"$set": {"a": 2}}})", R"({"_id": 1, "a": 2})", DESC(R"({"a": 2})", "[]", "[]")},
    {R"({"_id": 1, "a": {}})", R"({"u": {"$set": {"a.b": 1}}})", R"({"_id": 1, "a": {"b": 1}})", DESC(R"({"a.b": 1})", "[]", "[]")},
    {R"({"_id": 1})", R"({"u": {"$set": {"a.b.c": 1}}})", R"({"_id": 1, "a": {"b": {"c": 1}}})", DESC(R"({"a": {"b": {"c": 1}}})", "[]", "[]")},
    {R"({"_id": 1, "a": 1})", R"({"u": {"$set": {"a": 1}}})", R"({"_id": 1, "a": 1})", NODESC},
    {R"({"_id": 1, "a": 1})", R"({"u": {"$set": {"a": 1.0}}})", R"({"_id": 1, "a": 1.0})", DESC(R"({"a": 1.0})", "[]", "[]")},
    {R"({"_id": 1, "a": {"b": 1}})", R"({"u": {"$set": {"a": {"b": 1}}}})", R"({"_id": 1, "a": {"b": 1}})", NODESC},
    {R"({"_id": 1, "z": 0})", R"({"u": {"$set": {"b": 1, "a": 2}}})", R"({"_id": 1, "z": 0, "a": 2, "b": 1})", ""},
    {R"({"_id": 1})", R"({"u": {"$set": {"a.10": 1, "a.9": 2}}})", R"({"_id": 1, "a": {"9": 2, "10": 1}})", ""},
    {R"({"_id": 1, "a": {"b": 1}})", R"({"u": {"$set": {"a.c": 1}}})", R"({"_id": 1, "a": {"b": 1, "c": 1}})", ""},
    {R"({"_id": 1})", R"({"u": {"$set": {"a.b": 1, "a.c": 2}}})", R"({"_id": 1, "a": {"b": 1, "c": 2}})", ""},
    // Arrays: index paths, padding, creation inside elements.
    {R"({"_id": 1, "a": [1, 2]})", R"({"u": {"$set": {"a.5": 1}}})", R"({"_id": 1, "a": [1, 2, null, null, null, 1]})", DESC(R"({"a.5": 1})", "[]", "[]")},
    {R"({"_id": 1, "a": [1, 2]})", R"({"u": {"$set": {"a.1": 5}}})", R"({"_id": 1, "a": [1, 5]})", DESC(R"({"a.1": 5})", "[]", "[]")},
    {R"({"_id": 1, "arr": [{}, {}]})", R"({"u": {"$set": {"arr.1.b": 1}}})", R"({"_id": 1, "arr": [{}, {"b": 1}]})", DESC(R"({"arr.1.b": 1})", "[]", "[]")},
    // $unset.
    {R"({"_id": 1, "a": 1, "b": 2})", R"({"u": {"$unset": {"a": ""}}})", R"({"_id": 1, "b": 2})", DESC("{}", R"(["a"])", "[]")},
    {R"({"_id": 1, "a": [1, 2, 3]})", R"({"u": {"$unset": {"a.1": 1}}})", R"({"_id": 1, "a": [1, null, 3]})", DESC(R"({"a.1": null})", "[]", "[]")},
    {R"({"_id": 1, "a": {"b": 1, "c": 1}})", R"({"u": {"$unset": {"a.b": 1}}})", R"({"_id": 1, "a": {"c": 1}})", DESC("{}", R"(["a.b"])", "[]")},
    {R"({"_id": 1})", R"({"u": {"$unset": {"a": 1}}})", R"({"_id": 1})", NODESC},
    {R"({"_id": 1, "a": 5})", R"({"u": {"$unset": {"a.b": 1}}})", R"({"_id": 1, "a": 5})", NODESC},
    // $inc / $mul.
    {R"({"_id": 1, "a": 1})", R"({"u": {"$inc": {"a": 1}}})", R"({"_id": 1, "a": 2})", DESC(R"({"a": 2})", "[]", "[]")},
    {R"({"_id": 1, "a": 2147483647})", R"({"u": {"$inc": {"a": 1}}})", R"({"_id": 1, "a": {"$numberLong": "2147483648"}})", ""},
    {R"({"_id": 1, "a": 1})", R"({"u": {"$inc": {"a": 0.5}}})", R"({"_id": 1, "a": 1.5})", ""},
    {R"({"_id": 1, "a": 1})", R"({"u": {"$inc": {"a": {"$numberDecimal": "1.5"}}}})", R"({"_id": 1, "a": {"$numberDecimal": "2.5"}})", ""},
    {R"({"_id": 1})", R"({"u": {"$inc": {"a": 5}}})", R"({"_id": 1, "a": 5})", DESC(R"({"a": 5})", "[]", "[]")},
    {R"({"_id": 1, "a": 3})", R"({"u": {"$inc": {"a": 0}}})", R"({"_id": 1, "a": 3})", NODESC},
    {R"({"_id": 1, "a": 3})", R"({"u": {"$mul": {"a": 2}}})", R"({"_id": 1, "a": 6})", ""},
    {R"({"_id": 1})", R"({"u": {"$mul": {"a": 2.5}}})", R"({"_id": 1, "a": 0.0})", ""},
    {R"({"_id": 1})", R"({"u": {"$mul": {"a": {"$numberLong": "2"}}}})", R"({"_id": 1, "a": {"$numberLong": "0"}})", ""},
    // $min / $max.
    {R"({"_id": 1, "a": 10})", R"({"u": {"$min": {"a": 5}}})", R"({"_id": 1, "a": 5})", DESC(R"({"a": 5})", "[]", "[]")},
    {R"({"_id": 1, "a": 10})", R"({"u": {"$max": {"a": 5}}})", R"({"_id": 1, "a": 10})", NODESC},
    {R"({"_id": 1, "a": 10})", R"({"u": {"$max": {"a": "x"}}})", R"({"_id": 1, "a": "x"})", ""},
    {R"({"_id": 1})", R"({"u": {"$min": {"a": 5}}})", R"({"_id": 1, "a": 5})", ""},
    // $rename.
    {R"({"_id": 1, "a": 1, "c": 2})", R"({"u": {"$rename": {"a": "b"}}})", R"({"_id": 1, "c": 2, "b": 1})", DESC(R"({"b": 1})", R"(["a"])", "[]")},
    {R"({"_id": 1, "c": 2})", R"({"u": {"$rename": {"a": "b"}}})", R"({"_id": 1, "c": 2})", NODESC},
    // Onto an existing field (fuzz/command_parse_fuzz: the renamed value used to point into
    // a modifier freed before the document was written out: heap-use-after-free).
    {R"({"_id": 1, "a": 1, "b": "x", "c": [1, 2, 3]})", R"({"u": {"$rename": {"c": "a"}}})",
     R"({"_id": 1, "a": [1, 2, 3], "b": "x"})", DESC(R"({"a": [1, 2, 3]})", R"(["c"])", "[]")},
    {R"({"_id": 1, "a": {"k": 1}, "s": "a string long enough to live on the heap, not inline"})",
     R"({"u": {"$rename": {"s": "a.k"}}})",
     R"({"_id": 1, "a": {"k": "a string long enough to live on the heap, not inline"}})",
     DESC(R"({"a.k": "a string long enough to live on the heap, not inline"})", R"(["s"])", "[]")},
    {R"({"_id": 1, "a": {"x": 1}})", R"({"u": {"$rename": {"a.x": "b.y"}}})", R"({"_id": 1, "a": {}, "b": {"y": 1}})", DESC(R"({"b": {"y": 1}})", R"(["a.x"])", "[]")},
    // $push.
    {R"({"_id": 1, "arr": [1, 2, 3]})", R"({"u": {"$push": {"arr": 4}}})", R"({"_id": 1, "arr": [1, 2, 3, 4]})", DESC(R"({"arr.3": 4})", "[]", "[]")},
    {R"({"_id": 1, "arr": [1, 2, 3]})", R"({"u": {"$push": {"arr": {"$each": [4, 5]}}}})", R"({"_id": 1, "arr": [1, 2, 3, 4, 5]})", DESC(R"({"arr.3": 4, "arr.4": 5})", "[]", "[]")},
    {R"({"_id": 1, "arr": []})", R"({"u": {"$push": {"arr": 4}}})", R"({"_id": 1, "arr": [4]})", DESC(R"({"arr": [4]})", "[]", "[]")},
    {R"({"_id": 1, "arr": [1, 2]})", R"({"u": {"$push": {"arr": {"$each": [0], "$position": 0}}}})", R"({"_id": 1, "arr": [0, 1, 2]})", DESC(R"({"arr": [0, 1, 2]})", "[]", "[]")},
    {R"({"_id": 1, "arr": [3, 2]})", R"({"u": {"$push": {"arr": {"$each": [5, 1], "$sort": 1}}}})", R"({"_id": 1, "arr": [1, 2, 3, 5]})", DESC(R"({"arr": [1, 2, 3, 5]})", "[]", "[]")},
    {R"({"_id": 1, "arr": [1, 2, 3]})", R"({"u": {"$push": {"arr": {"$each": [4], "$slice": -2}}}})", R"({"_id": 1, "arr": [3, 4]})", DESC(R"({"arr": [3, 4]})", "[]", "[]")},
    {R"({"_id": 1, "arr": [{"s": 2}, {"s": 1}]})", R"({"u": {"$push": {"arr": {"$each": [{"s": 3}], "$sort": {"s": -1}}}}})", R"({"_id": 1, "arr": [{"s": 3}, {"s": 2}, {"s": 1}]})", ""},
    {R"({"_id": 1})", R"({"u": {"$push": {"arr": 4}}})", R"({"_id": 1, "arr": [4]})", DESC(R"({"arr": [4]})", "[]", "[]")},
    {R"({"_id": 1, "arr": [1]})", R"({"u": {"$push": {"arr": {"$each": []}}}})", R"({"_id": 1, "arr": [1]})", NODESC},
    // $addToSet.
    {R"({"_id": 1, "arr": [1, 2]})", R"({"u": {"$addToSet": {"arr": 2}}})", R"({"_id": 1, "arr": [1, 2]})", NODESC},
    {R"({"_id": 1, "arr": [1, 2]})", R"({"u": {"$addToSet": {"arr": 3}}})", R"({"_id": 1, "arr": [1, 2, 3]})", DESC(R"({"arr": [1, 2, 3]})", "[]", "[]")},
    {R"({"_id": 1, "arr": [1, 2]})", R"({"u": {"$addToSet": {"arr": {"$each": [3, 3, 4, 1]}}}})", R"({"_id": 1, "arr": [1, 2, 3, 4]})", ""},
    {R"({"_id": 1})", R"({"u": {"$addToSet": {"arr": {"$each": [1, 1]}}}})", R"({"_id": 1, "arr": [1]})", ""},
    // $pop / $pull / $pullAll.
    {R"({"_id": 1, "arr": [1, 2, 3]})", R"({"u": {"$pop": {"arr": 1}}})", R"({"_id": 1, "arr": [1, 2]})", DESC(R"({"arr": [1, 2]})", "[]", "[]")},
    {R"({"_id": 1, "arr": [1, 2, 3]})", R"({"u": {"$pop": {"arr": -1}}})", R"({"_id": 1, "arr": [2, 3]})", ""},
    {R"({"_id": 1, "arr": []})", R"({"u": {"$pop": {"arr": 1}}})", R"({"_id": 1, "arr": []})", NODESC},
    {R"({"_id": 1, "arr": [1, 2, 3, 2]})", R"({"u": {"$pull": {"arr": 2}}})", R"({"_id": 1, "arr": [1, 3]})", DESC(R"({"arr": [1, 3]})", "[]", "[]")},
    {R"({"_id": 1, "arr": [1, 2, 3]})", R"({"u": {"$pull": {"arr": {"$gte": 2}}}})", R"({"_id": 1, "arr": [1]})", ""},
    {R"({"_id": 1, "arr": [{"b": 1, "c": 1}, {"b": 2}]})", R"({"u": {"$pull": {"arr": {"b": 1}}}})", R"({"_id": 1, "arr": [{"b": 2}]})", ""},
    {R"({"_id": 1, "arr": ["ab", "cd"]})", R"({"u": {"$pull": {"arr": {"$regularExpression": {"pattern": "^a", "options": ""}}}}})", R"({"_id": 1, "arr": ["cd"]})", ""},
    {R"({"_id": 1, "arr": [1, 2, 3]})", R"({"u": {"$pullAll": {"arr": [1, 3]}}})", R"({"_id": 1, "arr": [2]})", ""},
    {R"({"_id": 1})", R"({"u": {"$pull": {"arr": 1}}})", R"({"_id": 1})", NODESC},
    // Positional operators.
    {R"({"_id": 1, "arr": [1, 2, 3]})", R"({"u": {"$set": {"arr.$": 9}}})", R"({"_id": 1, "arr": [1, 9, 3]})", DESC(R"({"arr.1": 9})", "[]", "[]"), "1"},
    {R"({"_id": 1, "arr": [{"b": 1}, {"b": 2}]})", R"({"u": {"$inc": {"arr.$.b": 10}}})", R"({"_id": 1, "arr": [{"b": 1}, {"b": 12}]})", DESC(R"({"arr.1.b": 12})", "[]", "[]"), "1"},
    {R"({"_id": 1, "arr": [1, 2, 3]})", R"({"u": {"$inc": {"arr.$[]": 1}}})", R"({"_id": 1, "arr": [2, 3, 4]})", DESC(R"({"arr.0": 2, "arr.1": 3, "arr.2": 4})", "[]", "[]")},
    {R"({"_id": 1, "arr": [1, 2, 3]})", R"({"u": {"$set": {"arr.$[x]": 0}}})", R"({"_id": 1, "arr": [1, 0, 0]})", DESC(R"({"arr.1": 0, "arr.2": 0})", "[]", "[]"), nullptr, R"({"f": [{"x": {"$gte": 2}}]})"},
    {R"({"_id": 1, "arr": [{"b": 1, "c": 0}, {"b": 2, "c": 0}]})", R"({"u": {"$set": {"arr.$[e].c": 5}}})", R"({"_id": 1, "arr": [{"b": 1, "c": 5}, {"b": 2, "c": 0}]})", DESC(R"({"arr.0.c": 5})", "[]", "[]"), nullptr, R"({"f": [{"e.b": 1}]})"},
    {R"({"_id": 1, "m": [[1, 2], [3]]})", R"({"u": {"$inc": {"m.$[].$[]": 1}}})", R"({"_id": 1, "m": [[2, 3], [4]]})", ""},
    // $bit.
    {R"({"_id": 1, "a": 13})", R"({"u": {"$bit": {"a": {"and": 10}}}})", R"({"_id": 1, "a": 8})", DESC(R"({"a": 8})", "[]", "[]")},
    {R"({"_id": 1, "a": 1})", R"({"u": {"$bit": {"a": {"or": {"$numberLong": "4"}}}}})", R"({"_id": 1, "a": {"$numberLong": "5"}})", ""},
    {R"({"_id": 1})", R"({"u": {"$bit": {"a": {"xor": 3}}}})", R"({"_id": 1, "a": 3})", ""},
    // $currentDate and $setOnInsert (not an insert).
    {R"({"_id": 1})", R"({"u": {"$currentDate": {"d": true, "t": {"%type": "timestamp"}}}})", R"({"_id": 1, "d": {"$date": {"$numberLong": "1600000000000"}}, "t": {"$timestamp": {"t": 1600000000, "i": 7}}})", ""},
    {R"({"_id": 1})", R"({"u": {"$setOnInsert": {"a": 1}}})", R"({"_id": 1})", NODESC},
    // Replacement (no description).
    {R"({"_id": 1, "a": 1})", R"({"u": {}})", R"({"_id": 1})", NODESC},
    {R"({"_id": 1, "a": 1})", R"({"u": {"b": 2}})", R"({"_id": 1, "b": 2})", NODESC},
    {R"({"_id": 1, "a": 1})", R"({"u": {"b": 2, "_id": 1}})", R"({"b": 2, "_id": 1})", NODESC},
    {R"({"_id": 1, "a": 1})", R"({"u": {"x.y": 2}})", R"({"_id": 1, "x.y": 2})", NODESC},
    {R"({"_id": 1, "a": 1})", R"({"u": {"_id": 1.0, "a": 2}})", R"({"_id": 1.0, "a": 2})", NODESC},
    // Pipelines: the description comes from the diff.
    {R"({"_id": 1, "a": 1, "array": ["foo", {"a": "bar"}, 1, 2, 3]})", R"({"u": [{"$set": {"array": ["foo", {"a": "bar"}]}}]})",
     R"({"_id": 1, "a": 1, "array": ["foo", {"a": "bar"}]})", DESC("{}", "[]", R"([{"field": "array", "newSize": 2}])")},
    // (A padding field keeps these documents large enough for MongoDB to log a delta.)
    {R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "a": 1})", R"({"u": [{"$set": {"b": "$a"}}]})",
     R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "a": 1, "b": 1})", DESC(R"({"b": 1})", "[]", "[]")},
    {R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "a": 1, "c": {"d": 1, "e": 1}})", R"({"u": [{"$unset": ["a", "c.d"]}]})",
     R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "c": {"e": 1}})", DESC(R"({"c": {"e": 1}})", R"(["a"])", "[]")},
    // A sub-diff larger than the new subdocument is logged as a whole-value update.
    {R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "a": {"b": 1}})", R"({"u": [{"$set": {"a.c": 2}}]})",
     R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "a": {"b": 1, "c": 2}})", DESC(R"({"a": {"b": 1, "c": 2}})", "[]", "[]")},
    {R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "a": {"b": "0123456789012345678901234567890123456789"}})", R"({"u": [{"$set": {"a.c": 2}}]})",
     R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "a": {"b": "0123456789012345678901234567890123456789", "c": 2}})", DESC(R"({"a.c": 2})", "[]", "[]")},
    {R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "b": 2})", R"({"u": [{"$project": {"p": 1}}]})",
     R"({"_id": 1, "p": "0123456789012345678901234567890123456789"})", DESC("{}", R"(["b"])", "[]")},
    // A moved field is deleted and inserted again, as MongoDB's diff sees it.
    {R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "a": 1, "b": 2})", R"({"u": [{"$replaceWith": {"_id": 1, "p": "0123456789012345678901234567890123456789", "b": 2, "a": 1}}]})",
     R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "b": 2, "a": 1})", DESC(R"({"a": 1})", "[]", "[]")},
    {R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "arr": [1, {"x": 1, "y": 1}]})", R"({"u": [{"$set": {"arr": [1, {"x": 2, "y": 1}, 3]}}]})",
     R"({"_id": 1, "p": "0123456789012345678901234567890123456789", "arr": [1, {"x": 2, "y": 1}, 3]})", DESC(R"({"arr.1": {"x": 2, "y": 1}, "arr.2": 3})", "[]", "[]")},
};

INSTANTIATE_TEST_SUITE_P(Table, UpdateTableTest, ::testing::ValuesIn(kCases));

struct UError {
  const char* doc;
  const char* update;
  int code;
  const char* message;  // exact when non-empty
  bool at_parse;
  const char* array_filters = nullptr;
};

class UpdateErrorTest : public ::testing::TestWithParam<UError> {};

TEST_P(UpdateErrorTest, Fails) {
  const UError& c = GetParam();
  SCOPED_TRACE(c.update);
  bson::Doc u = J(c.update);
  bson::Doc filters = c.array_filters ? J(c.array_filters) : bson::Doc();
  auto d = UpdateDriver::Parse(u["u"], c.array_filters ? filters["f"].Obj() : bson::View(), UpdateOptions{});
  Status st;
  if (c.at_parse) {
    ASSERT_FALSE(d.ok());
    st = d.status();
  } else {
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    auto r = d.value()->Apply(J(c.doc), nullptr, false);
    ASSERT_FALSE(r.ok());
    st = r.status();
  }
  EXPECT_EQ(st.code(), c.code) << st.ToString();
  if (c.message[0]) {
    EXPECT_EQ(st.reason(), c.message);
  }
}

const UError kErrors[] = {
    {"{}", R"({"u": {"$foo": {"a": 1}}})", 9,
     "Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array", true},
    {"{}", R"({"u": {"$set": {"a": 1}, "$inc": {"a": 1}}})", 40, "Updating the path 'a' would create a conflict at 'a'", true},
    {"{}", R"({"u": {"$set": {"a.b": 1, "a": 1}}})", 40, "Updating the path 'a' would create a conflict at 'a'", true},
    {"{}", R"({"u": {"$set": {"a": 1, "a.b": 1}}})", 40, "Updating the path 'a.b' would create a conflict at 'a'", true},
    {"{}", R"({"u": {"$inc": {"a": "x"}}})", 14, R"(Cannot increment with non-numeric argument: {a: "x"})", true},
    {"{}", R"({"u": {"$set": 1}})", 9, "", true},
    {"{}", R"({"u": {"$set": {}}})", 9, "'$set' is empty. You must specify a field like so: {$set: {<field>: ...}}", true},
    {"{}", R"({"u": {"$set": {"": 1}}})", 56, "", true},
    {"{}", R"({"u": {"$set": {"a..b": 1}}})", 56, "", true},
    {"{}", R"({"u": {"$pop": {"a": 2}}})", 9, "", true},
    {"{}", R"({"u": {"$rename": {"a": 1}}})", 2, "", true},
    {"{}", R"({"u": {"$rename": {"a": "a.b"}}})", 2, "", true},
    {"{}", R"({"u": {"$set": {"a.$[x]": 1}}})", 2, "No array filter found for identifier 'x' in path 'a.$[x]'", true},
    {"{}", R"({"u": {"$set": {"a": 1}}})", 9, "", true, R"({"f": [{"x": 1}]})"},
    {"{}", R"({"u": {"$set": {"a.$.$": 1}}})", 2, "", true},
    {"{}", R"({"u": {"a": 1, "$x": 1}})", 52, "", true},
    {"{}", R"({"u": {"$push": {"a": {"$each": 1}}}})", 2, "", true},
    {"{}", R"({"u": {"$currentDate": {"a": {"%type": "x"}}}})", 2, "", true},
    {R"({"_id": 1, "a": 5})", R"({"u": {"$set": {"a.b": 1}}})", 28, "", false},
    {R"({"_id": 1, "a": [1]})", R"({"u": {"$set": {"a.b": 1}}})", 28, "", false},
    {R"({"_id": 1, "a": 5})", R"({"u": {"$pop": {"a.b": 1}}})", 28, "", false},
    {R"({"_id": 1})", R"({"u": {"$set": {"_id": 2}}})", 66,
     "Performing an update on the path '_id' would modify the immutable field '_id'", false},
    {R"({"_id": 1, "a": "s"})", R"({"u": {"$inc": {"a": 1}}})", 14,
     "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string", false},
    {R"({"_id": 1, "a": {"$numberLong": "9223372036854775807"}})", R"({"u": {"$inc": {"a": 1}}})", 2, "", false},
    {R"({"_id": 1, "a": 1})", R"({"u": {"$push": {"a": 1}}})", 2,
     "The field 'a' must be an array but is of type int in document {_id: 1}", false},
    {R"({"_id": 1, "a": 1})", R"({"u": {"$pull": {"a": 1}}})", 2, "", false},
    {R"({"_id": 1, "a": 1})", R"({"u": {"$addToSet": {"a": 1}}})", 2, "", false},
    {R"({"_id": 1, "a": [1]})", R"({"u": {"$set": {"a.$": 1}}})", 2,
     "The positional operator did not find the match needed from the query.", false},
    {R"({"_id": 1})", R"({"u": {"$set": {"a.$[]": 1}}})", 2,
     "The path 'a' must exist in the document in order to apply array updates.", false},
    {R"({"_id": 1})", R"({"u": {"_id": 2}})", 66,
     "After applying the update, the (immutable) field '_id' was found to have been altered to _id: 2", false},
    {R"({"_id": 1})", R"({"u": [{"$set": {"_id": 2}}]})", 66, "", false},
    {"{}", R"({"u": [{"$match": {}}]})", 72, "", true},
    {"{}", R"({"u": [{"$foo": {}}]})", 40324, "", true},
    {"{}", R"({"u": {"$bit": {"a": {"nand": 1}}}})", 2, "", true},
    {"{}", R"({"u": {"$bit": {"a": {"and": 1.5}}}})", 2, "", true},
    {R"({"_id": 1, "a": 1.5})", R"({"u": {"$bit": {"a": {"and": 1}}}})", 2, "", false},
    {R"({"_id": 1})", R"({"u": {"$set": {"_id": [1]}}})", 66, "", false},
};

INSTANTIATE_TEST_SUITE_P(Table, UpdateErrorTest, ::testing::ValuesIn(kErrors));

TEST(UpdateDriverTest, Kinds) {
  bson::Doc u = J(R"({"a": {"$set": {"x": 1}}, "b": {"x": 1}, "c": [{"$set": {"x": 1}}]})");
  EXPECT_EQ(UpdateDriver::Parse(u["a"], bson::View(), {}).value()->kind(), UpdateDriver::Kind::kOperators);
  EXPECT_EQ(UpdateDriver::Parse(u["b"], bson::View(), {}).value()->kind(), UpdateDriver::Kind::kReplacement);
  EXPECT_EQ(UpdateDriver::Parse(u["c"], bson::View(), {}).value()->kind(), UpdateDriver::Kind::kPipeline);
}

TEST(UpdateDriverTest, SmallPipelineChangesAreReplacements) {
  // MongoDB logs a replacement when the delta would not be smaller than the document.
  bson::Doc u = J(R"({"u": [{"$set": {"b": 1}}]})");
  auto d = UpdateDriver::Parse(u["u"], bson::View(), {});
  ASSERT_TRUE(d.ok());
  auto r = d.value()->Apply(J(R"({"_id": 1, "a": 1})"), nullptr, false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value().changed);
  EXPECT_TRUE(r.value().as_replacement);
  EXPECT_TRUE(r.value().description.empty());
  auto same = d.value()->Apply(J(R"({"_id": 1, "b": 1})"), nullptr, false);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same.value().changed);
  EXPECT_FALSE(same.value().as_replacement);

  bson::Doc ops = J(R"({"u": {"$set": {"b": 1}}})");
  auto od = UpdateDriver::Parse(ops["u"], bson::View(), {});
  auto orr = od.value()->Apply(J(R"({"_id": 1, "a": 1})"), nullptr, false);
  EXPECT_FALSE(orr.value().as_replacement);
}

TEST(UpdateDriverTest, SetOnInsertAppliesOnUpsertInsert) {
  bson::Doc u = J(R"({"u": {"$set": {"a": 1}, "$setOnInsert": {"b": 2}}})");
  auto d = UpdateDriver::Parse(u["u"], bson::View(), {});
  ASSERT_TRUE(d.ok());
  auto seed = UpdateDriver::SeedUpsertDocument(J(R"({"_id": 7, "c": 3})"));
  ASSERT_TRUE(seed.ok());
  auto r = d.value()->Apply(seed.value(), nullptr, true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Show(r.value().new_doc), Show(J(R"({"_id": 7, "c": 3, "a": 1, "b": 2})")));
  EXPECT_TRUE(r.value().changed);
}

TEST(UpdateDriverTest, UpsertMaySetId) {
  bson::Doc u = J(R"({"u": {"$set": {"x": 1, "_id": 5}}})");
  auto d = UpdateDriver::Parse(u["u"], bson::View(), {});
  auto r = d.value()->Apply(bson::View(), nullptr, true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Show(r.value().new_doc), Show(J(R"({"_id": 5, "x": 1})")));
}

struct SeedCase {
  const char* query;
  const char* expected;
};

TEST(UpdateDriverTest, SeedUpsertDocument) {
  const SeedCase cases[] = {
      {R"({"a": 1, "_id": 2})", R"({"_id": 2, "a": 1})"},
      {R"({"a.b": 1, "c": {"$gt": 1}})", R"({"a": {"b": 1}})"},
      {R"({"$and": [{"a": 1}, {"b": {"$eq": 2}}]})", R"({"a": 1, "b": 2})"},
      {R"({"a": {"$in": [4]}, "b": {"$in": [1, 2]}})", R"({"a": 4})"},
      {R"({"$or": [{"a": 1}]})", R"({"a": 1})"},
      {R"({"$or": [{"a": 1}, {"b": 1}]})", R"({})"},
      {R"({"a": {"$regularExpression": {"pattern": "x", "options": ""}}})", R"({})"},
  };
  for (const auto& c : cases) {
    auto s = UpdateDriver::SeedUpsertDocument(J(c.query));
    ASSERT_TRUE(s.ok()) << c.query << ": " << s.status().ToString();
    EXPECT_EQ(Show(s.value()), Show(J(c.expected))) << c.query;
  }
  auto bad = UpdateDriver::SeedUpsertDocument(J(R"({"a": 1, "a.b": 2})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), 54);
}

TEST(UpdateDriverTest, DisambiguatedPaths) {
  struct Case {
    const char* doc;
    const char* update;
    const char* expected;
  } cases[] = {
      {R"({"_id": 1, "a": {"1": 1}})", R"({"u": {"$set": {"a.1": 2}}})", R"({"a.1": ["a", "1"]})"},
      {R"({"_id": 1, "a": [{"1": 1}]})", R"({"u": {"$set": {"a.0.1": 2}}})", R"({"a.0.1": ["a", 0, "1"]})"},
      {R"({"_id": 1, "a": [1]})", R"({"u": {"$set": {"a.0": 2}}})", R"({})"},
  };
  for (const auto& c : cases) {
    bson::Doc u = J(c.update);
    auto d = UpdateDriver::Parse(u["u"], bson::View(), {});
    ASSERT_TRUE(d.ok());
    auto r = d.value()->Apply(J(c.doc), nullptr, false);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(Show(r.value().description.disambiguated_paths), Show(J(c.expected))) << c.update;
  }
}

}  // namespace
}  // namespace brook::query

namespace brook::query {
namespace {

// Odd inputs must produce errors or results, never crashes.
TEST(UpdateRobustnessTest, OddInputs) {
  const char* updates[] = {
      R"({"u": {"$set": {"a.$[]": 1}}})",
      R"({"u": {"$push": {"a": {"$each": [1], "$position": {"$numberLong": "-9223372036854775808"}}}}})",
      R"({"u": {"$push": {"a": {"$each": [1], "$slice": {"$numberLong": "-9223372036854775808"}}}}})",
      R"({"u": {"$set": {"a.99999999999": 1}}})",
      R"({"u": {"$rename": {"a.0": "b"}}})",
      R"({"u": {"$rename": {"b": "a.0.c"}}})",
      R"({"u": {"$pull": {"a": {"$elemMatch": {"$gt": 1}}}}})",
      R"({"u": {"$mul": {"a": {"$numberDecimal": "NaN"}}}})",
      R"({"u": [{"$replaceWith": "$a"}]})",
      R"({"u": 5})",
  };
  const char* docs[] = {R"({"_id": 1, "a": [1, [2], {"c": 1}], "b": 1})", R"({"_id": 1, "a": 5, "b": {"c": 1}})",
                        R"({"_id": 1})"};
  for (const char* u : updates) {
    bson::Doc ud = J(u);
    auto d = UpdateDriver::Parse(ud["u"], bson::View(), {});
    if (!d.ok()) continue;
    for (const char* doc : docs) {
      auto r = d.value()->Apply(J(doc), nullptr, false);
      (void)r;
    }
  }
}

}  // namespace
}  // namespace brook::query
