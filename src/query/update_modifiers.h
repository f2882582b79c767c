#pragma once
// Internal to updates: helpers shared by the modifier files and the factories of the
// array modifiers ($push, $addToSet, $pop, $pull, $pullAll) that live in
// update_array_modifiers.cpp.
// Thread-safety: modifiers are immutable after parsing.

#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "bson/builder.h"
#include "query/update_tree.h"

namespace brook::query::update_internal {

inline Status BadValue(std::string msg) { return Status(ErrorCodes::kBadValue, std::move(msg)); }

// Same type and same value bytes (MongoDB's binaryEqualValues): 1 and 1.0 differ.
inline bool BinaryEqualValues(const bson::Element& a, const bson::Element& b) {
  return a.type() == b.type() && a.value_size() == b.value_size() &&
         std::memcmp(a.value(), b.value(), a.value_size()) == 0;
}

// {<path>: <value>} as MongoDB prints a modifier argument in messages.
inline std::string ArgForMessage(const std::string& path, const bson::Element& arg) {
  return "{" + path + ": " + arg.ToString() + "}";
}

// Owns one value as {"": v}.
inline bson::Doc OwnValue(const bson::Element& e) {
  bson::Builder b;
  b.AppendAs("", e);
  return b.Done();
}

inline std::string LastName(const Target& t) {
  if (!t.to_create.empty()) return t.to_create.back();
  return t.taken.empty() ? std::string() : t.taken.back().name;
}

// An integral number as int64 (MongoDB's parseIntegerElementToLong).
inline std::optional<int64_t> IntegralArg(const bson::Element& e) {
  if (!e.IsNumber()) return std::nullopt;
  return e.ExactInt64();
}

// nullptr when `op` is not an array modifier.
StatusWith<std::unique_ptr<Modifier>> MakeArrayModifier(std::string_view op, const std::string& path,
                                                        const bson::Element& arg, const UpdateOptions& opts);
bool IsArrayModifier(std::string_view op);

}  // namespace brook::query::update_internal
