#pragma once
// Validation of untrusted BSON bytes.
//
// Owns: the only gate through which client bytes become a View. Checks lengths, types,
// terminators, UTF-8 of strings and keys, and nesting depth, without trusting any
// length it has not checked.
// Thread-safety: pure function.

#include <cstddef>
#include <cstdint>

#include "util/status.h"

namespace brook::bson {

inline constexpr int kMaxNestingDepth = 200;  // parse-time limit, as MongoDB's BSONDepth

// OK when [data, data+len) holds exactly one valid document of at most `max_depth` levels.
Status Validate(const uint8_t* data, size_t len, int max_depth = kMaxNestingDepth);

// Nesting depth of a valid document: {} is 1, {a: {}} is 2.
int Depth(const uint8_t* data);

}  // namespace brook::bson
