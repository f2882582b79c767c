#pragma once
// Access control state: the user and role store, each connection's login, and the
// per-command authorization check.
//
// Owns:
//  - users in admin.system.users and user-defined roles in admin.system.roles (MongoDB's
//    document shapes, see auth/user.h), read and written through the ordinary document
//    path so they survive restarts and replicate into the oplog like MongoDB's;
//  - a generation counter bumped by every user/role change: each connection caches its
//    resolved privileges with the generation it saw and re-resolves when it moved, so a
//    grant, revoke or dropUser takes effect on open connections at their next command;
//  - CheckAuthorization, run by the dispatcher before every handler when --auth is on:
//    13 Unauthorized "Command X requires authentication" before login, "not authorized
//    on DB to execute command ..." when privileges are missing; the localhost exception
//    (no user exists yet: a loopback client may create the first user on admin);
//    cursor ownership for getMore/killCursors.
// Thread-safety: AuthManager is thread-safe (atomics and a mutex around the "some user
// exists" latch). An AuthSession belongs to its connection's strand.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/privilege.h"
#include "auth/scram.h"
#include "auth/user.h"
#include "bson/document.h"
#include "commands/registry.h"
#include "util/status.h"

namespace brook::commands {

class OperationContext;

inline constexpr std::string_view kAdminDb = "admin";
inline constexpr std::string_view kSystemUsers = "system.users";
inline constexpr std::string_view kSystemRoles = "system.roles";

struct AuthSession {
  // One user per connection, as MongoDB since 3.6 with sessions.
  std::optional<auth::UserName> user;
  std::vector<auth::RoleName> roles;        // direct and inherited
  std::vector<auth::Privilege> privileges;  // resolved
  uint64_t generation = 0;

  // The SASL conversation in progress (saslStart .. saslContinue).
  std::unique_ptr<auth::ScramServer> scram;
  std::string mechanism;
  std::string db;
  auth::UserName pending;      // who the conversation claims to be
  bool known_user = false;     // false: running against a fake credential
  bool skip_empty_exchange = false;
  bool proof_verified = false; // server-final sent, waiting for the empty exchange
  bool speculative = false;

  std::string UserId() const { return user ? user->Id() : std::string(); }
};

// The session of `op`'s connection, created on first use.
AuthSession& SessionOf(OperationContext& op);

struct ResolvedRoles {
  std::vector<auth::RoleName> roles;  // every role reached, direct first
  std::vector<auth::Privilege> privileges;
};

class AuthManager {
 public:
  explicit AuthManager(bool enabled);

  bool enabled() const { return enabled_; }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // After any write to system.users / system.roles.
  void Invalidate() { generation_.fetch_add(1, std::memory_order_acq_rel); }
  // A per-process secret: fake credentials for unknown users derive their salt from it.
  const std::string& secret() const { return secret_; }

  // nullopt when the user does not exist.
  StatusWith<std::optional<auth::UserRecord>> FindUser(OperationContext& op, const auth::UserName& name);
  // Users of `db` (every database when `db` is empty), sorted by _id.
  StatusWith<std::vector<auth::UserRecord>> ListUsers(OperationContext& op, std::string_view db);
  // Whether any user exists (latched once true, as MongoDB's localhost exception).
  StatusWith<bool> HasAnyUser(OperationContext& op);

  // A user-defined role document ({_id, role, db, privileges, roles}), nullopt if none.
  StatusWith<std::optional<bson::Doc>> FindRoleDoc(OperationContext& op, const auth::RoleName& role);
  StatusWith<std::vector<bson::Doc>> ListRoleDocs(OperationContext& op, std::string_view db);
  // Whether `role` exists (built in or defined).
  StatusWith<bool> RoleExists(OperationContext& op, const auth::RoleName& role);
  // Follows role inheritance (built-in and user-defined), cycles ignored.
  StatusWith<ResolvedRoles> Resolve(OperationContext& op, const std::vector<auth::RoleName>& roles);

  // Logs `user` in on `op`'s connection (resolving its roles).
  Status Login(OperationContext& op, const auth::UserRecord& user);

  // Logical sessions belong to the user who first used them. MongoDB folds the user into
  // the session id (lsid.uid = digest of the user), so another user sending the same
  // lsid.id gets a separate session; Brook keys session state (retryable-write records,
  // cursors, transactions) by lsid.id alone, so it refuses instead: Unauthorized (13).
  // Memory only: ownership ends with the process or after 30 idle minutes (MongoDB's
  // localLogicalSessionTimeoutMinutes), when the session would have expired anyway.
  Status ClaimSession(const std::string& lsid_key, const std::string& user_id, int64_t now_millis);
  // Whether a user other than `user_id` (empty: nobody logged in) owns the session.
  bool SessionOwnedByOther(const std::string& lsid_key, const std::string& user_id);

 private:
  struct SessionOwner {
    std::string user_id;
    int64_t last_use = 0;
  };
  void ForgetIdleSessionsLocked(int64_t now_millis);

  const bool enabled_;
  const std::string secret_;
  std::atomic<uint64_t> generation_{1};
  std::atomic<bool> has_users_{false};
  std::mutex sessions_mu_;
  std::unordered_map<std::string, SessionOwner> session_owners_;  // lsid key -> owner
};

// The dispatcher's check before running `spec`'s handler. OK when access control is off.
Status CheckAuthorization(const CommandSpec& spec, OperationContext& op, const CommandRequest& req);
// After a successful command that returned cursor `cursor_id`: records its owner.
void StampCursorOwner(OperationContext& op, int64_t cursor_id);
// After a successful command: a write that reached admin.system.users / system.roles
// other than through the user and role commands (insert, update, drop, dropDatabase...)
// invalidates cached privileges too.
void NoteAuthDataWrite(const CommandSpec& spec, OperationContext& op, const CommandRequest& req);
// Whether the connection's user may run `action` on `resource` (true when auth is off).
bool IsAuthorizedFor(OperationContext& op, const auth::Resource& resource, std::string_view action);
// Whether the connection's user has any privilege on `db` / `db.coll` (listDatabases and
// listCollections filtering). True when auth is off.
bool CanSeeDatabase(OperationContext& op, std::string_view db);
bool CanSeeCollection(OperationContext& op, std::string_view db, std::string_view coll);

// Logs through the service's logger when one is installed.
void AuthLog(OperationContext& op, char severity, int id, std::string_view msg, bson::View attr);

}  // namespace brook::commands
