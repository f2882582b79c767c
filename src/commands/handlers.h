#pragma once
// Declarations of every command handler, grouped by the family file that defines it.
// The table in command_table.cpp refers to these; see registry.h for the signature.

#include "commands/registry.h"

namespace brook::commands {

#define BROOK_HANDLER(name) Status name(OperationContext& op, const CommandRequest& req, bson::Builder* reply)

// hello.cpp
BROOK_HANDLER(HandleHello);  // hello, isMaster, ismaster

// admin.cpp
BROOK_HANDLER(HandlePing);
BROOK_HANDLER(HandleBuildInfo);
BROOK_HANDLER(HandleGetParameter);
BROOK_HANDLER(HandleSetParameter);

// cluster_parameters.cpp
BROOK_HANDLER(HandleSetClusterParameter);
BROOK_HANDLER(HandleGetClusterParameter);
BROOK_HANDLER(HandleServerStatus);
BROOK_HANDLER(HandleHostInfo);
BROOK_HANDLER(HandleConnectionStatus);
BROOK_HANDLER(HandleWhatsMyUri);
BROOK_HANDLER(HandleGetLog);
BROOK_HANDLER(HandleGetCmdLineOpts);
BROOK_HANDLER(HandleListCommands);
BROOK_HANDLER(HandleReplSetGetStatus);
BROOK_HANDLER(HandleEndSessions);
BROOK_HANDLER(HandleKillSessions);
BROOK_HANDLER(HandleCommitTransaction);
BROOK_HANDLER(HandleAbortTransaction);
BROOK_HANDLER(HandleRefreshSessions);
BROOK_HANDLER(HandleKillAllSessions);
BROOK_HANDLER(HandleGetDefaultRWConcern);
BROOK_HANDLER(HandleFsync);

// test_commands.cpp (enableTestCommands only)
BROOK_HANDLER(HandleConfigureFailPoint);

// crud.cpp / find_cmd.cpp / aggregate_cmd.cpp / cursors.cpp
BROOK_HANDLER(HandleInsert);
BROOK_HANDLER(HandleUpdate);
BROOK_HANDLER(HandleDelete);
BROOK_HANDLER(HandleFind);
BROOK_HANDLER(HandleGetMore);
BROOK_HANDLER(HandleKillCursors);
BROOK_HANDLER(HandleFindAndModify);
BROOK_HANDLER(HandleCount);
BROOK_HANDLER(HandleDistinct);
BROOK_HANDLER(HandleAggregate);
BROOK_HANDLER(HandleExplain);

// catalog_cmds.cpp
BROOK_HANDLER(HandleCreate);
BROOK_HANDLER(HandleDrop);
BROOK_HANDLER(HandleDropDatabase);
BROOK_HANDLER(HandleRenameCollection);
BROOK_HANDLER(HandleListDatabases);
BROOK_HANDLER(HandleListCollections);
BROOK_HANDLER(HandleCollMod);
BROOK_HANDLER(HandleDbStats);
BROOK_HANDLER(HandleCollStats);
BROOK_HANDLER(HandleCreateIndexes);
BROOK_HANDLER(HandleListIndexes);
BROOK_HANDLER(HandleDropIndexes);

// auth_cmds.cpp
BROOK_HANDLER(HandleSaslStart);
BROOK_HANDLER(HandleSaslContinue);
BROOK_HANDLER(HandleLogout);

// user_cmds.cpp
BROOK_HANDLER(HandleCreateUser);
BROOK_HANDLER(HandleUpdateUser);
BROOK_HANDLER(HandleDropUser);
BROOK_HANDLER(HandleDropAllUsersFromDatabase);
BROOK_HANDLER(HandleUsersInfo);

// role_cmds.cpp
BROOK_HANDLER(HandleCreateRole);
BROOK_HANDLER(HandleUpdateRole);
BROOK_HANDLER(HandleDropRole);
BROOK_HANDLER(HandleDropAllRolesFromDatabase);
BROOK_HANDLER(HandleRolesInfo);
BROOK_HANDLER(HandleGrantRolesToUser);
BROOK_HANDLER(HandleRevokeRolesFromUser);
BROOK_HANDLER(HandleGrantRolesToRole);
BROOK_HANDLER(HandleRevokeRolesFromRole);
BROOK_HANDLER(HandleGrantPrivilegesToRole);
BROOK_HANDLER(HandleRevokePrivilegesFromRole);

#undef BROOK_HANDLER

// hello's saslSupportedMechs and speculativeAuthenticate answers (auth_cmds.cpp).
void AppendHelloAuthFields(OperationContext& op, bson::View body, bson::Builder* reply);

}  // namespace brook::commands
