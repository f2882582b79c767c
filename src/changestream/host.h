#pragma once
// The narrow interface from the change-stream stages to the rest of Brook (STYLE.md 6).
//
// Owns: nothing; it names what the stages need. The command layer implements
// LookupDocument (the catalog and record stores are above this library); pre-images are
// storage-level, so EngineHost reads them from storage::Engine directly. Watermarks and
// the oplog are read by the cursor from storage::Engine (engine.h), not through here.
// Tests implement the interface in memory (MemoryHost).
// Thread-safety: a host is called by one cursor at a time; an implementation shared by
// many cursors must be thread-safe (EngineHost is, as Engine is).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "bson/document.h"
#include "bson/types.h"
#include "changestream/resume_token.h"
#include "util/status.h"

namespace brook::storage {
class Engine;
}

namespace brook::changestream {

class ChangeStreamHost {
 public:
  virtual ~ChangeStreamHost() = default;
  // fullDocument: "updateLookup": the current committed (durable) version of the document
  // with `document_key` in db.coll, or nullopt when it is gone or the collection there no
  // longer has `uuid` (dropped and re-created).
  virtual StatusWith<std::optional<bson::Doc>> LookupDocument(std::string_view db, std::string_view coll,
                                                              const CollectionUuid& uuid,
                                                              bson::View document_key) = 0;
  // The pre-image stored with the write at (uuid, ts, op_index); nullopt when absent
  // (pre-images off, or truncated with the oplog).
  virtual StatusWith<std::optional<bson::Doc>> ReadPreImage(const CollectionUuid& uuid, bson::Timestamp ts,
                                                            uint32_t op_index) = 0;
};

// Reads a pre-image from the engine's preimages family (the whole of ReadPreImage for
// any host backed by storage).
StatusWith<std::optional<bson::Doc>> ReadPreImageFromEngine(storage::Engine* engine,
                                                            const CollectionUuid& uuid,
                                                            bson::Timestamp ts, uint32_t op_index);

// Pre-images from storage; LookupDocument left to the command layer.
class EngineHost : public ChangeStreamHost {
 public:
  explicit EngineHost(storage::Engine* engine) : engine_(engine) {}
  StatusWith<std::optional<bson::Doc>> ReadPreImage(const CollectionUuid& uuid, bson::Timestamp ts,
                                                    uint32_t op_index) override;

 protected:
  storage::Engine* engine_;
};

// For tests: documents set by hand; pre-images from an engine when given one, else
// from a map.
class MemoryHost : public ChangeStreamHost {
 public:
  explicit MemoryHost(storage::Engine* engine = nullptr) : engine_(engine) {}
  void SetDocument(std::string_view ns, bson::View document_key, std::optional<bson::Doc> doc);
  void SetPreImage(const CollectionUuid& uuid, bson::Timestamp ts, uint32_t op_index, bson::Doc doc);
  StatusWith<std::optional<bson::Doc>> LookupDocument(std::string_view db, std::string_view coll,
                                                      const CollectionUuid& uuid,
                                                      bson::View document_key) override;
  StatusWith<std::optional<bson::Doc>> ReadPreImage(const CollectionUuid& uuid, bson::Timestamp ts,
                                                    uint32_t op_index) override;
  int lookups() const { return lookups_; }

 private:
  storage::Engine* engine_;
  std::map<std::string, bson::Doc> docs_;  // ns + "|" + documentKey bytes
  std::map<std::tuple<CollectionUuid, uint64_t, uint32_t>, bson::Doc> pre_images_;
  int lookups_ = 0;
};

}  // namespace brook::changestream
