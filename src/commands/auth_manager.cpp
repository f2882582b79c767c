// The user/role store and login state (see auth_manager.h).
#include "commands/auth_manager.h"

#include <algorithm>
#include <set>

#include "auth/crypto.h"
#include "bson/builder.h"
#include "catalog/catalog.h"
#include "commands/find_cmd.h"
#include "commands/operation_context.h"
#include "commands/sessions.h"

namespace brook::commands {
namespace {

catalog::Namespace AdminNs(std::string_view coll) {
  return catalog::Namespace{std::string(kAdminDb), std::string(coll)};
}

// Reads admin.<coll> documents matching `filter` (none when the collection is absent).
StatusWith<std::vector<bson::Doc>> ReadAdmin(OperationContext& op, std::string_view coll, bson::View filter) {
  std::vector<bson::Doc> out;
  if (!op.service().catalog || !op.service().catalog->Lookup(AdminNs(coll))) return out;
  QueryRequest q;
  q.ns = AdminNs(coll);
  q.filter = filter;
  auto scan = OpenScan(op, q);
  if (!scan.ok()) return scan.status();
  bson::Doc doc;
  for (;;) {
    auto more = scan.value().Next(&doc, nullptr);
    if (!more.ok()) return more.status();
    if (!more.value()) break;
    out.push_back(std::move(doc));
  }
  // Sorted by _id, which the commands write as "<db>.<name>"; anything else (a document
  // written directly) sorts by its JSON text rather than being misread as a string.
  auto key = [](const bson::Doc& d) {
    auto id = d["_id"];
    return id.type() == bson::Type::kString ? std::string(id.Str()) : id.ToString();
  };
  std::sort(out.begin(), out.end(), [&](const bson::Doc& a, const bson::Doc& b) { return key(a) < key(b); });
  return out;
}

bson::Doc IdFilter(const std::string& id) {
  bson::Builder b;
  b.AppendString("_id", id);
  return b.Done();
}

bson::Doc DbFilter(std::string_view db) {
  bson::Builder b;
  if (!db.empty()) b.AppendString("db", db);
  return b.Done();
}

}  // namespace

AuthSession& SessionOf(OperationContext& op) {
  auto& s = op.client().auth;
  if (!s) s = std::make_shared<AuthSession>();
  return *s;
}

void AuthLog(OperationContext& op, char severity, int id, std::string_view msg, bson::View attr) {
  if (op.service().log) {
    op.service().log(severity, "ACCESS", id, "conn" + std::to_string(op.client().connection_id), msg, attr);
  }
}

AuthManager::AuthManager(bool enabled) : enabled_(enabled), secret_(auth::RandomBytes(32)) {}

StatusWith<std::optional<auth::UserRecord>> AuthManager::FindUser(OperationContext& op,
                                                                 const auth::UserName& name) {
  auto docs = ReadAdmin(op, kSystemUsers, IdFilter(name.Id()));
  if (!docs.ok()) return docs.status();
  for (const auto& d : docs.value()) {
    auto u = auth::ParseUserDocument(d);
    if (!u.ok()) return u.status();
    if (u.value().name == name) return std::optional<auth::UserRecord>(std::move(u.value()));
  }
  return std::optional<auth::UserRecord>();
}

StatusWith<std::vector<auth::UserRecord>> AuthManager::ListUsers(OperationContext& op, std::string_view db) {
  auto docs = ReadAdmin(op, kSystemUsers, DbFilter(db));
  if (!docs.ok()) return docs.status();
  std::vector<auth::UserRecord> out;
  for (const auto& d : docs.value()) {
    auto u = auth::ParseUserDocument(d);
    if (!u.ok()) return u.status();
    out.push_back(std::move(u.value()));
  }
  return out;
}

StatusWith<bool> AuthManager::HasAnyUser(OperationContext& op) {
  if (has_users_.load(std::memory_order_acquire)) return true;
  auto docs = ReadAdmin(op, kSystemUsers, bson::View());
  if (!docs.ok()) return docs.status();
  if (!docs.value().empty()) has_users_.store(true, std::memory_order_release);
  return !docs.value().empty();
}

StatusWith<std::optional<bson::Doc>> AuthManager::FindRoleDoc(OperationContext& op, const auth::RoleName& role) {
  auto docs = ReadAdmin(op, kSystemRoles, IdFilter(role.db + "." + role.role));
  if (!docs.ok()) return docs.status();
  if (docs.value().empty()) return std::optional<bson::Doc>();
  return std::optional<bson::Doc>(std::move(docs.value().front()));
}

StatusWith<std::vector<bson::Doc>> AuthManager::ListRoleDocs(OperationContext& op, std::string_view db) {
  return ReadAdmin(op, kSystemRoles, DbFilter(db));
}

StatusWith<bool> AuthManager::RoleExists(OperationContext& op, const auth::RoleName& role) {
  if (auth::IsBuiltinRole(role)) return true;
  auto doc = FindRoleDoc(op, role);
  if (!doc.ok()) return doc.status();
  return doc.value().has_value();
}

StatusWith<ResolvedRoles> AuthManager::Resolve(OperationContext& op, const std::vector<auth::RoleName>& roles) {
  ResolvedRoles out;
  std::set<auth::RoleName> seen;
  std::vector<auth::RoleName> queue = roles;
  for (size_t i = 0; i < queue.size(); ++i) {
    auth::RoleName r = queue[i];
    if (!seen.insert(r).second) continue;
    out.roles.push_back(r);
    if (auth::IsBuiltinRole(r)) {
      for (const auto& p : auth::BuiltinRolePrivileges(r)) auth::MergePrivilege(&out.privileges, p);
      continue;
    }
    auto doc = FindRoleDoc(op, r);
    if (!doc.ok()) return doc.status();
    if (!doc.value()) continue;  // dropped since it was granted: grants nothing
    const bson::Doc& d = *doc.value();
    if (auto privs = d["privileges"]; privs.IsArray()) {
      auto parsed = auth::ParsePrivileges(privs.Obj());
      if (!parsed.ok()) return parsed.status();
      for (const auto& p : parsed.value()) auth::MergePrivilege(&out.privileges, p);
    }
    if (auto inherited = d["roles"]; inherited.IsArray()) {
      auto parsed = auth::ParseRoleNames(inherited, r.db);
      if (!parsed.ok()) return parsed.status();
      for (auto& x : parsed.value()) queue.push_back(std::move(x));
    }
  }
  return out;
}

Status AuthManager::Login(OperationContext& op, const auth::UserRecord& user) {
  uint64_t gen = generation();
  auto resolved = Resolve(op, user.roles);
  if (!resolved.ok()) return resolved.status();
  AuthSession& s = SessionOf(op);
  s.user = user.name;
  s.roles = std::move(resolved.value().roles);
  s.privileges = std::move(resolved.value().privileges);
  s.generation = gen;
  return Status::OK();
}

Status AuthManager::ClaimSession(const std::string& lsid_key, const std::string& user_id, int64_t now_millis) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  auto it = session_owners_.find(lsid_key);
  if (it != session_owners_.end() && it->second.user_id != user_id &&
      now_millis - it->second.last_use < kLocalSessionTimeoutMillis) {
    return Status(ErrorCodes::kUnauthorized,
                  "Cannot use this logical session: it was started by another user");
  }
  if (it == session_owners_.end() && session_owners_.size() >= kMaxLocalSessions) {
    ForgetIdleSessionsLocked(now_millis);
  }
  session_owners_[lsid_key] = SessionOwner{user_id, now_millis};
  return Status::OK();
}

bool AuthManager::SessionOwnedByOther(const std::string& lsid_key, const std::string& user_id) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  auto it = session_owners_.find(lsid_key);
  return it != session_owners_.end() && it->second.user_id != user_id;
}

void AuthManager::ForgetIdleSessionsLocked(int64_t now_millis) {
  for (auto it = session_owners_.begin(); it != session_owners_.end();) {
    it = now_millis - it->second.last_use >= kLocalSessionTimeoutMillis ? session_owners_.erase(it) : std::next(it);
  }
  // Still full of live sessions: drop the least recently used, as $listLocalSessions does;
  // a client with 100000 sessions in 30 minutes gets no ownership guarantee beyond that.
  while (session_owners_.size() >= kMaxLocalSessions) {
    auto oldest = session_owners_.begin();
    for (auto it = session_owners_.begin(); it != session_owners_.end(); ++it) {
      if (it->second.last_use < oldest->second.last_use) oldest = it;
    }
    session_owners_.erase(oldest);
  }
}

}  // namespace brook::commands
