// explain: describes the plan of find, aggregate, count, distinct, update, delete and
// findAndModify ({queryPlanner: {namespace, winningPlan}}), and with verbosity
// "executionStats"/"allPlansExecution" runs the read to report what it examined.
#include <chrono>

#include "bson/builder.h"
#include "commands/aggregate_cmd.h"
#include "commands/crud_args.h"
#include "commands/find_cmd.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"

namespace brook::commands {
namespace {

bson::Doc Wrap(std::string_view stage, bson::View input, const std::function<void(bson::Builder*)>& extra) {
  bson::Builder b;
  b.AppendString("stage", stage);
  if (extra) extra(&b);
  b.AppendDocument("inputStage", input);
  return b.Done();
}

void AppendQueryPlanner(const catalog::Namespace& ns, bson::View filter, bson::View winning,
                        bson::Builder* reply) {
  reply->OpenDocument("queryPlanner");
  reply->AppendString("namespace", ns.ns());
  reply->AppendBool("indexFilterSet", false);
  reply->AppendDocument("parsedQuery", filter);
  reply->AppendDocument("winningPlan", winning);
  reply->OpenArray("rejectedPlans").Close();
  reply->Close();
}

void AppendExecutionStats(int64_t n_returned, int64_t millis, const Scan& scan, bson::View winning,
                          bson::Builder* reply) {
  reply->OpenDocument("executionStats");
  reply->AppendBool("executionSuccess", true);
  reply->AppendInt64("nReturned", n_returned);
  reply->AppendInt64("executionTimeMillis", millis);
  reply->AppendInt64("totalKeysExamined", scan.keys_examined());
  reply->AppendInt64("totalDocsExamined", scan.docs_examined());
  reply->AppendDocument("executionStages", winning);
  reply->Close();
}

struct ExplainTarget {
  catalog::Namespace ns;
  QueryRequest query;
  std::string top_stage;  // "COUNT", "UPDATE", "DELETE" or "" (find/distinct)
};

StatusWith<ExplainTarget> TargetOf(const CommandRequest& inner) {
  ExplainTarget t;
  auto ns = CollectionNs(inner);
  if (!ns.ok()) return ns.status();
  t.ns = ns.value();
  t.query.ns = t.ns;
  bson::View body = inner.body;
  auto obj = [&](std::string_view f) { return body[f].IsObject() ? body[f].Obj() : bson::View(); };
  if (inner.name == "count") {
    t.query.filter = obj("query");
    t.query.hint = body["hint"];
    t.top_stage = "COUNT";
  } else if (inner.name == "distinct") {
    t.query.filter = obj("query");
    t.query.hint = body["hint"];
  } else if (inner.name == "update" || inner.name == "delete") {
    auto stmts = body[inner.name == "update" ? "updates" : "deletes"];
    if (!stmts.IsArray() || stmts.Obj().empty() || !stmts.Obj().first().IsObject()) {
      return Status(ErrorCodes::kFailedToParse, "explain of " + std::string(inner.name) +
                                                    " requires exactly one statement");
    }
    bson::View s = stmts.Obj().first().Obj();
    t.query.filter = s["q"].IsObject() ? s["q"].Obj() : bson::View();
    t.query.hint = s["hint"];
    t.top_stage = inner.name == "update" ? "UPDATE" : "DELETE";
  } else {  // findAndModify
    t.query.filter = obj("query");
    t.query.sort = obj("sort");
    t.query.hint = body["hint"];
    t.top_stage = body["remove"].Truthy() ? "DELETE" : "UPDATE";
  }
  return t;
}

}  // namespace

Status HandleExplain(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto inner_e = req.body.first();
  if (!inner_e.IsObject()) return WrongType("explain", "explain", inner_e, "object");
  bson::View inner_body = inner_e.Obj();
  if (inner_body.empty()) return Status(ErrorCodes::kBadValue, "explain command requires a nested object");
  std::string verbosity = "allPlansExecution";
  auto v = req.body["verbosity"];
  if (!v.missing()) {
    if (v.type() != bson::Type::kString) return WrongType("explain", "verbosity", v, "string");
    verbosity = std::string(v.Str());
    if (verbosity != "queryPlanner" && verbosity != "executionStats" && verbosity != "allPlansExecution") {
      return Status(ErrorCodes::kBadValue, "verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}");
    }
  }
  bool run = verbosity != "queryPlanner";
  CommandRequest inner{inner_body.first().key(), req.db, inner_body};
  if (inner.name == "aggregate") return RunAggregate(op, inner, true, verbosity, reply);

  reply->AppendString("explainVersion", "1");
  if (inner.name == "find") {
    auto ns = CollectionNs(inner);
    if (!ns.ok()) return ns.status();
    auto spec = ParseFind(inner, ns.value());
    if (!spec.ok()) return spec.status();
    ResolveCollation(op, &spec.value());
    auto scan = OpenScan(op, spec.value().query);
    if (!scan.ok()) return scan.status();
    bson::Doc winning = scan.value().desc.ToWinningPlan(spec.value().query.filter);
    if (spec.value().has_sort && !scan.value().desc.provides_sort) {
      winning = Wrap("SORT", winning, [&](bson::Builder* b) {
        b->AppendDocument("sortPattern", spec.value().query.sort);
        b->AppendString("type", "simple");
      });
    }
    if (spec.value().skip > 0) {
      winning = Wrap("SKIP", winning, [&](bson::Builder* b) { b->AppendInt64("skipAmount", spec.value().skip); });
    }
    if (spec.value().limit) {
      winning = Wrap("LIMIT", winning, [&](bson::Builder* b) { b->AppendInt64("limitAmount", *spec.value().limit); });
    }
    if (spec.value().projection) {
      winning = Wrap("PROJECTION_DEFAULT", winning,
                     [&](bson::Builder* b) { b->AppendDocument("transformBy", *spec.value().projection); });
    }
    AppendQueryPlanner(ns.value(), spec.value().query.filter, winning, reply);
    if (run) {
      auto start = std::chrono::steady_clock::now();
      auto stream = FindStream::Make(scan.value(), spec.value(), spec.value().query.let);
      if (!stream.ok()) return stream.status();
      bson::Doc doc;
      while (true) {
        auto more = stream.value()->Next(op, &doc);
        if (!more.ok()) return more.status();
        if (!more.value()) break;
      }
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
      AppendExecutionStats(stream.value()->returned(), ms, stream.value()->scan(), winning, reply);
    }
  } else if (inner.name == "count" || inner.name == "distinct" || inner.name == "update" ||
             inner.name == "delete" || inner.name == "findAndModify" || inner.name == "findandmodify") {
    auto target = TargetOf(inner);
    if (!target.ok()) return target.status();
    auto scan = OpenScan(op, target.value().query);
    if (!scan.ok()) return scan.status();
    bson::Doc winning = scan.value().desc.ToWinningPlan(target.value().query.filter);
    if (!target.value().top_stage.empty()) winning = Wrap(target.value().top_stage, winning, nullptr);
    AppendQueryPlanner(target.value().ns, target.value().query.filter, winning, reply);
    if (run) {
      // Reads only: explain never applies a write.
      auto start = std::chrono::steady_clock::now();
      int64_t n = 0;
      bson::Doc doc;
      while (true) {
        auto more = scan.value().Next(&doc, nullptr);
        if (!more.ok()) return more.status();
        if (!more.value()) break;
        ++n;
      }
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
      AppendExecutionStats(n, ms, scan.value(), winning, reply);
    }
  } else {
    return Status(ErrorCodes::kCommandNotFound,
                  "Explain failed due to unknown command: " + std::string(inner.name));
  }
  reply->AppendDocument("command", inner_body);
  reply->OpenDocument("serverInfo");
  reply->AppendString("host", "localhost");
  reply->AppendString("version", "7.0.0");
  reply->Close();
  return Status::OK();
}

}  // namespace brook::commands
