// hello / isMaster / ismaster: the handshake every driver starts with, and the
// topology monitor's heartbeat (awaitable when it sends topologyVersion +
// maxAwaitTimeMS). Brook is a single-node replica set that is always primary, so the
// topology never changes and an awaitable hello simply waits maxAwaitTimeMS.
#include <chrono>

#include "bson/builder.h"
#include "commands/handlers.h"
#include "commands/hello_fields.h"
#include "commands/operation_context.h"
#include "commands/server_options.h"
#include "storage/engine.h"

namespace brook::commands {
namespace {

constexpr int32_t kMaxWriteBatchSize = 100000;
constexpr int32_t kMinWireVersion = 0;
constexpr int32_t kMaxWireVersion = 21;  // MongoDB 7.0
constexpr int32_t kLogicalSessionTimeoutMinutes = 30;

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status ParseAwait(OperationContext& op, bson::View body) {
  auto tv = body["topologyVersion"];
  auto max_await = body["maxAwaitTimeMS"];
  if (!tv && !max_await) return Status::OK();
  if (tv && !max_await) {
    return Status(31368, "A request with a 'topologyVersion' must include 'maxAwaitTimeMS'");
  }
  if (!tv && max_await) {
    return Status(31372, "A request with 'maxAwaitTimeMS' must include a 'topologyVersion'");
  }
  if (!tv.IsObject()) {
    return Status(ErrorCodes::kTypeMismatch, "BSON field 'topologyVersion' is the wrong type");
  }
  auto ms = max_await.IsNumber() ? max_await.ExactInt64() : std::nullopt;
  if (!ms) return Status(ErrorCodes::kTypeMismatch, "BSON field 'maxAwaitTimeMS' must be an integer");
  if (*ms < 0) return Status(31373, "'maxAwaitTimeMS' must be greater than or equal to 0");

  auto pid = tv.Obj()["processId"];
  auto counter = tv.Obj()["counter"];
  if (pid.type() != bson::Type::kObjectId || !counter.IsNumber()) {
    return Status(ErrorCodes::kTypeMismatch,
                  "topologyVersion must have an ObjectId processId and an integer counter");
  }
  // A different process id means the client knows an older incarnation of this server:
  // answer at once so it learns the new one.
  if (pid.Oid() != op.service().process_id) return Status::OK();
  if (counter.NumberInt64() > 0) {
    return Status(31382,
                  "Received a topology version with the same process ID and a higher counter "
                  "than the server's");
  }
  op.delay_reply = std::chrono::milliseconds(*ms);
  return Status::OK();
}

}  // namespace

std::string AdvertisedHost(const ServiceContext& service) {
  if (!service.options) return "127.0.0.1:27017";
  if (!service.options->advertise.empty()) return service.options->advertise;
  // The first address of a --bind_ip list stands for the server.
  auto addresses = SplitBindIp(service.options->bind_ip);
  std::string host = addresses.empty() ? "127.0.0.1" : addresses.front();
  if (host.find(':') != std::string::npos) host = "[" + host + "]";  // IPv6 literal
  return host + ":" + std::to_string(service.options->port);
}

void AppendOpTime(bson::Builder* b, std::string_view key, bson::Timestamp ts) {
  b->OpenDocument(key);
  b->AppendTimestamp("ts", ts);
  b->AppendInt64("t", 1);
  b->Close();
}

Status HandleHello(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  ServiceContext& svc = op.service();
  ClientInfo& client = op.client();

  if (auto md = req.body["client"]) {
    if (client.hello_seen) {
      return Status(ErrorCodes::kClientMetadataCannotBeMutated,
                    "The client metadata document may only be sent in the first hello");
    }
    if (!md.IsObject()) {
      return Status(ErrorCodes::kTypeMismatch, "The client metadata document must be a document");
    }
    client.metadata = bson::Doc::CopyOf(md.Obj());
  }
  client.hello_seen = true;
  BROOK_RETURN_IF_ERROR(ParseAwait(op, req.body));

  // Compression: the first compressor of the client's list that Brook supports.
  std::string chosen;
  if (auto offered = req.body["compression"]; offered.IsArray()) {
    for (const auto& c : offered.Obj()) {
      if (c.type() != bson::Type::kString) continue;
      for (auto ours : kSupportedCompressors) {
        if (c.Str() == ours) {
          chosen = std::string(ours);
          break;
        }
      }
      if (!chosen.empty()) break;
    }
    client.compressor = chosen;
  }

  const std::string host = AdvertisedHost(svc);
  const std::string set_name = svc.options ? svc.options->repl_set : "rs0";
  bson::Timestamp visible, durable;
  if (svc.engine) {
    visible = svc.engine->visible();
    durable = svc.engine->durable();
  }

  reply->OpenDocument("topologyVersion");
  reply->AppendOid("processId", svc.process_id);
  reply->AppendInt64("counter", 0);
  reply->Close();
  reply->OpenArray("hosts");
  reply->AppendString("0", host);
  reply->Close();
  reply->AppendString("setName", set_name);
  reply->AppendInt32("setVersion", 1);
  reply->AppendBool(req.name == "hello" ? "isWritablePrimary" : "ismaster", true);
  reply->AppendBool("secondary", false);
  reply->AppendString("primary", host);
  reply->AppendString("me", host);
  bson::ObjectId election_id;
  bson::ObjectId::FromHex("7fffffff0000000000000001", &election_id);
  reply->AppendOid("electionId", election_id);
  reply->OpenDocument("lastWrite");
  AppendOpTime(reply, "opTime", visible);
  reply->AppendDate("lastWriteDate", int64_t{visible.secs} * 1000);
  AppendOpTime(reply, "majorityOpTime", durable);
  reply->AppendDate("majorityWriteDate", int64_t{durable.secs} * 1000);
  reply->Close();
  if (req.body.HasField("helloOk")) reply->AppendBool("helloOk", true);
  reply->AppendInt32("maxBsonObjectSize", 16 * 1024 * 1024);
  // The configured limit, so drivers split their batches below it.
  reply->AppendInt32("maxMessageSizeBytes",
                     static_cast<int32_t>(svc.options ? svc.options->max_message_size_bytes : 48000000));
  reply->AppendInt32("maxWriteBatchSize", kMaxWriteBatchSize);
  reply->AppendDate("localTime", NowMillis());
  reply->AppendInt32("logicalSessionTimeoutMinutes", kLogicalSessionTimeoutMinutes);
  reply->AppendInt64("connectionId", client.connection_id);
  reply->AppendInt32("minWireVersion", kMinWireVersion);
  reply->AppendInt32("maxWireVersion", kMaxWireVersion);
  reply->AppendBool("readOnly", false);
  if (!chosen.empty()) {
    reply->OpenArray("compression");
    reply->AppendString("0", chosen);
    reply->Close();
  }
  AppendHelloAuthFields(op, req.body, reply);
  return Status::OK();
}

}  // namespace brook::commands
