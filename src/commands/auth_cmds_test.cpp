// Access control through the command layer against a real storage engine: the localhost
// exception, whole SCRAM conversations through saslStart/saslContinue (the client side
// is computed here from RFC 5802), failures that do not reveal whether a user exists,
// and CheckAuthorization's decisions for built-in roles.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "auth/crypto.h"
#include "auth/saslprep.h"
#include "auth/scram.h"
#include "bson/builder.h"
#include "bson/json.h"
#include "catalog/catalog.h"
#include "commands/auth_manager.h"
#include "commands/cursor_registry.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/server_options.h"
#include "commands/server_stats.h"
#include "commands/sessions.h"
#include "storage/engine.h"
#include "commands/test_service.h"

namespace brook::commands {
namespace {

using testsupport::J;

class AuthCmdsTest : public testsupport::ServiceFixture {
 protected:
  void SetUp() override {
    ServiceFixture::SetUp();
    ASSERT_TRUE(options_.parameters->SetFromString(kParamScramIterationCount, "5000").ok());
    ASSERT_TRUE(options_.parameters->SetFromString(kParamScramSha256IterationCount, "5000").ok());
    service_.options = &options_;
    service_.auth = &auth_;
  }

  // Checks authorization as the dispatcher does, then runs the handler. The reply has
  // ok, or {ok: 0, code, errmsg}.
  bson::Doc Run(std::string_view db, const bson::Doc& body, ClientInfo* client = nullptr) {
    ClientInfo& cl = client ? *client : client_;
    const CommandSpec* spec = FindCommand(body.view().first().key());
    EXPECT_NE(spec, nullptr);
    OperationContext op(service_, cl);
    op.db = std::string(db);
    CommandRequest req{body.view().first().key(), op.db, body};
    // The one generic argument the auth checks read (the dispatcher parses it).
    if (auto lsid = body.view()["lsid"]; lsid.IsObject()) op.lsid = bson::Doc::CopyOf(lsid.Obj());
    bson::Builder reply;
    Status st = CheckAuthorization(*spec, op, req);
    if (st.ok()) st = spec->handler(op, req, &reply);
    if (!st.ok()) {
      bson::Builder err;
      err.AppendDouble("ok", 0);
      err.AppendInt32("code", st.code());
      err.AppendString("errmsg", st.reason());
      return err.Done();
    }
    bson::Doc out = reply.Done();
    if (auto cur = out.view()["cursor"]; cur.IsObject()) StampCursorOwner(op, cur.Obj()["id"].NumberInt64());
    NoteAuthDataWrite(*spec, op, req);
    bson::Builder b;
    b.AppendAll(out);
    b.AppendDouble("ok", 1);
    return b.Done();
  }
  bson::Doc Run(std::string_view db, std::string_view json, ClientInfo* client = nullptr) {
    return Run(db, J(json), client);
  }
  static int Code(const bson::Doc& r) { return r.view()["ok"].NumberDouble() == 1 ? 0 : r.view()["code"].Int32(); }

  bson::Doc Sasl(std::string_view db, std::string_view cmd, std::string_view mech, std::string_view payload,
                 bool skip_empty, ClientInfo* client) {
    bson::Builder b;
    b.AppendInt32(cmd, 1);
    if (cmd == "saslStart") {
      b.AppendString("mechanism", mech);
      if (skip_empty) b.OpenDocument("options").AppendBool("skipEmptyExchange", true).Close();
    } else {
      b.AppendInt32("conversationId", 1);
    }
    b.AppendBinary("payload", 0, payload);
    return Run(db, b.Done(), client);
  }

  static std::string PayloadOf(const bson::Doc& r) { return std::string(r.view()["payload"].Bin().bytes); }

  // A whole SCRAM login as a client would run it. Returns the first error code (0: in).
  int Login(std::string_view db, const std::string& user, const std::string& pwd, std::string_view mech,
            bool skip_empty = true, ClientInfo* client = nullptr) {
    client = client ? client : &client_;
    auth::HashAlg alg = *auth::MechanismAlg(mech);
    std::string client_first_bare = "n=" + user + ",r=clientnonce";
    auto start = Sasl(db, "saslStart", mech, "n,," + client_first_bare, skip_empty, client);
    if (Code(start)) return Code(start);
    EXPECT_FALSE(start.view()["done"].Bool());
    std::string server_first = PayloadOf(start);
    // r=<nonce>,s=<salt>,i=<iterations>
    size_t s_at = server_first.find(",s="), i_at = server_first.find(",i=");
    std::string nonce = server_first.substr(2, s_at - 2);
    std::string salt = *auth::Base64Decode(server_first.substr(s_at + 3, i_at - s_at - 3));
    int iterations = std::stoi(server_first.substr(i_at + 3));
    std::string prepared = alg == auth::HashAlg::kSha1 ? auth::MongoPasswordDigest(user, pwd) : auth::SaslPrep(pwd).value();
    std::string salted = auth::Pbkdf2(alg, prepared, salt, iterations);
    std::string client_key = auth::Hmac(alg, salted, "Client Key");
    std::string stored_key = auth::Hash(alg, client_key);
    std::string without_proof = "c=biws,r=" + nonce;
    std::string auth_message = client_first_bare + "," + server_first + "," + without_proof;
    std::string signature = auth::Hmac(alg, stored_key, auth_message);
    std::string proof(client_key.size(), '\0');
    for (size_t i = 0; i < proof.size(); ++i) proof[i] = char(client_key[i] ^ signature[i]);
    auto fin = Sasl(db, "saslContinue", mech, without_proof + ",p=" + auth::Base64Encode(proof), false, client);
    if (Code(fin)) return Code(fin);
    std::string expected_v = "v=" + auth::Base64Encode(auth::Hmac(alg, auth::Hmac(alg, salted, "Server Key"), auth_message));
    EXPECT_EQ(PayloadOf(fin), expected_v);
    if (!skip_empty) {
      EXPECT_FALSE(fin.view()["done"].Bool());
      fin = Sasl(db, "saslContinue", mech, "", false, client);
      if (Code(fin)) return Code(fin);
      EXPECT_EQ(PayloadOf(fin), "");
    }
    EXPECT_TRUE(fin.view()["done"].Bool());
    return 0;
  }

  void CreateRoot() {
    ASSERT_EQ(Code(Run("admin", R"({"createUser": "root", "pwd": "rootpw", "roles": ["root"]})")), 0);
    ASSERT_EQ(Login("admin", "root", "rootpw", "SCRAM-SHA-256"), 0);
  }

  ServerOptions options_;
  AuthManager auth_{true};
};

TEST_F(AuthCmdsTest, LocalhostExceptionOnlyForTheFirstUserOnAdmin) {
  ClientInfo remote;
  remote.is_loopback = false;
  EXPECT_EQ(Code(Run("admin", R"({"createUser": "a", "pwd": "p", "roles": ["root"]})", &remote)), 13);
  auto r = Run("test", R"({"createUser": "a", "pwd": "p", "roles": []})");
  EXPECT_EQ(Code(r), 13);
  EXPECT_EQ(r.view()["errmsg"].Str(), "command createUser requires authentication");
  EXPECT_EQ(Code(Run("test", R"({"find": "c"})")), 13);
  EXPECT_EQ(Code(Run("admin", R"({"createUser": "a", "pwd": "p", "roles": ["root"]})")), 0);
  EXPECT_EQ(Code(Run("admin", R"({"createUser": "b", "pwd": "p", "roles": ["root"]})")), 13);
  EXPECT_EQ(Code(Run("admin", R"({"ping": 1})")), 0);
}

TEST_F(AuthCmdsTest, ScramConversationsForBothMechanismsAndLengths) {
  CreateRoot();
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "ann", "pwd": "I\u00ADX", "roles": ["read"]})")), 0);
  for (bool skip : {true, false}) {
    for (auto mech : {"SCRAM-SHA-1", "SCRAM-SHA-256"}) {
      ClientInfo c;
      EXPECT_EQ(Login("shop", "ann", "I\u00ADX", mech, skip, &c), 0) << mech << skip;
      auto st = Run("admin", R"({"connectionStatus": 1})", &c);
      auto users = st.view()["authInfo"].Obj()["authenticatedUsers"].Obj();
      ASSERT_EQ(users.CountFields(), 1u);
      EXPECT_EQ(users.first().Obj()["user"].Str(), "ann");
    }
  }
  // SASLprep makes "IX" the same SCRAM-SHA-256 password; SHA-1 digests the raw text.
  ClientInfo c;
  EXPECT_EQ(Login("shop", "ann", "IX", "SCRAM-SHA-256", true, &c), 0);
  EXPECT_EQ(Login("shop", "ann", "IX", "SCRAM-SHA-1", true, &c), 18);
  // One user per connection: the same user again is fine, another is refused.
  EXPECT_EQ(Login("shop", "ann", "IX", "SCRAM-SHA-256", true, &c), 0);
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "bob", "pwd": "pw", "roles": []})")), 0);
  EXPECT_EQ(Login("shop", "bob", "pw", "SCRAM-SHA-256", true, &c), 5626701);
  EXPECT_EQ(Login("admin", "root", "rootpw", "SCRAM-SHA-256", true, &c), 5626702);
  EXPECT_EQ(Code(Run("admin", R"({"logout": 1})", &c)), 0);  // not ann's database: no effect
  EXPECT_EQ(Code(Run("shop", R"({"find": "c"})", &c)), 0);
  EXPECT_EQ(Code(Run("shop", R"({"logout": 1})", &c)), 0);
  EXPECT_EQ(Code(Run("shop", R"({"find": "c"})", &c)), 13);
  EXPECT_EQ(Login("shop", "bob", "pw", "SCRAM-SHA-256", true, &c), 0);
}

TEST_F(AuthCmdsTest, FailuresDoNotRevealWhetherTheUserExists) {
  CreateRoot();
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "ann", "pwd": "pw", "roles": ["read"]})")), 0);
  ClientInfo c;
  // saslStart succeeds for both; only the proof fails, with the same error.
  auto known = Sasl("shop", "saslStart", "SCRAM-SHA-256", "n,,n=ann,r=abc", true, &c);
  auto unknown = Sasl("shop", "saslStart", "SCRAM-SHA-256", "n,,n=ghost,r=abc", true, &c);
  EXPECT_EQ(Code(known), 0);
  EXPECT_EQ(Code(unknown), 0);
  EXPECT_EQ(Login("shop", "ann", "wrong", "SCRAM-SHA-256", true, &c), 18);
  EXPECT_EQ(Login("shop", "ghost", "wrong", "SCRAM-SHA-256", true, &c), 18);
  // A user may also not log in against another database than its own.
  EXPECT_EQ(Login("admin", "ann", "pw", "SCRAM-SHA-256", true, &c), 18);
  EXPECT_EQ(Code(Sasl("shop", "saslStart", "SCRAM-SHA-256", "garbage", true, &c)), 18);
  EXPECT_EQ(Code(Sasl("shop", "saslContinue", "", "c=biws", false, &c)), 17);  // no conversation
  EXPECT_EQ(Code(Sasl("shop", "saslStart", "PLAIN", "x", true, &c)), 334);
  ASSERT_TRUE(options_.parameters->SetFromString(kParamAuthenticationMechanisms, "SCRAM-SHA-256").ok());
  EXPECT_EQ(Code(Sasl("shop", "saslStart", "SCRAM-SHA-1", "n,,n=ann,r=abc", true, &c)), 334);
  EXPECT_EQ(Login("shop", "ann", "pw", "SCRAM-SHA-256", true, &c), 0);
}

TEST_F(AuthCmdsTest, BuiltinRolesDecide) {
  CreateRoot();
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "ann", "pwd": "pw", "roles": ["read"]})")), 0);
  ClientInfo ann;
  ASSERT_EQ(Login("shop", "ann", "pw", "SCRAM-SHA-256", true, &ann), 0);
  EXPECT_EQ(Code(Run("shop", R"({"find": "c"})", &ann)), 0);
  auto denied = Run("shop", R"({"insert": "c", "documents": [{"_id": 1}]})", &ann);
  EXPECT_EQ(Code(denied), 13);
  EXPECT_EQ(denied.view()["errmsg"].Str().rfind("not authorized on shop to execute command { insert", 0), 0u)
      << denied.ToString();
  EXPECT_EQ(Code(Run("other", R"({"find": "c"})", &ann)), 13);
  EXPECT_EQ(Code(Run("admin", R"({"getParameter": "*"})", &ann)), 13);
  // Change streams by scope: collection and database yes, cluster no.
  EXPECT_EQ(Code(Run("shop", R"({"aggregate": "c", "pipeline": [{"$changeStream": {}}], "cursor": {}})", &ann)), 0);
  EXPECT_EQ(Code(Run("shop", R"({"aggregate": 1, "pipeline": [{"$changeStream": {}}], "cursor": {}})", &ann)), 0);
  EXPECT_EQ(Code(Run("admin", R"({"aggregate": 1, "pipeline": [{"$changeStream": {"allChangesForCluster": true}}], "cursor": {}})", &ann)), 13);
  // Stages nested in $facet / $lookup pipelines are checked too.
  EXPECT_EQ(Code(Run("shop", R"({"aggregate": "c", "pipeline": [{"$facet": {"f": [{"$lookup": {"from": "d",
      "pipeline": [{"$unionWith": "e"}], "as": "x"}}]}}], "cursor": {}})", &ann)), 0);
  EXPECT_EQ(Code(Run("shop", R"({"aggregate": "c", "pipeline": [{"$facet": {"f": [{"$lookup": {"from": "d",
      "pipeline": [{"$unionWith": {"coll": "e", "pipeline": [{"$out": "z"}]}}], "as": "x"}}]}}], "cursor": {}})", &ann)), 13);
  // $out into a collection needs write privileges.
  EXPECT_EQ(Code(Run("shop", R"({"aggregate": "c", "pipeline": [{"$out": "d"}], "cursor": {}})", &ann)), 13);
  // explain needs what the explained command needs.
  EXPECT_EQ(Code(Run("shop", R"({"explain": {"find": "c"}})", &ann)), 0);
  EXPECT_EQ(Code(Run("other", R"({"explain": {"find": "c"}})", &ann)), 13);

  EXPECT_EQ(Code(Run("admin", R"({"renameCollection": "shop.c", "to": "shop.d"})", &ann)), 13);
  EXPECT_EQ(Code(Run("admin", R"({"configureFailPoint": "failCommand", "mode": "off"})", &ann)), 13);

  // A grant reaches the open connection at its next command.
  EXPECT_EQ(Code(Run("shop", R"({"updateUser": "ann", "roles": ["readWrite"]})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}, {"_id": 3}]})", &ann)), 0);
  // readWrite renames within its database, not into another one.
  EXPECT_EQ(Code(Run("admin", R"({"renameCollection": "shop.c", "to": "other.c"})", &ann)), 13);
  EXPECT_EQ(Code(Run("admin", R"({"renameCollection": "shop.c", "to": "shop.d"})", &ann)), 0);
  EXPECT_EQ(Code(Run("shop", R"({"dropUser": "ann"})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"find": "d"})", &ann)), 13);
}

TEST_F(AuthCmdsTest, DirectWritesToSystemUsersReachOpenConnections) {
  CreateRoot();
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "ann", "pwd": "pw", "roles": ["read"]})")), 0);
  ClientInfo ann;
  ASSERT_EQ(Login("shop", "ann", "pw", "SCRAM-SHA-256", true, &ann), 0);
  EXPECT_EQ(Code(Run("shop", R"({"insert": "c", "documents": [{"_id": 1}]})", &ann)), 13);
  EXPECT_EQ(Code(Run("admin", R"({"update": "system.users", "updates": [{"q": {"_id": "shop.ann"},
      "u": {"$set": {"roles": [{"role": "readWrite", "db": "shop"}]}}}]})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"insert": "c", "documents": [{"_id": 1}]})", &ann)), 0);
}

TEST_F(AuthCmdsTest, CursorsBelongToTheirUser) {
  CreateRoot();
  EXPECT_EQ(Code(Run("shop", R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}, {"_id": 3}]})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "ann", "pwd": "pw", "roles": ["read"]})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "bob", "pwd": "pw", "roles": ["read"]})")), 0);
  ClientInfo ann, bob;
  ASSERT_EQ(Login("shop", "ann", "pw", "SCRAM-SHA-1", true, &ann), 0);
  ASSERT_EQ(Login("shop", "bob", "pw", "SCRAM-SHA-1", true, &bob), 0);
  auto first = Run("shop", R"({"find": "c", "batchSize": 1})", &ann);
  int64_t id = first.view()["cursor"].Obj()["id"].NumberInt64();
  ASSERT_NE(id, 0);
  bson::Builder gm;
  gm.AppendInt64("getMore", id);
  gm.AppendString("collection", "c");
  gm.AppendInt32("batchSize", 1);
  bson::Doc get_more = gm.Done();
  EXPECT_EQ(Code(Run("shop", get_more, &bob)), 13);
  // The id spelled as another number type is the same cursor.
  bson::Builder gm2;
  gm2.AppendDecimal128("getMore", bson::Decimal128::FromInt64(id));
  gm2.AppendString("collection", "c");
  EXPECT_EQ(Code(Run("shop", gm2.Done(), &bob)), 13);
  EXPECT_EQ(Code(Run("shop", get_more, &ann)), 0);
  bson::Builder kc;
  kc.AppendString("killCursors", "c");
  kc.OpenArray("cursors").AppendInt64("0", id).Close();
  bson::Doc kill = kc.Done();
  EXPECT_EQ(Code(Run("shop", kill, &bob)), 13);
  EXPECT_EQ(Code(Run("shop", kill, &ann)), 0);
}

// MongoDB folds the user into the session id; Brook refuses a session started by
// another user instead (AuthManager::ClaimSession).
TEST_F(AuthCmdsTest, SessionsBelongToTheUserWhoStartedThem) {
  CreateRoot();
  EXPECT_EQ(Code(Run("shop", R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}]})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "ann", "pwd": "pw", "roles": ["readWrite"]})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "bob", "pwd": "pw", "roles": ["readWrite"]})")), 0);
  ClientInfo ann, bob, ann2;
  ASSERT_EQ(Login("shop", "ann", "pw", "SCRAM-SHA-256", true, &ann), 0);
  ASSERT_EQ(Login("shop", "bob", "pw", "SCRAM-SHA-256", true, &bob), 0);
  ASSERT_EQ(Login("shop", "ann", "pw", "SCRAM-SHA-256", true, &ann2), 0);
  const std::string kA = R"("lsid": {"id": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAQ==", "subType": "04"}}})";
  const std::string kB = R"("lsid": {"id": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAg==", "subType": "04"}}})";
  auto find = [](const std::string& lsid) { return R"({"find": "c", "batchSize": 1, )" + lsid + "}"; };
  auto first = Run("shop", find(kA), &ann);
  ASSERT_EQ(Code(first), 0);
  int64_t cursor = first.view()["cursor"].Obj()["id"].NumberInt64();
  ASSERT_NE(cursor, 0);
  auto stolen = Run("shop", find(kA), &bob);
  EXPECT_EQ(Code(stolen), 13);
  EXPECT_EQ(stolen.view()["errmsg"].Str(), "Cannot use this logical session: it was started by another user");
  EXPECT_EQ(Code(Run("shop", R"({"insert": "c", "documents": [{"_id": 9}], "txnNumber": 1, )" + kA + "}", &bob)), 13);
  EXPECT_EQ(Code(Run("shop", find(kB), &bob)), 0);       // his own session
  EXPECT_EQ(Code(Run("shop", find(kA), &ann2)), 0);      // same user, another connection
  // A client may not name the user digest itself.
  EXPECT_EQ(Code(Run("shop", R"({"find": "c", "lsid": {"id": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAw==", "subType": "04"}}, "uid": {"$binary": {"base64": "AA==", "subType": "00"}}}})", &ann)),
            13);
  // Ending ann's session as bob leaves her cursor alone; ann herself ends it.
  EXPECT_EQ(Code(Run("admin", R"({"endSessions": [{"id": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAQ==", "subType": "04"}}}]})", &bob)), 0);
  bson::Builder gm;
  gm.AppendInt64("getMore", cursor);
  gm.AppendString("collection", "c");
  gm.AppendInt32("batchSize", 1);
  EXPECT_EQ(Code(Run("shop", gm.Done(), &ann)), 0);
  EXPECT_EQ(Code(Run("admin", R"({"endSessions": [{"id": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAQ==", "subType": "04"}}}]})", &ann)), 0);
  bson::Builder gm2;
  gm2.AppendInt64("getMore", cursor);
  gm2.AppendString("collection", "c");
  EXPECT_NE(Code(Run("shop", gm2.Done(), &ann)), 0);  // killed with its session
}

TEST_F(AuthCmdsTest, UserCommandErrorsAndShapes) {
  CreateRoot();
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "ann", "pwd": "pw", "roles": ["read"], "customData": {"team": 1}})")), 0);
  auto dup = Run("shop", R"({"createUser": "ann", "pwd": "pw", "roles": []})");
  EXPECT_EQ(Code(dup), 51003);
  EXPECT_EQ(dup.view()["errmsg"].Str(), "User \"ann@shop\" already exists");
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "x", "pwd": "", "roles": []})")), 2);
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "x", "pwd": "p", "roles": [], "mechanisms": ["MD5"]})")), 2);
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "x", "pwd": "p", "roles": [{"role": "root", "db": "shop"}]})")), 31);
  EXPECT_EQ(Code(Run("local", R"({"createUser": "x", "pwd": "p", "roles": []})")), 2);
  EXPECT_EQ(Code(Run("shop", R"({"updateUser": "ann"})")), 2);
  EXPECT_EQ(Code(Run("shop", R"({"updateUser": "ann", "mechanisms": ["SCRAM-SHA-1"]})")), 0);
  auto info = Run("shop", R"({"usersInfo": {"user": "ann", "db": "shop"}, "showCredentials": true})");
  auto u = info.view()["users"].Obj().first().Obj();
  EXPECT_EQ(u["_id"].Str(), "shop.ann");
  EXPECT_EQ(u["customData"].Obj()["team"].NumberInt64(), 1);
  EXPECT_EQ(u["mechanisms"].Obj().CountFields(), 1u);
  EXPECT_TRUE(u["credentials"].Obj()["SCRAM-SHA-1"].IsObject());
  EXPECT_FALSE(u["credentials"].Obj()["SCRAM-SHA-256"]);
  auto dropped = Run("shop", R"({"dropUser": "nobody"})");
  EXPECT_EQ(Code(dropped), 11);
  EXPECT_EQ(Code(Run("shop", R"({"dropAllUsersFromDatabase": 1})")), 0);
  EXPECT_EQ(Run("shop", R"({"usersInfo": 1})").view()["users"].Obj().CountFields(), 0u);
}

TEST_F(AuthCmdsTest, UsersInfoFilterMatchesTheReplyDocuments) {
  CreateRoot();
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "ann", "pwd": "pw", "roles": ["read"], "customData": {"team": "a"}})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "bob", "pwd": "pw", "roles": ["readWrite"], "mechanisms": ["SCRAM-SHA-1"]})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "cy", "pwd": "pw", "roles": ["read", "dbAdmin"]})")), 0);
  auto names = [&](const bson::Doc& reply) {
    std::vector<std::string> out;
    for (const auto& u : reply.view()["users"].Obj()) out.emplace_back(u.Obj()["user"].Str());
    std::sort(out.begin(), out.end());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names(Run("shop", R"({"usersInfo": 1, "filter": {"roles.role": "read"}})")), (V{"ann", "cy"}));
  EXPECT_EQ(names(Run("shop", R"({"usersInfo": 1, "filter": {"roles": {"role": "readWrite", "db": "shop"}}})")), V{"bob"});
  EXPECT_EQ(names(Run("shop", R"({"usersInfo": 1, "filter": {"mechanisms": {"$size": 1}}})")), V{"bob"});
  EXPECT_EQ(names(Run("shop", R"({"usersInfo": 1, "filter": {"customData.team": "a"}})")), V{"ann"});
  EXPECT_EQ(names(Run("admin", R"({"usersInfo": {"forAllDBs": true}, "filter": {"db": "shop", "user": {"$gt": "b"}}})")),
            (V{"bob", "cy"}));
  EXPECT_EQ(names(Run("shop", R"({"usersInfo": ["ann", "bob"], "filter": {"user": "bob"}})")), V{"bob"});
  EXPECT_EQ(Code(Run("shop", R"({"usersInfo": 1, "filter": "ann"})")), 14);
  EXPECT_EQ(Code(Run("shop", R"({"usersInfo": 1, "filter": {"$bogus": 1}})")), 2);
}

TEST_F(AuthCmdsTest, UserDefinedRolesInheritAndRefuseCycles) {
  CreateRoot();
  EXPECT_EQ(Code(Run("shop", R"({"createRole": "a", "privileges": [{"resource": {"db": "shop", "collection": "x"}, "actions": ["find"]}], "roles": []})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"createRole": "b", "privileges": [], "roles": ["a"]})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"grantRolesToRole": "a", "roles": ["b"]})")), 49);  // cycle
  EXPECT_EQ(Code(Run("shop", R"({"createRole": "c", "privileges": [], "roles": ["missing"]})")), 31);
  EXPECT_EQ(Code(Run("shop", R"({"createRole": "d"})")), 40414);
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "ann", "pwd": "pw", "roles": ["b"]})")), 0);
  ClientInfo ann;
  ASSERT_EQ(Login("shop", "ann", "pw", "SCRAM-SHA-256", true, &ann), 0);
  EXPECT_EQ(Code(Run("shop", R"({"find": "x"})", &ann)), 0);  // through b -> a
  EXPECT_EQ(Code(Run("shop", R"({"find": "y"})", &ann)), 13);
  // Nor may a view expose it.
  EXPECT_EQ(Code(Run("shop", R"({"grantPrivilegesToRole": "a", "privileges": [{"resource": {"db": "shop", "collection": ""}, "actions": ["createCollection"]}]})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"create": "v1", "viewOn": "y", "pipeline": []})", &ann)), 13);
  EXPECT_EQ(Code(Run("shop", R"({"create": "v2", "viewOn": "x", "pipeline": [{"$lookup": {"from": "y", "localField": "a", "foreignField": "a", "as": "s"}}]})", &ann)), 13);
  EXPECT_EQ(Code(Run("shop", R"({"create": "v3", "viewOn": "x", "pipeline": []})", &ann)), 0);
  // A sub-pipeline may not read what the user cannot.
  EXPECT_EQ(Code(Run("shop", R"({"aggregate": "x", "pipeline": [{"$lookup": {"from": "x", "localField": "a", "foreignField": "a", "as": "s"}}], "cursor": {}})", &ann)), 0);
  EXPECT_EQ(Code(Run("shop", R"({"aggregate": "x", "pipeline": [{"$facet": {"f": [{"$lookup": {"from": "y", "as": "s"}}]}}], "cursor": {}})", &ann)), 13);
  EXPECT_EQ(Code(Run("shop", R"({"aggregate": "x", "pipeline": [{"$lookup": {"from": "x", "as": "s", "pipeline": [{"$unionWith": "y"}]}}], "cursor": {}})", &ann)), 13);
  auto info = Run("shop", R"({"rolesInfo": "b", "showPrivileges": true})");
  auto role = info.view()["roles"].Obj().first().Obj();
  EXPECT_EQ(role["inheritedRoles"].Obj().first().Obj()["role"].Str(), "a");
  EXPECT_EQ(role["inheritedPrivileges"].Obj().CountFields(), 2u);  // shop.x and shop (createCollection)
  EXPECT_EQ(Code(Run("shop", R"({"dropRole": "a"})")), 0);
  EXPECT_EQ(Code(Run("shop", R"({"find": "x"})", &ann)), 13);
  bson::Doc b_info = Run("shop", R"({"rolesInfo": "b"})");  // outlives the view below (ASan lane)
  auto b = b_info.view()["roles"].Obj().first().Obj();
  EXPECT_EQ(b["roles"].Obj().CountFields(), 0u);  // dropRole removed it from b
  auto all = Run("shop", R"({"rolesInfo": 1, "showBuiltinRoles": true})");
  EXPECT_EQ(all.view()["roles"].Obj().CountFields(), 6u);  // 5 built-in + b
}

TEST_F(AuthCmdsTest, HelloAdvertisesMechanismsOfTheUser) {
  CreateRoot();
  EXPECT_EQ(Code(Run("shop", R"({"createUser": "ann", "pwd": "pw", "roles": [], "mechanisms": ["SCRAM-SHA-256"]})")), 0);
  ClientInfo anon;
  auto h = Run("admin", R"({"hello": 1, "saslSupportedMechs": "shop.ann"})", &anon);
  ASSERT_TRUE(h.view()["saslSupportedMechs"].IsArray()) << h.ToString();
  EXPECT_EQ(h.view()["saslSupportedMechs"].Obj().first().Str(), "SCRAM-SHA-256");
  EXPECT_FALSE(Run("admin", R"({"hello": 1, "saslSupportedMechs": "shop.nobody"})", &anon).view()["saslSupportedMechs"]);
  EXPECT_FALSE(Run("admin", R"({"hello": 1, "saslSupportedMechs": "nodot"})", &anon).view()["saslSupportedMechs"]);
}

}  // namespace
}  // namespace brook::commands
