#pragma once
// `brook watch` flags: registration with CLI11 (with --help text and examples), and
// validation into typed WatchOptions. Every validation error names the flag at fault.
//
// Owns: the meaning of each flag and its defaults. Thread-safety: values only.

#include <cstdint>
#include <optional>
#include <string>

#include "util/status.h"
#include "watch/bson_util.h"

namespace CLI {
class App;
}

namespace brook::watch {

// Raw values as typed on the command line (strings: validated later, so each error can
// name its flag in our own words rather than CLI11's).
struct WatchFlags {
  std::string uri;
  std::string db;
  std::string coll;
  std::string name;
  std::string pipeline;
  std::string full_document;
  std::string full_document_before_change;
  std::string start_at_operation_time;
  std::string start_after;
  bool initial_sync = false;
  std::string on_history_lost = "fail";
  std::string checkpoint;
  std::string sink;
  std::string sink_ca_file;
  std::string format = "relaxed";
  int64_t batch_size = 0;
  int64_t max_await_ms = 1000;
  std::string status = "auto";
  int64_t status_interval_ms = 0;  // 0: 250 ms on a terminal, 10 s otherwise
  int64_t retry_initial_ms = 100;
  int64_t retry_max_ms = 30000;
  int64_t max_retries = 0;  // 0: retry resumable errors forever
};

enum class Scope { kDeployment, kDatabase, kCollection };
enum class OnHistoryLost { kFail, kResync };
enum class StatusMode { kAuto, kTty, kJson, kOff };

struct CheckpointSpec {
  enum class Kind { kFile, kMongo };
  Kind kind = Kind::kFile;
  std::string path;  // file
  std::string db;    // mongodb
  std::string coll;  // mongodb
};

struct SinkSpec {
  enum class Kind { kStdout, kFile, kHttp, kExec };
  Kind kind = Kind::kStdout;
  std::string target;  // path, URL or shell command
  std::string ca_file;  // https://: PEM CA certificates to trust instead of the system's
};

struct WatchOptions {
  std::string uri;
  Scope scope = Scope::kDeployment;
  std::string db;
  std::string coll;
  std::string name;           // stream name: checkpoint _id in a mongodb: store
  BsonDoc pipeline;           // {"pipeline": [...]}, as mongoc_*_watch takes it
  std::string full_document;  // "" = server default
  std::string full_document_before_change;  // "" = off
  std::optional<ClusterTime> start_at_operation_time;
  BsonDoc start_after;  // token document, or nothing
  bool initial_sync = false;
  OnHistoryLost on_history_lost = OnHistoryLost::kFail;
  CheckpointSpec checkpoint;
  SinkSpec sink;
  JsonFormat format = JsonFormat::kRelaxed;
  int32_t batch_size = 0;  // 0 = server default
  int64_t max_await_ms = 1000;
  StatusMode status = StatusMode::kAuto;
  int64_t status_interval_ms = 0;
  int64_t retry_initial_ms = 100;
  int64_t retry_max_ms = 30000;
  int64_t max_retries = 0;
};

// Adds the watch flags to `cmd`, storing raw values in *flags (which must outlive parsing).
void AddWatchFlags(CLI::App* cmd, WatchFlags* flags);

// Checks and converts the flags. Reads --pipeline @file. Errors are BadValue/FailedToParse
// whose reason starts with the flag name, e.g. "--sink: unknown sink 'ftp://x' ...".
StatusWith<WatchOptions> ValidateWatchFlags(const WatchFlags& flags);

// The default stream name, derived from uri (without credentials) + db + coll.
std::string DefaultStreamName(const std::string& uri, const std::string& db, const std::string& coll);

// Parses "SECONDS", "SECONDS:INC", "SECONDS.INC" or {"$timestamp": {"t": S, "i": I}}.
std::optional<ClusterTime> ParseOperationTime(const std::string& text);

}  // namespace brook::watch
