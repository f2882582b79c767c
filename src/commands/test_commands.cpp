// Test-only commands (registered with kTestOnly: they exist only when brookd runs with
// --setParameter enableTestCommands=1).
#include "bson/builder.h"
#include "commands/failpoints.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"

namespace brook::commands {

Status HandleConfigureFailPoint(OperationContext& op, const CommandRequest& req,
                                bson::Builder* reply) {
  auto name = req.body.first();
  if (name.type() != bson::Type::kString) {
    return Status(ErrorCodes::kTypeMismatch, "configureFailPoint takes the failpoint's name as a string");
  }
  FailPoints* fps = op.service().failpoints;
  if (!fps) return Status(ErrorCodes::kInternalError, "failpoints are not available");
  auto mode = req.body["mode"];
  if (!mode) return Status(ErrorCodes::kBadValue, "Missing mode");
  bson::View data;
  if (auto d = req.body["data"]) {
    if (!d.IsObject()) return Status(ErrorCodes::kTypeMismatch, "the 'data' option must be a document");
    data = d.Obj();
  }
  auto count = fps->Configure(name.Str(), mode, data);
  if (!count.ok()) return count.status();
  reply->AppendInt64("count", count.value());
  return Status::OK();
}

}  // namespace brook::commands
