#pragma once
// local.oplog.rs: a read-only virtual collection over the storage oplog family.
//
// Owns: serving find/count/aggregate scans of the oplog: entries in ts order (or newest
// first for sort {$natural: -1}), filtered by the matcher. A {ts: {$gt|$gte: T}}
// predicate starts the scan at T (a RocksDB seek, never a scan from the start).
// Reads see commits up to the visible watermark as of the scan's creation.
// Thread-safety: an OplogScan belongs to one thread at a time.

#include <memory>

#include "bson/document.h"
#include "query/matcher.h"
#include "util/status.h"

namespace brook::storage {
class Engine;
class Iterator;
}  // namespace brook::storage

namespace brook::commands {

class OplogScan {
 public:
  // `filter` is kept by the scan (copied). `forward` false: newest first.
  static StatusWith<std::unique_ptr<OplogScan>> Open(storage::Engine* engine, bson::View filter,
                                                     bool forward);
  ~OplogScan();
  // Next matching entry; false at the end.
  StatusWith<bool> Next(bson::Doc* out, query::MatchDetails* details = nullptr);
  int64_t docs_examined() const { return examined_; }

 private:
  OplogScan() = default;
  std::unique_ptr<storage::Iterator> it_;
  std::unique_ptr<query::Matcher> matcher_;
  bool forward_ = true;
  bool started_ = false;
  int64_t examined_ = 0;
};

}  // namespace brook::commands
