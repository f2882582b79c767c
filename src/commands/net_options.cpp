#include "commands/net_options.h"

#include <arpa/inet.h>

#include <array>

namespace brook::commands {
namespace {

constexpr std::array<std::pair<TlsMode, std::string_view>, 4> kModes = {{
    {TlsMode::kDisabled, "disabled"},
    {TlsMode::kAllowTls, "allowTLS"},
    {TlsMode::kPreferTls, "preferTLS"},
    {TlsMode::kRequireTls, "requireTLS"},
}};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool IsLoopbackAddress(std::string_view addr) {
  if (addr == "localhost") return true;
  std::string text(addr);
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return buf[0] == 127;
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    static constexpr unsigned char kLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    for (int i = 0; i < 16; ++i) {
      if (buf[i] != kLoop6[i]) return false;
    }
    return true;
  }
  // A host name other than localhost may resolve to anything: not loopback.
  return false;
}

}  // namespace

StatusWith<TlsMode> ParseTlsMode(std::string_view name) {
  for (const auto& [mode, text] : kModes) {
    if (text == name) return mode;
  }
  return Status(ErrorCodes::kBadValue, "--tlsMode must be one of disabled, allowTLS, preferTLS, requireTLS; got '" +
                                           std::string(name) + "'");
}

std::string_view TlsModeName(TlsMode mode) {
  for (const auto& [m, text] : kModes) {
    if (m == mode) return text;
  }
  return "disabled";
}

Status ValidateTlsOptions(const TlsOptions& tls) {
  if (!tls.enabled()) return Status::OK();
  if (tls.certificate_key_file.empty()) {
    return Status(ErrorCodes::kBadValue, "--tlsMode " + std::string(TlsModeName(tls.mode)) +
                                             " needs --tlsCertificateKeyFile (the server's certificate and key, PEM)");
  }
  std::string_view rest = tls.disabled_protocols;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view name = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (name != "TLS1_0" && name != "TLS1_1" && name != "TLS1_2" && name != "TLS1_3" && name != "none") {
      return Status(ErrorCodes::kBadValue, "--tlsDisabledProtocols: unknown protocol '" + std::string(name) +
                                               "' (expected TLS1_0, TLS1_1, TLS1_2, TLS1_3 or none)");
    }
  }
  return Status::OK();
}

std::vector<std::string> SplitBindIp(std::string_view bind_ip) {
  std::vector<std::string> out;
  while (!bind_ip.empty()) {
    size_t comma = bind_ip.find(',');
    std::string_view addr = Trim(bind_ip.substr(0, comma));
    bind_ip = comma == std::string_view::npos ? std::string_view() : bind_ip.substr(comma + 1);
    if (!addr.empty()) out.emplace_back(addr);
  }
  return out;
}

bool AllLoopback(std::string_view bind_ip) {
  auto addresses = SplitBindIp(bind_ip);
  if (addresses.empty()) return false;
  for (const auto& addr : addresses) {
    if (!IsLoopbackAddress(addr)) return false;
  }
  return true;
}

Status CheckBindSafety(std::string_view bind_ip, bool auth, bool insecure) {
  if (auth || insecure || AllLoopback(bind_ip)) return Status::OK();
  return Status(ErrorCodes::kBadValue,
                "refusing to listen on " + std::string(bind_ip) +
                    " without access control: any host that can reach this address could read and "
                    "change every database. Start with --auth (and create a user), or bind to "
                    "127.0.0.1, or pass --insecure to accept the risk on purpose");
}

}  // namespace brook::commands
