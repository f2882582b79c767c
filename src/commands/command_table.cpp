// The one table of every command (STYLE.md: "commands as data").
#include <unordered_map>

#include "commands/handlers.h"
#include "commands/registry.h"

namespace brook::commands {
namespace {

constexpr uint32_t kAdm = kCountsAsCommand;
constexpr uint32_t kRd = kReadOnly | kApiVersion1;
constexpr uint32_t kWr = kWrite | kApiVersion1;

const std::vector<CommandSpec>& Table() {
  static const auto* table = new std::vector<CommandSpec>{
      // name, aliases, handler, flags, auth action, help
      {"hello", {"isMaster", "ismaster"}, HandleHello, kAdm | kNoAuthRequired | kApiVersion1, "", "topology and capabilities of this server"},
      {"ping", {}, HandlePing, kAdm | kNoAuthRequired | kApiVersion1, "", "liveness check"},
      {"buildInfo", {"buildinfo"}, HandleBuildInfo, kAdm | kNoAuthRequired, "", "version and build details"},
      {"getParameter", {}, HandleGetParameter, kAdm | kAdminOnly, "getParameter", "read server parameters"},
      {"setParameter", {}, HandleSetParameter, kAdm | kAdminOnly, "setParameter", "change runtime server parameters"},
      {"setClusterParameter", {}, HandleSetClusterParameter, kAdm | kAdminOnly, "setClusterParameter", "change cluster-wide parameters (changeStreamOptions)"},
      {"getClusterParameter", {}, HandleGetClusterParameter, kAdm | kAdminOnly, "getClusterParameter", "read cluster-wide parameters"},
      {"serverStatus", {}, HandleServerStatus, kAdm, "serverStatus", "server statistics"},
      {"hostInfo", {}, HandleHostInfo, kAdm, "hostInfo", "host machine details"},
      {"connectionStatus", {}, HandleConnectionStatus, kAdm | kNoAuthRequired, "", "this connection's authentication state"},
      {"whatsmyuri", {}, HandleWhatsMyUri, kAdm | kNoAuthRequired, "", "the client's address as the server sees it"},
      {"getLog", {}, HandleGetLog, kAdm | kAdminOnly, "getLog", "recent log lines"},
      {"getCmdLineOpts", {}, HandleGetCmdLineOpts, kAdm | kAdminOnly, "getCmdLineOpts", "startup options"},
      {"listCommands", {}, HandleListCommands, kAdm | kNoAuthRequired, "", "every command this server answers"},
      {"replSetGetStatus", {}, HandleReplSetGetStatus, kAdm | kAdminOnly, "replSetGetStatus", "replica set member states"},
      {"endSessions", {}, HandleEndSessions, kAdm | kApiVersion1 | kNoAuthRequired, "", "end logical sessions"},
      {"killSessions", {}, HandleKillSessions, kAdm, "", "kill logical sessions and their operations"},
      {"commitTransaction", {}, HandleCommitTransaction, kAdm | kAdminOnly | kApiVersion1, "", "commit the session's multi-document transaction"},
      {"abortTransaction", {}, HandleAbortTransaction, kAdm | kAdminOnly | kApiVersion1, "", "abort the session's multi-document transaction"},
      {"killAllSessions", {}, HandleKillAllSessions, kAdm, "killAnySession", "kill every logical session"},
      {"refreshSessions", {}, HandleRefreshSessions, kAdm | kApiVersion1, "", "keep logical sessions alive"},
      {"getDefaultRWConcern", {}, HandleGetDefaultRWConcern, kAdm | kAdminOnly, "getDefaultRWConcern", "default read and write concerns"},
      {"fsync", {}, HandleFsync, kAdm | kAdminOnly, "fsync", "flush every write to disk"},
      {"saslStart", {}, HandleSaslStart, kAdm | kNoAuthRequired | kApiVersion1, "", "begin a SASL (SCRAM) authentication"},
      {"saslContinue", {}, HandleSaslContinue, kAdm | kNoAuthRequired | kApiVersion1, "", "continue a SASL (SCRAM) authentication"},
      {"logout", {}, HandleLogout, kAdm | kNoAuthRequired, "", "log out of this connection"},
      {"createUser", {}, HandleCreateUser, kAdm, "createUser", "create a user"},
      {"updateUser", {}, HandleUpdateUser, kAdm, "changePassword", "change a user's password, roles or custom data"},
      {"dropUser", {}, HandleDropUser, kAdm, "dropUser", "drop a user"},
      {"dropAllUsersFromDatabase", {}, HandleDropAllUsersFromDatabase, kAdm, "dropUser", "drop every user of a database"},
      {"usersInfo", {}, HandleUsersInfo, kAdm, "viewUser", "describe users"},
      {"createRole", {}, HandleCreateRole, kAdm, "createRole", "create a user-defined role"},
      {"updateRole", {}, HandleUpdateRole, kAdm, "grantRole", "replace a role's privileges or roles"},
      {"dropRole", {}, HandleDropRole, kAdm, "dropRole", "drop a user-defined role"},
      {"dropAllRolesFromDatabase", {}, HandleDropAllRolesFromDatabase, kAdm, "dropRole", "drop every user-defined role of a database"},
      {"rolesInfo", {}, HandleRolesInfo, kAdm, "viewRole", "describe roles"},
      {"grantRolesToUser", {}, HandleGrantRolesToUser, kAdm, "grantRole", "grant roles to a user"},
      {"revokeRolesFromUser", {}, HandleRevokeRolesFromUser, kAdm, "revokeRole", "revoke roles from a user"},
      {"grantRolesToRole", {}, HandleGrantRolesToRole, kAdm, "grantRole", "grant roles to a role"},
      {"revokeRolesFromRole", {}, HandleRevokeRolesFromRole, kAdm, "revokeRole", "revoke roles from a role"},
      {"grantPrivilegesToRole", {}, HandleGrantPrivilegesToRole, kAdm, "grantRole", "grant privileges to a role"},
      {"revokePrivilegesFromRole", {}, HandleRevokePrivilegesFromRole, kAdm, "revokeRole", "revoke privileges from a role"},
      {"configureFailPoint", {}, HandleConfigureFailPoint, kAdm | kAdminOnly | kTestOnly, "configureFailPoint", "test only: inject failures"},

      {"insert", {}, HandleInsert, kWr | kAllowedInTransaction, "insert", "insert documents"},
      {"update", {}, HandleUpdate, kWr | kAllowedInTransaction, "update", "update documents"},
      {"delete", {}, HandleDelete, kWr | kAllowedInTransaction, "remove", "delete documents"},
      {"find", {}, HandleFind, kRd | kAllowedInTransaction, "find", "query documents"},
      {"getMore", {}, HandleGetMore, kRd | kAllowedInTransaction, "find", "next batch of a cursor"},
      {"killCursors", {}, HandleKillCursors, kAdm | kApiVersion1 | kAllowedInTransaction, "killCursors", "close cursors"},
      {"findAndModify", {"findandmodify"}, HandleFindAndModify, kWr | kAllowedInTransaction, "update", "modify one document and return it"},
      {"count", {}, HandleCount, kRd, "find", "count matching documents"},
      {"distinct", {}, HandleDistinct, kRd | kAllowedInTransaction, "find", "distinct values of a field"},
      {"aggregate", {}, HandleAggregate, kRd | kAllowedInTransaction, "find", "run an aggregation pipeline"},
      {"explain", {}, HandleExplain, kAdm | kReadOnly, "find", "describe how a command would run"},

      {"create", {}, HandleCreate, kAdm | kApiVersion1 | kAllowedInTransaction, "createCollection", "create a collection"},
      {"drop", {}, HandleDrop, kAdm | kApiVersion1, "dropCollection", "drop a collection"},
      {"dropDatabase", {}, HandleDropDatabase, kAdm | kApiVersion1, "dropDatabase", "drop a database"},
      {"renameCollection", {}, HandleRenameCollection, kAdm | kAdminOnly, "renameCollectionSameDB", "rename a collection"},
      {"listDatabases", {}, HandleListDatabases, kAdm | kAdminOnly | kApiVersion1, "listDatabases", "list databases"},
      {"listCollections", {}, HandleListCollections, kAdm | kApiVersion1, "listCollections", "list collections"},
      {"collMod", {}, HandleCollMod, kAdm | kApiVersion1, "collMod", "change collection options"},
      {"dbStats", {"dbstats"}, HandleDbStats, kAdm, "dbStats", "database statistics"},
      {"collStats", {}, HandleCollStats, kAdm, "collStats", "collection statistics"},
      {"createIndexes", {}, HandleCreateIndexes, kAdm | kApiVersion1 | kAllowedInTransaction, "createIndex", "build indexes"},
      {"listIndexes", {}, HandleListIndexes, kAdm | kApiVersion1, "listIndexes", "list indexes"},
      {"dropIndexes", {"deleteIndexes"}, HandleDropIndexes, kAdm | kApiVersion1, "dropIndex", "drop indexes"},
  };
  return *table;
}

}  // namespace

const std::vector<CommandSpec>& AllCommands() { return Table(); }

const CommandSpec* FindCommand(std::string_view name) {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string_view, const CommandSpec*>();
    for (const auto& spec : Table()) {
      m->emplace(spec.name, &spec);
      for (auto alias : spec.aliases) m->emplace(alias, &spec);
    }
    return m;
  }();
  auto it = index->find(name);
  return it == index->end() ? nullptr : it->second;
}

}  // namespace brook::commands
