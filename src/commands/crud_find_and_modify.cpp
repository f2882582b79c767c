// findAndModify: update or remove one document (chosen by query + sort) and return it.
#include "bson/builder.h"
#include "catalog/catalog.h"
#include "commands/catalog_cmds_views.h"
#include "commands/crud_args.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/sessions.h"
#include "commands/write_ops.h"
#include "query/projection.h"
#include "query/update.h"

namespace brook::commands {
namespace {

constexpr std::string_view kCmd = "findAndModify";

Status FamError(std::string msg) { return Status(ErrorCodes::kFailedToParse, std::move(msg)); }

}  // namespace

Status HandleFindAndModify(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto ns = CollectionNs(req);
  if (!ns.ok()) return ns.status();
  BROOK_RETURN_IF_ERROR(catalog::ValidateCollectionName(ns.value()));
  if (ns.value().IsOplog()) {
    return Status(ErrorCodes::kIllegalOperation, "cannot write to '" + ns.value().ns() + "'");
  }
  NoteSessionUse(op);
  BROOK_RETURN_IF_ERROR(CheckNotView(op, ns.value()));
  bson::View body = req.body;
  std::optional<bson::View> query, sort, fields, let, array_filters;
  BROOK_RETURN_IF_ERROR(GetObject(body, kCmd, "query", &query));
  BROOK_RETURN_IF_ERROR(GetObject(body, kCmd, "sort", &sort));
  BROOK_RETURN_IF_ERROR(GetObject(body, kCmd, "fields", &fields));
  BROOK_RETURN_IF_ERROR(GetObject(body, kCmd, "let", &let));
  BROOK_RETURN_IF_ERROR(GetArray(body, kCmd, "arrayFilters", &array_filters));
  std::optional<bool> remove, return_new, upsert;
  BROOK_RETURN_IF_ERROR(GetBool(body, kCmd, "remove", &remove));
  BROOK_RETURN_IF_ERROR(GetBool(body, kCmd, "new", &return_new));
  BROOK_RETURN_IF_ERROR(GetBool(body, kCmd, "upsert", &upsert));
  std::optional<bool> bypass;
  BROOK_RETURN_IF_ERROR(GetBool(body, kCmd, "bypassDocumentValidation", &bypass));
  auto update = body["update"];
  if (!update.missing() && !update.IsObject() && !update.IsArray()) {
    return WrongType(kCmd, "update", update, "object");
  }
  bool is_remove = remove.value_or(false);
  if (is_remove) {
    if (!update.missing()) return FamError("Cannot specify both an update and remove=true");
    if (upsert.value_or(false)) return FamError("Cannot specify both upsert=true and remove=true ");
    if (return_new.value_or(false)) {
      return FamError("Cannot specify both new=true and remove=true; 'remove' always returns the deleted document");
    }
    if (array_filters) return FamError("Cannot specify arrayFilters and remove=true");
  } else if (update.missing()) {
    return FamError("Either an update or remove=true must be specified");
  }
  auto collation = ParseCollation(body, kCmd);
  if (!collation.ok()) return collation.status();
  query::CollatorPtr collator =
      EffectiveCollator(collation.value(), op.service().catalog->Lookup(ns.value()).get());

  std::unique_ptr<query::Projection> projection;
  if (fields && !fields->empty()) {
    query::ProjectionOptions popts;
    popts.let_variables = let.value_or(bson::View());
    auto p = query::Projection::Parse(*fields, popts);
    if (!p.ok()) return p.status();
    projection = std::move(p).value();
  }
  auto retry = BeginRetryableCommand(op);
  if (!retry.ok()) return retry.status();
  const RetryContext* rc = retry.value() ? &*retry.value() : nullptr;

  // The write is the last step unless a projection (which can still fail) follows it.
  if (!projection) DeferLastCommit(op);
  std::optional<bson::Doc> value;
  bson::Builder last_error;
  if (is_remove) {
    DeleteRequest dr;
    dr.query = query.value_or(bson::View());
    dr.sort = sort.value_or(bson::View());
    dr.hint = body["hint"];
    dr.collator = collator.get();
    dr.has_collation = collator != nullptr;
    dr.let = let.value_or(bson::View());
    dr.want_image = true;
    auto out = ExecuteDelete(op, ns.value(), dr, rc, 0);
    if (!out.ok()) return out.status();
    last_error.AppendInt32("n", static_cast<int32_t>(out.value().n));
    value = std::move(out.value().deleted);
  } else {
    query::UpdateOptions uopts;
    uopts.collator = collator.get();
    uopts.let_variables = let.value_or(bson::View());
    auto driver = query::UpdateDriver::Parse(update, array_filters.value_or(bson::View()), uopts);
    if (!driver.ok()) return driver.status();
    UpdateRequest ur;
    ur.query = query.value_or(bson::View());
    ur.sort = sort.value_or(bson::View());
    ur.hint = body["hint"];
    ur.collator = collator.get();
    ur.has_collation = collator != nullptr;
    ur.let = let.value_or(bson::View());
    ur.upsert = upsert.value_or(false);
    ur.bypass_validation = bypass.value_or(false);
    ur.want_images = true;
    ur.driver = driver.value().get();
    auto out = ExecuteUpdate(op, ns.value(), ur, rc, 0);
    if (!out.ok()) return out.status();
    auto& o = out.value();
    last_error.AppendInt32("n", static_cast<int32_t>(o.n));
    last_error.AppendBool("updatedExisting", o.n > 0 && !o.upserted_id);
    if (o.upserted_id) last_error.Append((*o.upserted_id)["_id"]);
    if (return_new.value_or(false)) {
      value = std::move(o.post_image);
    } else if (!o.upserted_id) {
      value = std::move(o.pre_image);
    }
  }
  if (value && projection) {
    auto projected = projection->Apply(*value, nullptr);
    if (!projected.ok()) return projected.status();
    value = std::move(projected).value();
  }
  // MongoDB names the upserted id "upserted" inside lastErrorObject.
  bson::Doc le = last_error.Done();
  reply->OpenDocument("lastErrorObject");
  for (const auto& e : le.view()) {
    if (e.key() == "_id") {
      reply->AppendAs("upserted", e);
    } else {
      reply->Append(e);
    }
  }
  reply->Close();
  if (value) {
    reply->AppendDocument("value", *value);
  } else {
    reply->AppendNull("value");
  }
  return Status::OK();
}

}  // namespace brook::commands
