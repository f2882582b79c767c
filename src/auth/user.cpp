#include "auth/user.h"

#include "bson/builder.h"

namespace brook::auth {
namespace {

Status Corrupt(std::string what) {
  return Status(ErrorCodes::kUnsupportedFormat, "invalid user document: " + std::move(what));
}

}  // namespace

std::vector<std::string> UserRecord::Mechanisms() const {
  std::vector<std::string> out;
  for (const auto& [mech, cred] : credentials) out.push_back(mech);
  return out;
}

StatusWith<UserRecord> ParseUserDocument(bson::View doc) {
  UserRecord u;
  auto user = doc["user"];
  auto db = doc["db"];
  if (user.type() != bson::Type::kString || db.type() != bson::Type::kString) {
    return Corrupt("missing user or db");
  }
  u.name = {std::string(user.Str()), std::string(db.Str())};
  if (auto id = doc["userId"]; id.type() == bson::Type::kBinary) u.user_id = std::string(id.Bin().bytes);
  if (auto creds = doc["credentials"]; creds.IsObject()) {
    for (const auto& c : creds.Obj()) {
      if (!MechanismAlg(c.key()) || !c.IsObject()) continue;
      auto v = c.Obj();
      ScramCredential sc;
      auto iters = v["iterationCount"];
      if (!iters.IsNumber() || v["salt"].type() != bson::Type::kString ||
          v["storedKey"].type() != bson::Type::kString || v["serverKey"].type() != bson::Type::kString) {
        return Corrupt("bad " + std::string(c.key()) + " credential");
      }
      sc.iteration_count = static_cast<int>(iters.NumberInt64());
      sc.salt = std::string(v["salt"].Str());
      sc.stored_key = std::string(v["storedKey"].Str());
      sc.server_key = std::string(v["serverKey"].Str());
      u.credentials.emplace(std::string(c.key()), std::move(sc));
    }
  }
  if (auto roles = doc["roles"]) {
    auto parsed = ParseRoleNames(roles, u.name.db);
    if (!parsed.ok()) return Corrupt(parsed.status().reason());
    u.roles = std::move(parsed.value());
  }
  if (auto cd = doc["customData"]; cd.IsObject()) u.custom_data = bson::Doc::CopyOf(cd.Obj());
  return u;
}

bson::Doc UserDocument(const UserRecord& u) {
  bson::Builder b;
  b.AppendString("_id", u.name.Id());
  if (!u.user_id.empty()) b.AppendBinary("userId", 4, u.user_id);
  b.AppendString("user", u.name.user);
  b.AppendString("db", u.name.db);
  b.OpenDocument("credentials");
  for (const auto& [mech, c] : u.credentials) {
    b.OpenDocument(mech);
    b.AppendInt32("iterationCount", c.iteration_count);
    b.AppendString("salt", c.salt);
    b.AppendString("storedKey", c.stored_key);
    b.AppendString("serverKey", c.server_key);
    b.Close();
  }
  b.Close();
  b.OpenArray("roles");
  AppendRoleNames(&b, u.roles);
  b.Close();
  if (u.custom_data) b.AppendDocument("customData", *u.custom_data);
  return b.Done();
}

}  // namespace brook::auth
