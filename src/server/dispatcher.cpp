#include "server/dispatcher.h"

#include <chrono>
#include <exception>

#include "bson/builder.h"
#include "changestream/cursor.h"
#include "commands/auth_manager.h"
#include "commands/failpoints.h"
#include "commands/generic_args.h"
#include "commands/registry.h"
#include "commands/server_options.h"
#include "commands/server_stats.h"
#include "commands/transactions.h"
#include "commands/write_ops.h"
#include "server/await_commit.h"
#include "server/logging.h"
#include "server/waiters.h"
#include "storage/engine.h"

namespace brook::server {
namespace {

using commands::CommandSpec;
using commands::OperationContext;

bool IsAuthCommand(std::string_view name) {
  return name == "saslStart" || name == "saslContinue" || name == "authenticate" ||
         name == "getnonce";
}

void AppendLabels(bson::Builder* b, const std::vector<std::string>& labels) {
  if (labels.empty()) return;
  b->OpenArray("errorLabels");
  std::string scratch;
  for (size_t i = 0; i < labels.size(); ++i) b->AppendString(bson::ArrayKey(i, &scratch), labels[i]);
  b->Close();
}

std::vector<std::string> MergeLabels(std::vector<std::string> a, const std::vector<std::string>& b) {
  for (const auto& l : b) {
    if (std::find(a.begin(), a.end(), l) == a.end()) a.push_back(l);
  }
  return a;
}

// Runs the handler; an exception (a bug) becomes an InternalError reply, never a crash.
Status RunHandler(const CommandSpec& spec, OperationContext& op, const commands::CommandRequest& req,
                  bson::Builder* reply) {
  try {
    return spec.handler(op, req, reply);
  } catch (const std::exception& e) {
    return Status(ErrorCodes::kInternalError,
                  "command " + std::string(spec.name) + " failed: " + e.what());
  } catch (...) {
    return Status(ErrorCodes::kInternalError, "command " + std::string(spec.name) + " failed");
  }
}

int64_t CursorIdOf(bson::View reply) {
  auto cursor = reply["cursor"];
  if (!cursor.IsObject()) return 0;
  auto id = cursor.Obj()["id"];
  return id.IsNumber() ? id.NumberInt64() : 0;
}

}  // namespace

Dispatcher::Dispatcher(commands::ServiceContext& service, Waiters& waiters)
    : service_(service), waiters_(waiters) {}

void Dispatcher::AppendClusterTime(bson::Builder* b, bson::Timestamp operation_time) const {
  bson::Timestamp cluster = service_.engine ? service_.engine->ClusterTime() : bson::Timestamp{};
  if (operation_time > cluster) cluster = operation_time;
  if (operation_time.IsNull()) operation_time = cluster;
  b->OpenDocument("$clusterTime");
  b->AppendTimestamp("clusterTime", cluster);
  b->OpenDocument("signature");
  b->AppendBinary("hash", 0, std::string(20, '\0'));
  b->AppendInt64("keyId", 0);
  b->Close();
  b->Close();
  b->AppendTimestamp("operationTime", operation_time);
}

bson::Doc Dispatcher::ErrorReply(const Status& status) const {
  bson::Builder b;
  b.AppendDouble("ok", 0.0);
  b.AppendString("errmsg", status.reason());
  b.AppendInt32("code", status.code());
  b.AppendString("codeName", status.code_name());
  AppendLabels(&b, status.labels());
  if (!status.extra_info().empty()) {
    // Extra info comes from our own code as BSON bytes; skip fields the envelope owns.
    bson::View extra(status.extra_info().data());
    for (const auto& e : extra) {
      auto k = e.key();
      if (k == "ok" || k == "errmsg" || k == "code" || k == "codeName" || k == "errorLabels") continue;
      b.Append(e);
    }
  }
  AppendClusterTime(&b, bson::Timestamp{});
  return b.Done();
}

asio::awaitable<DispatchResult> Dispatcher::Dispatch(commands::ClientInfo& client, bson::View body) {
  DispatchResult result;
  auto started = std::chrono::steady_clock::now();
  std::string_view name = body.empty() ? std::string_view() : body.first().key();
  const CommandSpec* spec = commands::FindCommand(name);
  if (spec && (spec->flags & commands::kTestOnly) && !service_.test_commands_enabled) spec = nullptr;
  if (!spec) {
    result.reply = ErrorReply(Status(ErrorCodes::kCommandNotFound,
                                     "no such command: '" + std::string(name) + "'"));
    co_return result;
  }
  result.command = spec->name;
  result.compressible = spec->name != "hello" && !IsAuthCommand(spec->name);

  OperationContext op(service_, client);
  std::vector<std::string> labels_override;
  bool have_override = false;
  bool waited = false;
  std::optional<bson::Doc> wc_error;
  std::vector<std::string> wc_labels;
  bson::Doc handler_reply;

  Status st = commands::ParseGenericArguments(*spec, body, &op);
  if (st.ok()) {
    try {
      st = commands::CheckAuthorization(*spec, op, commands::CommandRequest{name, op.db, body});
    } catch (const std::exception& e) {
      // A bug in the check must deny, never crash nor allow.
      st = Status(ErrorCodes::kInternalError, std::string("authorization check failed: ") + e.what());
    }
  }
  if (st.ok() && (spec->flags & commands::kAdminOnly) && op.db != "admin") {
    st = Status(ErrorCodes::kUnauthorized,
                std::string(spec->name) + " may only be run against the admin database.");
  }
  if (st.ok() && (spec->flags & commands::kCountsAsCommand) && service_.stats) {
    service_.stats->opcounters.command.fetch_add(1, std::memory_order_relaxed);
  }

  commands::FailPoints* fps = service_.failpoints;
  if (st.ok() && fps) {
    if (op.max_time_ms.value_or(0) > 0 && fps->Check(commands::kMaxTimeAlwaysTimeOut)) {
      st = Status(ErrorCodes::kMaxTimeMSExpired, "operation exceeded time limit");
    }
  }
  if (st.ok() && fps) {
    if (auto action = commands::EvaluateFailCommand(*fps, op, name, spec->name, body)) {
      if (action->close_connection) {
        Log('I', "COMMAND", 4662800, "conn" + std::to_string(client.connection_id),
            "Closing connection due to 'failCommand' failpoint");
        result.close_connection = true;
        co_return result;
      }
      if (action->block.count() > 0) {
        co_await waiters_.Sleep(action->block);
        waited = true;
      }
      if (action->error) {
        st = *action->error;
        labels_override = st.labels();
        have_override = true;
      }
    }
  }

  // A command inside a transaction checks its session out after failCommand had its say:
  // as in MongoDB, an injected error leaves the transaction as it was.
  if (st.ok() && service_.transactions) st = service_.transactions->CheckOut(*spec, op);

  commands::CommandRequest req{name, op.db, body};
  op.commit_async_ok = service_.engine != nullptr;
  if (st.ok()) {
    for (;;) {
      bson::Builder reply;
      op.await_data.reset();
      st = RunHandler(*spec, op, req, &reply);
      op.defer_next_commit = false;
      if (op.deferred_commit) {
        commands::DeferredCommit deferred = std::move(*op.deferred_commit);
        op.deferred_commit.reset();
        // A failed handler's unit is dropped uncommitted, as its own RunWriteUnit would
        // never have committed it either.
        if (st.ok()) {
          auto committed = co_await AwaitCommit(*service_.engine, std::move(deferred.unit));
          if (committed.status() == ErrorCodes::kWriteConflict) {
            // Another write won a key this one wrote: run the command again, committing
            // synchronously this time, so RunWriteUnit's retry loop takes over.
            ++op.write_conflict_retries;
            op.commit_async_ok = false;
            continue;
          }
          st = commands::FinishDeferredCommit(op, deferred, committed);
        }
      }
      if (!st.ok()) break;
      handler_reply = reply.Done();
      if (!op.await_data || std::chrono::steady_clock::now() >= op.await_data->deadline) break;
      if (waiters_.shutting_down()) {
        // A getMore waiting for new data when the server stops: MongoDB interrupts it
        // with InterruptedAtShutdown rather than answering an empty batch.
        st = Status(ErrorCodes::kInterruptedAtShutdown, "interrupted at shutdown");
        if (op.await_data->change_stream) st = changestream::AddChangeStreamErrorLabels(st, true);
        break;
      }
      // Nothing to return yet: wait for the oplog to move (or the deadline, or the
      // cursor being killed), then rerun; the rerun answers CursorKilled for a killed one.
      waited = true;
      bool moved = co_await waiters_.WaitDurableAfter(op.await_data->after, op.await_data->deadline,
                                                      op.await_data->cursor_id, op.await_data->cursor_killed,
                                                      op.await_data->signal);
      (void)moved;  // either way the handler runs again and answers
    }
  }

  if (service_.transactions) service_.transactions->CheckIn(op, spec->name, st.ok(), st.ok() ? handler_reply.view() : bson::View());

  if (st.ok()) {
    storage::Engine* engine = service_.engine;
    const bool takes_wc = commands::SupportsWriteConcern(*spec);
    std::optional<bson::Timestamp> durable_target = op.wait_for_durable;
    if (!durable_target && takes_wc && op.write_concern.NeedsDurability() && engine) {
      durable_target = op.operation_time.IsNull() ? engine->visible() : op.operation_time;
    }
    if (durable_target && engine && !durable_target->IsNull()) {
      engine->RequestSync();
      std::optional<std::chrono::steady_clock::time_point> deadline;
      if (op.write_concern.wtimeout_ms > 0) {
        deadline = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(op.write_concern.wtimeout_ms);
      }
      waited = true;
      bool ok = co_await waiters_.WaitDurableAtLeast(*durable_target, deadline);
      if (!ok) {
        bson::Builder info;
        info.AppendBool("wtimeout", true);
        Status wst(ErrorCodes::kWriteConcernFailed, waiters_.shutting_down()
                                                        ? "interrupted at shutdown"
                                                        : "waiting for replication timed out");
        wc_error = commands::WriteConcernErrorDoc(wst, info.Done());
        wc_labels = commands::ErrorLabelsFor(op, spec->name, std::nullopt, wst.code(), false);
      }
    }
    if (!wc_error && takes_wc) {
      if (auto problem = commands::WriteConcernProblem(op.write_concern)) {
        wc_error = commands::WriteConcernErrorDoc(*problem);
        wc_labels = commands::ErrorLabelsFor(op, spec->name, std::nullopt, problem->code(), false);
      }
    }
    if (fps && !wc_error) {
      if (auto fwce = commands::EvaluateFailCommandWriteConcernError(*fps, op, name, spec->name, body)) {
        wc_error = std::move(fwce->error);
        wc_labels = std::move(fwce->labels);
      }
    }
    if (op.delay_reply && op.delay_reply->count() > 0) {
      // Only a real wait may be streamed by exhaust; a zero wait would spin.
      result.awaited_hello = true;
      waited = true;
      co_await waiters_.Sleep(*op.delay_reply);
    }
  }

  if (op.close_connection) {
    Log('I', "COMMAND", 4662800, "conn" + std::to_string(client.connection_id),
        "Closing connection due to 'onPrimaryTransactionalWrite' failpoint");
    result.close_connection = true;
    co_return result;
  }

  if (!st.ok()) {
    std::vector<std::string> labels =
        have_override ? labels_override
                      : MergeLabels(st.labels(), commands::ErrorLabelsFor(
                                                     op, spec->name, st.code(), std::nullopt,
                                                     commands::IsChangeStreamRequest(spec->name, body)));
    bson::Builder b;
    b.AppendDouble("ok", 0.0);
    b.AppendString("errmsg", st.reason());
    b.AppendInt32("code", st.code());
    b.AppendString("codeName", st.code_name());
    AppendLabels(&b, labels);
    if (!st.extra_info().empty()) {
      for (const auto& e : bson::View(st.extra_info().data())) {
        auto k = e.key();
        if (k == "ok" || k == "errmsg" || k == "code" || k == "codeName" || k == "errorLabels") continue;
        b.Append(e);
      }
    }
    AppendClusterTime(&b, op.operation_time);
    result.reply = b.Done();
  } else {
    bson::Builder b(handler_reply.size() + 200);
    b.AppendAll(handler_reply);
    if (wc_error) b.AppendDocument("writeConcernError", *wc_error);
    b.AppendDouble("ok", 1.0);
    if (wc_error) AppendLabels(&b, wc_labels);
    AppendClusterTime(&b, op.operation_time);
    result.reply = b.Done();
    result.cursor_id = CursorIdOf(handler_reply);
    // Before the reply reveals the id: only this user may continue or kill the cursor.
    commands::StampCursorOwner(op, result.cursor_id);
    commands::NoteAuthDataWrite(*spec, op, req);
  }

  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count();
  int64_t slow_ms = service_.options ? service_.options->parameters->GetInt(
                                           commands::kParamSlowOpThresholdMs)
                                     : 100;
  if (!waited && elapsed >= slow_ms) {
    bson::Builder attr;
    attr.AppendString("type", "command");
    attr.AppendString("ns", op.db + ".$cmd");
    attr.AppendString("command", spec->name);
    attr.AppendInt64("durationMillis", elapsed);
    attr.AppendBool("ok", st.ok());
    Log('I', "COMMAND", 51803, "conn" + std::to_string(client.connection_id), "Slow query",
        attr.Done());
  }
  co_return result;
}

}  // namespace brook::server
