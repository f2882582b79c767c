#pragma once
// ServerOptions (brookd's startup configuration) and ServerParameters (the named
// parameters of --setParameter, getParameter and setParameter).
//
// Owns: the list of parameters Brook knows, their types, defaults and whether they may
// change at startup and/or at runtime. An unknown parameter is an error everywhere:
// brookd refuses to start, setParameter and getParameter answer InvalidOptions (72).
// Thread-safety: ServerOptions is written once before serving, then read-only.
// ServerParameters is internally locked: setParameter may run while other commands
// read parameters.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bson/builder.h"
#include "bson/document.h"
#include "commands/net_options.h"
#include "util/status.h"

namespace brook::commands {

// Parameter names used by code (other parameters only round-trip through get/set).
inline constexpr std::string_view kParamEnableTestCommands = "enableTestCommands";
inline constexpr std::string_view kParamCursorTimeoutMillis = "cursorTimeoutMillis";
inline constexpr std::string_view kParamTransactionLifetimeLimitSeconds =
    "transactionLifetimeLimitSeconds";
inline constexpr std::string_view kParamLogLevel = "logLevel";
inline constexpr std::string_view kParamSlowOpThresholdMs = "slowOpThresholdMs";
// Comma-separated SASL mechanisms saslStart accepts (default both SCRAM variants).
inline constexpr std::string_view kParamAuthenticationMechanisms = "authenticationMechanisms";
inline constexpr std::string_view kParamScramIterationCount = "scramIterationCount";
inline constexpr std::string_view kParamScramSha256IterationCount = "scramSHA256IterationCount";
// MongoDB's: how often the idle-cursor reaper runs (startup only, default 4 s).
inline constexpr std::string_view kParamClientCursorMonitorFrequencySecs = "clientCursorMonitorFrequencySecs";
// Brook's limits (MongoDB has no equivalent): open change-stream cursors server-wide,
// and the time a begun message may take to arrive in full (slow-sender defence).
inline constexpr std::string_view kParamMaxOpenChangeStreams = "maxOpenChangeStreams";
inline constexpr std::string_view kParamMessageReceiveTimeoutMillis = "messageReceiveTimeoutMillis";
inline constexpr int64_t kDefaultMaxOpenChangeStreams = 10000;

class ServerParameters {
 public:
  enum class Kind { kBool, kInt, kString, kDocument };

  ServerParameters();  // registers every known parameter with its default

  // --setParameter name=value: the value is parsed by the parameter's kind ("1", "true").
  Status SetFromString(std::string_view name, std::string_view value);
  // setParameter command: only parameters settable at runtime. On success *previous
  // receives {was: <old value>} fields if non-null.
  Status SetRuntime(std::string_view name, const bson::Element& value, bson::Builder* previous);

  bool Known(std::string_view name) const;
  // Appends `name: value`; false if unknown.
  bool AppendValue(std::string_view name, bson::Builder* out) const;
  // getParameter {showDetails: true}: `name: {value, settableAtRuntime, settableAtStartup}`.
  bool AppendDetails(std::string_view name, bson::Builder* out) const;
  std::vector<std::string> Names() const;

  bool GetBool(std::string_view name) const;
  int64_t GetInt(std::string_view name) const;
  std::string GetString(std::string_view name) const;

 private:
  struct Param {
    Kind kind;
    bool runtime;
    bool startup;
    bool flag = false;
    int64_t number = 0;
    int64_t min = INT64_MIN;  // kInt: smallest accepted value
    std::string text;
    bson::Doc doc;
  };
  Status Assign(Param& p, std::string_view name, const bson::Element& value);
  void AppendLocked(const std::string& name, const Param& p, bson::Builder* out) const;

  mutable std::mutex mu_;
  std::map<std::string, Param, std::less<>> params_;
};

struct ServerOptions {
  int port = 27017;
  std::string bind_ip = "127.0.0.1";
  std::string dbpath = "./data";
  std::string repl_set = "rs0";
  std::string advertise;  // host:port quoted in hello; defaults to bind_ip:port
  int64_t oplog_size_mb = 1024;
  std::string config_file;
  std::string logpath;  // empty: stderr
  int64_t max_conns = 10000;
  int io_threads = 0;   // 0: one per core, at least 2
  bool auth = false;    // --auth / security.authorization: enabled
  bool insecure = false;  // --insecure: allow a non-loopback bind without --auth
  // --maxMessageSizeBytes: the largest message a connection may send (hello reports it);
  // bounds what one connection can make the server buffer.
  int64_t max_message_size_bytes = 48'000'000;
  TlsOptions tls;

  std::vector<std::string> argv;  // getCmdLineOpts.argv
  bson::Doc parsed;               // getCmdLineOpts.parsed (MongoDB's nested shape)

  // Not const through `const ServerOptions*`: parameters change at runtime, under
  // their own lock.
  std::unique_ptr<ServerParameters> parameters = std::make_unique<ServerParameters>();
};

}  // namespace brook::commands
