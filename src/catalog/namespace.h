#pragma once
// Namespaces ("db.collection") and MongoDB's rules for valid database and collection names.
//
// Owns: splitting, joining and validating names. The system databases (admin, local,
// config) are ordinary databases here except `local.oplog.rs`, a read-only view over the
// oplog family that the command layer serves.
// Thread-safety: plain values and pure functions.

#include <string>
#include <string_view>

#include "util/status.h"

namespace brook::catalog {

inline constexpr std::string_view kOplogNs = "local.oplog.rs";
inline constexpr size_t kMaxNamespaceBytes = 255;

struct Namespace {
  std::string db;
  std::string coll;

  std::string ns() const { return db + "." + coll; }
  // "db.$cmd": the ns of command oplog entries.
  std::string CommandNs() const { return db + ".$cmd"; }
  bool IsOplog() const { return db == "local" && coll == "oplog.rs"; }
  bool IsSystem() const { return coll.rfind("system.", 0) == 0; }
  bool operator==(const Namespace&) const = default;
};

// Splits "db.coll" at the first dot. InvalidNamespace (73) when there is none.
StatusWith<Namespace> ParseNamespace(std::string_view full);

// InvalidNamespace (73) with MongoDB's messages for bad database names.
Status ValidateDbName(std::string_view db);
// InvalidNamespace (73) for empty names, '$' or NUL in collection names, over-long ns.
Status ValidateCollectionName(const Namespace& ns);

}  // namespace brook::catalog
