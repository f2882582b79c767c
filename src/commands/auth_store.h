#pragma once
// Writes to admin.system.users / admin.system.roles for the user and role commands,
// through the ordinary document path (one oplog entry each, like MongoDB). Every write
// bumps the AuthManager generation so logged-in connections re-resolve privileges.
// Thread-safety: as the write path (one command's thread).

#include <string>
#include <string_view>

#include "bson/document.h"
#include "util/status.h"

namespace brook::commands {

class OperationContext;

// DuplicateKey (11000) when `doc`'s _id exists; the caller words its own error.
Status InsertAuthDoc(OperationContext& op, std::string_view coll, bson::View doc);
// Replaces the document with `id`; false when there was none.
StatusWith<bool> ReplaceAuthDoc(OperationContext& op, std::string_view coll, const std::string& id, bson::View doc);
// Deletes documents matching `filter`; the number deleted.
StatusWith<int64_t> DeleteAuthDocs(OperationContext& op, std::string_view coll, bson::View filter);

// The role/user list argument shapes shared by usersInfo and rolesInfo: a name, a
// {user|role, db} document or an array of them.
bson::Doc IdInFilter(const std::vector<std::string>& ids);

}  // namespace brook::commands
