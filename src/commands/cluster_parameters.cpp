// setClusterParameter / getClusterParameter. Brook knows one cluster parameter,
// changeStreamOptions (pre-image retention); its validation, persistence and the expiry
// it drives are in changestream/pre_image_retention.h. Both commands are admin-only
// (the table's kAdminOnly: Unauthorized elsewhere, as MongoDB).

#include <vector>

#include "bson/builder.h"
#include "changestream/pre_image_retention.h"
#include "commands/crud_args.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "storage/engine.h"

namespace brook::commands {
namespace {

Status UnknownParameter(std::string_view name) {
  return Status(ErrorCodes::kNoSuchKey, "Unknown server parameter: " + std::string(name));
}

}  // namespace

Status HandleSetClusterParameter(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  (void)reply;
  bson::Element arg = req.body.first();
  if (!arg.IsObject()) return WrongType("setClusterParameter", "setClusterParameter", arg, "object");
  bson::View params = arg.Obj();
  if (params.empty()) {
    return Status(ErrorCodes::kBadValue, "setClusterParameter requires a parameter to set");
  }
  size_t n = 0;
  for (const auto& e : params) {
    (void)e;
    ++n;
  }
  if (n != 1) return Status(ErrorCodes::kBadValue, "setClusterParameter sets one parameter at a time");
  bson::Element param = params.first();
  if (param.key() != changestream::kChangeStreamOptionsName) return UnknownParameter(param.key());
  auto options = changestream::ParseChangeStreamOptions(param);
  if (!options.ok()) return options.status();
  storage::Engine* engine = op.service().engine;
  if (!engine) return Status(ErrorCodes::kInternalError, "no storage engine");
  // The parameter's time is a real cluster time: a no-op entry written for the change.
  auto ts = engine->WriteNoop("setClusterParameter changeStreamOptions");
  if (!ts.ok()) return ts.status();
  options.value().cluster_parameter_time = ts.value();
  auto saved = changestream::SaveChangeStreamOptions(engine, options.value());
  if (!saved.ok()) return saved.status();
  // Acknowledged once durable (the dispatcher waits without blocking): a setting a crash
  // could take back would be a lie to the client.
  op.operation_time = saved.value();
  op.wait_for_durable = saved.value();
  return Status::OK();
}

Status HandleGetClusterParameter(OperationContext& op, const CommandRequest& req, bson::Builder* reply) {
  bson::Element arg = req.body.first();
  std::vector<std::string_view> names;
  if (arg.type() == bson::Type::kString) {
    names.push_back(arg.Str() == "*" ? changestream::kChangeStreamOptionsName : arg.Str());
  } else if (arg.IsArray()) {
    for (const auto& e : arg.Obj()) {
      if (e.type() != bson::Type::kString) {
        return WrongType("getClusterParameter", "getClusterParameter", e, "string");
      }
      names.push_back(e.Str());
    }
    if (names.empty()) {
      return Status(ErrorCodes::kBadValue,
                    "Must supply at least one cluster server parameter name to getClusterParameter");
    }
  } else {
    return Status(ErrorCodes::kTypeMismatch,
                  "BSON field 'getClusterParameter.getClusterParameter' is the wrong type '" +
                      std::string(bson::TypeName(arg.type())) + "', expected types '[string, array]'");
  }
  for (auto name : names) {
    if (name != changestream::kChangeStreamOptionsName) return UnknownParameter(name);
  }
  storage::Engine* engine = op.service().engine;
  if (!engine) return Status(ErrorCodes::kInternalError, "no storage engine");
  auto options = changestream::LoadChangeStreamOptions(engine);
  if (!options.ok()) return options.status();
  bson::Doc value = changestream::ChangeStreamOptionsToBson(options.value());
  reply->OpenArray("clusterParameters");
  std::string scratch;
  for (size_t i = 0; i < names.size(); ++i) reply->AppendDocument(bson::ArrayKey(i, &scratch), value);
  reply->Close();
  return Status::OK();
}

}  // namespace brook::commands
