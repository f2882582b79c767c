#pragma once
// Relaxed Extended JSON of a document, byte-identical to libbson's
// bson_as_relaxed_extended_json, but several times faster for the values change events
// are mostly made of: plain strings, 32/64-bit integers, booleans, null, timestamps,
// dates from 1970 to 9999, ObjectIds, documents and arrays. Any other value (doubles,
// other dates, binary, decimals,
// strings needing escapes, ...) is formatted by libbson itself, so the output never
// differs; fast_json_test.cpp checks that on random documents.
// Thread-safety: pure function.

#include <bson/bson.h>

#include <string>

namespace brook::watch {

// Appends the relaxed Extended JSON of `doc` to *out.
void AppendRelaxedJson(const bson_t* doc, std::string* out);

}  // namespace brook::watch
