#include <gtest/gtest.h>

#include "auth/privilege.h"
#include "auth/user.h"
#include "bson/json.h"

namespace brook::auth {
namespace {

using R = Resource;

TEST(Privilege, ReadRoleScope) {
  auto p = BuiltinRolePrivileges({"read", "shop"});
  EXPECT_TRUE(IsAuthorized(p, R::Namespace("shop", "orders"), "find"));
  EXPECT_TRUE(IsAuthorized(p, R::Namespace("shop", "orders"), "changeStream"));
  EXPECT_TRUE(IsAuthorized(p, R::Database("shop"), "changeStream"));
  EXPECT_FALSE(IsAuthorized(p, R::Namespace("shop", "orders"), "insert"));
  EXPECT_FALSE(IsAuthorized(p, R::Namespace("other", "orders"), "find"));
  EXPECT_FALSE(IsAuthorized(p, R::Namespace("shop", "system.users"), "find"));
  EXPECT_FALSE(IsAuthorized(p, R::Cluster(), "listDatabases"));
}

TEST(Privilege, AnyDatabaseAndRoot) {
  auto any = BuiltinRolePrivileges({"readWriteAnyDatabase", "admin"});
  EXPECT_TRUE(IsAuthorized(any, R::Namespace("x", "y"), "insert"));
  EXPECT_TRUE(IsAuthorized(any, R::Cluster(), "listDatabases"));
  EXPECT_FALSE(IsAuthorized(any, R::Cluster(), "serverStatus"));
  EXPECT_TRUE(BuiltinRolePrivileges({"readAnyDatabase", "shop"}).empty());  // admin-only role
  auto root = BuiltinRolePrivileges({"root", "admin"});
  EXPECT_TRUE(IsAuthorized(root, R::Namespace("admin", "system.users"), "insert"));
  EXPECT_TRUE(IsAuthorized(root, R::Cluster(), "shutdown"));
  auto mon = BuiltinRolePrivileges({"clusterMonitor", "admin"});
  EXPECT_TRUE(IsAuthorized(mon, R::Cluster(), "serverStatus"));
  EXPECT_FALSE(IsAuthorized(mon, R::Namespace("x", "y"), "find"));
}

// MongoDB 7.0's backup, restore, hostManager and clusterManager, on the actions Brook's
// commands check (the end-to-end suite runs the same cases through the driver).
TEST(Privilege, BackupReadsEverythingAndWritesNothing) {
  auto p = BuiltinRolePrivileges({"backup", "admin"});
  EXPECT_TRUE(IsAuthorized(p, R::Namespace("shop", "orders"), "find"));
  EXPECT_TRUE(IsAuthorized(p, R::Namespace("local", "oplog.rs"), "find"));
  EXPECT_TRUE(IsAuthorized(p, R::Namespace("admin", "system.users"), "find"));
  EXPECT_TRUE(IsAuthorized(p, R::Database("shop"), "listCollections"));
  EXPECT_TRUE(IsAuthorized(p, R::Cluster(), "listDatabases"));
  EXPECT_TRUE(IsAuthorized(p, R::Cluster(), "serverStatus"));
  EXPECT_FALSE(IsAuthorized(p, R::Namespace("shop", "orders"), "insert"));
  EXPECT_FALSE(IsAuthorized(p, R::Namespace("shop", "orders"), "changeStream"));
  EXPECT_FALSE(IsAuthorized(p, R::Database("shop"), "dropDatabase"));
  EXPECT_FALSE(IsAuthorized(p, R::Cluster(), "setParameter"));
  EXPECT_TRUE(BuiltinRolePrivileges({"backup", "shop"}).empty());  // admin-only
}

TEST(Privilege, RestoreWritesButDoesNotRead) {
  auto p = BuiltinRolePrivileges({"restore", "admin"});
  EXPECT_TRUE(IsAuthorized(p, R::Namespace("shop", "orders"), "insert"));
  EXPECT_TRUE(IsAuthorized(p, R::Namespace("shop", "orders"), "createIndex"));
  EXPECT_TRUE(IsAuthorized(p, R::Database("shop"), "createCollection"));
  EXPECT_TRUE(IsAuthorized(p, R::Database("shop"), "createUser"));
  EXPECT_TRUE(IsAuthorized(p, R::Database("shop"), "listCollections"));
  EXPECT_TRUE(IsAuthorized(p, R::Namespace("admin", "system.users"), "update"));
  EXPECT_FALSE(IsAuthorized(p, R::Namespace("shop", "orders"), "find"));
  EXPECT_FALSE(IsAuthorized(p, R::Namespace("shop", "orders"), "remove"));
  EXPECT_FALSE(IsAuthorized(p, R::Database("shop"), "dropDatabase"));
  EXPECT_FALSE(IsAuthorized(p, R::Cluster(), "serverStatus"));
}

TEST(Privilege, HostManagerAndClusterManager) {
  auto host = BuiltinRolePrivileges({"hostManager", "admin"});
  EXPECT_TRUE(IsAuthorized(host, R::Cluster(), "setParameter"));
  EXPECT_TRUE(IsAuthorized(host, R::Cluster(), "fsync"));
  EXPECT_TRUE(IsAuthorized(host, R::Cluster(), "killAnySession"));
  EXPECT_TRUE(IsAuthorized(host, R::Namespace("shop", "orders"), "killCursors"));
  EXPECT_FALSE(IsAuthorized(host, R::Cluster(), "serverStatus"));
  EXPECT_FALSE(IsAuthorized(host, R::Cluster(), "getParameter"));
  EXPECT_FALSE(IsAuthorized(host, R::Namespace("shop", "orders"), "find"));

  auto mgr = BuiltinRolePrivileges({"clusterManager", "admin"});
  EXPECT_TRUE(IsAuthorized(mgr, R::Cluster(), "replSetGetStatus"));
  EXPECT_TRUE(IsAuthorized(mgr, R::Cluster(), "setClusterParameter"));
  EXPECT_TRUE(IsAuthorized(mgr, R::Cluster(), "getDefaultRWConcern"));
  EXPECT_TRUE(IsAuthorized(mgr, R::Namespace("config", "settings"), "find"));
  EXPECT_TRUE(IsAuthorized(mgr, R::Namespace("config", "settings"), "insert"));
  EXPECT_TRUE(IsAuthorized(mgr, R::Namespace("local", "system.replset"), "find"));
  EXPECT_FALSE(IsAuthorized(mgr, R::Namespace("local", "oplog.rs"), "find"));
  EXPECT_FALSE(IsAuthorized(mgr, R::Namespace("shop", "orders"), "find"));
  EXPECT_FALSE(IsAuthorized(mgr, R::Cluster(), "setParameter"));
  EXPECT_FALSE(IsAuthorized(mgr, R::Cluster(), "serverStatus"));

  // clusterAdmin holds both.
  auto admin = BuiltinRolePrivileges({"clusterAdmin", "admin"});
  for (const char* a : {"setParameter", "fsync", "replSetGetStatus", "setClusterParameter", "serverStatus"}) {
    EXPECT_TRUE(IsAuthorized(admin, R::Cluster(), a)) << a;
  }
  EXPECT_FALSE(IsAuthorized(admin, R::Namespace("shop", "orders"), "find"));
}

TEST(Privilege, PatternsFromBson) {
  auto doc = bson::FromJson(R"({"p": [{"resource": {"db": "", "collection": "c"}, "actions": ["find"]},
                                      {"resource": {"cluster": true}, "actions": ["serverStatus"]}]})");
  ASSERT_TRUE(doc.ok());
  auto privs = ParsePrivileges(doc.value()["p"].Obj());
  ASSERT_TRUE(privs.ok());
  EXPECT_TRUE(IsAuthorized(privs.value(), R::Namespace("a", "c"), "find"));
  EXPECT_FALSE(IsAuthorized(privs.value(), R::Namespace("a", "d"), "find"));
  EXPECT_TRUE(IsAuthorized(privs.value(), R::Cluster(), "serverStatus"));
  auto bad = bson::FromJson(R"({"p": [{"resource": {"db": 1, "collection": ""}, "actions": []}]})");
  EXPECT_FALSE(ParsePrivileges(bad.value()["p"].Obj()).ok());
  EXPECT_TRUE(HasAnyPrivilegeOnDb(BuiltinRolePrivileges({"read", "shop"}), "shop"));
  EXPECT_FALSE(HasAnyPrivilegeOnDb(BuiltinRolePrivileges({"read", "shop"}), "other"));
}

TEST(User, DocumentRoundTrip) {
  UserRecord u;
  u.name = {"alice", "shop"};
  u.user_id = std::string(16, 'x');
  u.credentials.emplace("SCRAM-SHA-256", MakeCredential(HashAlg::kSha256, "pw", 15000));
  u.roles = {{"read", "shop"}, {"readWrite", "other"}};
  bson::Doc d = UserDocument(u);
  EXPECT_EQ(d["_id"].Str(), "shop.alice");
  EXPECT_EQ(d["credentials"].Obj()["SCRAM-SHA-256"].Obj()["iterationCount"].NumberInt64(), 15000);
  auto back = ParseUserDocument(d);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value().roles.size(), 2u);
  EXPECT_EQ(back.value().Mechanisms(), std::vector<std::string>{"SCRAM-SHA-256"});
}

}  // namespace
}  // namespace brook::auth
