#pragma once
// Order-preserving key encodings: BSON values (MongoDB's KeyString V1 layout), record
// keys and index key prefixes.
//
// Owns: turning BSON values into bytes whose memcmp order equals bson::CompareValues
// order (numbers of any type by value, so 1, 1LL, 1.0 and Decimal 1 encode identically;
// -0.0 == 0; NaN below all numbers; then strings, objects, arrays, ... MaxKey).
// Each encoding is self-delimiting, so components can be concatenated.
//
// On-disk and on-wire facts (docs/storage-format.md): the value bytes are MongoDB's
// KeyString V1 without type bits, so change-stream resume tokens built from them decode
// with MongoDB's tools; record keys are 8-byte big-endian collection id + KeyString(_id);
// index keys start with an 8-byte big-endian index id. Never change these layouts.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <string>

#include "bson/document.h"

namespace brook::storage {

// Appends the encoding of `value`. `descending` flips every byte of this component so
// that memcmp sorts it in reverse. A missing Element encodes as null (MongoDB indexes a
// missing field as null).
void AppendKeyString(const bson::Element& value, bool descending, std::string* out);
// Missing index fields index as null.
void AppendKeyStringNull(bool descending, std::string* out);
// Ascending encoding of one value.
std::string KeyStringOf(const bson::Element& value);

// MongoDB's kEnd byte. Append it after the last field of a compound key when another
// component (the record's _id) or nothing follows: it keeps a descending string that is
// a prefix of another ("a" vs "a\0") in the right order, because the encoding of
// "a" is then no longer a prefix of the encoding of "a\0".
inline constexpr uint8_t kKeyStringEnd = 0x04;
inline void AppendKeyStringEnd(std::string* out) { out->push_back(static_cast<char>(kKeyStringEnd)); }

// Records family: collection id (8 bytes big-endian) + KeyString(_id).
std::string RecordKey(uint64_t collection_id, const bson::Element& id);
// Every record of a collection is in [RecordKeyPrefix(id), RecordKeyPrefixEnd(id)); the
// end is "" (unbounded, as Snapshot::NewIterator reads it) for id 2^64-1.
std::string RecordKeyPrefix(uint64_t collection_id);
std::string RecordKeyPrefixEnd(uint64_t collection_id);
// The _id part of a record key (after the 8-byte prefix).
std::string_view RecordKeyIdPart(std::string_view record_key);

// Index family: index id (8 bytes big-endian) + encoded fields + kEnd + (non-unique:
// KeyString(_id)). Every entry of an index is in [IndexKeyPrefix, IndexKeyPrefixEnd).
std::string IndexKeyPrefix(uint64_t index_id);
std::string IndexKeyPrefixEnd(uint64_t index_id);

// Big-endian helpers for the 8-byte ids above.
void AppendBigEndian64(uint64_t v, std::string* out);
uint64_t ReadBigEndian64(std::string_view bytes);  // first 8 bytes; 0 if shorter

}  // namespace brook::storage
