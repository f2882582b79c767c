#include "util/status.h"

#include <algorithm>

namespace brook {
namespace {
const std::string& EmptyString() {
  static const std::string* s = new std::string();
  return *s;
}
const std::vector<std::string>& EmptyLabels() {
  static const auto* v = new std::vector<std::string>();
  return *v;
}
}  // namespace

Status::Status(ErrorCodes code, std::string reason)
    : Status(static_cast<int32_t>(code), std::move(reason)) {}

Status::Status(int32_t code, std::string reason) {
  if (code == 0) return;
  info_ = std::make_shared<const Info>(Info{code, std::move(reason), {}, {}});
}

const std::string& Status::reason() const { return info_ ? info_->reason : EmptyString(); }
const std::vector<std::string>& Status::labels() const {
  return info_ ? info_->labels : EmptyLabels();
}
const std::string& Status::extra_info() const { return info_ ? info_->extra_info : EmptyString(); }

bool Status::HasLabel(std::string_view label) const {
  const auto& l = labels();
  return std::find(l.begin(), l.end(), label) != l.end();
}

Status Status::WithLabel(std::string_view label) const {
  if (!info_ || HasLabel(label)) return *this;
  Info copy = *info_;
  copy.labels.emplace_back(label);
  Status s;
  s.info_ = std::make_shared<const Info>(std::move(copy));
  return s;
}

Status Status::WithExtraInfo(std::string bson_bytes) const {
  if (!info_) return *this;
  Info copy = *info_;
  copy.extra_info = std::move(bson_bytes);
  Status s;
  s.info_ = std::make_shared<const Info>(std::move(copy));
  return s;
}

Status Status::WithContext(std::string_view prefix) const {
  if (!info_) return *this;
  Info copy = *info_;
  copy.reason = std::string(prefix) + " :: caused by :: " + copy.reason;
  Status s;
  s.info_ = std::make_shared<const Info>(std::move(copy));
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(code_name()) + ": " + reason();
}

}  // namespace brook
