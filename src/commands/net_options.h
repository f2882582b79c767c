#pragma once
// Network-facing startup options: TLS settings (MongoDB's --tls* flags and net.tls.* keys)
// and the secure-default rules brookd checks before it listens.
//
// Owns: the TLS mode names and their parsing, and the rule "a non-loopback bind address
// needs access control or an explicit --insecure". Plain data: the server layer turns
// TlsOptions into an OpenSSL context; nothing here links OpenSSL.
// Thread-safety: values, written once before serving.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace brook::commands {

// --tlsMode. allowTLS and preferTLS accept TLS and plain connections on one port (the
// server tells them apart by the first bytes); they differ only in what MongoDB would do
// for outgoing connections, which a single node does not make.
enum class TlsMode { kDisabled, kAllowTls, kPreferTls, kRequireTls };

StatusWith<TlsMode> ParseTlsMode(std::string_view name);
std::string_view TlsModeName(TlsMode mode);

struct TlsOptions {
  TlsMode mode = TlsMode::kDisabled;
  std::string certificate_key_file;           // PEM: the server's certificate and key
  std::string certificate_key_file_password;  // for an encrypted key
  std::string ca_file;                        // PEM: CAs that sign client certificates
  // With a CA file, clients must present a certificate signed by it, unless this is set
  // (then a certificate is checked when offered, and a client may offer none).
  bool allow_connections_without_certificates = false;
  // Accept client certificates that do not verify (MongoDB's escape hatch for testing).
  bool allow_invalid_certificates = false;
  // Comma-separated: TLS1_0, TLS1_1, TLS1_2, TLS1_3. Empty: MongoDB's default, which
  // turns off TLS 1.0 and 1.1.
  std::string disabled_protocols;

  bool enabled() const { return mode != TlsMode::kDisabled; }
};

// Checks the TLS options for consistency (a certificate when TLS is on, known protocol
// names); BadValue with the flag to fix otherwise.
Status ValidateTlsOptions(const TlsOptions& tls);

// The entries of a --bind_ip list ("127.0.0.1, ::1" -> {"127.0.0.1", "::1"}), trimmed,
// empty ones dropped.
std::vector<std::string> SplitBindIp(std::string_view bind_ip);

// Whether every address in a --bind_ip list ("127.0.0.1,::1", "localhost") is loopback.
bool AllLoopback(std::string_view bind_ip);

// The secure default: an address other clients can reach needs --auth, unless the
// operator chose --insecure. The error explains what to do.
Status CheckBindSafety(std::string_view bind_ip, bool auth, bool insecure);

}  // namespace brook::commands
