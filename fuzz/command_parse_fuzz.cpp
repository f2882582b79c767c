// Fuzz target: the typed parsing behind find, update and aggregate-with-$changeStream.
// The input is one command document (validated like any client body); its first field
// picks the parser, as dispatch does:
//   find      -> commands::ParseFind, then the filter (query::Matcher), the projection
//                and the sort pattern, each run over a few sample documents;
//   update    -> each statement's q (Matcher), u + arrayFilters (query::UpdateDriver),
//                the upsert seed, and Apply on the sample documents that match;
//   aggregate -> changestream::BuildChangeStreamPlan (spec, resume token, user stages),
//                its explain, and the user's stages over sample change events.
// Parsing with no storage behind it is the point: these layers take typed values and
// must turn every malformed argument into a Status.
// Property checked besides "no crash": every document an update or projection produces
// is structurally valid BSON.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bson/json.h"
#include "bson/validate.h"
#include "catalog/namespace.h"
#include "changestream/plan.h"
#include "commands/crud_args.h"
#include "commands/find_cmd.h"
#include "commands/find_cmd_sort.h"
#include "fuzz_util.h"
#include "query/matcher.h"
#include "query/pipeline.h"
#include "query/projection.h"
#include "query/update.h"

namespace {

using brook::bson::Doc;
using brook::bson::View;

constexpr int64_t kNowMillis = 1'700'000'000'000;  // fixed $$NOW: runs are reproducible

std::vector<Doc> FromJsonList(const std::vector<const char*>& list) {
  std::vector<Doc> out;
  for (const char* json : list) {
    auto d = brook::bson::FromJson(json);
    if (!d.ok()) __builtin_trap();  // the samples below are fixed; a failure is a bug here
    out.push_back(std::move(d).value());
  }
  return out;
}

const std::vector<Doc>& SampleDocs() {
  static const std::vector<Doc> docs = FromJsonList({
      R"({"_id": 1, "a": 1, "b": "x", "c": [1, 2, 3]})",
      R"({"_id": 2, "a": {"b": [{"c": 1}, {"c": 2}]}, "s": "Hello", "n": null})",
      R"({"_id": {"$oid": "65a0f0f0f0f0f0f0f0f0f0f0"}, "arr": [[1, 2], {"x": 3}, "y"],
          "d": {"$date": "2024-01-01T00:00:00Z"}, "dec": {"$numberDecimal": "1.5"}})",
      R"({"_id": "k", "a": [], "b": {}, "x": {"y": {"z": {"w": 4}}}, "l": {"$numberLong": "9"}})",
  });
  return docs;
}

const std::vector<Doc>& SampleEvents() {
  static const std::vector<Doc> events = FromJsonList({
      R"({"_id": {"_data": "8265A0F0F0000000012B0229296E04"}, "operationType": "insert",
          "clusterTime": {"$timestamp": {"t": 1705046256, "i": 1}},
          "ns": {"db": "test", "coll": "c"}, "documentKey": {"_id": 1},
          "fullDocument": {"_id": 1, "a": 1, "tags": ["x", "y"]}})",
      R"({"_id": {"_data": "8265A0F0F0000000022B0229296E04"}, "operationType": "update",
          "clusterTime": {"$timestamp": {"t": 1705046256, "i": 2}},
          "ns": {"db": "test", "coll": "c"}, "documentKey": {"_id": 1},
          "updateDescription": {"updatedFields": {"a": 2}, "removedFields": ["b"],
                                "truncatedArrays": []}})",
  });
  return events;
}

void CheckValid(View v) {
  // Structure only: an update may legitimately build a document deeper than the parse
  // limit (the write path rejects it later).
  if (!brook::bson::Validate(v.data(), v.bytes().size(), 1 << 20).ok()) __builtin_trap();
}

void FuzzFind(const brook::commands::CommandRequest& req) {
  auto ns = brook::commands::CollectionNs(req);
  if (!ns.ok()) return;
  auto spec = brook::commands::ParseFind(req, ns.value());
  if (!spec.ok()) return;
  const auto& s = spec.value();
  brook::query::MatcherOptions mopts;
  mopts.collator = s.collation_arg.collator.get();
  mopts.let_variables = s.query.let;
  mopts.now_millis = kNowMillis;
  auto matcher = brook::query::Matcher::Parse(s.query.filter, mopts);
  std::unique_ptr<brook::query::Projection> projection;
  if (s.projection) {
    brook::query::ProjectionOptions popts;
    popts.collator = mopts.collator;
    popts.let_variables = s.query.let;
    popts.now_millis = kNowMillis;
    auto p = brook::query::Projection::Parse(*s.projection, popts);
    if (p.ok()) projection = std::move(p).value();
  }
  std::vector<Doc> matched;
  if (matcher.ok()) {
    for (const Doc& d : SampleDocs()) {
      brook::query::MatchDetails details;
      auto m = matcher.value()->MatchesOrError(d.view(), &details);
      if (!m.ok() || !m.value()) continue;
      matched.push_back(d);
      if (projection) {
        auto out = projection->Apply(d.view(), &details);
        if (out.ok()) CheckValid(out.value().view());
      }
    }
  }
  auto sort = brook::commands::SortPattern::Parse(s.query.sort);
  if (sort.ok()) {
    std::vector<Doc> docs = SampleDocs();
    sort.value().Sort(&docs, mopts.collator);
  }
}

void FuzzUpdateStatement(View stmt, View let) {
  auto q = stmt["q"];
  auto u = stmt["u"];
  if (!q.IsObject() || (!u.IsObject() && !u.IsArray())) return;
  auto collation = brook::commands::ParseCollation(stmt, "update.updates");
  if (!collation.ok()) return;
  const auto* collator = collation.value().collator.get();
  auto filters = stmt["arrayFilters"];
  brook::query::UpdateOptions uopts;
  uopts.collator = collator;
  uopts.let_variables = let;
  uopts.now_millis = kNowMillis;
  uopts.now_timestamp = brook::bson::Timestamp{1'700'000'000, 1};
  auto driver = brook::query::UpdateDriver::Parse(u, filters.IsArray() ? filters.Obj() : View(), uopts);
  brook::query::MatcherOptions mopts;
  mopts.collator = collator;
  mopts.let_variables = let;
  mopts.now_millis = kNowMillis;
  auto matcher = brook::query::Matcher::Parse(q.Obj(), mopts);
  auto seed = brook::query::UpdateDriver::SeedUpsertDocument(q.Obj());
  if (!driver.ok()) return;
  if (seed.ok()) {
    auto r = driver.value()->Apply(seed.value().view(), nullptr, true);
    if (r.ok()) CheckValid(r.value().new_doc.view());
  }
  if (!matcher.ok()) return;
  for (const Doc& d : SampleDocs()) {
    brook::query::MatchDetails details;
    if (!matcher.value()->Matches(d.view(), &details)) continue;
    auto r = driver.value()->Apply(d.view(), &details, false);
    if (!r.ok()) continue;
    CheckValid(r.value().new_doc.view());
    (void)r.value().description.ToBson(true);
  }
}

void FuzzUpdate(const brook::commands::CommandRequest& req) {
  auto updates = req.body["updates"];
  if (!updates.IsArray()) return;
  auto let = req.body["let"];
  int budget = 8;  // statements per input: deeper inputs, not longer batches, find bugs
  for (const auto& e : updates.Obj()) {
    if (budget-- == 0) break;
    if (e.IsObject()) FuzzUpdateStatement(e.Obj(), let.IsObject() ? let.Obj() : View());
  }
}

void FuzzAggregate(const brook::commands::CommandRequest& req) {
  auto pipeline = req.body["pipeline"];
  if (!pipeline.IsArray()) return;
  brook::changestream::PlanContext ctx;
  ctx.db = std::string(req.db);
  auto first = req.body.first();
  if (first.type() == brook::bson::Type::kString) ctx.coll = std::string(first.Str());
  if (auto let = req.body["let"]; let.IsObject()) ctx.let_vars = Doc::CopyOf(let.Obj());
  auto plan = brook::changestream::BuildChangeStreamPlan(pipeline.Obj(), ctx);
  if (!plan.ok()) return;
  (void)plan.value()->Explain();
  if (!plan.value()->user_pipeline) return;
  auto run = plan.value()->user_pipeline->Run(brook::query::MakeVectorSource(SampleEvents()));
  if (!run.ok()) return;
  auto out = brook::query::DrainSource(run.value().get());
  if (!out.ok()) return;
  for (const Doc& d : out.value()) CheckValid(d.view());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto doc = brook::fuzz::ValidDoc(data, size);
  if (!doc || doc->view().empty()) return 0;
  brook::commands::CommandRequest req;
  req.body = doc->view();
  req.name = req.body.first().key();
  req.db = "test";
  if (auto db = req.body["$db"]; db.type() == brook::bson::Type::kString) req.db = db.Str();
  if (req.name == "find") {
    FuzzFind(req);
  } else if (req.name == "update") {
    FuzzUpdate(req);
  } else if (req.name == "aggregate") {
    FuzzAggregate(req);
  }
  return 0;
}
