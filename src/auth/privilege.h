#pragma once
// Privileges, resources and MongoDB's built-in roles.
//
// Owns: resource patterns ({db, collection} with "" as wildcard, {cluster: true},
// {anyResource: true}), the match rules between a pattern and a concrete resource,
// and the action sets of the built-in roles for the commands Brook implements.
// Matching follows MongoDB: {db: "d", collection: ""} covers database d and its normal
// (non-system) collections; {db: "", collection: ""} covers every normal collection and
// database; {db: "", collection: "c"} covers collection c in every database; system
// collections (system.users, system.roles, ...) need an exact pattern or anyResource.
// The action "anyAction" (root) matches every action.
// Thread-safety: immutable values and pure functions.

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bson/builder.h"
#include "bson/document.h"
#include "util/status.h"

namespace brook::auth {

inline constexpr std::string_view kAnyAction = "anyAction";

// A concrete thing a command touches.
struct Resource {
  enum class Kind { kCluster, kDatabase, kNamespace };
  Kind kind = Kind::kCluster;
  std::string db;
  std::string coll;

  static Resource Cluster() { return {Kind::kCluster, "", ""}; }
  static Resource Database(std::string db) { return {Kind::kDatabase, std::move(db), ""}; }
  static Resource Namespace(std::string db, std::string coll) {
    return {Kind::kNamespace, std::move(db), std::move(coll)};
  }
};

struct ResourcePattern {
  enum class Kind { kCluster, kAnyResource, kAnyNormal, kDatabase, kCollectionInAnyDb, kExactNamespace };
  Kind kind = Kind::kAnyNormal;
  std::string db;
  std::string coll;

  // {cluster: true} | {anyResource: true} | {db: <string>, collection: <string>}.
  static StatusWith<ResourcePattern> FromBson(bson::View doc);
  void AppendBson(bson::Builder* b) const;  // the fields of the resource document
  bool Matches(const Resource& r) const;
  bool operator==(const ResourcePattern& o) const { return kind == o.kind && db == o.db && coll == o.coll; }
};

struct Privilege {
  ResourcePattern resource;
  std::set<std::string> actions;
};

// Parses [{resource: {...}, actions: [...]}, ...]; BadValue / FailedToParse on shape errors.
StatusWith<std::vector<Privilege>> ParsePrivileges(bson::View array);
void AppendPrivileges(bson::Builder* array, const std::vector<Privilege>& privileges);
// Adds `p` to `set`, merging actions into an existing entry for the same resource.
void MergePrivilege(std::vector<Privilege>* set, const Privilege& p);
// Removes `p`'s actions from the entry for the same resource (dropping it if empty).
void SubtractPrivilege(std::vector<Privilege>* set, const Privilege& p);

struct RoleName {
  std::string role;
  std::string db;
  bool operator<(const RoleName& o) const { return role != o.role ? role < o.role : db < o.db; }
  bool operator==(const RoleName& o) const { return role == o.role && db == o.db; }
};

// A role list element: "name" (a role of `default_db`) or {role, db}.
StatusWith<RoleName> ParseRoleName(const bson::Element& e, std::string_view default_db);
StatusWith<std::vector<RoleName>> ParseRoleNames(const bson::Element& array, std::string_view default_db);
void AppendRoleNames(bson::Builder* array, const std::vector<RoleName>& roles);

bool IsBuiltinRole(const RoleName& role);
// The privileges of a built-in role; empty when `role` is not built in.
std::vector<Privilege> BuiltinRolePrivileges(const RoleName& role);
// Built-in role names valid on `db` (rolesInfo showBuiltinRoles).
std::vector<std::string> BuiltinRoleNames(std::string_view db);

// Whether any privilege allows `action` on `resource`.
bool IsAuthorized(const std::vector<Privilege>& privileges, const Resource& resource,
                  std::string_view action);
// Whether any privilege names `db` or a collection in it (listDatabases/listCollections
// filtering: MongoDB shows what a user can use at all).
bool HasAnyPrivilegeOnDb(const std::vector<Privilege>& privileges, std::string_view db);
bool HasAnyPrivilegeOnNamespace(const std::vector<Privilege>& privileges, std::string_view db,
                                std::string_view coll);

}  // namespace brook::auth
