#include "commands/find_cmd.h"

#include "bson/builder.h"
#include "catalog/catalog.h"
#include "commands/aggregate_cmd.h"
#include "commands/catalog_cmds_views.h"
#include "commands/crud_args.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/server_stats.h"
#include "commands/sessions.h"
#include "commands/transactions.h"
#include "storage/engine.h"

namespace brook::commands {

StatusWith<bool> Scan::Next(bson::Doc* out, query::MatchDetails* details) {
  if (plan) return plan->Next(out, details);
  if (oplog) return oplog->Next(out, details);
  return false;
}

StatusWith<Scan> OpenScan(OperationContext& op, const QueryRequest& q) {
  Scan scan;
  if (q.ns.IsOplog()) {
    bool forward = true;
    auto natural = q.sort["$natural"];
    if (!natural.missing()) forward = natural.NumberDouble() >= 0;
    if (q.hint.IsObject() && !q.hint.Obj()["$natural"].missing()) {
      forward = q.hint.Obj()["$natural"].NumberDouble() >= 0;
    }
    auto oplog = OplogScan::Open(op.service().engine, q.filter, forward);
    if (!oplog.ok()) return oplog.status();
    scan.oplog = std::move(oplog).value();
    scan.desc.stage = PlanStage::kCollScan;
    scan.desc.direction = forward ? 1 : -1;
    scan.desc.provides_sort = !natural.missing() && q.sort.CountFields() == 1;
    return scan;
  }
  ReadView view = OpenReadView(op, q.ns);
  auto plan = QueryPlan::Make(std::move(view.snap), view.coll, q);
  if (!plan.ok()) return plan.status();
  scan.plan = std::move(plan).value();
  scan.desc = scan.plan->description();
  return scan;
}

StatusWith<FindSpec> ParseFind(const CommandRequest& req, const catalog::Namespace& ns) {
  constexpr std::string_view kCmd = "find";
  bson::View body = req.body;
  FindSpec spec;
  spec.query.ns = ns;
  std::optional<bson::View> filter, sort, projection, let;
  BROOK_RETURN_IF_ERROR(GetObject(body, kCmd, "filter", &filter));
  BROOK_RETURN_IF_ERROR(GetObject(body, kCmd, "sort", &sort));
  BROOK_RETURN_IF_ERROR(GetObject(body, kCmd, "projection", &projection));
  BROOK_RETURN_IF_ERROR(GetObject(body, kCmd, "let", &let));
  spec.query.filter = filter.value_or(bson::View());
  spec.query.sort = sort.value_or(bson::View());
  spec.query.let = let.value_or(bson::View());
  spec.has_sort = sort && !sort->empty();
  if (projection && !projection->empty()) spec.projection = projection;
  auto hint = body["hint"];
  if (!hint.missing() && hint.type() != bson::Type::kString && !hint.IsObject()) {
    return WrongType(kCmd, "hint", hint, "object");
  }
  spec.query.hint = hint;
  std::optional<int64_t> skip, limit, batch_size;
  BROOK_RETURN_IF_ERROR(GetInt64(body, kCmd, "skip", &skip, 0));
  BROOK_RETURN_IF_ERROR(GetInt64(body, kCmd, "limit", &limit));
  BROOK_RETURN_IF_ERROR(GetInt64(body, kCmd, "batchSize", &batch_size, 0));
  std::optional<bool> single_batch;
  BROOK_RETURN_IF_ERROR(GetBool(body, kCmd, "singleBatch", &single_batch));
  spec.skip = skip.value_or(0);
  spec.single_batch = single_batch.value_or(false);
  if (limit && *limit < 0) {
    // The legacy negative limit: one batch of at most |limit| documents.
    limit = -*limit;
    spec.single_batch = true;
  }
  if (limit && *limit > 0) spec.limit = limit;
  spec.batch_size = batch_size;
  auto collation = ParseCollation(body, kCmd);
  if (!collation.ok()) return collation.status();
  spec.collation_arg = std::move(collation).value();
  return spec;
}

void ResolveCollation(OperationContext& op, FindSpec* spec) {
  catalog::CollectionPtr coll;
  if (!spec->collation_arg.given) coll = op.service().catalog->Lookup(spec->query.ns);
  spec->collator = EffectiveCollator(spec->collation_arg, coll.get());
  spec->query.collator = spec->collator.get();
  spec->query.has_collation = spec->collator != nullptr;
}

StatusWith<std::unique_ptr<FindStream>> FindStream::Make(Scan scan, const FindSpec& spec,
                                                         bson::View let) {
  std::unique_ptr<FindStream> s(new FindStream());
  s->collator_owner_ = spec.collator;
  s->scan_ = std::move(scan);
  s->collator_ = spec.query.collator;
  s->skip_ = spec.skip;
  s->limit_ = spec.limit;
  if (spec.has_sort && !s->scan_.desc.provides_sort) {
    auto pattern = SortPattern::Parse(spec.query.sort);
    if (!pattern.ok()) return pattern.status();
    if (!pattern.value().empty()) s->sort_ = std::move(pattern).value();
  } else if (spec.has_sort) {
    // Validate the pattern even when an index provides the order.
    auto pattern = SortPattern::Parse(spec.query.sort);
    if (!pattern.ok()) return pattern.status();
  }
  if (spec.projection) {
    query::ProjectionOptions popts;
    popts.collator = spec.query.collator;
    popts.let_variables = let;
    auto proj = query::Projection::Parse(*spec.projection, popts);
    if (!proj.ok()) return proj.status();
    s->projection_ = std::move(proj).value();
  }
  return s;
}

StatusWith<bool> FindStream::NextMatch(OperationContext& op, bson::Doc* out,
                                       query::MatchDetails* details) {
  if (!sort_) {
    if (op.DeadlinePassed()) return MaxTimeMSExpired();
    return scan_.Next(out, details);
  }
  if (!sorted_ready_) {
    bson::Doc doc;
    while (true) {
      if (op.DeadlinePassed()) return MaxTimeMSExpired();
      auto more = scan_.Next(&doc, nullptr);
      if (!more.ok()) return more.status();
      if (!more.value()) break;
      sorted_.push_back(std::move(doc));
    }
    sort_->Sort(&sorted_, collator_);
    sorted_ready_ = true;
  }
  if (sorted_pos_ >= sorted_.size()) return false;
  *out = std::move(sorted_[sorted_pos_++]);
  if (details && projection_ && projection_->has_positional() && scan_.plan) {
    details->Reset();
    scan_.plan->matcher().Matches(*out, details);
  }
  return true;
}

StatusWith<bool> FindStream::Next(OperationContext& op, bson::Doc* out) {
  while (true) {
    if (limit_ && returned_ >= *limit_) return false;
    bson::Doc doc;
    query::MatchDetails details;
    auto more = NextMatch(op, &doc, &details);
    if (!more.ok()) return more.status();
    if (!more.value()) return false;
    if (skip_ > 0) {
      --skip_;
      continue;
    }
    if (projection_) {
      auto projected = projection_->Apply(doc, &details);
      if (!projected.ok()) return projected.status();
      doc = std::move(projected).value();
    }
    ++returned_;
    *out = std::move(doc);
    return true;
  }
}

namespace {

// find on a view: the view's pipeline, then the find's filter/sort/skip/limit/projection
// as stages, run to completion and served from memory.
Status FindOnView(OperationContext& op, const FindSpec& spec, bson::Builder* reply) {
  bson::Builder b;
  std::string scratch;
  size_t n = 0;
  auto stage = [&](std::string_view name, bson::View v) {
    b.OpenDocument(bson::ArrayKey(n++, &scratch));
    b.AppendDocument(name, v);
    b.Close();
  };
  if (!spec.query.filter.empty()) stage("$match", spec.query.filter);
  if (spec.has_sort) stage("$sort", spec.query.sort);
  if (spec.skip > 0) {
    b.OpenDocument(bson::ArrayKey(n++, &scratch)).AppendInt64("$skip", spec.skip).Close();
  }
  if (spec.limit) {
    b.OpenDocument(bson::ArrayKey(n++, &scratch)).AppendInt64("$limit", *spec.limit).Close();
  }
  if (spec.projection) stage("$project", *spec.projection);
  bson::Doc stages = b.Done();
  std::optional<bson::View> let;
  if (!spec.query.let.empty()) let = spec.query.let;
  auto docs = RunPipelineToVector(op, spec.query.ns, stages, spec.collation_arg, let);
  if (!docs.ok()) return docs.status();
  int64_t first = spec.batch_size.value_or(kDefaultFirstBatchDocs);
  if (spec.single_batch && !spec.batch_size) first = -1;
  auto cursor = std::make_unique<StreamCursor>(std::make_unique<VectorStream>(std::move(docs).value()));
  return ReplyWithCursor(op, spec.query.ns.ns(), std::move(cursor), first, spec.single_batch, reply);
}

}  // namespace

Status HandleFind(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto ns = CollectionNs(req);
  if (!ns.ok()) return ns.status();
  BROOK_RETURN_IF_ERROR(catalog::ValidateCollectionName(ns.value()));
  auto spec = ParseFind(req, ns.value());
  if (!spec.ok()) return spec.status();
  ResolveCollation(op, &spec.value());
  if (op.service().stats) op.service().stats->opcounters.query.fetch_add(1, std::memory_order_relaxed);
  NoteSessionUse(op);
  auto view = LookupView(op, ns.value());
  if (!view.ok()) return view.status();
  if (view.value()) return FindOnView(op, spec.value(), reply);
  auto scan = OpenScan(op, spec.value().query);
  if (!scan.ok()) return scan.status();
  auto stream = FindStream::Make(std::move(scan).value(), spec.value(), spec.value().query.let);
  if (!stream.ok()) return stream.status();
  int64_t first = spec.value().batch_size.value_or(kDefaultFirstBatchDocs);
  if (spec.value().single_batch && !spec.value().batch_size) first = -1;
  if (spec.value().limit && spec.value().single_batch) first = *spec.value().limit;
  auto cursor = std::make_unique<StreamCursor>(std::move(stream).value());
  return ReplyWithCursor(op, ns.value().ns(), std::move(cursor), first, spec.value().single_batch,
                         reply);
}

}  // namespace brook::commands
