// The admin family: liveness, build and host facts, parameters, statistics, logs, the
// command list, replica-set status, logical-session bookkeeping and fsync. Every
// command here answers from process state; none touches user data.
#include <openssl/opensslv.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "bson/builder.h"
#include "commands/auth_manager.h"
#include "commands/cursor_registry.h"
#include "commands/generic_args.h"
#include "commands/handlers.h"
#include "commands/hello_fields.h"
#include "commands/log_buffer.h"
#include "commands/operation_context.h"
#include "commands/server_options.h"
#include "commands/server_stats.h"
#include "commands/sessions.h"
#include "commands/transactions.h"
#include "storage/engine.h"

namespace brook::commands {
namespace {

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

// A "Vm..." line of /proc/self/status, in kB (0 if unavailable).
int64_t ProcStatusKb(std::string_view key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0 && line.size() > key.size() && line[key.size()] == ':') {
      return std::atoll(line.c_str() + key.size() + 1);
    }
  }
  return 0;
}

int64_t MemTotalMb() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  while (in >> key >> kb) {
    if (key == "MemTotal:") return kb / 1024;
    std::string rest;
    std::getline(in, rest);
  }
  return 0;
}

std::string OsPrettyName() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "Linux";
}

// Arguments of a command other than its name and the generic ones.
template <typename F>
void ForEachArgument(const CommandRequest& req, F&& f) {
  bool first = true;
  for (const auto& e : req.body) {
    if (first) {
      first = false;
      continue;
    }
    if (IsGenericArgument(e.key())) continue;
    f(e);
  }
}

}  // namespace

Status HandlePing(OperationContext&, const CommandRequest&, bson::Builder*) { return Status::OK(); }

Status HandleBuildInfo(OperationContext&, const CommandRequest&, bson::Builder* reply) {
  reply->AppendString("version", kServerVersion);
  reply->AppendString("gitVersion", "brook");
  reply->AppendString("brookVersion", kBrookVersion);
  reply->OpenArray("modules").Close();
  reply->AppendString("allocator", "system");
  reply->AppendString("javascriptEngine", "none");
  reply->AppendString("sysInfo", "deprecated");
  reply->OpenArray("versionArray");
  reply->AppendInt32("0", 7).AppendInt32("1", 0).AppendInt32("2", 0).AppendInt32("3", 0);
  reply->Close();
  reply->OpenDocument("openssl");
  reply->AppendString("running", OPENSSL_VERSION_TEXT);
  reply->AppendString("compiled", OPENSSL_VERSION_TEXT);
  reply->Close();
  reply->OpenDocument("buildEnvironment").Close();
  reply->AppendInt32("bits", 64);
  reply->AppendBool("debug", false);
  reply->AppendInt32("maxBsonObjectSize", 16 * 1024 * 1024);
  reply->OpenArray("storageEngines").AppendString("0", "rocksdb").Close();
  return Status::OK();
}

Status HandleGetParameter(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  const ServerOptions* opts = op.service().options;
  if (!opts) return Status(ErrorCodes::kInternalError, "no server options");
  ServerParameters& params = *opts->parameters;
  auto arg = req.body.first();
  bool all = arg.type() == bson::Type::kString && arg.Str() == "*";
  bool details = false;
  if (arg.IsObject()) {
    all = arg.Obj()["allParameters"].Truthy();
    details = arg.Obj()["showDetails"].Truthy();
  }
  size_t appended = 0;
  auto append = [&](std::string_view name) {
    bool ok = details ? params.AppendDetails(name, reply) : params.AppendValue(name, reply);
    appended += ok;
  };
  if (all) {
    for (const auto& name : params.Names()) append(name);
  } else {
    ForEachArgument(req, [&](const bson::Element& e) { append(e.key()); });
  }
  if (appended == 0) return Status(ErrorCodes::kInvalidOptions, "no option found to get");
  return Status::OK();
}

Status HandleSetParameter(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  const ServerOptions* opts = op.service().options;
  if (!opts) return Status(ErrorCodes::kInternalError, "no server options");
  Status result;
  size_t seen = 0;
  ForEachArgument(req, [&](const bson::Element& e) {
    if (!result.ok()) return;
    ++seen;
    if (seen > 1) {
      result = Status(ErrorCodes::kInvalidOptions, "only one parameter may be set at a time");
      return;
    }
    result = opts->parameters->SetRuntime(e.key(), e, reply);
  });
  BROOK_RETURN_IF_ERROR(result);
  if (seen == 0) {
    return Status(ErrorCodes::kInvalidOptions, "no option found to set, use help:true to see options ");
  }
  return Status::OK();
}

Status HandleServerStatus(OperationContext& op, const CommandRequest&, bson::Builder* reply) {
  ServiceContext& svc = op.service();
  const ServerOptions* opts = svc.options;
  auto now = std::chrono::system_clock::now();
  auto up_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - svc.start_time).count();
  const std::string host = AdvertisedHost(svc);

  reply->AppendString("host", HostName() + ":" + std::to_string(opts ? opts->port : 27017));
  reply->AppendString("version", kServerVersion);
  reply->AppendString("process", "brookd");
  reply->AppendInt64("pid", static_cast<int64_t>(getpid()));
  reply->AppendDouble("uptime", static_cast<double>(up_ms / 1000));
  reply->AppendInt64("uptimeMillis", up_ms);
  reply->AppendInt64("uptimeEstimate", up_ms / 1000);
  reply->AppendDate("localTime", NowMillis());

  if (ServerStats* st = svc.stats) {
    int64_t current = st->connections_current.load();
    int64_t max_conns = opts ? opts->max_conns : 10000;
    reply->OpenDocument("connections");
    reply->AppendInt32("current", static_cast<int32_t>(current));
    reply->AppendInt32("available", static_cast<int32_t>(std::max<int64_t>(0, max_conns - current)));
    reply->AppendInt32("totalCreated", static_cast<int32_t>(st->connections_total_created.load()));
    reply->AppendInt32("active", static_cast<int32_t>(current));
    reply->Close();
    reply->OpenDocument("opcounters");
    reply->AppendInt64("insert", st->opcounters.insert.load());
    reply->AppendInt64("query", st->opcounters.query.load());
    reply->AppendInt64("update", st->opcounters.update.load());
    reply->AppendInt64("delete", st->opcounters.remove.load());
    reply->AppendInt64("getmore", st->opcounters.getmore.load());
    reply->AppendInt64("command", st->opcounters.command.load());
    reply->Close();
    reply->OpenDocument("network");
    reply->AppendInt64("bytesIn", st->bytes_in.load());
    reply->AppendInt64("bytesOut", st->bytes_out.load());
    reply->AppendInt64("numRequests", st->requests.load());
    reply->Close();
    if (op.service().transactions) {
      reply->OpenDocument("transactions");
      op.service().transactions->AppendServerStatus(reply);
      reply->Close();
    }
    reply->OpenDocument("metrics");
    reply->OpenDocument("cursor");
    reply->AppendInt64("timedOut", st->cursors_timed_out.load());
    reply->OpenDocument("open");
    reply->AppendInt64("total", st->cursors_open.load());
    reply->AppendInt64("noTimeout", 0);
    reply->AppendInt64("pinned", 0);
    reply->Close();
    reply->Close();
    reply->Close();
  }
  reply->OpenDocument("mem");
  reply->AppendInt32("bits", 64);
  reply->AppendInt32("resident", static_cast<int32_t>(ProcStatusKb("VmRSS") / 1024));
  reply->AppendInt32("virtual", static_cast<int32_t>(ProcStatusKb("VmSize") / 1024));
  reply->AppendBool("supported", true);
  reply->Close();
  reply->OpenDocument("storageEngine");
  reply->AppendString("name", "rocksdb");
  reply->AppendBool("supportsCommittedReads", true);
  reply->AppendBool("persistent", true);
  reply->Close();
  reply->OpenDocument("repl");
  reply->AppendString("setName", opts ? opts->repl_set : "rs0");
  reply->AppendInt32("setVersion", 1);
  reply->AppendBool("isWritablePrimary", true);
  reply->AppendBool("ismaster", true);
  reply->AppendBool("secondary", false);
  reply->OpenArray("hosts").AppendString("0", host).Close();
  reply->AppendString("primary", host);
  reply->AppendString("me", host);
  reply->Close();
  return Status::OK();
}

Status HandleHostInfo(OperationContext&, const CommandRequest&, bson::Builder* reply) {
  struct utsname u {};
  uname(&u);
  reply->OpenDocument("system");
  reply->AppendDate("currentTime", NowMillis());
  reply->AppendString("hostname", HostName());
  reply->AppendInt32("cpuAddrSize", 64);
  reply->AppendInt64("memSizeMB", MemTotalMb());
  reply->AppendInt64("memLimitMB", MemTotalMb());
  reply->AppendInt32("numCores", static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency())));
  reply->AppendString("cpuArch", u.machine);
  reply->AppendBool("numaEnabled", false);
  reply->Close();
  reply->OpenDocument("os");
  reply->AppendString("type", "Linux");
  reply->AppendString("name", OsPrettyName());
  reply->AppendString("version", u.release);
  reply->Close();
  reply->OpenDocument("extra");
  reply->AppendString("versionString", std::string(u.sysname) + " " + u.release + " " + u.version);
  reply->Close();
  return Status::OK();
}

// connectionStatus lives in auth_cmds.cpp with the rest of the login state.

Status HandleWhatsMyUri(OperationContext& op, const CommandRequest&, bson::Builder* reply) {
  reply->AppendString("you", op.client().remote);
  return Status::OK();
}

Status HandleGetLog(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  auto arg = req.body.first();
  if (arg.type() != bson::Type::kString) {
    return Status(ErrorCodes::kTypeMismatch, "Argument to getLog must be of type String; found " +
                                                 arg.ToString() + " of type " +
                                                 std::string(bson::TypeName(arg.type())));
  }
  if (arg.Str() == "*") {
    reply->OpenArray("names");
    std::string scratch;
    size_t i = 0;
    for (auto name : LogBuffer::Names()) reply->AppendString(bson::ArrayKey(i++, &scratch), name);
    reply->Close();
    return Status::OK();
  }
  std::optional<LogBuffer::Snapshot> snap;
  if (op.service().log_buffer) snap = op.service().log_buffer->Get(arg.Str());
  if (!snap) {
    if (arg.Str() != "global" && arg.Str() != "startupWarnings") {
      return Status(ErrorCodes::kOperationFailed, "No log named '" + std::string(arg.Str()) + "'");
    }
    snap = LogBuffer::Snapshot{};
  }
  reply->AppendInt64("totalLinesWritten", snap->total_lines_written);
  reply->OpenArray("log");
  std::string scratch;
  for (size_t i = 0; i < snap->lines.size(); ++i) {
    reply->AppendString(bson::ArrayKey(i, &scratch), snap->lines[i]);
  }
  reply->Close();
  return Status::OK();
}

Status HandleGetCmdLineOpts(OperationContext& op, const CommandRequest&, bson::Builder* reply) {
  const ServerOptions* opts = op.service().options;
  reply->OpenArray("argv");
  if (opts) {
    std::string scratch;
    for (size_t i = 0; i < opts->argv.size(); ++i) {
      reply->AppendString(bson::ArrayKey(i, &scratch), opts->argv[i]);
    }
  }
  reply->Close();
  reply->AppendDocument("parsed", opts ? opts->parsed.view() : bson::View());
  return Status::OK();
}

Status HandleListCommands(OperationContext&, const CommandRequest&, bson::Builder* reply) {
  // MongoDB lists every name, aliases included, sorted.
  std::map<std::string_view, const CommandSpec*> sorted;
  for (const auto& spec : AllCommands()) {
    sorted.emplace(spec.name, &spec);
    for (auto alias : spec.aliases) sorted.emplace(alias, &spec);
  }
  reply->OpenDocument("commands");
  for (const auto& [name, spec] : sorted) {
    reply->OpenDocument(name);
    reply->AppendString("help", spec->help);
    reply->AppendBool("requiresAuth", !(spec->flags & kNoAuthRequired));
    reply->AppendBool("secondaryOk", true);
    reply->AppendBool("adminOnly", spec->flags & kAdminOnly);
    reply->OpenArray("apiVersions");
    if (spec->flags & kApiVersion1) reply->AppendString("0", "1");
    reply->Close();
    reply->OpenArray("deprecatedApiVersions").Close();
    reply->Close();
  }
  reply->Close();
  return Status::OK();
}

Status HandleReplSetGetStatus(OperationContext& op, const CommandRequest&, bson::Builder* reply) {
  ServiceContext& svc = op.service();
  bson::Timestamp visible, durable;
  if (svc.engine) {
    visible = svc.engine->visible();
    durable = svc.engine->durable();
  }
  auto now = std::chrono::system_clock::now();
  auto up_s = std::chrono::duration_cast<std::chrono::seconds>(now - svc.start_time).count();
  reply->AppendString("set", svc.options ? svc.options->repl_set : "rs0");
  reply->AppendDate("date", NowMillis());
  reply->AppendInt32("myState", 1);
  reply->AppendInt64("term", 1);
  reply->AppendInt32("heartbeatIntervalMillis", 2000);
  reply->AppendInt32("majorityVoteCount", 1);
  reply->AppendInt32("writeMajorityCount", 1);
  reply->AppendInt32("votingMembersCount", 1);
  reply->AppendInt32("writableVotingMembersCount", 1);
  reply->OpenDocument("optimes");
  AppendOpTime(reply, "lastCommittedOpTime", durable);
  reply->AppendDate("lastCommittedWallTime", int64_t{durable.secs} * 1000);
  AppendOpTime(reply, "appliedOpTime", visible);
  AppendOpTime(reply, "durableOpTime", durable);
  reply->AppendDate("lastAppliedWallTime", int64_t{visible.secs} * 1000);
  reply->AppendDate("lastDurableWallTime", int64_t{durable.secs} * 1000);
  reply->Close();
  reply->OpenArray("members");
  reply->OpenDocument("0");
  reply->AppendInt32("_id", 0);
  reply->AppendString("name", AdvertisedHost(svc));
  reply->AppendDouble("health", 1.0);
  reply->AppendInt32("state", 1);
  reply->AppendString("stateStr", "PRIMARY");
  reply->AppendInt64("uptime", up_s);
  AppendOpTime(reply, "optime", visible);
  reply->AppendDate("optimeDate", int64_t{visible.secs} * 1000);
  reply->AppendDate("lastAppliedWallTime", int64_t{visible.secs} * 1000);
  reply->AppendDate("lastDurableWallTime", int64_t{durable.secs} * 1000);
  reply->AppendString("syncSourceHost", "");
  reply->AppendInt32("syncSourceId", -1);
  reply->AppendString("infoMessage", "");
  reply->AppendDate("electionDate",
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        svc.start_time.time_since_epoch()).count());
  reply->AppendInt32("configVersion", 1);
  reply->AppendInt32("configTerm", 1);
  reply->AppendBool("self", true);
  reply->AppendString("lastHeartbeatMessage", "");
  reply->Close();
  reply->Close();
  return Status::OK();
}

namespace {

// endSessions / refreshSessions / killSessions take an array of {id: UUID}.
Status CheckSessionIds(const CommandRequest& req) {
  auto arg = req.body.first();
  if (!arg.IsArray()) {
    return Status(ErrorCodes::kTypeMismatch, "BSON field '" + std::string(arg.key()) +
                                                 "' is the wrong type '" +
                                                 std::string(bson::TypeName(arg.type())) +
                                                 "', expected type 'array'");
  }
  for (const auto& e : arg.Obj()) {
    if (!e.IsObject()) {
      return Status(ErrorCodes::kTypeMismatch,
                    "BSON field '" + std::string(arg.key()) + "' must hold session id documents");
    }
    auto id = e.Obj()["id"];
    if (!id) return Status(40414, "BSON field 'LogicalSessionFromClient.id' is missing but a required field");
    if (id.type() != bson::Type::kBinary || id.Bin().subtype != 4 || id.Bin().bytes.size() != 16) {
      return Status(ErrorCodes::kTypeMismatch, "BSON field 'LogicalSessionFromClient.id' must be a UUID");
    }
  }
  return Status::OK();
}

}  // namespace

// Ends the listed sessions: their cursors are killed and $listLocalSessions forgets them.
Status EndListedSessions(OperationContext& op, const CommandRequest& req) {
  BROOK_RETURN_IF_ERROR(CheckSessionIds(req));
  AuthManager* auth = op.service().auth;
  for (const auto& e : req.body.first().Obj()) {
    bson::Builder lsid;
    lsid.Append(e.Obj()["id"]);
    bson::Doc doc = lsid.Done();
    auto key = SessionCatalog::LsidKey(doc);
    // Another user's session is not this client's to end (in MongoDB the id would name
    // a different session, the caller's own).
    if (key.ok() && auth && auth->enabled() && auth->SessionOwnedByOther(key.value(), SessionOf(op).UserId())) {
      continue;
    }
    if (op.service().cursors) op.service().cursors->KillForSession(doc);
    if (key.ok() && op.service().sessions) op.service().sessions->EndLocal(key.value());
    // An ended or killed session's open transaction is aborted, as MongoDB's is.
    if (key.ok() && op.service().transactions) op.service().transactions->AbortSession(key.value());
  }
  return Status::OK();
}

Status HandleEndSessions(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  return EndListedSessions(op, req);
}

Status HandleKillSessions(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  return EndListedSessions(op, req);
}

Status HandleRefreshSessions(OperationContext&, const CommandRequest& req, bson::Builder*) {
  return CheckSessionIds(req);
}

Status HandleKillAllSessions(OperationContext& op, const CommandRequest& req, bson::Builder*) {
  auto arg = req.body.first();
  if (!arg.IsArray()) {
    return Status(ErrorCodes::kTypeMismatch, "BSON field 'killAllSessions' is the wrong type '" +
                                                 std::string(bson::TypeName(arg.type())) +
                                                 "', expected type 'array'");
  }
  for (const auto& e : arg.Obj()) {
    if (!e.IsObject()) {
      return Status(ErrorCodes::kTypeMismatch, "killAllSessions takes {user, db} documents");
    }
  }
  // An empty list means every session. Sessions are not tracked per user, so a list of
  // users aborts nothing rather than other users' transactions.
  if (arg.Obj().empty() && op.service().transactions) {
    op.service().transactions->AbortOlderThan(std::chrono::steady_clock::time_point::max());
  }
  return Status::OK();
}

Status HandleGetDefaultRWConcern(OperationContext&, const CommandRequest&, bson::Builder* reply) {
  reply->OpenDocument("defaultReadConcern").AppendString("level", "local").Close();
  reply->OpenDocument("defaultWriteConcern");
  reply->AppendString("w", "majority");
  reply->AppendInt32("wtimeout", 0);
  reply->Close();
  reply->AppendDate("localUpdateWallClockTime", NowMillis());
  reply->AppendString("defaultReadConcernSource", "implicit");
  reply->AppendString("defaultWriteConcernSource", "implicit");
  return Status::OK();
}

Status HandleFsync(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  if (req.body["lock"].Truthy()) {
    return Status(ErrorCodes::kCommandNotSupported, "fsync with lock is not supported by Brook");
  }
  if (storage::Engine* engine = op.service().engine) {
    engine->RequestSync();
    op.wait_for_durable = engine->visible();
  }
  reply->AppendInt32("numFiles", 1);
  return Status::OK();
}

}  // namespace brook::commands
