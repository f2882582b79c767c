#include "server/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "wire/message.h"

namespace brook::server {
namespace {

Status Bad(const std::string& what, const std::error_code& ec) {
  return Status(ErrorCodes::kInvalidOptions, what + ": " + ec.message());
}

// Maps --tlsDisabledProtocols onto OpenSSL: the allowed versions' range as minimum and
// maximum, plus the per-version switch for one disabled in the middle of it.
Status ApplyProtocols(SSL_CTX* ctx, const std::string& disabled) {
  struct Version {
    const char* name;
    int version;
    uint64_t no_flag;
    bool off;
  };
  Version versions[] = {
      {"TLS1_0", TLS1_VERSION, SSL_OP_NO_TLSv1, true},  // MongoDB's default: 1.0 and 1.1 off
      {"TLS1_1", TLS1_1_VERSION, SSL_OP_NO_TLSv1_1, true},
      {"TLS1_2", TLS1_2_VERSION, SSL_OP_NO_TLSv1_2, false},
      {"TLS1_3", TLS1_3_VERSION, SSL_OP_NO_TLSv1_3, false},
  };
  if (!disabled.empty()) {
    for (auto& v : versions) v.off = disabled.find(v.name) != std::string::npos;
  }
  int min = 0;
  int max = 0;
  uint64_t holes = 0;
  for (const auto& v : versions) {
    if (v.off) {
      holes |= v.no_flag;
      continue;
    }
    if (!min) min = v.version;
    max = v.version;
  }
  if (!min) return Status(ErrorCodes::kInvalidOptions, "--tlsDisabledProtocols disables every TLS version");
  if (SSL_CTX_set_min_proto_version(ctx, min) != 1 || SSL_CTX_set_max_proto_version(ctx, max) != 1) {
    return Status(ErrorCodes::kInvalidOptions, "cannot restrict the TLS protocol versions");
  }
  SSL_CTX_set_options(ctx, holes);
  return Status::OK();
}

}  // namespace

StatusWith<std::unique_ptr<asio::ssl::context>> MakeTlsContext(const commands::TlsOptions& tls) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  std::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::single_dh_use,
                   ec);
  if (ec) return Bad("cannot set TLS options", ec);
  BROOK_RETURN_IF_ERROR(ApplyProtocols(ctx->native_handle(), tls.disabled_protocols));

  if (!tls.certificate_key_file_password.empty()) {
    std::string password = tls.certificate_key_file_password;
    ctx->set_password_callback(
        [password](std::size_t, asio::ssl::context::password_purpose) { return password; }, ec);
    if (ec) return Bad("cannot set the key password", ec);
  }
  // One PEM file holds the certificate (with its chain) and the private key, as MongoDB's
  // --tlsCertificateKeyFile does.
  ctx->use_certificate_chain_file(tls.certificate_key_file, ec);
  if (ec) return Bad("cannot read the certificate in --tlsCertificateKeyFile " + tls.certificate_key_file, ec);
  ctx->use_private_key_file(tls.certificate_key_file, asio::ssl::context::pem, ec);
  if (ec) return Bad("cannot read the private key in --tlsCertificateKeyFile " + tls.certificate_key_file, ec);
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return Status(ErrorCodes::kInvalidOptions,
                  "the private key in " + tls.certificate_key_file + " does not match its certificate");
  }

  if (!tls.ca_file.empty()) {
    ctx->load_verify_file(tls.ca_file, ec);
    if (ec) return Bad("cannot read --tlsCAFile " + tls.ca_file, ec);
    // Tell clients which CAs we accept, so one with several certificates picks the right one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    }
    int mode = asio::ssl::verify_peer;
    if (!tls.allow_connections_without_certificates) mode |= asio::ssl::verify_fail_if_no_peer_cert;
    ctx->set_verify_mode(mode, ec);
    if (ec) return Bad("cannot set the client certificate mode", ec);
    if (tls.allow_invalid_certificates) {
      ctx->set_verify_callback([](bool, asio::ssl::verify_context&) { return true; }, ec);
      if (ec) return Bad("cannot set the certificate check", ec);
    }
    // Verifying peers with session resumption needs a session id context.
    static constexpr unsigned char kSessionContext[] = "brookd";
    SSL_CTX_set_session_id_context(ctx->native_handle(), kSessionContext, sizeof(kSessionContext) - 1);
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none, ec);
    if (ec) return Bad("cannot set the client certificate mode", ec);
  }
  return ctx;
}

bool IsTlsClientHello(std::string_view first16) {
  if (first16.size() < static_cast<size_t>(wire::kHeaderSize)) return false;
  if (static_cast<unsigned char>(first16[0]) != kTlsHandshakeRecord || first16[1] != 0x03) return false;
  const int32_t op_code = wire::ReadLE32(first16.data() + 12);
  return op_code != static_cast<int32_t>(wire::OpCode::kMsg) && op_code != static_cast<int32_t>(wire::OpCode::kQuery) &&
         op_code != static_cast<int32_t>(wire::OpCode::kCompressed);
}

std::string PeerCertificateSubject(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return "";
  std::string subject;
  if (char* line = X509_NAME_oneline(X509_get_subject_name(cert), nullptr, 0)) {
    subject = line;
    OPENSSL_free(line);
  }
  X509_free(cert);
  return subject;
}

}  // namespace brook::server
