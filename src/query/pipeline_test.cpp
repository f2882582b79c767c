// Stage-by-stage tests of the aggregation pipeline: pipeline JSON over input documents
// -> expected output documents (or error code), with an in-memory PipelineHost.
#include <gtest/gtest.h>

#include <map>

#include "bson/json.h"
#include "query/pipeline.h"

namespace brook::query {
namespace {

bson::Doc Json(const std::string& s) {
  auto d = bson::FromJson(s);
  EXPECT_TRUE(d.ok()) << s << ": " << d.status().ToString();
  return d.ok() ? std::move(d).value() : bson::Doc();
}

// Parses a JSON array into documents.
std::vector<bson::Doc> Docs(const std::string& json_array) {
  bson::Doc wrapper = Json("{\"a\": " + json_array + "}");
  std::vector<bson::Doc> out;
  for (const bson::Element& e : wrapper.view().first().Obj()) out.push_back(bson::Doc::CopyOf(e.Obj()));
  return out;
}

std::vector<std::string> Strings(const std::vector<bson::Doc>& docs) {
  std::vector<std::string> out;
  for (const auto& d : docs) out.push_back(bson::ToRelaxedJson(d.view()));
  return out;
}

class MemHost : public PipelineHost {
 public:
  StatusWith<std::unique_ptr<DocumentSource>> ScanCollection(std::string_view db,
                                                             std::string_view coll) override {
    ++scans;
    std::vector<bson::Doc> copy;
    auto it = colls.find(std::string(db) + "." + std::string(coll));
    if (it != colls.end()) {
      for (const auto& d : it->second) copy.push_back(bson::Doc::CopyOf(d.view()));
    }
    return MakeVectorSource(std::move(copy));
  }
  Status ReplaceCollection(std::string_view db, std::string_view coll,
                           std::vector<bson::Doc> docs) override {
    colls[std::string(db) + "." + std::string(coll)] = std::move(docs);
    return Status::OK();
  }
  std::map<std::string, std::vector<bson::Doc>> colls;
  int scans = 0;
};

struct Runner {
  MemHost host;
  PipelineOptions opts;
  Runner() {
    opts.db = "test";
    opts.host = &host;
  }

  StatusWith<std::vector<bson::Doc>> Run(const std::string& pipeline, const std::string& input) {
    bson::Doc p = Json("{\"p\": " + pipeline + "}");
    auto parsed = Pipeline::Parse(p.view().first().Obj(), opts);
    if (!parsed.ok()) return parsed.status();
    auto src = parsed.value()->Run(MakeVectorSource(Docs(input)));
    if (!src.ok()) return src.status();
    parsed.value().reset();  // the run must not need the Pipeline object
    return DrainSource(src.value().get());
  }

  void Expect(const std::string& pipeline, const std::string& input, const std::string& expected) {
    SCOPED_TRACE("pipeline: " + pipeline);
    auto out = Run(pipeline, input);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(Strings(out.value()), Strings(Docs(expected)));
  }

  void ExpectError(const std::string& pipeline, const std::string& input, int code) {
    SCOPED_TRACE("pipeline: " + pipeline);
    auto out = Run(pipeline, input);
    ASSERT_FALSE(out.ok()) << "got " << out.value().size() << " documents";
    EXPECT_EQ(out.status().code(), code) << out.status().reason();
  }
};

TEST(PipelineTest, StageArrayErrors) {
  Runner r;
  r.ExpectError(R"([{"$foo": {}}])", "[]", 40324);
  r.ExpectError(R"([{"$match": {}, "$limit": 1}])", "[]", 40323);
  r.ExpectError(R"([{"$out": "x"}, {"$limit": 1}])", "[]", 40601);
  r.ExpectError(R"([5])", "[]", 14);
  auto out = r.Run(R"([{"$bogus": 1}])", "[]");
  EXPECT_EQ(out.status().reason(), "Unrecognized pipeline stage name: '$bogus'");
}

TEST(PipelineTest, Redact) {
  Runner r;
  // MongoDB's documentation example: keep levels whose tags intersect the user's.
  const std::string pipeline = R"([{"$redact": {"$cond": {
      "if": {"$gt": [{"$size": {"$setIntersection": ["$tags", ["STLW", "G"]]}}, 0]},
      "then": "$$DESCEND", "else": "$$PRUNE"}}}])";
  r.Expect(pipeline,
           R"([{"_id": 1, "tags": ["G"], "a": 1,
                "sub": {"tags": ["SI"], "x": 1},
                "keep": {"tags": ["STLW"], "y": 2},
                "arr": [{"tags": ["G"], "z": 3}, {"tags": ["X"]}, 7, [{"tags": ["X"]}, 8]]},
               {"_id": 2, "tags": ["X"]}])",
           R"([{"_id": 1, "tags": ["G"], "a": 1, "keep": {"tags": ["STLW"], "y": 2},
                "arr": [{"tags": ["G"], "z": 3}, 7, [8]]}])");
  r.Expect(R"([{"$redact": "$$KEEP"}])", R"([{"a": {"b": 1}}])", R"([{"a": {"b": 1}}])");
  r.Expect(R"([{"$redact": "$$PRUNE"}])", R"([{"a": 1}])", "[]");
  // $$ROOT stays the whole document while $$CURRENT descends.
  r.Expect(R"([{"$redact": {"$cond": [{"$eq": ["$$ROOT.level", "$level"]}, "$$DESCEND", "$$PRUNE"]}}])",
           R"([{"level": 1, "a": {"level": 1, "k": 1}, "b": {"level": 2}}])",
           R"([{"level": 1, "a": {"level": 1, "k": 1}}])");
  r.ExpectError(R"([{"$redact": "keep!"}])", R"([{"a": 1}])", 17053);
  r.ExpectError(R"([{"$redact": {"$cond": [true, 5, "$$KEEP"]}}])", R"([{"a": 1}])", 17053);
  // The redact variables exist only inside $redact: elsewhere MongoDB answers 17276.
  r.ExpectError(R"([{"$addFields": {"x": "$$KEEP"}}])", R"([{"a": 1}])", 17276);
}

TEST(PipelineTest, Match) {
  Runner r;
  r.Expect(R"([{"$match": {"a": {"$gt": 1}}}])", R"([{"a": 1}, {"a": 2}, {"a": [0, 5]}])",
           R"([{"a": 2}, {"a": [0, 5]}])");
  r.Expect(R"([{"$match": {"$expr": {"$eq": ["$a", "$b"]}}}])", R"([{"a": 1, "b": 1}, {"a": 1, "b": 2}])",
           R"([{"a": 1, "b": 1}])");
  r.ExpectError(R"([{"$match": 1}])", "[]", 15959);
}

TEST(PipelineTest, LeadingMatchFilterAndExplain) {
  bson::Doc p = Json(R"({"p": [{"$match": {"a": 1}}, {"$limit": 2}]})");
  PipelineOptions opts;
  auto parsed = Pipeline::Parse(p.view().first().Obj(), opts);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(bson::ToRelaxedJson(parsed.value()->LeadingMatchFilter()), bson::ToRelaxedJson(Json(R"({"a": 1})")));
  EXPECT_FALSE(parsed.value()->has_out());
  EXPECT_EQ(bson::ToRelaxedJson(parsed.value()->Explain()),
            bson::ToRelaxedJson(Json(R"({"stages": [{"$match": {"a": 1}}, {"$limit": 2}]})")));
  bson::Doc q = Json(R"({"p": [{"$limit": 2}, {"$match": {"a": 1}}]})");
  auto parsed2 = Pipeline::Parse(q.view().first().Obj(), opts);
  ASSERT_TRUE(parsed2.ok());
  EXPECT_TRUE(parsed2.value()->LeadingMatchFilter().empty());
}

TEST(PipelineTest, ProjectInclusionExclusionComputed) {
  Runner r;
  const char* in = R"([{"_id": 1, "a": 1, "b": {"c": 2, "d": 3}, "e": [{"c": 1, "x": 2}, 5]}])";
  r.Expect(R"([{"$project": {"a": 1}}])", in, R"([{"_id": 1, "a": 1}])");
  r.Expect(R"([{"$project": {"a": 1, "_id": 0}}])", in, R"([{"a": 1}])");
  r.Expect(R"([{"$project": {"b.c": 1, "e.c": 1}}])", in, R"([{"_id": 1, "b": {"c": 2}, "e": [{"c": 1}]}])");
  r.Expect(R"([{"$project": {"b": {"d": 1}}}])", in, R"([{"_id": 1, "b": {"d": 3}}])");
  r.Expect(R"([{"$project": {"a": 0, "b.c": 0}}])", in,
           R"([{"_id": 1, "b": {"d": 3}, "e": [{"c": 1, "x": 2}, 5]}])");
  r.Expect(R"([{"$project": {"e.x": 0, "_id": 0, "b": 0}}])", in, R"([{"a": 1, "e": [{"c": 1}, 5]}])");
  r.Expect(R"([{"$project": {"sum": {"$add": ["$a", "$b.c"]}, "a": 1, "lit": "x"}}])", in,
           R"([{"_id": 1, "a": 1, "sum": 3, "lit": "x"}])");
  r.Expect(R"([{"$project": {"n.m": "$a"}}])", in, R"([{"_id": 1, "n": {"m": 1}}])");
  r.Expect(R"([{"$project": {"_id": 0}}])", R"([{"_id": 1, "a": 2}])", R"([{"a": 2}])");
  r.ExpectError(R"([{"$project": {"a": 1, "b": 0}}])", in, 31254);
  r.ExpectError(R"([{"$project": {"a": 0, "b": 1}}])", in, 31253);
  r.ExpectError(R"([{"$project": {"a": 1, "a.b": 1}}])", in, 31250);
  r.ExpectError(R"([{"$project": {}}])", in, 51272);
  r.ExpectError(R"([{"$project": 1}])", in, 15969);
  auto out = r.Run(R"([{"$project": {"a": 1, "b": 0}}])", in);
  EXPECT_EQ(out.status().reason(),
            "Invalid $project :: caused by :: Cannot do exclusion on field b in inclusion projection");
}

TEST(PipelineTest, AddFieldsSetUnset) {
  Runner r;
  const char* in = R"([{"_id": 1, "a": 1, "b": {"c": 2}, "arr": [{"x": 1}, 7]}])";
  r.Expect(R"([{"$addFields": {"a": 10, "z": {"$add": ["$a", 1]}}}])", in,
           R"([{"_id": 1, "a": 10, "b": {"c": 2}, "arr": [{"x": 1}, 7], "z": 2}])");
  r.Expect(R"([{"$set": {"b.d": 3, "arr.y": 0}}])", in,
           R"([{"_id": 1, "a": 1, "b": {"c": 2, "d": 3}, "arr": [{"x": 1, "y": 0}, {"y": 0}]}])");
  r.Expect(R"([{"$set": {"b": {"e": 5}}}])", in,
           R"([{"_id": 1, "a": 1, "b": {"c": 2, "e": 5}, "arr": [{"x": 1}, 7]}])");
  r.Expect(R"([{"$set": {"a": "$$REMOVE"}}])", in, R"([{"_id": 1, "b": {"c": 2}, "arr": [{"x": 1}, 7]}])");
  r.Expect(R"([{"$unset": ["a", "b.c"]}])", in, R"([{"_id": 1, "b": {}, "arr": [{"x": 1}, 7]}])");
  r.Expect(R"([{"$unset": "arr"}])", in, R"([{"_id": 1, "a": 1, "b": {"c": 2}}])");
  r.ExpectError(R"([{"$unset": 1}])", in, 31002);
  r.ExpectError(R"([{"$unset": [1]}])", in, 31120);
  r.ExpectError(R"([{"$addFields": 1}])", in, 40272);
}

TEST(PipelineTest, SortOrder) {
  Runner r;
  r.Expect(R"([{"$sort": {"a": 1, "b": -1}}])",
           R"([{"a": 2, "b": 1}, {"a": 1, "b": 1}, {"a": 1, "b": 2}, {"b": 0}, {"a": null, "b": 5}, {"a": "s"}])",
           R"([{"a": null, "b": 5}, {"b": 0}, {"a": 1, "b": 2}, {"a": 1, "b": 1}, {"a": 2, "b": 1}, {"a": "s"}])");
  // Arrays: ascending by smallest element, descending by largest.
  r.Expect(R"([{"$sort": {"a": 1}}])", R"([{"_id": 1, "a": [5, 1]}, {"_id": 2, "a": 3}, {"_id": 3, "a": []}])",
           R"([{"_id": 3, "a": []}, {"_id": 1, "a": [5, 1]}, {"_id": 2, "a": 3}])");
  r.Expect(R"([{"$sort": {"a": -1}}])", R"([{"_id": 1, "a": [5, 1]}, {"_id": 2, "a": 3}])",
           R"([{"_id": 1, "a": [5, 1]}, {"_id": 2, "a": 3}])");
  r.Expect(R"([{"$sort": {"x.y": 1}}])", R"([{"x": [{"y": 9}, {"y": 2}]}, {"x": {"y": 4}}])",
           R"([{"x": [{"y": 9}, {"y": 2}]}, {"x": {"y": 4}}])");
  r.ExpectError(R"([{"$sort": {"a": 2}}])", "[]", 15975);
  r.ExpectError(R"([{"$sort": {}}])", "[]", 15976);
  r.ExpectError(R"([{"$sort": 1}])", "[]", 15973);
}

TEST(PipelineTest, LimitSkip) {
  Runner r;
  const char* in = R"([{"a": 1}, {"a": 2}, {"a": 3}, {"a": 4}])";
  r.Expect(R"([{"$skip": 1}, {"$limit": 2}])", in, R"([{"a": 2}, {"a": 3}])");
  r.Expect(R"([{"$limit": 10}])", in, in);
  r.Expect(R"([{"$skip": 10}])", in, "[]");
  r.ExpectError(R"([{"$limit": 0}])", in, 15958);
  r.ExpectError(R"([{"$limit": "x"}])", in, 15957);
  r.ExpectError(R"([{"$skip": -1}])", in, 15956);
}

TEST(PipelineTest, Group) {
  Runner r;
  const char* in = R"([
    {"k": "a", "n": 1, "d": 1.5, "o": {"x": 1}},
    {"k": "b", "n": 2, "o": {"y": 2}},
    {"k": "a", "n": 3, "d": 2.5, "o": {"x": 3}},
    {"n": 4}])";
  r.Expect(R"([{"$group": {"_id": "$k", "total": {"$sum": "$n"}, "avg": {"$avg": "$n"}, "cnt": {"$count": {}},
      "mn": {"$min": "$d"}, "mx": {"$max": "$n"}, "f": {"$first": "$n"}, "l": {"$last": "$d"},
      "all": {"$push": "$n"}, "set": {"$addToSet": "$k"}, "m": {"$mergeObjects": "$o"}}}])",
           in,
           R"([
    {"_id": "a", "total": 4, "avg": 2.0, "cnt": 2, "mn": 1.5, "mx": 3, "f": 1, "l": 2.5, "all": [1, 3], "set": ["a"], "m": {"x": 3}},
    {"_id": "b", "total": 2, "avg": 2.0, "cnt": 1, "mn": null, "mx": 2, "f": 2, "l": null, "all": [2], "set": ["b"], "m": {"y": 2}},
    {"_id": null, "total": 4, "avg": 4.0, "cnt": 1, "mn": null, "mx": 4, "f": 4, "l": null, "all": [4], "set": [], "m": {}}])");
  r.Expect(R"([{"$group": {"_id": {"k": "$k"}, "c": {"$sum": 1}}}, {"$sort": {"c": -1}}, {"$limit": 1}])", in,
           R"([{"_id": {"k": "a"}, "c": 2}])");
  r.Expect(R"([{"$group": {"_id": null, "s": {"$sum": "$n"}, "sp": {"$stdDevPop": "$n"}, "ss": {"$stdDevSamp": "$n"}}}])",
           R"([{"n": 2}, {"n": 4}, {"n": 4}, {"n": 4}, {"n": 5}, {"n": 5}, {"n": 7}, {"n": 9}])",
           R"([{"_id": null, "s": 40, "sp": 2.0, "ss": 2.138089935299395}])");
  // Group keys compare numerically across types.
  r.Expect(R"([{"$group": {"_id": "$a", "c": {"$sum": 1}}}])", R"([{"a": 1}, {"a": 1.0}, {"a": {"$numberLong": "1"}}])",
           R"([{"_id": 1, "c": 3}])");
  // $sum typing: int overflow to long.
  r.Expect(R"([{"$group": {"_id": null, "s": {"$sum": "$a"}}}])", R"([{"a": 2147483647}, {"a": 1}])",
           R"([{"_id": null, "s": {"$numberLong": "2147483648"}}])");
  r.ExpectError(R"([{"$group": {"c": {"$sum": 1}}}])", in, 15955);
  r.ExpectError(R"([{"$group": {"_id": null, "c": {"$bogus": 1}}}])", in, 15952);
  r.ExpectError(R"([{"$group": {"_id": null, "c": 1}}])", in, 40234);
  r.ExpectError(R"([{"$group": {"_id": null, "c": {"$sum": 1, "$avg": 1}}}])", in, 40238);
  r.ExpectError(R"([{"$group": {"_id": null, "m": {"$mergeObjects": "$n"}}}])", in, 40400);
}

TEST(PipelineTest, CountAndSortByCount) {
  Runner r;
  r.Expect(R"([{"$count": "n"}])", R"([{}, {}, {}])", R"([{"n": 3}])");
  r.Expect(R"([{"$count": "n"}])", "[]", "[]");
  r.ExpectError(R"([{"$count": ""}])", "[]", 40157);
  r.ExpectError(R"([{"$count": "$x"}])", "[]", 40158);
  r.ExpectError(R"([{"$count": "a.b"}])", "[]", 40160);
  r.Expect(R"([{"$sortByCount": "$t"}])", R"([{"t": "x"}, {"t": "y"}, {"t": "y"}])",
           R"([{"_id": "y", "count": 2}, {"_id": "x", "count": 1}])");
  r.ExpectError(R"([{"$sortByCount": "t"}])", "[]", 40148);
}

TEST(PipelineTest, Unwind) {
  Runner r;
  const char* in = R"([{"_id": 1, "a": [1, 2]}, {"_id": 2, "a": []}, {"_id": 3, "a": null}, {"_id": 4}, {"_id": 5, "a": 7}])";
  r.Expect(R"([{"$unwind": "$a"}])", in,
           R"([{"_id": 1, "a": 1}, {"_id": 1, "a": 2}, {"_id": 5, "a": 7}])");
  r.Expect(R"([{"$unwind": {"path": "$a", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": true}}])", in,
           R"([{"_id": 1, "a": 1, "i": {"$numberLong": "0"}}, {"_id": 1, "a": 2, "i": {"$numberLong": "1"}},
               {"_id": 2, "i": null}, {"_id": 3, "a": null, "i": null}, {"_id": 4, "i": null}, {"_id": 5, "a": 7, "i": null}])");
  r.Expect(R"([{"$unwind": "$x.y"}])", R"([{"x": {"y": [1, 2], "z": 0}}])",
           R"([{"x": {"y": 1, "z": 0}}, {"x": {"y": 2, "z": 0}}])");
  r.ExpectError(R"([{"$unwind": "a"}])", in, 28818);
  r.ExpectError(R"([{"$unwind": {"includeArrayIndex": "i"}}])", in, 28812);
  r.ExpectError(R"([{"$unwind": {"path": "$a", "bogus": 1}}])", in, 28811);
  r.ExpectError(R"([{"$unwind": 1}])", in, 15981);
}

TEST(PipelineTest, ReplaceRoot) {
  Runner r;
  r.Expect(R"([{"$replaceRoot": {"newRoot": "$a"}}])", R"([{"a": {"x": 1}}])", R"([{"x": 1}])");
  r.Expect(R"([{"$replaceWith": {"$mergeObjects": [{"d": 0}, "$a"]}}])", R"([{"a": {"x": 1}}])",
           R"([{"d": 0, "x": 1}])");
  r.ExpectError(R"([{"$replaceRoot": {"newRoot": "$a"}}])", R"([{"a": 1}])", 40228);
  r.ExpectError(R"([{"$replaceWith": "$missing"}])", R"([{"a": 1}])", 40228);
}

TEST(PipelineTest, LookupEquality) {
  Runner r;
  r.host.colls["test.items"] = Docs(R"([{"_id": 1, "k": "a"}, {"_id": 2, "k": ["b", "c"]}, {"_id": 3}, {"_id": 4, "k": "a"}])");
  r.Expect(R"([{"$lookup": {"from": "items", "localField": "key", "foreignField": "k", "as": "m"}}])",
           R"([{"key": "a"}, {"key": ["c", "z"]}, {"key": null}, {"other": 1}])",
           R"([{"key": "a", "m": [{"_id": 1, "k": "a"}, {"_id": 4, "k": "a"}]},
               {"key": ["c", "z"], "m": [{"_id": 2, "k": ["b", "c"]}]},
               {"key": null, "m": [{"_id": 3}]},
               {"other": 1, "m": [{"_id": 3}]}])");
  EXPECT_EQ(r.host.scans, 1);  // the foreign collection is read once per run
  r.Expect(R"([{"$lookup": {"from": "nothing", "localField": "a", "foreignField": "a", "as": "m"}}])",
           R"([{"a": 1}])", R"([{"a": 1, "m": []}])");
  r.ExpectError(R"([{"$lookup": {"from": "items", "localField": "a", "foreignField": "a"}}])", "[]", 9);
  r.ExpectError(R"([{"$lookup": {"from": "items", "localField": "a", "as": "x"}}])", "[]", 9);
}

TEST(PipelineTest, LookupPipelineWithLet) {
  Runner r;
  r.host.colls["test.stock"] = Docs(R"([{"item": "x", "qty": 5}, {"item": "x", "qty": 50}, {"item": "y", "qty": 60}])");
  r.Expect(R"([{"$lookup": {"from": "stock", "let": {"it": "$item", "need": "$need"},
      "pipeline": [{"$match": {"$expr": {"$and": [{"$eq": ["$item", "$$it"]}, {"$gte": ["$qty", "$$need"]}]}}},
                   {"$project": {"_id": 0, "qty": 1}}],
      "as": "ok"}}])",
           R"([{"item": "x", "need": 10}, {"item": "y", "need": 100}])",
           R"([{"item": "x", "need": 10, "ok": [{"qty": 50}]}, {"item": "y", "need": 100, "ok": []}])");
  r.ExpectError(R"([{"$lookup": {"from": "stock", "pipeline": [{"$match": {"$expr": {"$eq": ["$a", "$$nope"]}}}], "as": "x"}}])",
                "[]", 17276);
  r.ExpectError(R"([{"$lookup": {"from": "stock", "pipeline": [{"$out": "z"}], "as": "x"}}])", "[]", 51047);
}

TEST(PipelineTest, Facet) {
  Runner r;
  r.Expect(R"([{"$facet": {"count": [{"$count": "n"}], "top": [{"$sort": {"a": -1}}, {"$limit": 1}]}}])",
           R"([{"a": 1}, {"a": 3}, {"a": 2}])", R"([{"count": [{"n": 3}], "top": [{"a": 3}]}])");
  r.ExpectError(R"([{"$facet": {}}])", "[]", 40169);
  r.ExpectError(R"([{"$facet": {"x": 1}}])", "[]", 40170);
  r.ExpectError(R"([{"$facet": {"x": [{"$out": "y"}]}}])", "[]", 40600);
}

TEST(PipelineTest, UnionWith) {
  Runner r;
  r.host.colls["test.other"] = Docs(R"([{"o": 1}, {"o": 2}])");
  r.Expect(R"([{"$unionWith": "other"}])", R"([{"a": 1}])", R"([{"a": 1}, {"o": 1}, {"o": 2}])");
  r.Expect(R"([{"$unionWith": {"coll": "other", "pipeline": [{"$match": {"o": 2}}]}}])", R"([{"a": 1}])",
           R"([{"a": 1}, {"o": 2}])");
  r.Expect(R"([{"$unionWith": "missing"}])", R"([{"a": 1}])", R"([{"a": 1}])");
}

TEST(PipelineTest, SampleDocumentsOut) {
  Runner r;
  auto out = r.Run(R"([{"$sample": {"size": 2}}])", R"([{"a": 1}, {"a": 2}, {"a": 3}])");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.value().size(), 2u);
  r.ExpectError(R"([{"$sample": {"size": -1}}])", "[]", 28747);
  r.ExpectError(R"([{"$sample": {"n": 1}}])", "[]", 28748);

  r.Expect(R"([{"$documents": [{"x": 1}, {"x": 2}]}, {"$match": {"x": 2}}])", R"([{"ignored": 1}])",
           R"([{"x": 2}])");
  r.ExpectError(R"([{"$match": {}}, {"$documents": []}])", "[]", 40602);

  bson::Doc p = Json(R"({"p": [{"$match": {"a": {"$gte": 2}}}, {"$out": "dest"}]})");
  auto parsed = Pipeline::Parse(p.view().first().Obj(), r.opts);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed.value()->has_out());
  auto src = parsed.value()->Run(MakeVectorSource(Docs(R"([{"a": 1}, {"a": 2}, {"a": 3}])")));
  ASSERT_TRUE(src.ok());
  auto drained = DrainSource(src.value().get());
  ASSERT_TRUE(drained.ok());
  EXPECT_TRUE(drained.value().empty());
  EXPECT_EQ(Strings(r.host.colls["test.dest"]), Strings(Docs(R"([{"a": 2}, {"a": 3}])")));
}

TEST(PipelineTest, Bucket) {
  Runner r;
  r.Expect(R"([{"$bucket": {"groupBy": "$p", "boundaries": [0, 10, 20], "default": "other",
                            "output": {"n": {"$sum": 1}, "ps": {"$push": "$p"}}}}])",
           R"([{"p": 5}, {"p": 15}, {"p": 1}, {"p": 25}])",
           R"([{"_id": 0, "n": 2, "ps": [5, 1]}, {"_id": 10, "n": 1, "ps": [15]}, {"_id": "other", "n": 1, "ps": [25]}])");
  r.ExpectError(R"([{"$bucket": {"groupBy": "$p", "boundaries": [10, 0]}}])", "[]", 40194);
}

TEST(PipelineTest, LetVariables) {
  Runner r;
  r.opts.let_vars = Json(R"({"target": 2, "bonus": {"$add": [1, 1]}})");
  r.Expect(R"([{"$match": {"$expr": {"$eq": ["$a", "$$target"]}}}, {"$project": {"_id": 0, "b": {"$add": ["$a", "$$bonus"]}}}])",
           R"([{"a": 1}, {"a": 2}])", R"([{"b": 4}])");
}

TEST(PipelineTest, RuntimeErrorsStopTheStream) {
  Runner r;
  r.ExpectError(R"([{"$project": {"x": {"$divide": [1, "$a"]}}}])", R"([{"a": 1}, {"a": 0}])", 2);
}

}  // namespace
}  // namespace brook::query
