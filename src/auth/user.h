#pragma once
// A user as stored in admin.system.users, in MongoDB's document shape:
//   {_id: "<db>.<user>", userId: UUID, user, db,
//    credentials: {"SCRAM-SHA-1": {iterationCount, salt, storedKey, serverKey},
//                  "SCRAM-SHA-256": {...}},
//    roles: [{role, db}], customData?}
// On-disk fact: this shape is what MongoDB writes; tools read it. Do not change.
// Thread-safety: plain values.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/privilege.h"
#include "auth/scram.h"
#include "bson/document.h"
#include "util/status.h"

namespace brook::auth {

struct UserName {
  std::string user;
  std::string db;
  std::string Id() const { return db + "." + user; }  // the _id in system.users
  bool operator==(const UserName& o) const { return user == o.user && db == o.db; }
};

struct UserRecord {
  UserName name;
  std::string user_id;  // 16 UUID bytes
  std::map<std::string, ScramCredential> credentials;  // by mechanism name
  std::vector<RoleName> roles;
  std::optional<bson::Doc> custom_data;

  std::vector<std::string> Mechanisms() const;
};

StatusWith<UserRecord> ParseUserDocument(bson::View doc);
bson::Doc UserDocument(const UserRecord& user);

}  // namespace brook::auth
