#include "commands/transactions.h"
#include "commands/aggregate_cmd.h"

#include <chrono>
#include <unistd.h>

#include "bson/builder.h"
#include "catalog/catalog.h"
#include "commands/aggregate_cmd_host.h"
#include "commands/catalog_cmds.h"
#include "commands/catalog_cmds_views.h"
#include "commands/change_stream_cmd.h"
#include "commands/crud_args.h"
#include "commands/cursor_registry.h"
#include "commands/find_cmd.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/sessions.h"
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

// The pipeline's output as a cursor stream. Owns everything the running pipeline needs.
class AggregateStream : public DocumentStream {
 public:
  AggregateStream(query::CollatorPtr collator, std::shared_ptr<AggregateHost> host,
                  std::unique_ptr<query::Pipeline> pipeline,
                  std::unique_ptr<query::DocumentSource> source)
      : collator_(std::move(collator)), host_(std::move(host)), pipeline_(std::move(pipeline)),
        source_(std::move(source)) {}
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
  query::CollatorPtr collator_;  // the pipeline and its scan point at it
  std::shared_ptr<AggregateHost> host_;
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

// The parsed pipeline over its input, ready to run or explain.
struct PreparedPipeline {
  query::CollatorPtr collator;  // declared first: everything below points at it
  std::shared_ptr<AggregateHost> host;
  bson::Doc stages_owner;       // a view's stages followed by the command's
  std::unique_ptr<query::Pipeline> pipeline;
  std::unique_ptr<query::DocumentSource> input;
  Scan scan;
  bool has_scan = false;
  catalog::Namespace source_ns;  // the collection read (a view's backing collection)
};

struct PipelineArgs {
  catalog::Namespace ns;
  bool db_level = false;
  bson::View stages;
  std::string first_stage;
  CollationArg collation;
  bson::Element hint;
  std::optional<bson::View> let;
  bool allow_disk_use = false;
  bool bypass_validation = false;
  bool explain = false;
};

// The first stage's name, or "".
std::string FirstStageName(bson::View stages) {
  if (!stages.empty() && stages.first().IsObject() && !stages.first().Obj().empty()) {
    return std::string(stages.first().Obj().first().key());
  }
  return "";
}

// Resolves a view, picks the collator and the input, and parses the pipeline.
StatusWith<PreparedPipeline> PreparePipeline(OperationContext& op, const PipelineArgs& a) {
  PreparedPipeline p;
  bson::View stages = a.stages;
  catalog::Namespace source = a.ns;
  bool on_view = false;
  if (!a.db_level) {
    auto view = LookupView(op, a.ns);
    if (!view.ok()) return view.status();
    if (view.value()) {
      auto resolved = ResolveView(op, *view.value());
      if (!resolved.ok()) return resolved.status();
      p.stages_owner = ConcatStages(resolved.value().pipeline, stages);
      stages = p.stages_owner.view();
      source = resolved.value().backing;
      on_view = true;
    }
  }
  p.source_ns = source;
  catalog::CollectionPtr coll;
  if (!a.db_level) coll = op.service().catalog->Lookup(source);
  p.collator = EffectiveCollator(a.collation, coll.get());
  p.host = std::make_shared<AggregateHost>(&op.service());
  p.host->set_bypass_validation(a.bypass_validation);
  if (a.let) p.host->set_let(bson::Doc::CopyOf(*a.let));

  query::PipelineOptions popts;
  popts.db = a.ns.db;
  popts.host = p.host.get();
  popts.allow_disk_use = a.allow_disk_use;
  popts.collator = p.collator.get();
  if (a.let) popts.let_vars = bson::Doc::CopyOf(*a.let);

  if (a.first_stage == "$collStats" && !on_view) {
    if (a.db_level) {
      return Status(ErrorCodes::kInvalidNamespace,
                    "{aggregate: 1} is not valid for '$collStats'; a collection is required.");
    }
    auto spec = stages.first().Obj().first();
    if (!spec.IsObject()) {
      return Status(5447000, "$collStats must take a nested object but found: " + spec.ToString());
    }
    auto doc = CollStatsDoc(op, a.ns, spec.Obj());
    if (!doc.ok()) return doc.status();
    std::vector<bson::Doc> docs;
    docs.push_back(std::move(doc).value());
    p.input = query::MakeVectorSource(std::move(docs));
    auto parsed = query::Pipeline::Parse(Tail(stages), popts);
    if (!parsed.ok()) return parsed.status();
    p.pipeline = std::move(parsed).value();
    return p;
  }
  if (a.first_stage == "$listLocalSessions") {
    if (!a.db_level) {
      return Status(ErrorCodes::kInvalidNamespace,
                    "$listLocalSessions must be run against the database with {aggregate: 1}, "
                    "not a collection");
    }
    auto spec = stages.first().Obj().first();
    if (!spec.IsObject()) {
      return Status(ErrorCodes::kTypeMismatch,
                    "$listLocalSessions options must be a nested object, but found: " +
                        std::string(bson::TypeName(spec.type())));
    }
    for (const auto& f : spec.Obj()) {
      if (f.key() != "allUsers" && f.key() != "users") {
        return Status(40415, "BSON field '$listLocalSessions." + std::string(f.key()) +
                                 "' is an unknown field.");
      }
    }
    std::vector<bson::Doc> sessions;
    if (op.service().sessions) sessions = op.service().sessions->ListLocal();
    p.input = query::MakeVectorSource(std::move(sessions));
    auto parsed = query::Pipeline::Parse(Tail(stages), popts);
    if (!parsed.ok()) return parsed.status();
    p.pipeline = std::move(parsed).value();
    return p;
  }
  auto parsed = query::Pipeline::Parse(stages, popts);
  if (!parsed.ok()) return parsed.status();
  p.pipeline = std::move(parsed).value();
  if (a.db_level) {
    if (!p.pipeline->starts_with_documents()) {
      return Status(ErrorCodes::kInvalidNamespace,
                    "{aggregate: 1} is not valid for '" +
                        (a.first_stage.empty() ? std::string("$match") : a.first_stage) +
                        "'; a collection is required.");
    }
    p.input = query::MakeVectorSource({});
  } else if (p.pipeline->starts_with_documents()) {
    p.input = query::MakeVectorSource({});
  } else {
    QueryRequest q;
    q.ns = source;
    bson::Doc leading = p.pipeline->LeadingMatchFilter();
    q.filter = leading;
    q.hint = a.hint;
    q.collator = p.collator.get();
    q.has_collation = p.collator != nullptr;
    q.let = a.let.value_or(bson::View());
    auto opened = OpenScan(op, q);
    if (!opened.ok()) return opened.status();
    p.scan = std::move(opened).value();
    p.has_scan = true;
    if (a.explain) {
      p.input = query::MakeVectorSource({});
    } else {
      p.input = std::make_unique<ScanSource>(p.scan);
    }
  }
  return p;
}

// A writing last stage ($out, $merge) cannot run with readConcern linearizable.
Status CheckWriteStageReadConcern(OperationContext& op, bson::View stages) {
  if (op.read_concern.level != "linearizable") return Status::OK();
  std::string last;
  for (const auto& e : stages) {
    if (e.IsObject() && !e.Obj().empty()) last = std::string(e.Obj().first().key());
  }
  if (last == "$out" || last == "$merge") {
    return Status(ErrorCodes::kInvalidOptions,
                  last + " cannot be used with a 'linearizable' read concern level");
  }
  return Status::OK();
}

// Inside a multi-document transaction MongoDB refuses the stages that write or tail:
// $out and $merge (their writes would escape the transaction) and $changeStream.
Status CheckStagesAllowedInTransaction(const OperationContext& op, bson::View stages) {
  if (!op.txn) return Status::OK();
  for (const auto& e : stages) {
    if (!e.IsObject() || e.Obj().empty()) continue;
    std::string_view name = e.Obj().first().key();
    if (name == "$out" || name == "$merge" || name == "$changeStream") {
      return Status(ErrorCodes::kOperationNotSupportedInTransaction,
                    std::string(name) + " cannot be used in a transaction");
    }
  }
  return Status::OK();
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
  std::optional<bool> allow_disk_use, bypass;
  BROOK_RETURN_IF_ERROR(GetBool(body, kCmd, "allowDiskUse", &allow_disk_use));
  BROOK_RETURN_IF_ERROR(GetBool(body, kCmd, "bypassDocumentValidation", &bypass));
  auto collation = ParseCollation(body, kCmd);
  if (!collation.ok()) return collation.status();

  bson::View stages = pipeline_e.Obj();
  std::string first_stage;
  if (!stages.empty() && stages.first().IsObject() && !stages.first().Obj().empty()) {
    first_stage = std::string(stages.first().Obj().first().key());
  }
  BROOK_RETURN_IF_ERROR(CheckStagesAllowedInTransaction(op, stages));
  if (first_stage == "$changeStream") {
    return RunChangeStreamAggregate(op, ns, db_level, stages, batch_size, let, explain, reply);
  }
  NoteSessionUse(op);
  BROOK_RETURN_IF_ERROR(CheckWriteStageReadConcern(op, stages));

  PipelineArgs args;
  args.ns = ns;
  args.db_level = db_level;
  args.stages = stages;
  args.first_stage = first_stage;
  args.collation = collation.value();
  args.hint = body["hint"];
  args.let = let;
  args.allow_disk_use = allow_disk_use.value_or(false);
  args.bypass_validation = bypass.value_or(false);
  args.explain = explain;
  auto prepared = PreparePipeline(op, args);
  if (!prepared.ok()) return prepared.status();
  PreparedPipeline& p = prepared.value();

  if (explain) {
    bson::Doc stages_doc = p.pipeline->Explain();
    reply->AppendString("explainVersion", "1");
    reply->OpenArray("stages");
    size_t n = 0;
    std::string scratch;
    if (p.has_scan) {
      reply->OpenDocument(bson::ArrayKey(n++, &scratch));
      reply->OpenDocument("$cursor");
      reply->OpenDocument("queryPlanner");
      reply->AppendString("namespace", p.source_ns.ns());
      reply->AppendDocument("parsedQuery", p.pipeline->LeadingMatchFilter());
      reply->AppendDocument("winningPlan", p.scan.desc.ToWinningPlan(p.pipeline->LeadingMatchFilter()));
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

  bool has_out = p.pipeline->has_out();
  p.host->set_op(&op);
  auto source = p.pipeline->Run(std::move(p.input));
  p.host->set_op(nullptr);
  if (!source.ok()) return source.status();
  auto stream = std::make_unique<AggregateStream>(p.collator, p.host, std::move(p.pipeline),
                                                  std::move(source).value());
  if (has_out) {
    // $out and $merge run to completion in this command; the cursor they return is empty.
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

StatusWith<std::vector<bson::Doc>> RunPipelineToVector(OperationContext& op,
                                                       const catalog::Namespace& ns,
                                                       bson::View stages,
                                                       const CollationArg& collation,
                                                       std::optional<bson::View> let) {
  PipelineArgs args;
  args.ns = ns;
  args.stages = stages;
  args.first_stage = FirstStageName(stages);
  args.collation = collation;
  args.let = let;
  auto prepared = PreparePipeline(op, args);
  if (!prepared.ok()) return prepared.status();
  PreparedPipeline& p = prepared.value();
  p.host->set_op(&op);
  auto source = p.pipeline->Run(std::move(p.input));
  if (!source.ok()) {
    p.host->set_op(nullptr);
    return source.status();
  }
  std::vector<bson::Doc> out;
  while (true) {
    if (op.DeadlinePassed()) {
      p.host->set_op(nullptr);
      return MaxTimeMSExpired();
    }
    auto next = source.value()->Next();
    if (!next.ok()) {
      p.host->set_op(nullptr);
      return next.status();
    }
    if (!next.value()) break;
    out.push_back(std::move(*next.value()));
  }
  p.host->set_op(nullptr);
  return out;
}

Status HandleAggregate(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  return RunAggregate(op, req, false, "queryPlanner", reply);
}

}  // namespace brook::commands
