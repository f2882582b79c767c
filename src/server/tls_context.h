#pragma once
// The server's OpenSSL context, built once at startup from the --tls* options.
//
// Owns: loading the server certificate and key (and its password), the CA file that
// client certificates must chain to, whether a client certificate is required, and
// which protocol versions are refused. Any problem is reported before brookd listens,
// so a misconfigured server never starts half-secured.
// Thread-safety: the returned context is configured once and then only read (OpenSSL
// contexts are safe to share between connections on different threads).

#include <memory>
#include <string>
#include <string_view>

#include "commands/net_options.h"
#include "server/asio_fwd.h"
#include "util/status.h"

#include <asio/ssl.hpp>

namespace brook::server {

StatusWith<std::unique_ptr<asio::ssl::context>> MakeTlsContext(const commands::TlsOptions& tls);

// A TLS record starts with its content type; a handshake record (ClientHello) is 22.
inline constexpr unsigned char kTlsHandshakeRecord = 0x16;

// Whether the first kHeaderSize (16) bytes a client sent open a TLS handshake rather than
// a wire-protocol message. The first byte alone cannot tell: a 278-byte message also
// starts with 0x16 (its length's low byte). A TLS record is 0x16, then version major 3;
// a wire header carries a known opcode at bytes 12..15, where a ClientHello has its
// random bytes. Both checks together cannot mistake a valid message for TLS.
bool IsTlsClientHello(std::string_view first16);

// The subject of the peer's verified certificate ("" when it sent none), for logs.
std::string PeerCertificateSubject(SSL* ssl);

}  // namespace brook::server
