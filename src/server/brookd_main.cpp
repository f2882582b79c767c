// brookd: the Brook server executable. Parses flags (CLI11) and an optional YAML config,
// opens storage, the catalog and the registries, then serves until SIGINT/SIGTERM.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bson/builder.h"
#include "catalog/catalog.h"
#include "changestream/tailer.h"
#include "commands/auth_manager.h"
#include "commands/cursor_registry.h"
#include "commands/failpoints.h"
#include "commands/hello_fields.h"
#include "commands/log_buffer.h"
#include "commands/net_options.h"
#include "commands/operation_context.h"
#include "commands/server_options.h"
#include "commands/server_stats.h"
#include "commands/sessions.h"
#include "commands/transactions.h"
#include "server/logging.h"
#include "server/server.h"
#include "storage/engine.h"
#include "wire/message.h"

namespace brook {
namespace {

using commands::ServerOptions;

struct CliValues {
  int port = 27017;
  std::string bind_ip = "127.0.0.1";
  std::string dbpath = "./data";
  std::string repl_set = "rs0";
  std::string advertise;
  int64_t oplog_size_mb = 1024;
  std::string config;
  std::string logpath;
  std::vector<std::string> set_parameters;
  int64_t max_conns = 10000;
  int io_threads = 0;  // 0: one per core, at least 2
  bool auth = false;
  bool bind_ip_all = false;
  bool insecure = false;
  int64_t max_message_size_bytes = 48'000'000;
  std::string tls_mode = "disabled";
  std::string tls_certificate_key_file;
  std::string tls_certificate_key_file_password;
  std::string tls_ca_file;
  bool tls_allow_connections_without_certificates = false;
  bool tls_allow_invalid_certificates = false;
  std::string tls_disabled_protocols;
};


// Reads a YAML config. Keys are the flag names (port, bind_ip, bind_ip_all, dbpath,
// replSet, advertise, oplogSizeMB, logpath, maxConns, ioThreads, maxMessageSizeBytes, auth,
// insecure, tlsMode, tlsCertificateKeyFile, tlsCertificateKeyFilePassword, tlsCAFile,
// tlsAllowConnectionsWithoutCertificates, tlsAllowInvalidCertificates,
// tlsDisabledProtocols, setParameter: {name: value}); MongoDB's nested spelling
// (net.port, net.bindIp, net.bindIpAll, net.maxIncomingConnections, net.tls.mode,
// net.ioThreads, net.tls.certificateKeyFile, net.tls.certificateKeyFilePassword, net.tls.CAFile,
// net.tls.allowConnectionsWithoutCertificates, net.tls.allowInvalidCertificates,
// net.tls.disabledProtocols, storage.dbPath, replication.replSetName,
// replication.oplogSizeMB, systemLog.path, security.authorization) is accepted too.
Status LoadConfig(const std::string& path, CliValues* v, std::map<std::string, std::string>* params) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return Status(ErrorCodes::kBadValue, "cannot read config file " + path + ": " + e.what());
  }
  try {
    auto get = [&](const YAML::Node& n, auto* out) {
      if (n && !n.IsNull()) *out = n.as<std::remove_pointer_t<decltype(out)>>();
    };
    get(root["port"], &v->port);
    get(root["bind_ip"], &v->bind_ip);
    get(root["dbpath"], &v->dbpath);
    get(root["replSet"], &v->repl_set);
    get(root["advertise"], &v->advertise);
    get(root["oplogSizeMB"], &v->oplog_size_mb);
    get(root["logpath"], &v->logpath);
    get(root["maxConns"], &v->max_conns);
    get(root["ioThreads"], &v->io_threads);
    get(root["bind_ip_all"], &v->bind_ip_all);
    get(root["insecure"], &v->insecure);
    get(root["maxMessageSizeBytes"], &v->max_message_size_bytes);
    get(root["tlsMode"], &v->tls_mode);
    get(root["tlsCertificateKeyFile"], &v->tls_certificate_key_file);
    get(root["tlsCertificateKeyFilePassword"], &v->tls_certificate_key_file_password);
    get(root["tlsCAFile"], &v->tls_ca_file);
    get(root["tlsAllowConnectionsWithoutCertificates"], &v->tls_allow_connections_without_certificates);
    get(root["tlsAllowInvalidCertificates"], &v->tls_allow_invalid_certificates);
    get(root["tlsDisabledProtocols"], &v->tls_disabled_protocols);
    if (auto net = root["net"]) {
      get(net["port"], &v->port);
      get(net["bindIp"], &v->bind_ip);
      get(net["bindIpAll"], &v->bind_ip_all);
      get(net["maxIncomingConnections"], &v->max_conns);
      get(net["ioThreads"], &v->io_threads);
      get(net["maxMessageSizeBytes"], &v->max_message_size_bytes);
      if (auto tls = net["tls"]) {
        get(tls["mode"], &v->tls_mode);
        get(tls["certificateKeyFile"], &v->tls_certificate_key_file);
        get(tls["certificateKeyFilePassword"], &v->tls_certificate_key_file_password);
        get(tls["CAFile"], &v->tls_ca_file);
        get(tls["allowConnectionsWithoutCertificates"], &v->tls_allow_connections_without_certificates);
        get(tls["allowInvalidCertificates"], &v->tls_allow_invalid_certificates);
        get(tls["disabledProtocols"], &v->tls_disabled_protocols);
      }
    }
    if (auto storage = root["storage"]) get(storage["dbPath"], &v->dbpath);
    if (auto repl = root["replication"]) {
      get(repl["replSetName"], &v->repl_set);
      get(repl["oplogSizeMB"], &v->oplog_size_mb);
    }
    if (auto log = root["systemLog"]) get(log["path"], &v->logpath);
    get(root["auth"], &v->auth);
    if (auto security = root["security"]) {
      if (auto authz = security["authorization"]; authz && !authz.IsNull()) {
        std::string mode = authz.as<std::string>();
        if (mode != "enabled" && mode != "disabled") {
          return Status(ErrorCodes::kBadValue, "security.authorization must be 'enabled' or 'disabled'");
        }
        v->auth = mode == "enabled";
      }
    }
    if (auto sp = root["setParameter"]) {
      if (!sp.IsMap()) return Status(ErrorCodes::kBadValue, "setParameter in the config file must be a map");
      for (const auto& kv : sp) (*params)[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
  } catch (const std::exception& e) {
    return Status(ErrorCodes::kBadValue, "invalid config file " + path + ": " + e.what());
  }
  return Status::OK();
}

// Each connection is a file descriptor, and RocksDB needs its own: raise the soft limit
// to the hard one, and say so when even that cannot hold maxConns.
void RaiseFileLimit(int64_t max_conns) {
  constexpr int64_t kReserved = 1000;  // RocksDB files, logs, the listener
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur != lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  if (lim.rlim_cur != RLIM_INFINITY && static_cast<int64_t>(lim.rlim_cur) < max_conns + kReserved) {
    bson::Builder attr;
    attr.AppendInt64("maxConns", max_conns);
    attr.AppendInt64("openFileLimit", static_cast<int64_t>(lim.rlim_cur));
    server::Log('W', "CONTROL", 22184, "initandlisten",
                "Soft rlimits for open file descriptors too low for maxConns: connections beyond the "
                "limit will be refused by the operating system",
                attr.Done());
  }
}

// getCmdLineOpts.argv, with secrets replaced as MongoDB does ("<password>"), since
// monitoring users may read it.
std::vector<std::string> RedactedArgv(int argc, char** argv) {
  constexpr std::string_view kSecret = "--tlsCertificateKeyFilePassword";
  std::vector<std::string> out(argv, argv + argc);
  for (size_t i = 0; i < out.size(); ++i) {
    std::string_view arg = out[i];
    if (arg == kSecret && i + 1 < out.size()) {
      out[++i] = "<password>";
    } else if (arg.size() > kSecret.size() && arg.substr(0, kSecret.size()) == kSecret && arg[kSecret.size()] == '=') {
      out[i] = std::string(kSecret) + "=<password>";
    }
  }
  return out;
}

bson::Doc ParsedOptions(const CliValues& v, const std::map<std::string, std::string>& params) {
  bson::Builder b;
  if (!v.config.empty()) b.AppendString("config", v.config);
  b.OpenDocument("net");
  b.AppendString("bindIp", v.bind_ip);
  b.AppendInt32("port", v.port);
  b.AppendInt64("maxIncomingConnections", v.max_conns);
  if (v.io_threads > 0) b.AppendInt32("ioThreads", v.io_threads);
  b.AppendInt64("maxMessageSizeBytes", v.max_message_size_bytes);
  if (v.tls_mode != "disabled") {
    // Never the key password: getCmdLineOpts is readable by monitoring users.
    b.OpenDocument("tls");
    b.AppendString("mode", v.tls_mode);
    b.AppendString("certificateKeyFile", v.tls_certificate_key_file);
    if (!v.tls_ca_file.empty()) b.AppendString("CAFile", v.tls_ca_file);
    if (v.tls_allow_connections_without_certificates) b.AppendBool("allowConnectionsWithoutCertificates", true);
    if (v.tls_allow_invalid_certificates) b.AppendBool("allowInvalidCertificates", true);
    if (!v.tls_disabled_protocols.empty()) b.AppendString("disabledProtocols", v.tls_disabled_protocols);
    b.Close();
  }
  b.Close();
  b.OpenDocument("replication");
  b.AppendString("replSet", v.repl_set);
  b.AppendInt64("oplogSizeMB", v.oplog_size_mb);
  b.Close();
  if (!params.empty()) {
    b.OpenDocument("setParameter");
    for (const auto& [k, val] : params) b.AppendString(k, val);
    b.Close();
  }
  if (v.auth) b.OpenDocument("security").AppendString("authorization", "enabled").Close();
  b.OpenDocument("storage").AppendString("dbPath", v.dbpath).Close();
  if (!v.logpath.empty()) {
    b.OpenDocument("systemLog");
    b.AppendString("destination", "file");
    b.AppendString("path", v.logpath);
    b.Close();
  }
  return b.Done();
}

int Main(int argc, char** argv) {
  CliValues v;
  CLI::App app{"brookd: a document database server speaking the MongoDB wire protocol"};
  app.set_version_flag("--version", std::string("brookd version v") + std::string(commands::kBrookVersion) +
                                        " (MongoDB " + std::string(commands::kServerVersion) +
                                        " compatible)");
  app.add_option("--port", v.port, "TCP port to listen on")->default_val(27017);
  app.add_option("--bind_ip", v.bind_ip,
                 "IP address to listen on; an address other hosts can reach needs --auth (or --insecure)")
      ->default_val("127.0.0.1");
  app.add_flag("--bind_ip_all", v.bind_ip_all, "listen on every IPv4 address (0.0.0.0); needs --auth (or --insecure)");
  app.add_flag("--insecure", v.insecure,
               "allow listening on a non-loopback address without --auth (anyone who can reach it has "
               "full access)");
  app.add_option("--dbpath", v.dbpath, "directory for the data files (created if missing)")
      ->default_val("./data");
  app.add_option("--replSet", v.repl_set, "replica set name reported to clients")->default_val("rs0");
  app.add_option("--advertise", v.advertise,
                 "host:port clients should use (hello hosts/me/primary); default bind_ip:port");
  app.add_option("--oplogSizeMB", v.oplog_size_mb, "oplog size in megabytes")->default_val(1024);
  app.add_option("--config,-f", v.config, "YAML configuration file (flags given on the command line win)");
  app.add_option("--logpath", v.logpath, "log file (default: stderr)");
  app.add_option("--setParameter", v.set_parameters,
                 "server parameter name=value (repeatable), e.g. enableTestCommands=1");
  app.add_option("--maxConns", v.max_conns,
                 "maximum simultaneous connections; a connection over it is closed at once")
      ->default_val(10000);
  app.add_option("--ioThreads", v.io_threads,
                 "network threads; each connection is served by one of them, assigned round robin "
                 "(0: one per core, at least 2)")
      ->default_val(0);
  app.add_option("--maxMessageSizeBytes", v.max_message_size_bytes,
                 "largest message a client may send (1024 to 48000000); a larger one is answered with "
                 "BSONObjectTooLarge and skipped. Related limits are server parameters: "
                 "messageReceiveTimeoutMillis (default 60000: a message must arrive in full within it "
                 "once begun), cursorTimeoutMillis (default 600000: idle cursors are killed), "
                 "maxOpenChangeStreams (default 10000)")
      ->default_val(48000000);
  app.add_option("--tlsMode", v.tls_mode,
                 "disabled, allowTLS or preferTLS (one port takes TLS and plain clients), requireTLS")
      ->default_val("disabled");
  app.add_option("--tlsCertificateKeyFile", v.tls_certificate_key_file,
                 "PEM file with the server's certificate (and chain) and private key");
  app.add_option("--tlsCertificateKeyFilePassword", v.tls_certificate_key_file_password,
                 "password of an encrypted private key in --tlsCertificateKeyFile");
  app.add_option("--tlsCAFile", v.tls_ca_file,
                 "PEM file of the CAs that sign client certificates; with it, clients must present a "
                 "certificate signed by one of them");
  app.add_flag("--tlsAllowConnectionsWithoutCertificates", v.tls_allow_connections_without_certificates,
               "with --tlsCAFile: check a client certificate when one is offered, but accept clients "
               "that offer none");
  app.add_flag("--tlsAllowInvalidCertificates", v.tls_allow_invalid_certificates,
               "accept client certificates that do not verify against --tlsCAFile (testing only)");
  app.add_option("--tlsDisabledProtocols", v.tls_disabled_protocols,
                 "comma-separated TLS1_0,TLS1_1,TLS1_2,TLS1_3 to refuse, or none (default: TLS1_0,TLS1_1)");
  app.add_flag("--auth", v.auth,
               "access control: every command needs an authenticated user with the privileges "
               "(SCRAM-SHA-1/256; iteration counts via --setParameter scramIterationCount=N, "
               "scramSHA256IterationCount=N)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  std::map<std::string, std::string> params;
  if (!v.config.empty()) {
    CliValues from_file = v;
    Status st = LoadConfig(v.config, &from_file, &params);
    if (!st.ok()) {
      std::cerr << "brookd: " << st.reason() << "\n";
      return 2;
    }
    // Flags given on the command line override the file.
    auto given = [&](const char* flag) { return app.count(flag) > 0; };
    if (!given("--port")) v.port = from_file.port;
    if (!given("--bind_ip")) v.bind_ip = from_file.bind_ip;
    if (!given("--dbpath")) v.dbpath = from_file.dbpath;
    if (!given("--replSet")) v.repl_set = from_file.repl_set;
    if (!given("--advertise")) v.advertise = from_file.advertise;
    if (!given("--oplogSizeMB")) v.oplog_size_mb = from_file.oplog_size_mb;
    if (!given("--logpath")) v.logpath = from_file.logpath;
    if (!given("--maxConns")) v.max_conns = from_file.max_conns;
    if (!given("--ioThreads")) v.io_threads = from_file.io_threads;
    if (!given("--auth")) v.auth = from_file.auth;
    // An address given on the command line beats the file's bindIpAll too.
    if (!given("--bind_ip_all") && !given("--bind_ip")) v.bind_ip_all = from_file.bind_ip_all;
    if (!given("--insecure")) v.insecure = from_file.insecure;
    if (!given("--maxMessageSizeBytes")) v.max_message_size_bytes = from_file.max_message_size_bytes;
    if (!given("--tlsMode")) v.tls_mode = from_file.tls_mode;
    if (!given("--tlsCertificateKeyFile")) v.tls_certificate_key_file = from_file.tls_certificate_key_file;
    if (!given("--tlsCertificateKeyFilePassword")) {
      v.tls_certificate_key_file_password = from_file.tls_certificate_key_file_password;
    }
    if (!given("--tlsCAFile")) v.tls_ca_file = from_file.tls_ca_file;
    if (!given("--tlsAllowConnectionsWithoutCertificates")) {
      v.tls_allow_connections_without_certificates = from_file.tls_allow_connections_without_certificates;
    }
    if (!given("--tlsAllowInvalidCertificates")) {
      v.tls_allow_invalid_certificates = from_file.tls_allow_invalid_certificates;
    }
    if (!given("--tlsDisabledProtocols")) v.tls_disabled_protocols = from_file.tls_disabled_protocols;
  }
  for (const auto& sp : v.set_parameters) {
    auto eq = sp.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "brookd: --setParameter expects name=value, got '" << sp << "'\n";
      return 2;
    }
    params[sp.substr(0, eq)] = sp.substr(eq + 1);
  }
  if (v.port < 0 || v.port > 65535) {
    std::cerr << "brookd: --port must be between 0 and 65535\n";
    return 2;
  }
  if (v.io_threads < 0 || v.io_threads > 256) {
    std::cerr << "brookd: --ioThreads must be between 0 and 256\n";
    return 2;
  }
  if (v.max_conns <= 0 || v.oplog_size_mb <= 0) {
    std::cerr << "brookd: --maxConns and --oplogSizeMB must be positive\n";
    return 2;
  }
  if (v.max_message_size_bytes < 1024 || v.max_message_size_bytes > wire::kMaxMessageSizeBytes) {
    std::cerr << "brookd: --maxMessageSizeBytes must be between 1024 and " << wire::kMaxMessageSizeBytes << "\n";
    return 2;
  }
  if (v.bind_ip_all) v.bind_ip = "0.0.0.0";
  commands::TlsOptions tls;
  {
    auto mode = commands::ParseTlsMode(v.tls_mode);
    if (!mode.ok()) {
      std::cerr << "brookd: " << mode.status().reason() << "\n";
      return 2;
    }
    tls.mode = mode.value();
    tls.certificate_key_file = v.tls_certificate_key_file;
    tls.certificate_key_file_password = v.tls_certificate_key_file_password;
    tls.ca_file = v.tls_ca_file;
    tls.allow_connections_without_certificates = v.tls_allow_connections_without_certificates;
    tls.allow_invalid_certificates = v.tls_allow_invalid_certificates;
    tls.disabled_protocols = v.tls_disabled_protocols;
    if (Status st = commands::ValidateTlsOptions(tls); !st.ok()) {
      std::cerr << "brookd: " << st.reason() << "\n";
      return 2;
    }
  }
  if (Status st = commands::CheckBindSafety(v.bind_ip, v.auth, v.insecure); !st.ok()) {
    std::cerr << "brookd: " << st.reason() << "\n";
    return 2;
  }

  ServerOptions options;
  for (const auto& [name, value] : params) {
    Status st = options.parameters->SetFromString(name, value);
    if (!st.ok()) {
      std::cerr << "brookd: " << st.reason() << "; refusing to start\n";
      return 2;
    }
  }
  options.port = v.port;
  options.bind_ip = v.bind_ip;
  options.dbpath = v.dbpath;
  options.repl_set = v.repl_set;
  options.advertise = v.advertise;
  options.oplog_size_mb = v.oplog_size_mb;
  options.config_file = v.config;
  options.logpath = v.logpath;
  options.max_conns = v.max_conns;
  options.io_threads = v.io_threads;
  options.auth = v.auth;
  options.insecure = v.insecure;
  options.max_message_size_bytes = v.max_message_size_bytes;
  options.tls = tls;
  options.argv = RedactedArgv(argc, argv);
  options.parsed = ParsedOptions(v, params);

  commands::LogBuffer log_buffer;
  if (Status st = server::InitLogging(options.logpath, &log_buffer); !st.ok()) {
    std::cerr << "brookd: " << st.reason() << "\n";
    return 2;
  }
  {
    bson::Builder attr;
    attr.AppendInt64("pid", static_cast<int64_t>(getpid()));
    attr.AppendInt32("port", options.port);
    attr.AppendString("dbPath", options.dbpath);
    attr.AppendString("version", commands::kBrookVersion);
    server::Log('I', "CONTROL", 4615611, "initandlisten", "Brook starting", attr.Done());
  }
  if (!options.auth) {
    server::Log('W', "CONTROL", 22120, "initandlisten",
                "Access control is not enabled for the database. Read and write access to data "
                "and configuration is unrestricted");
  }
  if (!commands::AllLoopback(options.bind_ip) && !options.auth) {
    bson::Builder attr;
    attr.AppendString("bindIp", options.bind_ip);
    server::Log('W', "CONTROL", 8999004, "initandlisten",
                "Listening on a non-loopback address without access control (--insecure): any host "
                "that can reach it has full access",
                attr.Done());
  }
  RaiseFileLimit(options.max_conns);

  auto fail = [&](std::string_view what, const Status& st, int code) {
    bson::Builder attr;
    attr.AppendString("error", st.ToString());
    server::Log('F', "CONTROL", 20557, "initandlisten", what, attr.Done());
    server::ShutdownLogging();
    return code;
  };

  std::error_code fs_ec;
  std::filesystem::create_directories(options.dbpath, fs_ec);
  if (fs_ec) {
    return fail("Cannot create the data directory",
                Status(ErrorCodes::kBadValue, options.dbpath + ": " + fs_ec.message()), 100);
  }

  storage::EngineOptions eopts;
  eopts.dbpath = options.dbpath;
  eopts.oplog_size_bytes = static_cast<uint64_t>(options.oplog_size_mb) << 20;
  auto engine = storage::Engine::Open(eopts);
  if (!engine.ok()) return fail("Cannot open the storage engine", engine.status(), 100);
  auto catalog = catalog::Catalog::Open(engine.value().get());
  if (!catalog.ok()) return fail("Cannot open the catalog", catalog.status(), 100);
  if (engine.value()->visible().IsNull()) {
    // A new replica set's oplog starts with this no-op, as MongoDB's replSetInitiate
    // writes it. Without it, an operationTime quoted before the first write is older than
    // the whole oplog, and a stream started at it would fail with ChangeStreamHistoryLost.
    auto initiated = engine.value()->WriteNoop("initiating set");
    if (!initiated.ok()) return fail("Cannot initiate the oplog", initiated.status(), 100);
    Status synced = engine.value()->WaitForDurable(initiated.value(), std::chrono::seconds(30));
    if (!synced.ok()) return fail("Cannot initiate the oplog", synced, 100);
  }

  commands::ServerStats stats;
  commands::FailPoints failpoints;
  {
    // Declared before the cursor registry: its change-stream cursors unregister from it.
    changestream::OplogTailer tailer(engine.value().get());
    tailer.Start();
    commands::CursorRegistry cursors(&stats);
    commands::SessionCatalog sessions(engine.value().get());
    commands::TransactionRegistry transactions(engine.value().get());
    transactions.StartReaper([&options] {
      return options.parameters->GetInt(commands::kParamTransactionLifetimeLimitSeconds);
    });

    commands::ServiceContext service;
    service.options = &options;
    service.engine = engine.value().get();
    service.catalog = catalog.value().get();
    service.cursors = &cursors;
    service.sessions = &sessions;
    service.transactions = &transactions;
    service.failpoints = &failpoints;
    service.stats = &stats;
    service.log_buffer = &log_buffer;
    commands::AuthManager auth_manager(options.auth);
    service.auth = &auth_manager;
    service.change_stream_tailer = &tailer;
    service.log = [](char severity, std::string_view component, int id, std::string_view ctx,
                     std::string_view msg, bson::View attr) { server::Log(severity, component, id, ctx, msg, attr); };
    service.start_time = std::chrono::system_clock::now();
    service.process_id = bson::ObjectId::Generate();
    service.test_commands_enabled = options.parameters->GetBool(commands::kParamEnableTestCommands);

    server::Server server(service);
    if (Status st = server.Listen(); !st.ok()) return fail("Error setting up listener", st, 48);
    {
      bson::Builder attr;
      attr.AppendString("address", options.bind_ip + ":" + std::to_string(server.port()));
      server::Log('I', "NETWORK", 23015, "listener", "Listening on", attr.Done());
    }
    {
      bson::Builder attr;
      attr.AppendInt32("port", server.port());
      attr.AppendBool("ssl", options.tls.enabled());
      server::Log('I', "NETWORK", 23016, "listener", "Waiting for connections", attr.Done());
    }
    server::MarkStartupComplete();
    server.Run();
  }
  // Registries are gone; close the catalog, then the engine (final WAL sync).
  catalog.value().reset();
  engine.value().reset();
  server::Log('I', "CONTROL", 20565, "signalProcessing", "Now exiting");
  server::ShutdownLogging();
  return 0;
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) { return brook::Main(argc, argv); }
