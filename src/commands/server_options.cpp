#include "commands/server_options.h"

#include <charconv>

namespace brook::commands {
namespace {

Status Unknown(std::string_view name) {
  return Status(ErrorCodes::kInvalidOptions,
                "attempted to set unrecognized parameter [" + std::string(name) +
                    "], use help:true to see options ");
}

}  // namespace

ServerParameters::ServerParameters() {
  using K = Kind;
  auto add = [this](std::string name, K kind, bool runtime, bool startup) -> Param& {
    return params_[std::move(name)] = Param{kind, runtime, startup};
  };
  add(std::string(kParamEnableTestCommands), K::kBool, false, true);
  add(std::string(kParamCursorTimeoutMillis), K::kInt, true, true).number = 600000;
  add(std::string(kParamTransactionLifetimeLimitSeconds), K::kInt, true, true).number = 60;
  add(std::string(kParamLogLevel), K::kInt, true, true).number = 0;
  add(std::string(kParamSlowOpThresholdMs), K::kInt, true, true).number = 100;
  add("maxTransactionLockRequestTimeoutMillis", K::kInt, true, true).number = 5;
  add("notablescan", K::kBool, true, true);
  add("requireApiVersion", K::kBool, true, true);
  add("quiet", K::kBool, true, true);
  add("periodicNoopIntervalSecs", K::kInt, false, true).number = 10;
  add("maxSessions", K::kInt, false, true).number = 1000000;
  add("localLogicalSessionTimeoutMinutes", K::kInt, false, true).number = 30;
  add("internalQueryMaxBlockingSortMemoryUsageBytes", K::kInt, true, true).number = 100 << 20;
  // MongoDB's floors: below 5000 iterations SCRAM's brute-force cost is too low.
  auto& sha1_iters = add(std::string(kParamScramIterationCount), K::kInt, true, true);
  sha1_iters.number = 10000;
  sha1_iters.min = 5000;
  auto& sha256_iters = add(std::string(kParamScramSha256IterationCount), K::kInt, true, true);
  sha256_iters.number = 15000;
  sha256_iters.min = 5000;
  auto& monitor = add(std::string(kParamClientCursorMonitorFrequencySecs), K::kInt, false, true);
  monitor.number = 4;
  monitor.min = 1;
  auto& streams = add(std::string(kParamMaxOpenChangeStreams), K::kInt, true, true);
  streams.number = kDefaultMaxOpenChangeStreams;
  streams.min = 0;
  auto& receive = add(std::string(kParamMessageReceiveTimeoutMillis), K::kInt, true, true);
  receive.number = 60000;
  receive.min = 1;
  add(std::string(kParamAuthenticationMechanisms), K::kString, false, true).text = "SCRAM-SHA-1,SCRAM-SHA-256";
  bson::Builder fcv;
  fcv.AppendString("version", "7.0");
  add("featureCompatibilityVersion", K::kDocument, false, false).doc = fcv.Done();
}

bool ServerParameters::Known(std::string_view name) const {
  std::lock_guard lock(mu_);
  return params_.find(name) != params_.end();
}

std::vector<std::string> ServerParameters::Names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, p] : params_) names.push_back(name);
  return names;
}

Status ServerParameters::SetFromString(std::string_view name, std::string_view value) {
  std::lock_guard lock(mu_);
  auto it = params_.find(name);
  if (it == params_.end()) {
    return Status(ErrorCodes::kBadValue, "Unknown --setParameter '" + std::string(name) + "'");
  }
  Param& p = it->second;
  if (!p.startup) {
    return Status(ErrorCodes::kBadValue,
                  "Cannot use --setParameter to set '" + std::string(name) + "' at startup");
  }
  switch (p.kind) {
    case Kind::kBool:
      if (value == "1" || value == "true") {
        p.flag = true;
      } else if (value == "0" || value == "false") {
        p.flag = false;
      } else {
        return Status(ErrorCodes::kBadValue, "Illegal value for parameter " + std::string(name) +
                                                 ": expected true/false/1/0, got '" +
                                                 std::string(value) + "'");
      }
      return Status::OK();
    case Kind::kInt: {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || ptr != value.data() + value.size()) {
        return Status(ErrorCodes::kBadValue, "Illegal value for parameter " + std::string(name) +
                                                 ": expected an integer, got '" +
                                                 std::string(value) + "'");
      }
      if (v < p.min) {
        return Status(ErrorCodes::kBadValue, "Invalid value for parameter " + std::string(name) + ": " +
                                                 std::to_string(v) + " is less than " + std::to_string(p.min));
      }
      p.number = v;
      return Status::OK();
    }
    case Kind::kString:
      p.text = std::string(value);
      return Status::OK();
    case Kind::kDocument:
      break;
  }
  return Status(ErrorCodes::kBadValue, "Cannot set '" + std::string(name) + "' at startup");
}

Status ServerParameters::Assign(Param& p, std::string_view name, const bson::Element& value) {
  switch (p.kind) {
    case Kind::kBool:
      if (value.type() != bson::Type::kBool && !value.IsNumber()) break;
      p.flag = value.Truthy();
      return Status::OK();
    case Kind::kInt: {
      auto v = value.ExactInt64();
      if (!v) break;
      if (*v < p.min) {
        return Status(ErrorCodes::kBadValue, "Invalid value for parameter " + std::string(name) + ": " +
                                                 std::to_string(*v) + " is less than " + std::to_string(p.min));
      }
      p.number = *v;
      return Status::OK();
    }
    case Kind::kString:
      if (value.type() != bson::Type::kString) break;
      p.text = std::string(value.Str());
      return Status::OK();
    case Kind::kDocument:
      break;
  }
  return Status(ErrorCodes::kBadValue,
                "Invalid value for parameter " + std::string(name) + ": " + value.ToString());
}

Status ServerParameters::SetRuntime(std::string_view name, const bson::Element& value,
                                    bson::Builder* previous) {
  std::lock_guard lock(mu_);
  auto it = params_.find(name);
  if (it == params_.end()) return Unknown(name);
  Param& p = it->second;
  if (!p.runtime) {
    return Status(ErrorCodes::kInvalidOptions,
                  "not allowed to change [" + std::string(name) + "] at runtime");
  }
  Param before = p;
  BROOK_RETURN_IF_ERROR(Assign(p, name, value));
  if (previous) {
    bson::Builder tmp;
    AppendLocked(it->first, before, &tmp);
    bson::Doc d = tmp.Done();
    previous->AppendAs("was", d.view().first());
  }
  return Status::OK();
}

void ServerParameters::AppendLocked(const std::string& name, const Param& p,
                                    bson::Builder* out) const {
  switch (p.kind) {
    case Kind::kBool: out->AppendBool(name, p.flag); break;
    case Kind::kInt:
      if (p.number >= INT32_MIN && p.number <= INT32_MAX) {
        out->AppendInt32(name, static_cast<int32_t>(p.number));
      } else {
        out->AppendInt64(name, p.number);
      }
      break;
    case Kind::kString: out->AppendString(name, p.text); break;
    case Kind::kDocument: out->AppendDocument(name, p.doc); break;
  }
}

bool ServerParameters::AppendValue(std::string_view name, bson::Builder* out) const {
  std::lock_guard lock(mu_);
  auto it = params_.find(name);
  if (it == params_.end()) return false;
  AppendLocked(it->first, it->second, out);
  return true;
}

bool ServerParameters::AppendDetails(std::string_view name, bson::Builder* out) const {
  std::lock_guard lock(mu_);
  auto it = params_.find(name);
  if (it == params_.end()) return false;
  out->OpenDocument(it->first);
  AppendLocked("value", it->second, out);
  out->AppendBool("settableAtRuntime", it->second.runtime);
  out->AppendBool("settableAtStartup", it->second.startup);
  out->Close();
  return true;
}

bool ServerParameters::GetBool(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = params_.find(name);
  return it != params_.end() && it->second.flag;
}

int64_t ServerParameters::GetInt(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = params_.find(name);
  return it == params_.end() ? 0 : it->second.number;
}

std::string ServerParameters::GetString(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = params_.find(name);
  return it == params_.end() ? std::string() : it->second.text;
}

}  // namespace brook::commands
