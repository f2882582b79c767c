#pragma once
// Helpers shared by the catalog command family (catalog_cmds*.cpp) and by aggregate's
// $collStats: collection statistics in collStats' shape.
// Thread-safety: functions run on the calling command's thread.

#include <cstdint>

#include "bson/builder.h"
#include "catalog/catalog.h"
#include "util/status.h"

namespace brook::storage {
class Engine;
}

namespace brook::commands {

struct CollectionStats {
  int64_t count = 0;
  int64_t size = 0;           // total BSON bytes of the documents
  int64_t storage_size = 0;   // approximate bytes on disk of the records
  int64_t total_index_size = 0;
  std::vector<std::pair<std::string, int64_t>> index_sizes;
};

StatusWith<CollectionStats> ComputeCollectionStats(storage::Engine* engine,
                                                   const catalog::CollectionInfo& coll);

// Appends collStats' fields (ns, size, count, avgObjSize, storageSize, nindexes, ...).
void AppendCollStats(const catalog::CollectionInfo& coll, const CollectionStats& stats,
                     int64_t scale, bson::Builder* b);

}  // namespace brook::commands
