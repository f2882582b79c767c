#include "commands/auth_store.h"

#include "bson/builder.h"
#include "catalog/catalog.h"
#include "commands/auth_manager.h"
#include "commands/operation_context.h"
#include "commands/write_ops.h"
#include "query/update.h"

namespace brook::commands {
namespace {

catalog::Namespace AdminNs(std::string_view coll) {
  return catalog::Namespace{std::string(kAdminDb), std::string(coll)};
}

void Invalidate(OperationContext& op) {
  if (op.service().auth) op.service().auth->Invalidate();
}

}  // namespace

Status InsertAuthDoc(OperationContext& op, std::string_view coll, bson::View doc) {
  Status st = InsertOne(op, AdminNs(coll), doc, nullptr, 0);
  Invalidate(op);
  return st;
}

StatusWith<bool> ReplaceAuthDoc(OperationContext& op, std::string_view coll, const std::string& id, bson::View doc) {
  bson::Builder u;
  u.AppendDocument("u", doc);
  bson::Doc update = u.Done();
  auto driver = query::UpdateDriver::Parse(update.view().first(), bson::View(), query::UpdateOptions{});
  if (!driver.ok()) return driver.status();
  bson::Builder f;
  f.AppendString("_id", id);
  bson::Doc filter = f.Done();
  UpdateRequest ur;
  ur.query = filter;
  ur.driver = driver.value().get();
  auto out = ExecuteUpdate(op, AdminNs(coll), ur, nullptr, 0);
  Invalidate(op);
  if (!out.ok()) return out.status();
  return out.value().n > 0;
}

StatusWith<int64_t> DeleteAuthDocs(OperationContext& op, std::string_view coll, bson::View filter) {
  if (!op.service().catalog->Lookup(AdminNs(coll))) return int64_t{0};
  DeleteRequest dr;
  dr.query = filter;
  dr.multi = true;
  auto out = ExecuteDelete(op, AdminNs(coll), dr, nullptr, 0);
  Invalidate(op);
  if (!out.ok()) return out.status();
  return out.value().n;
}

bson::Doc IdInFilter(const std::vector<std::string>& ids) {
  bson::Builder b;
  b.OpenDocument("_id");
  b.OpenArray("$in");
  std::string scratch;
  for (size_t i = 0; i < ids.size(); ++i) b.AppendString(bson::ArrayKey(i, &scratch), ids[i]);
  b.Close();
  b.Close();
  return b.Done();
}

}  // namespace brook::commands
