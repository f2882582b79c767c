#include "catalog/namespace.h"

namespace brook::catalog {

StatusWith<Namespace> ParseNamespace(std::string_view full) {
  auto dot = full.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == full.size()) {
    return Status(ErrorCodes::kInvalidNamespace,
                  "Invalid namespace specified '" + std::string(full) + "'");
  }
  return Namespace{std::string(full.substr(0, dot)), std::string(full.substr(dot + 1))};
}

Status ValidateDbName(std::string_view db) {
  if (db.empty()) return Status(ErrorCodes::kInvalidNamespace, "Invalid empty database name");
  if (db.size() >= 64) {
    return Status(ErrorCodes::kInvalidNamespace, "db name is too long: '" + std::string(db) + "'");
  }
  for (char c : db) {
    if (c == '/' || c == '\\' || c == '.' || c == ' ' || c == '"' || c == '$' || c == '\0') {
      return Status(ErrorCodes::kInvalidNamespace,
                    "Invalid database name: '" + std::string(db) + "'");
    }
  }
  return Status::OK();
}

Status ValidateCollectionName(const Namespace& ns) {
  BROOK_RETURN_IF_ERROR(ValidateDbName(ns.db));
  if (ns.coll.empty()) {
    return Status(ErrorCodes::kInvalidNamespace,
                  "Invalid namespace specified '" + ns.db + ".'");
  }
  if (ns.coll.find('$') != std::string::npos || ns.coll.find('\0') != std::string::npos ||
      ns.coll.front() == '.') {
    return Status(ErrorCodes::kInvalidNamespace,
                  "Invalid collection name: " + ns.coll);
  }
  if (ns.ns().size() > kMaxNamespaceBytes) {
    return Status(ErrorCodes::kInvalidNamespace,
                  "Fully qualified namespace is too long. Namespace: " + ns.ns() +
                      " Max: " + std::to_string(kMaxNamespaceBytes));
  }
  return Status::OK();
}

}  // namespace brook::catalog
