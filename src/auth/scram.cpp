#include "auth/scram.h"

#include <charconv>
#include <vector>

#include "auth/saslprep.h"

namespace brook::auth {
namespace {

Status Malformed(std::string what) {
  return Status(ErrorCodes::kBadValue, "Invalid SCRAM message: " + std::move(what));
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// RFC 5802 saslname: "=2C" and "=3D" are the only escapes; any other '=' is an error.
std::optional<std::string> UnescapeName(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '=') {
      out.push_back(s[i]);
      continue;
    }
    std::string_view esc = s.substr(i + 1, 2);
    if (esc == "2C") {
      out.push_back(',');
    } else if (esc == "3D") {
      out.push_back('=');
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

std::string XorBytes(std::string_view a, std::string_view b) {
  std::string out(a.size(), '\0');
  for (size_t i = 0; i < a.size(); ++i) out[i] = char(a[i] ^ b[i]);
  return out;
}

}  // namespace

std::optional<HashAlg> MechanismAlg(std::string_view mechanism) {
  if (mechanism == kScramSha1) return HashAlg::kSha1;
  if (mechanism == kScramSha256) return HashAlg::kSha256;
  return std::nullopt;
}

std::string MongoPasswordDigest(std::string_view user, std::string_view password) {
  std::string text(user);
  text += ":mongo:";
  text += password;
  return Md5Hex(text);
}

StatusWith<std::string> ScramPassword(HashAlg alg, std::string_view user, std::string_view password) {
  if (alg == HashAlg::kSha1) return MongoPasswordDigest(user, password);
  return SaslPrep(password);
}

ScramCredential MakeCredential(HashAlg alg, std::string_view prepared_password, int iterations,
                               std::string raw_salt) {
  if (raw_salt.empty()) raw_salt = RandomBytes(alg == HashAlg::kSha1 ? 16 : 28);
  std::string salted = Pbkdf2(alg, prepared_password, raw_salt, iterations);
  ScramCredential c;
  c.iteration_count = iterations;
  c.salt = Base64Encode(raw_salt);
  c.stored_key = Base64Encode(Hash(alg, Hmac(alg, salted, "Client Key")));
  c.server_key = Base64Encode(Hmac(alg, salted, "Server Key"));
  return c;
}

ScramCredential FakeCredential(HashAlg alg, std::string_view user, std::string_view secret,
                               int iterations) {
  std::string salt = Hmac(alg, secret, user).substr(0, alg == HashAlg::kSha1 ? 16 : 28);
  ScramCredential c;
  c.iteration_count = iterations;
  c.salt = Base64Encode(salt);
  // Random keys: no proof can hash to a StoredKey nobody derived from a password.
  c.stored_key = Base64Encode(RandomBytes(DigestSize(alg)));
  c.server_key = Base64Encode(RandomBytes(DigestSize(alg)));
  return c;
}

StatusWith<std::string> ScramServer::ReadClientFirst(std::string_view message) {
  // gs2-header: cbind-flag "," [authzid] "," ; then client-first-message-bare.
  size_t first = message.find(',');
  if (first == std::string_view::npos) return Malformed("missing GS2 header");
  size_t second = message.find(',', first + 1);
  if (second == std::string_view::npos) return Malformed("missing GS2 header");
  std::string_view cbind = message.substr(0, first);
  if (cbind == "p" || cbind.substr(0, 2) == "p=") {
    return Malformed("channel binding is not supported");
  }
  if (cbind != "n" && cbind != "y") return Malformed("bad channel binding flag");
  std::string_view authzid = message.substr(first + 1, second - first - 1);
  gs2_header_ = std::string(message.substr(0, second + 1));
  client_first_bare_ = std::string(message.substr(second + 1));

  auto parts = Split(client_first_bare_, ',');
  if (parts.size() < 2) return Malformed("client-first-message is too short");
  if (parts[0].substr(0, 2) == "m=") return Malformed("mandatory extensions are not supported");
  if (parts[0].substr(0, 2) != "n=") return Malformed("expected n=<user>");
  if (parts[1].substr(0, 2) != "r=" || parts[1].size() <= 2) return Malformed("expected r=<nonce>");
  auto user = UnescapeName(parts[0].substr(2));
  if (!user || user->empty()) return Malformed("bad user name");
  if (!authzid.empty()) {
    auto authz = UnescapeName(authzid.substr(0, 2) == "a=" ? authzid.substr(2) : std::string_view("="));
    if (!authz || *authz != *user) return Malformed("authorization identity must match the user");
  }
  user_ = *user;
  nonce_ = std::string(parts[1].substr(2));
  return user_;
}

std::string ScramServer::ServerFirst(const ScramCredential& cred, std::string nonce_suffix) {
  cred_ = cred;
  if (nonce_suffix.empty()) nonce_suffix = Base64Encode(RandomBytes(24));
  nonce_ += nonce_suffix;
  server_first_ = "r=" + nonce_ + ",s=" + cred.salt + ",i=" + std::to_string(cred.iteration_count);
  return server_first_;
}

StatusWith<std::string> ScramServer::ReadClientFinal(std::string_view message) {
  if (server_first_.empty()) return Malformed("client-final-message before server-first-message");
  size_t proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) return Malformed("missing proof");
  std::string_view without_proof = message.substr(0, proof_at);
  auto parts = Split(without_proof, ',');
  if (parts.size() < 2 || parts[0].substr(0, 2) != "c=" || parts[1].substr(0, 2) != "r=") {
    return Malformed("expected c=<binding>,r=<nonce>");
  }
  auto binding = Base64Decode(parts[0].substr(2));
  if (!binding || *binding != gs2_header_) return Malformed("channel binding does not match");
  if (parts[1].substr(2) != nonce_) return Malformed("nonce does not match");
  auto proof = Base64Decode(message.substr(proof_at + 3));
  if (!proof || proof->size() != DigestSize(alg_)) return Malformed("bad proof");

  auto stored_key = Base64Decode(cred_.stored_key);
  auto server_key = Base64Decode(cred_.server_key);
  if (!stored_key || !server_key) return Malformed("stored credential is corrupt");
  std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  std::string client_signature = Hmac(alg_, *stored_key, auth_message);
  std::string client_key = XorBytes(*proof, client_signature);
  if (!ConstantTimeEquals(Hash(alg_, client_key), *stored_key)) {
    return Status(ErrorCodes::kAuthenticationFailed, "Authentication failed.");
  }
  return "v=" + Base64Encode(Hmac(alg_, *server_key, auth_message));
}

}  // namespace brook::auth
