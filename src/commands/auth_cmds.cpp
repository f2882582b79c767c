// saslStart / saslContinue / logout / connectionStatus, and hello's auth fields
// (saslSupportedMechs, speculativeAuthenticate). SCRAM itself lives in src/auth.
//
// Every failure of a conversation (malformed message, unknown user, wrong password,
// mechanism the user has no credential for) ends with the same AuthenticationFailed (18)
// "Authentication failed." and one log line; an unknown user runs the whole exchange
// against a fake credential so the reply cannot tell the cases apart.
#include "bson/builder.h"
#include "commands/auth_manager.h"
#include "commands/crud_args.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/server_options.h"

namespace brook::commands {
namespace {

constexpr int32_t kConversationId = 1;

Status Failed() { return Status(ErrorCodes::kAuthenticationFailed, "Authentication failed."); }

// SASL payloads arrive as BinData, or from old shells as a base64 string.
std::optional<std::string> PayloadOf(const bson::Element& e) {
  if (e.type() == bson::Type::kBinary) return std::string(e.Bin().bytes);
  if (e.type() == bson::Type::kString) return auth::Base64Decode(e.Str());
  return std::nullopt;
}

void LogOutcome(OperationContext& op, const AuthSession& s, const Status& st) {
  bson::Builder attr;
  attr.AppendString("mechanism", s.mechanism);
  attr.AppendBool("speculative", s.speculative);
  attr.AppendString("principalName", s.pending.user);
  attr.AppendString("authenticationDatabase", s.pending.db);
  attr.AppendString("remote", op.client().remote);
  attr.OpenDocument("extraInfo").Close();
  if (!st.ok()) attr.AppendString("error", st.ToString());
  bson::Doc a = attr.Done();
  if (st.ok()) {
    AuthLog(op, 'I', 20250, "Authentication succeeded", a);
  } else {
    AuthLog(op, 'I', 20249, "Authentication failed", a);
  }
}

// Ends the conversation with a failure: logged with its real cause, answered with 18.
Status Fail(OperationContext& op, AuthSession& s, const Status& cause) {
  LogOutcome(op, s, cause);
  s.scram.reset();
  return Failed();
}

int DefaultIterations(OperationContext& op, auth::HashAlg alg) {
  if (!op.service().options) return alg == auth::HashAlg::kSha1 ? 10000 : 15000;
  return static_cast<int>(op.service().options->parameters->GetInt(
      alg == auth::HashAlg::kSha1 ? kParamScramIterationCount : kParamScramSha256IterationCount));
}

bool MechanismEnabled(OperationContext& op, std::string_view mechanism) {
  if (!op.service().options) return true;
  std::string list = op.service().options->parameters->GetString(kParamAuthenticationMechanisms);
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view item = std::string_view(list).substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item == mechanism) return true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return false;
}

void AppendPayload(bson::Builder* reply, std::string_view payload, bool done) {
  reply->AppendInt32("conversationId", kConversationId);
  reply->AppendBool("done", done);
  reply->AppendBinary("payload", 0, payload);
}

Status Complete(OperationContext& op, AuthSession& s) {
  s.scram.reset();
  if (s.user && !(*s.user == s.pending)) {
    // MongoDB 7: one user per connection; re-authenticating as the same user is fine.
    std::string previous = s.user->user + "@" + s.user->db;
    if (s.user->db == s.pending.db) {
      return Status(5626701, "Each client connection may only be authenticated once. Previously authenticated as: " +
                                 previous);
    }
    return Status(5626702, "Client has attempted to authenticate on multiple databases.Already authenticated as: " +
                               previous);
  }
  AuthManager* mgr = op.service().auth;
  auto user = mgr ? mgr->FindUser(op, s.pending) : StatusWith<std::optional<auth::UserRecord>>(std::nullopt);
  if (!user.ok()) return Fail(op, s, user.status());
  if (!user.value()) return Fail(op, s, Status(ErrorCodes::kUserNotFound, "user dropped during authentication"));
  Status st = mgr->Login(op, *user.value());
  if (!st.ok()) return Fail(op, s, st);
  LogOutcome(op, s, Status::OK());
  return Status::OK();
}

// The first step, shared by saslStart and hello's speculativeAuthenticate.
Status Start(OperationContext& op, std::string_view db, bson::View cmd, bool speculative, bson::Builder* reply) {
  AuthSession& s = SessionOf(op);
  s.scram.reset();
  s.speculative = speculative;
  s.db = std::string(db);
  s.pending = {"", std::string(db)};
  auto mech = cmd["mechanism"];
  if (mech.type() != bson::Type::kString) {
    return mech.missing() ? MissingField("saslStart", "mechanism") : WrongType("saslStart", "mechanism", mech, "string");
  }
  s.mechanism = std::string(mech.Str());
  auto alg = auth::MechanismAlg(mech.Str());
  if (!alg || !MechanismEnabled(op, mech.Str())) {
    return Status(ErrorCodes::kMechanismUnavailable, "Received authentication for mechanism " +
                                                         std::string(mech.Str()) + " which is not enabled");
  }
  AuthManager* mgr = op.service().auth;
  if (!mgr) return Status(ErrorCodes::kInternalError, "authentication is not configured");
  auto payload = PayloadOf(cmd["payload"]);
  if (!payload) return Fail(op, s, Status(ErrorCodes::kBadValue, "saslStart payload must be BinData"));
  auto options = cmd["options"];
  s.skip_empty_exchange = options.IsObject() && options.Obj()["skipEmptyExchange"].Truthy();
  s.proof_verified = false;

  auto scram = std::make_unique<auth::ScramServer>(*alg);
  auto name = scram->ReadClientFirst(*payload);
  if (!name.ok()) return Fail(op, s, name.status());
  s.pending = {name.value(), std::string(db)};
  auto user = mgr->FindUser(op, s.pending);
  if (!user.ok()) return Fail(op, s, user.status());
  const auth::ScramCredential* cred = nullptr;
  if (user.value()) {
    auto it = user.value()->credentials.find(s.mechanism);
    if (it != user.value()->credentials.end()) cred = &it->second;
  }
  s.known_user = cred != nullptr;
  auth::ScramCredential fake;
  if (!cred) {
    fake = auth::FakeCredential(*alg, s.pending.Id(), mgr->secret(), DefaultIterations(op, *alg));
    cred = &fake;
  }
  std::string first = scram->ServerFirst(*cred);
  s.scram = std::move(scram);
  AppendPayload(reply, first, false);
  return Status::OK();
}

}  // namespace

Status HandleSaslStart(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  return Start(op, req.db, req.body, false, reply);
}

Status HandleSaslContinue(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  AuthSession& s = SessionOf(op);
  if (!s.scram) return Status(ErrorCodes::kProtocolError, "No SASL session state found");
  auto id = req.body["conversationId"];
  if (!id.IsNumber() || id.NumberInt64() != kConversationId) {
    s.scram.reset();
    return Status(ErrorCodes::kProtocolError, "Mismatched conversation id");
  }
  if (req.db != s.db) {
    return Fail(op, s, Status(ErrorCodes::kProtocolError, "saslContinue against another database than saslStart"));
  }
  auto payload = PayloadOf(req.body["payload"]);
  if (!payload) return Fail(op, s, Status(ErrorCodes::kBadValue, "saslContinue payload must be BinData"));
  if (s.proof_verified) {
    // The long conversation's last, empty exchange.
    if (!payload->empty()) return Fail(op, s, Status(ErrorCodes::kBadValue, "expected an empty payload"));
    BROOK_RETURN_IF_ERROR(Complete(op, s));
    AppendPayload(reply, "", true);
    return Status::OK();
  }
  auto final_msg = s.scram->ReadClientFinal(*payload);
  if (!final_msg.ok()) return Fail(op, s, final_msg.status());
  if (!s.known_user) return Fail(op, s, Status(ErrorCodes::kUserNotFound, "no such user"));
  if (s.skip_empty_exchange) {
    BROOK_RETURN_IF_ERROR(Complete(op, s));
    AppendPayload(reply, final_msg.value(), true);
    return Status::OK();
  }
  s.proof_verified = true;
  AppendPayload(reply, final_msg.value(), false);
  return Status::OK();
}

Status HandleLogout(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  AuthSession& s = SessionOf(op);
  s.scram.reset();
  // Logging out of another database than the user's leaves the login in place.
  if (!s.user || s.user->db != req.db) return Status::OK();
  s.user.reset();
  s.roles.clear();
  s.privileges.clear();
  s.scram.reset();
  return Status::OK();
}

Status HandleConnectionStatus(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  AuthSession& s = SessionOf(op);
  reply->OpenDocument("authInfo");
  reply->OpenArray("authenticatedUsers");
  if (s.user) {
    reply->OpenDocument("0");
    reply->AppendString("user", s.user->user);
    reply->AppendString("db", s.user->db);
    reply->Close();
  }
  reply->Close();
  reply->OpenArray("authenticatedUserRoles");
  if (s.user) auth::AppendRoleNames(reply, s.roles);
  reply->Close();
  if (req.body["showPrivileges"].Truthy()) {
    reply->OpenArray("authenticatedUserPrivileges");
    if (s.user) auth::AppendPrivileges(reply, s.privileges);
    reply->Close();
  }
  reply->Close();
  return Status::OK();
}

void AppendHelloAuthFields(OperationContext& op, bson::View body, bson::Builder* reply) {
  AuthManager* mgr = op.service().auth;
  if (!mgr) return;
  if (auto mechs = body["saslSupportedMechs"]; mechs.type() == bson::Type::kString) {
    std::string_view full = mechs.Str();
    size_t dot = full.find('.');
    if (dot != std::string_view::npos && dot > 0 && dot + 1 < full.size()) {
      auth::UserName name{std::string(full.substr(dot + 1)), std::string(full.substr(0, dot))};
      auto user = mgr->FindUser(op, name);
      // An unknown user simply gets no list, as MongoDB answers.
      if (user.ok() && user.value()) {
        reply->OpenArray("saslSupportedMechs");
        std::string scratch;
        size_t i = 0;
        for (const auto& m : user.value()->Mechanisms()) reply->AppendString(bson::ArrayKey(i++, &scratch), m);
        reply->Close();
      }
    }
  }
  if (auto spec = body["speculativeAuthenticate"]; spec.IsObject()) {
    auto cmd = spec.Obj();
    auto db = cmd["db"];
    if (cmd.empty() || cmd.first().key() != "saslStart" || db.type() != bson::Type::kString) return;
    bson::Builder inner;
    Status st = Start(op, db.Str(), cmd, true, &inner);
    // A failed speculative attempt is not an error of hello: the driver authenticates
    // the ordinary way and gets the error there.
    if (st.ok()) reply->AppendDocument("speculativeAuthenticate", inner.Done());
  }
}

}  // namespace brook::commands
