#pragma once
// ServiceContext (process-wide services) and OperationContext (one command's state).
//
// Owns: the narrow set of things a command handler may reach. The server layer builds
// the ServiceContext at startup and an OperationContext per command; handlers below
// take what they need from it and pass typed values further down.
//
// Waiting: handlers never block on a watermark. A handler that must wait (j:true or
// w:"majority" writes; awaitData getMore) fills `wait_for_durable` or `await_data` and
// returns; the server's waiters module suspends the connection's coroutine and, for
// await_data, runs the handler again once the oplog moved or the deadline passed.
// Thread-safety: an OperationContext belongs to one thread while its command runs.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bson/document.h"
#include "bson/types.h"
#include "storage/engine.h"

namespace brook::changestream {
class OplogTailer;
}
namespace brook::catalog {
class Catalog;
struct CollectionInfo;
}

namespace brook::commands {

class CursorRegistry;   // cursor_registry.h
class SessionCatalog;   // sessions.h: retryable-write records, logical sessions
class FailPoints;       // failpoints.h
struct ServerStats;     // server_stats.h
struct ServerOptions;   // server_options.h
class LogBuffer;        // log_buffer.h: recent log lines for getLog
class AuthManager;      // auth_manager.h: users, roles, access control
class TransactionRegistry;  // transactions.h: sessions' multi-document transactions
class Transaction;          // transactions.h
struct SessionTxnState;     // transactions.h
struct AuthSession;     // auth_manager.h: one connection's login state

// The server's structured logger, handed down so commands can log without calling up.
using LogFunction = void (*)(char severity, std::string_view component, int id,
                             std::string_view ctx, std::string_view msg, bson::View attr);

struct ServiceContext {
  const ServerOptions* options = nullptr;
  storage::Engine* engine = nullptr;
  catalog::Catalog* catalog = nullptr;
  CursorRegistry* cursors = nullptr;
  SessionCatalog* sessions = nullptr;
  FailPoints* failpoints = nullptr;
  ServerStats* stats = nullptr;
  LogBuffer* log_buffer = nullptr;
  AuthManager* auth = nullptr;
  TransactionRegistry* transactions = nullptr;
  // The shared change-stream reader; null: every change-stream cursor reads the oplog.
  changestream::OplogTailer* change_stream_tailer = nullptr;
  LogFunction log = nullptr;
  std::chrono::system_clock::time_point start_time;
  bson::ObjectId process_id;  // topologyVersion.processId, fixed per process
  bool test_commands_enabled = false;
};

// What the server knows about the client connection.
struct ClientInfo {
  int64_t connection_id = 0;
  std::string remote;  // "127.0.0.1:54321"
  std::string local;   // "127.0.0.1:27017"
  std::optional<bson::Doc> metadata;  // hello's `client` document, first hello only
  bool is_loopback = true;
  bool hello_seen = false;  // a second hello may not carry `client` (186)
  // Compressor negotiated by hello's `compression` list ("snappy", "zstd", "zlib"); empty
  // for none. The server compresses replies with it (never hello or auth replies).
  std::string compressor;
  // Who is logged in and any SASL conversation in progress; created on first use.
  std::shared_ptr<AuthSession> auth;
};

struct WriteConcern {
  // w: number of nodes, or "majority" (which on one node means durable).
  std::variant<int64_t, std::string> w = int64_t{1};
  std::optional<bool> j;
  int64_t wtimeout_ms = 0;
  bool provided = false;

  bool Unacknowledged() const { return std::holds_alternative<int64_t>(w) && std::get<int64_t>(w) == 0 && !j.value_or(false); }
  bool NeedsDurability() const {
    return j.value_or(false) || (std::holds_alternative<std::string>(w) && std::get<std::string>(w) == "majority");
  }
};

struct ReadConcern {
  std::string level;  // "local", "majority", "linearizable", "available", "snapshot"; "" if not given
  std::optional<bson::Timestamp> after_cluster_time;
  std::optional<bson::Timestamp> at_cluster_time;
  bool provided = false;
};

// Stable API parameters as the client sent them (validated by the dispatcher).
struct ApiParameters {
  std::optional<std::string> version;
  std::optional<bool> strict;
  std::optional<bool> deprecation_errors;
};

struct AwaitData {
  bson::Timestamp after;  // re-run once the durable watermark passes this
  std::chrono::steady_clock::time_point deadline;
  // The cursor waited on: killCursors sets its flag and interrupts the wait (tagged by
  // id), and the re-run answers CursorKilled.
  int64_t cursor_id = 0;
  std::shared_ptr<const std::atomic<bool>> cursor_killed;
  // A change stream's getMore: an error the dispatcher answers for it (shutdown) gets the
  // change-stream error labels.
  bool change_stream = false;
  // A change stream armed at the shared tailer's head: re-run once this is raised (an
  // entry that may match arrived) instead of on every durable move.
  std::shared_ptr<const std::atomic<bool>> signal;
};

// A write a handler left for the dispatcher to commit: the dispatcher's coroutine waits
// for the group commit without holding its network thread (Engine::CommitAsync), then
// calls FinishDeferredCommit (write_ops.h).
struct DeferredCommit {
  std::unique_ptr<storage::WriteUnit> unit;
  std::vector<std::shared_ptr<const catalog::CollectionInfo>> created;  // to publish after
};

class OperationContext {
 public:
  OperationContext(ServiceContext& service, ClientInfo& client) : service_(service), client_(client) {}

  ServiceContext& service() { return service_; }
  ClientInfo& client() { return client_; }

  // Generic arguments, parsed by the dispatcher before the handler runs.
  std::string db;
  std::optional<bson::Doc> lsid;  // {id: UUID}
  std::optional<int64_t> txn_number;
  std::optional<bool> autocommit;
  bool start_transaction = false;
  WriteConcern write_concern;
  std::optional<std::chrono::steady_clock::time_point> deadline;  // from maxTimeMS
  std::optional<bson::Doc> comment;  // {comment: <value>} when given
  ReadConcern read_concern;
  ApiParameters api;
  // maxTimeMS as sent (0 = none). For most commands it also sets `deadline`; getMore
  // uses it as its awaitData wait instead, so no deadline is set for getMore.
  std::optional<int64_t> max_time_ms;

  // Outputs the dispatcher reads after the handler returns.
  bson::Timestamp operation_time;  // null: the dispatcher quotes the engine's cluster time
  std::optional<bson::Timestamp> wait_for_durable;
  std::optional<AwaitData> await_data;
  // Awaitable hello: the dispatcher sends the reply only after this long (or earlier at
  // shutdown), waiting asynchronously.
  std::optional<std::chrono::milliseconds> delay_reply;
  // The connection is closed instead of answering (a failpoint's doing).
  bool close_connection = false;

  // Deferred commits. The dispatcher sets `commit_async_ok` when it will commit a unit
  // left in `deferred_commit`; a handler sets `defer_next_commit` (DeferLastCommit in
  // write_ops.h) when its next RunWriteUnit is its last write and its reply needs only
  // that write's success; that RunWriteUnit then leaves its unit here uncommitted.
  bool commit_async_ok = false;
  bool defer_next_commit = false;
  std::optional<DeferredCommit> deferred_commit;

  // Write units of this command retried after a WriteConflict (RunWriteUnit). After one,
  // another attempt of the same statement may have committed meanwhile, so retryable
  // writes must look for their record again.
  int write_conflict_retries = 0;

  // Set by TransactionRegistry::CheckOut while the command runs inside a transaction.
  std::shared_ptr<Transaction> txn;
  std::shared_ptr<SessionTxnState> txn_session;

  bool DeadlinePassed() const {
    return deadline && std::chrono::steady_clock::now() >= *deadline;
  }

 private:
  ServiceContext& service_;
  ClientInfo& client_;
};

}  // namespace brook::commands
