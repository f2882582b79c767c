#pragma once
// SCRAM (RFC 5802 / RFC 7677) as MongoDB runs it: stored credentials and the server side
// of one conversation.
//
// Owns: the credential derivation (SaltedPassword = PBKDF2(password, salt, i);
// StoredKey = H(HMAC(SaltedPassword, "Client Key")); ServerKey = HMAC(SaltedPassword,
// "Server Key")) and the message grammar. MongoDB's twist for SCRAM-SHA-1: the password
// fed to PBKDF2 is md5("<user>:mongo:<password>") in hex (MongoPasswordDigest); for
// SCRAM-SHA-256 it is SASLprep(password). User names are never SASLprep'd, only
// unescaped ("=2C" -> ",", "=3D" -> "=").
// On-disk fact: credentials are stored base64 in admin.system.users, MongoDB's shape
// {iterationCount, salt, storedKey, serverKey}; do not change.
// Security: the conversation never tells an unknown user from a wrong password: the
// caller runs it against a fake credential (FakeCredential) and it fails at the proof.
// Thread-safety: ScramServer belongs to one connection; the functions are pure.

#include <optional>
#include <string>
#include <string_view>

#include "auth/crypto.h"
#include "util/status.h"

namespace brook::auth {

inline constexpr std::string_view kScramSha1 = "SCRAM-SHA-1";
inline constexpr std::string_view kScramSha256 = "SCRAM-SHA-256";
inline constexpr int kMinScramIterations = 4096;  // RFC 7677's minimum, what drivers enforce

std::optional<HashAlg> MechanismAlg(std::string_view mechanism);

struct ScramCredential {
  int iteration_count = 0;
  std::string salt;        // base64
  std::string stored_key;  // base64
  std::string server_key;  // base64
};

// md5("<user>:mongo:<password>") as lower-case hex.
std::string MongoPasswordDigest(std::string_view user, std::string_view password);

// The password PBKDF2 sees for this mechanism: the digest for SHA-1, SASLprep for
// SHA-256 (BadValue when SASLprep rejects it).
StatusWith<std::string> ScramPassword(HashAlg alg, std::string_view user, std::string_view password);

// A credential for an already prepared password; a fresh random salt when `raw_salt` is
// empty (SHA-1: 16 bytes, SHA-256: 28 bytes, as MongoDB).
ScramCredential MakeCredential(HashAlg alg, std::string_view prepared_password, int iterations,
                               std::string raw_salt = {});

// A credential no password matches, stable for a (user, secret) pair so repeated probes
// for an unknown user see the same salt.
ScramCredential FakeCredential(HashAlg alg, std::string_view user, std::string_view secret,
                               int iterations);

// The server side of one SCRAM conversation.
class ScramServer {
 public:
  explicit ScramServer(HashAlg alg) : alg_(alg) {}

  // client-first-message ("n,,n=user,r=nonce"): returns the unescaped user name.
  // ProtocolError-free by design: every malformed message is BadValue here; the caller
  // reports AuthenticationFailed.
  StatusWith<std::string> ReadClientFirst(std::string_view message);
  // server-first-message for `cred`; `nonce_suffix` (tests only) replaces the random part.
  std::string ServerFirst(const ScramCredential& cred, std::string nonce_suffix = {});
  // client-final-message: verifies the proof; returns server-final ("v=<signature>").
  StatusWith<std::string> ReadClientFinal(std::string_view message);

  const std::string& user() const { return user_; }

 private:
  HashAlg alg_;
  std::string user_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;
  ScramCredential cred_;
};

}  // namespace brook::auth
