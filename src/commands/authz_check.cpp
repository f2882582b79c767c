// CheckAuthorization: which privileges a command needs, and the localhost exception
// (see auth_manager.h). The action comes from the command table; the resource from the
// command's shape: a string first value names a collection, anything else the database,
// admin-only commands the cluster. Commands whose needs depend on their arguments
// (aggregate, explain, getMore, killCursors, user and role management) are spelled out.
#include <algorithm>
#include <chrono>
#include <set>

#include "bson/builder.h"
#include "catalog/record_store.h"
#include "commands/auth_manager.h"
#include "commands/cursor_registry.h"
#include "commands/operation_context.h"
#include "commands/sessions.h"

namespace brook::commands {
namespace {

using auth::Resource;

struct Need {
  Resource resource;
  std::string action;
};

// A logical session is used only by the user who started it (AuthManager::ClaimSession).
// A client may not name the user digest itself: MongoDB allows that only with the
// `impersonate` action, which no role a Brook user can hold grants.
Status CheckSessionOwner(OperationContext& op, AuthManager& mgr, const AuthSession& s) {
  if (!op.lsid) return Status::OK();
  if (op.lsid->view()["uid"]) {
    return Status(ErrorCodes::kUnauthorized, "Unauthorized to set user digest in LogicalSessionId");
  }
  auto key = SessionCatalog::LsidKey(*op.lsid);
  if (!key.ok()) return Status::OK();  // generic arguments already refused a bad lsid
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return mgr.ClaimSession(key.value(), s.UserId(), now);
}

Status NotAuthorized(OperationContext& op, const CommandRequest& req) {
  return Status(ErrorCodes::kUnauthorized, "not authorized on " + std::string(op.db) +
                                               " to execute command " +
                                               catalog::FormatKeyForMessage(req.body));
}

// Commands whose first value is a collection name (the others act on the database).
const std::set<std::string_view>& CollectionCommands() {
  static const auto* s = new std::set<std::string_view>{
      "find", "insert", "update", "delete", "count", "distinct", "aggregate", "findAndModify",
      "create", "drop", "collMod", "collStats", "createIndexes", "listIndexes", "dropIndexes"};
  return *s;
}

// The namespace a "from"-style stage argument names (a string or {db, coll}).
std::optional<Resource> StageTarget(const bson::Element& arg, std::string_view db, std::string_view coll_field) {
  if (arg.type() == bson::Type::kString) return Resource::Namespace(std::string(db), std::string(arg.Str()));
  if (!arg.IsObject()) return std::nullopt;
  auto v = arg.Obj();
  auto target_db = v["db"];
  auto coll = v[coll_field];
  if (coll.type() != bson::Type::kString) return std::nullopt;
  return Resource::Namespace(target_db.type() == bson::Type::kString ? std::string(target_db.Str()) : std::string(db),
                             std::string(coll.Str()));
}

// The namespaces a pipeline's stages read ($lookup, $graphLookup, $unionWith) and write
// ($out, $merge), including pipelines nested in $lookup, $unionWith and $facet, so a
// sub-pipeline cannot reach what the user may not read. Depth is bounded by the BSON
// nesting the wire layer already limits.
void PipelineNeeds(std::string_view db, bson::View pipeline, std::vector<Need>* needs, bool* change_stream,
                   bson::View* change_stream_spec) {
  for (const auto& stage : pipeline) {
    if (!stage.IsObject() || stage.Obj().empty()) continue;
    auto op = stage.Obj().first();
    std::string_view name = op.key();
    auto nested = [&](const bson::Element& e) {
      if (e.IsArray()) PipelineNeeds(db, e.Obj(), needs, change_stream, change_stream_spec);
    };
    if (name == "$changeStream") {
      *change_stream = true;
      if (op.IsObject()) *change_stream_spec = op.Obj();
    } else if (name == "$lookup" || name == "$graphLookup") {
      if (!op.IsObject()) continue;
      if (auto r = StageTarget(op.Obj()["from"], db, "coll")) needs->push_back({*r, "find"});
      nested(op.Obj()["pipeline"]);
    } else if (name == "$unionWith") {
      auto arg = op.type() == bson::Type::kString ? op : (op.IsObject() ? op.Obj()["coll"] : bson::Element());
      if (arg.type() == bson::Type::kString) {
        needs->push_back({Resource::Namespace(std::string(db), std::string(arg.Str())), "find"});
      }
      if (op.IsObject()) nested(op.Obj()["pipeline"]);
    } else if (name == "$facet") {
      if (op.IsObject()) {
        for (const auto& facet : op.Obj()) nested(facet);
      }
    } else if (name == "$out" || name == "$merge") {
      std::optional<Resource> r;
      if (op.type() == bson::Type::kString) {
        r = Resource::Namespace(std::string(db), std::string(op.Str()));
      } else if (op.IsObject()) {
        auto into = op.Obj()[name == "$out" ? "coll" : "into"];
        r = into.type() == bson::Type::kString ? std::optional<Resource>(Resource::Namespace(std::string(db), std::string(into.Str())))
                                               : StageTarget(into, db, "coll");
        if (name == "$out" && op.Obj()["db"].type() == bson::Type::kString && r) {
          r->db = std::string(op.Obj()["db"].Str());
        }
      }
      if (r) {
        needs->push_back({*r, "insert"});
        needs->push_back({*r, "remove"});
        if (name == "$merge") needs->push_back({*r, "update"});
      }
    }
  }
}

// aggregate: find on the source, or find+changeStream on the stream's scope, plus what
// the stages read and write.
void AggregateNeeds(std::string_view db, bson::View body, std::vector<Need>* needs) {
  auto target = body.first();
  Resource source = target.type() == bson::Type::kString
                        ? Resource::Namespace(std::string(db), std::string(target.Str()))
                        : Resource::Database(std::string(db));
  bool change_stream = false;
  bson::View cs_spec;
  if (auto pipeline = body["pipeline"]; pipeline.IsArray()) {
    PipelineNeeds(db, pipeline.Obj(), needs, &change_stream, &cs_spec);
  }
  if (change_stream && target.type() != bson::Type::kString && cs_spec["allChangesForCluster"].Truthy()) {
    source = Resource{Resource::Kind::kDatabase, "", ""};  // any database: see IsAllowed
  }
  needs->push_back({source, "find"});
  if (change_stream) needs->push_back({source, "changeStream"});
}

bool IsAllowed(const AuthSession& s, const Need& n) {
  if (n.resource.kind == Resource::Kind::kDatabase && n.resource.db.empty()) {
    // Cluster-wide change stream: MongoDB asks for the action on {db: "", collection: ""}.
    for (const auto& p : s.privileges) {
      using K = auth::ResourcePattern::Kind;
      if (p.resource.kind != K::kAnyResource && p.resource.kind != K::kAnyNormal) continue;
      if (p.actions.count(std::string(auth::kAnyAction)) || p.actions.count(n.action)) return true;
    }
    return false;
  }
  return auth::IsAuthorized(s.privileges, n.resource, n.action);
}

// Refreshes the connection's privileges when users or roles changed since its login.
Status Refresh(OperationContext& op, AuthManager& mgr, AuthSession& s) {
  if (!s.user || s.generation == mgr.generation()) return Status::OK();
  uint64_t gen = mgr.generation();
  auto user = mgr.FindUser(op, *s.user);
  if (!user.ok()) return user.status();
  if (!user.value()) {
    // Dropped while logged in: the connection keeps its identity but loses every privilege.
    s.roles.clear();
    s.privileges.clear();
    s.generation = gen;
    return Status::OK();
  }
  BROOK_RETURN_IF_ERROR(mgr.Login(op, *user.value()));
  return Status::OK();
}

// The user/role management commands: action on the target database, plus grantRole on
// each role handed out.
Status UserAdminNeeds(std::string_view name, OperationContext& op, const CommandRequest& req,
                      std::vector<Need>* needs) {
  Resource db = Resource::Database(op.db);
  auto roles_of = [&](std::string_view field, std::string_view action) {
    auto roles = auth::ParseRoleNames(req.body[field], op.db);
    if (!roles.ok()) return;  // the handler reports the shape error
    for (const auto& r : roles.value()) needs->push_back({Resource::Database(r.db), std::string(action)});
  };
  if (name == "createUser") {
    needs->push_back({db, "createUser"});
    roles_of("roles", "grantRole");
  } else if (name == "updateUser") {
    if (req.body.HasField("pwd")) needs->push_back({db, "changePassword"});
    if (req.body.HasField("customData")) needs->push_back({db, "changeCustomData"});
    if (req.body.HasField("roles")) {
      roles_of("roles", "grantRole");
      needs->push_back({db, "revokeRole"});
    }
    if (needs->empty()) needs->push_back({db, "changePassword"});
  } else if (name == "dropUser" || name == "dropAllUsersFromDatabase") {
    needs->push_back({db, "dropUser"});
  } else if (name == "usersInfo") {
    // Anyone may look at themselves.
    auto arg = req.body.first();
    const AuthSession& s = SessionOf(op);
    bool self = s.user && ((arg.type() == bson::Type::kString && arg.Str() == s.user->user && op.db == s.user->db) ||
                           (arg.IsObject() && arg.Obj()["user"].type() == bson::Type::kString &&
                            arg.Obj()["user"].Str() == s.user->user && arg.Obj()["db"].type() == bson::Type::kString &&
                            arg.Obj()["db"].Str() == s.user->db));
    if (!self) {
      bool other_db = arg.IsObject() && arg.Obj()["db"].type() == bson::Type::kString;
      needs->push_back({other_db ? Resource::Database(std::string(arg.Obj()["db"].Str())) : db, "viewUser"});
      if (arg.IsObject() && arg.Obj()["forAllDBs"].Truthy()) needs->back().resource = Resource::Cluster();
    }
    if (req.body["showCredentials"].Truthy()) needs->push_back({Resource::Namespace("admin", "system.users"), "find"});
  } else if (name == "createRole" || name == "updateRole") {
    needs->push_back({db, name == "createRole" ? "createRole" : "grantRole"});
    roles_of("roles", "grantRole");
  } else if (name == "dropRole" || name == "dropAllRolesFromDatabase") {
    needs->push_back({db, "dropRole"});
  } else if (name == "rolesInfo") {
    // Anyone may look at roles they hold.
    const AuthSession& s = SessionOf(op);
    auto arg = req.body.first();
    bool own = false;
    if (!arg.IsNumber()) {
      std::vector<auth::RoleName> asked;
      if (arg.IsArray()) {
        auto parsed = auth::ParseRoleNames(arg, op.db);
        if (parsed.ok()) asked = std::move(parsed.value());
      } else if (auto one = auth::ParseRoleName(arg, op.db); one.ok()) {
        asked.push_back(one.value());
      }
      own = !asked.empty() && std::all_of(asked.begin(), asked.end(), [&](const auth::RoleName& r) {
        return std::find(s.roles.begin(), s.roles.end(), r) != s.roles.end();
      });
    }
    if (!own) needs->push_back({db, "viewRole"});
  } else if (name == "grantRolesToUser" || name == "grantRolesToRole") {
    roles_of("roles", "grantRole");
  } else if (name == "revokeRolesFromUser" || name == "revokeRolesFromRole") {
    roles_of("roles", "revokeRole");
  } else if (name == "grantPrivilegesToRole") {
    needs->push_back({db, "grantRole"});
  } else if (name == "revokePrivilegesFromRole") {
    needs->push_back({db, "revokeRole"});
  } else {
    return Status(ErrorCodes::kInternalError, "no authorization rule for " + std::string(name));
  }
  return Status::OK();
}

bool IsUserAdminCommand(std::string_view name) {
  static const auto* s = new std::set<std::string_view>{
      "createUser", "updateUser", "dropUser", "dropAllUsersFromDatabase", "usersInfo",
      "createRole", "updateRole", "dropRole", "dropAllRolesFromDatabase", "rolesInfo",
      "grantRolesToUser", "revokeRolesFromUser", "grantRolesToRole", "revokeRolesFromRole",
      "grantPrivilegesToRole", "revokePrivilegesFromRole"};
  return s->count(name) > 0;
}

// getMore / killCursors: only the user that opened the cursor (an unknown id is left to
// the handler, which answers CursorNotFound).
Status CheckCursorOwner(OperationContext& op, const CommandRequest& req, int64_t id) {
  auto owner = op.service().cursors ? op.service().cursors->OwnerOf(id) : std::nullopt;
  if (!owner) return Status::OK();
  const AuthSession& s = SessionOf(op);
  if (owner->user && *owner->user == s.UserId()) return Status::OK();
  (void)req;
  return Status(ErrorCodes::kUnauthorized,
                "cursor id " + std::to_string(id) + " was not created by the authenticated user");
}

}  // namespace

Status CheckAuthorization(const CommandSpec& spec, OperationContext& op, const CommandRequest& req) {
  AuthManager* mgr = op.service().auth;
  if (!mgr || !mgr->enabled()) return Status::OK();
  if (spec.flags & kNoAuthRequired) return Status::OK();
  AuthSession& s = SessionOf(op);
  std::string_view name = spec.name;

  if (!s.user) {
    // The localhost exception: with no user at all, a loopback client may create the
    // first user on admin (and read the replica set status), nothing else.
    if (op.client().is_loopback && op.db == kAdminDb && (name == "createUser" || name == "replSetGetStatus")) {
      auto any = mgr->HasAnyUser(op);
      if (!any.ok()) return any.status();
      if (!any.value()) return Status::OK();
    }
    return Status(ErrorCodes::kUnauthorized, "command " + std::string(name) + " requires authentication");
  }
  BROOK_RETURN_IF_ERROR(Refresh(op, *mgr, s));
  BROOK_RETURN_IF_ERROR(CheckSessionOwner(op, *mgr, s));

  std::vector<Need> needs;
  if (name == "getMore" || name == "killCursors") {
    if (name == "getMore") {
      // Read the id as the handler does (any number holding an exact integer).
      auto id = req.body.first();
      auto value = id.IsNumber() ? id.ExactInt64() : std::nullopt;
      if (value) return CheckCursorOwner(op, req, *value);
      return Status::OK();  // the handler reports the type error
    }
    if (auto ids = req.body["cursors"]; ids.IsArray()) {
      for (const auto& e : ids.Obj()) {
        auto value = e.IsNumber() ? e.ExactInt64() : std::nullopt;
        if (value) BROOK_RETURN_IF_ERROR(CheckCursorOwner(op, req, *value));
      }
    }
    return Status::OK();
  }
  if (name == "listDatabases") {
    // Any user may list; the handler shows only the databases the user can use unless
    // it holds listDatabases (MongoDB's authorizedDatabases).
    return Status::OK();
  }
  if (name == "listCollections") {
    if (IsAllowed(s, {Resource::Database(op.db), "listCollections"})) return Status::OK();
    // authorizedCollections with nameOnly: allowed, filtered by the handler.
    if (req.body["authorizedCollections"].Truthy() && req.body["nameOnly"].Truthy()) return Status::OK();
    return NotAuthorized(op, req);
  }
  if (IsUserAdminCommand(name)) {
    BROOK_RETURN_IF_ERROR(UserAdminNeeds(name, op, req, &needs));
  } else if (name == "aggregate") {
    AggregateNeeds(op.db, req.body, &needs);
  } else if (name == "renameCollection") {
    // Within one database: renameCollectionSameDB there (readWrite has it); across
    // databases: read and drop the source, create and fill the target.
    auto from = req.body.first();
    auto to = req.body["to"];
    if (from.type() != bson::Type::kString || to.type() != bson::Type::kString) return Status::OK();
    auto split = [](std::string_view ns) {
      size_t dot = ns.find('.');
      return dot == std::string_view::npos ? std::make_pair(std::string(ns), std::string())
                                           : std::make_pair(std::string(ns.substr(0, dot)), std::string(ns.substr(dot + 1)));
    };
    auto [from_db, from_coll] = split(from.Str());
    auto [to_db, to_coll] = split(to.Str());
    if (from_db == to_db) {
      needs.push_back({Resource::Database(from_db), "renameCollectionSameDB"});
    } else {
      needs.push_back({Resource::Namespace(from_db, from_coll), "find"});
      needs.push_back({Resource::Namespace(from_db, from_coll), "dropCollection"});
      needs.push_back({Resource::Namespace(to_db, to_coll), "insert"});
      needs.push_back({Resource::Namespace(to_db, to_coll), "createIndex"});
      needs.push_back({Resource::Namespace(to_db, to_coll), "createCollection"});
    }
    if (req.body["dropTarget"].Truthy()) needs.push_back({Resource::Namespace(to_db, to_coll), "dropCollection"});
  } else if (name == "explain") {
    auto inner = req.body.first();
    if (!inner.IsObject() || inner.Obj().empty()) return Status::OK();  // handler: shape error
    const CommandSpec* inner_spec = FindCommand(inner.Obj().first().key());
    if (!inner_spec || inner_spec->name == "explain") return Status::OK();
    CommandRequest inner_req{inner_spec->name, req.db, inner.Obj()};
    Status st = CheckAuthorization(*inner_spec, op, inner_req);
    return st.ok() ? st : NotAuthorized(op, req);
  } else if (!spec.auth_action.empty()) {
    Resource r = Resource::Database(op.db);
    if (spec.flags & kAdminOnly) {
      r = Resource::Cluster();
    } else if (CollectionCommands().count(name) && req.body.first().type() == bson::Type::kString) {
      r = Resource::Namespace(op.db, std::string(req.body.first().Str()));
    } else if (name == "serverStatus" || name == "hostInfo" || name == "killAllSessions") {
      r = Resource::Cluster();
    }
    needs.push_back({r, std::string(spec.auth_action)});
    if (name == "findAndModify" && req.body["remove"].Truthy()) needs.back().action = "remove";
    if (name == "create" && req.body["viewOn"].type() == bson::Type::kString) {
      // A view may only expose what its creator can read.
      needs.push_back({Resource::Namespace(op.db, std::string(req.body["viewOn"].Str())), "find"});
      bool unused = false;
      bson::View unused_spec;
      if (auto p = req.body["pipeline"]; p.IsArray()) PipelineNeeds(op.db, p.Obj(), &needs, &unused, &unused_spec);
    }
    if (name == "findAndModify" && req.body["upsert"].Truthy()) needs.push_back({r, "insert"});
    if (name == "update") {
      if (auto ups = req.body["updates"]; ups.IsArray()) {
        for (const auto& u : ups.Obj()) {
          if (u.IsObject() && u.Obj()["upsert"].Truthy()) {
            needs.push_back({r, "insert"});
            break;
          }
        }
      }
    }
  }
  for (const auto& n : needs) {
    if (!IsAllowed(s, n)) return NotAuthorized(op, req);
  }
  return Status::OK();
}

void StampCursorOwner(OperationContext& op, int64_t cursor_id) {
  AuthManager* mgr = op.service().auth;
  if (!mgr || !mgr->enabled() || cursor_id == 0 || !op.service().cursors) return;
  op.service().cursors->StampUser(cursor_id, SessionOf(op).UserId());
}

void NoteAuthDataWrite(const CommandSpec& spec, OperationContext& op, const CommandRequest& req) {
  AuthManager* mgr = op.service().auth;
  if (!mgr || op.db != kAdminDb || (spec.flags & kReadOnly)) return;
  auto target = req.body.first();
  bool touches = spec.name == "dropDatabase" || spec.name == "renameCollection" ||
                 (target.type() == bson::Type::kString &&
                  (target.Str() == kSystemUsers || target.Str() == kSystemRoles));
  if (touches) mgr->Invalidate();
}

bool IsAuthorizedFor(OperationContext& op, const auth::Resource& resource, std::string_view action) {
  AuthManager* mgr = op.service().auth;
  if (!mgr || !mgr->enabled()) return true;
  return auth::IsAuthorized(SessionOf(op).privileges, resource, action);
}

bool CanSeeDatabase(OperationContext& op, std::string_view db) {
  AuthManager* mgr = op.service().auth;
  if (!mgr || !mgr->enabled()) return true;
  return auth::HasAnyPrivilegeOnDb(SessionOf(op).privileges, db);
}

bool CanSeeCollection(OperationContext& op, std::string_view db, std::string_view coll) {
  AuthManager* mgr = op.service().auth;
  if (!mgr || !mgr->enabled()) return true;
  return auth::HasAnyPrivilegeOnNamespace(SessionOf(op).privileges, db, coll);
}

}  // namespace brook::commands
