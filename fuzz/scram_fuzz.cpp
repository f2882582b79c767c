// Fuzz target: the server side of a SCRAM conversation, given the client's messages.
// Input layout: byte 0 picks the mechanism (even: SCRAM-SHA-256, odd: SCRAM-SHA-1); the
// rest is client-first-message, a NUL, then client-final-message. The server's nonce is
// fixed (ServerFirst's test hook) so that a seed holding a correct proof stays correct,
// and the fuzzer can reach the code past a successful proof check.
// Credentials: user "fuzz", password "pencil", 4096 iterations, fixed salts; the seed
// generator (fuzz/seeds.py) computes real client messages against the same values.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/scram.h"

namespace {

using brook::auth::HashAlg;
using brook::auth::ScramCredential;

constexpr std::string_view kServerNonce = "c2VydmVyLW5vbmNlLWZvci1mdXp6aW5n";

const ScramCredential& Credential(HashAlg alg) {
  static const ScramCredential sha1 = [] {
    auto pw = brook::auth::ScramPassword(HashAlg::kSha1, "fuzz", "pencil");
    if (!pw.ok()) __builtin_trap();
    return brook::auth::MakeCredential(HashAlg::kSha1, pw.value(), 4096, "fuzz-salt-sha1!!");
  }();
  static const ScramCredential sha256 = [] {
    auto pw = brook::auth::ScramPassword(HashAlg::kSha256, "fuzz", "pencil");
    if (!pw.ok()) __builtin_trap();
    return brook::auth::MakeCredential(HashAlg::kSha256, pw.value(), 4096,
                                       "fuzz-salt-sha256-28-bytes!!!");
  }();
  return alg == HashAlg::kSha1 ? sha1 : sha256;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const HashAlg alg = (data[0] & 1) ? HashAlg::kSha1 : HashAlg::kSha256;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t nul = rest.find('\0');
  // Separate buffers, so a read past either message is caught by ASan.
  std::string first(rest.substr(0, nul));
  std::string final_msg(nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1));

  brook::auth::ScramServer server(alg);
  auto user = server.ReadClientFirst(first);
  if (!user.ok()) return 0;
  (void)server.ServerFirst(Credential(alg), std::string(kServerNonce));
  auto reply = server.ReadClientFinal(final_msg);
  if (reply.ok() && reply.value().rfind("v=", 0) != 0) __builtin_trap();
  return 0;
}
