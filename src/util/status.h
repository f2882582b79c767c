#pragma once
// Status and StatusWith<T>: errors as values (LevelDB / MongoDB style).
//
// Owns: the error representation used across every layer. A Status carries MongoDB's
// numeric code (its codeName comes from error_codes.h, never stored separately), a
// reason, error labels, and optionally extra reply fields as raw BSON bytes (e.g.
// DuplicateKey's keyPattern/keyValue) that the command layer appends to the reply.
// The OK status is a null pointer, so passing success around costs nothing.
// Thread-safety: immutable values; safe to copy across threads.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "util/error_codes.h"

namespace brook {

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCodes code, std::string reason);
  Status(int32_t code, std::string reason);

  static Status OK() { return Status(); }

  bool ok() const { return info_ == nullptr; }
  int32_t code() const { return info_ ? info_->code : 0; }
  ErrorCodes error_code() const { return static_cast<ErrorCodes>(code()); }
  std::string_view code_name() const { return CodeName(code()); }
  const std::string& reason() const;
  const std::vector<std::string>& labels() const;
  // Raw BSON document bytes whose fields are merged into the error reply; empty if none.
  const std::string& extra_info() const;

  bool HasLabel(std::string_view label) const;
  Status WithLabel(std::string_view label) const;
  Status WithExtraInfo(std::string bson_bytes) const;
  Status WithContext(std::string_view prefix) const;  // "prefix :: caused by :: reason"

  // Spelled-out, searchable way to drop an error on purpose.
  void Ignore(std::string_view /*why*/) const {}

  std::string ToString() const;  // "CodeName: reason"

  bool operator==(ErrorCodes c) const { return code() == static_cast<int32_t>(c); }

 private:
  struct Info {
    int32_t code;
    std::string reason;
    std::vector<std::string> labels;
    std::string extra_info;
  };
  std::shared_ptr<const Info> info_;
};

template <typename T>
class [[nodiscard]] StatusWith {
 public:
  StatusWith(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  StatusWith(Status status) : status_(std::move(status)) {
    if (status_.ok()) status_ = Status(ErrorCodes::kInternalError, "StatusWith built from OK");
  }
  StatusWith(ErrorCodes code, std::string reason) : status_(code, std::move(reason)) {}

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace brook

// Propagates a non-OK Status out of the enclosing function.
#define BROOK_RETURN_IF_ERROR(expr)            \
  do {                                         \
    ::brook::Status brook_status_ = (expr);    \
    if (!brook_status_.ok()) return brook_status_; \
  } while (0)
