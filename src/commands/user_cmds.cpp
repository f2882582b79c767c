// createUser, updateUser, dropUser, dropAllUsersFromDatabase, usersInfo: MongoDB's
// argument rules, errors and reply shapes over admin.system.users (auth_store.h).
#include <algorithm>
#include <memory>
#include <optional>

#include "auth/saslprep.h"
#include "auth/scram.h"
#include "bson/builder.h"
#include "catalog/catalog.h"
#include "commands/auth_manager.h"
#include "commands/auth_store.h"
#include "commands/crud_args.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/server_options.h"
#include "query/matcher.h"

namespace brook::commands {
namespace {

const std::vector<std::string> kAllMechanisms = {std::string(auth::kScramSha1), std::string(auth::kScramSha256)};

StatusWith<std::string> UserNameArg(const CommandRequest& req, std::string_view cmd) {
  auto name = req.body.first();
  if (name.type() != bson::Type::kString) return WrongType(cmd, cmd, name, "string");
  if (name.Str().empty()) return Status(ErrorCodes::kBadValue, "User document needs 'user' field to be non-empty");
  if (req.db == "local") return Status(ErrorCodes::kBadValue, "Cannot create users in the local database");
  return std::string(name.Str());
}

std::string Display(const auth::UserName& n) { return n.user + "@" + n.db; }

Status UserNotFound(const auth::UserName& n) {
  return Status(ErrorCodes::kUserNotFound, "Could not find user \"" + n.user + "\" for db \"" + n.db + "\"");
}

// mechanisms: [..] must be known SCRAM names; absent: both.
StatusWith<std::vector<std::string>> ParseMechanisms(bson::View body, std::string_view cmd) {
  auto m = body["mechanisms"];
  if (m.missing()) return kAllMechanisms;
  if (!m.IsArray()) return WrongType(cmd, "mechanisms", m, "array");
  std::vector<std::string> out;
  for (const auto& e : m.Obj()) {
    if (e.type() != bson::Type::kString) return WrongType(cmd, "mechanisms", e, "string");
    if (!auth::MechanismAlg(e.Str())) {
      return Status(ErrorCodes::kBadValue, "Unknown auth mechanism '" + std::string(e.Str()) + "'");
    }
    if (std::find(out.begin(), out.end(), e.Str()) == out.end()) out.emplace_back(e.Str());
  }
  if (out.empty()) return Status(ErrorCodes::kBadValue, "mechanisms field must not be empty");
  return out;
}

int Iterations(OperationContext& op, auth::HashAlg alg) {
  if (!op.service().options) return alg == auth::HashAlg::kSha1 ? 10000 : 15000;
  return static_cast<int>(op.service().options->parameters->GetInt(
      alg == auth::HashAlg::kSha1 ? kParamScramIterationCount : kParamScramSha256IterationCount));
}

// pwd + digestPassword -> credentials for each mechanism.
Status BuildCredentials(OperationContext& op, const auth::UserName& name, bson::View body, std::string_view cmd,
                        const std::vector<std::string>& mechanisms, auth::UserRecord* user) {
  auto pwd = body["pwd"];
  if (pwd.type() != bson::Type::kString) return WrongType(cmd, "pwd", pwd, "string");
  if (pwd.Str().empty()) return Status(ErrorCodes::kBadValue, "Password cannot be empty");
  auto digest = body["digestPassword"];
  bool digest_password = digest.missing() || digest.Truthy();
  user->credentials.clear();
  for (const auto& mech : mechanisms) {
    auth::HashAlg alg = *auth::MechanismAlg(mech);
    std::string prepared;
    if (alg == auth::HashAlg::kSha1) {
      prepared = digest_password ? auth::MongoPasswordDigest(name.user, pwd.Str()) : std::string(pwd.Str());
    } else {
      if (!digest_password) {
        return Status(ErrorCodes::kBadValue, "Use of SCRAM-SHA-256 requires undigested passwords");
      }
      auto p = auth::SaslPrep(pwd.Str());
      if (!p.ok()) return Status(ErrorCodes::kBadValue, "Error preparing password: " + p.status().reason());
      prepared = std::move(p.value());
    }
    user->credentials.emplace(mech, auth::MakeCredential(alg, prepared, Iterations(op, alg)));
  }
  return Status::OK();
}

Status CheckRolesExist(OperationContext& op, const std::vector<auth::RoleName>& roles) {
  for (const auto& r : roles) {
    auto exists = op.service().auth->RoleExists(op, r);
    if (!exists.ok()) return exists.status();
    if (!exists.value()) return Status(ErrorCodes::kRoleNotFound, "Could not find role: " + r.role + "@" + r.db);
  }
  return Status::OK();
}

Status NeedManager(OperationContext& op) {
  if (!op.service().auth) return Status(ErrorCodes::kInternalError, "user management is not configured");
  return Status::OK();
}

Status CustomData(bson::View body, std::string_view cmd, auth::UserRecord* user) {
  auto cd = body["customData"];
  if (cd.missing()) return Status::OK();
  if (!cd.IsObject()) return WrongType(cmd, "customData", cd, "object");
  user->custom_data = bson::Doc::CopyOf(cd.Obj());
  return Status::OK();
}

void AppendUser(OperationContext& op, const auth::UserRecord& u, bool show_credentials, bool show_privileges,
                bool show_custom_data, bson::Builder* out) {
  out->AppendString("_id", u.name.Id());
  if (!u.user_id.empty()) out->AppendBinary("userId", 4, u.user_id);
  out->AppendString("user", u.name.user);
  out->AppendString("db", u.name.db);
  if (show_credentials) {
    bson::Doc full = auth::UserDocument(u);
    out->Append(full["credentials"]);
  }
  if (show_custom_data && u.custom_data) out->AppendDocument("customData", *u.custom_data);
  out->OpenArray("roles");
  auth::AppendRoleNames(out, u.roles);
  out->Close();
  if (show_privileges) {
    auto resolved = op.service().auth->Resolve(op, u.roles);
    if (resolved.ok()) {
      out->OpenArray("inheritedRoles");
      auth::AppendRoleNames(out, resolved.value().roles);
      out->Close();
      out->OpenArray("inheritedPrivileges");
      auth::AppendPrivileges(out, resolved.value().privileges);
      out->Close();
    }
  }
  out->OpenArray("mechanisms");
  std::string scratch;
  size_t i = 0;
  for (const auto& m : u.Mechanisms()) out->AppendString(bson::ArrayKey(i++, &scratch), m);
  out->Close();
}

// usersInfo's selector: 1, "name", {user, db}, [ ...those ], {forAllDBs: true}.
Status SelectUsers(OperationContext& op, const CommandRequest& req, std::vector<auth::UserRecord>* out) {
  AuthManager& mgr = *op.service().auth;
  auto arg = req.body.first();
  auto add_one = [&](const bson::Element& e) -> Status {
    auth::UserName n;
    if (e.type() == bson::Type::kString) {
      n = {std::string(e.Str()), std::string(req.db)};
    } else if (e.IsObject() && e.Obj()["user"].type() == bson::Type::kString &&
               e.Obj()["db"].type() == bson::Type::kString) {
      n = {std::string(e.Obj()["user"].Str()), std::string(e.Obj()["db"].Str())};
    } else {
      return Status(ErrorCodes::kBadValue, "User name must be either a string or an object with 'user' and 'db'");
    }
    auto u = mgr.FindUser(op, n);
    if (!u.ok()) return u.status();
    if (u.value()) out->push_back(std::move(*u.value()));
    return Status::OK();
  };
  if (arg.IsNumber() && arg.NumberInt64() == 1) {
    auto all = mgr.ListUsers(op, req.db);
    if (!all.ok()) return all.status();
    *out = std::move(all.value());
    return Status::OK();
  }
  if (arg.IsObject() && arg.Obj()["forAllDBs"].Truthy()) {
    if (req.db != kAdminDb) {
      return Status(ErrorCodes::kBadValue, "'forAllDBs' may only be used against the admin database");
    }
    auto all = mgr.ListUsers(op, "");
    if (!all.ok()) return all.status();
    *out = std::move(all.value());
    return Status::OK();
  }
  if (arg.IsArray()) {
    for (const auto& e : arg.Obj()) BROOK_RETURN_IF_ERROR(add_one(e));
    return Status::OK();
  }
  return add_one(arg);
}

}  // namespace

Status HandleCreateUser(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  BROOK_RETURN_IF_ERROR(NeedManager(op));
  auto user_name = UserNameArg(req, "createUser");
  if (!user_name.ok()) return user_name.status();
  auth::UserRecord user;
  user.name = {user_name.value(), std::string(req.db)};
  if (req.body["roles"].missing()) return MissingField("createUser", "roles");
  auto roles = auth::ParseRoleNames(req.body["roles"], req.db);
  if (!roles.ok()) return roles.status();
  user.roles = std::move(roles.value());
  if (req.body["pwd"].missing()) {
    return Status(ErrorCodes::kBadValue,
                  "Must provide a 'pwd' field for all user documents, except those with '$external' as "
                  "the user's source db");
  }
  auto mechanisms = ParseMechanisms(req.body, "createUser");
  if (!mechanisms.ok()) return mechanisms.status();
  BROOK_RETURN_IF_ERROR(BuildCredentials(op, user.name, req.body, "createUser", mechanisms.value(), &user));
  BROOK_RETURN_IF_ERROR(CustomData(req.body, "createUser", &user));
  BROOK_RETURN_IF_ERROR(CheckRolesExist(op, user.roles));
  auto uuid = catalog::GenerateUuid();
  user.user_id.assign(reinterpret_cast<const char*>(uuid.data()), uuid.size());
  Status st = InsertAuthDoc(op, kSystemUsers, auth::UserDocument(user));
  if (st.code() == static_cast<int32_t>(ErrorCodes::kDuplicateKey)) {
    return Status(51003, "User \"" + Display(user.name) + "\" already exists");
  }
  return st;
}

Status HandleUpdateUser(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  BROOK_RETURN_IF_ERROR(NeedManager(op));
  auto user_name = UserNameArg(req, "updateUser");
  if (!user_name.ok()) return user_name.status();
  auth::UserName name{user_name.value(), std::string(req.db)};
  bool has_pwd = req.body.HasField("pwd"), has_roles = req.body.HasField("roles");
  bool has_custom = req.body.HasField("customData"), has_mechs = req.body.HasField("mechanisms");
  if (!has_pwd && !has_roles && !has_custom && !has_mechs) {
    return Status(ErrorCodes::kBadValue, "Must specify at least one field to update in updateUser");
  }
  auto found = op.service().auth->FindUser(op, name);
  if (!found.ok()) return found.status();
  if (!found.value()) return UserNotFound(name);
  auth::UserRecord user = std::move(*found.value());
  std::vector<std::string> mechanisms = user.Mechanisms();
  if (has_mechs) {
    auto m = ParseMechanisms(req.body, "updateUser");
    if (!m.ok()) return m.status();
    if (!has_pwd) {
      for (const auto& x : m.value()) {
        if (!user.credentials.count(x)) {
          return Status(ErrorCodes::kBadValue, "mechanisms field must be a subset of previously set mechanisms");
        }
      }
      for (auto it = user.credentials.begin(); it != user.credentials.end();) {
        it = std::find(m.value().begin(), m.value().end(), it->first) == m.value().end() ? user.credentials.erase(it)
                                                                                          : std::next(it);
      }
    }
    mechanisms = m.value();
  }
  if (has_pwd) BROOK_RETURN_IF_ERROR(BuildCredentials(op, name, req.body, "updateUser", mechanisms, &user));
  if (has_roles) {
    auto roles = auth::ParseRoleNames(req.body["roles"], req.db);
    if (!roles.ok()) return roles.status();
    BROOK_RETURN_IF_ERROR(CheckRolesExist(op, roles.value()));
    user.roles = std::move(roles.value());
  }
  BROOK_RETURN_IF_ERROR(CustomData(req.body, "updateUser", &user));
  auto replaced = ReplaceAuthDoc(op, kSystemUsers, name.Id(), auth::UserDocument(user));
  if (!replaced.ok()) return replaced.status();
  if (!replaced.value()) return UserNotFound(name);
  return Status::OK();
}

Status HandleDropUser(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  BROOK_RETURN_IF_ERROR(NeedManager(op));
  auto user_name = UserNameArg(req, "dropUser");
  if (!user_name.ok()) return user_name.status();
  auth::UserName name{user_name.value(), std::string(req.db)};
  bson::Builder f;
  f.AppendString("_id", name.Id());
  auto n = DeleteAuthDocs(op, kSystemUsers, f.Done());
  if (!n.ok()) return n.status();
  if (n.value() == 0) return Status(ErrorCodes::kUserNotFound, "User '" + Display(name) + "' not found");
  return Status::OK();
}

Status HandleDropAllUsersFromDatabase(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  BROOK_RETURN_IF_ERROR(NeedManager(op));
  bson::Builder f;
  f.AppendString("db", req.db);
  auto n = DeleteAuthDocs(op, kSystemUsers, f.Done());
  if (!n.ok()) return n.status();
  reply->AppendInt32("n", static_cast<int32_t>(n.value()));
  return Status::OK();
}

Status HandleUsersInfo(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  BROOK_RETURN_IF_ERROR(NeedManager(op));
  std::vector<auth::UserRecord> users;
  BROOK_RETURN_IF_ERROR(SelectUsers(op, req, &users));
  bool show_credentials = req.body["showCredentials"].Truthy();
  bool show_privileges = req.body["showPrivileges"].Truthy();
  auto scd = req.body["showCustomData"];
  bool show_custom_data = scd.missing() || scd.Truthy();
  // filter: $match conditions on each user document as the reply shows it (MongoDB runs
  // them as a $match stage after shaping the documents).
  std::optional<bson::View> filter;
  BROOK_RETURN_IF_ERROR(GetObject(req.body, "usersInfo", "filter", &filter));
  std::unique_ptr<query::Matcher> matcher;
  if (filter) {
    auto m = query::Matcher::Parse(*filter, query::MatcherOptions{});
    if (!m.ok()) return m.status();
    matcher = std::move(m).value();
  }
  reply->OpenArray("users");
  std::string scratch;
  size_t i = 0;
  for (const auto& u : users) {
    bson::Builder one;
    AppendUser(op, u, show_credentials, show_privileges, show_custom_data, &one);
    bson::Doc doc = one.Done();
    if (matcher && !matcher->Matches(doc.view())) continue;
    reply->AppendDocument(bson::ArrayKey(i++, &scratch), doc.view());
  }
  reply->Close();
  return Status::OK();
}

}  // namespace brook::commands
