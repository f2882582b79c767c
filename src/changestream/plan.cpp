#include "changestream/plan.h"

#include <set>

#include "bson/builder.h"
#include "changestream/stages.h"

namespace brook::changestream {
namespace {

constexpr std::string_view kSplitStage = "$changeStreamSplitLargeEvent";

// Stages MongoDB allows after $changeStream (StageConstraints::isAllowedInChangeStream).
const std::set<std::string_view, std::less<>>& AllowedStages() {
  static const std::set<std::string_view, std::less<>> kAllowed = {
      "$match", "$project", "$addFields", "$set", "$unset", "$replaceRoot", "$replaceWith", "$redact",
  };
  return kAllowed;
}

// Stages MongoDB 7.0 knows but does not allow in a change stream: IllegalOperation
// rather than "unrecognized" (40324).
const std::set<std::string_view, std::less<>>& KnownStages() {
  static const std::set<std::string_view, std::less<>> kKnown = {
      "$bucket", "$bucketAuto", "$collStats", "$count", "$currentOp", "$densify", "$documents",
      "$facet", "$fill", "$geoNear", "$graphLookup", "$group", "$indexStats", "$limit",
      "$listLocalSessions", "$listSampledQueries", "$listSearchIndexes", "$listSessions", "$lookup",
      "$merge", "$out", "$planCacheStats", "$sample", "$search", "$searchMeta", "$setWindowFields",
      "$shardedDataDistribution", "$skip", "$sort", "$sortByCount", "$unionWith", "$unwind",
      "$vectorSearch",
  };
  return kKnown;
}

bool IsInternalDb(std::string_view db) { return db == "admin" || db == "config" || db == "local"; }
// Collections no stream reports: system.* and $-prefixed (the $cmd namespace).
bool IsInternalColl(std::string_view coll) { return coll.substr(0, 7) == "system." || coll.substr(0, 1) == "$"; }

std::pair<std::string_view, std::string_view> SplitNs(std::string_view ns) {
  size_t dot = ns.find('.');
  if (dot == std::string_view::npos) return {ns, std::string_view()};
  return {ns.substr(0, dot), ns.substr(dot + 1)};
}

std::string_view StrOr(const bson::Element& e) { return e.type() == bson::Type::kString ? e.Str() : std::string_view(); }

}  // namespace

bool OplogPredicate::DatabaseInScope(std::string_view db) const {
  if (scope_.kind == Scope::Kind::kCluster) return !IsInternalDb(db);
  return db == scope_.db;
}

bool OplogPredicate::NamespaceInScope(std::string_view db, std::string_view coll) const {
  if (coll.empty()) return false;
  if (scope_.kind == Scope::Kind::kCollection) return db == scope_.db && coll == scope_.coll;
  return DatabaseInScope(db) && !IsInternalColl(coll);
}

bool OplogPredicate::MatchesEntry(const OplogEntry& e) const {
  if (e.op == "c" && e.coll() == "$cmd" && e.o.first().key() == "applyOps") return true;
  return MatchesOperation(e);
}

bool OplogPredicate::MatchesViewDefinitionWrite(const OplogEntry& e) const {
  if (!show_expanded_ || scope_.kind == Scope::Kind::kCollection) return false;
  if (e.coll() != kSystemViewsColl || !DatabaseInScope(e.db())) return false;
  // Only a replacement can become a modify event: it carries the whole new definition.
  return e.op != "u" || !e.o["_id"].missing();
}

bool OplogPredicate::MatchesOperation(const OplogEntry& e) const {
  if (e.op == "i" || e.op == "u" || e.op == "d") {
    return NamespaceInScope(e.db(), e.coll()) || MatchesViewDefinitionWrite(e);
  }
  if (e.op != "c" || e.coll() != "$cmd") return false;
  std::string_view db = e.db();
  bson::Element cmd = e.o.first();
  std::string_view name = cmd.key();
  if (name == "drop") return NamespaceInScope(db, StrOr(cmd));
  if (name == "renameCollection") {
    auto [from_db, from_coll] = SplitNs(StrOr(cmd));
    auto [to_db, to_coll] = SplitNs(StrOr(e.o["to"]));
    return NamespaceInScope(from_db, from_coll) || NamespaceInScope(to_db, to_coll);
  }
  if (name == "dropDatabase") return DatabaseInScope(db);
  if (name == "create" || name == "createIndexes" || name == "dropIndexes" || name == "collMod") {
    return show_expanded_ && NamespaceInScope(db, StrOr(cmd));
  }
  return false;
}

bson::Doc OplogPredicate::ToBson() const {
  bson::Builder b;
  switch (scope_.kind) {
    case Scope::Kind::kCollection:
      b.AppendString("scope", "collection");
      b.AppendString("ns", scope_.db + "." + scope_.coll);
      break;
    case Scope::Kind::kDatabase:
      b.AppendString("scope", "database");
      b.AppendString("db", scope_.db);
      b.AppendString("excludeCollections", "^(system\\.|\\$)");
      break;
    case Scope::Kind::kCluster:
      b.AppendString("scope", "cluster");
      b.AppendString("excludeDatabases", "^(admin|config|local)$");
      b.AppendString("excludeCollections", "^(system\\.|\\$)");
      break;
  }
  b.OpenArray("crudOps");
  b.AppendString("0", "i").AppendString("1", "u").AppendString("2", "d");
  b.Close();
  b.OpenArray("commands");
  std::vector<std::string_view> cmds = {"drop", "renameCollection", "dropDatabase", "applyOps"};
  if (show_expanded_) {
    for (auto c : {"create", "createIndexes", "dropIndexes", "collMod"}) cmds.push_back(c);
  }
  std::string scratch;
  for (size_t i = 0; i < cmds.size(); ++i) b.AppendString(bson::ArrayKey(i, &scratch), cmds[i]);
  b.Close();
  if (show_expanded_ && scope_.kind != Scope::Kind::kCollection) {
    b.AppendString("viewDefinitions", "system.views: i, d, replacement u");
  }
  return b.Done();
}

bson::Doc ChangeStreamPlan::Explain() const {
  bson::Builder b;
  b.OpenDocument("changeStream");
  b.AppendDocument("spec", spec.raw);
  const char* kinds[] = {"now", "startAtOperationTime", "resumeAfter", "startAfter"};
  b.OpenDocument("startPoint");
  b.AppendString("kind", kinds[static_cast<int>(start.kind)]);
  if (start.kind != StartPoint::Kind::kNow) b.AppendTimestamp("clusterTime", start.at);
  b.Close();
  b.AppendString("fullDocument", FullDocumentModeName(spec.full_document));
  b.AppendString("fullDocumentBeforeChange", FullDocumentBeforeChangeModeName(spec.full_document_before_change));
  b.AppendBool("showExpandedEvents", spec.show_expanded_events);
  b.Close();
  b.AppendDocument("oplogFilter", predicate.ToBson());
  b.OpenArray("stages");
  std::string scratch;
  size_t i = 0;
  b.AppendDocument(bson::ArrayKey(i++, &scratch), OplogMatchStage(&predicate).Explain());
  b.AppendDocument(bson::ArrayKey(i++, &scratch), UnwindTransactionStage(&predicate).Explain());
  b.AppendDocument(bson::ArrayKey(i++, &scratch), TransformStage(&spec).Explain());
  for (const auto& stage : BuildEventStages(*this, nullptr)) {
    b.AppendDocument(bson::ArrayKey(i++, &scratch), stage->Explain());
  }
  b.Close();
  return b.Done();
}

StatusWith<std::shared_ptr<const ChangeStreamPlan>> BuildChangeStreamPlan(bson::View pipeline,
                                                                          const PlanContext& ctx) {
  auto plan = std::make_shared<ChangeStreamPlan>();
  auto it = pipeline.begin();
  if (it == pipeline.end() || !it->IsObject() || it->Obj().first().key() != "$changeStream") {
    return Status(ErrorCodes::kInvalidOptions, "a change stream pipeline must start with $changeStream");
  }
  std::optional<std::string_view> coll;
  if (ctx.coll) coll = *ctx.coll;
  auto spec = ParseChangeStreamSpec(it->Obj().first(), ctx.db, coll);
  if (!spec.ok()) return spec.status();
  plan->spec = std::move(spec).value();
  plan->max_event_bytes = ctx.max_event_bytes;
  plan->max_fragment_bytes = ctx.max_fragment_bytes;

  // The user's stages, checked as MongoDB checks them: unknown names first (parse),
  // then the change-stream allow-list, then positions.
  std::vector<bson::Element> user;
  size_t split_at = 0;
  size_t split_count = 0;
  for (++it; it != pipeline.end(); ++it) {
    if (!it->IsObject()) {
      return Status(ErrorCodes::kTypeMismatch, "Each element of the 'pipeline' array must be an object");
    }
    if (it->Obj().CountFields() != 1) {
      return Status(40323, "A pipeline stage specification object must contain exactly one field.");
    }
    bson::Element stage = it->Obj().first();
    std::string_view name = stage.key();
    if (name == "$changeStream") {
      return Status(40602, "$changeStream is only valid as the first stage in a pipeline");
    }
    if (name == kSplitStage) {
      if (!stage.IsObject() || !stage.Obj().empty()) {
        return Status(7182800, "$changeStreamSplitLargeEvent spec should be an empty object");
      }
      split_at = user.size();
      ++split_count;
    } else if (!AllowedStages().count(name) && !KnownStages().count(name)) {
      return Status(40324, "Unrecognized pipeline stage name: '" + std::string(name) + "'");
    }
    user.push_back(*it);
  }
  for (const auto& e : user) {
    std::string_view name = e.Obj().first().key();
    if (name != kSplitStage && !AllowedStages().count(name)) {
      return Status(ErrorCodes::kIllegalOperation, std::string(name) + " is not permitted in a $changeStream pipeline");
    }
  }
  if (split_count > 0 && split_at + 1 != user.size()) {
    return Status(7182802, "$changeStreamSplitLargeEvent must be the last stage in the pipeline");
  }
  if (split_count > 1) {
    return Status(7183900, "$changeStreamSplitLargeEvent can only be used once in the pipeline");
  }
  plan->split_large_events = split_count == 1;
  if (split_count == 1) user.pop_back();

  bson::Builder stages;
  std::string scratch;
  for (size_t i = 0; i < user.size(); ++i) stages.AppendAs(bson::ArrayKey(i, &scratch), user[i]);
  plan->user_stages = stages.Done();
  if (!user.empty()) {
    query::PipelineOptions opts;
    opts.db = ctx.db;
    opts.collator = ctx.collator;
    opts.let_vars = ctx.let_vars;
    auto parsed = query::Pipeline::Parse(plan->user_stages, opts);
    if (!parsed.ok()) return parsed.status();
    plan->user_pipeline = std::shared_ptr<const query::Pipeline>(std::move(parsed).value());
  }

  const ChangeStreamSpec& s = plan->spec;
  if (s.resume_token && s.resume_token->fragment_num && !plan->split_large_events) {
    return Status(ErrorCodes::kChangeStreamFatalError,
                  "To resume from a split event, the $changeStream pipeline must include a "
                  "$changeStreamSplitLargeEvent stage");
  }
  if (s.resume_after || s.start_after) {
    plan->start.kind = s.resume_after ? StartPoint::Kind::kResumeAfter : StartPoint::Kind::kStartAfter;
    plan->start.token = s.resume_token;
    plan->start.at = s.resume_token->cluster_time;
  } else if (s.start_at_operation_time) {
    plan->start.kind = StartPoint::Kind::kOperationTime;
    plan->start.at = *s.start_at_operation_time;
  }
  plan->predicate = OplogPredicate(s.scope, s.show_expanded_events);
  return std::shared_ptr<const ChangeStreamPlan>(std::move(plan));
}

}  // namespace brook::changestream
