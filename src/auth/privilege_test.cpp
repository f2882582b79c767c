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
