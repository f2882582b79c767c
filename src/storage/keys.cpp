// Record and index key layouts (docs/storage-format.md).

#include "storage/key_string.h"

namespace brook::storage {

void AppendBigEndian64(uint64_t v, std::string* out) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t ReadBigEndian64(std::string_view bytes) {
  if (bytes.size() < 8) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

namespace {

// The end of an 8-byte id prefix: the next id's prefix, or for the largest id the empty
// string, which Snapshot::NewIterator reads as "to the end of the family".
std::string PrefixEnd(uint64_t id) {
  std::string out;
  if (id == UINT64_MAX) return out;
  AppendBigEndian64(id + 1, &out);
  return out;
}

}  // namespace

std::string RecordKey(uint64_t collection_id, const bson::Element& id) {
  std::string out;
  out.reserve(8 + 16);
  AppendBigEndian64(collection_id, &out);
  AppendKeyString(id, false, &out);
  return out;
}

std::string RecordKeyPrefix(uint64_t collection_id) {
  std::string out;
  AppendBigEndian64(collection_id, &out);
  return out;
}

std::string RecordKeyPrefixEnd(uint64_t collection_id) { return PrefixEnd(collection_id); }

std::string_view RecordKeyIdPart(std::string_view record_key) {
  return record_key.size() < 8 ? std::string_view() : record_key.substr(8);
}

std::string IndexKeyPrefix(uint64_t index_id) {
  std::string out;
  AppendBigEndian64(index_id, &out);
  return out;
}

std::string IndexKeyPrefixEnd(uint64_t index_id) { return PrefixEnd(index_id); }

}  // namespace brook::storage
