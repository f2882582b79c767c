#pragma once
// The mongodb:DB.COLL checkpoint store: one document per stream in a collection of the
// watched deployment, {_id: <stream name>, <checkpoint fields of checkpoint.h>,
// updatedAt: Date}, replaced with upsert and w: "majority" (so a saved checkpoint
// survives a failover), read with readConcern "majority".
// Thread-safety: one thread; owns its own mongoc_client_t.

#include <mongoc/mongoc.h>

#include <string>

#include "watch/checkpoint.h"

namespace brook::watch {

class MongoCheckpointStore : public CheckpointStore {
 public:
  // Takes ownership of `client`.
  MongoCheckpointStore(mongoc_client_t* client, std::string db, std::string coll, std::string stream_name);
  ~MongoCheckpointStore() override;
  StatusWith<std::optional<Checkpoint>> Load() override;
  Status Save(const Checkpoint& cp) override;
  std::string Describe() const override { return "mongodb:" + db_ + "." + coll_ + " (_id \"" + name_ + "\")"; }

 private:
  mongoc_client_t* client_;
  mongoc_collection_t* coll_handle_;
  std::string db_, coll_, name_;
};

}  // namespace brook::watch
