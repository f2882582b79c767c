#include "commands/aggregate_cmd.h"

#include <chrono>
#include <unistd.h>

#include "bson/builder.h"
#include "catalog/catalog.h"
#include "commands/catalog_cmds.h"
#include "commands/crud_args.h"
#include "commands/cursor_registry.h"
#include "commands/find_cmd.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/write_ops.h"
#include "query/pipeline.h"

namespace brook::commands {
namespace {

constexpr std::string_view kCmd = "aggregate";

// A scan as a pipeline input.
class ScanSource : public query::DocumentSource {
 public:
  explicit ScanSource(Scan scan) : scan_(std::move(scan)) {}
  StatusWith<std::optional<bson::Doc>> Next() override {
    bson::Doc doc;
    auto more = scan_.Next(&doc, nullptr);
    if (!more.ok()) return more.status();
    if (!more.value()) return std::optional<bson::Doc>();
    return std::optional<bson::Doc>(std::move(doc));
  }

 private:
  Scan scan_;
};

// Collections as the pipeline sees them. Reads need only the service; $out writes use
// the operation that is running the pipeline (set per batch).
class Host : public query::PipelineHost {
 public:
  explicit Host(ServiceContext* service) : service_(service) {}
  void set_op(OperationContext* op) { op_ = op; }

  StatusWith<std::unique_ptr<query::DocumentSource>> ScanCollection(std::string_view db,
                                                                    std::string_view coll) override {
    if (!op_) return Status(ErrorCodes::kInternalError, "pipeline host used outside an operation");
    QueryRequest q;
    q.ns = catalog::Namespace{std::string(db), std::string(coll)};
    auto scan = OpenScan(*op_, q);
    if (!scan.ok()) return scan.status();
    return std::unique_ptr<query::DocumentSource>(std::make_unique<ScanSource>(std::move(scan).value()));
  }

  Status ReplaceCollection(std::string_view db, std::string_view coll,
                           std::vector<bson::Doc> docs) override {
    if (!op_) return Status(ErrorCodes::kInternalError, "pipeline host used outside an operation");
    catalog::Namespace ns{std::string(db), std::string(coll)};
    BROOK_RETURN_IF_ERROR(catalog::ValidateCollectionName(ns));
    if (ns.IsOplog()) return Status(ErrorCodes::kIllegalOperation, "cannot $out to the oplog");
    auto dropped = service_->catalog->DropCollection(ns);
    if (!dropped.ok() && !(dropped.status() == ErrorCodes::kNamespaceNotFound)) {
      return dropped.status();
    }
    if (docs.empty()) {
      auto created = service_->catalog->CreateCollection(ns, bson::View());
      if (!created.ok() && !(created.status() == ErrorCodes::kNamespaceExists)) return created.status();
    }
    for (const auto& d : docs) {
      auto prepared = PrepareInsertDocument(d);
      if (!prepared.ok()) return prepared.status();
      BROOK_RETURN_IF_ERROR(InsertOne(*op_, ns, prepared.value(), nullptr, 0));
    }
    return Status::OK();
  }

 private:
  ServiceContext* service_;
  OperationContext* op_ = nullptr;
};

// The pipeline's output as a cursor stream. Owns everything the running pipeline needs.
class AggregateStream : public DocumentStream {
 public:
  AggregateStream(std::shared_ptr<Host> host, std::unique_ptr<query::Pipeline> pipeline,
                  std::unique_ptr<query::DocumentSource> source)
      : host_(std::move(host)), pipeline_(std::move(pipeline)), source_(std::move(source)) {}
  StatusWith<bool> Next(OperationContext& op, bson::Doc* out) override {
    if (op.DeadlinePassed()) return MaxTimeMSExpired();
    host_->set_op(&op);
    auto next = source_->Next();
    host_->set_op(nullptr);
    if (!next.ok()) return next.status();
    if (!next.value()) return false;
    *out = std::move(*next.value());
    return true;
  }

 private:
  std::shared_ptr<Host> host_;
  std::unique_ptr<query::Pipeline> pipeline_;
  std::unique_ptr<query::DocumentSource> source_;
};

std::string HostName() {
  char buf[256];
  if (gethostname(buf, sizeof(buf)) != 0) return "localhost";
  buf[sizeof(buf) - 1] = '\0';
  return buf;
}

// The one document {$collStats: {...}} produces.
StatusWith<bson::Doc> CollStatsDoc(OperationContext& op, const catalog::Namespace& ns, bson::View spec) {
  auto coll = op.service().catalog->Lookup(ns);
  if (!coll) {
    return Status(ErrorCodes::kNamespaceNotFound, "Unable to retrieve storageStats in $collStats stage :: caused by :: Collection [" + ns.ns() + "] not found.");
  }
  auto stats = ComputeCollectionStats(op.service().engine, *coll);
  if (!stats.ok()) return stats.status();
  bson::Builder b;
  b.AppendString("ns", ns.ns());
  b.AppendString("host", HostName());
  b.AppendDate("localTime", std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  if (!spec["storageStats"].missing()) {
    b.OpenDocument("storageStats");
    AppendCollStats(*coll, stats.value(), 1, &b);
    b.Close();
  }
  if (!spec["count"].missing()) b.AppendInt64("count", stats.value().count);
  return b.Done();
}

// The stages after the first, as a BSON array.
bson::Doc Tail(bson::View stages) {
  bson::Builder b;
  std::string scratch;
  size_t i = 0, n = 0;
  for (const auto& e : stages) {
    if (i++ == 0) continue;
    b.AppendAs(bson::ArrayKey(n++, &scratch), e);
  }
  return b.Done();
}

}  // namespace

Status RunAggregate(OperationContext& op, const CommandRequest& req, bool explain,
                    std::string_view verbosity, bson::Builder* reply) {
  bson::View body = req.body;
  auto target = body.first();
  bool db_level = target.IsNumber() && target.NumberInt64() == 1;
  catalog::Namespace ns;
  if (db_level) {
    ns = catalog::Namespace{std::string(req.db), "$cmd.aggregate"};
  } else {
    auto parsed = CollectionNs(req);
    if (!parsed.ok()) return parsed.status();
    ns = parsed.value();
    BROOK_RETURN_IF_ERROR(catalog::ValidateCollectionName(ns));
  }
  auto pipeline_e = body["pipeline"];
  if (pipeline_e.missing()) return MissingField(kCmd, "pipeline");
  if (!pipeline_e.IsArray()) return WrongType(kCmd, "pipeline", pipeline_e, "array");
  std::optional<bool> explain_flag;
  BROOK_RETURN_IF_ERROR(GetBool(body, kCmd, "explain", &explain_flag));
  explain = explain || explain_flag.value_or(false);
  std::optional<bson::View> cursor_opts, let;
  BROOK_RETURN_IF_ERROR(GetObject(body, kCmd, "cursor", &cursor_opts));
  BROOK_RETURN_IF_ERROR(GetObject(body, kCmd, "let", &let));
  if (!cursor_opts && !explain) {
    return Status(ErrorCodes::kFailedToParse,
                  "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  std::optional<int64_t> batch_size;
  if (cursor_opts) BROOK_RETURN_IF_ERROR(GetInt64(*cursor_opts, "cursor", "batchSize", &batch_size, 0));
  std::optional<bool> allow_disk_use;
  BROOK_RETURN_IF_ERROR(GetBool(body, kCmd, "allowDiskUse", &allow_disk_use));
  auto has_collation = ParseCollation(body, kCmd);
  if (!has_collation.ok()) return has_collation.status();

  bson::View stages = pipeline_e.Obj();
  std::string first_stage;
  if (!stages.empty() && stages.first().IsObject() && !stages.first().Obj().empty()) {
    first_stage = std::string(stages.first().Obj().first().key());
  }
  if (first_stage == "$changeStream") {
    return Status(ErrorCodes::kCommandNotSupported, "$changeStream is not supported yet");
  }

  auto host = std::make_shared<Host>(&op.service());
  query::PipelineOptions popts;
  popts.db = std::string(req.db);
  popts.host = host.get();
  popts.allow_disk_use = allow_disk_use.value_or(false);
  if (let) popts.let_vars = bson::Doc::CopyOf(*let);

  std::unique_ptr<query::DocumentSource> input;
  Scan scan;
  bool has_scan = false;
  std::unique_ptr<query::Pipeline> pipeline;
  if (first_stage == "$collStats") {
    if (db_level) {
      return Status(ErrorCodes::kInvalidNamespace,
                    "{aggregate: 1} is not valid for '$collStats'; a collection is required.");
    }
    auto spec = stages.first().Obj().first();
    if (!spec.IsObject()) {
      return Status(5447000, "$collStats must take a nested object but found: " + spec.ToString());
    }
    auto doc = CollStatsDoc(op, ns, spec.Obj());
    if (!doc.ok()) return doc.status();
    std::vector<bson::Doc> docs;
    docs.push_back(std::move(doc).value());
    input = query::MakeVectorSource(std::move(docs));
    auto parsed = query::Pipeline::Parse(Tail(stages), popts);
    if (!parsed.ok()) return parsed.status();
    pipeline = std::move(parsed).value();
  } else {
    auto parsed = query::Pipeline::Parse(stages, popts);
    if (!parsed.ok()) return parsed.status();
    pipeline = std::move(parsed).value();
    if (db_level) {
      if (!pipeline->starts_with_documents()) {
        return Status(ErrorCodes::kInvalidNamespace,
                      "{aggregate: 1} is not valid for '" + (first_stage.empty() ? std::string("$match") : first_stage) +
                          "'; a collection is required.");
      }
      input = query::MakeVectorSource({});
    } else if (pipeline->starts_with_documents()) {
      input = query::MakeVectorSource({});
    } else {
      QueryRequest q;
      q.ns = ns;
      bson::Doc leading = pipeline->LeadingMatchFilter();
      q.filter = leading;
      q.hint = body["hint"];
      q.has_collation = has_collation.value();
      q.let = let.value_or(bson::View());
      auto opened = OpenScan(op, q);
      if (!opened.ok()) return opened.status();
      scan = std::move(opened).value();
      has_scan = true;
      if (explain) {
        input = query::MakeVectorSource({});
      } else {
        input = std::make_unique<ScanSource>(scan);
      }
    }
  }

  if (explain) {
    bson::Doc stages_doc = pipeline->Explain();
    reply->AppendString("explainVersion", "1");
    reply->OpenArray("stages");
    size_t n = 0;
    std::string scratch;
    if (has_scan) {
      reply->OpenDocument(bson::ArrayKey(n++, &scratch));
      reply->OpenDocument("$cursor");
      reply->OpenDocument("queryPlanner");
      reply->AppendString("namespace", ns.ns());
      reply->AppendDocument("parsedQuery", pipeline->LeadingMatchFilter());
      reply->AppendDocument("winningPlan", scan.desc.ToWinningPlan(pipeline->LeadingMatchFilter()));
      reply->OpenArray("rejectedPlans").Close();
      reply->Close();
      (void)verbosity;
      reply->Close();
      reply->Close();
    }
    auto st = stages_doc.view()["stages"];
    if (st.IsArray()) {
      for (const auto& s : st.Obj()) reply->AppendAs(bson::ArrayKey(n++, &scratch), s);
    }
    reply->Close();
    return Status::OK();
  }

  bool has_out = pipeline->has_out();
  host->set_op(&op);
  auto source = pipeline->Run(std::move(input));
  host->set_op(nullptr);
  if (!source.ok()) return source.status();
  auto stream = std::make_unique<AggregateStream>(host, std::move(pipeline), std::move(source).value());
  if (has_out) {
    // $out runs to completion in this command; the cursor it returns is empty.
    bson::Doc doc;
    while (true) {
      auto more = stream->Next(op, &doc);
      if (!more.ok()) return more.status();
      if (!more.value()) break;
    }
  }
  int64_t first = batch_size.value_or(kDefaultFirstBatchDocs);
  auto cursor = std::make_unique<StreamCursor>(std::move(stream));
  return ReplyWithCursor(op, ns.ns(), std::move(cursor), first, false, reply);
}

Status HandleAggregate(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  return RunAggregate(op, req, false, "queryPlanner", reply);
}

}  // namespace brook::commands
