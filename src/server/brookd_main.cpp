// brookd: the Brook server executable. Parses flags (CLI11) and an optional YAML config,
// opens storage, the catalog and the registries, then serves until SIGINT/SIGTERM.
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
#include "commands/operation_context.h"
#include "commands/server_options.h"
#include "commands/server_stats.h"
#include "commands/sessions.h"
#include "server/logging.h"
#include "server/server.h"
#include "storage/engine.h"

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
  bool auth = false;
};

// Reads a YAML config. Keys are the flag names (port, bind_ip, dbpath, replSet,
// advertise, oplogSizeMB, logpath, maxConns, setParameter: {name: value}); MongoDB's
// nested spelling (net.port, net.bindIp, storage.dbPath, replication.replSetName,
// replication.oplogSizeMB, systemLog.path, net.maxIncomingConnections) is accepted too.
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
    if (auto net = root["net"]) {
      get(net["port"], &v->port);
      get(net["bindIp"], &v->bind_ip);
      get(net["maxIncomingConnections"], &v->max_conns);
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

bson::Doc ParsedOptions(const CliValues& v, const std::map<std::string, std::string>& params) {
  bson::Builder b;
  if (!v.config.empty()) b.AppendString("config", v.config);
  b.OpenDocument("net");
  b.AppendString("bindIp", v.bind_ip);
  b.AppendInt32("port", v.port);
  b.AppendInt64("maxIncomingConnections", v.max_conns);
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
  app.add_option("--bind_ip", v.bind_ip, "IP address to listen on")->default_val("127.0.0.1");
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
  app.add_option("--maxConns", v.max_conns, "maximum simultaneous connections")->default_val(10000);
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
    if (!given("--auth")) v.auth = from_file.auth;
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
  if (v.max_conns <= 0 || v.oplog_size_mb <= 0) {
    std::cerr << "brookd: --maxConns and --oplogSizeMB must be positive\n";
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
  options.auth = v.auth;
  options.argv.assign(argv, argv + argc);
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
  server::Log('W', "CONTROL", 22120, "initandlisten",
              "Access control is not enabled for the database. Read and write access to data "
              "and configuration is unrestricted");

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

    commands::ServiceContext service;
    service.options = &options;
    service.engine = engine.value().get();
    service.catalog = catalog.value().get();
    service.cursors = &cursors;
    service.sessions = &sessions;
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
      attr.AppendBool("ssl", false);
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
