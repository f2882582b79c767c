#pragma once
// Index key generation: which keys a document contributes to a (compound, possibly
// multikey) index, in the order-preserving KeyString encoding of storage/key_string.h.
//
// Owns: MongoDB's key-generation rules for ascending/descending btree indexes:
//  - a dotted path walks embedded documents and arrays; an array on the path yields one
//    key per element (multikey); an empty array at the leaf yields `undefined`;
//  - a missing field yields null (so unique indexes treat missing as null);
//  - at most one field of a compound index may be an array: otherwise 171
//    CannotIndexParallelArrays "cannot index parallel arrays [b] [a]";
//  - a sparse index skips documents that have none of the indexed fields.
// Keys are deduplicated per document. Key values point into `doc` (or static null /
// undefined values), so they live as long as `doc`.
// Thread-safety: pure functions.

#include <string>
#include <utility>
#include <vector>

#include "bson/document.h"
#include "util/status.h"

namespace brook::catalog {

struct KeyField {
  std::string path;
  bool descending = false;
};

struct KeyPattern {
  std::vector<KeyField> fields;

  // Parses {a: 1, "b.c": -1}. CannotCreateIndex (67) for non-btree plugins ("text",
  // "2dsphere", "hashed", ...) or bad values.
  static StatusWith<KeyPattern> Parse(bson::View key);
};

struct GeneratedKey {
  std::string encoded;                 // the fields' KeyStrings, concatenated
  std::vector<bson::Element> values;   // one per field, for error messages
};

// Appends the keys of `doc` to `keys` (sorted by `encoded`, no duplicates). With
// `sparse`, a document without any indexed field contributes no key.
Status GenerateKeys(const KeyPattern& pattern, bson::View doc, bool sparse,
                    std::vector<GeneratedKey>* keys);

// {field: value, ...} for a key, as DuplicateKey's keyValue and message print it.
bson::Doc KeyValueDoc(const KeyPattern& pattern, const GeneratedKey& key);

}  // namespace brook::catalog
