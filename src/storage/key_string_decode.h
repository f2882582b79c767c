#pragma once
// Decoding of KeyString V1 bytes (key_string.h) back into BSON values.
//
// Owns: reading what AppendKeyString wrote, for tools and change-stream resume tokens
// (`brook token decode`, resume-token validation). Without MongoDB's TypeBits the exact
// numeric type is not recorded: integral numbers decode as int32 when they fit, else
// int64; other numbers as double. Decimal128 values that are not exact doubles, and
// descending components, are not decodable here (FailedToParse).
// Thread-safety: pure functions.

#include <string_view>

#include "bson/document.h"
#include "util/status.h"

namespace brook::storage {

// Decodes a sequence of ascending KeyString values, optionally ended by kKeyStringEnd,
// into a document whose fields are all named "" (as MongoDB's KeyString::toBson does).
StatusWith<bson::Doc> DecodeKeyString(std::string_view bytes);

}  // namespace brook::storage
