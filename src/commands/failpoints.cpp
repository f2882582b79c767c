#include "commands/failpoints.h"

#include "bson/builder.h"
#include "commands/generic_args.h"
#include "commands/operation_context.h"

namespace brook::commands {

FailPoints::FailPoints() {
  Register(kFailCommand);
  Register(kFailGetMoreAfterCursorCheckout);
  Register(kMaxTimeAlwaysTimeOut);
  Register(kOnPrimaryTransactionalWrite);
}

void FailPoints::Register(std::string_view name) {
  std::lock_guard lock(mu_);
  points_.try_emplace(std::string(name));
}

bool FailPoints::Known(std::string_view name) const {
  std::lock_guard lock(mu_);
  return points_.find(name) != points_.end();
}

void FailPoints::SetOffLocked(State& s) {
  if (s.mode != Mode::kOff) active_.fetch_sub(1, std::memory_order_relaxed);
  s.mode = Mode::kOff;
}

StatusWith<int64_t> FailPoints::Configure(std::string_view name, const bson::Element& mode,
                                          bson::View data) {
  Mode m = Mode::kOff;
  int64_t n = 0;
  double p = 0;
  if (mode.type() == bson::Type::kString) {
    if (mode.Str() == "off") {
      m = Mode::kOff;
    } else if (mode.Str() == "alwaysOn") {
      m = Mode::kAlwaysOn;
    } else {
      return Status(ErrorCodes::kBadValue, "unknown mode: " + std::string(mode.Str()));
    }
  } else if (mode.IsObject()) {
    auto obj = mode.Obj();
    if (auto t = obj["times"]) {
      auto v = t.IsNumber() ? t.ExactInt64() : std::nullopt;
      if (!v || *v < 0) return Status(ErrorCodes::kBadValue, "'times' must be a non-negative integer");
      m = *v == 0 ? Mode::kOff : Mode::kTimes;
      n = *v;
    } else if (auto s = obj["skip"]) {
      auto v = s.IsNumber() ? s.ExactInt64() : std::nullopt;
      if (!v || *v < 0) return Status(ErrorCodes::kBadValue, "'skip' must be a non-negative integer");
      m = Mode::kSkip;
      n = *v;
    } else if (auto a = obj["activationProbability"]) {
      if (!a.IsNumber() || a.NumberDouble() < 0 || a.NumberDouble() > 1) {
        return Status(ErrorCodes::kBadValue,
                      "'activationProbability' must be a number between 0 and 1");
      }
      m = Mode::kRandom;
      p = a.NumberDouble();
    } else {
      return Status(ErrorCodes::kBadValue, "unknown mode: " + mode.ToString());
    }
  } else {
    return Status(ErrorCodes::kTypeMismatch, "'mode' must be a string or JSON object");
  }

  std::lock_guard lock(mu_);
  auto it = points_.find(name);
  if (it == points_.end()) {
    return Status(157 /* FailPointSetFailed */, std::string(name) + " not found");
  }
  State& s = it->second;
  int64_t previous = s.times_entered;
  SetOffLocked(s);
  s.mode = m;
  s.n = n;
  s.probability = p;
  s.data = bson::Doc::CopyOf(data);
  s.times_entered = 0;
  if (m != Mode::kOff) active_.fetch_add(1, std::memory_order_relaxed);
  return previous;
}

std::optional<FailPointHit> FailPoints::Evaluate(std::string_view name,
                                                 const std::function<bool(bson::View)>* pred) {
  if (active_.load(std::memory_order_relaxed) == 0) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = points_.find(name);
  if (it == points_.end() || it->second.mode == Mode::kOff) return std::nullopt;
  State& s = it->second;
  if (pred && !(*pred)(s.data)) return std::nullopt;
  bool fire = false;
  switch (s.mode) {
    case Mode::kOff: break;
    case Mode::kAlwaysOn: fire = true; break;
    case Mode::kTimes:
      fire = true;
      if (--s.n <= 0) SetOffLocked(s);
      break;
    case Mode::kSkip:
      if (s.n > 0) {
        --s.n;
      } else {
        fire = true;
      }
      break;
    case Mode::kRandom:
      fire = std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < s.probability;
      break;
  }
  if (!fire) return std::nullopt;
  ++s.times_entered;
  return FailPointHit{s.data};
}

namespace {

std::string_view AppName(OperationContext& op) {
  const auto& md = op.client().metadata;
  if (!md) return {};
  auto app = md->view()["application"];
  if (!app.IsObject()) return {};
  auto name = app.Obj()["name"];
  return name.type() == bson::Type::kString ? name.Str() : std::string_view();
}

// MongoDB's shouldActivateFailCommandFailPoint.
bool Applies(bson::View data, OperationContext& op, std::string_view command_name,
             std::string_view spec_name, bson::View body) {
  if (spec_name == "configureFailPoint") return false;
  auto cmds = data["failCommands"];
  if (!cmds.IsArray()) return false;
  bool listed = false;
  for (const auto& c : cmds.Obj()) {
    if (c.type() == bson::Type::kString && (c.Str() == command_name || c.Str() == spec_name)) {
      listed = true;
      break;
    }
  }
  if (!listed) return false;
  if (auto app = data["appName"]; app.type() == bson::Type::kString) {
    if (AppName(op) != app.Str()) return false;
  }
  if (auto ns = data["namespace"]; ns.type() == bson::Type::kString) {
    auto first = body.first();
    std::string actual = op.db;
    if (first.type() == bson::Type::kString) actual += "." + std::string(first.Str());
    if (actual != ns.Str()) return false;
  }
  return true;
}

std::vector<std::string> LabelsFromData(bson::View data, bool* present) {
  std::vector<std::string> out;
  auto labels = data["errorLabels"];
  *present = labels.IsArray();
  if (*present) {
    for (const auto& l : labels.Obj()) {
      if (l.type() == bson::Type::kString) out.emplace_back(l.Str());
    }
  }
  return out;
}

}  // namespace

std::optional<FailCommandAction> EvaluateFailCommand(FailPoints& fps, OperationContext& op,
                                                     std::string_view command_name,
                                                     std::string_view spec_name, bson::View body) {
  auto hit = fps.CheckIf(kFailCommand, [&](bson::View data) {
    if (!Applies(data, op, command_name, spec_name, body)) return false;
    return data["closeConnection"].Truthy() || data["blockConnection"].Truthy() ||
           data["errorCode"].IsNumber();
  });
  if (!hit) return std::nullopt;
  bson::View data = hit->data;
  FailCommandAction action;
  if (data["closeConnection"].Truthy()) {
    action.close_connection = true;
    return action;
  }
  if (data["blockConnection"].Truthy()) {
    action.block = std::chrono::milliseconds(std::max<int64_t>(0, data["blockTimeMS"].NumberInt64()));
  }
  if (auto code = data["errorCode"]; code.IsNumber()) {
    Status st(static_cast<int32_t>(code.NumberInt64()), "Failing command via 'failCommand' failpoint");
    bool given = false;
    auto labels = LabelsFromData(data, &given);
    if (!given) {
      labels = ErrorLabelsFor(op, spec_name, st.code(), std::nullopt,
                              IsChangeStreamRequest(spec_name, body));
    }
    for (const auto& l : labels) st = st.WithLabel(l);
    action.error = st;
  }
  return action;
}

std::optional<FailCommandWriteConcernError> EvaluateFailCommandWriteConcernError(
    FailPoints& fps, OperationContext& op, std::string_view command_name,
    std::string_view spec_name, bson::View body) {
  auto hit = fps.CheckIf(kFailCommand, [&](bson::View data) {
    return Applies(data, op, command_name, spec_name, body) && data["writeConcernError"].IsObject();
  });
  if (!hit) return std::nullopt;
  bson::View wce = hit->data.view()["writeConcernError"].Obj();
  FailCommandWriteConcernError out;
  out.error = bson::Doc::CopyOf(wce);
  bool given = false;
  out.labels = LabelsFromData(hit->data, &given);
  if (!given) {
    std::optional<int32_t> wc_code;
    if (wce["code"].IsNumber()) wc_code = static_cast<int32_t>(wce["code"].NumberInt64());
    out.labels = ErrorLabelsFor(op, spec_name, std::nullopt, wc_code, false);
  }
  return out;
}

}  // namespace brook::commands
