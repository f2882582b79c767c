#include "watch/initial_sync.h"

#include <gtest/gtest.h>

namespace brook::watch {
namespace {

std::string FilterAfter(const std::string& last_id_json) {
  std::string err;
  BsonDoc last = BsonDoc::FromJson(last_id_json, &err);
  EXPECT_FALSE(last.IsEmpty()) << err;
  return ToExtJson(ContinueAfterFilter(last.get()).get(), JsonFormat::kCanonical);
}

// Every type code of the brackets after the numbers, in order.
const char* kAfterNumbers =
    R"({ "$numberInt" : "14" }, { "$numberInt" : "2" }, { "$numberInt" : "3" }, { "$numberInt" : "4" }, )"
    R"({ "$numberInt" : "5" }, { "$numberInt" : "7" }, { "$numberInt" : "8" }, { "$numberInt" : "9" }, )"
    R"({ "$numberInt" : "17" }, { "$numberInt" : "11" }, { "$numberInt" : "12" }, { "$numberInt" : "13" }, )"
    R"({ "$numberInt" : "15" }, { "$numberInt" : "127" })";

TEST(ContinueAfterFilter, TakesTheRestOfTheBracketThenEveryLaterType) {
  EXPECT_EQ(FilterAfter(R"({"_id": 5})"),
            std::string(R"({ "$or" : [ { "_id" : { "$gt" : { "$numberInt" : "5" } } }, { "_id" : { "$type" : [ )") +
                kAfterNumbers + " ] } } ] }");
  // A string: numbers sort before it, so they are not taken again.
  EXPECT_EQ(FilterAfter(R"({"_id": "k"})"),
            R"({ "$or" : [ { "_id" : { "$gt" : "k" } }, { "_id" : { "$type" : [ { "$numberInt" : "3" }, )"
            R"({ "$numberInt" : "4" }, { "$numberInt" : "5" }, { "$numberInt" : "7" }, { "$numberInt" : "8" }, )"
            R"({ "$numberInt" : "9" }, { "$numberInt" : "17" }, { "$numberInt" : "11" }, { "$numberInt" : "12" }, )"
            R"({ "$numberInt" : "13" }, { "$numberInt" : "15" }, { "$numberInt" : "127" } ] } } ] })");
}

TEST(ContinueAfterFilter, EdgesOfTheOrder) {
  // MinKey: everything after it, null included.
  std::string after_min = FilterAfter(R"({"_id": {"$minKey": 1}})");
  EXPECT_NE(after_min.find(R"("$type" : [ { "$numberInt" : "6" }, { "$numberInt" : "10" }, { "$numberInt" : "1" })"),
            std::string::npos)
      << after_min;
  // MaxKey: nothing sorts after it; no type clause.
  EXPECT_EQ(FilterAfter(R"({"_id": {"$maxKey": 1}})"), R"({ "$or" : [ { "_id" : { "$gt" : { "$maxKey" : 1 } } } ] })");
  // NaN sorts before every number, and {$gt: NaN} matches none: the numbers come by
  // {$gte: -Infinity}.
  std::string after_nan = FilterAfter(R"({"_id": {"$numberDouble": "NaN"}})");
  EXPECT_NE(after_nan.find(R"({ "_id" : { "$gte" : { "$numberDouble" : "-Infinity" } } })"), std::string::npos)
      << after_nan;
  // ObjectId: only booleans, dates, timestamps ... come after.
  std::string after_oid = FilterAfter(R"({"_id": {"$oid": "650000000000000000000001"}})");
  EXPECT_NE(after_oid.find(R"("$type" : [ { "$numberInt" : "8" }, { "$numberInt" : "9" })"), std::string::npos)
      << after_oid;
}

}  // namespace
}  // namespace brook::watch
