#pragma once
// The command dispatcher: one command document in, one reply document out.
//
// Owns: everything between a parsed request body and the handler — lookup in the
// command table (unknown: CommandNotFound 59; kTestOnly without enableTestCommands
// behaves as unknown), admin-only checks (Unauthorized 13), generic arguments,
// failpoints (failCommand, maxTimeAlwaysTimeOut), running the synchronous handler,
// then the asynchronous parts through Waiters: awaitData re-runs, j:true / majority
// durability waits, awaitable-hello delays; and the reply envelope (ok, errmsg, code,
// codeName, errorLabels, writeConcernError, $clusterTime, operationTime).
//
// Handler contract for awaitData: a handler that sets op.await_data must still write a
// complete reply (e.g. an empty batch). The dispatcher waits until the durable
// watermark passes await_data.after or the deadline passes, then runs the handler again
// with a fresh reply; once the deadline has passed the handler's reply is sent as is.
// Thread-safety: Dispatch runs on the calling connection's I/O thread; the Dispatcher itself
// is shared by all connections and holds no per-request state.

#include <cstdint>
#include <string_view>

#include "bson/builder.h"
#include "bson/document.h"
#include "commands/operation_context.h"
#include "server/asio_fwd.h"
#include "util/status.h"

namespace brook::server {

class Waiters;

struct DispatchResult {
  bson::Doc reply;
  bool close_connection = false;  // failCommand closeConnection
  bool compressible = true;       // hello and auth replies are never compressed
  bool awaited_hello = false;     // an awaitable hello (exhaust may stream it)
  int64_t cursor_id = 0;          // reply.cursor.id, for exhaust getMore
  std::string_view command;       // canonical name ("" when unknown)
};

class Dispatcher {
 public:
  Dispatcher(commands::ServiceContext& service, Waiters& waiters);

  asio::awaitable<DispatchResult> Dispatch(commands::ClientInfo& client, bson::View body);

  // The error reply for a request that never reached a command (bad OP_MSG, ...).
  bson::Doc ErrorReply(const Status& status) const;

 private:
  void AppendClusterTime(bson::Builder* b, bson::Timestamp operation_time) const;

  commands::ServiceContext& service_;
  Waiters& waiters_;
};

}  // namespace brook::server
