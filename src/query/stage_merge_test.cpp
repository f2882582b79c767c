// $merge at the query layer: parsing errors and what the stage hands to the host.
#include <gtest/gtest.h>

#include "bson/json.h"
#include "query/pipeline.h"

namespace brook::query {
namespace {

bson::Doc Json(const std::string& s) {
  auto d = bson::FromJson(s);
  EXPECT_TRUE(d.ok()) << s;
  return d.ok() ? std::move(d).value() : bson::Doc();
}

class RecordingHost : public PipelineHost {
 public:
  StatusWith<std::unique_ptr<DocumentSource>> ScanCollection(std::string_view, std::string_view) override {
    return MakeVectorSource({});
  }
  Status ReplaceCollection(std::string_view, std::string_view, std::vector<bson::Doc>) override {
    return Status::OK();
  }
  Status PrepareMerge(const MergeTarget& t) override {
    prepared = t;
    ++prepares;
    return prepare_status;
  }
  Status MergeBatch(const MergeTarget&, std::vector<MergeItem> batch) override {
    ++batches;
    for (auto& i : batch) items.push_back(std::move(i));
    return Status::OK();
  }
  MergeTarget prepared;
  Status prepare_status = Status::OK();
  int prepares = 0, batches = 0;
  std::vector<MergeItem> items;
};

struct MergeRun {
  RecordingHost host;
  PipelineOptions opts;
  MergeRun() {
    opts.db = "db";
    opts.host = &host;
  }
  StatusWith<std::vector<bson::Doc>> Run(const std::string& pipeline, std::vector<bson::Doc> input) {
    bson::Doc p = Json("{\"p\": " + pipeline + "}");
    auto parsed = Pipeline::Parse(p.view().first().Obj(), opts);
    if (!parsed.ok()) return parsed.status();
    EXPECT_TRUE(parsed.value()->has_out());
    auto src = parsed.value()->Run(MakeVectorSource(std::move(input)));
    if (!src.ok()) return src.status();
    return DrainSource(src.value().get());
  }
  int Error(const std::string& pipeline) {
    auto r = Run(pipeline, {Json(R"({"_id": 1, "a": 1})")});
    EXPECT_FALSE(r.ok()) << pipeline;
    return r.ok() ? 0 : r.status().code();
  }
};

TEST(MergeStageTest, ParseErrors) {
  MergeRun r;
  EXPECT_EQ(r.Error(R"([{"$merge": 5}])"), 51182);
  EXPECT_EQ(r.Error(R"([{"$merge": {"whenMatched": "merge"}}])"), 40414);
  EXPECT_EQ(r.Error(R"([{"$merge": {"into": "x", "bogus": 1}}])"), 40415);
  EXPECT_EQ(r.Error(R"([{"$merge": {"into": "x", "whenMatched": "nope"}}])"), 2);
  EXPECT_EQ(r.Error(R"([{"$merge": {"into": "x", "whenNotMatched": "nope"}}])"), 2);
  EXPECT_EQ(r.Error(R"([{"$merge": {"into": "x", "whenMatched": "fail", "whenNotMatched": "discard"}}])"),
            51181);
  EXPECT_EQ(r.Error(R"([{"$merge": {"into": "x", "whenMatched": "keepExisting", "whenNotMatched": "fail"}}])"),
            51181);
  EXPECT_EQ(r.Error(R"([{"$merge": {"into": "x", "let": {"a": 1}}}])"), 51199);
  EXPECT_EQ(r.Error(R"([{"$merge": {"into": "x", "on": 5}}])"), 51186);
  EXPECT_EQ(r.Error(R"([{"$merge": {"into": "x", "on": ["a", "a"]}}])"), 2);
  EXPECT_EQ(r.Error(R"([{"$merge": {"into": ""}}])"), 73);
  EXPECT_EQ(r.Error(R"([{"$merge": "x"}, {"$limit": 1}])"), 40601);
  EXPECT_EQ(r.Error(R"([{"$facet": {"f": [{"$merge": "x"}]}}])"), 40600);
  EXPECT_EQ(r.host.prepares, 0);
}

TEST(MergeStageTest, TargetAndDefaults) {
  MergeRun r;
  auto out = r.Run(R"([{"$merge": "dest"}])", {Json(R"({"_id": 1})")});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out.value().empty());
  EXPECT_EQ(r.host.prepared.db, "db");
  EXPECT_EQ(r.host.prepared.coll, "dest");
  EXPECT_EQ(r.host.prepared.when_matched, MergeTarget::WhenMatched::kMerge);
  EXPECT_EQ(r.host.prepared.when_not_matched, MergeTarget::WhenNotMatched::kInsert);
  EXPECT_FALSE(r.host.prepared.on_given);

  MergeRun r2;
  out = r2.Run(R"([{"$merge": {"into": {"db": "other", "coll": "c"}, "on": ["a", "b.c"],
                   "whenMatched": "replace", "whenNotMatched": "discard"}}])",
               {Json(R"({"_id": 1, "a": 2, "b": {"c": "x"}})")});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(r2.host.prepared.db, "other");
  EXPECT_EQ(r2.host.prepared.on, (std::vector<std::string>{"a", "b.c"}));
  EXPECT_TRUE(r2.host.prepared.on_given);
  ASSERT_EQ(r2.host.items.size(), 1u);
  EXPECT_EQ(r2.host.items[0].on_values.ToString(), Json(R"({"a": 2, "b.c": "x"})").ToString());
}

TEST(MergeStageTest, PreparesDocuments) {
  MergeRun r;
  auto out = r.Run(R"([{"$merge": {"into": "d"}}])", {Json(R"({"a": 1})")});
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(r.host.items.size(), 1u);
  // A generated _id, first.
  EXPECT_EQ(r.host.items[0].doc.view().first().key(), "_id");
  EXPECT_EQ(r.host.items[0].doc.view().first().type(), bson::Type::kObjectId);

  MergeRun r2;
  EXPECT_EQ(r2.Run(R"([{"$merge": {"into": "d", "on": "a"}}])", {Json(R"({"_id": 1})")}).status().code(), 51132);
  MergeRun r3;
  EXPECT_EQ(r3.Run(R"([{"$merge": {"into": "d", "on": "a"}}])", {Json(R"({"_id": 1, "a": null})")}).status().code(),
            51132);
  MergeRun r4;
  EXPECT_EQ(r4.Run(R"([{"$merge": {"into": "d", "on": "a"}}])", {Json(R"({"_id": 1, "a": [1]})")}).status().code(),
            51185);
}

TEST(MergeStageTest, PipelineModeEvaluatesLet) {
  MergeRun r;
  auto out = r.Run(R"([{"$merge": {"into": "d", "whenMatched": [{"$set": {"x": "$$new.a"}}]}}])",
                   {Json(R"({"_id": 1, "a": 5})")});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(r.host.items.size(), 1u);
  EXPECT_EQ(r.host.items[0].vars.ToString(), Json(R"({"new": {"_id": 1, "a": 5}})").ToString());
  EXPECT_EQ(r.host.prepared.when_matched, MergeTarget::WhenMatched::kPipeline);

  MergeRun r2;
  out = r2.Run(R"([{"$merge": {"into": "d", "let": {"v": {"$add": ["$a", 1]}},
                   "whenMatched": [{"$set": {"x": "$$v"}}]}}])",
               {Json(R"({"_id": 1, "a": 5})")});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(r2.host.items[0].vars.ToString(), Json(R"({"v": 6})").ToString());
}

TEST(MergeStageTest, BatchesAndHostErrors) {
  MergeRun r;
  std::vector<bson::Doc> input;
  for (int i = 0; i < 2500; ++i) input.push_back(Json("{\"_id\": " + std::to_string(i) + "}"));
  auto out = r.Run(R"([{"$merge": "d"}])", std::move(input));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(r.host.batches, 3);
  EXPECT_EQ(r.host.items.size(), 2500u);

  MergeRun r2;
  r2.host.prepare_status = Status(51183, "Cannot find index to verify that join fields will be unique");
  EXPECT_EQ(r2.Run(R"([{"$merge": {"into": "d", "on": "a"}}])", {Json(R"({"a": 1})")}).status().code(), 51183);
  EXPECT_EQ(r2.host.batches, 0);
}

}  // namespace
}  // namespace brook::query
