#pragma once
// Index specifications: validation and normalisation of createIndexes specs, the
// conflict rules between a requested and an existing index, and collMod's index edits.
//
// Owns: the stored spec shape {v: 2, key, name, ...options} (what listIndexes prints and
// what createIndexes oplog entries carry), MongoDB's codes for bad specs (197, 67, 85,
// 86, 9).
// Thread-safety: pure functions.

#include <cstdint>

#include "bson/builder.h"
#include "bson/document.h"
#include "catalog/catalog.h"
#include "util/status.h"

namespace brook::catalog {

// {v: 2, key: {_id: 1}, name: "_id_"}
bson::Doc MakeIdIndexSpec();

// Validates a createIndexes spec and returns it as stored: v: 2, key, name first, then the
// recognised options in the order given ("background", "ns" dropped).
StatusWith<bson::Doc> NormalizeIndexSpec(bson::View spec);

// Builds an IndexInfo from a stored spec (compiling any partial filter).
StatusWith<IndexInfo> IndexFromSpec(bson::View spec, uint64_t id);

// OK with *exists=false: `want` may be added next to `have`; OK with *exists=true: `want`
// is `have` (a no-op); otherwise IndexKeySpecsConflict (86) or IndexOptionsConflict (85).
Status CheckIndexConflict(const IndexInfo& have, const IndexInfo& want, bool* exists);

// Applies collMod's {hidden?, expireAfterSeconds?} to `index`, appending
// hidden_old/hidden_new, expireAfterSeconds_old/_new to `reply`.
StatusWith<IndexInfo> ModifyIndexSpec(const IndexInfo& index, bson::View mod, bson::Builder* reply);

}  // namespace brook::catalog
