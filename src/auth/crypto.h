#pragma once
// The cryptographic primitives SCRAM needs, over OpenSSL 3: SHA-1/SHA-256 digests, HMAC,
// PBKDF2 (RFC 5802's Hi()), MD5 (MongoDB's SCRAM-SHA-1 password digest), random bytes,
// base64 (RFC 4648, with padding, as SCRAM messages carry it) and a constant-time compare.
// Thread-safety: pure functions; OpenSSL 3 is thread-safe without setup.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace brook::auth {

enum class HashAlg { kSha1, kSha256 };

size_t DigestSize(HashAlg alg);
// Raw digest bytes.
std::string Hash(HashAlg alg, std::string_view data);
std::string Hmac(HashAlg alg, std::string_view key, std::string_view data);
// PBKDF2-HMAC with one output block (DigestSize bytes): SCRAM's SaltedPassword.
std::string Pbkdf2(HashAlg alg, std::string_view password, std::string_view salt, int iterations);
// Lower-case hex MD5.
std::string Md5Hex(std::string_view data);
// Cryptographically strong random bytes (RAND_bytes); aborts if the RNG fails, since
// continuing with predictable nonces or salts would be worse than stopping.
std::string RandomBytes(size_t n);

std::string Base64Encode(std::string_view data);
// nullopt on any character outside the alphabet or bad padding.
std::optional<std::string> Base64Decode(std::string_view text);

bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace brook::auth
