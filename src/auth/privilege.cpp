#include "auth/privilege.h"

#include <initializer_list>

namespace brook::auth {
namespace {

using Actions = std::vector<std::string_view>;

// Action sets of MongoDB's built-in roles, restricted to what Brook's commands check.
const Actions kReadActions = {"changeStream", "collStats", "dbHash", "dbStats", "find",
                                  "killCursors", "listCollections", "listIndexes",
                                  "listSearchIndexes"};
const Actions kWriteActions = {"convertToCapped", "createCollection", "createIndex",
                                   "dropCollection", "dropIndex", "insert", "remove",
                                   "renameCollectionSameDB", "update"};
const Actions kDbAdminActions = {
    "bypassDocumentValidation", "collMod", "collStats", "compact", "convertToCapped",
    "createCollection", "createIndex", "dbStats", "dropCollection", "dropDatabase", "dropIndex",
    "enableProfiler", "listCollections", "listIndexes", "planCacheRead", "planCacheWrite",
    "reIndex", "renameCollectionSameDB", "validate"};
const Actions kUserAdminActions = {"changeCustomData", "changePassword", "createRole",
                                       "createUser", "dropRole", "dropUser", "grantRole",
                                       "revokeRole", "viewRole", "viewUser"};
const Actions kClusterMonitorCluster = {
    "connPoolStats", "getCmdLineOpts", "getDefaultRWConcern", "getLog", "getParameter",
    "hostInfo", "inprog", "listDatabases", "listSessions", "netstat", "replSetGetConfig",
    "replSetGetStatus", "serverStatus", "top"};
const Actions kClusterMonitorAnyDb = {"collStats", "dbStats", "indexStats"};
// hostManager, clusterManager, backup and restore: MongoDB 7.0's lists (builtin_roles.yml),
// whole, so rolesInfo shows what MongoDB shows; time-series buckets (any_system_buckets)
// are left out because Brook has none.
const Actions kHostManagerCluster = {
    "applicationMessage", "auditConfigure", "connPoolSync", "dropConnections", "logRotate",
    "oidReset", "setParameter", "shutdown", "touch", "unlock", "flushRouterConfig", "fsync",
    "invalidateUserCache", "killAnyCursor", "killAnySession", "killop", "replSetResizeOplog",
    "resync", "trafficRecord", "rotateCertificates", "oidcListKeys", "oidcRefreshKeys"};
const Actions kHostManagerAnyDb = {"killCursors"};
const Actions kClusterManagerCluster = {
    "appendOplogNote", "applicationMessage", "replSetConfigure", "replSetGetConfig",
    "replSetGetStatus", "replSetStateChange", "resync", "addShard", "removeShard",
    "listSessions", "listShards", "flushRouterConfig", "cleanupOrphaned", "getDefaultRWConcern",
    "runTenantMigration", "setDefaultRWConcern", "setFeatureCompatibilityVersion",
    "setClusterParameter", "getClusterParameter", "setChangeStreamState", "getChangeStreamState",
    "querySettings", "queryStatsRead", "queryStatsReadTransformed", "checkMetadataConsistency",
    "transitionFromDedicatedConfigServer", "transitionToDedicatedConfigServer"};
const Actions kClusterManagerAnyDb = {"analyzeShardKey", "configureQueryAnalyzer", "clearJumboFlag",
                                      "splitChunk", "moveChunk", "moveCollection", "enableSharding",
                                      "splitVector", "refineCollectionShardKey", "reshardCollection"};
const Actions kClusterManagerWrites = {"insert", "update", "remove"};
// MongoDB's full read action set (the read role inherited by clusterManager on config, and
// what clusterManager gets on local.system.replset / system.healthlog).
const Actions kFullReadActions = {"changeStream", "collStats", "dbHash", "dbStats", "find",
                                  "killCursors", "listCollections", "listIndexes",
                                  "listSearchIndexes", "planCacheRead"};
const Actions kRestoreWrites = {"bypassDocumentValidation", "collMod", "convertToCapped",
                                "createCollection", "createIndex", "createSearchIndexes",
                                "dropCollection", "insert", "updateSearchIndex"};
const Actions kFullUserAdminActions = {"changeCustomData", "changePassword", "createUser",
                                       "createRole", "dropUser", "dropRole", "grantRole",
                                       "revokeRole", "setAuthenticationRestriction", "viewUser",
                                       "viewRole"};

Privilege Make(ResourcePattern::Kind kind, std::string db, std::string coll,
               std::initializer_list<Actions> sets) {
  Privilege p{{kind, std::move(db), std::move(coll)}, {}};
  for (const auto& s : sets) {
    for (auto a : s) p.actions.emplace(a);
  }
  return p;
}

bool IsNormalCollection(std::string_view coll) {
  // system.views and system.js are user-visible in MongoDB's read/readWrite roles.
  if (coll.rfind("system.", 0) != 0) return true;
  return coll == "system.views" || coll == "system.js";
}

Status BadRole(std::string msg) { return Status(ErrorCodes::kBadValue, std::move(msg)); }

void AddHostManager(std::vector<Privilege>* out) {
  using K = ResourcePattern::Kind;
  MergePrivilege(out, Make(K::kCluster, "", "", {kHostManagerCluster}));
  MergePrivilege(out, Make(K::kAnyNormal, "", "", {kHostManagerAnyDb}));
}

void AddClusterManager(std::vector<Privilege>* out) {
  using K = ResourcePattern::Kind;
  MergePrivilege(out, Make(K::kCluster, "", "", {kClusterManagerCluster}));
  MergePrivilege(out, Make(K::kAnyNormal, "", "", {kClusterManagerAnyDb}));
  // The read role on config, which MongoDB's clusterManager inherits, and writes there and
  // in local (sharding and replication metadata).
  MergePrivilege(out, Make(K::kDatabase, "config", "", {kClusterManagerAnyDb, kFullReadActions, kClusterManagerWrites}));
  MergePrivilege(out, Make(K::kExactNamespace, "config", "system.js", {kFullReadActions}));
  MergePrivilege(out, Make(K::kDatabase, "local", "", {kClusterManagerAnyDb, kClusterManagerWrites}));
  MergePrivilege(out, Make(K::kExactNamespace, "local", "system.replset", {kFullReadActions}));
  MergePrivilege(out, Make(K::kExactNamespace, "local", "system.healthlog", {kFullReadActions}));
  for (const char* c : {"replset.election", "replset.minvalid"}) {
    MergePrivilege(out, Make(K::kExactNamespace, "local", c, {kClusterManagerWrites}));
  }
  MergePrivilege(out, Make(K::kAnyResource, "", "", {{"dbCheck"}}));
}

}  // namespace

StatusWith<ResourcePattern> ResourcePattern::FromBson(bson::View doc) {
  ResourcePattern p;
  if (auto c = doc["cluster"]) {
    if (c.type() != bson::Type::kBool || !c.Bool() || doc.CountFields() != 1) {
      return Status(ErrorCodes::kBadValue, "resource: {cluster: true} must stand alone");
    }
    p.kind = Kind::kCluster;
    return p;
  }
  if (auto a = doc["anyResource"]) {
    if (a.type() != bson::Type::kBool || !a.Bool() || doc.CountFields() != 1) {
      return Status(ErrorCodes::kBadValue, "resource: {anyResource: true} must stand alone");
    }
    p.kind = Kind::kAnyResource;
    return p;
  }
  auto db = doc["db"];
  auto coll = doc["collection"];
  if (db.type() != bson::Type::kString || coll.type() != bson::Type::kString ||
      doc.CountFields() != 2) {
    return Status(ErrorCodes::kBadValue,
                  "resource must be {db: <string>, collection: <string>}, {cluster: true} or "
                  "{anyResource: true}");
  }
  p.db = std::string(db.Str());
  p.coll = std::string(coll.Str());
  if (p.db.empty()) {
    p.kind = p.coll.empty() ? Kind::kAnyNormal : Kind::kCollectionInAnyDb;
  } else {
    p.kind = p.coll.empty() ? Kind::kDatabase : Kind::kExactNamespace;
  }
  return p;
}

void ResourcePattern::AppendBson(bson::Builder* b) const {
  switch (kind) {
    case Kind::kCluster:
      b->AppendBool("cluster", true);
      return;
    case Kind::kAnyResource:
      b->AppendBool("anyResource", true);
      return;
    default:
      b->AppendString("db", db);
      b->AppendString("collection", coll);
  }
}

bool ResourcePattern::Matches(const Resource& r) const {
  using RK = Resource::Kind;
  switch (kind) {
    case Kind::kAnyResource:
      return true;
    case Kind::kCluster:
      return r.kind == RK::kCluster;
    case Kind::kAnyNormal:
      return r.kind == RK::kDatabase || (r.kind == RK::kNamespace && IsNormalCollection(r.coll));
    case Kind::kDatabase:
      return (r.kind == RK::kDatabase && r.db == db) ||
             (r.kind == RK::kNamespace && r.db == db && IsNormalCollection(r.coll));
    case Kind::kCollectionInAnyDb:
      return r.kind == RK::kNamespace && r.coll == coll;
    case Kind::kExactNamespace:
      return r.kind == RK::kNamespace && r.db == db && r.coll == coll;
  }
  return false;
}

StatusWith<std::vector<Privilege>> ParsePrivileges(bson::View array) {
  std::vector<Privilege> out;
  for (const auto& e : array) {
    if (!e.IsObject()) return Status(ErrorCodes::kBadValue, "each privilege must be a document");
    auto res = e.Obj()["resource"];
    auto actions = e.Obj()["actions"];
    if (!res.IsObject()) {
      return Status(ErrorCodes::kFailedToParse, "privilege is missing its 'resource' document");
    }
    if (!actions.IsArray()) {
      return Status(ErrorCodes::kFailedToParse, "privilege is missing its 'actions' array");
    }
    auto pattern = ResourcePattern::FromBson(res.Obj());
    if (!pattern.ok()) return pattern.status();
    Privilege p{pattern.value(), {}};
    for (const auto& a : actions.Obj()) {
      if (a.type() != bson::Type::kString) {
        return Status(ErrorCodes::kBadValue, "privilege actions must be strings");
      }
      p.actions.emplace(a.Str());
    }
    MergePrivilege(&out, p);
  }
  return out;
}

void AppendPrivileges(bson::Builder* array, const std::vector<Privilege>& privileges) {
  std::string scratch;
  size_t i = 0;
  for (const auto& p : privileges) {
    array->OpenDocument(bson::ArrayKey(i++, &scratch));
    array->OpenDocument("resource");
    p.resource.AppendBson(array);
    array->Close();
    array->OpenArray("actions");
    size_t k = 0;
    std::string s2;
    for (const auto& a : p.actions) array->AppendString(bson::ArrayKey(k++, &s2), a);
    array->Close();
    array->Close();
  }
}

void MergePrivilege(std::vector<Privilege>* set, const Privilege& p) {
  for (auto& existing : *set) {
    if (existing.resource == p.resource) {
      existing.actions.insert(p.actions.begin(), p.actions.end());
      return;
    }
  }
  set->push_back(p);
}

void SubtractPrivilege(std::vector<Privilege>* set, const Privilege& p) {
  for (auto it = set->begin(); it != set->end(); ++it) {
    if (!(it->resource == p.resource)) continue;
    for (const auto& a : p.actions) it->actions.erase(a);
    if (it->actions.empty()) set->erase(it);
    return;
  }
}

StatusWith<RoleName> ParseRoleName(const bson::Element& e, std::string_view default_db) {
  if (e.type() == bson::Type::kString) {
    if (e.Str().empty()) return BadRole("Role names cannot be empty");
    return RoleName{std::string(e.Str()), std::string(default_db)};
  }
  if (!e.IsObject()) {
    return BadRole("Role names must be either strings or objects");
  }
  auto role = e.Obj()["role"];
  auto db = e.Obj()["db"];
  if (role.type() != bson::Type::kString || db.type() != bson::Type::kString) {
    return BadRole("Role objects must have a 'role' string and a 'db' string");
  }
  if (role.Str().empty() || db.Str().empty()) return BadRole("Role names cannot be empty");
  return RoleName{std::string(role.Str()), std::string(db.Str())};
}

StatusWith<std::vector<RoleName>> ParseRoleNames(const bson::Element& array, std::string_view default_db) {
  if (!array.IsArray()) return Status(ErrorCodes::kBadValue, "roles must be an array");
  std::vector<RoleName> out;
  for (const auto& e : array.Obj()) {
    auto r = ParseRoleName(e, default_db);
    if (!r.ok()) return r.status();
    bool dup = false;
    for (const auto& x : out) dup |= x == r.value();
    if (!dup) out.push_back(std::move(r.value()));
  }
  return out;
}

void AppendRoleNames(bson::Builder* array, const std::vector<RoleName>& roles) {
  std::string scratch;
  size_t i = 0;
  for (const auto& r : roles) {
    array->OpenDocument(bson::ArrayKey(i++, &scratch));
    array->AppendString("role", r.role);
    array->AppendString("db", r.db);
    array->Close();
  }
}

std::vector<std::string> BuiltinRoleNames(std::string_view db) {
  std::vector<std::string> names = {"dbAdmin", "dbOwner", "read", "readWrite", "userAdmin"};
  if (db == "admin") {
    for (const char* n : {"backup", "clusterAdmin", "clusterManager", "clusterMonitor",
                          "dbAdminAnyDatabase", "hostManager", "readAnyDatabase",
                          "readWriteAnyDatabase", "restore", "root", "userAdminAnyDatabase"}) {
      names.emplace_back(n);
    }
  }
  return names;
}

bool IsBuiltinRole(const RoleName& role) {
  for (const auto& n : BuiltinRoleNames(role.db)) {
    if (n == role.role) return true;
  }
  return false;
}

std::vector<Privilege> BuiltinRolePrivileges(const RoleName& role) {
  using K = ResourcePattern::Kind;
  if (!IsBuiltinRole(role)) return {};
  const std::string& r = role.role;
  const std::string& db = role.db;
  std::vector<Privilege> out;
  if (r == "read") {
    out.push_back(Make(K::kDatabase, db, "", {kReadActions}));
  } else if (r == "readWrite") {
    out.push_back(Make(K::kDatabase, db, "", {kReadActions, kWriteActions}));
  } else if (r == "dbAdmin") {
    out.push_back(Make(K::kDatabase, db, "", {kDbAdminActions}));
    out.push_back(Make(K::kExactNamespace, db, "system.profile", {{"find", "collStats", "dbStats", "dropCollection"}}));
  } else if (r == "userAdmin") {
    out.push_back(Make(K::kDatabase, db, "", {kUserAdminActions}));
  } else if (r == "dbOwner") {
    out.push_back(Make(K::kDatabase, db, "", {kReadActions, kWriteActions, kDbAdminActions, kUserAdminActions}));
  } else if (r == "readAnyDatabase") {
    out.push_back(Make(K::kAnyNormal, "", "", {kReadActions}));
    out.push_back(Make(K::kCluster, "", "", {{"listDatabases"}}));
  } else if (r == "readWriteAnyDatabase") {
    out.push_back(Make(K::kAnyNormal, "", "", {kReadActions, kWriteActions}));
    out.push_back(Make(K::kCluster, "", "", {{"listDatabases"}}));
  } else if (r == "dbAdminAnyDatabase") {
    out.push_back(Make(K::kAnyNormal, "", "", {kDbAdminActions}));
    out.push_back(Make(K::kCluster, "", "", {{"listDatabases"}}));
  } else if (r == "userAdminAnyDatabase") {
    out.push_back(Make(K::kAnyNormal, "", "", {kUserAdminActions}));
    out.push_back(Make(K::kCluster, "", "", {{"listDatabases", "invalidateUserCache", "viewUser", "viewRole"}}));
  } else if (r == "clusterMonitor") {
    out.push_back(Make(K::kCluster, "", "", {kClusterMonitorCluster}));
    out.push_back(Make(K::kAnyNormal, "", "", {kClusterMonitorAnyDb}));
  } else if (r == "hostManager") {
    AddHostManager(&out);
  } else if (r == "clusterManager") {
    AddClusterManager(&out);
  } else if (r == "clusterAdmin") {
    // MongoDB: clusterMonitor + hostManager + clusterManager, plus these.
    out.push_back(Make(K::kCluster, "", "", {kClusterMonitorCluster}));
    out.push_back(Make(K::kAnyNormal, "", "", {kClusterMonitorAnyDb, {"dropDatabase"}}));
    AddHostManager(&out);
    AddClusterManager(&out);
    MergePrivilege(&out, Make(K::kAnyResource, "", "", {{"importCollection", "exportCollection"}}));
  } else if (r == "backup") {
    // MongoDB's backup role with its __queryableBackup base: read everything a dump needs
    // (the oplog in local included), and nothing else.
    MergePrivilege(&out, Make(K::kAnyResource, "", "",
                              {{"collStats", "listCollections", "listIndexes", "listSearchIndexes"}}));
    MergePrivilege(&out, Make(K::kAnyNormal, "", "", {{"find"}}));
    MergePrivilege(&out, Make(K::kCluster, "", "",
                              {{"getParameter", "listDatabases", "useUUID", "appendOplogNote",
                                "serverStatus", "setUserWriteBlockMode"}}));
    for (const char* d : {"config", "local"}) MergePrivilege(&out, Make(K::kDatabase, d, "", {{"find"}}));
    for (const char* c : {"replset.election", "replset.minvalid"}) {
      MergePrivilege(&out, Make(K::kExactNamespace, "local", c, {{"find"}}));
    }
    for (const char* c : {"system.js", "system.users", "system.profile"}) {
      MergePrivilege(&out, Make(K::kCollectionInAnyDb, "", c, {{"find"}}));
    }
    for (const char* c : {"system.backup_users", "system.roles", "system.version"}) {
      MergePrivilege(&out, Make(K::kExactNamespace, "admin", c, {{"find"}}));
    }
    MergePrivilege(&out, Make(K::kExactNamespace, "config", "settings", {{"find", "insert", "update"}}));
  } else if (r == "restore") {
    // Write what a dump holds (never read it back: no find on ordinary collections),
    // including users and roles.
    MergePrivilege(&out, Make(K::kCluster, "", "",
                              {{"getParameter", "forceUUID", "useUUID", "bypassWriteBlockingMode",
                                "setUserWriteBlockMode", "applyOps"}}));
    for (const char* d : {"local", "config"}) MergePrivilege(&out, Make(K::kDatabase, d, "", {kRestoreWrites}));
    for (const char* c : {"system.replset", "replset.election", "replset.minvalid"}) {
      MergePrivilege(&out, Make(K::kExactNamespace, "local", c, {kRestoreWrites}));
    }
    MergePrivilege(&out, Make(K::kAnyResource, "", "", {{"listCollections"}}));
    MergePrivilege(&out, Make(K::kAnyNormal, "", "", {kRestoreWrites, kFullUserAdminActions}));
    MergePrivilege(&out, Make(K::kCollectionInAnyDb, "", "system.js", {kRestoreWrites}));
    for (const char* c : {"tempusers", "temproles"}) {
      MergePrivilege(&out, Make(K::kExactNamespace, "admin", c, {{"find"}}));
    }
    MergePrivilege(&out, Make(K::kExactNamespace, "admin", "system.backup_users", {kRestoreWrites}));
    MergePrivilege(&out, Make(K::kExactNamespace, "admin", "system.version", {kRestoreWrites, {"find"}}));
    MergePrivilege(&out, Make(K::kCollectionInAnyDb, "", "system.users",
                              {kRestoreWrites, {"find", "update", "remove"}}));
    MergePrivilege(&out, Make(K::kExactNamespace, "admin", "system.roles", {{"createIndex"}}));
  } else if (r == "root") {
    out.push_back(Make(K::kAnyResource, "", "", {{kAnyAction}}));
  }
  return out;
}

bool IsAuthorized(const std::vector<Privilege>& privileges, const Resource& resource,
                  std::string_view action) {
  for (const auto& p : privileges) {
    if (!p.resource.Matches(resource)) continue;
    if (p.actions.count(std::string(kAnyAction)) || p.actions.count(std::string(action))) return true;
  }
  return false;
}

bool HasAnyPrivilegeOnDb(const std::vector<Privilege>& privileges, std::string_view db) {
  using K = ResourcePattern::Kind;
  for (const auto& p : privileges) {
    if (p.actions.empty()) continue;
    switch (p.resource.kind) {
      case K::kAnyResource:
      case K::kAnyNormal:
      case K::kCollectionInAnyDb:
        return true;
      case K::kDatabase:
      case K::kExactNamespace:
        if (p.resource.db == db) return true;
        break;
      case K::kCluster:
        break;
    }
  }
  return false;
}

bool HasAnyPrivilegeOnNamespace(const std::vector<Privilege>& privileges, std::string_view db,
                                std::string_view coll) {
  Resource r = Resource::Namespace(std::string(db), std::string(coll));
  for (const auto& p : privileges) {
    if (!p.actions.empty() && p.resource.Matches(r)) return true;
  }
  return false;
}

}  // namespace brook::auth
