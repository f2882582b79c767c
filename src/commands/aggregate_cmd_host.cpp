#include "commands/aggregate_cmd_host.h"

#include <set>

#include "bson/builder.h"
#include "catalog/catalog.h"
#include "commands/catalog_cmds_views.h"
#include "commands/find_cmd.h"
#include "commands/write_ops.h"
#include "query/update.h"

namespace brook::commands {
namespace {

// A scan as a pipeline input.
class ScanDocs : public query::DocumentSource {
 public:
  explicit ScanDocs(Scan scan) : scan_(std::move(scan)) {}
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

Status NoHost() { return Status(ErrorCodes::kInternalError, "pipeline host used outside an operation"); }

bson::Doc IdFilter(const bson::Element& id) {
  bson::Builder b;
  b.AppendAs("_id", id);
  return b.Done();
}

// {path: {$eq: value}, ...}: $eq so that document values are never read as operators.
bson::Doc OnFilter(bson::View on_values) {
  bson::Builder b;
  for (const auto& e : on_values) {
    b.OpenDocument(e.key());
    b.AppendAs("$eq", e);
    b.Close();
  }
  return b.Done();
}

// Whether `index` is unique on exactly the fields of `on` (in any order), as MongoDB's
// uniqueKeyIsSupportedByIndex requires.
bool SupportsOn(const catalog::IndexInfo& index, const std::vector<std::string>& on) {
  if (!index.unique || index.partial_filter) return false;
  std::set<std::string> keys, wanted(on.begin(), on.end());
  for (const auto& f : index.key.view()) keys.insert(std::string(f.key()));
  return keys == wanted;
}

}  // namespace

StatusWith<std::unique_ptr<query::DocumentSource>> AggregateHost::ScanCollection(std::string_view db,
                                                                                 std::string_view coll) {
  if (!op_) return NoHost();
  catalog::Namespace ns{std::string(db), std::string(coll)};
  auto view = LookupView(*op_, ns);
  if (!view.ok()) return view.status();
  QueryRequest q;
  if (view.value()) {
    auto resolved = ResolveView(*op_, *view.value());
    if (!resolved.ok()) return resolved.status();
    q.ns = resolved.value().backing;
    auto scan = OpenScan(*op_, q);
    if (!scan.ok()) return scan.status();
    query::PipelineOptions popts;
    popts.db = std::string(db);
    popts.host = this;
    auto pipeline = query::Pipeline::Parse(resolved.value().pipeline, popts);
    if (!pipeline.ok()) return pipeline.status();
    return pipeline.value()->Run(std::make_unique<ScanDocs>(std::move(scan).value()));
  }
  q.ns = ns;
  auto scan = OpenScan(*op_, q);
  if (!scan.ok()) return scan.status();
  return std::unique_ptr<query::DocumentSource>(std::make_unique<ScanDocs>(std::move(scan).value()));
}

Status AggregateHost::ReplaceCollection(std::string_view db, std::string_view coll,
                                        std::vector<bson::Doc> docs) {
  if (!op_) return NoHost();
  catalog::Namespace ns{std::string(db), std::string(coll)};
  BROOK_RETURN_IF_ERROR(catalog::ValidateCollectionName(ns));
  if (ns.IsOplog()) return Status(ErrorCodes::kIllegalOperation, "cannot $out to the oplog");
  BROOK_RETURN_IF_ERROR(CheckNotView(*op_, ns));
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
    BROOK_RETURN_IF_ERROR(InsertOne(*op_, ns, prepared.value(), nullptr, 0, bypass_validation_));
  }
  return Status::OK();
}

Status AggregateHost::PrepareMerge(const query::MergeTarget& target) {
  if (!op_) return NoHost();
  catalog::Namespace ns{target.db, target.coll};
  BROOK_RETURN_IF_ERROR(catalog::ValidateCollectionName(ns));
  if (ns.IsOplog() || ns.coll.rfind("system.", 0) == 0) {
    return Status(51180, "Cannot $merge into special collection: '" + ns.coll + "'");
  }
  BROOK_RETURN_IF_ERROR(CheckNotView(*op_, ns));
  if (!target.on_given) return Status::OK();
  auto coll = service_->catalog->Lookup(ns);
  bool supported = false;
  if (coll) {
    for (const auto& index : coll->indexes) supported = supported || SupportsOn(index, target.on);
  } else {
    // A collection $merge creates has only the _id index.
    supported = target.on == std::vector<std::string>{"_id"};
  }
  if (!supported) {
    return Status(51183, "Cannot find index to verify that join fields will be unique");
  }
  return Status::OK();
}

Status AggregateHost::MergeBatch(const query::MergeTarget& target,
                                 std::vector<query::MergeItem> items) {
  if (!op_) return NoHost();
  catalog::Namespace ns{target.db, target.coll};
  for (const auto& item : items) {
    if (op_->DeadlinePassed()) return Status(ErrorCodes::kMaxTimeMSExpired, "operation exceeded time limit");
    BROOK_RETURN_IF_ERROR(MergeOne(ns, target, item));
  }
  return Status::OK();
}

Status AggregateHost::MergeOne(const catalog::Namespace& ns, const query::MergeTarget& target,
                               const query::MergeItem& item) {
  using WhenMatched = query::MergeTarget::WhenMatched;
  using WhenNotMatched = query::MergeTarget::WhenNotMatched;
  auto insert = [&]() -> Status {
    auto prepared = PrepareInsertDocument(item.doc);
    if (!prepared.ok()) return prepared.status();
    return InsertOne(*op_, ns, prepared.value(), nullptr, 0, bypass_validation_);
  };
  // whenMatched "fail" is an insert: the unique index reports the match as 11000.
  if (target.when_matched == WhenMatched::kFail) return insert();

  bson::Doc filter = OnFilter(item.on_values);
  QueryRequest q;
  q.ns = ns;
  q.filter = filter;
  auto scan = OpenScan(*op_, q);
  if (!scan.ok()) return scan.status();
  bson::Doc existing;
  auto found = scan.value().Next(&existing, nullptr);
  if (!found.ok()) return found.status();
  if (!found.value()) {
    switch (target.when_not_matched) {
      case WhenNotMatched::kInsert: return insert();
      case WhenNotMatched::kDiscard: return Status::OK();
      case WhenNotMatched::kFail:
        return Status(13113, "$merge could not find a matching document in the target "
                             "collection for at least one document in the source collection");
    }
  }
  if (target.when_matched == WhenMatched::kKeepExisting) return Status::OK();

  bson::Builder u;
  bson::Doc let;
  query::UpdateOptions uopts;
  switch (target.when_matched) {
    case WhenMatched::kReplace:
      u.AppendDocument("u", item.doc);
      break;
    case WhenMatched::kMerge:
      u.OpenDocument("u");
      u.AppendDocument("$set", item.doc);
      u.Close();
      break;
    case WhenMatched::kPipeline: {
      u.AppendArray("u", target.pipeline);
      bson::Builder vars;
      vars.AppendAll(let_);
      vars.AppendAll(item.vars);
      let = vars.Done();
      uopts.let_variables = let;
      break;
    }
    default:
      return Status(ErrorCodes::kInternalError, "unexpected $merge mode");
  }
  bson::Doc update = u.Done();
  auto driver = query::UpdateDriver::Parse(update.view().first(), bson::View(), uopts);
  if (!driver.ok()) return driver.status();
  bson::Doc by_id = IdFilter(existing.view()["_id"]);
  UpdateRequest ur;
  ur.query = by_id;
  ur.let = let;
  ur.driver = driver.value().get();
  ur.bypass_validation = bypass_validation_;
  auto out = ExecuteUpdate(*op_, ns, ur, nullptr, 0);
  if (!out.ok()) {
    if (out.status() == ErrorCodes::kImmutableField) {
      return Status(ErrorCodes::kImmutableField,
                    "$merge failed to update the matching document, did you attempt to modify "
                    "the _id or the shard key? :: caused by :: " + out.status().reason());
    }
    return out.status();
  }
  return Status::OK();
}

}  // namespace brook::commands
