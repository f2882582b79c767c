#pragma once
// The command table: one declarative list of every command Brook answers.
//
// Owns: command names, aliases, handlers, flags and the auth action each needs.
// listCommands, dispatch, argument checks and (later) auth checks all read this table;
// dispatch is a hash lookup, never a chain of string comparisons.
// The table itself lives in command_table.cpp; handlers live in one file per family.
// Thread-safety: the table is immutable after static initialisation.

#include <cstdint>
#include <string_view>
#include <vector>

#include "bson/builder.h"
#include "bson/document.h"
#include "util/status.h"

namespace brook::commands {

class OperationContext;

// One command as received: the body is OP_MSG section 0 with any kind-1 document
// sequences already merged in as array fields, so handlers see one document.
struct CommandRequest {
  std::string_view name;  // the first field's name, as sent (e.g. "isMaster")
  std::string_view db;    // $db
  bson::View body;
};

// A handler appends its reply fields (without ok/$clusterTime/operationTime, which the
// dispatcher adds) to `reply`, or returns an error Status (the dispatcher builds the
// error reply: ok 0, errmsg, code, codeName, errorLabels, extra info).
using Handler = Status (*)(OperationContext& op, const CommandRequest& req, bson::Builder* reply);

enum CommandFlags : uint32_t {
  kNone = 0,
  kReadOnly = 1u << 0,
  kWrite = 1u << 1,
  kAdminOnly = 1u << 2,       // must run against the admin database
  kApiVersion1 = 1u << 3,     // part of Stable API v1
  kNoAuthRequired = 1u << 4,  // hello, ping, saslStart...: allowed before login
  kAllowedInTransaction = 1u << 5,
  kTestOnly = 1u << 6,        // only with --setParameter enableTestCommands=1
  kCountsAsCommand = 1u << 7, // opcounters.command (everything but CRUD)
};

struct CommandSpec {
  std::string_view name;
  std::vector<std::string_view> aliases;
  Handler handler;
  uint32_t flags;
  std::string_view auth_action;  // MongoDB privilege action, e.g. "find", "insert"
  std::string_view help;
};

// Looks a command up by name or alias (exact, case-sensitive as MongoDB). nullptr if none.
const CommandSpec* FindCommand(std::string_view name);
// All commands, in table order.
const std::vector<CommandSpec>& AllCommands();

}  // namespace brook::commands
