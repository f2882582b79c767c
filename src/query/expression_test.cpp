// Table-driven tests of the expression engine: (expression, input document) ->
// expected value (type-exact) or expected error code.
#include <gtest/gtest.h>

#include "bson/json.h"
#include "query/expression.h"
#include "query/expression_testutil.h"

namespace brook::query {
namespace {

using exprtest::Case;
using exprtest::Check;
using exprtest::Eval;
using exprtest::Json;

class ExpressionTable : public ::testing::TestWithParam<Case> {};
TEST_P(ExpressionTable, Evaluates) { Check(GetParam()); }

const Case kPathCases[] = {
    {R"("$a")", R"({"a": 5})", "5"},
    {R"("$a.b")", R"({"a": {"b": "x"}})", R"("x")"},
    {R"("$a.b")", R"({"a": [{"b": 1}, {"c": 2}, {"b": 3}, 7]})", "[1, 3]"},
    {R"("$a.b.c")", R"({"a": [{"b": [{"c": 1}, {"c": 2}]}, {"b": {"c": 3}}]})", "[[1, 2], 3]"},
    {R"("$nope")", R"({"a": 1})", "MISSING"},
    {R"("$$ROOT")", R"({"a": 1})", R"({"a": 1})"},
    {R"("$$CURRENT.a")", R"({"a": 1})", "1"},
    {R"("$$REMOVE")", R"({"a": 1})", "MISSING"},
    {R"({"$type": "$$NOW"})", R"({})", R"("date")"},
    {R"({"$literal": "$a"})", R"({"a": 1})", R"("$a")"},
    {R"({"x": "$a", "y": {"$add": [1, 2]}, "z": "$nope"})", R"({"a": 1})", R"({"x": 1, "y": 3})"},
    {R"(["$a", "$nope", 2])", R"({"a": 1})", "[1, null, 2]"},
    {R"({"$foo": 1})", R"({})", nullptr, 168},
    {R"("$$undefinedVar")", R"({})", nullptr, 17276},
    // Reads accept an upper-case first letter: an unknown system-style name is undefined.
    {R"("$$KEEP")", R"({})", nullptr, 17276},
    {R"("$$1abc")", R"({})", nullptr, 16867},
    {R"("$")", R"({})", nullptr, 16872},
    {R"({"$add": [1], "b": 2})", R"({})", nullptr, 15983},
};
INSTANTIATE_TEST_SUITE_P(Paths, ExpressionTable, ::testing::ValuesIn(kPathCases));

const Case kArithCases[] = {
    {R"({"$add": [1, 2]})", "{}", "3"},
    {R"({"$add": [2147483647, 1]})", "{}", R"({"$numberLong": "2147483648"})"},
    {R"({"$add": [{"$numberLong": "9223372036854775807"}, 1]})", "{}", "9.223372036854775808e18"},
    {R"({"$add": [1, 2.5]})", "{}", "3.5"},
    {R"({"$add": [1, {"$numberDecimal": "2.5"}]})", "{}", R"({"$numberDecimal": "3.5"})"},
    {R"({"$add": [1, null]})", "{}", "null"},
    {R"({"$add": ["$d", 1000]})", R"({"d": {"$date": "2020-01-01T00:00:00Z"}})",
     R"({"$date": "2020-01-01T00:00:01Z"})"},
    {R"({"$add": ["$d", "$d"]})", R"({"d": {"$date": "2020-01-01T00:00:00Z"}})", nullptr, 16612},
    {R"({"$add": [1, "a"]})", "{}", nullptr, 16554},
    {R"({"$subtract": [5, 7]})", "{}", "-2"},
    {R"({"$subtract": ["$d", "$e"]})",
     R"({"d": {"$date": "2020-01-01T00:00:01Z"}, "e": {"$date": "2020-01-01T00:00:00Z"}})",
     R"({"$numberLong": "1000"})"},
    {R"({"$subtract": ["$d", 1000]})", R"({"d": {"$date": "2020-01-01T00:00:01Z"}})",
     R"({"$date": "2020-01-01T00:00:00Z"})"},
    {R"({"$subtract": [1, "$d"]})", R"({"d": {"$date": "2020-01-01T00:00:01Z"}})", nullptr, 16556},
    {R"({"$subtract": [1]})", "{}", nullptr, 16020},
    {R"({"$multiply": [3, 4]})", "{}", "12"},
    {R"({"$multiply": [65536, 65536]})", "{}", R"({"$numberLong": "4294967296"})"},
    {R"({"$multiply": [2, "x"]})", "{}", nullptr, 16555},
    {R"({"$divide": [6, 3]})", "{}", "2.0"},
    {R"({"$divide": [1, 0]})", "{}", nullptr, 2},
    {R"({"$divide": [{"$numberDecimal": "1"}, 4]})", "{}", R"({"$numberDecimal": "0.25"})"},
    {R"({"$mod": [7, 3]})", "{}", "1"},
    {R"({"$mod": [7.5, 2]})", "{}", "1.5"},
    {R"({"$mod": [7, 0]})", "{}", nullptr, 16610},
    {R"({"$abs": -5})", "{}", "5"},
    {R"({"$abs": -2147483648})", "{}", R"({"$numberLong": "2147483648"})"},
    {R"({"$abs": "x"})", "{}", nullptr, 28765},
    {R"({"$ceil": 1.2})", "{}", "2.0"},
    {R"({"$floor": -1.2})", "{}", "-2.0"},
    {R"({"$floor": 3})", "{}", "3"},
    {R"({"$round": [2.5]})", "{}", "2.0"},
    {R"({"$round": [3.5]})", "{}", "4.0"},
    {R"({"$round": [1234, -2]})", "{}", "1200"},
    {R"({"$round": [3.14159, 2]})", "{}", "3.14"},
    {R"({"$trunc": [-3.7]})", "{}", "-3.0"},
    {R"({"$sqrt": 16})", "{}", "4.0"},
    {R"({"$sqrt": -1})", "{}", nullptr, 28714},
    {R"({"$pow": [2, 10]})", "{}", "1024"},
    {R"({"$pow": [2, 40]})", "{}", R"({"$numberLong": "1099511627776"})"},
    {R"({"$pow": [2, -1]})", "{}", "0.5"},
    {R"({"$pow": [0, -1]})", "{}", nullptr, 28764},
    {R"({"$exp": 0})", "{}", "1.0"},
    {R"({"$ln": 1})", "{}", "0.0"},
    {R"({"$ln": 0})", "{}", nullptr, 28766},
    {R"({"$log": [100, 10]})", "{}", "2.0"},
    {R"({"$log10": 1000})", "{}", "3.0"},
    {R"({"$log10": -1})", "{}", nullptr, 28761},
};
INSTANTIATE_TEST_SUITE_P(Arithmetic, ExpressionTable, ::testing::ValuesIn(kArithCases));

const Case kLogicCases[] = {
    {R"({"$eq": [1, 1.0]})", "{}", "true"},
    {R"({"$eq": ["$nope", null]})", "{}", "false"},
    {R"({"$ne": [1, "1"]})", "{}", "true"},
    {R"({"$gt": ["a", 1]})", "{}", "true"},
    {R"({"$lt": [null, 0]})", "{}", "true"},
    {R"({"$gte": [2, 2]})", "{}", "true"},
    {R"({"$lte": [3, 2]})", "{}", "false"},
    {R"({"$cmp": ["b", "a"]})", "{}", "1"},
    {R"({"$cmp": [1, 2]})", "{}", "-1"},
    {R"({"$eq": [1]})", "{}", nullptr, 16020},
    {R"({"$and": [1, "$a"]})", R"({"a": 0})", "false"},
    {R"({"$and": []})", "{}", "true"},
    {R"({"$or": [0, null, "$a"]})", R"({"a": [1]})", "true"},
    {R"({"$or": [{"$divide": [1, 0]}, true]})", "{}", nullptr, 2},
    {R"({"$and": [false, {"$divide": [1, 0]}]})", "{}", "false"},
    {R"({"$not": [0]})", "{}", "true"},
    {R"({"$not": [[]]})", "{}", "false"},
    {R"({"$cond": [true, 1, 2]})", "{}", "1"},
    {R"({"$cond": {"if": "$nope", "then": 1, "else": 2}})", "{}", "2"},
    {R"({"$cond": {"if": true, "then": 1}})", "{}", nullptr, 17082},
    {R"({"$cond": [true, 1]})", "{}", nullptr, 16020},
    {R"({"$ifNull": ["$a", "$b", 3]})", R"({"b": null})", "3"},
    {R"({"$ifNull": ["$a", "$b", 3]})", R"({"b": 2})", "2"},
    {R"({"$ifNull": ["$a"]})", "{}", nullptr, 1257300},
    {R"({"$switch": {"branches": [{"case": {"$gt": ["$a", 5]}, "then": "big"}], "default": "small"}})",
     R"({"a": 9})", R"("big")"},
    {R"({"$switch": {"branches": [{"case": false, "then": 1}]}})", "{}", nullptr, 40068},
    {R"({"$switch": {"branches": []}})", "{}", nullptr, 40066},
    {R"({"$let": {"vars": {"x": 2, "y": "$a"}, "in": {"$multiply": ["$$x", "$$y"]}}})", R"({"a": 5})",
     "10"},
    {R"({"$let": {"vars": {"X": 2}, "in": 1}})", "{}", nullptr, 16867},
    {R"({"$let": {"vars": {"x": 2}, "in": "$$y"}})", "{}", nullptr, 17276},
    {R"({"$rand": {}})", "{}", nullptr, 0},
};
// $rand is not deterministic; it is tested separately.
INSTANTIATE_TEST_SUITE_P(Logic, ExpressionTable,
                         ::testing::ValuesIn(std::begin(kLogicCases), std::end(kLogicCases) - 1));

const Case kStringCases[] = {
    {R"({"$concat": ["a", "b", "$c"]})", R"({"c": "c"})", R"("abc")"},
    {R"({"$concat": ["a", "$nope"]})", "{}", "null"},
    {R"({"$concat": ["a", 1]})", "{}", nullptr, 16702},
    {R"({"$substr": ["hello", 1, 3]})", "{}", R"("ell")"},
    {R"({"$substrBytes": ["hello", 2, -1]})", "{}", R"("llo")"},
    {R"({"$substrBytes": ["h\u00e9llo", 2, 1]})", "{}", nullptr, 28656},
    {R"({"$substrCP": ["h\u00e9llo", 1, 2]})", "{}", R"("\u00e9l")"},
    {R"({"$substrCP": ["abc", "x", 2]})", "{}", nullptr, 34450},
    {R"({"$toUpper": "abC1"})", "{}", R"("ABC1")"},
    {R"({"$toLower": 12})", "{}", R"("12")"},
    {R"({"$toLower": null})", "{}", R"("")"},
    {R"({"$toLower": [[1]]})", "{}", nullptr, 16007},
    {R"({"$strLenBytes": "h\u00e9"})", "{}", "3"},
    {R"({"$strLenCP": "h\u00e9"})", "{}", "2"},
    {R"({"$strLenCP": 5})", "{}", nullptr, 34471},
    {R"({"$split": ["a,b,,c", ","]})", "{}", R"(["a", "b", "", "c"])"},
    {R"({"$split": ["abc", ""]})", "{}", nullptr, 40087},
    {R"({"$split": [1, ","]})", "{}", nullptr, 40085},
    {R"({"$trim": {"input": "  hi \n"}})", "{}", R"("hi")"},
    {R"({"$ltrim": {"input": "xxhixx", "chars": "x"}})", "{}", R"("hixx")"},
    {R"({"$rtrim": {"input": "xxhixy", "chars": "xy"}})", "{}", R"("xxhi")"},
    {R"({"$trim": {"chars": "x"}})", "{}", nullptr, 50695},
    {R"({"$trim": {"input": 1}})", "{}", nullptr, 50699},
    {R"({"$indexOfBytes": ["hello", "l"]})", "{}", "2"},
    {R"({"$indexOfBytes": ["hello", "l", 3]})", "{}", "3"},
    {R"({"$indexOfBytes": ["hello", "z"]})", "{}", "-1"},
    {R"({"$indexOfBytes": ["hello", "l", -1]})", "{}", nullptr, 40097},
    {R"({"$indexOfCP": ["h\u00e9llo", "l"]})", "{}", "2"},
    {R"({"$strcasecmp": ["ABC", "abc"]})", "{}", "0"},
    {R"({"$strcasecmp": ["a", "B"]})", "{}", "-1"},
    {R"({"$regexMatch": {"input": "Hello", "regex": "^h", "options": "i"}})", "{}", "true"},
    {R"({"$regexMatch": {"input": "Hello", "regex": "^h"}})", "{}", "false"},
    {R"({"$regexMatch": {"input": 5, "regex": "a"}})", "{}", nullptr, 51104},
    {R"({"$regexMatch": {"input": "a", "regex": "("}})", "{}", nullptr, 51111},
    {R"x({"$regexFind": {"input": "ab12cd34", "regex": "([a-z]+)(\\d+)"}})x", "{}",
     R"({"match": "ab12", "idx": 0, "captures": ["ab", "12"]})"},
    {R"({"$regexFind": {"input": "xyz", "regex": "\\d"}})", "{}", "null"},
    {R"({"$regexFindAll": {"input": "a1b2", "regex": "\\d"}})", "{}",
     R"([{"match": "1", "idx": 1, "captures": []}, {"match": "2", "idx": 3, "captures": []}])"},
    {R"({"$replaceOne": {"input": "aXbXc", "find": "X", "replacement": "-"}})", "{}", R"("a-bXc")"},
    {R"({"$replaceAll": {"input": "aXbXc", "find": "X", "replacement": "-"}})", "{}", R"("a-b-c")"},
    {R"({"$replaceAll": {"input": "abc", "find": 1, "replacement": "-"}})", "{}", nullptr, 51745},
    {R"({"$replaceAll": {"input": null, "find": "a", "replacement": "-"}})", "{}", "null"},
};
INSTANTIATE_TEST_SUITE_P(Strings, ExpressionTable, ::testing::ValuesIn(kStringCases));

const Case kArrayCases[] = {
    {R"({"$arrayElemAt": [[1, 2, 3], 1]})", "{}", "2"},
    {R"({"$arrayElemAt": [[1, 2, 3], -1]})", "{}", "3"},
    {R"({"$arrayElemAt": [[1, 2, 3], 5]})", "{}", "MISSING"},
    {R"({"$arrayElemAt": [1, 0]})", "{}", nullptr, 28689},
    {R"({"$first": [[4, 5]]})", "{}", "4"},
    {R"({"$last": "$a"})", R"({"a": [4, 5]})", "5"},
    {R"({"$concatArrays": [[1], [2, 3], []]})", "{}", "[1, 2, 3]"},
    {R"({"$concatArrays": [[1], 2]})", "{}", nullptr, 28664},
    {R"({"$filter": {"input": [1, 2, 3, 4], "cond": {"$gt": ["$$this", 2]}}})", "{}", "[3, 4]"},
    {R"({"$filter": {"input": [1, 2, 3, 4], "as": "n", "cond": {"$lt": ["$$n", 3]}, "limit": 1}})",
     "{}", "[1]"},
    {R"({"$filter": {"input": 1, "cond": true}})", "{}", nullptr, 28651},
    {R"({"$map": {"input": "$a", "as": "x", "in": {"$multiply": ["$$x", 10]}}})", R"({"a": [1, 2]})",
     "[10, 20]"},
    {R"({"$map": {"input": "$nope", "in": 1}})", "{}", "null"},
    {R"({"$map": {"input": [1], "in": "$$x"}})", "{}", nullptr, 17276},
    {R"({"$map": 1})", "{}", nullptr, 16878},
    {R"({"$reduce": {"input": [1, 2, 3], "initialValue": 0, "in": {"$add": ["$$value", "$$this"]}}})",
     "{}", "6"},
    {R"({"$reduce": {"input": 5, "initialValue": 0, "in": 1}})", "{}", nullptr, 40080},
    {R"({"$in": [2, [1, 2]]})", "{}", "true"},
    {R"({"$in": [2, 2]})", "{}", nullptr, 40081},
    {R"({"$indexOfArray": [["a", "b", "a"], "a", 1]})", "{}", "2"},
    {R"({"$isArray": ["$a"]})", R"({"a": []})", "true"},
    {R"({"$range": [0, 10, 3]})", "{}", "[0, 3, 6, 9]"},
    {R"({"$range": [5, 0, -2]})", "{}", "[5, 3, 1]"},
    {R"({"$range": [0, 1, 0]})", "{}", nullptr, 34449},
    {R"({"$reverseArray": [[1, 2, 3]]})", "{}", "[3, 2, 1]"},
    {R"({"$size": [[1, 2, 3]]})", "{}", "3"},
    {R"({"$size": "$nope"})", "{}", nullptr, 17124},
    {R"({"$slice": [[1, 2, 3, 4], 2]})", "{}", "[1, 2]"},
    {R"({"$slice": [[1, 2, 3, 4], -2]})", "{}", "[3, 4]"},
    {R"({"$slice": [[1, 2, 3, 4], 1, 2]})", "{}", "[2, 3]"},
    {R"({"$slice": [[1, 2, 3, 4], -3, 2]})", "{}", "[2, 3]"},
    {R"({"$slice": [[1], 0, 0]})", "{}", nullptr, 28729},
    {R"({"$zip": {"inputs": [[1, 2], ["a", "b", "c"]]}})", "{}", R"([[1, "a"], [2, "b"]])"},
    {R"({"$zip": {"inputs": [[1], ["a", "b"]], "useLongestLength": true, "defaults": [0, "z"]}})",
     "{}", R"([[1, "a"], [0, "b"]])"},
    {R"({"$arrayToObject": [[["a", 1], ["b", 2]]]})", "{}", R"({"a": 1, "b": 2})"},
    {R"({"$arrayToObject": [[{"k": "a", "v": 1}, {"k": "a", "v": 2}]]})", "{}", R"({"a": 2})"},
    {R"({"$arrayToObject": [[["a"]]]})", "{}", nullptr, 40397},
    {R"({"$objectToArray": {"a": 1, "b": "x"}})", "{}", R"([{"k": "a", "v": 1}, {"k": "b", "v": "x"}])"},
    {R"({"$objectToArray": 1})", "{}", nullptr, 40390},
    {R"({"$setUnion": [[3, 1], [1, 2]]})", "{}", "[1, 2, 3]"},
    {R"({"$setIntersection": [[3, 1, 2], [2, 3, 4]]})", "{}", "[2, 3]"},
    {R"({"$setDifference": [[1, 2, 3, 2], [2]]})", "{}", "[1, 3]"},
    {R"({"$setEquals": [[1, 2], [2, 1, 1]]})", "{}", "true"},
    {R"({"$setIsSubset": [[1], [1, 2]]})", "{}", "true"},
    {R"({"$setEquals": [[1]]})", "{}", nullptr, 17045},
    {R"({"$anyElementTrue": [[0, null, 1]]})", "{}", "true"},
    {R"({"$allElementsTrue": [[1, 0]]})", "{}", "false"},
    {R"({"$allElementsTrue": [5]})", "{}", nullptr, 17040},
    {R"({"$sortArray": {"input": [3, 1, 2], "sortBy": -1}})", "{}", "[3, 2, 1]"},
    {R"({"$sortArray": {"input": [{"a": 2}, {"a": 1}], "sortBy": {"a": 1}}})", "{}",
     R"([{"a": 1}, {"a": 2}])"},
};
INSTANTIATE_TEST_SUITE_P(Arrays, ExpressionTable, ::testing::ValuesIn(kArrayCases));

const Case kObjectTypeCases[] = {
    {R"({"$mergeObjects": [{"a": 1, "b": 1}, null, {"b": 2, "c": 3}]})", "{}", R"({"a": 1, "b": 2, "c": 3})"},
    {R"({"$mergeObjects": [{"a": 1}, 5]})", "{}", nullptr, 40400},
    {R"({"$getField": "a.b"})", R"({"a.b": 7, "a": {"b": 1}})", "7"},
    {R"({"$getField": {"field": "x", "input": {"x": 2}}})", "{}", "2"},
    {R"({"$setField": {"field": "x", "input": {"x": 1, "y": 2}, "value": 5}})", "{}", R"({"x": 5, "y": 2})"},
    {R"({"$setField": {"field": "x", "input": {"x": 1, "y": 2}, "value": "$$REMOVE"}})", "{}", R"({"y": 2})"},
    {R"({"$type": "$a"})", R"({"a": 1.5})", R"("double")"},
    {R"({"$type": "$nope"})", "{}", R"("missing")"},
    {R"({"$isNumber": {"$numberLong": "1"}})", "{}", "true"},
    {R"({"$toInt": "42"})", "{}", "42"},
    {R"({"$toInt": 4.9})", "{}", "4"},
    {R"({"$toInt": "4.5"})", "{}", nullptr, 241},
    {R"({"$toInt": 3000000000})", "{}", nullptr, 241},
    {R"({"$toLong": "42"})", "{}", R"({"$numberLong": "42"})"},
    {R"({"$toDouble": "2.5"})", "{}", "2.5"},
    {R"({"$toDouble": true})", "{}", "1.0"},
    {R"({"$toDecimal": 1})", "{}", R"({"$numberDecimal": "1"})"},
    {R"({"$toString": 2.5})", "{}", R"("2.5")"},
    {R"({"$toString": {"$date": "2020-01-02T03:04:05.006Z"}})", "{}", R"("2020-01-02T03:04:05.006Z")"},
    {R"({"$toString": {"$oid": "5f1d7e2a9d3b2c1a0b0c0d0e"}})", "{}", R"("5f1d7e2a9d3b2c1a0b0c0d0e")"},
    {R"({"$toBool": 0})", "{}", "false"},
    {R"({"$toBool": "false"})", "{}", "true"},
    {R"({"$toObjectId": "5f1d7e2a9d3b2c1a0b0c0d0e"})", "{}", R"({"$oid": "5f1d7e2a9d3b2c1a0b0c0d0e"})"},
    {R"({"$toObjectId": "abc"})", "{}", nullptr, 241},
    {R"({"$toDate": "2020-01-02T03:04:05Z"})", "{}", R"({"$date": "2020-01-02T03:04:05Z"})"},
    {R"({"$toDate": {"$numberLong": "1000"}})", "{}", R"({"$date": "1970-01-01T00:00:01Z"})"},
    {R"({"$toInt": null})", "{}", "null"},
    {R"({"$convert": {"input": "abc", "to": "int", "onError": -1}})", "{}", "-1"},
    {R"({"$convert": {"input": null, "to": "int", "onNull": 0}})", "{}", "0"},
    {R"({"$convert": {"input": "7", "to": 18}})", "{}", R"({"$numberLong": "7"})"},
    {R"({"$convert": {"input": [1], "to": "int"}})", "{}", nullptr, 241},
    {R"({"$convert": {"to": "int"}})", "{}", nullptr, 9},
};
INSTANTIATE_TEST_SUITE_P(ObjectsTypes, ExpressionTable, ::testing::ValuesIn(kObjectTypeCases));

const char* const kDate = R"({"d": {"$date": "2021-03-04T05:06:07.089Z"}})";
const Case kDateCases[] = {
    {R"({"$year": "$d"})", kDate, "2021"},
    {R"({"$month": "$d"})", kDate, "3"},
    {R"({"$dayOfMonth": "$d"})", kDate, "4"},
    {R"({"$hour": "$d"})", kDate, "5"},
    {R"({"$minute": "$d"})", kDate, "6"},
    {R"({"$second": "$d"})", kDate, "7"},
    {R"({"$millisecond": "$d"})", kDate, "89"},
    {R"({"$dayOfWeek": "$d"})", kDate, "5"},
    {R"({"$dayOfYear": "$d"})", kDate, "63"},
    {R"({"$hour": {"date": "$d", "timezone": "+02:00"}})", kDate, "7"},
    {R"({"$year": "$nope"})", "{}", "null"},
    {R"({"$year": "x"})", "{}", nullptr, 16006},
    {R"({"$dateToString": {"date": "$d", "format": "%Y/%m/%d %H:%M:%S.%L %j"}})", kDate,
     R"("2021/03/04 05:06:07.089 063")"},
    {R"({"$dateToString": {"date": "$d"}})", kDate, R"("2021-03-04T05:06:07.089Z")"},
    {R"({"$dateToString": {"date": "$nope", "onNull": "none"}})", "{}", R"("none")"},
    {R"({"$dateToString": {"date": "$d", "format": "%Q"}})", kDate, nullptr, 18536},
    {R"({"$dateFromString": {"dateString": "2021-03-04T05:06:07.089Z"}})", "{}",
     R"({"$date": "2021-03-04T05:06:07.089Z"})"},
    {R"({"$dateFromString": {"dateString": "2021-03-04"}})", "{}", R"({"$date": "2021-03-04T00:00:00Z"})"},
    {R"({"$dateFromString": {"dateString": "2021-03-04T07:00:00+02:00"}})", "{}",
     R"({"$date": "2021-03-04T05:00:00Z"})"},
    {R"({"$dateFromString": {"dateString": "04/03/2021", "format": "%d/%m/%Y"}})", "{}",
     R"({"$date": "2021-03-04T00:00:00Z"})"},
    {R"({"$dateFromString": {"dateString": "garbage"}})", "{}", nullptr, 241},
    {R"({"$dateFromString": {"dateString": "garbage", "onError": 0}})", "{}", "0"},
};
INSTANTIATE_TEST_SUITE_P(Dates, ExpressionTable, ::testing::ValuesIn(kDateCases));

TEST(ExpressionTest, RandIsInUnitInterval) {
  for (int i = 0; i < 20; ++i) {
    auto r = Eval(R"({"$rand": {}})", "{}");
    ASSERT_TRUE(r.ok());
    double d = r.value().element().Double();
    EXPECT_GE(d, 0.0);
    EXPECT_LT(d, 1.0);
  }
  EXPECT_EQ(Eval(R"({"$rand": {"a": 1}})", "{}").status().code(), 3040501);
}

TEST(ExpressionTest, ArityMessageMatchesMongoDB) {
  auto r = Eval(R"({"$subtract": [1, 2, 3]})", "{}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "Expression $subtract takes exactly 2 arguments. 3 were passed in.");
  auto u = Eval(R"({"$foo": 1})", "{}");
  EXPECT_EQ(u.status().reason(), "Unrecognized expression '$foo'");
  EXPECT_EQ(Eval(R"({"$divide": [1, 0]})", "{}").status().reason(), "can't $divide by zero");
  EXPECT_EQ(Eval(R"({"$substr": ["a", 1]})", "{}").status().reason(),
            "Expression $substrBytes takes exactly 3 arguments. 2 were passed in.");
  auto conv = Eval(R"({"$toInt": "x1"})", "{}");
  EXPECT_EQ(conv.status().code_name(), "ConversionFailure");
  EXPECT_EQ(conv.status().reason(),
            "Failed to parse number 'x1' in $convert with no onError value: Did not consume whole string.");
}

TEST(ExpressionTest, UserVariablesFromContext) {
  auto r = Eval(R"({"$add": ["$$x", 1]})", "{}", {"x"});
  ASSERT_FALSE(r.ok());  // declared but unbound at runtime
  EXPECT_EQ(r.status().code(), 17276);

  bson::Doc wrapper = Json(R"({"e": {"$add": ["$$x", "$a"]}})");
  ExpressionParseContext pctx;
  pctx.variables = {"x"};
  auto e = Expression::Parse(wrapper.view().first(), pctx);
  ASSERT_TRUE(e.ok());
  bson::Doc doc = Json(R"({"a": 2})");
  EvalContext ctx(doc.view());
  ctx.Bind("x", Value::Int32(40));
  auto v = e.value()->Evaluate(ctx);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value().element().Int32(), 42);
}

TEST(ExpressionTest, NestedScopesShadowAndRestore) {
  auto r = Eval(R"({"$let": {"vars": {"x": 1}, "in": {"$add": [
      {"$let": {"vars": {"x": 10}, "in": "$$x"}}, "$$x"]}}})", "{}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value().element().Int32(), 11);
}

TEST(ValueTest, ConstructorsAndCompare) {
  EXPECT_TRUE(Value().missing());
  EXPECT_TRUE(Value().nullish());
  EXPECT_TRUE(Value::Null().nullish());
  EXPECT_EQ(Value::Int64(5).type(), bson::Type::kInt64);
  EXPECT_EQ(CompareValue(Value::Int32(1), Value::Double(1.0)), 0);
  EXPECT_LT(CompareValue(Value(), Value::Null()), 0);
  Value arr = Value::ArrayOf({Value::Int32(1), Value(), Value::String("x")});
  auto items = arr.ArrayItems();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1].type(), bson::Type::kNull);
  EXPECT_EQ(items[2].element().Str(), "x");
  EXPECT_TRUE(Value::Bool(true).Truthy());
  EXPECT_FALSE(Value::Int32(0).Truthy());
}

}  // namespace
}  // namespace brook::query
