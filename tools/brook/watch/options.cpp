#include "watch/options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <mongoc/mongoc.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "watch/http_client.h"

namespace brook::watch {
namespace {

constexpr const char* kExamples = R"(
Examples:
  # every change of one collection, as JSON lines, exactly once into a file
  brook watch --uri mongodb://127.0.0.1:27017 --db shop --coll orders \
      --checkpoint file:orders.ckpt --sink file:orders.jsonl

  # a whole database, inserts only, posted to a web hook (at least once)
  brook watch --uri mongodb://127.0.0.1:27017 --db shop \
      --pipeline '[{"$match": {"operationType": "insert"}}]' \
      --checkpoint mongodb:brook.checkpoints --sink http://127.0.0.1:8080/events

  # the same over TLS to a receiver whose certificate a private CA signed
  brook watch --uri mongodb://127.0.0.1:27017 --db shop \
      --checkpoint file:shop.ckpt --sink https://hooks.internal:8443/events \
      --sink-ca-file /etc/brook/private-ca.pem

  # copy the current documents first, then stream; each event runs a command
  brook watch --uri mongodb://h/ --db shop --coll orders --initial-sync \
      --full-document updateLookup --checkpoint file:o.ckpt --sink exec:'jq -c .'

Exit status: 0 after SIGINT/SIGTERM (batch finished, checkpoint saved) or an
invalidate event; 1 on a non-resumable error; 2 on bad flags; 3 when the stream's
history was lost (--on-history-lost fail).
)";

Status Bad(const std::string& flag, const std::string& why) {
  return Status(ErrorCodes::kBadValue, flag + ": " + why);
}

bool IsOneOf(const std::string& v, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed)
    if (v == a) return true;
  return false;
}

StatusWith<CheckpointSpec> ParseCheckpoint(const std::string& text) {
  CheckpointSpec spec;
  if (text.empty()) return Bad("--checkpoint", "required: file:PATH or mongodb:DB.COLL");
  if (text.rfind("file:", 0) == 0) {
    spec.kind = CheckpointSpec::Kind::kFile;
    spec.path = text.substr(5);
    if (spec.path.empty()) return Bad("--checkpoint", "file: needs a path, e.g. file:/var/lib/brook/orders.ckpt");
    return spec;
  }
  if (text.rfind("mongodb:", 0) == 0) {
    std::string ns = text.substr(8);
    auto dot = ns.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == ns.size())
      return Bad("--checkpoint", "mongodb: needs DB.COLL, e.g. mongodb:brook.checkpoints (got '" + ns + "')");
    spec.kind = CheckpointSpec::Kind::kMongo;
    spec.db = ns.substr(0, dot);
    spec.coll = ns.substr(dot + 1);
    return spec;
  }
  return Bad("--checkpoint", "unknown kind '" + text + "': use file:PATH or mongodb:DB.COLL");
}

StatusWith<SinkSpec> ParseSink(const std::string& text) {
  SinkSpec spec;
  if (text.empty()) return Bad("--sink", "required: stdout, file:PATH, http(s)://URL or exec:CMD");
  if (text == "stdout" || text == "-") {
    spec.kind = SinkSpec::Kind::kStdout;
  } else if (text.rfind("file:", 0) == 0) {
    spec.kind = SinkSpec::Kind::kFile;
    spec.target = text.substr(5);
    if (spec.target.empty()) return Bad("--sink", "file: needs a path, e.g. file:events.jsonl");
  } else if (text.rfind("http://", 0) == 0 || text.rfind("https://", 0) == 0) {
    spec.kind = SinkSpec::Kind::kHttp;
    spec.target = text;
    auto url = HttpUrl::Parse(text);
    if (!url.ok()) return Bad("--sink", url.status().reason() + ", e.g. https://127.0.0.1:8443/events");
  } else if (text.rfind("exec:", 0) == 0) {
    spec.kind = SinkSpec::Kind::kExec;
    spec.target = text.substr(5);
    if (spec.target.empty()) return Bad("--sink", "exec: needs a command, e.g. exec:'cat >> out.jsonl'");
  } else {
    return Bad("--sink", "unknown sink '" + text + "': use stdout, file:PATH, http(s)://URL or exec:CMD");
  }
  return spec;
}

StatusWith<BsonDoc> ParsePipeline(const std::string& text) {
  std::string json = text;
  std::string where = "--pipeline";
  if (!text.empty() && text.front() == '@') {
    std::ifstream in(text.substr(1));
    if (!in) return Bad("--pipeline", "cannot read file '" + text.substr(1) + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    json = ss.str();
    where = "--pipeline " + text;
  }
  size_t first = json.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || json[first] != '[')
    return Bad(where, "expected a JSON array of stages, e.g. '[{\"$match\": {\"operationType\": \"insert\"}}]'");
  std::string err;
  BsonDoc doc = BsonDoc::FromJson("{\"pipeline\": " + json + "}", &err);
  if (doc.IsEmpty()) return Bad(where, "not valid Extended JSON: " + err);
  bson_iter_t it, stage;
  bson_iter_init_find(&it, doc.get(), "pipeline");
  if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &stage))
    return Bad(where, "expected a JSON array of stages");
  int n = 0;
  while (bson_iter_next(&stage)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&stage))
      return Bad(where, "stage " + std::to_string(n) + " is not a document");
    ++n;
  }
  return doc;
}

}  // namespace

std::optional<ClusterTime> ParseOperationTime(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text.front() == '{') {
    std::string err;
    BsonDoc doc = BsonDoc::FromJson("{\"t\": " + text + "}", &err);
    if (doc.IsEmpty()) return std::nullopt;
    return GetTimestamp(doc.get(), "t");
  }
  auto parse_u32 = [](const std::string& s, uint32_t* out) {
    if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    uint64_t v = std::stoull(s);
    if (v > UINT32_MAX) return false;
    *out = static_cast<uint32_t>(v);
    return true;
  };
  ClusterTime ct;
  auto sep = text.find_first_of(":.,");
  if (sep == std::string::npos) {
    if (!parse_u32(text, &ct.t)) return std::nullopt;
    return ct;
  }
  if (!parse_u32(text.substr(0, sep), &ct.t) || !parse_u32(text.substr(sep + 1), &ct.i)) return std::nullopt;
  return ct;
}

std::string DefaultStreamName(const std::string& uri, const std::string& db, const std::string& coll) {
  // Credentials never belong in a checkpoint id: drop "user:pass@".
  std::string u = uri;
  auto scheme = u.find("://");
  auto at = u.find('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) u.erase(scheme + 3, at - scheme - 2);
  std::string name = u + "|" + (db.empty() ? "*" : db) + "." + (coll.empty() ? "*" : coll);
  return name;
}

void AddWatchFlags(CLI::App* cmd, WatchFlags* f) {
  cmd->footer(kExamples);
  cmd->add_option("--uri", f->uri, "MongoDB connection string of brookd or any MongoDB replica set")->required();
  cmd->add_option("--db", f->db, "database to watch; without it, the whole deployment");
  cmd->add_option("--coll", f->coll, "collection to watch (needs --db); without it, the whole database");
  cmd->add_option("--name", f->name,
                  "stream name, the checkpoint's _id in a mongodb: store (default: from uri, db, coll)");
  cmd->add_option("--pipeline", f->pipeline,
                  "stages after $changeStream, a JSON array, or @file.json to read it from a file");
  cmd->add_option("--full-document", f->full_document, "default|updateLookup|whenAvailable|required");
  cmd->add_option("--full-document-before-change", f->full_document_before_change, "off|whenAvailable|required");
  cmd->add_option("--start-at-operation-time", f->start_at_operation_time,
                  "start at this cluster time when no checkpoint exists: SECONDS[:INC] or "
                  "{\"$timestamp\":{\"t\":S,\"i\":I}}");
  cmd->add_option("--start-after", f->start_after,
                  "start after this resume token when no checkpoint exists (hex _data or JSON)");
  cmd->add_flag("--initial-sync", f->initial_sync,
                "first copy the current documents as insert events marked \"brookSnapshot\": true, then stream");
  cmd->add_option("--on-history-lost", f->on_history_lost,
                  "fail (default) or resync (copy everything again, then stream) when the resume point "
                  "left the oplog (ChangeStreamHistoryLost)");
  cmd->add_option("--checkpoint", f->checkpoint, "file:PATH or mongodb:DB.COLL: where the resume token is saved")
      ->required();
  cmd->add_option("--sink", f->sink,
                  "stdout | file:PATH (exactly once) | http(s)://URL (POST JSON lines) | exec:CMD (event on stdin)")
      ->required();
  cmd->add_option("--sink-ca-file", f->sink_ca_file,
                  "https:// sinks: trust the CA certificates in this PEM file instead of the system's "
                  "(the receiver's certificate is always verified, and must name the URL's host)");
  cmd->add_option("--format", f->format, "Extended JSON form: relaxed (default) or canonical");
  cmd->add_option("--batch-size", f->batch_size, "events per server batch (default: the server's); documents per checkpointed batch of "
                  "the initial sync (default 1000)");
  cmd->add_option("--max-await-ms", f->max_await_ms, "how long a getMore waits for new events (default 1000)");
  cmd->add_option("--status", f->status, "auto (default) | tty | json | off: the status line on stderr");
  cmd->add_option("--status-interval-ms", f->status_interval_ms,
                  "status period (default 250 on a terminal, 10000 otherwise)");
  cmd->add_option("--retry-initial-ms", f->retry_initial_ms, "first retry delay (default 100)");
  cmd->add_option("--retry-max-ms", f->retry_max_ms, "cap of the exponential retry delay (default 30000)");
  cmd->add_option("--max-retries", f->max_retries,
                  "give up after this many consecutive failed retries (default 0: never)");
}

StatusWith<WatchOptions> ValidateWatchFlags(const WatchFlags& f) {
  WatchOptions o;
  if (f.uri.empty()) return Bad("--uri", "required, e.g. mongodb://127.0.0.1:27017");
  {
    bson_error_t err;
    mongoc_uri_t* parsed = mongoc_uri_new_with_error(f.uri.c_str(), &err);
    if (!parsed) return Bad("--uri", std::string("not a valid connection string: ") + err.message);
    mongoc_uri_destroy(parsed);
  }
  o.uri = f.uri;
  if (!f.coll.empty() && f.db.empty()) return Bad("--coll", "needs --db");
  o.db = f.db;
  o.coll = f.coll;
  o.scope = f.db.empty() ? Scope::kDeployment : f.coll.empty() ? Scope::kDatabase : Scope::kCollection;
  o.name = f.name.empty() ? DefaultStreamName(f.uri, f.db, f.coll) : f.name;

  if (!f.pipeline.empty()) {
    auto p = ParsePipeline(f.pipeline);
    if (!p.ok()) return p.status();
    o.pipeline = std::move(p.value());
  } else {
    std::string err;
    o.pipeline = BsonDoc::FromJson("{\"pipeline\": []}", &err);
  }

  if (!f.full_document.empty()) {
    if (!IsOneOf(f.full_document, {"default", "updateLookup", "whenAvailable", "required"}))
      return Bad("--full-document", "'" + f.full_document + "' is not one of default|updateLookup|whenAvailable|required");
    if (f.full_document != "default") o.full_document = f.full_document;
  }
  if (!f.full_document_before_change.empty()) {
    if (!IsOneOf(f.full_document_before_change, {"off", "whenAvailable", "required"}))
      return Bad("--full-document-before-change",
                 "'" + f.full_document_before_change + "' is not one of off|whenAvailable|required");
    if (f.full_document_before_change != "off") o.full_document_before_change = f.full_document_before_change;
  }

  if (!f.start_at_operation_time.empty() && !f.start_after.empty())
    return Bad("--start-at-operation-time", "cannot be combined with --start-after: pick one starting point");
  if (!f.start_at_operation_time.empty()) {
    o.start_at_operation_time = ParseOperationTime(f.start_at_operation_time);
    if (!o.start_at_operation_time)
      return Bad("--start-at-operation-time", "'" + f.start_at_operation_time +
                                                  "' is not SECONDS[:INC] or {\"$timestamp\":{\"t\":S,\"i\":I}}");
  }
  if (!f.start_after.empty()) {
    std::string err;
    o.start_after = ParseTokenArg(f.start_after, &err);
    if (o.start_after.IsEmpty()) return Bad("--start-after", err);
  }
  o.initial_sync = f.initial_sync;
  if (o.initial_sync && (o.start_at_operation_time || !o.start_after.IsEmpty()))
    return Bad("--initial-sync", "starts the stream at the copy's snapshot time; drop --start-at-operation-time/--start-after");

  if (f.on_history_lost == "fail") {
    o.on_history_lost = OnHistoryLost::kFail;
  } else if (f.on_history_lost == "resync") {
    o.on_history_lost = OnHistoryLost::kResync;
  } else {
    return Bad("--on-history-lost", "'" + f.on_history_lost + "' is not fail or resync");
  }

  auto cp = ParseCheckpoint(f.checkpoint);
  if (!cp.ok()) return cp.status();
  o.checkpoint = cp.value();
  auto sink = ParseSink(f.sink);
  if (!sink.ok()) return sink.status();
  o.sink = sink.value();
  if (!f.sink_ca_file.empty()) {
    if (o.sink.kind != SinkSpec::Kind::kHttp || o.sink.target.rfind("https://", 0) != 0)
      return Bad("--sink-ca-file", "only applies to an https:// sink");
    if (::access(f.sink_ca_file.c_str(), R_OK) != 0)
      return Bad("--sink-ca-file", "cannot read '" + f.sink_ca_file + "'");
    o.sink.ca_file = f.sink_ca_file;
  }
  if (o.checkpoint.kind == CheckpointSpec::Kind::kMongo && o.scope == Scope::kCollection &&
      o.checkpoint.db == o.db && o.checkpoint.coll == o.coll)
    return Bad("--checkpoint", "the checkpoint collection cannot be the watched collection");
  if (o.sink.kind == SinkSpec::Kind::kFile && o.checkpoint.kind == CheckpointSpec::Kind::kFile &&
      o.sink.target == o.checkpoint.path)
    return Bad("--checkpoint", "the checkpoint file cannot be the sink file");

  if (f.format == "relaxed") {
    o.format = JsonFormat::kRelaxed;
  } else if (f.format == "canonical") {
    o.format = JsonFormat::kCanonical;
  } else {
    return Bad("--format", "'" + f.format + "' is not relaxed or canonical");
  }
  if (f.batch_size < 0 || f.batch_size > INT32_MAX) return Bad("--batch-size", "must be between 0 and 2147483647");
  o.batch_size = static_cast<int32_t>(f.batch_size);
  if (f.max_await_ms < 1 || f.max_await_ms > 3600000) return Bad("--max-await-ms", "must be between 1 and 3600000");
  o.max_await_ms = f.max_await_ms;

  if (f.status == "auto") {
    o.status = StatusMode::kAuto;
  } else if (f.status == "tty") {
    o.status = StatusMode::kTty;
  } else if (f.status == "json") {
    o.status = StatusMode::kJson;
  } else if (f.status == "off") {
    o.status = StatusMode::kOff;
  } else {
    return Bad("--status", "'" + f.status + "' is not auto, tty, json or off");
  }
  if (f.status_interval_ms < 0) return Bad("--status-interval-ms", "must not be negative");
  o.status_interval_ms = f.status_interval_ms;
  if (f.retry_initial_ms < 1) return Bad("--retry-initial-ms", "must be at least 1");
  if (f.retry_max_ms < f.retry_initial_ms) return Bad("--retry-max-ms", "must be at least --retry-initial-ms");
  if (f.max_retries < 0) return Bad("--max-retries", "must not be negative");
  o.retry_initial_ms = f.retry_initial_ms;
  o.retry_max_ms = f.retry_max_ms;
  o.max_retries = f.max_retries;
  return o;
}

}  // namespace brook::watch
