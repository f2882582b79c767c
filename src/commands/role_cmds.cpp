// User-defined roles in admin.system.roles ({_id: "<db>.<role>", role, db, privileges,
// roles}) and the grant/revoke commands: createRole, updateRole, dropRole,
// dropAllRolesFromDatabase, rolesInfo, grantRolesToUser, revokeRolesFromUser,
// grantRolesToRole, revokeRolesFromRole, grantPrivilegesToRole, revokePrivilegesFromRole.
// Built-in roles are never stored and cannot be modified (InvalidRoleModification 49).
#include <algorithm>

#include "bson/builder.h"
#include "commands/auth_manager.h"
#include "commands/auth_store.h"
#include "commands/crud_args.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"

namespace brook::commands {
namespace {

struct RoleDef {
  auth::RoleName name;
  std::vector<auth::Privilege> privileges;
  std::vector<auth::RoleName> roles;
};

std::string Display(const auth::RoleName& r) { return r.role + "@" + r.db; }

Status NotFound(const auth::RoleName& r) {
  return Status(ErrorCodes::kRoleNotFound, "Role " + Display(r) + " does not exist");
}

bson::Doc RoleDocument(const RoleDef& def) {
  bson::Builder b;
  b.AppendString("_id", def.name.db + "." + def.name.role);
  b.AppendString("role", def.name.role);
  b.AppendString("db", def.name.db);
  b.OpenArray("privileges");
  auth::AppendPrivileges(&b, def.privileges);
  b.Close();
  b.OpenArray("roles");
  auth::AppendRoleNames(&b, def.roles);
  b.Close();
  return b.Done();
}

StatusWith<RoleDef> ParseRoleDoc(bson::View doc) {
  RoleDef def;
  if (doc["role"].type() != bson::Type::kString || doc["db"].type() != bson::Type::kString) {
    return Status(ErrorCodes::kUnsupportedFormat, "invalid role document");
  }
  def.name = {std::string(doc["role"].Str()), std::string(doc["db"].Str())};
  if (auto p = doc["privileges"]; p.IsArray()) {
    auto parsed = auth::ParsePrivileges(p.Obj());
    if (!parsed.ok()) return parsed.status();
    def.privileges = std::move(parsed.value());
  }
  if (auto r = doc["roles"]; r.IsArray()) {
    auto parsed = auth::ParseRoleNames(r, def.name.db);
    if (!parsed.ok()) return parsed.status();
    def.roles = std::move(parsed.value());
  }
  return def;
}

StatusWith<auth::RoleName> RoleNameArg(const CommandRequest& req, std::string_view cmd) {
  auto name = req.body.first();
  if (name.type() != bson::Type::kString) return WrongType(cmd, cmd, name, "string");
  if (name.Str().empty()) return Status(ErrorCodes::kBadValue, "Role name must be non-empty");
  return auth::RoleName{std::string(name.Str()), std::string(req.db)};
}

// Loads a user-defined role for modification (builtin: 49, missing: 31).
StatusWith<RoleDef> LoadForUpdate(OperationContext& op, const auth::RoleName& name, std::string_view what) {
  if (auth::IsBuiltinRole(name)) {
    return Status(ErrorCodes::kInvalidRoleModification,
                  "Cannot " + std::string(what) + " built-in role: " + Display(name));
  }
  auto doc = op.service().auth->FindRoleDoc(op, name);
  if (!doc.ok()) return doc.status();
  if (!doc.value()) return NotFound(name);
  return ParseRoleDoc(*doc.value());
}

Status CheckRolesExist(OperationContext& op, const std::vector<auth::RoleName>& roles) {
  for (const auto& r : roles) {
    auto exists = op.service().auth->RoleExists(op, r);
    if (!exists.ok()) return exists.status();
    if (!exists.value()) return NotFound(r);
  }
  return Status::OK();
}

// A role of a non-admin database may only hold privileges on its own database.
Status CheckPrivilegeScope(const auth::RoleName& role, const std::vector<auth::Privilege>& privs) {
  if (role.db == kAdminDb) return Status::OK();
  using K = auth::ResourcePattern::Kind;
  for (const auto& p : privs) {
    bool own = (p.resource.kind == K::kDatabase || p.resource.kind == K::kExactNamespace) && p.resource.db == role.db;
    if (!own) {
      return Status(ErrorCodes::kInvalidRoleModification,
                    "Roles on the '" + role.db +
                        "' database cannot be granted privileges that target other databases or the cluster");
    }
  }
  return Status::OK();
}

// A role may not (transitively) include itself.
Status CheckNoCycle(OperationContext& op, const RoleDef& def) {
  auto resolved = op.service().auth->Resolve(op, def.roles);
  if (!resolved.ok()) return resolved.status();
  for (const auto& r : resolved.value().roles) {
    if (r == def.name) {
      return Status(ErrorCodes::kInvalidRoleModification,
                    "Granting roles to " + Display(def.name) + " would introduce a cycle in the role graph");
    }
  }
  return Status::OK();
}

Status Save(OperationContext& op, const RoleDef& def) {
  auto replaced = ReplaceAuthDoc(op, kSystemRoles, def.name.db + "." + def.name.role, RoleDocument(def));
  if (!replaced.ok()) return replaced.status();
  if (!replaced.value()) return NotFound(def.name);
  return Status::OK();
}

StatusWith<std::vector<auth::Privilege>> PrivilegesArg(const CommandRequest& req, std::string_view cmd) {
  auto p = req.body["privileges"];
  if (p.missing()) return MissingField(cmd, "privileges");
  if (!p.IsArray()) return WrongType(cmd, "privileges", p, "array");
  return auth::ParsePrivileges(p.Obj());
}

StatusWith<std::vector<auth::RoleName>> RolesArg(const CommandRequest& req, std::string_view cmd) {
  auto r = req.body["roles"];
  if (r.missing()) return MissingField(cmd, "roles");
  return auth::ParseRoleNames(r, req.db);
}

// Removes `role` from every user and role that lists it (dropRole).
Status RemoveEverywhere(OperationContext& op, const auth::RoleName& role) {
  AuthManager& mgr = *op.service().auth;
  auto users = mgr.ListUsers(op, "");
  if (!users.ok()) return users.status();
  for (auto& u : users.value()) {
    auto it = std::remove(u.roles.begin(), u.roles.end(), role);
    if (it == u.roles.end()) continue;
    u.roles.erase(it, u.roles.end());
    auto st = ReplaceAuthDoc(op, kSystemUsers, u.name.Id(), auth::UserDocument(u));
    if (!st.ok()) return st.status();
  }
  auto roles = mgr.ListRoleDocs(op, "");
  if (!roles.ok()) return roles.status();
  for (const auto& d : roles.value()) {
    auto def = ParseRoleDoc(d);
    if (!def.ok()) return def.status();
    auto it = std::remove(def.value().roles.begin(), def.value().roles.end(), role);
    if (it == def.value().roles.end()) continue;
    def.value().roles.erase(it, def.value().roles.end());
    BROOK_RETURN_IF_ERROR(Save(op, def.value()));
  }
  return Status::OK();
}

void AppendRoleInfo(OperationContext& op, const RoleDef& def, bool builtin, bool show_privileges, bson::Builder* out) {
  out->AppendString("role", def.name.role);
  out->AppendString("db", def.name.db);
  out->AppendBool("isBuiltin", builtin);
  out->OpenArray("roles");
  auth::AppendRoleNames(out, def.roles);
  out->Close();
  auto resolved = op.service().auth->Resolve(op, def.roles);
  std::vector<auth::RoleName> inherited;
  std::vector<auth::Privilege> inherited_privs = def.privileges;
  if (resolved.ok()) {
    inherited = resolved.value().roles;
    for (const auto& p : resolved.value().privileges) auth::MergePrivilege(&inherited_privs, p);
  }
  out->OpenArray("inheritedRoles");
  auth::AppendRoleNames(out, inherited);
  out->Close();
  if (show_privileges) {
    out->OpenArray("privileges");
    auth::AppendPrivileges(out, def.privileges);
    out->Close();
    out->OpenArray("inheritedPrivileges");
    auth::AppendPrivileges(out, inherited_privs);
    out->Close();
  }
}

// The role named by `e`, built in or defined; nullopt when neither.
StatusWith<std::optional<std::pair<RoleDef, bool>>> LookupRole(OperationContext& op, const auth::RoleName& name) {
  using Result = std::optional<std::pair<RoleDef, bool>>;
  if (auth::IsBuiltinRole(name)) return Result(std::make_pair(RoleDef{name, auth::BuiltinRolePrivileges(name), {}}, true));
  auto doc = op.service().auth->FindRoleDoc(op, name);
  if (!doc.ok()) return doc.status();
  if (!doc.value()) return Result();
  auto def = ParseRoleDoc(*doc.value());
  if (!def.ok()) return def.status();
  return Result(std::make_pair(std::move(def.value()), false));
}

Status GrantOrRevokeUserRoles(OperationContext& op, const CommandRequest& req, std::string_view cmd, bool grant) {
  auto user_name = req.body.first();
  if (user_name.type() != bson::Type::kString) return WrongType(cmd, cmd, user_name, "string");
  auth::UserName name{std::string(user_name.Str()), std::string(req.db)};
  auto roles = RolesArg(req, cmd);
  if (!roles.ok()) return roles.status();
  if (grant) BROOK_RETURN_IF_ERROR(CheckRolesExist(op, roles.value()));
  auto found = op.service().auth->FindUser(op, name);
  if (!found.ok()) return found.status();
  if (!found.value()) {
    return Status(ErrorCodes::kUserNotFound, "Could not find user \"" + name.user + "\" for db \"" + name.db + "\"");
  }
  auth::UserRecord user = std::move(*found.value());
  for (const auto& r : roles.value()) {
    auto it = std::find(user.roles.begin(), user.roles.end(), r);
    if (grant && it == user.roles.end()) user.roles.push_back(r);
    if (!grant && it != user.roles.end()) user.roles.erase(it);
  }
  auto st = ReplaceAuthDoc(op, kSystemUsers, name.Id(), auth::UserDocument(user));
  return st.ok() ? Status::OK() : st.status();
}

Status GrantOrRevokeRoleRoles(OperationContext& op, const CommandRequest& req, std::string_view cmd, bool grant) {
  auto name = RoleNameArg(req, cmd);
  if (!name.ok()) return name.status();
  auto roles = RolesArg(req, cmd);
  if (!roles.ok()) return roles.status();
  if (grant) BROOK_RETURN_IF_ERROR(CheckRolesExist(op, roles.value()));
  auto def = LoadForUpdate(op, name.value(), grant ? "grant roles to" : "revoke roles from");
  if (!def.ok()) return def.status();
  for (const auto& r : roles.value()) {
    auto it = std::find(def.value().roles.begin(), def.value().roles.end(), r);
    if (grant && it == def.value().roles.end()) def.value().roles.push_back(r);
    if (!grant && it != def.value().roles.end()) def.value().roles.erase(it);
  }
  if (grant) BROOK_RETURN_IF_ERROR(CheckNoCycle(op, def.value()));
  return Save(op, def.value());
}

Status GrantOrRevokePrivileges(OperationContext& op, const CommandRequest& req, std::string_view cmd, bool grant) {
  auto name = RoleNameArg(req, cmd);
  if (!name.ok()) return name.status();
  auto privs = PrivilegesArg(req, cmd);
  if (!privs.ok()) return privs.status();
  auto def = LoadForUpdate(op, name.value(), grant ? "grant privileges to" : "remove privileges from");
  if (!def.ok()) return def.status();
  if (grant) BROOK_RETURN_IF_ERROR(CheckPrivilegeScope(name.value(), privs.value()));
  for (const auto& p : privs.value()) {
    if (grant) {
      auth::MergePrivilege(&def.value().privileges, p);
    } else {
      auth::SubtractPrivilege(&def.value().privileges, p);
    }
  }
  return Save(op, def.value());
}

}  // namespace

Status HandleCreateRole(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  auto name = RoleNameArg(req, "createRole");
  if (!name.ok()) return name.status();
  if (auth::IsBuiltinRole(name.value()) || (name.value().role.rfind("__", 0) == 0)) {
    return Status(ErrorCodes::kBadValue, "Cannot create roles with the same name as a built-in role");
  }
  auto privs = PrivilegesArg(req, "createRole");
  if (!privs.ok()) return privs.status();
  auto roles = RolesArg(req, "createRole");
  if (!roles.ok()) return roles.status();
  RoleDef def{name.value(), std::move(privs.value()), std::move(roles.value())};
  BROOK_RETURN_IF_ERROR(CheckPrivilegeScope(def.name, def.privileges));
  BROOK_RETURN_IF_ERROR(CheckRolesExist(op, def.roles));
  BROOK_RETURN_IF_ERROR(CheckNoCycle(op, def));
  Status st = InsertAuthDoc(op, kSystemRoles, RoleDocument(def));
  if (st.code() == static_cast<int32_t>(ErrorCodes::kDuplicateKey)) {
    return Status(51002, "Role \"" + Display(def.name) + "\" already exists");
  }
  return st;
}

Status HandleUpdateRole(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  auto name = RoleNameArg(req, "updateRole");
  if (!name.ok()) return name.status();
  bool has_privs = req.body.HasField("privileges"), has_roles = req.body.HasField("roles");
  if (!has_privs && !has_roles) {
    return Status(ErrorCodes::kBadValue, "Must specify at least one field to update in updateRole");
  }
  auto def = LoadForUpdate(op, name.value(), "modify");
  if (!def.ok()) return def.status();
  if (has_privs) {
    auto privs = PrivilegesArg(req, "updateRole");
    if (!privs.ok()) return privs.status();
    BROOK_RETURN_IF_ERROR(CheckPrivilegeScope(name.value(), privs.value()));
    def.value().privileges = std::move(privs.value());
  }
  if (has_roles) {
    auto roles = RolesArg(req, "updateRole");
    if (!roles.ok()) return roles.status();
    BROOK_RETURN_IF_ERROR(CheckRolesExist(op, roles.value()));
    def.value().roles = std::move(roles.value());
    BROOK_RETURN_IF_ERROR(CheckNoCycle(op, def.value()));
  }
  return Save(op, def.value());
}

Status HandleDropRole(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  auto name = RoleNameArg(req, "dropRole");
  if (!name.ok()) return name.status();
  auto def = LoadForUpdate(op, name.value(), "delete");
  if (!def.ok()) return def.status();
  BROOK_RETURN_IF_ERROR(RemoveEverywhere(op, name.value()));
  bson::Builder f;
  f.AppendString("_id", name.value().db + "." + name.value().role);
  auto n = DeleteAuthDocs(op, kSystemRoles, f.Done());
  return n.ok() ? Status::OK() : n.status();
}

Status HandleDropAllRolesFromDatabase(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto docs = op.service().auth->ListRoleDocs(op, req.db);
  if (!docs.ok()) return docs.status();
  for (const auto& d : docs.value()) {
    auto def = ParseRoleDoc(d);
    if (!def.ok()) return def.status();
    BROOK_RETURN_IF_ERROR(RemoveEverywhere(op, def.value().name));
  }
  bson::Builder f;
  f.AppendString("db", req.db);
  auto n = DeleteAuthDocs(op, kSystemRoles, f.Done());
  if (!n.ok()) return n.status();
  reply->AppendInt32("n", static_cast<int32_t>(n.value()));
  return Status::OK();
}

Status HandleRolesInfo(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto arg = req.body.first();
  bool show_privileges = req.body["showPrivileges"].Truthy();
  std::vector<std::pair<RoleDef, bool>> found;
  auto add = [&](const bson::Element& e) -> Status {
    auto name = auth::ParseRoleName(e, req.db);
    if (!name.ok()) return name.status();
    auto role = LookupRole(op, name.value());
    if (!role.ok()) return role.status();
    if (role.value()) found.push_back(std::move(*role.value()));
    return Status::OK();
  };
  if (arg.IsNumber() && arg.NumberInt64() == 1) {
    if (req.body["showBuiltinRoles"].Truthy()) {
      for (const auto& n : auth::BuiltinRoleNames(req.db)) {
        auth::RoleName rn{n, std::string(req.db)};
        found.emplace_back(RoleDef{rn, auth::BuiltinRolePrivileges(rn), {}}, true);
      }
    }
    auto docs = op.service().auth->ListRoleDocs(op, req.db);
    if (!docs.ok()) return docs.status();
    for (const auto& d : docs.value()) {
      auto def = ParseRoleDoc(d);
      if (!def.ok()) return def.status();
      found.emplace_back(std::move(def.value()), false);
    }
  } else if (arg.IsArray()) {
    for (const auto& e : arg.Obj()) BROOK_RETURN_IF_ERROR(add(e));
  } else {
    BROOK_RETURN_IF_ERROR(add(arg));
  }
  reply->OpenArray("roles");
  std::string scratch;
  size_t i = 0;
  for (const auto& [def, builtin] : found) {
    reply->OpenDocument(bson::ArrayKey(i++, &scratch));
    AppendRoleInfo(op, def, builtin, show_privileges, reply);
    reply->Close();
  }
  reply->Close();
  return Status::OK();
}

Status HandleGrantRolesToUser(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  return GrantOrRevokeUserRoles(op, req, "grantRolesToUser", true);
}
Status HandleRevokeRolesFromUser(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  return GrantOrRevokeUserRoles(op, req, "revokeRolesFromUser", false);
}
Status HandleGrantRolesToRole(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  return GrantOrRevokeRoleRoles(op, req, "grantRolesToRole", true);
}
Status HandleRevokeRolesFromRole(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  return GrantOrRevokeRoleRoles(op, req, "revokeRolesFromRole", false);
}
Status HandleGrantPrivilegesToRole(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  return GrantOrRevokePrivileges(op, req, "grantPrivilegesToRole", true);
}
Status HandleRevokePrivilegesFromRole(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  return GrantOrRevokePrivileges(op, req, "revokePrivilegesFromRole", false);
}

}  // namespace brook::commands
