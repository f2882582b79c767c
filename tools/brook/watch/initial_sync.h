#pragma once
// --initial-sync (and --on-history-lost resync): copies the documents of the watched scope
// as synthetic insert events, then hands back the time to stream changes from.
//
// What is consistent, and how: the snapshot time T is the operationTime of a majority
// read (a `find` with readConcern "majority" and limit 1 in the watched scope). Every
// namespace of the scope (the collection; a database's collections; every database's
// collections but admin, config, local; never system.*) is read in name order, each in
// _id order, with readConcern {level: "snapshot", atClusterTime: T}: exactly the state at
// T. The stream then starts at T (startAtOperationTime), so the output is the state at T
// followed by every change after T. If the server refuses snapshot reads (older servers,
// or T fell out of its snapshot window while a copy was interrupted), the copy falls back
// to readConcern "majority": documents may then already show changes after T, which the
// stream replays; applying the output in order still ends at the collection's final
// state (inserts of the copy act as upserts). The checkpoint records which case applied.
//
// Each copied document becomes one line:
//   {"_id": {"brookSnapshot": {"t": T, "ns": "db.coll", "id": <_id>}}, "operationType": "insert",
//    "clusterTime": T, "ns": {"db", "coll"}, "documentKey": {"_id": <_id>},
//    "fullDocument": <doc>, "brookSnapshot": true}
// Progress (namespace, last _id) is checkpointed after every batch (of --batch-size
// documents, default 1000), so an interrupted copy continues where it stopped: with the
// documents whose _id sorts after the last one in the server's _id order. That order
// spans types (numbers < strings < objects < ... < ObjectIds < booleans < dates ...),
// but a query's {$gt: last} only matches values of last's own type bracket, so the
// continuation also takes every later bracket by $type (ContinueAfterFilter).
// Thread-safety: the processor thread; owns its own mongoc_client_t.

#include <mongoc/mongoc.h>

#include <atomic>
#include <string>
#include <vector>

#include "watch/processor.h"

namespace brook::watch {

class MongoInitialSync : public InitialSyncRunner {
 public:
  // Takes ownership of `client`.
  MongoInitialSync(const WatchOptions& options, mongoc_client_t* client, StatusReporter* reporter,
                   const std::atomic<bool>* stop);
  ~MongoInitialSync() override;
  StatusWith<Result> Run(Checkpoint cp, Delivery* delivery) override;

 private:
  StatusWith<ClusterTime> SnapshotTime();
  StatusWith<std::vector<std::string>> Namespaces();
  // Copies one namespace from after cp->initial_sync->last_id; false in *stopped on stop.
  Status CopyNamespace(const std::string& ns, Checkpoint* cp, Delivery* delivery, bool* stopped);

  const WatchOptions& options_;
  mongoc_client_t* client_;
  StatusReporter* reporter_;
  const std::atomic<bool>* stop_;
};

// The find filter of the documents whose _id sorts after last_id ({_id: value}) in
// MongoDB's cross-type _id order (exposed for tests):
//   {$or: [{_id: {$gt: v}}, {_id: {$type: [every type of a later bracket]}}]}
// (a NaN, which sorts before every other number, takes the numbers by {$gte: -Infinity}).
BsonDoc ContinueAfterFilter(const bson_t* last_id);

// The synthetic event of a copied document (exposed for tests).
BsonDoc SnapshotEvent(const bson_t* doc, const std::string& db, const std::string& coll, ClusterTime t);

}  // namespace brook::watch
