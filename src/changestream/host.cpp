#include "changestream/host.h"

#include "storage/engine.h"

namespace brook::changestream {
namespace {

std::string DocKey(std::string_view ns, bson::View document_key) {
  std::string k(ns);
  k += '|';
  k.append(document_key.bytes());
  return k;
}

}  // namespace

StatusWith<std::optional<bson::Doc>> ReadPreImageFromEngine(storage::Engine* engine,
                                                            const CollectionUuid& uuid,
                                                            bson::Timestamp ts, uint32_t op_index) {
  if (engine == nullptr) return std::optional<bson::Doc>();
  auto snapshot = engine->GetSnapshot();
  auto value = snapshot->Get(storage::Family::kPreimages, storage::EncodePreimageKey(uuid, ts, op_index));
  if (!value.ok()) {
    if (value.status() == ErrorCodes::kNoSuchKey) return std::optional<bson::Doc>();
    return value.status();
  }
  return std::optional<bson::Doc>(bson::Doc(std::move(value).value()));
}

StatusWith<std::optional<bson::Doc>> EngineHost::ReadPreImage(const CollectionUuid& uuid, bson::Timestamp ts,
                                                              uint32_t op_index) {
  return ReadPreImageFromEngine(engine_, uuid, ts, op_index);
}

void MemoryHost::SetDocument(std::string_view ns, bson::View document_key, std::optional<bson::Doc> doc) {
  if (doc) {
    docs_[DocKey(ns, document_key)] = std::move(*doc);
  } else {
    docs_.erase(DocKey(ns, document_key));
  }
}

void MemoryHost::SetPreImage(const CollectionUuid& uuid, bson::Timestamp ts, uint32_t op_index, bson::Doc doc) {
  pre_images_[{uuid, ts.AsUint64(), op_index}] = std::move(doc);
}

StatusWith<std::optional<bson::Doc>> MemoryHost::LookupDocument(std::string_view db, std::string_view coll,
                                                                const CollectionUuid& /*uuid*/,
                                                                bson::View document_key) {
  ++lookups_;
  auto it = docs_.find(DocKey(std::string(db) + "." + std::string(coll), document_key));
  if (it == docs_.end()) return std::optional<bson::Doc>();
  return std::optional<bson::Doc>(it->second);
}

StatusWith<std::optional<bson::Doc>> MemoryHost::ReadPreImage(const CollectionUuid& uuid, bson::Timestamp ts,
                                                              uint32_t op_index) {
  auto it = pre_images_.find({uuid, ts.AsUint64(), op_index});
  if (it != pre_images_.end()) return std::optional<bson::Doc>(it->second);
  return ReadPreImageFromEngine(engine_, uuid, ts, op_index);
}

}  // namespace brook::changestream
